"""``uniform``: ``count`` frames at the centres of ``count`` equal slices of [start, end) (the
first frame at or after each centre); never more than the frames there (two targets on one frame
give it once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exact import AtTimes

if TYPE_CHECKING:
    from ...types import SamplingConfig
    from .. import FrameStream
    from ..exact import Window


class Uniform(AtTimes):
    name = "uniform"
    uses = frozenset({"count"})
    rank = 1

    def targets(self, config: SamplingConfig, start: float, end: float, window: Window,
                stream: FrameStream) -> list[float]:
        count = config.count
        if count > window.available:
            stream.notes.append(f"count={count} is more than the {window.available} frames between {start:g} s and "
                                f"{start + window.span:g} s: taking {window.available}")
            count = max(1, window.available)
        return [start + (i + 0.5) * window.span / count for i in range(count)]


STRATEGY = Uniform()
