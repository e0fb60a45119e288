"""Scene detectors: PySceneDetect's own (used exactly as ``scenedetect.detect`` uses them) and a
screen/slide change detector that plugs into the same ``SceneDetector`` interface.

Which detector runs (:func:`choose_detection`):

* an explicit ``detector`` or ``threshold`` -> that PySceneDetect detector with PySceneDetect's
  own defaults for anything not given, fed the frames ``SceneManager`` would feed it (its
  automatic downscale, see :func:`pyscenedetect_frame`): the same cuts as
  ``scenedetect.detect(path, XDetector(...))`` on constant-frame-rate files;
* ``preset="film"`` -> ``AdaptiveDetector()`` the same way;
* ``preset="screen"`` -> :class:`ScreenDetector`;
* ``preset="auto"`` -> screen when the footage (:func:`measure_footage`, over the whole range)
  moves little, repeats exactly where it does not change and is mostly flat colour; otherwise
  camera footage (sensor noise, grain, gradients — a static camera included): film.
"""

from __future__ import annotations

import bisect
import inspect
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import cv2
import numpy as np
from scenedetect import (
    AdaptiveDetector,
    ContentDetector,
    FrameTimecode,
    HashDetector,
    HistogramDetector,
    SceneDetector,
    ThresholdDetector,
)

from ..errors import ConfigError
from ..types import DetectorName, SamplingConfig

if TYPE_CHECKING:
    from ..source import VideoSource

class _SameScore:
    """``ContentDetector._calculate_frame_score``, the same number for less work (a mixin ahead
    of PySceneDetect's class).

    PySceneDetect splits the HSV picture into three planes and takes each plane's mean absolute
    difference from the previous picture through int32 copies (3 casts, a subtraction, an
    ``abs`` and a sum a plane: on a 5-min 360p clip 3 s of CPU, as much as the rest of the
    analysis). Here one ``cv2.absdiff`` of the two HSV pictures and one ``cv2.sumElems`` give the
    three sums, exact integers either way, divided by the same pixel count and weighted in the same
    order: the score is the same float, so every cut is. With edges weighted or a stats manager
    attached, PySceneDetect's own code runs (it also needs the edge planes).
    """

    _weights: ContentDetector.Components
    stats_manager: object
    _previous_hsv: np.ndarray | None = None

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: np.ndarray) -> float:
        if self._weights.delta_edges > 0.0 or self.stats_manager is not None:
            return super()._calculate_frame_score(timecode, frame_img)  # type: ignore[misc]
        hsv = cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV)
        previous, self._previous_hsv = self._previous_hsv, hsv
        if previous is None:
            return 0.0
        sums = cv2.sumElems(cv2.absdiff(hsv, previous))
        pixels = float(hsv.shape[0] * hsv.shape[1])
        components = (sums[0] / pixels, sums[1] / pixels, sums[2] / pixels, 0.0)
        return sum(component * weight for component, weight in zip(components, self._weights, strict=True)) / sum(
            abs(weight) for weight in self._weights)


class SameScoreAdaptiveDetector(_SameScore, AdaptiveDetector):
    """PySceneDetect's ``AdaptiveDetector``, its frame score computed as :class:`_SameScore` does."""


class SameScoreContentDetector(_SameScore, ContentDetector):
    """PySceneDetect's ``ContentDetector``, its frame score computed as :class:`_SameScore` does."""


DETECTOR_CLASSES: dict[str, type[SceneDetector]] = {
    "adaptive": SameScoreAdaptiveDetector,
    "content": SameScoreContentDetector,
    "threshold": ThresholdDetector,
    "hash": HashDetector,
    "histogram": HistogramDetector,
}
THRESHOLD_ARGUMENT = {"adaptive": "adaptive_threshold"}
"""Constructor argument that takes ``threshold`` (``threshold`` unless listed)."""
FILM_DETECTOR: DetectorName = "adaptive"
"""The PySceneDetect detector of the film preset (and of a bare ``threshold``)."""
PYSCENEDETECT_MIN_WIDTH = 256
"""``scenedetect.scene_manager.DEFAULT_MIN_WIDTH``: frames are downscaled towards this width."""

