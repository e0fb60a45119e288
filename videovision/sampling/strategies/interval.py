"""``interval``: one frame every ``every`` seconds from ``start``: for each target time t the frame
returned is the first frame whose presentation time is >= t (exact on constant and variable frame
rate; seeks when targets are sparse, decodes forward when they are dense)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..exact import AtTimes

if TYPE_CHECKING:
    from ...types import SamplingConfig
    from .. import FrameStream
    from ..exact import Window


class Interval(AtTimes):
    name = "interval"
    uses = frozenset({"every"})
    rank = 0

    def targets(self, config: SamplingConfig, start: float, end: float, window: Window,
                stream: FrameStream) -> list[float]:
        wanted = math.floor(window.span / config.every - 1e-9) + 1
        if wanted > window.available:
            # more targets than frames cannot give more frames: every frame (without the huge list)
            stream.notes.append(f"every={config.every:g} s asks for more frames ({wanted:.3g}) than the "
                                f"{window.available} between {start:g} s and {start + window.span:g} s: "
                                "taking every frame")
            return window.times()
        return [t for t in (start + i * config.every for i in range(max(wanted, 1))) if t < end]


STRATEGY = Interval()
