"""Choose frames (stage 2: sample).

One entry point, :func:`sample`, returns a :class:`FrameStream`: an iterator of
:class:`~videovision.types.Frame` in ascending time that also reports, once consumed, the
scenes found and the near-duplicates dropped. Frames stream; only the frames chosen (plus,
for scene strategies, a small bounded set of candidates of the current scene) are held.

Strategies:

``interval``  one frame every ``every`` seconds from ``start``: for each target time t the
              frame returned is the first frame whose presentation time is >= t (exact on
              constant and variable frame rate; seeks when targets are sparse, decodes
              forward when they are dense).
``uniform``   ``count`` frames at the centres of ``count`` equal slices of [start, end).
``scenes``    PySceneDetect cuts -> one representative per scene: the sharpest of the
              candidates nearest the middle of the scene, never within the first or last
              quarter of it (so never on a cut or in a fade at its edges). Detection runs on
              small frames converted straight from the decoder, and candidates are kept
              during the same decoding pass: one pass, not two.
``hybrid``    scene cuts plus fill: a scene of length L gets ceil(L / max_gap) frames at the
              centres of equal slices, so no gap between consecutive chosen frames exceeds
              ``max_gap``; the opening and the closing frame are always included.

Optional near-duplicate removal (``dedup``) compares a 64-bit difference hash of each
frame with the last frame kept and drops it when the Hamming distance is at most
``dedup_threshold``.
"""

from __future__ import annotations

import bisect
import logging
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator

import cv2
import numpy as np

from .errors import ConfigError, SamplingError
from .source import RawFrame, VideoSource
from .types import Frame, SamplingConfig, Scene

log = logging.getLogger("videovision")

DETECT_WIDTH = 320
"""Width of the small frames the scene detectors see."""
CANDIDATES_PER_SCENE = 16
"""Frames of the current scene kept as candidates (bounded memory), before thinning."""
CANDIDATE_WINDOW = 5
"""How many candidates nearest a target time compete on sharpness."""
STRATEGIES = ("interval", "uniform", "scenes", "hybrid")
DETECTORS = ("adaptive", "content", "threshold", "hash", "histogram")

Progress = Callable[[float, float], None]
"""progress(done_seconds, total_seconds)."""


