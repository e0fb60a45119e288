"""The ``scenes`` and ``hybrid`` strategies: one decoding pass that detects cuts, keeps a bounded
set of candidate frames, and picks clean frames (never blank, never mid-fade) from them.

``scenes``  one frame per scene: among the candidates nearest the scene's target, the sharpest
            clean one; the target is the middle of the scene (film) or its end (screen preset:
            the last state of a slide, with every reveal), never within its first or last quarter
            for film, nor in its first half for screens.
``hybrid``  the opening frame (the first clean one); whenever the next frame would leave a gap
            longer than ``max_gap`` since the last frame chosen, the sharpest clean candidate of
            the second half of that gap; each scene without a frame gets its representative; the
            closing frame (the last clean one).

A chosen frame whose picture is practically the one sent just before it (mean absolute
difference of small grey copies under 1 % of full scale) is not emitted: it becomes a
:class:`~videovision.types.RepeatNote` on the stream. Blank or faded candidates are only picked
when the scene has nothing else; a scene with no clean frame at all (a black hold) gets none.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..source import RawFrame, VideoSource
from ..types import Frame, RepeatNote, SamplingConfig, Scene
from .detectors import (
    FOOTAGE_SIDE,
    Detection,
    Footage,
    FootageProbe,
    choose_detection,
    footage_grey,
    frame_rate,
    measure_footage,
    preset_detection,
    pyscenedetect_size,
)
from .pictures import FADE_CONTEXT, FADE_MEMORY, Look, is_clean, look, same_picture

if TYPE_CHECKING:
    from . import FrameStream

DETECT_WIDTH = 320
"""Width of the small frames candidates are measured on (and the screen detector sees)."""
CANDIDATES_PER_SCENE = 16
"""Frames of the current scene kept as candidates (bounded memory), before thinning."""
CANDIDATE_WINDOW = 5
"""How many candidates nearest a target time compete on sharpness."""
OPENING_WINDOW = 1.0
"""Seconds after the start within which the opening frame is chosen (a fade-in settles)."""
FADE_SETTLE = 0.3
"""A gap-filling frame is at least this old (at most a quarter of ``max_gap``) when chosen, so the
frames after it show whether it was still fading in."""

BLANK_NOTE = "every picture is blank (one colour: no edge, text or object); the frames sent show only that"
CUT_MEMORY = 0.5
"""Seconds over which the brightness of the scene before a cut still judges the frames after it
(decaying): a black hold after a fade-out counts as faded, even with a logo or a stripe left on it,
while a dark scene after a bright one is clean a second later. Fades are judged relative to the
footage around them, never by darkness alone."""

SECOND_LANE_PIXELS = 250_000
"""The ``auto`` preset's probe frames are taken from the pass itself when decoding them apart
would cost more than running the second detector and its picker over the pass (see
:func:`scene_pass`): decoded pixels (the probe's frames, counted as if none were skipped) against
this many per frame of the pass. Measured on 2 cores: the second lane costs ~0.4 ms a frame,
decoding H.264 2-3.5 ns a pixel, and the probe skips about half its frames (non-reference
pictures before the wanted ones). A 20-s 4K clip probes itself (decoding apart decoded most of it
again: 30x this); a 3-min 720p (0.7x) or 5-min 360p clip (0.1x) decodes its probe apart."""
FULL_SIZE_PASS_PIXELS = 3840 * 2160
"""The pass decodes pictures up to this size at full size and scales only the candidates it keeps;
larger ones (8K) are scaled to ``max_side`` in the decode thread as before, for memory: an 8K frame
is 50 MB of YUV, the first one's check conversion (``downscaled_bgr``) 100 MB of BGR, and decoding
at full size raised the 8K plan's peak from 355 to 474 MB (bench/bench_memory.py)."""
HELD_BYTES = 64 * 1024 * 1024
"""Pixels (YUV bytes) of chosen frames the pass holds while both detectors run; past it the
``auto`` measures are taken apart (so memory stays bounded on any length)."""

Progress = Callable[[float, float], None]


@dataclass
class _Candidate:
    raw: RawFrame
    look: Look
    reference: float = 0.0
    """Brightness reference when it was offered: the scene's decaying peak (fade-outs)."""

    @property
    def time(self) -> float:
        return self.raw.time


class _SceneBuffer:
    """Candidates of the current scene (since the last frame emitted), evenly thinned so that
    memory stays bounded: at most ``CANDIDATES_PER_SCENE`` decoded frames."""

    def __init__(self, carried: float = 0.0, cut: float = 0.0) -> None:
        self.items: list[_Candidate] = []
        self.spacing = 0.0
        self.peak = 0.0
        self.peak_time = 0.0
        self.carried, self.cut = carried, cut
        """The previous scene's brightness reference at the cut (see ``CUT_MEMORY``)."""

    def wants(self, time: float) -> bool:
        """Whether a frame at ``time`` would be kept (checked before paying for its measures)."""
        return not self.items or time - self.items[-1].time >= self.spacing

    def decayed(self, time: float) -> float:
        """The brightness reference at ``time`` (without a new candidate)."""
        own = self.peak * math.exp(-max(0.0, time - self.peak_time) / FADE_MEMORY)
        return max(own, self.carried * math.exp(-max(0.0, time - self.cut) / CUT_MEMORY))

    def _reference(self, cand: _Candidate) -> float:
        decayed = self.decayed(cand.time)
        if not cand.look.blank and cand.look.brightness >= decayed:
            self.peak, self.peak_time = cand.look.brightness, cand.time
            return cand.look.brightness
        return decayed

    def offer(self, cand: _Candidate, *, force: bool = False) -> None:
        cand.reference = self._reference(cand)
        if not (force or self.wants(cand.time)) or any(c is cand for c in self.items):
            return
        self.items.append(cand)
        if len(self.items) > CANDIDATES_PER_SCENE:
            keep = self.items[::2]
            if force and keep[-1] is not cand:
                keep.append(cand)  # a forced candidate must stay eligible
            self.items = keep
            times = [c.time for c in self.items]
            self.spacing = (times[-1] - times[0]) / max(1, len(times) - 1)

    def split(self, cut: float) -> _SceneBuffer:
        """Move candidates at or after ``cut`` into a new buffer for the next scene (whose own
        brightness reference starts afresh; this scene's reaches past the cut for ``CUT_MEMORY``)."""
        nxt = _SceneBuffer(self.decayed(cut), cut)
        moved = [c for c in self.items if c.time >= cut - 1e-9]
        self.items = [c for c in self.items if c.time < cut - 1e-9]
        for c in moved:
            nxt.offer(c, force=True)
        return nxt

    def drop_through(self, time: float) -> None:
        """Forget candidates at or before ``time`` (a frame there was emitted)."""
        self.items = [c for c in self.items if c.time > time + 1e-9]

    def is_clean(self, cand: _Candidate) -> bool:
        later = max((c.look.brightness for c in self.items
                     if cand.time < c.time <= cand.time + FADE_CONTEXT and not c.look.blank), default=0.0)
        return is_clean(cand.look, max(cand.reference, later))

    def clean(self, lo: float = -math.inf, hi: float = math.inf) -> list[_Candidate]:
        return [c for c in self.items if lo - 1e-9 <= c.time <= hi + 1e-9 and self.is_clean(c)]

    def pick(self, target: float, lo: float, hi: float) -> _Candidate | None:
        """The sharpest clean candidate among those nearest ``target`` inside [lo, hi] (nearest
        clean one anywhere if none inside; None when no candidate is clean)."""
        pool = self.clean(lo, hi) or self.clean()
        if not pool:
            return None
        near = sorted(pool, key=lambda c: abs(c.time - target))[:CANDIDATE_WINDOW]
        return max(near, key=lambda c: c.look.sharpness)

    def pick_any(self, target: float) -> _Candidate | None:
        """The candidate nearest ``target``, clean or not (a scene of blank pictures)."""
        return min(self.items, key=lambda c: abs(c.time - target), default=None)


class _Picker:
    """State of one pass: scenes found, frames chosen and held back until their scene is known."""

    def __init__(self, source: VideoSource, config: SamplingConfig, stream: FrameStream,
                 detection: Detection, start: float, fill: bool):
        self.source, self.config, self.stream = source, config, stream
        self.hybrid = fill
        self.screen = detection.preset == "screen"
        self.buffer = _SceneBuffer()
        self.scene_start = start
        self.emitted: set[int] = set()
        self.emitted_times: list[float] = []
        self.last_emitted: float | None = None
        self.pending: list[tuple[float, _Candidate]] = []
        self.sent: _Candidate | None = None
        """The last frame actually yielded (for the repeat check)."""
        self.latest: _Candidate | None = None
        """The latest frame chosen so far."""
        self.blank_scenes: list[_Candidate] = []
        """While no clean frame has been chosen: a representative of each scene without one (every
        picture so far blank), thinned to ``CANDIDATES_PER_SCENE``."""

    def emit(self, cand: _Candidate) -> None:
        self.blank_scenes = []  # something clean is sent: the blank stand-ins are not needed (memory)
        self.emitted.add(cand.raw.index)
        bisect.insort(self.emitted_times, cand.time)
        self.last_emitted = max(self.last_emitted if self.last_emitted is not None else cand.time, cand.time)
        self.buffer.drop_through(cand.time)
        if self.latest is None or cand.time > self.latest.time:
            self.latest = cand
        bisect.insort(self.pending, (cand.time, cand), key=lambda item: item[0])

    def flush(self, before: float) -> Iterator[Frame]:
        starts = [sc.start for sc in self.stream.scenes] + [self.scene_start]
        while self.pending and self.pending[0][0] < before:
            t, cand = self.pending.pop(0)
            if self.sent is not None and same_picture(cand.look, self.sent.look):
                self.stream.repeats.append(RepeatNote(time=t, same_as=self.sent.time))
                continue
            self.sent = cand
            yield Frame(time=t, index=cand.raw.index, image=self.source.to_image(cand.raw, self.config.max_side),
                        scene=max(0, bisect.bisect_right(starts, t + 1e-9) - 1))

    def has_frame(self, lo: float, hi: float) -> bool:
        i = bisect.bisect_left(self.emitted_times, lo - 1e-9)
        return i < len(self.emitted_times) and self.emitted_times[i] < hi - 1e-9

    def finish(self, scene_end: float) -> None:
        """Close the current scene at ``scene_end``: give it its representative if it needs one."""
        start = self.scene_start
        length = max(scene_end - start, 1e-6)
        if self.screen:  # the last state of a slide: every reveal on it
            target, lo, hi = scene_end, start + length / 2, scene_end
        else:
            target, lo, hi = start + length / 2, start + length / 4, scene_end - length / 4
        if not (self.hybrid and self.has_frame(start, scene_end)):
            cand = self.buffer.pick(target, lo, hi)
            if cand is not None and cand.raw.index not in self.emitted:
                self.emit(cand)
            elif cand is None and not self.emitted:
                self._keep_blank(self.buffer.pick_any(target))
        elif self.screen and self.latest is not None:
            # a slide that already has a frame still gets its last state when that differs
            cand = self.buffer.pick(target, lo, hi)
            if (cand is not None and cand.raw.index not in self.emitted and cand.time > self.latest.time
                    and not same_picture(cand.look, self.latest.look)):
                self.emit(cand)
        self.stream.scenes.append(Scene(len(self.stream.scenes), start, scene_end))
        self.scene_start = scene_end

    def _keep_blank(self, cand: _Candidate | None) -> None:
        if cand is None:
            return
        self.blank_scenes.append(cand)
        if len(self.blank_scenes) > CANDIDATES_PER_SCENE:
            self.blank_scenes = self.blank_scenes[::2]

    def blank_only(self) -> bool:
        """Nothing clean was chosen: send the blank scenes' representatives (what the video shows),
        noted on the stream, rather than nothing."""
        if self.emitted or not self.blank_scenes:
            return False
        stand_ins, self.blank_scenes = self.blank_scenes, []
        for cand in stand_ins:
            self.emit(cand)
        self.stream.blank_only = True
        self.stream.notes.append(BLANK_NOTE)
        return True

    def cut(self, cut_time: float) -> None:
        if cut_time <= self.scene_start + 1e-6:
            return
        nxt = self.buffer.split(cut_time)
        self.finish(cut_time)
        self.buffer = nxt


class _Lane:
    """A detector and the picker its cuts drive (the pass runs one, or two while the ``auto``
    preset's measures are still being taken from it)."""

    def __init__(self, source: VideoSource, config: SamplingConfig, stream: FrameStream, detection: Detection,
                 start: float, frame_step: float, fill: bool):
        self.detection, self.detector = detection, detection.detector
        self.picker = _Picker(source, config, stream, detection, start, fill)
        self.opening_done = not self.picker.hybrid
        self.last: _Candidate | None = None
        # Frames are held back briefly: a detector may report a cut a few frames late, and a
        # frame's scene is known only once every cut before it has been reported.
        self.lag = (self.detector.event_buffer_length + 2) * frame_step

    def open_with(self, cand: _Candidate | None) -> None:
        self.opening_done = True
        if cand is not None:
            self.picker.emit(cand)

    def held_bytes(self) -> int:
        """Pixels (YUV bytes) of the frames chosen and not yet handed on."""
        return sum(c.raw.frame.width * c.raw.frame.height * 3 // 2 for _, c in self.picker.pending)


@dataclass
class _AutoProbe:
    """The ``auto`` preset's measures taken from the pass's own frames (see :func:`scene_pass`)."""

    probe: FootageProbe
    indices: list[int]
    greys: dict[float, np.ndarray]


def _auto_probe(source: VideoSource, config: SamplingConfig, start: float, stop: float) -> _AutoProbe | None:
    """The in-pass probe when the ``auto`` preset is to be decided and decoding its frames apart
    would cost more than the second lane over the pass (``SECOND_LANE_PIXELS``: large pictures,
    keyframes far apart next to the range); None otherwise (the detector is chosen before the pass)."""
    if config.preset != "auto" or config.detector is not None or config.threshold is not None:
        return None
    probe = FootageProbe.of(source, start, stop)
    times = source.frame_times
    frames = int(np.searchsorted(times, stop - 1e-6)) - int(np.searchsorted(times, start - 1e-6))
    pixels = max(1, source.info.coded_width * source.info.coded_height)
    if not probe.targets or probe.decode_cost(source) * pixels <= SECOND_LANE_PIXELS * max(1, frames):
        return None
    return _AutoProbe(probe, probe.indices(source), {})


def scene_pass(source: VideoSource, config: SamplingConfig, start: float, end: float, stream: FrameStream,
               progress: Progress | None, *, fill: bool = False) -> Iterator[Frame]:
    """One decoding pass: detect cuts, keep candidates, emit frames (see the module docstring).

    The candidates held are those since the last cut or emission, thinned to a fixed number, so
    memory does not grow with the length of the video.

    The ``auto`` preset is decided on frames spread over the whole range (:func:`measure_footage`).
    When decoding those apart would cost much (a short clip: its keyframes are far apart next to
    its length), they are taken from this pass instead: both detectors run, each with its picker,
    until the last of them is decoded; then the one the measures choose goes on alone. Frames are
    handed on only from then (held, at most ``HELD_BYTES``: past that the measures are taken apart
    after all). The measures, and so the choice and every frame, are the same either way.
    """
    from scenedetect import FrameTimecode
    from scenedetect.common import Timecode

    info = source.info
    stop_at = min(end, info.duration) if math.isfinite(end) else info.duration
    total = stop_at - start
    frame_step = 1.0 / info.fps if info.fps else 0.0
    auto = _auto_probe(source, config, start, stop_at)
    lanes: list[_Lane]
    if auto is None:
        detection = choose_detection(config, source, start, end)
        stream.preset_used, stream.preset_reason = detection.preset, detection.reason
        lanes = [_Lane(source, config, stream, detection, start, frame_step, fill)]
    else:
        lanes = [_Lane(source, config, type(stream)(iter(())), preset_detection(preset, config, info.fps, ""),
                       start, frame_step, fill) for preset in ("film", "screen")]
    hybrid = fill
    tb = source.time_base
    first_pts = round(info.start_time / float(tb)) if tb else 0
    times = source.frame_times
    fps = frame_rate(max(1e-3, info.fps))
    rotation = info.rotation
    opening_until = start + min(OPENING_WINDOW, config.max_gap / 2)
    settle = min(FADE_SETTLE, config.max_gap / 4)

    def timecode(raw: RawFrame) -> FrameTimecode:
        pts = raw.frame.pts if raw.frame.pts is not None else first_pts + round(raw.time / float(tb))
        return FrameTimecode(Timecode(pts=int(pts) - first_pts, time_base=tb), fps=fps)

    def pyscenedetect_input(raw: RawFrame) -> np.ndarray:
        # what SceneManager feeds detectors: the full-size BGR frame, shrunk (only the pixels the
        # shrink reads are converted: the same picture, see VideoSource.downscaled_bgr)
        image = source.downscaled_bgr(raw.frame, *pyscenedetect_size(raw.frame.width, raw.frame.height))
        return np.ascontiguousarray(np.rot90(image, k=-rotation // 90)) if rotation else image

    def decide(footage: Footage) -> None:
        """Keep the lane the measures choose; what it found so far goes to the stream."""
        preset = "screen" if footage.screen else "film"
        lane = next(lane for lane in lanes if lane.detection.preset == preset)
        scratch, picker = lane.picker.stream, lane.picker
        stream.scenes.extend(scratch.scenes)
        stream.repeats.extend(scratch.repeats)
        stream.notes.extend(scratch.notes)
        stream.blank_only = stream.blank_only or scratch.blank_only
        picker.stream = stream
        stream.preset_used, stream.preset_reason = preset, f"auto: {footage.explain()}"
        lanes[:] = [lane]

    def step(lane: _Lane, raw: RawFrame, held: Callable[[], RawFrame], seen: Callable[[], Look],
             detector_input: Callable[[], np.ndarray]) -> None:
        picker = lane.picker
        for cut in lane.detector.process_frame(timecode(raw), detector_input()):
            if not lane.opening_done:
                lane.open_with(min(picker.buffer.clean(), key=lambda c: c.time, default=None))
            picker.cut(float(cut.seconds))
        due = False
        if hybrid and lane.opening_done:
            following = times[raw.index + 1] if raw.index + 1 < len(times) else raw.time + frame_step
            since = picker.last_emitted if picker.last_emitted is not None else start
            due = following - since > config.max_gap + 1e-9
        opening = not lane.opening_done
        candidate = None
        if picker.buffer.wants(raw.time) or due or opening:
            candidate = _Candidate(held(), seen())
            picker.buffer.offer(candidate, force=due or opening)
        if opening and raw.time >= opening_until - 1e-9:
            # the opening frame: the first clean one, once later frames show it is not fading in
            first = min(picker.buffer.clean(hi=raw.time - settle), key=lambda c: c.time, default=None)
            if first is not None or raw.time - start > config.max_gap:
                lane.open_with(first)
        elif due:
            # the next frame would be too far from the last one emitted: emit one now, the
            # sharpest clean candidate of the second half of the gap
            lo = (picker.last_emitted if picker.last_emitted is not None else start) + config.max_gap / 2
            pool = picker.buffer.clean(lo, raw.time - settle)
            if pool:
                chosen = max(sorted(pool, key=lambda c: raw.time - c.time)[:CANDIDATE_WINDOW],
                             key=lambda c: c.look.sharpness)
                if chosen.raw.index not in picker.emitted:
                    picker.emit(chosen)
        lane.last = candidate

    last_raw: RawFrame | None = None
    # Decoded at full size up to 4K: the detectors see what PySceneDetect feeds them, and only the
    # frames kept as candidates are scaled to the packer's size (the rest never are: on a 4K clip
    # that was 4.3 ms of CPU a frame, more than everything else but decoding). Larger pictures are
    # scaled as they are decoded (see FULL_SIZE_PASS_PIXELS).
    scaled = config.max_side if info.coded_width * info.coded_height > FULL_SIZE_PASS_PIXELS else None
    frames = source.iter_raw(start, end if math.isfinite(end) else None, max_side=scaled,
                             snapshots=auto.indices if auto else (), snapshot_side=FOOTAGE_SIDE)
    for raw in frames:
        made: dict[str, object] = {}

        def held(raw: RawFrame = raw, made: dict = made) -> RawFrame:
            """The frame as a candidate holds it (at most the packer's size: bounded memory)."""
            if "held" not in made:
                made["held"] = source.shrunk(raw, config.max_side)
            return made["held"]

        def small(raw: RawFrame = raw, made: dict = made) -> np.ndarray:
            """The small copy candidates are measured on (made only for frames that need it)."""
            if "small" not in made:
                made["small"] = source.small_bgr(raw.frame, DETECT_WIDTH)
            return made["small"]

        def seen(made: dict = made, small: Callable[[], np.ndarray] = small) -> Look:
            if "look" not in made:
                made["look"] = look(small())
            return made["look"]

        def film_input(raw: RawFrame = raw, made: dict = made) -> np.ndarray:
            if "film" not in made:
                made["film"] = pyscenedetect_input(raw)
            return made["film"]

        if auto is not None and raw.snapshot is not None:
            auto.greys[raw.time] = footage_grey(raw.snapshot)
        for lane in list(lanes):
            step(lane, raw, held, seen, film_input if lane.detection.pyscenedetect_input else small)
        last_raw = raw
        if auto is not None:
            if raw.index >= auto.indices[-1]:
                decide(auto.probe.footage(auto.greys))
                auto = None
            elif sum(lane.held_bytes() for lane in lanes) > HELD_BYTES:
                decide(measure_footage(source.sibling(), start, stop_at))
                auto = None
        if auto is None:
            yield from lanes[0].picker.flush(raw.time - lanes[0].lag)
        if progress:
            progress(raw.time - start, total)

    if auto is not None:  # the range ended before the last frame measured (a damaged file)
        decide(auto.probe.footage(auto.greys))
    if last_raw is None:
        return
    yield from _finish_pass(lanes[0], source, last_raw, stop_at, frame_step, timecode, config.max_side)


def _finish_pass(lane: _Lane, source: VideoSource, last_raw: RawFrame, stop_at: float, frame_step: float,
                 timecode: Callable[[RawFrame], object], max_side: int | None) -> Iterator[Frame]:
    """The end of the range: the detector's last cuts, the last scene's frame, the closing frame."""
    picker, detector = lane.picker, lane.detector
    last = lane.last
    if last is None or last.raw.index != last_raw.index:
        last = _Candidate(source.shrunk(last_raw, max_side), look(source.small_bgr(last_raw.frame, DETECT_WIDTH)))
    stop = min(last_raw.time + frame_step, stop_at) if frame_step else stop_at
    stop = max(stop, stop_at if last_raw.time >= stop_at - 2 * frame_step else stop)
    for cut in detector.post_process(timecode(last_raw)):
        cut_time = float(cut.seconds)
        if picker.scene_start + 1e-6 < cut_time < stop:
            picker.cut(cut_time)
    if not lane.opening_done:
        lane.open_with(min(picker.buffer.clean(), key=lambda c: c.time, default=None))
    if picker.hybrid:
        picker.buffer.offer(last, force=True)
    picker.finish(stop)
    if picker.blank_only():
        yield from picker.flush(math.inf)
        return
    closing = _closing(picker) if picker.hybrid else None
    if closing is not None and closing.raw.index not in picker.emitted:
        picker.emit(closing)  # the closing frame
    yield from picker.flush(math.inf)


def _closing(picker: _Picker) -> _Candidate | None:
    """The last clean frame after the last one emitted (the final frame unless it is faded)."""
    after = picker.last_emitted if picker.last_emitted is not None else -math.inf
    pool = [c for c in picker.buffer.clean() if c.time > after + 1e-9]
    return max(pool, key=lambda c: c.time, default=None)
