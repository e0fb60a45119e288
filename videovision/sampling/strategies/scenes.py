"""``scenes``: scene cuts → one clean representative per scene (the scene pass of
:mod:`videovision.sampling.scenes`, which detects with :mod:`videovision.sampling.detectors`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .base import SCENE_OPTIONS, Progress, Strategy

if TYPE_CHECKING:
    from ...source import VideoSource
    from ...types import Frame, SamplingConfig
    from .. import FrameStream


class Scenes(Strategy):
    name = "scenes"
    uses = SCENE_OPTIONS
    scene_aware = True
    rank = 2
    fills_gaps = False
    """Frames are added so that no gap between chosen frames exceeds ``max_gap`` (hybrid)."""

    def frames(self, source: VideoSource, config: SamplingConfig, start: float, end: float, stream: FrameStream,
               progress: Progress | None) -> Iterator[Frame]:
        from ..scenes import scene_pass

        return scene_pass(source, config, start, end, stream, progress, fill=self.fills_gaps)


STRATEGY = Scenes()
