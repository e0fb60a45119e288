"""Image tokens: what an image of a given size costs on a model, and the size the server keeps.

Two schemes (``docs/tokens.md``): **tile** models (gpt-4o, gpt-4.1, gpt-5, o3 ...) bill ``base`` at
``low`` and ``base + tile x tiles`` at ``high``; **patch** models (gpt-4.1-mini, o4-mini, gpt-5-mini,
gpt-5.2+ ...) bill ``ceil(multiplier x patches)`` of 32 px patches. Each scheme is one small object
(:class:`TileScheme`, :class:`PatchScheme`) with the same three questions: tokens of a size, worst case,
and the largest size the server will not resize.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from ..errors import ConfigError
from .registry import is_whole, resolve_model
from .spec import DEFAULT_MODEL, DETAILS, ModelSpec

_FLOAT_GUARD = 1e-9


def _round_scaled(value: int, num: int, den: int) -> int:
    """``round(value * num / den)`` exactly, ties to even (1024x1025 -> 512x512 was billed), at least 1."""
    return max(1, round(Fraction(value * num, den)))


def _check_size(width: int, height: int) -> None:
    if not (is_whole(width) and is_whole(height)) or width < 1 or height < 1:
        raise ValueError(f"Image size must be whole numbers >= 1, got {width!r}x{height!r}.")


def _check_detail(detail: str) -> None:
    if detail not in DETAILS:
        raise ConfigError(f"Unknown detail {detail!r}: use one of {', '.join(DETAILS)}.")


def _tile_resize(width: int, height: int, spec: ModelSpec) -> tuple[int, int]:
    """The size a tile model's ``high`` mode works on: fit in ``fit_box``, then short side <= ``short_side``."""
    w, h = width, height
    longest = max(w, h)
    if longest > spec.fit_box:
        w, h = _round_scaled(w, spec.fit_box, longest), _round_scaled(h, spec.fit_box, longest)
    shortest = min(w, h)
    if shortest > spec.short_side:                 # downscale only: small images are not enlarged
        w, h = _round_scaled(w, spec.short_side, shortest), _round_scaled(h, spec.short_side, shortest)
    return w, h


def _tiles(width: int, height: int, spec: ModelSpec) -> int:
    w, h = _tile_resize(width, height, spec)
    return math.ceil(w / spec.tile_size) * math.ceil(h / spec.tile_size)


