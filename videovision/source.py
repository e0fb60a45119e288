"""Open, probe and decode a video (stage 1: probe).

``open_video(path)`` returns a :class:`VideoSource`. Opening reads the container's packet
index once (demuxing only, no decoding) so that every frame's presentation timestamp and
every keyframe position is known up front. That index gives:

* exact frame times on variable-frame-rate files (never ``index / fps``),
* exact frame counts and presentation-order frame indices,
* cheap exact seeking: to get "the first frame whose time is >= t" the decoder seeks to the
  keyframe before it only when that keyframe lies beyond the current decode position, and
  otherwise decodes forward (docs/facts.md: faster than any other exact method measured here).

Frames come out upright (rotation metadata applied) and at display aspect ratio (sample
aspect ratio applied), as RGB ``uint8`` arrays. Times are seconds from the first frame.

Decoding uses PyAV (FFmpeg) with multi-threaded decoding; colour conversion happens only for
frames that are kept, straight to the requested size, through one libswscale converter per call
site kept for the pass (PyAV would set up a fresh one for every frame).
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import os
import queue
import stat
import threading
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from .errors import VideoOpenError
from .paths import path_text
from .types import Frame, VideoInfo

log = logging.getLogger("videovision")

TIME_EPSILON = 1e-6
"""Seconds of slack when comparing a frame time with a target time (float rounding)."""
TRUNCATION_TOLERANCE = 1.0
"""Seconds the indexed duration may fall short of the header's before the file counts as truncated."""
FRAME_THREADS_MAX_PIXELS = 3840 * 2160
"""Largest coded picture decoded with frame threads. Each frame thread holds pictures of its own
(measured with bench/bench_memory.py: about 95 MB per thread at 7680x4320), so larger pictures
are decoded with slice threads only, which keeps an 8K decode within the memory bound."""

PREFETCH_BYTES = 48 * 1024 * 1024
"""Decoded pixels (bytes of YUV) that :meth:`VideoSource.iter_raw` lets its decode thread run
ahead by: a few frames at most (``PREFETCH_FRAMES``), one 8K frame, so memory stays bounded."""
PREFETCH_FRAMES = 6
"""Most frames queued between the decode thread and the caller of :meth:`VideoSource.iter_raw`."""
SPARSE_MAX_SHARE = 0.5
"""Largest share of a frame's pixels :meth:`VideoSource.downscaled_bgr` colour-converts before it
converts the whole frame instead (a frame barely larger than its downscale gains nothing)."""

_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


_PLANAR_420 = ("yuv420p", "yuvj420p")


def _plane(plane, height: int, width: int) -> np.ndarray:
    """A zero-copy view of one 8-bit picture plane (line padding cut off)."""
    return np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)[:height, :width]


class DecodeWarning(UserWarning):
    """A damaged frame or packet was skipped; sampling carried on."""


@dataclass(frozen=True, eq=False)
class RawFrame:
    """A decoded frame before colour conversion (cheap to hold briefly, converted on demand).

    ``display_ready`` frames were already scaled to their display geometry at decode time
    (sample aspect ratio applied, no larger than the ``max_side`` asked for; rotation not yet
    applied): :meth:`VideoSource.to_image` then only converts colours and turns them upright.
    """

    frame: av.VideoFrame
    time: float
    index: int
    display_ready: bool = False
    snapshot: np.ndarray | None = None
    """For the frames :meth:`VideoSource.iter_raw` was asked to snapshot: the picture ``to_image``
    gives of the frame as decoded (before any scaling), at the snapshot size."""


def open_video(path: str | os.PathLike) -> VideoSource:
    """Open a video file and read its packet index.

    Args:
        path: path to a video file (any container/codec FFmpeg reads: MP4, MOV, MKV, WEBM, AVI, TS ...).

    Returns:
        A :class:`VideoSource`; use it as a context manager to release the decoder.

    Raises:
        VideoOpenError: the path is missing, a directory or another non-regular file (named pipe,
            device, socket), empty, not a video, has no video stream, holds no decodable frame,
            has a damaged index, or is truncated beyond use.
    """
    return VideoSource(path)


def _check_path(path: Path) -> int:
    """Size of a readable regular file; anything else is refused before it is opened (opening
    a named pipe for reading blocks until a writer appears)."""
    try:
        info = os.stat(path)
    except FileNotFoundError as err:
        raise VideoOpenError(f"{path_text(path)}: no such file") from err
    except OSError as err:
        raise VideoOpenError(f"{path_text(path)}: cannot read the file ({err.strerror or err})") from err
    if stat.S_ISDIR(info.st_mode):
        raise VideoOpenError(f"{path_text(path)}: is a directory, not a video file")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "a special file")
        raise VideoOpenError(f"{path_text(path)}: is {kind}, not a video file (save the stream to a file first)")
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        raise VideoOpenError(f"{path_text(path)}: cannot read the file ({err.strerror or err})") from err
    if info.st_size == 0:
        raise VideoOpenError(f"{path_text(path)}: the file is empty (0 bytes)")
    return info.st_size