# ---- the screen detector (measured on generate_screen_clip: see tests/test_screen.py)
SCREEN_WIDTH = 160
"""Width of the grey copy the screen detector compares."""
SCREEN_TRIGGER = 0.4
"""Percent of steady pixels that must differ from the reference picture to look for a change."""
SCREEN_CUT = 0.6
"""Percent of steady pixels that must differ once the picture has settled for a cut (with some
ink removed, i.e. not a pure addition: see ``SCREEN_ADDITIVE``)."""
SCREEN_BIG = 10.0
"""Percent above which a change is a cut even when it only adds (switching to another window)."""
SCREEN_ADDITIVE = 0.3
"""A change whose share of pixels that had ink (differed from the background) is below this only
adds content (a bullet revealed): the slide goes on, its last state is picked. Measured on
generate_screen_clip: reveals 0.07-0.16, slide changes 0.40-0.85 (but 0.22-0.36 from a title-only
slide or between files of an editor: see ``SCREEN_KEPT``)."""
SCREEN_KEPT = 0.05
"""... and that changes less than this share of the ink already there (a reveal leaves the slide
in place). Measured: reveals 0.00-0.01; slide changes and file switches 0.11-0.99 (a title-only
slide followed by a bullet slide removes little ink relative to what it adds, but changes all of
the old title)."""
SCREEN_SETTLE = 0.25
"""Seconds the picture must stay still (frame to frame) before a change is judged."""
SCREEN_MAX_SETTLE = 2.0
"""Seconds after which a change is judged even if the picture has not settled."""
SCREEN_STILL = 0.3
"""Percent of steady pixels changing frame to frame below which the picture counts as still."""
VOLATILE_SECONDS = 3.0
"""Time constant of the per-pixel change memory (webcam thumbnails, video players, clocks)."""
VOLATILE_LEVEL = 2.5
"""Changes per time constant above which a pixel is volatile and ignored."""

# ---- automatic preset (measured on real clips and the samples: see docs/facts.md, "Screen or camera")
MOTION_PROBES = 8
"""Places, spread over the whole range, where the footage is measured."""
MOTION_SPAN = 0.5
"""Seconds between the two frames of a motion probe."""
MOTION_WIDTH = 160
FOOTAGE_SIDE = 320
"""Longest side the probe frames are decoded at for the static and flat shares."""
SCREEN_MOTION = 5.0
"""Median percent of pixels changing over ``MOTION_SPAN`` at or above which footage is film/camera
whatever else it shows (slide talks with pointer, clock and webcam 0-2.5 %; film 16-66 %; a static
street camera 4 %)."""
SCREEN_STATIC = 90.0
"""Median percent of pixels bit-identical between a frame and the next one at or above which the
picture may be a screen. Screen content repeats exactly where it does not change (99-100 % on
slide talks and editors); camera sensors add noise to every frame (a static street camera 78 %,
a tree 38 %, handheld clips 48-57 %)."""
SCREEN_FLAT = 30.0
"""Median percent of pixels whose 3x3 neighbourhood is one exact grey level, at or above which the
picture may be a screen (flat colours: 77-98 % on slides and editors; camera footage carries
grain and smooth gradients: 0.3-26 % on real clips)."""


def pyscenedetect_defaults(name: DetectorName) -> dict[str, object]:
    """The constructor defaults of a PySceneDetect detector (read from PySceneDetect, not copied)."""
    params = inspect.signature(DETECTOR_CLASSES[name].__init__).parameters
    return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}


def min_scene_frames(seconds: float, fps: float) -> int:
    """``min_scene_len`` in frames: seconds x frame rate rounded to the nearest frame (halves up)."""
    return math.floor(seconds * fps + 0.5)


def frame_rate(fps: float) -> Fraction:
    """The nominal frame rate as PySceneDetect's OpenCV backend reports it (25, 30000/1001 ...)."""
    return Fraction(fps).limit_denominator(1001)


def make_detector(config: SamplingConfig, fps: float) -> SceneDetector:
    """The PySceneDetect detector ``config`` names (``detector``, else the film detector), with
    ``threshold`` and ``min_scene_len`` (in frames) passed through; PySceneDetect's defaults for
    anything not given.

    Raises:
        ConfigError: unknown detector.
    """
    name = config.detector or FILM_DETECTOR
    if name not in DETECTOR_CLASSES:
        raise ConfigError(f"unknown detector {name!r}: choose one of {', '.join(DETECTOR_CLASSES)}")
    kwargs: dict[str, object] = {"min_scene_len": min_scene_frames(config.min_scene_len, fps)}
    if config.threshold is not None:
        kwargs[THRESHOLD_ARGUMENT.get(name, "threshold")] = float(config.threshold)
    return DETECTOR_CLASSES[name](**kwargs)


