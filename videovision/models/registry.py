"""Model names and the table at run time: resolving a name (longest prefix), registering models
from code or a ``--models-file`` (JSON / TOML, checked), and pricing a request from its row.

The rows themselves are :mod:`videovision.models.spec`'s; the registry starts as a copy of them
(:func:`reset_models`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .spec import DEFAULT_MODEL, DEFAULT_MODELS, ENCODINGS, UNKNOWN_MODEL_MULTIPLIER, UNKNOWN_MODEL_SPEC, ModelSpec

logger = logging.getLogger("videovision")

_REASONING_NAME = re.compile(r"^(?:o\d|gpt-5(?!(?:\.\d+)?-chat))|codex", re.IGNORECASE)
"""Names of reasoning models not in the table (a newer o-series or gpt-5.x): a guess for unknown models only."""

_REGISTRY: dict[str, ModelSpec] = {}
_REGISTRY_LOCK = threading.Lock()
_WARNED: set[str] = set()


def reset_models() -> None:
    """Restore the built-in model table (drops every registered model) and forget past warnings."""
    with _REGISTRY_LOCK:
        _REGISTRY.clear()
        _REGISTRY.update({spec.name: spec for spec in DEFAULT_MODELS})
        _WARNED.clear()


def all_models() -> tuple[ModelSpec, ...]:
    """Every model in the table: the built-in rows and those registered since."""
    with _REGISTRY_LOCK:
        return tuple(_REGISTRY.values())


# ---------------------------------------------------------------------------------------------------
# Name resolution
# ---------------------------------------------------------------------------------------------------

def normalize_name(name: str) -> str:
    """``openai/GPT-4o-2024-08-06`` -> ``gpt-4o-2024-08-06``; ``ft:gpt-4o-mini-2024-07-18:org::id`` -> ``gpt-4o-mini-2024-07-18``."""
    n = name.strip().lower()
    if n.startswith("ft:"):
        n = n[3:]
    n = n.split(":", 1)[0]          # fine-tune ids, Ollama tags (llava:13b), OpenRouter :free
    return n.rsplit("/", 1)[-1]     # provider prefixes: openai/gpt-4o, azure/...


def lookup(normalized: str) -> ModelSpec | None:
    """Longest registered name equal to ``normalized`` or followed in it by ``-``."""
    with _REGISTRY_LOCK:
        best: ModelSpec | None = None
        for key, spec in _REGISTRY.items():
            matches = normalized == key or normalized.startswith(key + "-")
            if matches and (best is None or len(key) > len(best.name)):
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
    spec = lookup(normalize_name(model))
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
    return dataclasses.replace(UNKNOWN_MODEL_SPEC, name=model,
                               reasoning=bool(_REASONING_NAME.search(normalize_name(model))))


# ---------------------------------------------------------------------------------------------------
# Registering models (code or a JSON / TOML file)
# ---------------------------------------------------------------------------------------------------

_FIELDS = {f.name for f in dataclasses.fields(ModelSpec)}


def _check(cond: bool, spec_name: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"Model {spec_name!r}: {message}")


def is_whole(v: Any) -> bool:
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
        _check(is_whole(v) and v >= 1, n, f"{field_name} must be a whole number >= 1, not {v!r}.")
    for field_name in ("base", "tile"):
        v = getattr(spec, field_name)
        _check(is_whole(v) and v >= 0, n, f"{field_name} must be a whole number >= 0, not {v!r}.")
    if spec.scheme == "tile":
        _check(spec.base + spec.tile >= 1, n, "a tile model needs base or tile > 0.")
        _check(spec.auto_means == "high", n, "tile models have no 'original' detail: auto_means must be 'high'.")
    for field_name in ("patch_budget_original", "max_dim_original"):
        v = getattr(spec, field_name)
        _check(v is None or (is_whole(v) and v >= 1), n, f"{field_name} must be a whole number >= 1 or null, not {v!r}.")
    _check((spec.patch_budget_original is None) == (spec.max_dim_original is None), n,
           "set both patch_budget_original and max_dim_original, or neither.")
    _check(spec.auto_means in ("high", "original", "unknown"), n,
           f"auto_means must be 'high', 'original' or 'unknown', not {spec.auto_means!r}.")
    if spec.auto_means == "original":
        _check(spec.patch_budget_original is not None, n, "auto_means 'original' needs patch_budget_original.")
    for field_name in ("multiplier_doc", "multiplier_observed"):
        v = getattr(spec, field_name)
        _check(v is None or (_is_num(v) and v > 0), n, f"{field_name} must be a number > 0 or null, not {v!r}.")
    _check(isinstance(spec.api, str) and re.fullmatch(r"[a-z][a-z0-9_-]*", spec.api) is not None, n,
           f"api must be a wire's name (chat, responses, or a module of videovision/wires), not {spec.api!r}.")
    _check(spec.image_rule in ("documented", "observed", "undocumented"), n,
           f"image_rule must be 'documented', 'observed' or 'undocumented', not {spec.image_rule!r}.")
    _check(spec.long_context_start is None or (is_whole(spec.long_context_start) and spec.long_context_start >= 1), n,
           f"long_context_start must be a whole number >= 1 or null, not {spec.long_context_start!r}.")
    _check(isinstance(spec.price_source, str), n, "price_source must be a string.")
    for field_name in ("input_price_per_m", "output_price_per_m", "cached_input_price_per_m",
                       "cache_write_price_per_m", "long_context_input_price_per_m",
                       "long_context_output_price_per_m", "long_context_cached_price_per_m",
                       "long_context_cache_write_price_per_m"):
        v = getattr(spec, field_name)
        _check(v is None or (_is_num(v) and v >= 0), n, f"{field_name} must be a number >= 0 or null, not {v!r}.")
    for field_name in ("supports_detail", "known"):
        v = getattr(spec, field_name)
        _check(isinstance(v, bool), n, f"{field_name} must be true or false, not {v!r}.")
    _check(spec.encoding is None or spec.encoding in ENCODINGS, n,
           f"encoding must be one of {sorted(ENCODINGS)} or null, not {spec.encoding!r}.")
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
        base = lookup(normalize_name(like))
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
    _check_numbers(spec, label)
    return register_model(spec)


_POSITIVE_INTS = ("context_window", "short_side", "patch_budget_high", "max_dim_high")
_NON_NEGATIVE_INTS = ("base", "tile")
"""(a fixed-cost model has ``tile`` 0: every image costs ``base``)"""
_NON_NEGATIVE = ("input_price_per_m", "output_price_per_m", "cached_input_price_per_m", "transcribe_price_per_minute",
                 "multiplier_doc", "multiplier_observed")


def _check_numbers(spec: ModelSpec, label: str) -> None:
    """A models-file entry's numbers are in range (a negative context window or price is a typo)."""
    values = spec.to_dict()
    for names, least in ((_POSITIVE_INTS, 1), (_NON_NEGATIVE_INTS, 0)):
        for name in names:
            value = values.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
                raise ConfigError(f"Model {label!r}: {name} must be a whole number >= {least} (got {value!r}).")
    for name in _NON_NEGATIVE:
        value = values.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value < 0):
            raise ConfigError(f"Model {label!r}: {name} must be a number >= 0 (got {value!r}).")


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


