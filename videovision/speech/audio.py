"""Audio for transcription: decoded with PyAV, mono 16 kHz, encoded small, cut into chunks.

    iter_audio_chunks(video, out_dir) ──▶ AudioChunk(index, start, end, path, size, sha256) ...

Streaming: decoded audio flows through a resampler into the current chunk's encoder; only the
search window before a boundary (at most ``QUIET_SEARCH_SECONDS``) is held in memory, so memory
stays flat whatever the length of the file. Each cut is moved back from the chunk's maximum length
into the quietest stretch of that window (so no word is split). Chunks are Opus in an Ogg file
(the default; OpenAI refuses ``.opus`` files) or MP3 (libmp3lame), never longer than
``chunk_seconds`` and always below the upload limit (``MAX_UPLOAD_BYTES``).

Speed (issue 24): demuxing, decoding, resampling and regrouping into four-second blocks run in C,
in one libavfilter graph (``amovie`` -> ``aresample`` -> ``abuffersink``) pulled on the calling
thread, so Python sees 900 four-second blocks an hour instead of every decoded frame (170,000);
encoding runs on a worker thread beside it. Where the graph stops (a damaged packet, a change of
the stored format mid-stream) PyAV takes over frame by frame from the same sample; both give the
same samples. Opus is the default because the wheel's libmp3lame takes about three times the CPU
of a system LAME build for the same MP3, while its libopus is as fast as the system's: MP3
extraction cannot match the ffmpeg CLI's MP3, Opus does (bench/bench_audio.py).

Times: a chunk's ``start`` is the time of its first sample in seconds from the first video frame,
counted in samples from the first decoded audio frame's timestamp (gaps in the audio are filled
with silence, so the count never drifts). Audio that starts before the first frame gives a
negative start for the first chunk. See docs/speech.md.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
from collections.abc import Generator, Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

import av
import numpy as np

from .. import defaults
from ..errors import ConfigError, VideoOpenError
from ..media import known_stream_types
from .pcm import (
    ENCODE_BLOCK_SAMPLES,
    SAMPLE_RATE,
    _declared_seconds,
    _pcm_stream,
)
from .timeline import open_media, stream_start, timeline_origin

__all__ = [
    "AUDIO_FORMATS",
    "DEFAULT_AUDIO_FORMAT",
    "DEFAULT_BITRATES",
    "DEFAULT_CHUNK_SECONDS",
    "ENCODING_TAGS",
    "MAX_UPLOAD_BYTES",
    "SAMPLE_RATE",
    "AudioChunk",
    "AudioFormat",
    "AudioInfo",
    "audio_digest",
    "iter_audio_chunks",
    "max_chunk_seconds",
    "probe_audio",
]

log = logging.getLogger("videovision.speech")

DEFAULT_CHUNK_SECONDS: float = defaults.TRANSCRIBE_CHUNK
"""Longest chunk, seconds."""
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""OpenAI's upload limit for one transcription request (25 MB)."""
SIZE_SAFETY = 0.9
"""Chunks are planned to stay within this fraction of ``MAX_UPLOAD_BYTES`` (container overhead)."""
QUIET_SEARCH_SECONDS = 30.0
"""How far before a chunk's maximum end the cut may move to find a quiet stretch (at most a
quarter of the chunk)."""
QUIET_STRETCH_SECONDS = 0.4
"""Length of the stretch whose energy is compared; the cut is placed at its centre."""
ENERGY_HOP_SECONDS = 0.01
"""Energy is measured in windows of this length."""
MIN_CHUNK_SECONDS = 1.0
"""Shortest ``chunk_seconds`` accepted."""

