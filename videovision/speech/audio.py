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

SAMPLE_RATE = 16000
"""Samples per second sent for transcription (what speech models use)."""
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
GAP_TOLERANCE_SECONDS = 0.02
"""A jump in the audio's timestamps larger than this is filled with silence."""
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
ENCODE_BLOCK_SAMPLES = SAMPLE_RATE
"""Samples handed to the encoder at once, at least (one second)."""
GRAPH_BLOCK_SAMPLES = 4 * SAMPLE_RATE
"""Samples in each block the decoding graph gives (four seconds: 5 % less CPU than one-second
blocks, the same chunks; bench/bench_audio.py)."""
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


class _GraphStopped(Exception):
    """The decoding graph met what it cannot handle (a damaged packet, a format change)."""


@dataclass
class _Delivered:
    """What the graph has yielded so far: the time of its first sample and the sample count."""

    start: float = 0.0
    samples: int = 0


def _graph_blocks(path: Path, index: int, zero: float, delivered: _Delivered) -> Iterator[tuple[float, np.ndarray]]:
    """(start time of the first block, int16 mono 16 kHz blocks of ``GRAPH_BLOCK_SAMPLES``), the
    last one shorter; decoded, resampled and regrouped by one libavfilter graph in C:

        amovie (demux + decode) -> aresample (mono 16 kHz s16, gaps filled) -> abuffersink (4 s frames)

    so Python handles 900 blocks an hour instead of 170,000 decoded frames (about
    8 us each through PyAV). Gaps in the timestamps longer than ``GAP_TOLERANCE_SECONDS`` become
    silence in the resampler (swr hard compensation, ``async``); overlapping timestamps are
    dropped there too, so the count follows the timestamps. ``delivered`` is updated as blocks
    are yielded.

    Raises:
        _GraphStopped: before the graph could start, or at a packet it cannot decode or a change
            of the stored format (the libavfilter graph cannot change formats mid-stream);
            the samples already yielded are good.
    """
    try:
        graph = av.filter.Graph()
        source = graph.add("amovie", filename=str(path), streams=str(index))
        resample = graph.add("aresample", **{"async": "1", "min_hard_comp": f"{GAP_TOLERANCE_SECONDS:g}"})
        pinned = graph.add("aformat", sample_fmts="s16", channel_layouts="mono", sample_rates=str(SAMPLE_RATE))
        sink = graph.add("abuffersink")
        source.link_to(resample)
        resample.link_to(pinned)
        pinned.link_to(sink)
        graph.configure()
        graph.set_audio_frame_size(GRAPH_BLOCK_SAMPLES)
    except (av.error.FFmpegError, ValueError, OSError) as err:
        raise _GraphStopped(f"the decoding graph cannot start ({err})") from err
    start: float | None = None
    waits = 0
    while True:
        try:
            frame = sink.pull()
        except EOFError:
            return
        except av.error.BlockingIOError as err:  # the source always has input: never expected
            waits += 1
            if waits > 100:
                raise _GraphStopped(f"the decoding graph stalled ({err})") from err
            continue
        except av.error.FFmpegError as err:
            raise _GraphStopped(str(err)) from err
        waits = 0
        if start is None:
            start = float(frame.pts * frame.time_base) - zero if frame.pts is not None and frame.time_base is not None else 0.0
            delivered.start = start
        block = _samples(cast(av.AudioFrame, frame))
        delivered.samples += len(block)
        yield start, block


def _pcm_stream(path: Path, index: int, zero: float, declared: float | None) -> Iterator[tuple[float, np.ndarray]]:
    """Stream ``index``'s audio as (start, int16 mono 16 kHz block): through the libavfilter graph
    (``_graph_blocks``), and where it stops early (a damaged packet, a format change, a graph
    that cannot be built), the rest from PyAV frame by frame (``_pcm_blocks``, which skips damaged
    packets and resamples each format), started again from the beginning and joined at the
    sample where the graph stopped (the same samples: both are the same decoder and
    libswresample). ``declared``: the file's stated duration, seconds (a warning when the audio
    ends well before it)."""
    name = path.name
    delivered = _Delivered()
    try:
        yield from _graph_blocks(path, index, zero, delivered)
        seconds = delivered.samples / SAMPLE_RATE
        if declared is not None and seconds < declared - max(2.0, 0.02 * declared):
            log.warning("%s: the audio ends after %.1f s of the %.1f s the file declares (damaged or truncated?); "
                        "using what was read", name, seconds, declared)
        return
    except _GraphStopped as err:
        log.debug("%s: audio decoded frame by frame after %.3f s (%s)", name, delivered.samples / SAMPLE_RATE, err)
    skip = delivered.samples
    first = True
    with open_media(path) as container:
        stream = next(s for s in container.streams.audio if s.index == index)
        for start, block in _pcm_blocks(container, stream, zero, name):
            if first and skip:  # align on time, not only on the count (the two starts differ by rounding)
                skip += round((delivered.start - start) * SAMPLE_RATE)
            first = False
            if skip > 0:
                dropped = min(skip, len(block))
                skip -= dropped
                block = block[dropped:]
                if not len(block):
                    continue
            yield start, block