def _ffmpeg_text(err: Exception) -> str:
    """First line of an FFmpeg error, or its type when it has no text."""
    text = str(err)
    return text.splitlines()[0] if text else type(err).__name__


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as err:
        text = str(err)
        if "end of file" in text.lower() or isinstance(err, EOFError):
            hint = "the file ends before any video data (an empty, zero-duration or truncated video)"
        elif "moov atom not found" in text.lower() or "invalid data" in text.lower():
            hint = (
                "not a video file FFmpeg can read, or a truncated download "
                "(an MP4 whose index is missing): check the file or download it again"
            )
        else:
            hint = f"FFmpeg cannot open it ({_ffmpeg_text(err)})"
        raise VideoOpenError(f"{path_text(path)}: {hint}") from err


def _nal_length_size(extradata: bytes | None, codec: str) -> int | None:
    """NAL length-prefix size from avcC/hvcC extradata; None for Annex-B (start codes)."""
    if not extradata or extradata[0] != 1:
        return None
    if codec == "hevc":
        return (extradata[21] & 3) + 1 if len(extradata) > 22 else None
    return (extradata[4] & 3) + 1 if len(extradata) > 4 else None


def _nal_headers(data: bytes, length_size: int | None) -> Iterator[int]:
    """First byte(s) of each NAL unit in a packet, as an int of the first two bytes."""
    n = len(data)
    if length_size:
        i = 0
        while i + length_size < n:
            size = int.from_bytes(data[i : i + length_size], "big")
            start = i + length_size
            if size <= 0 or start + 1 >= n:
                return
            yield (data[start] << 8) | data[start + 1]
            i = start + size
    else:
        i = data.find(b"\x00\x00\x01")
        while i != -1 and i + 4 < n:
            yield (data[i + 3] << 8) | data[i + 4]
            i = data.find(b"\x00\x00\x01", i + 3)


def _disposable_test(stream) -> Callable[[av.Packet], bool] | None:
    """A test for packets no other picture references (H.264 nal_ref_idc 0, HEVC sub-layer
    non-reference), or None for codecs where it is unknown."""
    name = stream.codec_context.name
    length_size = _nal_length_size(stream.codec_context.extradata, name)
    if name == "h264":
        def test(packet) -> bool:
            refs = [(h >> 13) & 3 for h in _nal_headers(bytes(packet), length_size) if ((h >> 8) & 31) in (1, 5)]
            return bool(refs) and max(refs) == 0
        return test
    if name == "hevc":
        def test(packet) -> bool:
            kinds = [(h >> 9) & 63 for h in _nal_headers(bytes(packet), length_size)]
            vcl = [k for k in kinds if k < 32]
            return bool(vcl) and all(k <= 14 and k % 2 == 0 for k in vcl)
        return test
    return None


def _rotation_cw(frame_rotation: float | None) -> int:
    """PyAV reports the display matrix angle counter-clockwise; return clockwise 0/90/180/270."""
    if not frame_rotation:
        return 0
    return round(-float(frame_rotation) / 90.0) * 90 % 360


def display_size(coded_w: int, coded_h: int, sar: Fraction, rotation_cw: int) -> tuple[int, int]:
    """Display size of a coded picture: SAR applied to the width, then rotation."""
    width = coded_w
    if sar and sar > 0 and sar != 1:
        width = max(1, round(coded_w * sar))
    if rotation_cw in (90, 270):
        return coded_h, width
    return width, coded_h


