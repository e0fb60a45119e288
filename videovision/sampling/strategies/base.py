"""What every sampling strategy offers: the interface, and the options it reads.

A strategy is an object with a ``name`` (what ``--strategy`` and ``SamplingConfig.strategy``
take), the options of its own it reads (``uses``: they enter the frames cache key and
``frames.json`` only for it), whether it finds scenes (``scene_aware``), the frames it chooses
(:meth:`Strategy.frames`) and, optionally, how it settles an automatic option once the video and
the frame budget are known (:meth:`Strategy.settle`: hybrid's gap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...source import VideoSource
    from ...types import Frame, SamplingConfig, VideoInfo
    from .. import FrameStream

Progress = Callable[[float, float], None]
"""progress(done_seconds, total_seconds)."""

OWN_OPTIONS = frozenset({"every", "count", "max_gap", "detector", "threshold", "min_scene_len"})
"""``SamplingConfig`` fields some strategies read and others ignore: in a strategy's :meth:`~Strategy.params`
only when it ``uses`` them (None otherwise). Every other field is shared and always there (``preset``
among them, as it always was: a cache key never changes)."""
SCENE_OPTIONS = frozenset({"detector", "threshold", "min_scene_len"})
"""The options of scene detection (:mod:`videovision.sampling.detectors`)."""


class Strategy:
    """One way of choosing frames. Subclass it in a module of this package that sets ``STRATEGY``.

    Attributes:
        name: the value of ``--strategy``.
        uses: the options of ``OWN_OPTIONS`` it reads (its part of the frames cache key).
        scene_aware: it finds scenes (the stream's ``scenes``, ``preset_used``).
        rank: its place in lists (``--help``, messages): the built-in ones first, then by name.
    """

    name: str = ""
    uses: frozenset[str] = frozenset()
    scene_aware: bool = False
    rank: int = 100

    def frames(self, source: VideoSource, config: SamplingConfig, start: float, end: float, stream: FrameStream,
               progress: Progress | None) -> Iterator[Frame]:
        """The frames chosen in [start, end) (checked by ``validate_config``), in ascending time; what
        else is learnt (scenes, notes, repeats, the preset) goes on ``stream``."""
        raise NotImplementedError

    def settle(self, config: SamplingConfig, info: VideoInfo, max_frames: int | None) -> SamplingConfig:
        """The config with the strategy's automatic choices made, from the video and the frame budget
        (``TaskConfig.auto_gap``); by default unchanged."""
        return config

    def params(self, config: SamplingConfig) -> dict:
        """Every sampling option, with the ones this strategy does not use set to None (the
        frames.json record and part of the frames cache key: a new shared option enters both by itself)."""
        unused = OWN_OPTIONS - self.uses
        return {k: None if k in unused or (k == "dedup_threshold" and not config.dedup) else v
                for k, v in asdict(config).items()}