def pyscenedetect_size(width: int, height: int) -> tuple[int, int]:
    """The size ``SceneManager`` (auto downscale, PySceneDetect 0.7) gives detectors for a frame."""
    longest = max(width, height)
    if longest < PYSCENEDETECT_MIN_WIDTH:
        return width, height
    factor = longest / float(PYSCENEDETECT_MIN_WIDTH)
    return max(1, round(width / factor)), max(1, round(height / factor))


def pyscenedetect_frame(bgr: np.ndarray) -> np.ndarray:
    """Downscale a full-size BGR frame as ``SceneManager`` does (``cv2.resize``, linear)."""
    w, h = pyscenedetect_size(bgr.shape[1], bgr.shape[0])
    if (w, h) == (bgr.shape[1], bgr.shape[0]):
        return bgr
    return cv2.resize(bgr, (w, h), interpolation=cv2.INTER_LINEAR)


# --------------------------------------------------------------------------- screen detector
class ScreenDetector(SceneDetector):
    """Slide and screen changes in low-motion footage, as a PySceneDetect ``SceneDetector``.

    Keeps a reference picture (the last settled state) as a ``SCREEN_WIDTH``-wide grey copy and a
    per-pixel memory of recent frame-to-frame changes. Pixels that keep changing (a webcam
    thumbnail, a video playing in a window, a ticking clock) are volatile and ignored. When enough
    steady pixels differ from the reference, it waits for the picture to settle, then judges the
    change against the reference: a cut (reported at the first frame that changed) when enough
    pixels changed and some ink was removed or replaced, or when most of the picture changed; a
    reveal (content only added) otherwise; nothing when it was only a pointer or a transient.
    The reference then becomes the settled picture. A moving pointer changes too few pixels.
    """

    def __init__(self, min_scene_len: float = 0.6, fps: float = 30.0):
        super().__init__()
        self.min_scene_len = min_scene_len
        self._fps = fps
        self._ref: np.ndarray | None = None
        self._prev: np.ndarray | None = None
        self._prev_time = 0.0
        self._volatile: np.ndarray | None = None
        self._change_at: FrameTimecode | None = None
        self._change_time = 0.0
        self._still_since: float | None = None
        self._last_cut = -math.inf
        self.reveals: list[float] = []
        """Times where content was only added to the picture (bullets revealed)."""

    @property
    def event_buffer_length(self) -> int:
        return math.ceil((SCREEN_MAX_SETTLE + SCREEN_SETTLE) * self._fps) + 2

    def process_frame(self, timecode: FrameTimecode, frame_img: np.ndarray) -> list[FrameTimecode]:
        cur = _grey_copy(frame_img, SCREEN_WIDTH)
        t = float(timecode.seconds)
        if self._ref is None or self._prev is None or self._volatile is None or cur.shape != self._ref.shape:
            self._ref, self._prev = cur, cur
            self._volatile = np.zeros(cur.shape, np.float32)
            self._prev_time = t
            return []
        steady = self._volatile < VOLATILE_LEVEL
        moving = _changed(cur, self._prev) & steady
        self._volatile *= math.exp(-max(t - self._prev_time, 0.0) / VOLATILE_SECONDS)
        self._volatile += moving
        still = 100.0 * np.count_nonzero(moving) / cur.size < SCREEN_STILL
        self._prev, self._prev_time = cur, t
        cuts: list[FrameTimecode] = []
        if self._change_at is None:
            if _percent(_changed(cur, self._ref) & steady) >= SCREEN_TRIGGER:
                self._change_at, self._change_time = timecode, t
                self._still_since = t if still else None
            return cuts
        if not still:
            self._still_since = None
        elif self._still_since is None:
            self._still_since = t
        settled = self._still_since is not None and t - self._still_since >= SCREEN_SETTLE - 1e-9
        if settled or t - self._change_time >= SCREEN_MAX_SETTLE:
            cut = self._judge(cur, steady)
            if cut and self._change_time - self._last_cut >= self.min_scene_len - 1e-9:
                cuts.append(self._change_at)
                self._last_cut = self._change_time
            self._ref, self._change_at = cur, None
        return cuts

    def _judge(self, cur: np.ndarray, steady: np.ndarray) -> bool:
        """Whether the settled picture ``cur`` is a new slide/screen (True) or the same one."""
        assert self._ref is not None
        changed = _changed(cur, self._ref) & steady
        percent = _percent(changed)
        if percent >= SCREEN_BIG:
            return True
        if percent < SCREEN_CUT:
            return False
        background = int(np.argmax(np.bincount(self._ref.ravel(), minlength=256)))
        ink = cv2.absdiff(self._ref, np.full_like(self._ref, background)) > 2 * 16
        lost_pixels = int(np.count_nonzero(changed & ink))
        removed = lost_pixels / max(1, int(np.count_nonzero(changed)))
        lost = lost_pixels / max(1, int(np.count_nonzero(ink & steady)))
        if removed < SCREEN_ADDITIVE and lost < SCREEN_KEPT:
            self.reveals.append(self._change_time)
            return False
        return True


