"""Looking at pictures cheaply: small grey copies, hashes, blank/fade checks, repeats, duplicates.

Every check here works on a small grey copy of a frame (a *thumb*), so it costs microseconds and
holds a few kilobytes per frame, whatever the video's resolution.

Measured thresholds (generated slide talk, ``samples/generate.py`` ``generate_screen_clip`` with
pointer, clock and webcam thumbnail, 640x360, every 7th frame paired with every other; share of a
128-wide grey copy's pixels differing by more than 16 grey levels):

    same slide (pointer moved, clock ticked, webcam moving)    <= 0.84 %
    same slide, one more bullet revealed                       >= 1.11 %
    next slide of the same template                            >= 1.93 %

so ``DEFAULT_DEDUP_CHANGE`` = 1.0 % keeps every slide and every reveal and drops only repeats.
A 64-bit difference hash cannot tell slides of one template apart (they hash alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import defaults
from ..types import DuplicateDrop

THUMB_WIDTH = 128
"""Width of the grey copy used for duplicate checks (aspect kept)."""
REPEAT_WIDTH = 64
"""Width of the grey copy used for the repeat check (mean absolute difference)."""
PIXEL_CHANGE = 16
"""Grey levels (of 255) a pixel must move by to count as changed (above coding noise)."""
DEFAULT_DEDUP_CHANGE: float = defaults.DEDUP_CHANGE
"""Percent of changed pixels at or below which a frame duplicates a kept one (see module doc)."""
REPEAT_MAD = 0.01 * 255
"""Mean absolute difference (grey levels) below which two pictures may be practically identical;
they are when, besides, at most ``DEFAULT_DEDUP_CHANGE`` percent of the pixels changed (on slides
a new bullet or even a new slide of the same template stays under 1 % mean difference)."""
BLANK_STD = 3.0
"""Grey-level standard deviation below which a picture is blank (black, white, one colour)."""
EDGE_STEP = 8
"""Grey levels between neighbouring pixels of the ``THUMB_WIDTH``-wide copy that make an edge
(a stroke of text, the border of an object). Sensor noise and grain, averaged by the downscale,
stay well under it; white or grey text on a dark theme (#1e1e1e) is far above it."""
BLANK_EDGES = 0.1
"""Percent of edge pixels below which a picture shows no structure: blank. Darkness alone is not
blankness: a dark-theme slide, a dark editor, night footage or a deep-blue scene is a picture; a
name badge on black is a picture too. A black or one-colour frame (grain included) has none."""
FADE_RATIO = 0.9
"""A frame whose mean brightness is below this share of the brightest frame near it (before it in
its scene, decaying with ``FADE_MEMORY``, or within ``FADE_CONTEXT`` after it) is taken to be
(partly) faded: it is not picked."""
FADE_MEMORY = 10.0
"""Seconds over which the brightness reference decays (slow lighting changes are not fades)."""
FADE_CONTEXT = 2.0
"""Seconds after a frame where a brighter frame marks it as part of a fade-in."""
CONTENT_CHANGE = 0.1
"""At the default ``DEFAULT_DEDUP_CHANGE``, a change larger than this share of a picture's edge
pixels (``structure``) is new content even when it is under 1 % of the picture: a new title on a
title-only slide changes 0.9-1.7 % of the pixels but 0.5-0.8 of its structure; the same slide with
the pointer, clock and webcam moving at most 0.07 of it (generated slide talk). Scaled with the
threshold, so ``dedup_threshold`` keeps its meaning."""
DEDUP_MEMORY = 256
"""Kept pictures a new frame is compared with (the most recent ones; bounded memory and time)."""


def grey(image: np.ndarray, width: int, *, bgr: bool = False) -> np.ndarray:
    """A small grey copy ``width`` wide (aspect kept), uint8."""
    g = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY)
    h = max(1, round(g.shape[0] * width / max(1, g.shape[1])))
    return cv2.resize(g, (width, h), interpolation=cv2.INTER_AREA)


def dhash(image: np.ndarray) -> int:
    """64-bit difference hash of an RGB image (perceptual; robust to scaling and compression)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def hamming(a: int, b: int) -> int:
    return int((a ^ b).bit_count())


def changed_percent(a: np.ndarray, b: np.ndarray) -> float:
    """Percent of pixels of two same-size grey copies that differ by more than ``PIXEL_CHANGE``."""
    return 100.0 * float(np.count_nonzero(cv2.absdiff(a, b) > PIXEL_CHANGE)) / a.size


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two same-size grey copies, in grey levels."""
    return float(cv2.absdiff(a, b).mean())


