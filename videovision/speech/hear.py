"""hear: the one entry point that finds a video's speech, as ``SpeechConfig`` asks.

    off          nothing
    --subtitles  that file
    subtitles    an embedded text track, else a sidecar file (talk.srt, talk.en.vtt ...); none: an error
    transcribe   a cached transcript, else the audio sent to the transcription endpoint
    auto         subtitles, else transcription when there is audio and the provider allows it,
                 else frames only, saying why; a failed transcription warns and goes on without

Offline callers (``plan``, ``--dry-run``) pass no endpoint: nothing is uploaded, a cached
transcript is used when there is one, otherwise the speech is estimated from the audio's duration.
Audio leaves the machine only here, only when transcribing.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Protocol

from ..endpoint import ClientConfig
from ..errors import ConfigError, RequestError
from ..models import resolve_model
from ..types import SpeechConfig
from .audio import AudioInfo, audio_digest, probe_audio
from .estimate import SpeechEstimate, estimate_speech
from .keys import transcript_cache_key
from .subtitles import read_speech_file, read_subtitles
from .transcribe import SegmentStore, TranscribeOptions, Transcriber, transcribe_media
from .transcript import Segment, Transcript

log = logging.getLogger("videovision.speech")


class TranscriptCache(Protocol):
    """Where whole transcripts and transcribed chunks are kept (``Cache.transcripts``)."""

    def get(self, key: str) -> Transcript | None: ...

    def put(self, key: str, transcript: Transcript) -> None: ...

    def chunks(self) -> SegmentStore: ...

    def log_upload(self, *, run_id: str, model: str, audio_seconds: float, cost_usd: float | None,
                   duration_s: float, status: str, video: str | None, endpoint: str | None) -> None: ...


@dataclass(frozen=True)
class Heard:
    """What :func:`hear` found.

    Attributes:
        transcript: the speech, or None.
        estimate: when transcription would be needed but was not done (offline): its estimate.
        note: why there is no speech, or what was estimated (one line, for the user).
    """

    transcript: Transcript | None = None
    estimate: SpeechEstimate | None = None
    note: str = ""

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self.transcript.segments if self.transcript is not None else ()


def transcription_key(audio: AudioInfo, digest: str, options: TranscribeOptions, config: SpeechConfig,
                      endpoint: str) -> str:
    """The whole transcript's cache key: the audio's content and place, the options, the endpoint."""
    base = transcript_cache_key(digest, options, audio_start=audio.start, chunk_seconds=config.chunk_seconds)
    return hashlib.sha256(f"{endpoint}\0{base}".encode()).hexdigest()


def hear(
    video: str | os.PathLike[str],
    config: SpeechConfig,
    *,
    origin: float,
    endpoint: ClientConfig,
    upload: bool = False,
    transcribe_allowed: bool = True,
    store: TranscriptCache | None = None,
    concurrency: int = 4,
    strict: bool = False,
) -> Heard:
    """Find the speech of a video.

    Args:
        video: the file.
        config: where speech may come from.
        origin: container time of the first video frame (``VideoInfo.start_time``).
        endpoint: the chat endpoint's config (its key and, unless ``transcribe_base_url`` is set,
            its URL: part of the transcript's cache key).
        upload: transcribe when needed; False (offline: ``plan``, ``--dry-run``) only estimates.
        transcribe_allowed: False when the provider profile has no transcription endpoint
            (``local`` without ``transcribe_base_url``): ``auto`` then goes without.
        store: the transcript cache (None: none).
        concurrency: chunks transcribed at once.
        strict: a failed transcription is an error even under ``auto`` (when speech is the job).

    Returns:
        What was found.

    Raises:
        ConfigError: a speech file that cannot be read, ``subtitles`` with none found.
        VideoOpenError: the video cannot be opened.
        RequestError: under ``transcribe``, the transcription failed.
    """
    mode = config.mode
    if mode == "off":
        return Heard(note="speech off")
    if config.subtitles:
        return Heard(read_speech_file(config.subtitles, video=video))
    if mode in ("auto", "subtitles"):
        found = read_subtitles(video, language=config.subtitle_language, origin=origin)
        if found is not None and found.segments:
            return Heard(found)
        if mode == "subtitles":
            raise ConfigError(f"{os.fsdecode(video)}: no subtitle track and no sidecar subtitle file next to it "
                              "(pass --subtitles FILE, or --speech auto/transcribe)", field="speech")
    audio = probe_audio(video, origin=origin)
    if audio is None:
        return Heard(note="no audio stream: frames only")
    if mode == "auto" and not transcribe_allowed and not config.transcribe_base_url:
        return Heard(note="no subtitles, and the provider profile has no transcription endpoint "
                          "(--transcribe-base-url): frames only")
    options = TranscribeOptions(model=config.transcribe_model, language=config.language, concurrency=concurrency,
                                keywords=config.keywords)
    target = _transcribe_config(endpoint, config)
    key = transcription_key(audio, audio_digest(video), options, config, target.endpoint)
    cached = store.get(key) if store is not None else None
    if cached is not None:
        return Heard(cached)
    if not upload:
        price = resolve_model(config.transcribe_model).transcribe_price_per_minute
        estimate = estimate_speech(audio.duration, price_per_minute=price, chunk_seconds=config.chunk_seconds)
        return Heard(estimate=estimate, note=f"speech: {audio.duration / 60:.1f} min of audio to transcribe "
                                             f"with {config.transcribe_model} (estimate)")
    return _transcribe(video, audio, options, config, target, key, store, origin, strict=strict or mode == "transcribe")


def _transcribe_config(chat: ClientConfig, config: SpeechConfig) -> ClientConfig:
    if config.transcribe_base_url:
        return ClientConfig(api_key=chat.api_key, base_url=config.transcribe_base_url, timeout=chat.timeout,
                            max_retries=chat.max_retries)
    return chat


def _transcribe(video: str | os.PathLike[str], audio: AudioInfo, options: TranscribeOptions, config: SpeechConfig,
                endpoint: ClientConfig, key: str, store: TranscriptCache | None, origin: float,
                *, strict: bool) -> Heard:
    try:
        with Transcriber(endpoint, options) as transcriber:
            if store is not None:
                transcriber.on_request = _logger(store, video, options.model, endpoint.endpoint)
            result = transcribe_media(video, transcriber, chunk_seconds=config.chunk_seconds, origin=origin,
                                      store=store.chunks() if store is not None else None)
        if result.failures:
            result.raise_for_failures()
    except RequestError as err:
        if strict:
            raise
        log.warning("transcription failed, going on with frames only (finished chunks are cached): %s", err)
        return Heard(note="transcription failed: frames only")
    transcript = result.transcript
    if store is not None:
        store.put(key, transcript)
    return Heard(transcript)


def _logger(store: TranscriptCache, video: str | os.PathLike[str], model: str, endpoint: str):
    """Log each transcription request (one chunk): its audio seconds and cost at the model's price per minute."""
    from ..errors import CacheError
    from ..paths import path_text
    from ..store.keys import new_run_id

    run_id = new_run_id()
    price = resolve_model(model).transcribe_price_per_minute
    shown = path_text(video)

    def record(chunk, seconds: float, error: BaseException | None) -> None:
        cost = 0.0 if error is not None else (None if price is None else chunk.duration / 60 * price)
        try:
            store.log_upload(run_id=run_id, model=model, audio_seconds=chunk.duration, cost_usd=cost,
                             duration_s=seconds, status="ok" if error is None else type(error).__name__,
                             video=shown, endpoint=endpoint)
        except CacheError as err:  # a log that cannot be written costs a line, never the transcript
            log.warning("the run log could not be written: %s", err)

    return record