def _grey_copy(bgr: np.ndarray, width: int) -> np.ndarray:
    g = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    h = max(1, round(g.shape[0] * width / max(1, g.shape[1])))
    return cv2.resize(g, (width, h), interpolation=cv2.INTER_AREA)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.absdiff(a, b) > 16


def _percent(mask: np.ndarray) -> float:
    return 100.0 * float(np.count_nonzero(mask)) / mask.size


# --------------------------------------------------------------------------- choosing
@dataclass(frozen=True)
class Detection:
    """The detector chosen for a run, and why."""

    detector: SceneDetector
    preset: str
    """``screen``, ``film`` or ``detector`` (an explicit PySceneDetect detector/threshold)."""
    reason: str
    pyscenedetect_input: bool
    """Feed full-size frames downscaled as PySceneDetect does (parity) rather than the fast copy."""


@dataclass(frozen=True)
class Footage:
    """What tells a screen recording from camera footage, measured over the whole range (medians
    over ``MOTION_PROBES`` places)."""

    motion: float
    """Percent of the picture that changes (by more than 16 grey levels) within ``MOTION_SPAN``."""
    static: float
    """Percent of pixels bit-identical between a frame and the next one (no sensor noise)."""
    flat: float
    """Percent of pixels in flat colour (a 3x3 neighbourhood of one grey level)."""

    @property
    def screen(self) -> bool:
        """Low motion, noise-free and flat: a screen recording (slides, editors, a camera-off meeting)."""
        return self.motion < SCREEN_MOTION and self.static >= SCREEN_STATIC and self.flat >= SCREEN_FLAT

    def explain(self) -> str:
        """Why, in one clause (``plan`` shows it)."""
        facts = (f"{self.static:.0f} % of pixels identical frame to frame, {self.flat:.0f} % in flat colour, "
                 f"{self.motion:.1f} % changing within {MOTION_SPAN:g} s")
        if self.screen:
            return f"screen recording ({facts})"
        if self.motion >= SCREEN_MOTION:
            why = f"motion at or above {SCREEN_MOTION:g} %"
        elif self.static < SCREEN_STATIC:
            why = f"sensor noise: under {SCREEN_STATIC:g} % identical"
        else:
            why = f"gradients and grain: under {SCREEN_FLAT:g} % flat"
        return f"film/camera footage ({facts}; {why})"