AudioFormat = Literal["ogg", "mp3"]
"""Chunk file formats: Opus in an Ogg container, or MP3 (libmp3lame)."""
AUDIO_FORMATS: tuple[str, ...] = get_args(AudioFormat)
DEFAULT_AUDIO_FORMAT: AudioFormat = "ogg"
DEFAULT_BITRATES: dict[str, int] = {"mp3": 32000, "ogg": 24000}
"""Bits per second of each format for mono 16 kHz speech."""
_ENCODERS: dict[str, tuple[str, str]] = {"mp3": ("libmp3lame", "mp3"), "ogg": ("libopus", "ogg")}
"""format -> (PyAV encoder, PyAV muxer)."""
_ENCODER_OPTIONS: dict[str, dict[str, str]] = {
    "mp3": {"compression_level": "7"},
    "ogg": {"compression_level": "0", "frame_duration": "60"},
}
"""format -> encoder options. LAME quality 7: about twice as fast as LAME's default (3) at the
same bitrate. Opus complexity 0 in 60 ms packets: a tenth of the CPU of libopus's default
(complexity 10, 20 ms) and half of complexity 5; 60 ms packets also mean a third of the per-packet
work in PyAV. At 24 kb/s for 16 kHz speech these settings keep what a transcription model hears
(docs/speech.md)."""
ENCODING_TAGS: dict[str, str] = {"mp3": "mp3", "ogg": "ogg/opus-c0-60ms"}
"""format -> what the transcript cache key records of the chunks' encoding (speech/keys.py): changed
whenever a format's encoder settings change, so a transcript of differently encoded audio is not
reused. ``mp3`` is unchanged since issue 10; ``ogg`` was Opus complexity 5 in 20 ms packets."""
_SAMPLE_FORMATS: dict[str, str] = {"mp3": "s16p", "ogg": "s16"}
"""format -> a 16-bit sample format its encoder takes as is (no conversion inside the encoder)."""
MAX_PENDING_BLOCKS = 8
"""Blocks queued for the encoder thread before decoding waits for it."""


@dataclass(frozen=True)
class AudioInfo:
    """The audio stream a transcription would use.

    Attributes:
        stream_index: its index in the container.
        codec: FFmpeg's codec name.
        start: time of its first sample, seconds from the first video frame (negative when the
            audio starts before the video).
        duration: seconds (from the stream or container header; an estimate for some files).
        sample_rate: samples per second of the stored audio.
        channels: channel count of the stored audio.
    """

    stream_index: int
    codec: str
    start: float
    duration: float
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class AudioChunk:
    """One encoded piece of audio, ready to upload.

    Attributes:
        index: 0-based position in the file.
        start: time of its first sample, seconds from the first video frame.
        end: time just after its last sample.
        path: the encoded file (``chunk-0000.mp3`` ...).
        size: bytes of the file.
        sha256: hex digest of the file's bytes.
    """

    index: int
    start: float
    end: float
    path: Path
    size: int
    sha256: str

    @property
    def duration(self) -> float:
        """Seconds of audio in the chunk."""
        return self.end - self.start


def max_chunk_seconds(audio_format: AudioFormat = DEFAULT_AUDIO_FORMAT, bitrate: int | None = None) -> float:
    """The longest chunk that stays below the upload limit at a bitrate.

    Args:
        audio_format: ``"ogg"`` (Opus) or ``"mp3"``.
        bitrate: bits per second (the format's default when None).

    Returns:
        Seconds.
    """
    rate = bitrate or DEFAULT_BITRATES[audio_format]
    return MAX_UPLOAD_BYTES * SIZE_SAFETY * 8 / rate


def _pick_stream(container: av.container.InputContainer, stream: int | None) -> av.audio.stream.AudioStream | None:
    streams = container.streams.audio
    if stream is not None:
        match = next((s for s in streams if s.index == stream), None)
        if match is None:
            raise ConfigError(f"stream {stream} is not an audio stream (audio streams: {[s.index for s in streams]})")
        return match
    if not streams:
        return None
    return next((s for s in streams if s.disposition & av.stream.Disposition.default), streams[0])


