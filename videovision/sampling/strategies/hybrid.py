"""``hybrid``: scene cuts plus fill so that no gap between chosen frames exceeds ``max_gap`` (the
scene pass of :mod:`videovision.sampling.scenes`); in a plan with a frame budget the gap is chosen
so that the fill alone fits it (:func:`auto_max_gap`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .base import SCENE_OPTIONS
from .scenes import Scenes

if TYPE_CHECKING:
    from ...types import SamplingConfig, VideoInfo

MIN_AUTO_GAP = 3.0
"""Seconds: the automatic hybrid gap never goes below this (short clips need few frames)."""


def auto_max_gap(duration: float, max_frames: int | None, start: float | None, end: float | None) -> float | None:
    """The hybrid gap that makes interval fill alone fit the frame budget (None: keep the default)."""
    if not max_frames:
        return None
    span = (min(end, duration) if end else duration) - (start or 0.0)
    return max(MIN_AUTO_GAP, span / max(1, max_frames - 2))


class Hybrid(Scenes):
    name = "hybrid"
    uses = SCENE_OPTIONS | {"max_gap"}
    rank = 3
    fills_gaps = True

    def settle(self, config: SamplingConfig, info: VideoInfo, max_frames: int | None) -> SamplingConfig:
        gap = auto_max_gap(info.duration, max_frames, config.start, config.end)
        return config if gap is None else replace(config, max_gap=gap)


STRATEGY = Hybrid()