def _patch_grid(w: int, h: int, p: int) -> int:
    return -(-w // p) * -(-h // p)


def _patch_count(width: int, height: int, budget: int, max_dim: int, p: int) -> int:
    """Patches billed (before the multiplier): docs/tokens.md section 3.2 (max-dimension first, then budget)."""
    w, h = width, height
    longest = max(w, h)
    if longest > max_dim:
        w, h = _round_scaled(w, max_dim, longest), _round_scaled(h, max_dim, longest)
    raw = _patch_grid(w, h, p)
    if raw <= budget:
        return raw
    r = math.sqrt(p * p * budget / (w * h))
    fw, fh = w * r / p, h * r / p
    adjust = min(math.floor(fw + _FLOAT_GUARD) / fw, math.floor(fh + _FLOAT_GUARD) / fh)
    if adjust <= 0:                                # a side under one patch: cannot shrink, bill the cap
        return budget
    r *= adjust
    rw = max(1, math.floor(w * r + _FLOAT_GUARD))
    rh = max(1, math.floor(h * r + _FLOAT_GUARD))
    return min(_patch_grid(rw, rh, p), budget)


def _apply_multiplier(patches: int, multiplier: float) -> int:
    """``ceil(patches x multiplier)`` in decimal, so 2500 x 1.62 is 4050, not 4051."""
    return math.ceil(Decimal(patches) * Decimal(repr(multiplier)))


def _patch_mode(spec: ModelSpec, detail: str) -> list[tuple[int, int]]:
    """(budget, max_dim) pairs the request may be billed under; the costliest is budgeted."""
    high = (spec.patch_budget_high, spec.max_dim_high)
    original = None
    if spec.patch_budget_original is not None and spec.max_dim_original is not None:
        original = (spec.patch_budget_original, spec.max_dim_original)
    if detail == "original":
        if original is None:
            raise ConfigError(f"Model {spec.name!r} has no 'original' detail: use 'high' (or 'low').")
        return [original]
    if detail == "auto":
        if spec.auto_means == "original" and original is not None:
            return [original]
        if spec.auto_means == "unknown" and original is not None:
            return [high, original]
    return [high]                                  # low = high on patch models (observed)


def _effective_detail(spec: ModelSpec, detail: str) -> str:
    _check_detail(detail)
    if not spec.supports_detail and detail != "original":
        return "auto"
    return detail


def _fit_box(width: int, height: int, long_max: int, short_max: int) -> tuple[int, int]:
    """Largest same-aspect size <= (width, height) with long side <= long_max and short side <= short_max."""
    longest, shortest = max(width, height), min(width, height)
    scale = min(Fraction(1), Fraction(long_max, longest), Fraction(short_max, shortest))
    if scale >= 1:
        return width, height
    # round(x) <= N whenever x <= N for an integer N, so rounding never breaks the limits
    return max(1, round(width * scale)), max(1, round(height * scale))


def _patch_target(width: int, height: int, budget: int, max_dim: int, p: int) -> tuple[int, int]:
    """Largest same-aspect size <= (width, height) with long side <= max_dim and <= budget patches."""
    w, h = _fit_box(width, height, max_dim, max_dim)
    if _patch_grid(w, h, p) <= budget:
        return w, h
    # start at the area bound (patches >= w*h/p^2) and step the long side down until the grid fits;
    # the grid only grows with the long side, so the first fit is the largest
    scale = min(1.0, math.sqrt(budget * p * p / (w * h)))
    long_side = max(1, math.floor(max(w, h) * scale))
    while long_side >= 1:
        if width >= height:
            cw, ch = long_side, max(1, round(Fraction(height * long_side, width)))
        else:
            cw, ch = max(1, round(Fraction(width * long_side, height))), long_side
        if _patch_grid(cw, ch, p) <= budget:
            return cw, ch
        long_side -= 1
    return 1, 1


class TileScheme:
    """Tile models: ``low`` = ``base``; ``high`` = ``base + tile x tiles`` of ``tile_size`` px after a
    "fit in ``fit_box``, short side <= ``short_side``" downscale. No ``original`` detail."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    def _detail(self, detail: str) -> str:
        if detail == "original":
            raise ConfigError(f"Model {self.spec.name!r} has no 'original' detail: use 'high' or 'low'.")
        return detail

    def tokens(self, width: int, height: int, detail: str) -> int:
        if self._detail(detail) == "low":
            return self.spec.base
        return self.spec.base + self.spec.tile * _tiles(width, height, self.spec)

    def max_tokens(self, detail: str) -> int:
        spec = self.spec
        if self._detail(detail) == "low":
            return spec.base
        short = min(spec.short_side, spec.fit_box)
        tiles = math.ceil(short / spec.tile_size) * math.ceil(spec.fit_box / spec.tile_size)
        return spec.base + spec.tile * tiles

    def target(self, width: int, height: int, detail: str) -> tuple[int, int]:
        spec = self.spec
        if self._detail(detail) == "low":
            return _fit_box(width, height, spec.low_res_box, spec.low_res_box)
        return _fit_box(width, height, spec.fit_box, min(spec.short_side, spec.fit_box))


class PatchScheme:
    """Patch models: ``ceil(multiplier x patches)`` of ``patch_size`` px patches under a patch budget
    and a max side (``low`` acts as ``high``; ``auto`` as the costlier mode it may mean)."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    def tokens(self, width: int, height: int, detail: str) -> int:
        patches = max(_patch_count(width, height, budget, max_dim, self.spec.patch_size)
                      for budget, max_dim in _patch_mode(self.spec, detail))
        return _apply_multiplier(patches, self.spec.multiplier)

    def max_tokens(self, detail: str) -> int:
        budget = max(b for b, _ in _patch_mode(self.spec, detail))
        return _apply_multiplier(budget, self.spec.multiplier)

    def target(self, width: int, height: int, detail: str) -> tuple[int, int]:
        # the smallest limits among the modes the request may be billed under: no resize in any of them
        modes = _patch_mode(self.spec, detail)
        budget, max_dim = min(m[0] for m in modes), min(m[1] for m in modes)
        return _patch_target(width, height, budget, max_dim, self.spec.patch_size)


def scheme(spec: ModelSpec) -> TileScheme | PatchScheme:
    """The image-token scheme object of a model."""
    return TileScheme(spec) if spec.scheme == "tile" else PatchScheme(spec)


def _scheme_and_detail(model: str | ModelSpec, detail: str) -> tuple[TileScheme | PatchScheme, str]:
    spec = resolve_model(model)
    return scheme(spec), _effective_detail(spec, detail)


def image_tokens(width: int, height: int, model: str | ModelSpec = DEFAULT_MODEL, detail: str = "low") -> int:
    """Tokens the model bills for an image of this size (an upper bound where billing is unknown).

    Tile models: ``low`` = base; ``high`` and ``auto`` = base + tile x tiles. Patch models:
    ``ceil(multiplier x patches)``; ``low`` costs as ``high``; ``auto`` as the costlier of what it may
    mean; ``original`` uses the model's original-detail budget.

    Args:
        width: image width in pixels (as sent).
        height: image height in pixels.
        model: model name or spec.
        detail: ``low``, ``high``, ``auto`` or ``original``.

    Returns:
        Image tokens (not counting any text).

    Raises:
        ValueError: a size is not a whole number >= 1.
        ConfigError: unknown ``detail``, or ``original`` on a model without it.
    """
    _check_size(width, height)
    sch, detail = _scheme_and_detail(model, detail)
    return sch.tokens(width, height, detail)


def max_image_tokens(model: str | ModelSpec = DEFAULT_MODEL, detail: str = "low") -> int:
    """The most one image can cost on this model and detail, whatever its size (for remote URLs).

    Args:
        model: model name or spec.
        detail: ``low``, ``high``, ``auto`` or ``original``.

    Returns:
        Worst-case image tokens.

    Raises:
        ConfigError: unknown ``detail``, or ``original`` on a model without it.
    """
    sch, detail = _scheme_and_detail(model, detail)
    return sch.max_tokens(detail)


def target_size(width: int, height: int, model: str | ModelSpec = DEFAULT_MODEL, detail: str = "low") -> tuple[int, int]:
    """The largest size, at most (width, height) and of the same aspect ratio (rounded), that the
    server will not resize, so that ``image_tokens`` of it is what the server computes.

    - tile models, ``low``: fit in ``low_res_box`` (512 x 512);
    - tile models, ``high``/``auto``: short side <= 768 and long side <= 2048;
    - patch models (any detail; ``low`` acts as ``high``): ``ceil(w/32) x ceil(h/32)`` <= the patch
      budget and long side <= the max dimension (the ``original`` limits for ``original``, or for
      ``auto`` on models where auto means original).

    Never upscales.

    Args:
        width: source width in pixels.
        height: source height in pixels.
        model: model name or spec.
        detail: ``low``, ``high``, ``auto`` or ``original``.

    Returns:
        (width, height) to resize to; the input size when it already fits.

    Raises:
        ValueError: a size is not a whole number >= 1.
        ConfigError: unknown ``detail``, or ``original`` on a model without it.
    """
    _check_size(width, height)
    sch, detail = _scheme_and_detail(model, detail)
    return sch.target(width, height, detail)
