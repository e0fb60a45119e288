"""Frames at target times, for the strategies that choose times rather than pictures (``interval``,
``uniform``): :class:`AtTimes`, the frames lying in a range, and the exact frame at each target (the
first whose presentation time is at or after it). Light to import, as every strategy module is."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .strategies.base import Progress, Strategy

if TYPE_CHECKING:
    from ..source import VideoSource
    from ..types import Frame, SamplingConfig
    from . import FrameStream


@dataclass(frozen=True)
class Window:
    """The frames in [start, end): ``available`` of them, from index ``lo``; ``span`` the seconds covered."""

    source: VideoSource
    lo: int
    hi: int
    span: float

    @property
    def available(self) -> int:
        return max(0, self.hi - self.lo)

    def times(self) -> list[float]:
        """Every frame's time (targets that give every frame)."""
        return [float(t) for t in self.source.frame_times[self.lo:self.hi]]


def frames_between(source: VideoSource, start: float, end: float) -> Window:
    """The frames in [start, end) (``end`` may be infinite: the end of the video)."""
    import numpy as np

    times = source.frame_times
    lo = int(np.searchsorted(times, start - 1e-6, side="left"))
    hi = int(np.searchsorted(times, end - 1e-6, side="left")) if math.isfinite(end) else len(times)
    span = (min(end, source.info.duration) if math.isfinite(end) else source.info.duration) - start
    return Window(source, lo, hi, span)


def exact_frames(source: VideoSource, targets: list[float], config: SamplingConfig, progress: Progress | None,
                 end: float) -> Iterator[Frame]:
    """The frame at each target (two targets on one frame give it once), before ``end``."""
    total = targets[-1] if targets else 0.0
    for frame in source.frames_at(targets, max_side=config.max_side):
        if frame.time >= end:
            return
        if progress:
            progress(frame.time, total)
        yield frame


class AtTimes(Strategy):
    """A strategy that chooses times rather than pictures: the frame at (or first after) each of its
    :meth:`targets` (exact on any frame rate; seeking or decoding on, whichever is cheaper)."""

    def frames(self, source: VideoSource, config: SamplingConfig, start: float, end: float, stream: FrameStream,
               progress: Progress | None) -> Iterator[Frame]:
        targets = self.targets(config, start, end, frames_between(source, start, end), stream)
        return exact_frames(source, targets, config, progress, end)

    def targets(self, config: SamplingConfig, start: float, end: float, window: Window,
                stream: FrameStream) -> list[float]:
        """The target times, ascending, in [start, end) (``window``: the frames there)."""
        raise NotImplementedError
