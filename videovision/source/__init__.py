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

The package: this module is :class:`VideoSource` (seeking and decoding); ``index.py`` reads the
packet index and the :class:`VideoInfo` when a video is opened; ``conversion.py`` turns decoded
frames into pictures; ``decode.py`` holds the decode-ahead thread and the non-reference packet
test. Files are opened through :func:`videovision.media.open_input`.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import os
import threading
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ..media import open_input
from ..types import Frame, VideoInfo
from .conversion import SPARSE_MAX_SHARE as SPARSE_MAX_SHARE
from .conversion import Converting, RawFrame, _SparsePlan, display_size, fit_within
from .conversion import _linear_taps as _linear_taps
from .conversion import _rotation_cw as _rotation_cw
from .decode import _disposable_test, _Prefetch
from .index import TRUNCATION_TOLERANCE as TRUNCATION_TOLERANCE
from .index import DecodeWarning, read_index

__all__ = ["DecodeWarning", "RawFrame", "VideoSource", "display_size", "fit_within", "open_video", "probe"]

log = logging.getLogger("videovision")

TIME_EPSILON = 1e-6
"""Seconds of slack when comparing a frame time with a target time (float rounding)."""
FRAME_THREADS_MAX_PIXELS = 3840 * 2160
"""Largest coded picture decoded with frame threads. Each frame thread holds pictures of its own
(measured with bench/bench_memory.py: about 95 MB per thread at 7680x4320), so larger pictures
are decoded with slice threads only, which keeps an 8K decode within the memory bound."""

PASS_SINGLE_THREAD_PIXELS = 640 * 360
"""Largest coded picture :meth:`VideoSource.iter_raw` decodes with one thread (when it decodes
ahead in a thread of its own): there the caller's analysis, not decoding, sets the pace and keeps the
other core busy, and FFmpeg's frame threads cost more CPU (2 cores, 3,000 frames of 640x360 H.264:
1.55 s CPU with one thread, 2.0 s with frame threads). Larger pictures keep frame threads: on a 720p
clip one thread saved 10-15 % CPU but decoding became the slowest stage, 1.17x the wall under load 4.
The frames are the same either way (decoding is exact)."""

PREFETCH_BYTES = 48 * 1024 * 1024
"""Decoded pixels (bytes of YUV) that :meth:`VideoSource.iter_raw` lets its decode thread run
ahead by: a few frames at most (``PREFETCH_FRAMES``), one 8K frame, so memory stays bounded."""
PREFETCH_FRAMES = 6
"""Most frames queued between the decode thread and the caller of :meth:`VideoSource.iter_raw`."""


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


class VideoSource(Converting):
    """An opened video: its :class:`VideoInfo`, its frame index, and exact-frame decoding.

    Not thread-safe; open one source per thread.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._container: av.container.InputContainer | None = None
        self._converters: dict[str, VideoReformatter] = {}
        self._warn_sinks: dict[int, Callable[[str], None]] = {}
        self._prefetch: _Prefetch | None = None
        self._sparse: dict[tuple, _SparsePlan | None] = {}
        index = read_index(self.path)
        self.info = index.info
        self.time_base = index.time_base
        self._stream_index = index.stream_index
        self._pts, self._first_pts, self._times, self._key_pts = index.pts, index.first_pts, index.times, index.key_pts
        self._sar, self._rotation, self._coded = index.sar, index.rotation, index.coded

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
    def _open_decoder(self, single: bool = False) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
        """A fresh decoder; ``single``: one decoding thread (``PASS_SINGLE_THREAD_PIXELS``)."""
        self.close()
        container = open_input(self.path)
        stream = container.streams.video[0]
        coded_w, coded_h = self._coded
        if single:
            stream.thread_type, stream.codec_context.thread_count = "NONE", 1
        else:
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
        shown = fit_within(*self._coded, max_side)
        depth = min(PREFETCH_FRAMES, PREFETCH_BYTES // max(1, shown[0] * shown[1] * 3 // 2))
        single = depth >= 2 and self._coded[0] * self._coded[1] <= PASS_SINGLE_THREAD_PIXELS
        container, stream = self._open_decoder(single)
        wanted = frozenset(snapshots), snapshot_side

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
