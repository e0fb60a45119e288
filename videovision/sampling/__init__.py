"""Choose frames (stage 2: sample).

One entry point, :func:`sample`, returns a :class:`FrameStream`: an iterator of
:class:`~videovision.types.Frame` in ascending time that also reports, once consumed, the scenes
found, the detection preset used and why, the repeats turned into notes, and the duplicates
dropped. Frames stream; only the frames chosen (plus, for scene strategies, a small bounded set of
candidates of the current scene) are held.

Strategies (:mod:`.strategies`: one module each, found by looking; a new one is one file):

``interval``  one frame every ``every`` seconds from ``start``: for each target time t the
              frame returned is the first frame whose presentation time is >= t (exact on
              constant and variable frame rate; seeks when targets are sparse, decodes
              forward when they are dense).
``uniform``   ``count`` frames at the centres of ``count`` equal slices of [start, end).
``scenes``    scene cuts -> one clean representative per scene (:mod:`.scenes`).
``hybrid``    scene cuts plus fill so that no gap between chosen frames exceeds ``max_gap``
              (:mod:`.scenes`).

Each strategy declares the options of its own it reads (``uses``): they alone, with the shared
options, make its frames cache key and ``frames.json`` record (:meth:`.strategies.Strategy.params`).

Scene detection (:mod:`.detectors`): an explicit PySceneDetect ``detector``/``threshold`` is used
exactly as ``scenedetect.detect`` uses it; otherwise ``preset`` picks the screen/slide detector or
PySceneDetect's adaptive detector, ``auto`` deciding from the measured motion.

The package's parts: :mod:`.strategies` (the strategies and their interface), :mod:`.exact` (frames
at target times), :mod:`.scenes` (the scene pass), :mod:`.detectors` (detectors and the preset),
:mod:`.pictures` (small grey copies: blank/fade checks, repeats, duplicates). Importing this package
loads no decoding library (the CLI lists the strategies at start); ``sample()`` does.

Optional near-duplicate removal (``dedup``) compares each frame with every kept frame (the most
recent ``DEDUP_MEMORY``) and drops it when at most ``dedup_threshold`` percent of a small grey
copy's pixels differ from one of them (:class:`.pictures.Dedup`).
"""

from __future__ import annotations

import importlib
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, get_args

from ..errors import ConfigError, SamplingError
from ..types import DetectorName, DuplicateDrop, Frame, Preset, RepeatNote, SamplingConfig, Scene
from .strategies import Progress, strategy_for, strategy_names

if TYPE_CHECKING:
    from ..source import VideoSource
    from .detectors import ScreenDetector, make_detector, measure_motion, pyscenedetect_defaults
    from .pictures import DEFAULT_DEDUP_CHANGE, Dedup, dhash, hamming
    from .scenes import CANDIDATE_WINDOW, CANDIDATES_PER_SCENE, DETECT_WIDTH

    STRATEGIES: tuple[str, ...]

__all__ = [
    "CANDIDATES_PER_SCENE", "CANDIDATE_WINDOW", "DEFAULT_DEDUP_CHANGE", "DETECTORS", "DETECT_WIDTH", "PRESETS",
    "STRATEGIES", "FrameStream", "ScreenDetector", "dhash", "hamming", "make_detector", "measure_motion",
    "pyscenedetect_defaults", "sample", "strategy_for", "strategy_names", "validate_config",
]

log = logging.getLogger("videovision")

DETECTORS: tuple[str, ...] = get_args(DetectorName)
PRESETS: tuple[str, ...] = get_args(Preset)

_LAZY = {"CANDIDATES_PER_SCENE": "scenes", "CANDIDATE_WINDOW": "scenes", "DETECT_WIDTH": "scenes",
         "DEFAULT_DEDUP_CHANGE": "pictures", "dhash": "pictures", "hamming": "pictures",
         "ScreenDetector": "detectors", "make_detector": "detectors", "measure_motion": "detectors",
         "pyscenedetect_defaults": "detectors"}


