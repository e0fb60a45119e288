"""Probing: a video's packet index, read once when it is opened (demuxing only, no decoding), and
its :class:`~videovision.types.VideoInfo` (:class:`~videovision.source.VideoSource` holds both).

The index is every frame's presentation timestamp and every keyframe: exact frame times on
variable-frame-rate files (never ``index / fps``), exact frame counts and presentation-order frame
indices, and the keyframes that exact seeking starts from.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import VideoOpenError
from ..media import check_file, ffmpeg_text, open_input
from ..paths import path_text
from ..types import VideoInfo
from .conversion import _rotation_cw, display_size

log = logging.getLogger("videovision")

TRUNCATION_TOLERANCE = 1.0
"""Seconds the indexed duration may fall short of the header's before the file counts as truncated."""


class DecodeWarning(UserWarning):
    """A damaged frame or packet was skipped; sampling carried on."""


@dataclass(frozen=True, eq=False)
class FrameIndex:
    """What opening a video learns: its info, every frame's pts and the keyframes."""

    info: VideoInfo
    time_base: Fraction
    stream_index: int
    pts: np.ndarray
    """Every frame's pts (time base units), ascending and unique."""
    first_pts: int
    times: np.ndarray
    """Every frame's time in seconds from the first frame."""
    key_pts: list[int]
    sar: Fraction
    rotation: int
    coded: tuple[int, int]


def read_index(path: Path) -> FrameIndex:
    """Open ``path``, read its packet index and describe it.

    Raises:
        VideoOpenError: see :func:`videovision.source.open_video`.
    """
    size = check_file(path)
    container = open_input(path)
    try:
        return _build(path, container, size)
    except av.error.FFmpegError as err:
        # A damaged index can fail anywhere while probing (seeking, reading headers).
        raise VideoOpenError(f"{path_text(path)}: damaged or unreadable video ({ffmpeg_text(err)}): "
                             "check the file or download it again") from err
    finally:
        container.close()


def _build(path: Path, container: av.container.InputContainer, size: int) -> FrameIndex:
    if not container.streams.video:
        kinds: list[str] = sorted({s.type for s in container.streams}) or ["no streams"]
        what = "audio only" if "audio" in kinds else ", ".join(kinds)
        raise VideoOpenError(f"{path_text(path)}: has no video stream ({what}); videovision needs a video")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise VideoOpenError(f"{path_text(path)}: the video stream's codec is unknown "
                             "(a damaged header or an unsupported codec)")
    time_base: Fraction = stream.time_base or Fraction(1, 90000)
    pts_list, key_list, last_duration, damaged, first = _read_packets(path, container, stream, time_base)
    if not pts_list:
        why = "a damaged index or a truncated file" if damaged or container.duration else "zero duration"
        raise VideoOpenError(f"{path_text(path)}: contains no readable video frames ({why})")
    pts = np.unique(np.asarray(pts_list, dtype=np.int64))
    first_pts = int(pts[0])
    times = (pts - first_pts).astype(np.float64) * float(time_base)
    keys = sorted({int(k) for k in key_list}) or [first_pts]
    coded_w = first.width if first is not None else stream.codec_context.width
    coded_h = first.height if first is not None else stream.codec_context.height
    if first is None or not coded_w or not coded_h:
        raise VideoOpenError(f"{path_text(path)}: no frame could be decoded (damaged or unsupported video)")
    rotation = _rotation_cw(getattr(first, "rotation", 0))
    sar = stream.codec_context.sample_aspect_ratio or stream.sample_aspect_ratio or Fraction(1)
    if sar <= 0:
        sar = Fraction(1)
    sar = Fraction(sar)
    width, height = display_size(coded_w, coded_h, sar, rotation)

    frame_span = last_duration if last_duration else (
        float(np.median(np.diff(times))) if len(pts) > 1 else 0.0
    )
    duration = float(times[-1]) + frame_span
    if duration <= 0:
        raise VideoOpenError(f"{path_text(path)}: the video has zero duration")
    diffs = np.diff(pts)
    vfr = bool(len(diffs) > 1 and (diffs.max() - diffs.min()) > max(1, 0.02 * np.median(diffs)))
    header_duration = float(container.duration) / av.time_base if container.duration else None
    # The header's span starts at the container's earliest stream (audio may start before the
    # video): compare where each ends, not their lengths.
    lead = 0.0
    if container.start_time is not None:
        lead = max(0.0, first_pts * float(time_base) - float(container.start_time) / av.time_base)
    truncated = damaged or bool(
        header_duration is not None
        and header_duration - (lead + duration) > max(TRUNCATION_TOLERANCE, 0.05 * header_duration)
    )
    if truncated:
        warnings.warn(
            f"{path.name}: the file looks truncated or damaged; using the "
            f"{duration:.2f} s that could be read",
            DecodeWarning,
            stacklevel=4,  # the caller of VideoSource(...): _build, read_index, __init__, caller
        )
    info = VideoInfo(
        path=path_text(path),
        duration=duration,
        width=width,
        height=height,
        coded_width=coded_w,
        coded_height=coded_h,
        rotation=rotation,
        sample_aspect_ratio=(sar.numerator, sar.denominator),
        fps=len(pts) / duration,
        frame_count=len(pts),
        codec=stream.codec_context.name,
        container=container.format.name.split(",")[0],
        has_audio=bool(container.streams.audio),
        start_time=first_pts * float(time_base),
        variable_frame_rate=vfr,
        size_bytes=size,
        truncated=truncated,
    )
    return FrameIndex(info=info, time_base=time_base, stream_index=stream.index, pts=pts, first_pts=first_pts,
                      times=times, key_pts=keys, sar=sar, rotation=rotation, coded=(coded_w, coded_h))


def _read_packets(path: Path, container, stream,
                  time_base: Fraction) -> tuple[list[int], list[int], float, bool, av.VideoFrame | None]:
    """Demux the video stream: every packet's pts and the keyframes, and the first decodable frame
    (the packets up to it are decoded; none after it). One pass from the start of the file: no
    seek back in a file whose index may be damaged, and no second opening (on a 4K file each
    opening decodes several frames to probe the stream: ~0.2 s)."""
    first: av.VideoFrame | None = None
    pts_list: list[int] = []
    key_list: list[int] = []
    last_duration = 0.0
    damaged = False
    max_pts = None
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue
            p = packet.pts if packet.pts is not None else packet.dts
            if p is None:
                continue
            if packet.is_corrupt:
                damaged = True
            if first is None:
                first = _decoded(packet)
            pts_list.append(p)
            if packet.is_keyframe:
                key_list.append(p)
            if max_pts is None or p >= max_pts:
                max_pts = p
                last_duration = float(packet.duration * time_base) if packet.duration else 0.0
    except av.error.FFmpegError as err:
        damaged = True
        log.warning("%s: stopped reading the index at a damaged packet (%s)", path.name, err)
    if first is None and pts_list:
        first = _decoded(None, stream)  # a decoder holding frames back until the end
    return pts_list, key_list, last_duration, damaged, first


def _decoded(packet, stream=None) -> av.VideoFrame | None:
    """The first frame decoding ``packet`` gives (None: none yet, or a damaged packet);
    ``packet`` None drains ``stream``'s decoder."""
    try:
        frames = packet.decode() if packet is not None else stream.codec_context.decode(None)
        return next(iter(frames), None)
    except av.error.FFmpegError:
        return None