BATCH_PRICE_FACTOR = 0.5
"""The OpenAI Batch API bills this share of the list price (input and output)."""


def estimate_cost(model: str | ModelSpec, input_tokens: int, output_tokens: int = 0, cached_tokens: int = 0,
                  cache_write_tokens: int = 0) -> float | None:
    """Estimated USD cost of a request at the table's list prices (no batch discount).

    A prompt longer than the model's ``long_context_start`` (272K input tokens on gpt-5.4 and later)
    bills the whole request at the long-context prices (2x input, 1.5x output where genai-prices
    lists them).

    Args:
        model: model name or spec.
        input_tokens: prompt tokens, cached ones included (as ``usage.prompt_tokens`` counts them).
        output_tokens: completion tokens (reasoning tokens included).
        cached_tokens: the part of ``input_tokens`` served from the provider's prompt cache, priced at
            the cached rate (at the input price when the table has none).
        cache_write_tokens: the part of ``input_tokens`` written to the prompt cache, priced at the
            cache-write rate where the model bills one (gpt-5.6 and later: 1.25x input).

    Returns:
        USD, or None when a needed price is unknown.

    Raises:
        ValueError: a token count is negative.
    """
    if input_tokens < 0 or output_tokens < 0 or cached_tokens < 0 or cache_write_tokens < 0:
        raise ValueError("Token counts must be >= 0.")
    spec = resolve_model(model) if isinstance(model, str) else model
    price_in, price_out = spec.input_price_per_m, spec.output_price_per_m
    price_cached, price_write = spec.cached_input_price_per_m, spec.cache_write_price_per_m
    if spec.long_context_start is not None and input_tokens > spec.long_context_start:
        price_in = spec.long_context_input_price_per_m or price_in
        price_out = spec.long_context_output_price_per_m or price_out
        price_cached = spec.long_context_cached_price_per_m or price_cached
        price_write = spec.long_context_cache_write_price_per_m or price_write
    if price_in is None or (output_tokens and price_out is None):
        return None
    cached = min(cached_tokens, input_tokens)
    written = min(cache_write_tokens, input_tokens - cached)
    price_cached = price_cached if price_cached is not None else price_in
    price_write = price_write if price_write is not None else price_in
    return ((input_tokens - cached - written) * price_in + cached * price_cached + written * price_write
            + output_tokens * (price_out or 0.0)) / 1_000_000



reset_models()
