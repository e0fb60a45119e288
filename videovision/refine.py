"""The refine pass of ``ask``: a dense second look at each moment the overview cited.

An overview pass sees frames seconds apart (often 10-20 s), so a moment it cites is only placed
to within that gap. For each cited moment (at most ``TaskConfig.refine_max``, in answer order)
the refine pass samples the window around it at ``defaults.REFINE_FPS`` and asks the question
again about that window alone; the time it cites replaces the coarse one.

    plan, answers ──refine_windows──▶ [RefineWindow]     pure: which moments, which spans, which times
    plan, windows ──refine_requests─▶ [RefineRequest]    decode + pack the window frames, build the bodies
    replies       ──apply_refined───▶ RefineResult       answers with refined moments, the extra times sent
    plan          ──refine_estimate─▶ RefineEstimate     the pass's worst case, offline (plan / --dry-run)

A window is centred on the cited time and reaches half the gap between the overview frames
around it on each side (so it spans from about the frame before to the frame after), at least
``defaults.REFINE_MIN_HALF_WINDOW`` seconds, clipped to the video and to the plan's start/end.
Its frames are packed exactly like the overview's (same size, detail, format) and the window's
speech goes with them. Refined times are checked against every frame sent in either pass.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from . import defaults
from .models import estimate_cost
from .packing import Budget, pack
from .parsing import TimeCheck, parse_answers
from .plan import Plan
from .prompts import make_request
from .source import open_video
from .speech.fusion import FrameSpeech, render_line, segments_between, speech_by_frame
from .speech.transcript import Segment
from .tasks import task_named
from .timecode import time_label
from .types import Answer, ChatResult, Frame, Moment, PackedImage

__all__ = [
    "RefineEstimate",
    "RefineOutcome",
    "RefineRequest",
    "RefineResult",
    "RefineWindow",
    "apply_refined",
    "refine_estimate",
    "refine_requests",
    "refine_windows",
]

_SAME_TIME = 1e-6
"""Seconds under which two times are the same frame."""


# --------------------------------------------------------------------------- windows (pure)
@dataclass(frozen=True)
class RefineWindow:
    """The part of the video looked at again for one cited moment."""

    question: str
    cited: float
    """The overview's time for the moment, seconds."""
    start: float
    end: float
    times: tuple[float, ...]
    """Times to decode (each gives the first frame at or after it), ascending."""
    moments: tuple[tuple[int, int], ...]
    """(answer index, moment index) of every moment this window refines (one question citing one
    time twice is looked at once)."""

    @property
    def step(self) -> float:
        """Seconds between the frames asked for."""
        return (self.times[-1] - self.times[0]) / (len(self.times) - 1) if len(self.times) > 1 else 0.0


def refinable(plan: Plan) -> bool:
    """True when the plan's task can be refined (``ask``) with the refine pass on and frames to look at."""
    return (task_named(plan.prompt.task).refinable and plan.config.refine and plan.config.refine_max > 0
            and bool(plan.images))


def frame_cap(plan: Plan) -> int:
    """Frames one refine request carries at most: ``REFINE_MAX_FRAMES``, within the provider's
    images per request (times the cells of a grid)."""
    pc = plan.config.pack
    cells = pc.grid[0] * pc.grid[1] if pc.grid else 1
    return max(1, min(defaults.REFINE_MAX_FRAMES, pc.limits.max_images_per_request * cells))


def _clip_range(plan: Plan) -> tuple[float, float]:
    sampling = plan.config.sampling
    last = min(sampling.end, plan.video.duration) if sampling.end else plan.video.duration
    return sampling.start or 0.0, last


def window_around(plan: Plan, cited: float, anchor: float | None = None) -> tuple[float, float] | None:
    """(start, end) of the window for a moment cited at ``cited`` (None: outside the plan's range).

    Args:
        plan: the overview's plan (its frames set the gap).
        cited: the cited time.
        anchor: the overview frame the time stands for (its neighbours set the gap); ``cited`` when None.
    """
    lo, hi = _clip_range(plan)
    tolerance = plan.config.tolerance
    if not lo - tolerance <= cited <= hi + tolerance:
        return None
    cited = min(max(cited, lo), hi)
    seen = plan.seen_times
    at = cited if anchor is None else anchor
    before = seen[: bisect.bisect_left(seen, at - _SAME_TIME)]
    after = seen[bisect.bisect_right(seen, at + _SAME_TIME):]
    previous = before[-1] if before else None
    following = after[0] if after else None
    if previous is None:  # the first frame: the gap after it, mirrored
        previous = at - (following - at) if following is not None else lo
    if following is None:
        following = at + (at - previous) if before else hi
    half = max(defaults.REFINE_MIN_HALF_WINDOW, (following - previous) / 2)
    return max(lo, cited - half), min(hi, cited + half)


