"""Clips by encoding: frames decoded one at a time, turned upright at display aspect, written as
H.264 yuv420p with the audio re-encoded as AAC (:mod:`videovision.clips` chooses when)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

from ..errors import ConfigError
from ..source import VideoSource, _rotation_cw
from .common import _Cut, _end_time, _open, _open_output, _pts, _seek_before

VIDEO_ENCODERS = ("libx264", "libopenh264")
"""H.264 encoders tried in order (software ones: hardware encoders may be listed but absent)."""
X264_OPTIONS = {"preset": "veryfast", "crf": "20"}
"""Short clips of moments: quick to make, visually transparent (x264's CRF scale: 18-23 is good)."""
MAX_ENCODE_PIXELS = 3840 * 2160
"""Re-encoded clips are at most this many pixels (4K UHD; aspect kept): the largest H.264 picture
browsers commonly play, and what keeps the encoder's memory bounded (an 8K clip took 2.5 GB in
libx264's frame buffers; 4K about a quarter). A copied clip keeps the source's size."""
OPENH264_BIT_RATE = 4_000_000
AUDIO_BIT_RATE = 128_000
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)
"""Sample rates AAC carries; other sources are resampled to 48 kHz."""


def _encoder_name() -> str:
    for name in VIDEO_ENCODERS:
        try:
            av.codec.Codec(name, "w")
        except (ValueError, av.error.FFmpegError):
            continue
        return name
    raise ConfigError("mode: this PyAV build has no H.264 encoder (libx264); clips can only be copied "
                      "(a start on a keyframe, --mode copy)", field="mode")


def _even_display_size(source: VideoSource) -> tuple[int, int]:
    """The size a re-encoded clip is written at: the display size, even, scaled down (aspect kept)
    to at most ``MAX_ENCODE_PIXELS``."""
    info = source.info
    width, height = info.width, info.height
    if width * height > MAX_ENCODE_PIXELS:
        scale = math.sqrt(MAX_ENCODE_PIXELS / (width * height))
        width, height = math.floor(width * scale), math.floor(height * scale)
    return max(2, width - width % 2), max(2, height - height % 2)


def encode(source: VideoSource, cut: _Cut, tmp: Path) -> bool:
    """Encode frames ``cut.first .. cut.stop - 1`` as H.264 (+ AAC); returns whether audio was written."""
    times = source.frame_times
    t0 = float(times[cut.first])
    t1 = _end_time(source, cut.stop)
    abs_start = int(_pts(source)[cut.first]) * float(source.time_base)
    width, height = _even_display_size(source)
    tb = source.time_base
    with _open_output(tmp) as out:
        encoder = _encoder_name()
        rate = Fraction(source.info.fps).limit_denominator(1001)
        vstream = cast(av.VideoStream, out.add_stream(encoder, rate=rate))
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = "yuv420p"
        vstream.time_base = tb
        vstream.codec_context.time_base = tb
        if encoder == "libx264":
            vstream.options = dict(X264_OPTIONS)
        else:
            vstream.codec_context.bit_rate = OPENH264_BIT_RATE
        astream = _audio_stream(out, source)
        items: list[Iterator[tuple[float, int, av.frame.Frame]]] = [_video_frames(source, t0, t1, width, height)]
        if astream is not None:
            items.append(_audio_frames(source, abs_start, abs_start + (t1 - t0), astream))
        wrote_audio = False
        for _, _, frame in heapq.merge(*items, key=lambda item: item[0]):
            if isinstance(frame, av.VideoFrame):
                out.mux(vstream.encode(frame))
            elif astream is not None and isinstance(frame, av.AudioFrame):
                wrote_audio = True
                out.mux(astream.encode(frame))
        out.mux(vstream.encode(None))
        if astream is not None:
            out.mux(astream.encode(None))
    return wrote_audio


def _video_frames(source: VideoSource, t0: float, t1: float, width: int, height: int
                  ) -> Iterator[tuple[float, int, av.VideoFrame]]:
    tb = float(source.time_base)
    last = -1
    for raw in source.iter_raw(t0, t1):
        frame = _upright(raw.frame, _rotation_cw(raw.frame.rotation) or source.info.rotation,
                         (source.sample_aspect_ratio.numerator, source.sample_aspect_ratio.denominator), width, height)
        pts = round((raw.time - t0) / tb)
        if pts <= last:
            continue
        last = pts
        frame.pts = pts
        frame.time_base = source.time_base
        frame.pict_type = av.video.frame.PictureType.NONE  # a decoded frame's type would force the encoder's
        yield pts * tb, 0, frame