@dataclass(frozen=True)
class FootageProbe:
    """Where :func:`measure_footage` looks: per probe place (first frame, the frame after it or None,
    the first frame ``MOTION_SPAN`` later), as frame times, and every frame time it needs."""

    places: tuple[tuple[float, float | None, float], ...]
    targets: tuple[float, ...]

    @classmethod
    def of(cls, source: VideoSource, start: float, end: float) -> FootageProbe:
        times = source.frame_times
        span = end - start
        probes = [start + (i + 0.5) * span / MOTION_PROBES for i in range(MOTION_PROBES)]
        places: list[tuple[float, float | None, float]] = []
        for p in probes:
            i = int(np.searchsorted(times, p - 1e-6, side="left"))
            if i >= len(times) or times[i] >= end:
                continue
            nxt = float(times[i + 1]) if i + 1 < len(times) and times[i + 1] < end else None
            places.append((float(times[i]), nxt, min(p + MOTION_SPAN, end - 1e-6)))
        targets = sorted({t for a, b, m in places for t in (a, b, m) if t is not None})
        return cls(tuple(places), tuple(targets))

    def indices(self, source: VideoSource) -> list[int]:
        """The frames (indices) that hold the targets: what ``frames_at(targets)`` decodes and keeps."""
        found = (source.index_at(max(0.0, t)) for t in self.targets)
        return sorted({i for i in found if i is not None})

    def decode_cost(self, source: VideoSource) -> int:
        """Frames ``frames_at(targets)`` decodes (at most: it skips some non-reference pictures):
        from the keyframe before each wanted frame, or forward from the last one decoded."""
        pts, keys = source.frame_pts, source.keyframe_pts
        cost, position = 0, -1
        for i in self.indices(source):
            k = bisect.bisect_right(keys, int(pts[i])) - 1
            key = int(np.searchsorted(pts, keys[k])) if k >= 0 else 0
            if key > position:
                cost += i - key + 1
            else:
                cost += i - position
            position = i
        return cost

    def footage(self, greys: dict[float, np.ndarray]) -> Footage:
        """The measures from the probe frames (grey, decoded at ``FOOTAGE_SIDE``) by frame time."""
        ordered = sorted(greys)

        def at(t: float) -> float | None:
            i = bisect.bisect_left(ordered, t - 1e-6)
            return ordered[i] if i < len(ordered) else None

        motion, static, flat = [], [], []
        kernel = np.ones((3, 3), np.uint8)
        for a, b, m in self.places:
            ta = at(a)
            if ta is None:
                continue
            g = greys[ta]
            flat.append(_percent(cv2.dilate(g, kernel) == cv2.erode(g, kernel)))
            tb = at(b) if b is not None else None
            if tb is not None and tb > ta and greys[tb].shape == g.shape:
                static.append(_percent(greys[tb] == g))
            tm = at(m)
            if tm is not None and tm > ta and greys[tm].shape == g.shape:
                motion.append(_percent(_changed(_grey_copy(g, MOTION_WIDTH), _grey_copy(greys[tm], MOTION_WIDTH))))

        def median(values: list[float]) -> float:
            return float(np.median(values)) if values else 0.0

        # one frame (no pair to compare): a still picture, judged by its flat share alone
        return Footage(median(motion), median(static) if static else 100.0, median(flat))


def footage_grey(rgb: np.ndarray) -> np.ndarray:
    """A probe frame (RGB at ``FOOTAGE_SIDE``) as the grey picture :meth:`FootageProbe.footage` measures."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def measure_footage(source: VideoSource, start: float, end: float) -> Footage:
    """Measure motion, the static share and the flat share at ``MOTION_PROBES`` places of [start, end).

    Each probe decodes three frames at ``FOOTAGE_SIDE``: the first frame at the probe's time, the
    frame after it (static share), and the first frame ``MOTION_SPAN`` later (motion). The scene
    pass takes the same frames from its own decoding instead when these decodes would cost more
    than a small share of it (see :mod:`.scenes`); the measures are the same.
    """
    probe = FootageProbe.of(source, start, end)
    greys = {f.time: footage_grey(f.image) for f in source.frames_at(probe.targets, max_side=FOOTAGE_SIDE)}
    return probe.footage(greys)


def measure_motion(source: VideoSource, start: float, end: float) -> float:
    """Median percent of pixels that change over ``MOTION_SPAN`` seconds (see :func:`measure_footage`)."""
    return measure_footage(source, start, end).motion


def choose_detection(config: SamplingConfig, source: VideoSource, start: float, end: float,
                     footage: Footage | None = None) -> Detection:
    """Pick the detector for ``config`` (see the module docstring); ``footage``: the ``auto``
    preset's measures when already taken (else :func:`measure_footage` takes them).

    Raises:
        ConfigError: ``preset="screen"`` together with a PySceneDetect detector or threshold.
    """
    fps = source.info.fps
    if config.detector is not None or config.threshold is not None:
        if config.preset == "screen":
            raise ConfigError("preset 'screen' and a PySceneDetect detector/threshold were both given: choose one")
        name = config.detector or FILM_DETECTOR
        return Detection(make_detector(config, fps), "detector", f"detector {name} given", True)
    preset = config.preset
    reason = f"preset {preset} given"
    if preset == "auto":
        if footage is None:
            footage = measure_footage(source, start, min(end, source.info.duration))
        preset = "screen" if footage.screen else "film"
        reason = f"auto: {footage.explain()}"
    return preset_detection(preset, config, fps, reason)


def preset_detection(preset: str, config: SamplingConfig, fps: float, reason: str) -> Detection:
    """The detection of the ``screen`` or ``film`` preset."""
    if preset == "screen":
        return Detection(ScreenDetector(config.min_scene_len, fps), "screen", reason, False)
    return Detection(make_detector(config, fps), "film", reason, True)
