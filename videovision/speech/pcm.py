"""Decoded audio as 16 kHz mono PCM blocks, on the video's timeline (what :mod:`.audio` cuts into chunks).

The fast path is one libavfilter graph in C (``amovie`` -> ``aresample`` -> ``abuffersink``) giving
four-second blocks; where it stops (a damaged packet, a change of the stored format mid-stream) PyAV
takes over frame by frame from the same sample, and both give the same samples.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av
import numpy as np

from ..errors import VideoOpenError
from .timeline import open_media

log = logging.getLogger("videovision.speech")

SAMPLE_RATE = 16000
"""Samples per second sent for transcription (what speech models use)."""
GAP_TOLERANCE_SECONDS = 0.02
"""A jump in the audio's timestamps larger than this is filled with silence."""
ENCODE_BLOCK_SAMPLES = SAMPLE_RATE
"""Samples handed to the encoder at once, at least (one second)."""
GRAPH_BLOCK_SAMPLES = 4 * SAMPLE_RATE
"""Samples in each block the decoding graph gives (four seconds: 5 % less CPU than one-second
blocks, the same chunks; bench/bench_audio.py)."""

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