def probe_audio(
    path: str | os.PathLike[str], *, stream: int | None = None, origin: float | None = None
) -> AudioInfo | None:
    """Describe the audio stream of a file without decoding it.

    Args:
        path: the media file.
        stream: an audio stream index to use (default: the default-disposition or first audio stream).
        origin: container time of the first video frame (``VideoInfo.start_time``); read when None.

    Returns:
        The stream's description, or None when the file has no audio.

    Raises:
        VideoOpenError: the file cannot be opened.
        ConfigError: ``stream`` is not an audio stream.
    """
    if stream is None and (known := known_stream_types(path)) is not None and "audio" not in known:
        return None  # opened before in this process: no audio stream
    with open_media(path) as container:
        chosen = _pick_stream(container, stream)
        if chosen is None:
            return None
        zero = timeline_origin(container) if origin is None else origin
        first = stream_start(chosen)
        start = (first if first is not None else zero) - zero
        if chosen.duration is not None and chosen.time_base is not None:
            duration = float(chosen.duration * chosen.time_base)
        elif container.duration is not None:
            duration = float(container.duration) / av.time_base
        else:
            duration = 0.0
        context = chosen.codec_context
        return AudioInfo(
            stream_index=chosen.index,
            codec=context.name if context is not None else "",
            start=start,
            duration=max(0.0, duration),
            sample_rate=int(chosen.rate or 0),
            channels=int(getattr(context, "channels", 0) or 0),
        )


def audio_digest(path: str | os.PathLike[str], *, stream: int | None = None) -> str:
    """A content digest of a file's audio stream: SHA-256 of its compressed packets and their times
    (milliseconds from the stream's first packet), demuxed, not decoded. The same audio remuxed
    into another container digests the same; where it sits relative to the video is not part of
    it (``AudioInfo.start`` is).

    Args:
        path: the media file.
        stream: the audio stream index (default as ``probe_audio``).

    Returns:
        Hex digest.

    Raises:
        VideoOpenError: the file cannot be read, or has no audio.
    """
    digest = hashlib.sha256()
    with open_media(path) as container:
        chosen = _pick_stream(container, stream)
        if chosen is None:
            raise VideoOpenError(f"{Path(path).name}: has no audio stream")
        digest.update(f"{chosen.codec_context.name}|".encode())
        first: int | None = None
        try:
            for packet in container.demux(chosen):
                if packet.size == 0:
                    continue
                if first is None and packet.pts is not None:
                    first = packet.pts
                at = round(float((packet.pts - first) * packet.time_base) * 1000) if packet.pts is not None and first is not None else None
                digest.update(f"{at}|{packet.size}|".encode())
                digest.update(bytes(packet))
        except av.error.FFmpegError as err:
            raise VideoOpenError(f"{Path(path).name}: the audio cannot be read ({err})") from err
    return digest.hexdigest()


# --------------------------------------------------------------------------- chunking


def iter_audio_chunks(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    audio_format: AudioFormat = DEFAULT_AUDIO_FORMAT,
    bitrate: int | None = None,
    stream: int | None = None,
    origin: float | None = None,
) -> Generator[AudioChunk, None, None]:
    """Decode a file's audio and write it as mono 16 kHz chunks, yielding each when it is finished.

    Args:
        path: the media file.
        out_dir: an existing directory for the chunk files (the caller deletes them).
        chunk_seconds: longest chunk; lowered when needed to stay below ``MAX_UPLOAD_BYTES``.
        audio_format: ``"ogg"`` (Opus, the default) or ``"mp3"``.
        bitrate: bits per second (the format's default when None).
        stream: the audio stream index (default as ``probe_audio``).
        origin: container time of the first video frame (``VideoInfo.start_time``); read when None.

    Yields:
        The chunks in time order. Nothing when the file has no audio or the audio is empty.

    Raises:
        ConfigError: bad ``chunk_seconds``, ``audio_format``, ``bitrate`` or ``stream``.
        VideoOpenError: the file cannot be opened or its audio cannot be decoded.
    """
    if audio_format not in AUDIO_FORMATS:
        raise ConfigError(f"audio_format must be one of {', '.join(AUDIO_FORMATS)}, not {audio_format!r}", field="audio_format")
    if isinstance(chunk_seconds, bool) or not isinstance(chunk_seconds, (int, float)) or not chunk_seconds >= MIN_CHUNK_SECONDS:
        raise ConfigError(f"chunk_seconds must be at least {MIN_CHUNK_SECONDS:g}, not {chunk_seconds!r}", field="chunk_seconds")
    if bitrate is not None and (isinstance(bitrate, bool) or not isinstance(bitrate, int) or bitrate < 8000):
        raise ConfigError(f"bitrate must be an integer of at least 8000 bits/s, not {bitrate!r}", field="bitrate")
    limit = min(float(chunk_seconds), max_chunk_seconds(audio_format, bitrate))
    directory = Path(out_dir)
    with open_media(path) as container:  # closed before decoding: the graph opens the file itself
        chosen = _pick_stream(container, stream)
        if chosen is None:
            return
        zero = timeline_origin(container) if origin is None else origin
        index, declared = chosen.index, _declared_seconds(container, chosen)
    chunker = _Chunker(directory, limit, audio_format, bitrate or DEFAULT_BITRATES[audio_format])
    try:
        for block_start, samples in _pcm_stream(Path(path), index, zero, declared):
            yield from chunker.feed(block_start, samples)
        yield from chunker.finish()
    finally:
        chunker.abort()


