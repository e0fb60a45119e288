"""``interval``: one frame every ``every`` seconds from ``start``: for each target time t the frame
returned is the first frame whose presentation time is >= t (exact on constant and variable frame
rate; seeks when targets are sparse, decodes forward when they are dense)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .base import Progress, Strategy

if TYPE_CHECKING:
    from ...source import VideoSource
    from ...types import Frame, SamplingConfig
    from .. import FrameStream


class Interval(Strategy):
    name = "interval"
    uses = frozenset({"every"})
    rank = 0

    def frames(self, source: VideoSource, config: SamplingConfig, start: float, end: float, stream: FrameStream,
               progress: Progress | None) -> Iterator[Frame]:
        from ..exact import exact_frames, frames_between

        window = frames_between(source, start, end)
        wanted = math.floor(window.span / config.every - 1e-9) + 1
        if wanted > window.available:
            # more targets than frames cannot give more frames: every frame (without the huge list)
            stream.notes.append(f"every={config.every:g} s asks for more frames ({wanted:.3g}) than the "
                                f"{window.available} between {start:g} s and {start + window.span:g} s: "
                                "taking every frame")
            targets = window.times()
        else:
            targets = [t for t in (start + i * config.every for i in range(max(wanted, 1))) if t < end]
        return exact_frames(source, targets, config, progress, end)


STRATEGY = Interval()