def __getattr__(name: str) -> object:
    """The names re-exported from the heavy modules, imported on first use; ``STRATEGIES``: the
    strategies found (:func:`strategy_names`)."""
    if name == "STRATEGIES":
        return strategy_names()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def validate_config(config: SamplingConfig, duration: float | None = None) -> tuple[float, float]:
    """Check a sampling config and return the clipped time range [start, end).

    Args:
        config: the options.
        duration: the video's duration in seconds, when known.

    Returns:
        (start, end) in seconds.

    Raises:
        ConfigError: an option is out of range (the message names the field).
    """
    strategy_for(config.strategy)
    if config.detector is not None and config.detector not in DETECTORS:
        raise ConfigError(f"unknown detector {config.detector!r}: choose one of {', '.join(DETECTORS)}")
    if config.preset not in PRESETS:
        raise ConfigError(f"unknown preset {config.preset!r}: choose one of {', '.join(PRESETS)}")
    if not (config.every > 0 and math.isfinite(config.every)):
        raise ConfigError(f"every must be a positive number of seconds (got {config.every})")
    if config.count < 1:
        raise ConfigError(f"count must be at least 1 (got {config.count})")
    if not (config.max_gap > 0 and math.isfinite(config.max_gap)):
        raise ConfigError(f"max_gap must be a positive number of seconds (got {config.max_gap})")
    if config.max_side is not None and config.max_side < 16:
        raise ConfigError(f"max_side must be at least 16 pixels (got {config.max_side})")
    if not (math.isfinite(config.min_scene_len) and config.min_scene_len >= 0):
        raise ConfigError(f"min_scene_len must be a finite number of seconds >= 0 (got {config.min_scene_len})")
    if config.threshold is not None and not (math.isfinite(config.threshold) and config.threshold >= 0):
        raise ConfigError(f"threshold must be a finite number >= 0 (got {config.threshold})")
    dedup = config.dedup_threshold
    if dedup is not None and not (math.isfinite(dedup) and 0 <= dedup <= 100):
        raise ConfigError(f"dedup_threshold must be a percentage between 0 and 100 (got {dedup})")
    for name in ("start", "end"):
        value = getattr(config, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{name} must be a finite time >= 0 seconds (got {value})")
    start = config.start or 0.0
    end = config.end
    if end is not None and end <= start:
        raise ConfigError(f"end ({end:g} s) must be after start ({start:g} s)")
    if duration is not None:
        if start >= duration:
            raise ConfigError(f"start ({start:g} s) is at or past the end of the video ({duration:.3f} s)")
        end = duration if end is None else min(end, duration)
    return start, end if end is not None else math.inf


@dataclass
class FrameStream:
    """Frames in ascending time. Filled in while iterating (complete once consumed):

    ``scenes``           scenes found (scene strategies)
    ``preset_used``      ``screen``, ``film`` or ``detector`` (scene strategies; None otherwise)
    ``preset_reason``    why, e.g. ``auto: 0.4 % of the picture changes within 0.5 s ...``
    ``repeats``          :class:`RepeatNote`\\ s: picked frames not emitted because they showed the
                         picture sent just before (send as text: ``[t] same picture as [same_as]``)
    ``duplicates``       :class:`DuplicateDrop`\\ s from ``dedup`` (time, the kept frame, % changed)
    ``notes``            adjustments made to the options (e.g. more targets than frames)
    ``blank_only``       every picture was blank (scene strategies): the frames given are the blank
                         scenes' representatives, there to show just that
    """

    _frames: Iterator[Frame]
    scenes: list[Scene] = field(default_factory=list)
    preset_used: str | None = None
    preset_reason: str = ""
    repeats: list[RepeatNote] = field(default_factory=list)
    duplicates: list[DuplicateDrop] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blank_only: bool = False

    @property
    def duplicates_dropped(self) -> int:
        return len(self.duplicates)

    def __iter__(self) -> Iterator[Frame]:
        return self._frames


def sample(source: VideoSource | str | os.PathLike, config: SamplingConfig | None = None,
           progress: Progress | None = None) -> FrameStream:
    """Choose frames from a video.

    Args:
        source: from :func:`videovision.open_video`, or a path: then the video is opened here and
            closed when the stream is exhausted (or closed).
        config: strategy and options (default: ``SamplingConfig()``).
        progress: optional callback ``progress(done_seconds, total_seconds)``.

    Returns:
        A :class:`FrameStream` (iterate it once).

    Raises:
        ConfigError: invalid options.
        SamplingError: no frame lies in the requested range.
    """
    config = config if config is not None else SamplingConfig()
    if isinstance(source, (str, os.PathLike)):
        return _sample_file(source, config, progress)
    start, end = validate_config(config, source.info.duration)
    stream = FrameStream(iter(()))
    frames = strategy_for(config.strategy).frames(source, config, start, end, stream, progress)
    if config.dedup:
        from .pictures import DEFAULT_DEDUP_CHANGE, Dedup

        threshold = DEFAULT_DEDUP_CHANGE if config.dedup_threshold is None else config.dedup_threshold
        frames = _dedup(frames, Dedup(threshold), stream)
    stream._frames = _require_some(frames, start, end, clipped=config.start is not None or config.end is not None)
    return stream


def _sample_file(path: str | os.PathLike, config: SamplingConfig, progress: Progress | None) -> FrameStream:
    """:func:`sample` of a path: the video stays open while its frames are taken, then is closed."""
    from ..source import open_video

    source = open_video(path)
    try:
        stream = sample(source, config, progress)
    except BaseException:
        source.close()
        raise
    frames = stream._frames

    def closing() -> Iterator[Frame]:
        try:
            yield from frames
        finally:
            source.close()

    stream._frames = closing()
    return stream


def _require_some(frames: Iterator[Frame], start: float, end: float, *, clipped: bool) -> Iterator[Frame]:
    count = 0
    for frame in frames:
        count += 1
        yield frame
    if count == 0:
        if clipped:
            stop = "the end" if math.isinf(end) else f"{end:g} s"
            raise SamplingError(f"no frame could be decoded between {start:g} s and {stop}: widen --start/--end")
        raise SamplingError("no frame could be decoded (the video stream is empty or damaged)")


def _dedup(frames: Iterator[Frame], dedup: Dedup, stream: FrameStream) -> Iterator[Frame]:
    for frame in frames:
        dropped = dedup.check(frame.time, frame.image)
        if dropped is not None:
            stream.duplicates.append(dropped)
            continue
        yield frame