def window_times(start: float, end: float, cap: int) -> tuple[float, ...]:
    """Times in [start, end] ``1 / REFINE_FPS`` apart from ``start``, or ``cap`` spread evenly from
    ``start`` to ``end`` when that would be more."""
    every = 1.0 / defaults.REFINE_FPS
    count = math.floor((end - start) / every + 1e-9) + 1
    if count <= cap:
        return tuple(start + i * every for i in range(count))
    if cap == 1:
        return ((start + end) / 2,)
    return tuple(start + i * (end - start) / (cap - 1) for i in range(cap))


def refine_windows(plan: Plan, answers: Sequence[Answer]) -> list[RefineWindow]:
    """The windows to look at again: one per cited moment, in answer order, at most
    ``plan.config.refine_max`` (none unless :func:`refinable`).

    Args:
        plan: the overview's plan.
        answers: the overview's parsed answers.

    Returns:
        The windows (a moment outside the plan's time range gets none).
    """
    if not refinable(plan):
        return []
    cap = frame_cap(plan)
    windows: list[RefineWindow] = []
    index: dict[tuple[str, float], int] = {}
    for a, answer in enumerate(answers):
        for m, moment in enumerate(answer.moments):
            key = (answer.question, round(moment.time, 3))
            if key in index:
                w = index[key]
                windows[w] = replace(windows[w], moments=windows[w].moments + ((a, m),))
                continue
            if len(windows) >= plan.config.refine_max:
                continue
            anchor = moment.frame_time if moment.supported else None
            span = window_around(plan, moment.time, anchor)
            if span is None:
                continue
            index[key] = len(windows)
            windows.append(RefineWindow(answer.question, moment.time, span[0], span[1],
                                        window_times(span[0], span[1], cap), ((a, m),)))
    return windows


# --------------------------------------------------------------------------- requests (decode)
@dataclass(frozen=True)
class RefineRequest:
    """One refine request, ready to send."""

    window: RefineWindow
    images: tuple[PackedImage, ...]
    body: dict

    @property
    def sent_times(self) -> tuple[float, ...]:
        return tuple(t for image in self.images for t in image.frame_times)

    @property
    def image_tokens(self) -> int:
        """The images' predicted tokens (for the usage check)."""
        return sum(image.tokens for image in self.images)


def refine_instruction(window: RefineWindow) -> str:
    """What the refine request adds to the question."""
    a, b, near = time_label(window.start), time_label(window.end), time_label(window.cited)
    step = f"{window.step:.2g} s apart" if window.step else "one frame"
    return (f"These frames are a close look at the part from {a} to {b} ({step}). An overview of the whole "
            f"video placed the answer near {near}. Give the exact time of the moment: the label of the first "
            "frame that shows it, and the label where it ends when it lasts (a range). If these frames do not "
            "show it, say 'not in this window' and cite no time.")


def _window_speech(plan: Plan, window: RefineWindow, images: Sequence[PackedImage]) -> FrameSpeech | None:
    lines = segments_between(plan.speech.segments, window.start, window.end)
    return speech_by_frame([image.time for image in images], lines) if lines else None


def _window_body(plan: Plan, window: RefineWindow, images: Sequence[PackedImage],
                 speech: FrameSpeech | None) -> dict:
    """The exact body of a window's request, in the plan's wire."""
    pc = plan.config.pack
    options = replace(plan.prompt, questions=(window.question,))
    return plan.wire.encode(make_request(pc.model, images, plan.video, options, detail=pc.detail, limits=pc.limits,
                                         time_range=(window.start, window.end), spec=plan.spec, speech=speech,
                                         extra_instruction=refine_instruction(window)))