def _declared_seconds(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    """The stream's duration as the file declares it (None when it does not)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / av.time_base
    return None


def _decoded_frames(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream, name: str
) -> Iterator[av.AudioFrame]:
    """The stream's decoded frames; a damaged packet is skipped (its gap becomes silence), a
    damaged or truncated file ends the audio where it can no longer be read (both logged)."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except av.error.FFmpegError as err:
            log.warning("%s: the audio stops at a damaged part of the file (%s); using what was read", name, err)
            break
        try:
            frames = packet.decode()
        except av.error.FFmpegError as err:
            log.warning("%s: skipped a damaged audio packet (%s)", name, err)
            continue
        yield from frames


def _samples(frame: av.AudioFrame) -> np.ndarray:
    """The int16 samples of a packed mono frame, without a copy (the array keeps the frame alive)."""
    return np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16, count=frame.samples)


def _pcm_blocks(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream, zero: float, name: str
) -> Iterator[tuple[float, np.ndarray]]:
    """(start time of the first block, int16 mono 16 kHz blocks of about ``ENCODE_BLOCK_SAMPLES``);
    gaps filled with silence. The frame-by-frame path, taken where ``_graph_blocks`` stops.

    Decoded frames (about 1024 samples each) are gathered into one-second blocks of the stored
    format before they are resampled: PyAV's resampler costs a filter-graph push and pull per
    call, paid a few thousand times an hour this way instead of 170,000 times. Gaps are filled in
    the stored format ahead of the resampler, so the output is one continuous count. When the
    stored format changes mid-stream (sample rate, channels), what came before is flushed and a
    new resampler takes over."""
    start: float | None = None
    tick = float(stream.time_base) if stream.time_base is not None else None  # seconds per pts unit
    shape: tuple[object, ...] = ()  # (sample format, layout, rate, dtype, rows) of the stored audio
    rate = 0
    before = 0.0  # seconds of audio ahead of the current format's first sample
    consumed = 0  # stored samples of the current format gathered so far (decoded + filled gaps)
    gathered: list[np.ndarray] = []
    gathered_len = 0
    resampler: av.AudioResampler | None = None

    def resampled(final: bool) -> Iterator[np.ndarray]:
        nonlocal gathered, gathered_len
        if resampler is None:
            return
        frames: list[av.AudioFrame | None] = []
        if gathered:
            data = np.concatenate(gathered, axis=1) if len(gathered) > 1 else gathered[0]
            gathered, gathered_len = [], 0
            block = av.AudioFrame.from_ndarray(data, format=str(shape[0]), layout=str(shape[1]))
            block.sample_rate = rate
            frames.append(block)
        if final:
            frames.append(None)
        for each in frames:
            for out in resampler.resample(each):
                yield _samples(out)

    try:
        for frame in _decoded_frames(container, stream, name):
            data = frame.to_ndarray()
            if frame.sample_rate != rate or (data.dtype, data.shape[0]) != shape[3:]:
                if resampler is not None:
                    log.debug("%s: the audio changes to %s %s %d Hz", name, frame.format.name, frame.layout.name, frame.sample_rate)
                    for block in resampled(True):
                        yield start if start is not None else 0.0, block
                    before += consumed / rate
                shape = (frame.format.name, frame.layout.name, frame.sample_rate, data.dtype, data.shape[0])
                rate, consumed = frame.sample_rate, 0
                resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            if frame.pts is not None and tick is not None:
                at = frame.pts * tick - zero
                if start is None:
                    start = at
                gap = round((at - start - before) * rate) - consumed
                if gap > GAP_TOLERANCE_SECONDS * rate:
                    log.debug("%s: %.3f s gap in the audio at %.3f s filled with silence", name, gap / rate, at)
                    gathered.append(np.zeros((data.shape[0], gap * (data.shape[1] // frame.samples)), data.dtype))
                    gathered_len += gap
                    consumed += gap
            elif start is None:
                start = 0.0
            gathered.append(data)
            gathered_len += frame.samples
            consumed += frame.samples
            if gathered_len >= rate:
                for block in resampled(False):
                    yield start, block
        for block in resampled(True):
            yield start if start is not None else 0.0, block
    except (av.error.FFmpegError, ValueError) as err:  # ValueError: the resampler met a frame it cannot convert
        raise VideoOpenError(f"{name}: the audio cannot be decoded ({err})") from err


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