def validate_config(config: SamplingConfig, duration: float | None = None) -> tuple[float, float]:
    """Check a sampling config and return the clipped time range [start, end).

    Args:
        config: the options.
        duration: the video's duration in seconds, when known.

    Returns:
        (start, end) in seconds.

    Raises:
        ConfigError: an option is out of range.
    """
    if config.strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {config.strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if config.detector not in DETECTORS:
        raise ConfigError(f"unknown detector {config.detector!r}: choose one of {', '.join(DETECTORS)}")
    if not (config.every > 0 and math.isfinite(config.every)):
        raise ConfigError(f"--every must be a positive number of seconds (got {config.every})")
    if config.count < 1:
        raise ConfigError(f"--count must be at least 1 (got {config.count})")
    if not (config.max_gap > 0 and math.isfinite(config.max_gap)):
        raise ConfigError(f"--max-gap must be a positive number of seconds (got {config.max_gap})")
    if config.max_side is not None and config.max_side < 16:
        raise ConfigError(f"--max-side must be at least 16 pixels (got {config.max_side})")
    if config.min_scene_len < 0:
        raise ConfigError("--min-scene-len must be >= 0 seconds")
    if config.threshold is not None and config.threshold < 0:
        raise ConfigError("--threshold must be >= 0")
    if not 0 <= config.dedup_threshold <= 64:
        raise ConfigError("the near-duplicate threshold must be between 0 and 64 bits")
    start = config.start or 0.0
    end = config.end
    if end is not None and end <= start:
        raise ConfigError(f"--end ({end:g} s) must be after --start ({start:g} s)")
    if duration is not None:
        if start >= duration:
            raise ConfigError(f"--start ({start:g} s) is at or past the end of the video ({duration:.3f} s)")
        end = duration if end is None else min(end, duration)
    return start, end if end is not None else math.inf


@dataclass
class FrameStream:
    """Frames in ascending time. After iteration: ``scenes`` and ``duplicates_dropped``."""

    _frames: Iterator[Frame]
    scenes: list[Scene] = field(default_factory=list)
    duplicates_dropped: int = 0
    dropped_times: list[float] = field(default_factory=list)

    def __iter__(self) -> Iterator[Frame]:
        return self._frames


def sample(source: VideoSource, config: SamplingConfig, progress: Progress | None = None) -> FrameStream:
    """Choose frames from an opened video.

    Args:
        source: from :func:`videovision.open_video`.
        config: strategy and options.
        progress: optional callback ``progress(done_seconds, total_seconds)``.

    Returns:
        A :class:`FrameStream` (iterate it once).

    Raises:
        ConfigError: invalid options.
        SamplingError: no frame lies in the requested range.
    """
    start, end = validate_config(config, source.info.duration)
    stream = FrameStream(iter(()))
    if config.strategy == "interval":
        targets = _arange(start, end, config.every)
        frames = _exact(source, targets, config, progress, end)
    elif config.strategy == "uniform":
        span = end - start
        targets = [start + (i + 0.5) * span / config.count for i in range(config.count)]
        frames = _exact(source, targets, config, progress, end)
    else:
        frames = _scene_pass(source, config, start, end, stream, progress)
    if config.dedup:
        frames = _dedup(frames, config.dedup_threshold, stream)
    stream._frames = _require_some(frames, start, end)
    return stream


def _arange(start: float, end: float, step: float) -> list[float]:
    count = int(math.floor((end - start) / step - 1e-9)) + 1
    return [start + i * step for i in range(max(count, 1)) if start + i * step < end]


def _exact(source, targets, config, progress, end) -> Iterator[Frame]:
    total = targets[-1] if targets else 0.0
    for frame in source.frames_at(targets, max_side=config.max_side):
        if frame.time >= end:
            return
        if progress:
            progress(frame.time, total)
        yield frame


def _require_some(frames: Iterator[Frame], start: float, end: float) -> Iterator[Frame]:
    count = 0
    for frame in frames:
        count += 1
        yield frame
    if count == 0:
        stop = "the end" if math.isinf(end) else f"{end:g} s"
        raise SamplingError(f"no frame could be taken between {start:g} s and {stop}: widen --start/--end")


# --------------------------------------------------------------------------- near-duplicates
def dhash(image: np.ndarray) -> int:
    """64-bit difference hash of an RGB image (perceptual; robust to scaling and compression)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def hamming(a: int, b: int) -> int:
    return int((a ^ b).bit_count())


def _dedup(frames: Iterator[Frame], threshold: int, stream: FrameStream) -> Iterator[Frame]:
    last: int | None = None
    for frame in frames:
        h = dhash(frame.image)
        if last is not None and hamming(h, last) <= threshold:
            stream.duplicates_dropped += 1
            stream.dropped_times.append(frame.time)
            continue
        last = h
        yield frame


# --------------------------------------------------------------------------- scene detection
def make_detector(config: SamplingConfig, fps: float):
    """Build the PySceneDetect detector named in ``config`` (min scene length in frames)."""
    from scenedetect import (
        AdaptiveDetector,
        ContentDetector,
        HashDetector,
        HistogramDetector,
        ThresholdDetector,
    )

    min_len = max(1, int(round(config.min_scene_len * fps)))
    kwargs = {"min_scene_len": min_len}
    t = config.threshold
    if config.detector == "adaptive":
        return AdaptiveDetector(adaptive_threshold=t if t is not None else 3.0, **kwargs)
    if config.detector == "content":
        return ContentDetector(threshold=t if t is not None else 27.0, **kwargs)
    if config.detector == "threshold":
        return ThresholdDetector(threshold=t if t is not None else 12.0, **kwargs)
    if config.detector == "hash":
        return HashDetector(threshold=t if t is not None else 0.395, **kwargs)
    return HistogramDetector(threshold=t if t is not None else 0.05, **kwargs)


def sharpness(small_bgr: np.ndarray) -> float:
    """Variance of the Laplacian of a small grey copy: higher is sharper (and not a fade)."""
    gray = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


@dataclass
class _Candidate:
    raw: RawFrame
    score: float


class _SceneBuffer:
    """Candidates of the current scene (since the last frame emitted), evenly thinned so that
    memory stays bounded: at most ``CANDIDATES_PER_SCENE`` decoded frames."""

    def __init__(self):
        self.items: list[_Candidate] = []
        self.spacing = 0.0

    def wants(self, time: float) -> bool:
        """Whether a frame at ``time`` would be kept (checked before paying for its score)."""
        return not self.items or time - self.items[-1].raw.time >= self.spacing

    def offer(self, cand: _Candidate) -> None:
        if not self.wants(cand.raw.time):
            return
        self.items.append(cand)
        if len(self.items) > CANDIDATES_PER_SCENE:
            self.items = self.items[::2]
            times = [c.raw.time for c in self.items]
            self.spacing = (times[-1] - times[0]) / max(1, len(times) - 1)

    def split(self, cut: float) -> "_SceneBuffer":
        """Move candidates at or after ``cut`` into a new buffer for the next scene."""
        after = [c for c in self.items if c.raw.time >= cut - 1e-9]
        self.items = [c for c in self.items if c.raw.time < cut - 1e-9]
        nxt = _SceneBuffer()
        nxt.items = after
        return nxt

    def drop_through(self, time: float) -> None:
        """Forget candidates at or before ``time`` (a frame there was emitted)."""
        self.items = [c for c in self.items if c.raw.time > time + 1e-9]

    def pick(self, target: float, lo: float, hi: float) -> RawFrame | None:
        """The sharpest of the candidates nearest ``target`` inside [lo, hi] (nearest overall if none)."""
        if not self.items:
            return None
        pool = [c for c in self.items if lo - 1e-9 <= c.raw.time <= hi + 1e-9] or self.items
        near = sorted(pool, key=lambda c: abs(c.raw.time - target))[:CANDIDATE_WINDOW]
        return max(near, key=lambda c: c.score).raw


def _scene_pass(source: VideoSource, config, start, end, stream: FrameStream, progress) -> Iterator[Frame]:
    """One decoding pass: detect cuts on small frames, keep candidates, emit frames.

    ``scenes``: at each cut, the representative of the scene that ended.
    ``hybrid``: the opening frame; then whenever the next frame would leave a gap longer than
    ``max_gap`` since the last frame emitted, the sharpest candidate of the second half of that
    gap; at each cut, the scene's representative if the scene has no frame yet; the closing frame.
    Either way the candidates held are those since the last cut or emission, thinned to a fixed
    number, so memory does not grow with the length of the video.
    """
    from scenedetect import FrameTimecode
    from scenedetect.common import Timecode

    info = source.info
    detector = make_detector(config, info.fps)
    hybrid = config.strategy == "hybrid"
    stop_at = min(end, info.duration) if math.isfinite(end) else info.duration
    total = stop_at - start
    tb = source.time_base
    first_pts = int(round(info.start_time / float(tb))) if tb else 0
    frame_step = 1.0 / info.fps if info.fps else 0.0
    times = source.frame_times
    fps_fraction = max(1e-3, info.fps)

    buffer = _SceneBuffer()
    scene_start = start
    last: RawFrame | None = None
    last_emitted: float | None = None
    emitted: set[int] = set()
    emitted_times: list[float] = []
    # Frames are held back briefly: a detector may report a cut a few frames late, and a frame's
    # scene is known only once every cut before it has been reported.
    pending: list[tuple[float, RawFrame]] = []
    lag = (getattr(detector, "event_buffer_length", 0) + 2) * frame_step

    def timecode(raw: RawFrame):
        pts = raw.frame.pts if raw.frame.pts is not None else first_pts + int(round(raw.time / float(tb)))
        return FrameTimecode(Timecode(pts=int(pts) - first_pts, time_base=tb), fps=fps_fraction)

    def emit(raw: RawFrame) -> None:
        nonlocal last_emitted
        emitted.add(raw.index)
        bisect.insort(emitted_times, raw.time)
        last_emitted = max(last_emitted or raw.time, raw.time)
        buffer.drop_through(raw.time)
        bisect.insort(pending, (raw.time, raw), key=lambda item: item[0])

    def flush(before: float) -> Iterator[Frame]:
        starts = [sc.start for sc in stream.scenes] + [scene_start]
        while pending and pending[0][0] < before:
            t, raw = pending.pop(0)
            yield Frame(time=t, index=raw.index, image=source.to_image(raw.frame, config.max_side),
                        scene=max(0, bisect.bisect_right(starts, t + 1e-9) - 1))

    def finish(scene_end: float) -> None:
        nonlocal scene_start
        i = bisect.bisect_left(emitted_times, scene_start - 1e-9)
        has_frame = i < len(emitted_times) and emitted_times[i] < scene_end - 1e-9
        if not (hybrid and has_frame):
            length = max(scene_end - scene_start, 1e-6)
            middle = scene_start + length / 2
            raw = buffer.pick(middle, scene_start + length / 4, scene_end - length / 4)
            if raw is not None and raw.index not in emitted:
                emit(raw)
        stream.scenes.append(Scene(len(stream.scenes), scene_start, scene_end))
        scene_start = scene_end

    for raw in source.iter_raw(start, end if math.isfinite(end) else None):
        small = source.small_bgr(raw.frame, DETECT_WIDTH)
        if last is None and hybrid:
            buffer.offer(_Candidate(raw, 0.0))
            emit(raw)  # the opening frame
        for cut in detector.process_frame(timecode(raw), small):
            cut_time = float(cut.seconds)
            if cut_time <= scene_start + 1e-6:
                continue
            nxt = buffer.split(cut_time)
            finish(cut_time)
            buffer = nxt
        due = False
        if hybrid and last_emitted is not None:
            following = times[raw.index + 1] if raw.index + 1 < len(times) else raw.time + frame_step
            due = following - last_emitted > config.max_gap + 1e-9
        if buffer.wants(raw.time) or due:
            candidate = _Candidate(raw, sharpness(small))
            buffer.offer(candidate)
            if due and buffer.items[-1] is not candidate:
                buffer.items.append(candidate)  # it must be eligible
        if due:
            # the next frame would be too far from the last one emitted: emit one now, the
            # sharpest candidate of the second half of the gap
            chosen = buffer.pick(raw.time, last_emitted + config.max_gap / 2, raw.time)
            if chosen is not None and chosen.index not in emitted:
                emit(chosen)
        last = raw
        yield from flush(raw.time - lag)
        if progress:
            progress(raw.time - start, total)

    if last is None:
        return
    stop = min(last.time + frame_step, stop_at) if frame_step else stop_at
    stop = max(stop, stop_at if last.time >= stop_at - 2 * frame_step else stop)
    for cut in detector.post_process(timecode(last)):
        cut_time = float(cut.seconds)
        if scene_start + 1e-6 < cut_time < stop:
            nxt = buffer.split(cut_time)
            finish(cut_time)
            buffer = nxt
    finish(stop)
    if hybrid and last.index not in emitted:
        emit(last)  # the closing frame
    yield from flush(math.inf)
