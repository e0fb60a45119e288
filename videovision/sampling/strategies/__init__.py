"""The sampling strategies, one module each, found by looking (a new one is one file):

    interval.py   one frame every ``every`` seconds (the first frame at or after each target)
    uniform.py    ``count`` frames at the centres of equal slices
    scenes.py     one clean representative per scene (:mod:`videovision.sampling.scenes`)
    hybrid.py     scenes plus fill so that no gap exceeds ``max_gap``; its gap chosen from the budget

Every module of this package that defines ``STRATEGY`` (a :class:`~.base.Strategy`) is a strategy,
named by ``STRATEGY.name``: ``--strategy`` and ``SamplingConfig.strategy`` take the name,
``sample()`` runs it, the frames cache key and ``frames.json`` hold the options it ``uses``. Importing
a strategy module loads nothing heavy (the CLI lists them at start): decoding libraries are imported
when its frames are taken.

    strategy_names()             -> ("interval", "uniform", "scenes", "hybrid")
    strategy_for("hybrid").uses  -> frozenset({"max_gap", "detector", "threshold", "min_scene_len"})
"""

from __future__ import annotations

from collections.abc import Mapping

from ...plugins import Found
from .base import OWN_OPTIONS, SCENE_OPTIONS, Progress, Strategy

__all__ = ["OWN_OPTIONS", "SCENE_OPTIONS", "Progress", "Strategy", "refresh", "strategies", "strategy_for",
           "strategy_names"]

_FOUND: Found[Strategy] = Found(__name__, "STRATEGY", order=lambda s: (s.rank, s.name))


def refresh() -> None:
    """Look for strategy modules again (after a module was added to the package's path)."""
    _FOUND.refresh()


def strategies() -> Mapping[str, Strategy]:
    """Every strategy: name → its ``STRATEGY``, the built-in ones first (by ``rank``), then by name."""
    return dict(_FOUND)


def strategy_names() -> tuple[str, ...]:
    """The values ``strategy`` (``--strategy``) takes."""
    return tuple(strategies())


def strategy_for(name: str) -> Strategy:
    """The strategy called ``name``.

    Raises:
        ConfigError: no such strategy (naming the field ``strategy``).
    """
    strategy = strategies().get(name)
    if strategy is None:
        from ...errors import ConfigError

        raise ConfigError(f"unknown strategy {name!r}: choose one of {', '.join(strategies())}", field="strategy")
    return strategy