def _pack_window(plan: Plan, frames: Iterator[Frame], count: int) -> tuple[PackedImage, ...]:
    """The frames packed as the overview's were (size, detail, format, grid), every one kept."""
    pc = plan.config.pack
    cells = pc.grid[0] * pc.grid[1] if pc.grid else 1
    config = replace(pc, budget=Budget(max_frames=math.ceil(count / cells) * cells), frames_per_request=None)
    return pack(frames, config).images


def refine_requests(plan: Plan, windows: Sequence[RefineWindow],
                    video: str | os.PathLike | None = None) -> list[RefineRequest]:
    """Decode each window's frames and build its request.

    Args:
        plan: the overview's plan.
        windows: from :func:`refine_windows`.
        video: the video file (``plan.video.path`` when None).

    Returns:
        One request per window that has frames, in window order.

    Raises:
        VideoOpenError: the video cannot be opened again.
        BudgetError: a window's frames do not fit the provider's limits.
    """
    if not windows:
        return []
    requests: list[RefineRequest] = []
    with open_video(video if video is not None else plan.video.path) as source:
        for window in windows:
            frames = source.frames_at(window.times, max_side=plan.config.sampling.max_side)
            first = next(frames, None)
            if first is None:
                continue
            images = _pack_window(plan, itertools.chain((first,), frames), len(window.times))
            body = _window_body(plan, window, images, _window_speech(plan, window, images))
            requests.append(RefineRequest(window, images, body))
    return requests


# --------------------------------------------------------------------------- replies (pure)
Status = Literal["refined", "not_shown", "unsupported", "outside", "failed"]


@dataclass(frozen=True)
class RefineOutcome:
    """What one refine request did to its moments."""

    window: RefineWindow
    status: Status
    """``refined``: a new time replaced the overview's; ``not_shown``: the reply cites no time;
    ``unsupported``: it cites only times no frame sent supports; ``outside``: only times outside
    the window; ``failed``: no reply. In every case but ``refined`` the overview's moment stays."""
    time: float | None = None
    """The refined time, or the first time the reply cited (``unsupported`` / ``outside``)."""


@dataclass(frozen=True)
class RefineResult:
    answers: tuple[Answer, ...]
    sent_times: tuple[float, ...]
    """Times of the frames the refine requests sent (add them to the run's seen times)."""
    outcomes: tuple[RefineOutcome, ...]


def refine_check(plan: Plan, requests: Sequence[RefineRequest]) -> TimeCheck:
    """Checks times against every frame sent in either pass (and the speech sent)."""
    return plan.time_check([t for r in requests for t in r.sent_times])


def _outcome(window: RefineWindow, reply: ChatResult | None, check: TimeCheck) -> tuple[RefineOutcome, Moment | None]:
    if reply is None:
        return RefineOutcome(window, "failed"), None
    cited = parse_answers(reply.text, (window.question,), check)[0].moments
    if not cited:
        return RefineOutcome(window, "not_shown"), None
    supported = [m for m in cited if m.supported]
    if not supported:
        return RefineOutcome(window, "unsupported", cited[0].time), None
    slack = check.tolerance + _SAME_TIME
    inside = [m for m in supported if window.start - slack <= m.time <= window.end + slack]
    if not inside:
        return RefineOutcome(window, "outside", supported[0].time), None
    return RefineOutcome(window, "refined", inside[0].time), inside[0]


def _refined(coarse: Moment, fine: Moment) -> Moment:
    """The refined moment: its time, its end (the overview's when it gives none and that still
    lies after it), its text (the overview's when empty)."""
    end = fine.end
    if end is None and coarse.end is not None and coarse.end > fine.time:
        end = coarse.end
    return Moment(time=fine.time, end=end, text=fine.text or coarse.text, frame_time=fine.frame_time,
                  supported=True, refined=True)


