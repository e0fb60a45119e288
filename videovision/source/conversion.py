"""Colour conversion and display geometry of decoded frames (:class:`~videovision.source.VideoSource`).

Frames come out upright (rotation metadata applied) and at display aspect ratio (sample aspect
ratio applied), as RGB ``uint8`` arrays. Colour conversion happens only for frames that are kept,
straight to the requested size, through one libswscale converter per call site kept for the pass
(PyAV would set up a fresh one for every frame). Detectors get small BGR copies, converting only
the pixels a downscale reads where that is cheaper (:class:`_SparsePlan`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

log = logging.getLogger("videovision")

SPARSE_MAX_SHARE = 0.5
"""Largest share of a frame's pixels :meth:`VideoSource.downscaled_bgr` colour-converts before it
converts the whole frame instead (a frame barely larger than its downscale gains nothing)."""

SCALER_THREADS = 1
"""Threads of each libswscale converter for pictures up to ``SCALER_THREADS_MAX_PIXELS`` (PyAV's
default, 0, starts one per core for every picture: that costs more CPU than it saves, and the
decoder's frame threads already keep both cores busy; the pixels are the same). A 4K frame scaled
to 2048x1152 (AREA): 3.9 ms of CPU with one thread, 6.1 ms with PyAV's default; the 4K plan took
0.94x the wall and CPU time (bench_speed.py, median of 5). Larger pictures (8K, scaled in the
decode thread, where the scaling paces the pass) keep PyAV's default."""
SCALER_THREADS_MAX_PIXELS = 3840 * 2160

_PLANAR_420 = ("yuv420p", "yuvj420p")


def _plane(plane, height: int, width: int) -> np.ndarray:
    """A zero-copy view of one 8-bit picture plane (line padding cut off)."""
    return np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)[:height, :width]


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
    picks: tuple[np.ndarray, np.ndarray] | None = None
    """Whole-pixel case: the source rows and columns picked (the output is one pixel of each). Each
    goes to the top-left of its own 2x2 block of the small picture, with its chroma sample; the
    rest of the block is never read (and stays zero: :attr:`pictures`)."""
    pictures: dict[str, av.VideoFrame] | None = None
    """Whole-pixel case: the small picture, per pixel format, zeroed once and reused frame to frame."""

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
        picks = (np.asarray(row_taps), np.asarray(col_taps)) if pick_rows is not None else None
        return cls((out_w, out_h), pair_rows, pair_cols, luma_rows, share, pick_rows, pick_cols, put_index, buffer, {},
                   picks, {})

    def small_picture(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The gathered 2x2 blocks as a 4:2:0 frame of the same format, colorspace and range."""
        if self.picks is not None:
            return self._picked_picture(frame)
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

    def _picked_picture(self, frame: av.VideoFrame) -> av.VideoFrame:
        """Whole-pixel case: each picked pixel and its chroma sample as one 2x2 block (top-left)."""
        assert self.picks is not None and self.pictures is not None
        out_w, out_h = self.size
        sub = self.pictures.get(frame.format.name)
        if sub is None:
            sub = self.pictures[frame.format.name] = av.VideoFrame(2 * out_w, 2 * out_h, frame.format.name)
            for k in range(3):
                np.frombuffer(memoryview(sub.planes[k]), np.uint8)[:] = 0
        sub.colorspace, sub.color_range = frame.colorspace, frame.color_range
        strides = tuple(frame.planes[k].line_size for k in range(3))
        index = self.gathers.get(strides)
        if index is None:
            rows, cols = self.picks
            index = self.gathers[strides] = (
                (rows[:, None] * strides[0] + cols[None, :]).ravel(),
                *((rows[:, None] // 2 * strides[k] + cols[None, :] // 2).ravel() for k in (1, 2)))
        for k in range(3):
            picked = np.frombuffer(memoryview(frame.planes[k]), np.uint8).take(index[k]).reshape(out_h, out_w)
            target = _plane_rows(sub.planes[k], 2 * out_h if k == 0 else out_h, 2 * out_w if k == 0 else out_w)
            if k == 0:
                target[::2, ::2] = picked
            else:
                target[:] = picked
        return sub

    def finish(self, small_bgr: np.ndarray) -> np.ndarray:
        """The downscaled picture from the small picture's BGR pixels."""
        if self.picks is not None:
            # the top-left pixel of every 2x2 block (OpenCV's nearest neighbour halving: source 2 d)
            return cv2.resize(small_bgr, self.size, interpolation=cv2.INTER_NEAREST)
        if self.pick_rows is not None and self.pick_cols is not None:
            return small_bgr.take(self.pick_rows, 0).take(self.pick_cols, 1)
        groups = np.ascontiguousarray(small_bgr).reshape(-1).view("V6")
        self.buffer.reshape(-1).view("V6").put(self.put_index, groups)
        return cv2.resize(self.buffer, self.size, interpolation=cv2.INTER_LINEAR)


def _plane_rows(plane, height: int, width: int) -> np.ndarray:
    """A writable view of a plane's first ``height`` rows, ``width`` bytes each."""
    return np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)[:height, :width]


class Converting:
    """The conversion half of :class:`~videovision.source.VideoSource` (a mixin: it reads the
    source's geometry and keeps its converters)."""

    path: Path
    _sar: Fraction
    _rotation: int
    _converters: dict[str, VideoReformatter]
    _sparse: dict[tuple, _SparsePlan | None]

    def _frame_rotation(self, frame: av.VideoFrame) -> int:
        return _rotation_cw(frame.rotation) if frame.rotation else self._rotation

    def _conversion_size(self, frame: av.VideoFrame, rotation: int, max_side: int | None, sar: Fraction) -> tuple[int, int]:
        """(width, height) to scale ``frame`` to before rotation: display aspect, within ``max_side``."""
        disp_w, disp_h = fit_within(*display_size(frame.width, frame.height, sar, rotation), max_side)
        return (disp_h, disp_w) if rotation in (90, 270) else (disp_w, disp_h)

    def _raw_frame(self, frame: av.VideoFrame, time: float, index: int, max_side: int | None,
                   site: str = "shrink") -> RawFrame:
        """A :class:`RawFrame`, scaled down at once (still YUV) when it is larger than ``max_side``."""
        if max_side is None:
            return RawFrame(frame, time, index)
        rotation = self._frame_rotation(frame)
        conv_w, conv_h = self._conversion_size(frame, rotation, max_side, self._sar)
        full_w, full_h = self._conversion_size(frame, rotation, None, self._sar)
        if (conv_w, conv_h) == (full_w, full_h):
            return RawFrame(frame, time, index)
        small = self._convert(site, frame, width=conv_w, height=conv_h, interpolation="AREA")
        return RawFrame(small, time, index, display_ready=True)

    def shrunk(self, raw: RawFrame, max_side: int | None) -> RawFrame:
        """``raw`` as :meth:`VideoSource.iter_raw` with ``max_side`` would have given it: scaled
        down (still YUV) when its display size exceeds ``max_side``, the same pixels. For frames
        held a while (candidates) out of a pass decoded at full size; called from one thread."""
        if raw.display_ready:
            return raw
        return self._raw_frame(raw.frame, raw.time, raw.index, max_side, site="held")

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
        threads = SCALER_THREADS if frame.width * frame.height <= SCALER_THREADS_MAX_PIXELS else 0
        return converter.reformat(frame, threads=threads, **options)

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