def fit_within(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Scale (width, height) down so the long side is at most ``max_side``; never up."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _linear_taps(n_src: int, n_dst: int) -> tuple[list[int], bool]:
    """Source pixels ``cv2.resize(..., INTER_LINEAR)`` reads with a non-zero weight along one axis
    (OpenCV's mapping: ``x = (d + 0.5) * n_src / n_dst - 0.5``, clamped at the edges), in output
    order with repeats (two per output pixel, or one when every weight falls on a whole pixel),
    and whether every output pixel lies on a whole source pixel (the resize then only picks)."""
    scale = n_src / n_dst
    taps: list[int] = []
    whole = True
    for d in range(n_dst):
        f = (d + 0.5) * scale - 0.5
        s = math.floor(f)
        f -= s
        if s < 0:
            s, f = 0, 0.0
        if s >= n_src - 1:
            s, f = n_src - 1, 0.0
        if f == 0.0:
            taps.append(s)
        else:
            whole = False
            taps.extend((s, s + 1))
    return taps, whole


@dataclass(frozen=True, eq=False)
class _SparsePlan:
    """Which pixels of a 4:2:0 frame a linear downscale to (width, height) reads, and where they go.

    The frame's 2x2 blocks (one chroma sample each) that hold a read pixel are gathered into a small
    4:2:0 picture, converted to BGR there (per pixel the same conversion as the full frame: checked
    on the first frame of each pass, see :meth:`VideoSource.downscaled_bgr`), then either picked
    (every output pixel on a whole source pixel) or put back at their places in a full-size buffer
    that ``cv2.resize`` reads (only those places matter to it).
    """

    size: tuple[int, int]
    pair_rows: np.ndarray
    """Chroma rows (= pairs of luma rows) gathered."""
    pair_cols: np.ndarray
    luma_rows: np.ndarray
    share: float
    pick_rows: np.ndarray | None
    """Rows / columns of the small BGR picture that are the output (whole-pixel case), else None."""
    pick_cols: np.ndarray | None
    put_index: np.ndarray
    """Flat index of each 2-pixel BGR group of the small picture in the full-size buffer (6-byte units)."""
    buffer: np.ndarray
    gathers: dict[tuple[int, ...], tuple[np.ndarray, ...]]
    """Flat gather indices into the planes, per plane line sizes."""

    @classmethod
    def build(cls, width: int, height: int, out_w: int, out_h: int) -> _SparsePlan:
        col_taps, whole_x = _linear_taps(width, out_w)
        row_taps, whole_y = _linear_taps(height, out_h)
        pair_cols = np.unique(np.asarray(col_taps) // 2)
        pair_rows = np.unique(np.asarray(row_taps) // 2)
        luma_rows = np.stack([2 * pair_rows, 2 * pair_rows + 1], 1).ravel()
        pick_rows = pick_cols = None
        if whole_x and whole_y:
            # position of each source pixel in the small picture: pair index * 2 + parity
            pick_cols = np.searchsorted(pair_cols, np.asarray(col_taps) // 2) * 2 + np.asarray(col_taps) % 2
            pick_rows = np.searchsorted(pair_rows, np.asarray(row_taps) // 2) * 2 + np.asarray(row_taps) % 2
        put_index = (luma_rows[:, None] * (width // 2) + pair_cols[None, :]).ravel()
        share = (len(luma_rows) * 2 * len(pair_cols)) / (width * height)
        buffer = np.zeros((0, 0, 3), np.uint8) if pick_rows is not None else np.zeros((height, width, 3), np.uint8)
        return cls((out_w, out_h), pair_rows, pair_cols, luma_rows, share, pick_rows, pick_cols, put_index, buffer, {})

    def small_picture(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The gathered 2x2 blocks as a 4:2:0 frame of the same format, colorspace and range."""
        sub = av.VideoFrame(2 * len(self.pair_cols), len(self.luma_rows), frame.format.name)
        sub.colorspace, sub.color_range = frame.colorspace, frame.color_range
        strides = tuple(frame.planes[k].line_size for k in range(3))
        index = self.gathers.get(strides)
        if index is None:
            rows, cols = self.luma_rows, self.pair_cols
            luma = (rows[:, None] * (strides[0] // 2) + cols[None, :]).ravel()  # two luma pixels per item
            chroma = [(self.pair_rows[:, None] * strides[k] + cols[None, :]).ravel() for k in (1, 2)]
            index = self.gathers[strides] = (luma, *chroma)
        for k in range(3):
            source = np.frombuffer(memoryview(frame.planes[k]), np.uint8)
            if k == 0:
                source = source[: len(source) // 2 * 2].view(np.uint16)
            picked = source.take(index[k]).view(np.uint8)
            height = len(self.luma_rows) if k == 0 else len(self.pair_rows)
            _plane_rows(sub.planes[k], height, picked.size // height)[:] = picked.reshape(height, -1)
        return sub

    def finish(self, small_bgr: np.ndarray) -> np.ndarray:
        """The downscaled picture from the small picture's BGR pixels."""
        if self.pick_rows is not None and self.pick_cols is not None:
            return small_bgr.take(self.pick_rows, 0).take(self.pick_cols, 1)
        groups = np.ascontiguousarray(small_bgr).reshape(-1).view("V6")
        self.buffer.reshape(-1).view("V6").put(self.put_index, groups)
        return cv2.resize(self.buffer, self.size, interpolation=cv2.INTER_LINEAR)


def _plane_rows(plane, height: int, width: int) -> np.ndarray:
    """A writable view of a plane's first ``height`` rows, ``width`` bytes each."""
    return np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)[:height, :width]


class _Prefetch:
    """Runs a frame iterator in a thread, ``depth`` items ahead, and hands its items over in order.

    FFmpeg's decoding and scaling release the GIL, so decoding the next frames overlaps the
    caller's work on the last one (2 cores: decode threads and analysis side by side). Warnings
    raised by the iterator travel with the items and are raised in the caller's thread.
    """

    _END = object()

    def __init__(self, produce: Callable[[Callable[[str], None]], Iterator], depth: int):
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._produce = produce
        self._thread = threading.Thread(target=self._run, name="videovision-decode", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _warn(self, message: str) -> None:
        self._put(("warn", message))

    def _run(self) -> None:
        try:
            for item in self._produce(self._warn):
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as err:  # handed to the caller, raised there
            self._put(("error", err))

    def __iter__(self) -> Iterator:
        while True:
            kind, value = self._queue.get()
            if kind == "item":
                yield value
            elif kind == "warn":
                warnings.warn(value, DecodeWarning, stacklevel=3)
            elif kind == "error":
                raise value
            else:
                return

    def close(self) -> None:
        """Stop the thread and wait for it (before the decoder it uses is closed)."""
        self._stop.set()
        if threading.current_thread() is self._thread:
            return
        while self._thread.is_alive():
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=0.05)


class VideoSource:
    """An opened video: its :class:`VideoInfo`, its frame index, and exact-frame decoding.

    Not thread-safe; open one source per thread.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        size = _check_path(self.path)
        self._container: av.container.InputContainer | None = None
        self._converters: dict[str, VideoReformatter] = {}
        self._warn_sinks: dict[int, Callable[[str], None]] = {}
        self._prefetch: _Prefetch | None = None
        self._sparse: dict[tuple, _SparsePlan | None] = {}
        container = _open_container(self.path)
        try:
            self._build(container, size)
        except av.error.FFmpegError as err:
            # A damaged index can fail anywhere while probing (seeking, reading headers).
            raise VideoOpenError(f"{path_text(self.path)}: damaged or unreadable video ({_ffmpeg_text(err)}): "
                                 "check the file or download it again") from err
        finally:
            container.close()

    # ----------------------------------------------------------------- probing
    def _build(self, container: av.container.InputContainer, size: int) -> None:
        if not container.streams.video:
            kinds: list[str] = sorted({s.type for s in container.streams}) or ["no streams"]
            what = "audio only" if "audio" in kinds else ", ".join(kinds)
            raise VideoOpenError(f"{path_text(self.path)}: has no video stream ({what}); videovision needs a video")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise VideoOpenError(f"{path_text(self.path)}: the video stream's codec is unknown "
                                 "(a damaged header or an unsupported codec)")
        self._stream_index = stream.index
        self.time_base: Fraction = stream.time_base or Fraction(1, 90000)
        pts_list, key_list, last_duration, damaged = self._read_index(container, stream)
        if not pts_list:
            why = "a damaged index or a truncated file" if damaged or container.duration else "zero duration"
            raise VideoOpenError(f"{path_text(self.path)}: contains no readable video frames ({why})")
        pts = np.unique(np.asarray(pts_list, dtype=np.int64))
        self._pts = pts
        self._first_pts = int(pts[0])
        self._times = (pts - self._first_pts).astype(np.float64) * float(self.time_base)
        keys = sorted({int(k) for k in key_list}) or [self._first_pts]
        self._key_pts = keys
        first = self._first_frame()
        coded_w = first.width if first is not None else stream.codec_context.width
        coded_h = first.height if first is not None else stream.codec_context.height
        if first is None or not coded_w or not coded_h:
            raise VideoOpenError(f"{path_text(self.path)}: no frame could be decoded (damaged or unsupported video)")
        rotation = _rotation_cw(getattr(first, "rotation", 0))
        sar = stream.codec_context.sample_aspect_ratio or stream.sample_aspect_ratio or Fraction(1)
        if sar <= 0:
            sar = Fraction(1)
        self._sar = Fraction(sar)
        self._rotation = rotation
        self._coded = (coded_w, coded_h)
        width, height = display_size(coded_w, coded_h, self._sar, rotation)

        frame_span = last_duration if last_duration else (
            float(np.median(np.diff(self._times))) if len(pts) > 1 else 0.0
        )
        duration = float(self._times[-1]) + frame_span
        if duration <= 0:
            raise VideoOpenError(f"{path_text(self.path)}: the video has zero duration")
        diffs = np.diff(pts)
        vfr = bool(len(diffs) > 1 and (diffs.max() - diffs.min()) > max(1, 0.02 * np.median(diffs)))
        header_duration = float(container.duration) / av.time_base if container.duration else None
        # The header's span starts at the container's earliest stream (audio may start before the
        # video): compare where each ends, not their lengths.
        lead = 0.0
        if container.start_time is not None:
            lead = max(0.0, self._first_pts * float(self.time_base) - float(container.start_time) / av.time_base)
        truncated = damaged or bool(
            header_duration is not None
            and header_duration - (lead + duration) > max(TRUNCATION_TOLERANCE, 0.05 * header_duration)
        )
        if truncated:
            warnings.warn(
                f"{self.path.name}: the file looks truncated or damaged; using the "
                f"{duration:.2f} s that could be read",
                DecodeWarning,
                stacklevel=3,
            )
        self.info = VideoInfo(
            path=path_text(self.path),
            duration=duration,
            width=width,
            height=height,
            coded_width=coded_w,
            coded_height=coded_h,
            rotation=rotation,
            sample_aspect_ratio=(self._sar.numerator, self._sar.denominator),
            fps=len(pts) / duration,
            frame_count=len(pts),
            codec=stream.codec_context.name,
            container=container.format.name.split(",")[0],
            has_audio=bool(container.streams.audio),
            start_time=self._first_pts * float(self.time_base),
            variable_frame_rate=vfr,
            size_bytes=size,
            truncated=truncated,
        )

    def _read_index(self, container, stream) -> tuple[list[int], list[int], float, bool]:
        """Demux (no decoding) the video stream: every packet's pts and the keyframes."""
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
                pts_list.append(p)
                if packet.is_keyframe:
                    key_list.append(p)
                if max_pts is None or p >= max_pts:
                    max_pts = p
                    last_duration = float(packet.duration * self.time_base) if packet.duration else 0.0
        except av.error.FFmpegError as err:
            damaged = True
            log.warning("%s: stopped reading the index at a damaged packet (%s)", self.path.name, err)
        return pts_list, key_list, last_duration, damaged

    def _first_frame(self) -> av.VideoFrame | None:
        """The first decodable frame, from a fresh container (no seek back in a file whose
        index may be damaged)."""
        container = _open_container(self.path)
        try:
            for packet in container.demux(container.streams.video[0]):
                try:
                    for frame in packet.decode():
                        return frame
                except av.error.FFmpegError:
                    continue
        except av.error.FFmpegError:
            return None
        finally:
            container.close()
        return None

    def sibling(self) -> VideoSource:
        """Another decoder of the same file, sharing this one's index (nothing is read again): for
        decoding elsewhere in the file while this one's pass goes on."""
        other = object.__new__(VideoSource)
        other.__dict__.update(self.__dict__)
        other._container, other._prefetch = None, None
        other._converters, other._warn_sinks, other._sparse = {}, {}, {}
        return other

    # ----------------------------------------------------------------- index queries
    @property
    def frame_pts(self) -> np.ndarray:
        """Every frame's presentation timestamp in the stream's time base, ascending (read-only view)."""
        view = self._pts.view()
        view.flags.writeable = False
        return view

    @property
    def keyframe_pts(self) -> tuple[int, ...]:
        """Presentation timestamps of the keyframes (time base units), ascending."""
        return tuple(self._key_pts)

    @property
    def first_pts(self) -> int:
        """The first frame's presentation timestamp (time base units): time 0 in videovision."""
        return self._first_pts

    @property
    def sample_aspect_ratio(self) -> Fraction:
        """The stream's sample (pixel) aspect ratio."""
        return self._sar

    @property
    def frame_times(self) -> np.ndarray:
        """Every frame's time in seconds from the first frame, ascending (read-only view)."""
        view = self._times.view()
        view.flags.writeable = False
        return view

    def index_at(self, time: float) -> int | None:
        """Index of the first frame whose time is >= ``time`` (None past the last frame)."""
        i = int(np.searchsorted(self._times, time - TIME_EPSILON, side="left"))
        return i if i < len(self._times) else None

    def _index_of_pts(self, pts: int) -> int:
        i = int(np.searchsorted(self._pts, pts, side="left"))
        return min(i, len(self._pts) - 1)

    # ----------------------------------------------------------------- decoding
    def _open_decoder(self) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
        self.close()
        container = _open_container(self.path)
        stream = container.streams.video[0]
        coded_w, coded_h = self._coded
        stream.thread_type = "AUTO" if coded_w * coded_h <= FRAME_THREADS_MAX_PIXELS else "SLICE"
        self._container = container
        return container, stream

    def _decode_packets(self, container, stream, skip_below: list[int] | None = None) -> Iterator[av.VideoFrame]:
        """Frames in presentation order from the current position, skipping damaged ones.

        With ``skip_below = [pts]``, packets of non-reference pictures presented before ``pts``
        are not decoded at all: nothing depends on them and they are not wanted.
        """
        return self._in_pts_order(self._decoded_frames(container, stream, skip_below))

    def _in_pts_order(self, frames: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
        """Frames with strictly ascending timestamps, one frame of look-ahead.

        Decoders emit pictures in presentation order, so a timestamp out of that order is a
        damaged one: a frame not after the last one passed is dropped (a time from the past,
        or a duplicate), and so is a frame followed by an earlier one (a time from the future,
        which would otherwise end a time range early or put the next frames out of order).
        """
        held: tuple[av.VideoFrame, int] | None = None
        last: int | None = None
        for frame in frames:
            if frame.pts is None:  # no timestamp at all: nothing to check (see _frame_time)
                yield frame
                continue
            pts = int(frame.pts)
            if last is not None and pts <= last:
                self._warn_out_of_order()
                continue
            if held is not None:
                if pts < held[1]:
                    self._warn_out_of_order()
                else:
                    last = held[1]
                    yield held[0]
            held = (frame, pts)
        if held is not None:
            yield held[0]

    def _warn_out_of_order(self) -> None:
        self._warn(f"{self.path.name}: skipped a frame with a damaged timestamp", 6)

    def _decoded_frames(self, container, stream, skip_below: list[int] | None) -> Iterator[av.VideoFrame]:
        """Every decodable frame from the current position, in the decoder's output order."""
        demux = container.demux(stream)
        disposable = _disposable_test(stream) if skip_below is not None else None
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.FFmpegError as err:
                self._warn(f"{self.path.name}: stopped at a damaged packet ({err})", 5)
                return
            if (disposable is not None and skip_below is not None and packet.size and packet.pts is not None
                    and packet.pts < skip_below[0]
                    and not packet.is_keyframe and disposable(packet)):
                continue
            try:
                frames = packet.decode()
            except av.error.FFmpegError as err:
                self._warn(f"{self.path.name}: skipped a damaged packet ({err})", 5)
                continue
            for frame in frames:
                if frame.is_corrupt:
                    self._warn(f"{self.path.name}: skipped a corrupt frame", 5)
                    continue
                yield frame

    def _warn(self, message: str, stacklevel: int) -> None:
        """A :class:`DecodeWarning`, raised here or, from a decode thread, in its caller's thread."""
        sink = self._warn_sinks.get(threading.get_ident())
        if sink is not None:
            sink(message)
        else:
            warnings.warn(message, DecodeWarning, stacklevel=stacklevel)

    def _frame_time(self, frame: av.VideoFrame, fallback_index: int) -> tuple[float, int]:
        if frame.pts is None:
            # No timestamp at all (rare raw streams): the index order is all there is.
            index = min(fallback_index, len(self._times) - 1)
            return float(self._times[index]), index
        index = self._index_of_pts(int(frame.pts))
        return (int(frame.pts) - self._first_pts) * float(self.time_base), index

    def iter_raw(
        self, start: float = 0.0, end: float | None = None, *, max_side: int | None = None,
        snapshots: Collection[int] = (), snapshot_side: int | None = None,
    ) -> Iterator[RawFrame]:
        """Decode every frame with ``start <= time < end`` in order, without colour conversion.

        Args:
            start: seconds from the first frame.
            end: stop before this time (None: to the end).
            max_side: the largest image the caller will ask :meth:`to_image` for. Frames whose
                display size exceeds it are scaled down right after decoding (still YUV, not
                colour-converted), so holding many of them costs little memory; times and
                indices are unchanged. None keeps every frame at full size.
            snapshots: indices of frames that also carry ``to_image(frame, snapshot_side)`` of
                the frame as decoded (:attr:`RawFrame.snapshot`): the same picture
                :meth:`frames_at` gives, taken from this pass's decoding (a few frames: each is
                converted in the decode thread).
            snapshot_side: the long side of those pictures.

        Returns:
            An iterator of :class:`RawFrame` (convert with :meth:`to_image`).
        """
        container, stream = self._open_decoder()
        wanted = frozenset(snapshots), snapshot_side
        shown = fit_within(*self._coded, max_side)
        depth = min(PREFETCH_FRAMES, PREFETCH_BYTES // max(1, shown[0] * shown[1] * 3 // 2))

        def produce(warn: Callable[[str], None]) -> Iterator[RawFrame]:
            self._warn_sinks[threading.get_ident()] = warn
            try:
                yield from self._raw_frames(container, stream, start, end, max_side, wanted)
            finally:
                self._warn_sinks.pop(threading.get_ident(), None)

        prefetch = _Prefetch(produce, depth) if depth >= 2 else None
        self._prefetch = prefetch
        try:
            yield from (prefetch if prefetch is not None
                        else self._raw_frames(container, stream, start, end, max_side, wanted))
        finally:
            if prefetch is not None:
                prefetch.close()
            self.close()

    def _raw_frames(self, container, stream, start: float, end: float | None, max_side: int | None,
                    snapshots: tuple[frozenset[int], int | None] = (frozenset(), None)) -> Iterator[RawFrame]:
        """The frames of :meth:`iter_raw` (run in its decode thread)."""
        decoder = self._decode_packets(container, stream)
        if start > 0:
            start_pts = self._first_pts + math.floor(start / float(self.time_base))
            k = bisect.bisect_right(self._key_pts, start_pts) - 1
            decoder = self._positioned(container, stream, k, start_pts, None, fresh=True)
        counter = 0
        for frame in decoder:
            time, index = self._frame_time(frame, counter)
            counter += 1
            if time < start - TIME_EPSILON:
                continue
            if end is not None and time >= end - TIME_EPSILON:
                return
            raw = self._raw_frame(frame, time, index, max_side)
            if index in snapshots[0]:
                raw = replace(raw, snapshot=self._image("snapshot", frame, snapshots[1]))
            yield raw

    def frames_at(
        self, targets: Iterable[float], *, max_side: int | None = None, scene_of=None
    ) -> Iterator[Frame]:
        """Exact frames for ascending target times: for each target t, the first frame whose
        time is >= t. Targets past the last frame yield nothing; two targets resolving to the
        same frame yield it once.

        Seeks to a keyframe only when the wanted frame's keyframe lies beyond the current
        decode position; otherwise decodes forward (colour-converting only the frames kept).

        Args:
            targets: ascending times in seconds.
            max_side: downscale so the long side is at most this many pixels.
            scene_of: optional callable time -> scene index.

        Returns:
            An iterator of :class:`Frame`.
        """
        wanted: list[int] = []
        for t in targets:
            i = self.index_at(max(0.0, float(t)))
            if i is not None and (not wanted or i > wanted[-1]):
                wanted.append(i)
        if not wanted:
            return
        container, stream = self._open_decoder()
        skip_below = [0]
        try:
            decoder: Iterator[av.VideoFrame] | None = None
            position = -1  # pts of the last frame decoded
            for i in wanted:
                want_pts = int(self._pts[i])
                skip_below[0] = want_pts
                k = bisect.bisect_right(self._key_pts, want_pts) - 1
                key_pts = self._key_pts[k] if k >= 0 else self._first_pts
                if decoder is None or key_pts > position:
                    decoder = self._positioned(container, stream, k, want_pts, skip_below, fresh=decoder is None)
                got = None
                for frame in decoder:
                    if frame.pts is None:
                        continue
                    position = int(frame.pts)
                    if position >= want_pts:
                        got = frame
                        break
                if got is None:
                    return
                got_pts = int(got.pts or 0)  # frames without a pts were filtered out above
                time = (got_pts - self._first_pts) * float(self.time_base)
                index = self._index_of_pts(got_pts)
                scene = scene_of(time) if scene_of else None
                yield Frame(time=time, index=index, image=self.to_image(got, max_side), scene=scene)
        finally:
            self.close()

    def _positioned(self, container, stream, k: int, want_pts: int, skip_below, *, fresh: bool) -> Iterator[av.VideoFrame]:
        """A frame iterator positioned at or before ``want_pts``.

        Seeks to keyframe ``k``; if the seek lands past the wanted frame (inexact seeking in
        damaged or index-less files), retries one keyframe earlier, then decodes from the start.
        """
        attempts = [k, k - 1] if k > 0 else []
        for attempt in attempts:
            try:
                container.seek(self._key_pts[attempt], stream=stream, backward=True, any_frame=False)
            except av.error.FFmpegError:
                break
            decoder = self._decode_packets(container, stream, skip_below)
            first = next((f for f in decoder if f.pts is not None), None)
            if first is not None and first.pts is not None and int(first.pts) <= want_pts:
                return itertools.chain([first], decoder)
            if first is not None and attempt == attempts[-1]:
                log.debug("%s: seek landed past the wanted frame; decoding from the start", self.path.name)
        if not fresh or attempts:
            try:
                container.seek(self._first_pts, stream=stream, backward=True, any_frame=False)
            except av.error.FFmpegError:
                container, stream = self._open_decoder()
        return self._decode_packets(container, stream, skip_below)

    def _frame_rotation(self, frame: av.VideoFrame) -> int:
        return _rotation_cw(frame.rotation) if frame.rotation else self._rotation

    def _conversion_size(self, frame: av.VideoFrame, rotation: int, max_side: int | None, sar: Fraction) -> tuple[int, int]:
        """(width, height) to scale ``frame`` to before rotation: display aspect, within ``max_side``."""
        disp_w, disp_h = fit_within(*display_size(frame.width, frame.height, sar, rotation), max_side)
        return (disp_h, disp_w) if rotation in (90, 270) else (disp_w, disp_h)

    def _raw_frame(self, frame: av.VideoFrame, time: float, index: int, max_side: int | None) -> RawFrame:
        """A :class:`RawFrame`, scaled down at once (still YUV) when it is larger than ``max_side``."""
        if max_side is None:
            return RawFrame(frame, time, index)
        rotation = self._frame_rotation(frame)
        conv_w, conv_h = self._conversion_size(frame, rotation, max_side, self._sar)
        full_w, full_h = self._conversion_size(frame, rotation, None, self._sar)
        if (conv_w, conv_h) == (full_w, full_h):
            return RawFrame(frame, time, index)
        small = self._convert("shrink", frame, width=conv_w, height=conv_h, interpolation="AREA")
        return RawFrame(small, time, index, display_ready=True)

    def _convert(self, site: str, frame: av.VideoFrame, **options) -> av.VideoFrame:
        """``frame.reformat(**options)`` through one colour converter per call site.

        PyAV's ``frame.reformat()`` and ``frame.to_ndarray(format=...)`` set up a fresh libswscale
        context (with its own thread pool) on every call and tear it down with the frame, which
        cost more than decoding. A converter kept here is set up again only when the sizes or
        formats it sees change, so each call site has its own; the options, and so the pixels,
        are those of ``frame.reformat(**options)``. Released by :meth:`close`.
        """
        converter = self._converters.get(site)
        if converter is None:
            converter = self._converters[site] = VideoReformatter()
        return converter.reformat(frame, **options)

    def to_image(self, frame: av.VideoFrame | RawFrame, max_side: int | None = None) -> np.ndarray:
        """Convert a decoded frame to an upright RGB array at display aspect ratio.

        Args:
            frame: a frame from this source, or a :class:`RawFrame` from :meth:`iter_raw`.
            max_side: downscale so the long side is at most this (never upscale).

        Returns:
            RGB uint8 array of shape (height, width, 3).
        """
        return self._image("image", frame, max_side)

    def _image(self, site: str, frame: av.VideoFrame | RawFrame, max_side: int | None) -> np.ndarray:
        """:meth:`to_image` through the converter of ``site`` (one per thread that converts)."""
        sar = self._sar
        if isinstance(frame, RawFrame):
            sar = Fraction(1) if frame.display_ready else sar
            frame = frame.frame
        rotation = self._frame_rotation(frame)
        # Convert straight to the target size (before rotation the axes are swapped).
        conv_w, conv_h = self._conversion_size(frame, rotation, max_side, sar)
        image: np.ndarray
        if (conv_w, conv_h) == (frame.width, frame.height):
            image = self._convert(site, frame, format="rgb24").to_ndarray()
        else:
            image = self._convert(site, frame, width=conv_w, height=conv_h, format="rgb24",
                                  interpolation="AREA").to_ndarray()
        if rotation:
            # np.rot90 turns counter-clockwise; a clockwise turn of r degrees is k = -r/90.
            image = np.ascontiguousarray(np.rot90(image, k=-rotation // 90))
        return image

    def small_bgr(self, frame: av.VideoFrame, width: int) -> np.ndarray:
        """A small BGR copy of a frame for detectors (about ``width`` wide, aspect kept, rotation ignored).

        For 8-bit 4:2:0 frames the planes are decimated in place and converted at the small
        size (no full-size conversion, ~20x cheaper than a scaler); other formats use the scaler.
        """
        if frame.format.name in _PLANAR_420 and frame.width >= 2 * width:
            step = 2 * max(1, round(frame.width / (2 * width)))
            luma = _plane(frame.planes[0], frame.height, frame.width)[::step, ::step]
            cw, ch = (frame.width + 1) // 2, (frame.height + 1) // 2
            u = _plane(frame.planes[1], ch, cw)[:: step // 2, :: step // 2]
            v = _plane(frame.planes[2], ch, cw)[:: step // 2, :: step // 2]
            h = min(luma.shape[0], u.shape[0], v.shape[0])
            w = min(luma.shape[1], u.shape[1], v.shape[1])
            yuv = np.dstack((luma[:h, :w], u[:h, :w], v[:h, :w]))
            return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)
        height = max(2, round(frame.height * width / max(1, frame.width)))
        return self._convert("small", frame, width=width, height=height, format="bgr24",
                             interpolation="FAST_BILINEAR").to_ndarray()

    def bgr(self, frame: av.VideoFrame) -> np.ndarray:
        """A frame as a BGR array at its decoded size, rotation ignored: ``frame.to_ndarray(format="bgr24")``
        (what PySceneDetect's detectors are fed) through a reused converter."""
        return self._convert("bgr", frame, format="bgr24").to_ndarray()

    def downscaled_bgr(self, frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
        """``cv2.resize(self.bgr(frame), (width, height), interpolation=cv2.INTER_LINEAR)``, pixel
        for pixel, colour-converting only the pixels the resize reads (8-bit 4:2:0 frames of even
        size, when they are under ``SPARSE_MAX_SHARE`` of the frame: a 720p frame shrunk to
        PySceneDetect's 256 wide converts 16 % of its pixels, a 4K one 2 %).

        The first frame of each size and format is also converted in full and compared; should the
        two ever differ, frames of that kind are converted in full from then on.
        """
        key = (frame.width, frame.height, frame.format.name, width, height,
               frame.colorspace, frame.color_range) if frame.format.name in _PLANAR_420 else None
        plan = self._sparse.get(key, None) if key is not None else None
        if key is not None and key not in self._sparse:
            plan = None
            if frame.width % 2 == 0 and frame.height % 2 == 0:
                plan = _SparsePlan.build(frame.width, frame.height, width, height)
                if plan.share > SPARSE_MAX_SHARE:
                    plan = None
            if plan is not None:
                full = cv2.resize(self.bgr(frame), (width, height), interpolation=cv2.INTER_LINEAR)
                if not np.array_equal(self._sparse_bgr(plan, frame), full):
                    log.debug("%s: partial conversion differs from the full one; converting in full", self.path.name)
                    plan = None
            self._sparse[key] = plan
        if plan is None:
            return cv2.resize(self.bgr(frame), (width, height), interpolation=cv2.INTER_LINEAR)
        return self._sparse_bgr(plan, frame)

    def _sparse_bgr(self, plan: _SparsePlan, frame: av.VideoFrame) -> np.ndarray:
        small = self._convert("sparse", plan.small_picture(frame), format="bgr24").to_ndarray()
        return plan.finish(small)

    # ----------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Release the decoder and the colour converters (safe to call twice)."""
        if self._prefetch is not None:  # its thread uses the decoder: stop it first
            prefetch, self._prefetch = self._prefetch, None
            prefetch.close()
        self._converters.clear()
        self._sparse.clear()
        if self._container is not None:
            try:
                self._container.close()
            finally:
                self._container = None

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        i = self.info
        return f"<VideoSource {self.path.name} {i.width}x{i.height} {i.duration:.2f}s {i.frame_count} frames>"


def probe(path: str | os.PathLike) -> VideoInfo:
    """Open a video just to read its :class:`VideoInfo`.

    Raises:
        VideoOpenError: see :func:`open_video`.
    """
    with open_video(path) as source:
        return source.info