class _Chunker:
    """Writes PCM blocks into chunk files, cutting each chunk in the quietest stretch near its limit."""

    def __init__(self, directory: Path, limit_seconds: float, audio_format: str, bitrate: int):
        self.directory = directory
        self.limit = round(limit_seconds * SAMPLE_RATE)
        self.search = round(min(QUIET_SEARCH_SECONDS, limit_seconds / 4) * SAMPLE_RATE)
        self.audio_format = audio_format
        self.bitrate = bitrate
        self.index = 0
        self.origin: float | None = None  # time of sample 0
        self.chunk_first = 0  # sample number (from origin) of the current chunk's first sample
        self.writer: _ChunkWriter | None = None
        self.pending: list[np.ndarray] = []  # samples held for the cut decision
        self.pending_len = 0
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="videovision-encode")

    @property
    def written(self) -> int:
        return self.writer.samples if self.writer is not None else 0

    def feed(self, start: float, block: np.ndarray) -> Iterator[AudioChunk]:
        if self.origin is None:
            self.origin = start
        while len(block):
            if self.writer is None:
                self.writer = _ChunkWriter(self._path(), self.audio_format, self.bitrate, self.worker)
            direct = self.limit - self.search - self.written
            if direct > 0 and not self.pending:
                head, block = block[:direct], block[direct:]
                self.writer.write(head)
                continue
            self.pending.append(block)
            self.pending_len += len(block)
            block = block[:0]
            if self.written + self.pending_len >= self.limit:
                held = np.concatenate(self.pending)
                self.pending, self.pending_len = [], 0
                cut = _quietest_cut(held[: self.limit - self.written])
                self.writer.write(held[:cut])
                yield self._close()
                block = held[cut:]

    def finish(self) -> Iterator[AudioChunk]:
        if self.pending:
            held = np.concatenate(self.pending)
            self.pending, self.pending_len = [], 0
            if self.writer is None:
                self.writer = _ChunkWriter(self._path(), self.audio_format, self.bitrate, self.worker)
            self.writer.write(held)
        if self.writer is not None and self.writer.samples > 0:
            yield self._close()
        self.abort()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.discard()
            self.writer = None
        self.worker.shutdown(wait=True)

    def _path(self) -> Path:
        return self.directory / f"chunk-{self.index:04d}.{self.audio_format}"

    def _close(self) -> AudioChunk:
        assert self.writer is not None and self.origin is not None
        writer, self.writer = self.writer, None
        size, sha256 = writer.close()
        if size > MAX_UPLOAD_BYTES:  # planned below it; a guard in case an encoder overshoots
            raise ConfigError(
                f"audio chunk {self.index} is {size} bytes, above the {MAX_UPLOAD_BYTES}-byte upload limit: "
                "use shorter chunks",
                field="chunk_seconds",
            )
        first, count = self.chunk_first, writer.samples
        chunk = AudioChunk(
            index=self.index,
            start=self.origin + first / SAMPLE_RATE,
            end=self.origin + (first + count) / SAMPLE_RATE,
            path=writer.path,
            size=size,
            sha256=sha256,
        )
        self.index += 1
        self.chunk_first = first + count
        return chunk