def apply_refined(plan: Plan, answers: Sequence[Answer], requests: Sequence[RefineRequest],
                  replies: Sequence[ChatResult | None]) -> RefineResult:
    """Replace each refined moment by the time the window's reply cites.

    Args:
        plan: the overview's plan.
        answers: the overview's answers.
        requests: from :func:`refine_requests`.
        replies: one per request, in order (None: that request failed; its moments stay coarse).

    Returns:
        The answers, the extra times sent, and what happened to each window.
    """
    check = refine_check(plan, requests)
    moments = [list(a.moments) for a in answers]
    outcomes: list[RefineOutcome] = []
    for request, reply in zip(requests, replies, strict=True):
        outcome, fine = _outcome(request.window, reply, check)
        outcomes.append(outcome)
        if fine is not None:
            for a, m in request.window.moments:
                moments[a][m] = _refined(moments[a][m], fine)
    out = tuple(replace(a, moments=tuple(ms)) for a, ms in zip(answers, moments))
    sent = tuple(sorted(t for r in requests for t in r.sent_times))
    return RefineResult(out, sent, tuple(outcomes))


# --------------------------------------------------------------------------- estimate (offline)
@dataclass(frozen=True)
class RefineEstimate:
    """The refine pass's worst case: every one of ``refine_max`` moments refined with the widest
    window, output at its limit."""

    requests: int
    frames: int
    """Frames per request at most."""
    image_tokens: int
    text_tokens: int
    output_tokens: int
    cost_usd: float | None
    exact: bool
    """False when the speech tokens are an estimate (transcription pending) or text was estimated."""

    def to_json(self) -> dict:
        return {"requests": self.requests, "frames_per_request": self.frames, "image_tokens": self.image_tokens,
                "text_tokens": self.text_tokens, "output_tokens": self.output_tokens,
                "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6), "exact": self.exact}


def _widest(plan: Plan) -> tuple[float, float]:
    """The widest window a moment cited at an overview frame can get."""
    spans = [window_around(plan, t, t) for t in plan.seen_times]
    return max((s for s in spans if s is not None), key=lambda s: s[1] - s[0], default=_clip_range(plan))


def _wordiest_lines(plan: Plan, width: float) -> tuple[Segment, ...]:
    """The spoken lines starting within a ``width``-second window that hold the most text."""
    segments = sorted(plan.speech.segments, key=lambda s: s.start)
    sizes = [len(render_line(s)) for s in segments]
    best, best_size, size, first = (0, 0), 0, 0, 0
    for last, segment in enumerate(segments):  # two pointers: lines in [segments[first].start, + width)
        size += sizes[last]
        while segment.start >= segments[first].start + width:
            size -= sizes[first]
            first += 1
        if size > best_size:
            best, best_size = (first, last + 1), size
    return tuple(segments[best[0]:best[1]])


def refine_estimate(plan: Plan) -> RefineEstimate | None:
    """The refine pass's worst-case tokens and cost, known before sending (None unless the plan's
    task is ``ask`` with refine on). Counts the widest window's frames at the overview's image
    size, the longest question, the wordiest window of speech, and output at its limit.

    Args:
        plan: the overview's plan.

    Returns:
        The estimate, or None.
    """
    if not refinable(plan):
        return None
    start, end = _widest(plan)
    times = window_times(start, end, frame_cap(plan))
    cells = plan.config.pack.grid[0] * plan.config.pack.grid[1] if plan.config.pack.grid else 1
    biggest = max(plan.images, key=lambda i: i.tokens)
    images = [replace(biggest, time=t, times=(), label=time_label(t)) for t in times[::cells]]
    question = max(plan.prompt.questions, key=len)
    window = RefineWindow(question, (start + end) / 2, start, end, times, ())
    lines = _wordiest_lines(plan, end - start)
    speech = speech_by_frame([i.time for i in images], lines) if lines else None
    count = plan.wire.count(_window_body(plan, window, images, speech), plan.spec)
    text, exact = count.text_tokens, count.exact
    if plan.speech.pending is not None:  # no lines yet: the window's share of the estimate
        span = max(1e-9, _clip_range(plan)[1] - _clip_range(plan)[0])
        text += math.ceil(plan.speech.tokens * min(1.0, (end - start) / span))
        exact = False
    n = plan.config.refine_max
    output = plan.prompt.output_tokens(plan.spec) * n
    cost = estimate_cost(plan.spec, n * (count.image_tokens + text), output)
    return RefineEstimate(requests=n, frames=len(times), image_tokens=n * count.image_tokens, text_tokens=n * text,
                          output_tokens=output, cost_usd=cost, exact=exact)