@dataclass(frozen=True)
class Look:
    """What the pickers need to know about a candidate picture."""

    sharpness: float
    """Variance of the Laplacian (higher: sharper, and not faded)."""
    brightness: float
    contrast: float
    repeat_thumb: np.ndarray
    """``REPEAT_WIDTH``-wide grey copy for the repeat check."""
    change_thumb: np.ndarray
    """``THUMB_WIDTH``-wide grey copy for the changed-pixel check."""

    structure: float
    """Percent of edge pixels (``EDGE_STEP``) of ``change_thumb``: 0 for an empty picture."""

    @property
    def blank(self) -> bool:
        """Empty: black, white or one colour, with no edge, text or object (however dark or bright).
        Fades are not judged here but relative to their scene (:func:`is_clean`)."""
        return self.contrast < BLANK_STD or self.structure < BLANK_EDGES


def look(small_bgr: np.ndarray) -> Look:
    """Measure a small BGR copy of a frame (as the detectors see it)."""
    g = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2GRAY)
    mean, std = cv2.meanStdDev(g)
    change = grey(g, THUMB_WIDTH)
    return Look(
        sharpness=float(cv2.Laplacian(g, cv2.CV_32F).var()),
        brightness=float(mean[0, 0]),
        contrast=float(std[0, 0]),
        repeat_thumb=grey(g, REPEAT_WIDTH),
        change_thumb=change,
        structure=structure(change),
    )


def structure(thumb: np.ndarray) -> float:
    """Percent of pixels of a small grey copy that differ from their right or lower neighbour by
    more than ``EDGE_STEP`` grey levels."""
    edges = np.zeros(thumb.shape, bool)
    edges[:, :-1] |= cv2.absdiff(thumb[:, 1:], thumb[:, :-1]) > EDGE_STEP
    edges[:-1, :] |= cv2.absdiff(thumb[1:, :], thumb[:-1, :]) > EDGE_STEP
    return 100.0 * float(np.count_nonzero(edges)) / thumb.size


def same_content(changed: float, structure: float, threshold: float = DEFAULT_DEDUP_CHANGE) -> bool:
    """Whether a change of ``changed`` percent of the pixels between two pictures whose larger edge
    share is ``structure`` leaves the same picture: at most ``threshold`` percent, and at most
    ``CONTENT_CHANGE`` of the content (both scaled with ``threshold``)."""
    return changed <= threshold and changed <= CONTENT_CHANGE * structure * threshold / DEFAULT_DEDUP_CHANGE


def same_picture(a: Look, b: Look) -> bool:
    """Practically identical pictures: a repeat, not worth another image."""
    return (mean_abs_diff(a.repeat_thumb, b.repeat_thumb) < REPEAT_MAD
            and same_content(changed_percent(a.change_thumb, b.change_thumb), max(a.structure, b.structure)))


def is_clean(candidate: Look, reference_brightness: float) -> bool:
    """Not blank and not faded relative to ``reference_brightness`` (the brightest picture near it)."""
    return not candidate.blank and candidate.brightness >= FADE_RATIO * reference_brightness


class Dedup:
    """Drops a frame when its picture matches any kept picture (not only the last one).

    Compares a ``THUMB_WIDTH``-wide grey copy with the most recent ``DEDUP_MEMORY`` kept copies;
    a frame whose changed-pixel share is at most ``threshold`` percent against one of them is a
    duplicate of it.
    """

    def __init__(self, threshold: float = DEFAULT_DEDUP_CHANGE):
        self.threshold = threshold
        self._ring: np.ndarray | None = None
        self._structure = np.zeros(DEDUP_MEMORY)
        self._times: list[float] = []
        self._next = 0

    def check(self, time: float, image: np.ndarray) -> DuplicateDrop | None:
        """None when the picture is new (it is then remembered), else what it duplicates."""
        thumb = grey(image, THUMB_WIDTH)
        own = structure(thumb)
        if self._ring is None or self._ring.shape[1:] != thumb.shape:
            self._ring = np.empty((DEDUP_MEMORY, *thumb.shape), np.uint8)
            self._times, self._next = [], 0
        n = len(self._times)
        if n:
            kept = self._ring[:n]
            diff = np.maximum(kept, thumb) - np.minimum(kept, thumb)  # |a - b| without widening
            percent = 100.0 * np.count_nonzero((diff > PIXEL_CHANGE).reshape(n, -1), axis=1) / thumb.size
            best = int(np.argmin(percent))
            if same_content(float(percent[best]), max(own, float(self._structure[best])), self.threshold):
                return DuplicateDrop(time=time, same_as=self._times[best], change=round(float(percent[best]), 3))
        slot = self._next % DEDUP_MEMORY
        self._ring[slot] = thumb
        self._structure[slot] = own
        if n < DEDUP_MEMORY:
            self._times.append(time)
        else:
            self._times[slot] = time
        self._next += 1
        return None
