"""``uniform``: ``count`` frames at the centres of ``count`` equal slices of [start, end) (the
first frame at or after each centre); never more than the frames there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .base import Progress, Strategy

if TYPE_CHECKING:
    from ...source import VideoSource
    from ...types import Frame, SamplingConfig
    from .. import FrameStream


class Uniform(Strategy):
    name = "uniform"
    uses = frozenset({"count"})
    rank = 1

    def frames(self, source: VideoSource, config: SamplingConfig, start: float, end: float, stream: FrameStream,
               progress: Progress | None) -> Iterator[Frame]:
        from ..exact import exact_frames, frames_between

        window = frames_between(source, start, end)
        count = config.count
        if count > window.available:
            stream.notes.append(f"count={count} is more than the {window.available} frames between {start:g} s and "
                                f"{start + window.span:g} s: taking {window.available}")
            count = max(1, window.available)
        targets = [start + (i + 0.5) * window.span / count for i in range(count)]
        return exact_frames(source, targets, config, progress, end)


STRATEGY = Uniform()
