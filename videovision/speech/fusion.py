"""Fusion: spoken lines placed next to the frames of the same moment, within a token budget.

    speech_by_frame([0.0, 5.0, 9.8], segments)
        ──▶ FrameSpeech(before=(lines before 0.0), frames=((lines in [0, 5)), (in [5, 9.8)), (from 9.8 on)))
    fit_speech(segments, max_tokens, count_tokens) ──▶ SpeechBudget(kept segments, dropped, tokens)

A request then carries, after each image's label and image, the lines spoken from that frame's
time until the next frame's, each with its own time label (``[00:00:06.0] Bob: First, the
budget.``); lines spoken before the first frame come before the first image. Pure functions: the
prompt builder decides the exact wording around them. See docs/speech.md.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..timecode import time_label
from .transcript import Segment

__all__ = ["FrameSpeech", "SpeechBudget", "SpeechLine", "fit_speech", "render_line", "segments_between", "speech_by_frame"]


def render_line(segment: Segment) -> str:
    """One spoken line as sent to the model: ``[00:01:05.2] Alice: the words``."""
    who = f"{segment.speaker}: " if segment.speaker else ""
    return f"{time_label(segment.start)} {who}{segment.text}"


@dataclass(frozen=True)
class SpeechLine:
    """A segment with the text it is sent as.

    Attributes:
        segment: the spoken line.
        text: ``render_line(segment)``.
    """

    segment: Segment
    text: str

    @property
    def time(self) -> float:
        """When the line starts, seconds from the first frame."""
        return self.segment.start


@dataclass(frozen=True)
class FrameSpeech:
    """Spoken lines grouped by the frame they follow.

    Attributes:
        before: lines that start before the first frame (all lines when there are no frames).
        frames: for frame i, the lines starting in [time of frame i, time of frame i+1) (the last
            frame: from its time on), in time order.
    """

    before: tuple[SpeechLine, ...]
    frames: tuple[tuple[SpeechLine, ...], ...]

    @property
    def lines(self) -> tuple[SpeechLine, ...]:
        """Every line in time order."""
        return self.before + tuple(line for group in self.frames for line in group)


def _check_sorted(times: Sequence[float]) -> None:
    for a, b in itertools.pairwise(times):
        if not b >= a:
            raise ConfigError(f"frame times must be sorted ascending ({a!r} comes before {b!r})")


def speech_by_frame(frame_times: Sequence[float], segments: Sequence[Segment]) -> FrameSpeech:
    """Group spoken lines by the frame they belong after.

    Args:
        frame_times: the times of the frames sent, ascending (seconds from the first frame).
        segments: the spoken lines (any order).

    Returns:
        The lines before the first frame and, per frame, those from its time until the next frame's.

    Raises:
        ConfigError: the frame times are not sorted.
    """
    times = [float(t) for t in frame_times]
    _check_sorted(times)
    before: list[SpeechLine] = []
    groups: list[list[SpeechLine]] = [[] for _ in times]
    for segment in sorted(segments, key=lambda s: (s.start, s.end)):
        line = SpeechLine(segment, render_line(segment))
        slot = bisect.bisect_right(times, segment.start) - 1
        (before if slot < 0 else groups[slot]).append(line)
    return FrameSpeech(tuple(before), tuple(tuple(group) for group in groups))


def segments_between(segments: Sequence[Segment], start: float, end: float | None) -> tuple[Segment, ...]:
    """The lines that start in [start, end) (``end`` None: to the end), e.g. one map-reduce chunk's range."""
    return tuple(s for s in segments if s.start >= start and (end is None or s.start < end))


@dataclass(frozen=True)
class SpeechBudget:
    """The spoken lines that fit a token budget.

    Attributes:
        segments: the lines kept, in time order.
        dropped: how many lines were left out.
        tokens: tokens of the kept lines as rendered (``render_line``), one count per line.
    """

    segments: tuple[Segment, ...]
    dropped: int
    tokens: int


def _even_pick(n: int, k: int) -> list[int]:
    """k of n indices spread evenly (the centre of each of k equal slices)."""
    return [math.floor((j + 0.5) * n / k) for j in range(k)]


def fit_speech(
    segments: Sequence[Segment], max_tokens: int | None, count_tokens: Callable[[str], int]
) -> SpeechBudget:
    """Keep the spoken lines within ``max_tokens``, thinning them evenly over the whole video.

    When everything fits, everything is kept. Otherwise the largest number of lines that fits is
    kept, chosen evenly along the transcript (every other line, two of three ...), so the
    beginning, the middle and the end all keep their share; the end is never simply cut off.

    Args:
        segments: the lines (any order).
        max_tokens: the budget (None: no limit).
        count_tokens: tokens of one rendered line (e.g. the model's tokenizer).

    Returns:
        The lines kept and the tokens they take.

    Raises:
        ConfigError: a negative budget.
    """
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    costs = [int(count_tokens(render_line(s))) for s in ordered]
    total = sum(costs)
    if max_tokens is None or total <= max_tokens:
        return SpeechBudget(tuple(ordered), 0, total)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
        raise ConfigError(f"max_speech_tokens must be an integer >= 0, not {max_tokens!r}", field="max_speech_tokens")
    n = len(ordered)

    def cost(k: int) -> int:
        return sum(costs[i] for i in _even_pick(n, k)) if k else 0

    low, high = 0, n - 1  # the largest k with cost(k) <= max_tokens (n itself does not fit)
    while low < high:
        middle = (low + high + 1) // 2
        if cost(middle) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    kept = [ordered[i] for i in _even_pick(n, low)] if low else []
    return SpeechBudget(tuple(kept), n - len(kept), cost(low))