def _quietest_cut(samples: np.ndarray) -> int:
    """Where to cut ``samples`` (its tail is the search window): the centre of the quietest
    ``QUIET_STRETCH_SECONDS`` stretch in the last ``QUIET_SEARCH_SECONDS``; the latest one among
    equally quiet stretches (longest chunk)."""
    hop = int(ENERGY_HOP_SECONDS * SAMPLE_RATE)
    n = len(samples) // hop
    if n < 2:
        return len(samples)
    base = len(samples) - n * hop  # windows aligned to the end of the buffer
    windows = samples[base:].astype(np.float32).reshape(n, hop)
    energy = np.mean(windows * windows, axis=1)
    span = max(1, min(n, int(QUIET_STRETCH_SECONDS / ENERGY_HOP_SECONDS)))
    smooth = np.convolve(energy, np.ones(span, np.float32) / span, mode="valid")
    quiet = np.flatnonzero(smooth <= smooth.min() * 1.05 + 1.0)  # within 5 % (+ a floor for digital silence)
    best = int(quiet[-1])
    return base + (best + span // 2) * hop


class _ChunkWriter:
    """One chunk file being encoded. Samples are handed to the encoder in blocks of
    ``ENCODE_BLOCK_SAMPLES`` in the encoder's own sample format (fewer, cheaper encoder calls)."""

    def __init__(self, path: Path, audio_format: str, bitrate: int, worker: ThreadPoolExecutor):
        encoder, muxer = _ENCODERS[audio_format]
        self.path = path
        self.samples = 0  # samples written (encoded or buffered)
        self.encoded = 0
        self.buffer: list[np.ndarray] = []
        self.worker = worker  # one thread: blocks are encoded in order while decoding goes on
        self.pending: collections.deque[Future[None]] = collections.deque()
        self.sample_format = _SAMPLE_FORMATS[audio_format]
        try:
            # bitexact: no random Ogg serial number, so the same audio gives the same bytes (chunk cache keys)
            self.container = av.open(str(path), mode="w", format=muxer, container_options={"fflags": "+bitexact"})
            self.stream = cast(av.audio.stream.AudioStream, self.container.add_stream(encoder, rate=SAMPLE_RATE, layout="mono", options=_ENCODER_OPTIONS[audio_format]))
            self.stream.bit_rate = bitrate
            self.stream.codec_context.format = self.sample_format
        except (av.error.FFmpegError, OSError) as err:
            raise ConfigError(f"cannot write audio chunk {path} ({err})", field="audio_format") from err

    def write(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        self.buffer.append(samples)
        self.samples += len(samples)
        if self.samples - self.encoded >= ENCODE_BLOCK_SAMPLES:
            self._encode()

    def _encode(self) -> None:
        if not self.buffer:
            return
        block = np.concatenate(self.buffer) if len(self.buffer) > 1 else self.buffer[0]
        self.buffer = []
        self.pending.append(self.worker.submit(self._encode_block, block, self.encoded))
        self.encoded += len(block)
        while len(self.pending) > MAX_PENDING_BLOCKS:  # bounded: memory stays flat
            self.pending.popleft().result()

    def _encode_block(self, block: np.ndarray, pts: int) -> None:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block, np.int16).reshape(1, -1), format=self.sample_format, layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts  # in 1/SAMPLE_RATE, the encoder's time base
        self.container.mux(self.stream.encode(frame))  # a second's packets in one call

    def _drain(self) -> None:
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> tuple[int, str]:
        self._encode()
        self._drain()
        self.container.mux(self.stream.encode(None))
        self.container.close()
        data = self.path.read_bytes()
        return len(data), hashlib.sha256(data).hexdigest()

    def discard(self) -> None:
        for future in self.pending:
            future.cancel()
        try:
            self._drain()
        except (av.error.FFmpegError, CancelledError):
            pass
        try:
            self.container.close()
        except (av.error.FFmpegError, OSError):
            pass
        self.path.unlink(missing_ok=True)
