"""Transcription: audio chunks sent to ``POST /v1/audio/transcriptions`` with the openai SDK.

    transcribe_media(video, Transcriber(config, TranscribeOptions(...)))
        ──▶ TranscriptionResult(transcript, failures, ...)

Chunks are extracted while earlier ones upload, and transcribed ``concurrency`` at a time (a thread
pool; the SDK client is thread-safe and does the retries). Each chunk's segment times are shifted
by the chunk's start onto the video timeline. Models that return timestamps (``whisper-1`` with
``response_format="verbose_json"``, diarizing models with ``diarized_json``) give exact segments;
models that return only text (``gpt-4o-transcribe`` with ``json``) get their sentences spread over
the chunk in proportion to their length, marked ``approximate``.

A failed chunk does not lose the others: ``TranscriptionResult`` holds every finished chunk and
the failures (``raise_for_failures`` raises the first); with a ``SegmentStore`` each finished chunk
is stored as soon as it arrives, so a re-run sends only the missing ones. Errors are the SDK's,
mapped once by videovision's ``ErrorMapper`` (videovision/errormap.py) into ``RequestError`` subclasses.
See docs/speech.md.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from .. import defaults
from ..endpoint import LOCAL_PLACEHOLDER_KEY, ClientConfig
from ..endpoint import sdk_client as make_sdk_client
from ..errormap import ErrorMapper, stops_run
from ..errors import ConfigError, ModelNotFoundError, RequestError
from ..redact import scrub_secrets

if TYPE_CHECKING:
    import openai
from .audio import DEFAULT_AUDIO_FORMAT, DEFAULT_CHUNK_SECONDS, AudioChunk, AudioFormat, iter_audio_chunks
from .keys import chunk_cache_key
from .replies import chunk_span, segments_from_reply
from .transcript import Segment, Transcript

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TRANSCRIBE_MODEL",
    "RESPONSE_FORMATS",
    "ChunkFailure",
    "ResponseFormat",
    "SegmentStore",
    "TranscribeOptions",
    "Transcriber",
    "TranscriptionResult",
    "default_response_format",
    "transcribe_media",
]

def _openai():
    """The SDK, imported when a chunk is sent (a plan made with --speech off never loads it)."""
    import openai

    return openai


log = logging.getLogger("videovision.speech")

DEFAULT_TRANSCRIBE_MODEL: str = defaults.TRANSCRIBE_MODEL
"""The transcription model used when none is given."""
DEFAULT_CONCURRENCY: int = defaults.CONCURRENCY
"""Chunks transcribed at once."""
ResponseFormat = Literal["verbose_json", "json", "text", "diarized_json"]
"""Reply formats understood: segments with times (verbose_json, diarized_json) or text only."""
RESPONSE_FORMATS: tuple[str, ...] = get_args(ResponseFormat)
TEXT_ONLY_MODELS = ("gpt-4o-transcribe", "gpt-4o-mini-transcribe")
"""Model name prefixes that answer json or text only, without segment timestamps (docs/speech.md)."""
HINT_LIST_MODELS = ("gpt-transcribe",)
"""Model name prefixes that take ``keywords`` and several ``languages`` as lists (the OpenAPI spec:
"Supported by gpt-transcribe"); other models get keywords in their ``prompt`` and one language."""
DIARIZE_MARK = "diarize"
"""Models whose name contains this return speakers (``diarized_json``)."""
CHUNKS_AHEAD_PER_WORKER = 2
"""Chunks extracted ahead of the uploads, per worker (bounds the temporary files)."""


def _base_name(model: str) -> str:
    return model.lower().rsplit("/", 1)[-1]


def takes_hint_lists(model: str) -> bool:
    """Whether the model takes ``keywords`` and ``languages`` (gpt-transcribe)."""
    return _base_name(model).startswith(HINT_LIST_MODELS)


def default_response_format(model: str) -> ResponseFormat:
    """The reply format to ask a model for: ``diarized_json`` for diarizing models, ``json`` for the
    text-only ``gpt-4o(-mini)-transcribe`` family, ``verbose_json`` (segment times) otherwise.

    Args:
        model: the transcription model name (a local server's name counts as whisper-like).

    Returns:
        The format.
    """
    name = _base_name(model)
    if DIARIZE_MARK in name:
        return "diarized_json"
    if name.startswith(TEXT_ONLY_MODELS):
        return "json"
    return "verbose_json"


@dataclass(frozen=True)
class TranscribeOptions:
    """How to transcribe.

    Attributes:
        model: the transcription model (``whisper-1``; a local server's model name).
        language: ISO 639-1 hint (``"en"``), several comma-separated (``"en,de"``: gpt-transcribe's
            ``languages``; other models take one), or None to let the model detect it.
        response_format: reply format; None picks ``default_response_format(model)``.
        prompt: text to guide the model (names, terms), or None.
        keywords: words or phrases the audio contains (names, terms): gpt-transcribe's ``keywords``;
            other models read them at the end of the ``prompt`` (the speech-to-text guide's advice
            for spellings), except diarizing models, which take no prompt.
        concurrency: chunks transcribed at once (>= 1).
    """

    model: str = DEFAULT_TRANSCRIBE_MODEL
    language: str | None = None
    response_format: ResponseFormat | None = None
    prompt: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigError("transcribe model must be a non-empty name", field="transcribe_model")
        if self.response_format is not None and self.response_format not in RESPONSE_FORMATS:
            raise ConfigError(
                f"response_format must be one of {', '.join(RESPONSE_FORMATS)}, not {self.response_format!r}",
                field="response_format",
            )
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise ConfigError(f"concurrency must be an integer >= 1, not {self.concurrency!r}", field="concurrency")
        if self.language is not None and (not isinstance(self.language, str) or not self.languages):
            raise ConfigError(f"language must be a language code such as 'en', not {self.language!r}", field="language")
        if len(self.languages) > 1 and not takes_hint_lists(self.model):
            raise ConfigError(f"speech language: {self.model} takes one language hint, not {', '.join(self.languages)} "
                              f"(several only with {', '.join(HINT_LIST_MODELS)})", field="language")
        if isinstance(self.keywords, str) or any(not isinstance(k, str) or not k.strip() for k in self.keywords):
            raise ConfigError(f"speech keywords must be non-empty words or phrases, not {self.keywords!r}",
                              field="keywords")
        if self.keywords and DIARIZE_MARK in _base_name(self.model):
            raise ConfigError(f"speech keywords: {self.model} takes no prompt or keywords (OpenAI); drop them or "
                              "use another transcribe model", field="keywords")

    @property
    def languages(self) -> tuple[str, ...]:
        """The language hints, in order (empty: detected)."""
        return tuple(p.strip() for p in (self.language or "").split(",") if p.strip())

    @property
    def format(self) -> ResponseFormat:
        """The reply format actually requested."""
        return self.response_format or default_response_format(self.model)

    def request_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``client.audio.transcriptions.create`` (without ``file``).

        ``timestamp_granularities`` is sent only with ``verbose_json`` (other formats refuse it);
        diarizing models get ``chunking_strategy="auto"`` (required above 30 s of audio).
        """
        kwargs: dict[str, Any] = {"model": self.model, "response_format": self.format}
        if self.format == "verbose_json":
            kwargs["timestamp_granularities"] = ["segment"]
        if self.format == "diarized_json":
            kwargs["chunking_strategy"] = "auto"
        lists = takes_hint_lists(self.model)
        languages = self.languages
        if len(languages) > 1:
            kwargs["languages"] = list(languages)
        elif languages:
            kwargs["language"] = languages[0]
        prompt = self.prompt
        if self.keywords and lists:
            kwargs["keywords"] = list(self.keywords)
        elif self.keywords:
            prompt = ((prompt.rstrip() + " ") if prompt else "") + ", ".join(self.keywords) + "."
        if prompt:
            kwargs["prompt"] = prompt
        return kwargs

    def cache_fields(self) -> dict[str, Any]:
        """What changes the transcript (concurrency does not)."""
        fields: dict[str, Any] = {"model": self.model, "language": self.language, "response_format": self.format,
                                  "prompt": self.prompt}
        if self.keywords:  # absent when empty: the transcripts cached before keywords existed keep their keys
            fields["keywords"] = list(self.keywords)
        return fields


class SegmentStore(Protocol):
    """Where finished chunks are kept (the lead's cache implements it; keys from ``chunk_cache_key``)."""

    def get(self, key: str) -> Sequence[Segment] | None:
        """The segments stored under ``key``, or None."""
        ...

    def put(self, key: str, segments: Sequence[Segment]) -> None:
        """Store a finished chunk's segments."""
        ...


@dataclass(frozen=True)
class ChunkFailure:
    """A chunk that could not be transcribed.

    Attributes:
        index: the chunk's position.
        start, end: its time range on the video timeline.
        error: what went wrong.
    """

    index: int
    start: float
    end: float
    error: RequestError


@dataclass(frozen=True)
class TranscriptionResult:
    """What a transcription run produced.

    Attributes:
        transcript: the segments of every finished chunk (all of them when ``complete``).
        failures: the chunks that failed, in time order.
        chunks: chunks produced from the audio (fewer than the whole file when a run-stopping
            error, such as a refused key, ended the run early).
        cached: chunks answered from the store without a request.
        uploaded_seconds: seconds of audio sent and transcribed (what a per-minute price bills).
    """

    transcript: Transcript
    failures: tuple[ChunkFailure, ...] = ()
    chunks: int = 0
    cached: int = 0
    uploaded_seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """True when every chunk was transcribed."""
        return not self.failures

    def raise_for_failures(self) -> Transcript:
        """The transcript when complete; otherwise raise the first failure's error.

        Raises:
            RequestError: (the first failure's subclass) naming how many chunks failed.
        """
        if not self.failures:
            return self.transcript
        first = self.failures[0].error
        done = self.chunks - len(self.failures)
        message = f"{first} ({len(self.failures)} of {self.chunks} audio chunks failed; {done} finished)"
        raise _same_kind(first, message) from first


def _same_kind(err: RequestError, message: str) -> RequestError:
    """A copy of ``err`` (same class, status and request id) with another message."""
    try:
        copy = type(err)(message, status_code=err.status_code, request_id=err.request_id)
    except TypeError:
        copy = RequestError(message, status_code=err.status_code, request_id=err.request_id)
    return copy


class Transcriber:
    """Sends audio chunks to an OpenAI-compatible transcription endpoint.

    Args:
        config: endpoint, key, timeout and retries (``ClientConfig.from_env()`` if None); the
            transcription endpoint may differ from the chat endpoint.
        options: model, format, language, concurrency.
        sdk_client: an ``openai.OpenAI`` to use instead of building one.

    Raises:
        AuthenticationError: no key and no local base URL.
    """

    def __init__(
        self,
        config: ClientConfig | None = None,
        options: TranscribeOptions | None = None,
        *,
        sdk_client: openai.OpenAI | None = None,
    ):
        self.config = config if config is not None else ClientConfig.from_env()
        self.options = options if options is not None else TranscribeOptions()
        key = self.config.resolved_api_key()
        secrets = tuple(k for k in (self.config.api_key, key) if k and k != LOCAL_PLACEHOLDER_KEY)
        # videovision's one SDK-error mapping (videovision/errormap.py), as the chat client uses it
        self._errors = ErrorMapper(self.config.endpoint, self.config.timeout, self.config.max_retries, secrets,
                                   path="/audio/transcriptions")
        self._secrets = secrets
        self._sdk = sdk_client if sdk_client is not None else make_sdk_client(self.config, key)
        self.on_request: Callable[[AudioChunk, float, BaseException | None], None] | None = None
        """Called after each upload (from the worker thread that made it) with the chunk, the seconds
        it took and the error (None: transcribed): the run log's hook."""

    def __repr__(self) -> str:
        return f"Transcriber({self.config!r}, {self.options!r})"

    def close(self) -> None:
        """Close the HTTP connections."""
        self._sdk.close()

    def __enter__(self) -> Transcriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- one chunk

    def transcribe_chunk(self, chunk: AudioChunk) -> tuple[Segment, ...]:
        """Transcribe one chunk.

        Args:
            chunk: the encoded audio and its place on the video timeline.

        Returns:
            Its segments on the video timeline, in time order.

        Raises:
            RequestError: (or a subclass) the endpoint failed or the reply cannot be used.
        """
        options = self.options
        try:
            data = chunk.path.read_bytes()
        except OSError as err:
            raise RequestError(f"cannot read audio chunk {chunk.path}: {err.strerror or err}") from err
        started = time.monotonic()
        try:
            try:
                reply = self._sdk.audio.transcriptions.create(file=(chunk.path.name, data), **options.request_kwargs())
            except (_openai().OpenAIError, json.JSONDecodeError, ValueError) as err:
                raise self._chunk_error(err, chunk) from err
            segments = segments_from_reply(reply, chunk, options.format, self._host)
        except RequestError as err:
            self._report(chunk, started, err)
            raise
        self._report(chunk, started, None)
        return tuple(replace(s, text=scrub_secrets(s.text, self._secrets)) for s in segments)

    def _report(self, chunk: AudioChunk, started: float, error: BaseException | None) -> None:
        if self.on_request is not None:
            self.on_request(chunk, time.monotonic() - started, error)

    @property
    def _host(self) -> str:
        return self._errors.host

    def _chunk_error(self, err: BaseException, chunk: AudioChunk) -> RequestError:
        model = self.options.model
        mapped = self._errors.map(err, model)
        where = f"transcribing audio {chunk_span(chunk)}"
        if isinstance(mapped, ModelNotFoundError):
            return _same_kind(
                mapped, f"{where}: transcription model '{model}' not found at {self._host}: check the transcribe model"
            )
        return _same_kind(mapped, f"{where}: {mapped}")

    # ---- many chunks

    def transcribe_chunks(
        self,
        chunks: Iterable[AudioChunk],
        *,
        store: SegmentStore | None = None,
        on_chunk: Callable[[AudioChunk, tuple[Segment, ...]], None] | None = None,
        language: str | None = None,
    ) -> TranscriptionResult:
        """Transcribe chunks concurrently as they arrive (an iterator may still be extracting them).

        Args:
            chunks: the chunks, in time order.
            store: finished chunks are looked up here first and stored as soon as they arrive.
            on_chunk: called (in the calling thread) with each finished chunk and its segments,
                after it was stored; the chunk file may be deleted from there.
            language: the transcript's language (default: the options' hint).

        Returns:
            Every finished chunk's segments and the failures. After a run-stopping error (key
            refused, model unknown, quota spent) no further chunk is sent.

        Raises:
            KeyboardInterrupt and errors from ``chunks`` or the callbacks; queued requests are cancelled.
        """
        run = _Run(self, store, on_chunk)
        limit = self.options.concurrency * CHUNKS_AHEAD_PER_WORKER
        with ThreadPoolExecutor(max_workers=self.options.concurrency, thread_name_prefix="videovision-transcribe") as pool:
            try:
                for chunk in chunks:
                    run.count += 1
                    if run.answer_from_store(chunk):
                        continue
                    while len(run.inflight) >= limit:
                        run.collect(wait(run.inflight, return_when=FIRST_COMPLETED).done)
                    if run.stopped:
                        break
                    run.inflight[pool.submit(self.transcribe_chunk, chunk)] = chunk
                while run.inflight:
                    run.collect(wait(run.inflight, return_when=FIRST_COMPLETED).done)
            except BaseException:
                for future in run.inflight:
                    future.cancel()
                raise
        transcript = Transcript(
            segments=tuple(s for index in sorted(run.results) for s in run.results[index]),
            source="transcription",
            model=self.options.model,
            language=language or self.options.language,
            track=f"audio transcribed by {self.options.model}",
        )
        return TranscriptionResult(
            transcript=transcript,
            failures=tuple(sorted(run.failures, key=lambda f: f.index)),
            chunks=run.count,
            cached=run.cached,
            uploaded_seconds=run.uploaded,
        )


class _Run:
    """The bookkeeping of one ``transcribe_chunks`` call (touched only by the calling thread)."""

    def __init__(
        self,
        transcriber: Transcriber,
        store: SegmentStore | None,
        on_chunk: Callable[[AudioChunk, tuple[Segment, ...]], None] | None,
    ):
        self.options = transcriber.options
        self.store = store
        self.on_chunk = on_chunk
        self.inflight: dict[Future[tuple[Segment, ...]], AudioChunk] = {}
        self.results: dict[int, tuple[Segment, ...]] = {}
        self.failures: list[ChunkFailure] = []
        self.count = 0
        self.cached = 0
        self.uploaded = 0.0
        self.stopped = False

    def answer_from_store(self, chunk: AudioChunk) -> bool:
        if self.store is None:
            return False
        found = self.store.get(chunk_cache_key(chunk, self.options))
        if found is None:
            return False
        self.cached += 1
        self._finish(chunk, tuple(found), store=False)
        return True

    def collect(self, done: Iterable[Future[tuple[Segment, ...]]]) -> None:
        for future in sorted(done, key=lambda f: self.inflight[f].index):
            chunk = self.inflight.pop(future)
            if future.cancelled():
                continue
            error = future.exception()
            if error is None:
                self.uploaded += chunk.duration
                self._finish(chunk, future.result(), store=True)
            elif isinstance(error, RequestError):
                log.info("%s", error)  # reported once by the caller (raise_for_failures or hear)
                self.failures.append(ChunkFailure(chunk.index, chunk.start, chunk.end, error))
                if stops_run(error) and not self.stopped:
                    self.stopped = True
                    for queued in self.inflight:
                        queued.cancel()
            else:
                raise error

    def _finish(self, chunk: AudioChunk, segments: tuple[Segment, ...], *, store: bool) -> None:
        self.results[chunk.index] = segments
        if store and self.store is not None:
            self.store.put(chunk_cache_key(chunk, self.options), segments)
        if self.on_chunk is not None:
            self.on_chunk(chunk, segments)


def transcribe_media(
    path: str | os.PathLike[str],
    transcriber: Transcriber,
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    audio_format: AudioFormat = DEFAULT_AUDIO_FORMAT,
    origin: float | None = None,
    store: SegmentStore | None = None,
    workdir: str | os.PathLike[str] | None = None,
    on_chunk: Callable[[AudioChunk, tuple[Segment, ...]], None] | None = None,
) -> TranscriptionResult:
    """Extract a file's audio in chunks and transcribe them concurrently while extraction goes on.

    Chunk files live in a temporary directory (under ``workdir`` if given), each deleted once
    transcribed; nothing is left behind.

    Args:
        path: the video or audio file.
        transcriber: the endpoint and options.
        chunk_seconds: longest chunk (see ``iter_audio_chunks``).
        audio_format: ``"ogg"`` (Opus, the default) or ``"mp3"``.
        origin: container time of the first video frame (``VideoInfo.start_time``); read when None.
        store: finished chunks are looked up and stored here (see ``SegmentStore``).
        workdir: where the temporary directory goes (the system's default when None).
        on_chunk: called with each finished chunk and its segments.

    Returns:
        The result; a file without audio gives an empty, complete transcript.

    Raises:
        VideoOpenError: the file cannot be opened or decoded.
        ConfigError: bad chunking options.
    """
    def finished(chunk: AudioChunk, segments: tuple[Segment, ...]) -> None:
        chunk.path.unlink(missing_ok=True)
        if on_chunk is not None:
            on_chunk(chunk, segments)

    with tempfile.TemporaryDirectory(prefix="videovision-audio-", dir=workdir) as tmp:
        chunks = iter_audio_chunks(path, tmp, chunk_seconds=chunk_seconds, audio_format=audio_format, origin=origin)
        with closing(chunks):  # an early stop closes the decoder before the directory goes
            return transcriber.transcribe_chunks(chunks, store=store, on_chunk=finished)