def _upright(frame: av.VideoFrame, rotation: int, sar: tuple[int, int], width: int, height: int) -> av.VideoFrame:
    """``frame`` as 8-bit yuv420p, at display aspect, turned upright, ``width`` x ``height``.

    Scaling happens before rotation (in the stored orientation), rotation on the YUV planes (as
    :meth:`VideoSource.to_image` does on RGB): no round trip through RGB.
    """
    turned = rotation in (90, 270)
    pre_w, pre_h = (height, width) if turned else (width, height)
    if frame.format.name != "yuv420p" or (frame.width, frame.height) != (pre_w, pre_h):
        frame = frame.reformat(width=pre_w, height=pre_h, format="yuv420p", interpolation="BICUBIC")
    if not rotation:
        return frame
    planes = frame.to_ndarray()
    luma = planes[:pre_h]
    chroma = planes[pre_h:].ravel()
    quarter = (pre_h // 2) * (pre_w // 2)
    u = chroma[:quarter].reshape(pre_h // 2, pre_w // 2)
    v = chroma[quarter: 2 * quarter].reshape(pre_h // 2, pre_w // 2)
    k = -rotation // 90  # np.rot90 turns counter-clockwise; rotation is clockwise
    stacked = np.concatenate([np.rot90(p, k).ravel() for p in (luma, u, v)]).reshape(-1, width)
    return av.VideoFrame.from_ndarray(stacked, format="yuv420p")


def _audio_stream(out: av.container.OutputContainer, source: VideoSource) -> av.AudioStream | None:
    """An AAC stream for the source's first audio stream (mono or stereo), or None without audio."""
    if not source.info.has_audio:
        return None
    with _open(source) as container:
        cc = container.streams.audio[0].codec_context
        if cc is None or not cc.sample_rate:
            return None
        rate = cc.sample_rate if cc.sample_rate in AAC_RATES else 48000
        layout = "mono" if cc.layout.nb_channels == 1 else "stereo"
    stream = out.add_stream("aac", rate=rate)
    stream.layout = layout
    stream.codec_context.bit_rate = AUDIO_BIT_RATE
    return stream


def _audio_frames(source: VideoSource, abs_start: float, abs_end: float, ostream
                  ) -> Iterator[tuple[float, int, av.AudioFrame]]:
    """Decoded audio cut to ``[abs_start, abs_end)`` (container seconds), resampled for ``ostream``,
    with timestamps from 0 at ``abs_start``; a damaged packet is skipped."""
    rate = ostream.codec_context.sample_rate
    layout = ostream.layout.name
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    position = 0
    with _open(source) as container:
        stream = container.streams.audio[0]
        _seek_before(container, abs_start)
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                continue
            for frame in decoded:
                if frame.pts is None:
                    continue
                begin = float(frame.pts * (frame.time_base or Fraction(1, frame.sample_rate)))
                if begin >= abs_end:
                    return
                if begin + frame.samples / frame.sample_rate <= abs_start:
                    continue
                for resampled in resampler.resample(frame):
                    trimmed = _trim(resampled, abs_start, abs_end, rate, position)
                    if trimmed is not None:
                        position = int(trimmed.pts or 0) + trimmed.samples
                        yield (position - trimmed.samples) / rate, 1, trimmed
        for resampled in resampler.resample(None):  # the resampler's last samples
            trimmed = _trim(resampled, abs_start, abs_end, rate, position)
            if trimmed is not None:
                position = int(trimmed.pts or 0) + trimmed.samples
                yield (position - trimmed.samples) / rate, 1, trimmed


def _trim(frame: av.AudioFrame, abs_start: float, abs_end: float, rate: int, position: int) -> av.AudioFrame | None:
    """The samples of ``frame`` inside ``[abs_start, abs_end)``, as a frame timed from ``abs_start``
    (never overlapping ``position``, the end of the previous frame)."""
    if frame.pts is None:
        return None
    begin = float(frame.pts * (frame.time_base or Fraction(1, rate)))
    offset = round((begin - abs_start) * rate)
    first = max(0, -offset, position - offset)
    last = min(frame.samples, round((abs_end - abs_start) * rate) - offset)
    if last <= first:
        return None
    samples = frame.to_ndarray()[:, first:last]
    trimmed = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=frame.layout.name)
    trimmed.sample_rate = rate
    trimmed.pts = offset + first
    trimmed.time_base = Fraction(1, rate)
    return trimmed


