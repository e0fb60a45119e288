"""``videovision models``: the models videovision knows, one row each, as JSON or a table.

Each row: the API that serves it, the image-token scheme and where its rule comes from, the detail
modes it takes, the context window, whether it reasons, and its prices with their source and date
(the genai-prices snapshot, ``scripts/refresh_prices.py``).
"""

from __future__ import annotations

from typing import Any

from .registry import all_models
from .spec import DEFAULT_MODEL, DETAILS, PRICE_SOURCE, ModelSpec


def detail_modes(spec: ModelSpec) -> tuple[str, ...]:
    """The ``detail`` values a model takes (``original`` only where OpenAI documents it)."""
    if spec.transcribe_price_per_minute is not None:
        return ()
    return tuple(d for d in DETAILS if d != "original" or spec.patch_budget_original is not None)


def image_scheme(spec: ModelSpec) -> str:
    """``tile 85/170``, ``patch x1.62, 1536 patches`` ... ; ``-`` for a speech model."""
    if spec.transcribe_price_per_minute is not None:
        return "-"
    if spec.scheme == "tile":
        return f"tile {spec.base}/{spec.tile}"
    text = f"patch x{spec.multiplier:g}, {spec.patch_budget_high} patches"
    if spec.patch_budget_original is not None:
        text += f" ({spec.patch_budget_original} original)"
    return text


def model_row(spec: ModelSpec) -> dict[str, Any]:
    """One model as the ``models --json`` row."""
    speech = spec.transcribe_price_per_minute is not None
    return {
        "name": spec.name, "kind": "transcription" if speech else "vision",
        "api": None if speech else spec.api,
        "image_scheme": None if speech else spec.scheme, "image_tokens": image_scheme(spec),
        "image_rule": None if speech else spec.image_rule, "detail_modes": list(detail_modes(spec)),
        "auto_means": None if speech else spec.auto_means,
        "context_window": spec.context_window, "reasoning": spec.reasoning,
        "prices": {
            "input_per_m": spec.input_price_per_m, "output_per_m": spec.output_price_per_m,
            "cached_input_per_m": spec.cached_input_price_per_m, "cache_write_per_m": spec.cache_write_price_per_m,
            "long_context_above": spec.long_context_start,
            "long_context_input_per_m": spec.long_context_input_price_per_m,
            "long_context_output_per_m": spec.long_context_output_price_per_m,
            "per_audio_minute": spec.transcribe_price_per_minute,
        },
        "price_source": spec.price_source or None, "notes": spec.notes,
    }


def models_json() -> dict[str, Any]:
    """Every model in the table (built-in and registered), sorted by name."""
    return {"price_source": PRICE_SOURCE, "models": [model_row(s) for s in sorted(all_models(), key=lambda s: s.name)]}


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def models_table() -> str:
    """The models as a plain-text table (USD per 1M tokens; speech models per audio minute), each column as
    wide as its widest cell; the default model is marked ``*``."""
    header = ("model", "api", "image tokens", "rule", "detail", "context", "in", "cached", "write", "out", ">272K")
    right = {5, 6, 7, 8, 9}
    rows: list[tuple[str, ...]] = []
    for spec in sorted(all_models(), key=lambda s: s.name):
        row = model_row(spec)
        name = spec.name + (" *" if spec.name == DEFAULT_MODEL else "")
        if row["kind"] == "transcription":
            rows.append((name, "audio", "(speech to text)", "", "", "",
                         f"${_money(spec.transcribe_price_per_minute)}/min", "", "", "", ""))
            continue
        tier = (f"x{spec.long_context_input_price_per_m / spec.input_price_per_m:g} in"
                if spec.long_context_input_price_per_m and spec.input_price_per_m else "")
        context = f"{spec.context_window // 1000}K" if spec.context_window else "-"
        rows.append((name, spec.api, row["image_tokens"], spec.image_rule, ",".join(row["detail_modes"]), context,
                     _money(spec.input_price_per_m), _money(spec.cached_input_price_per_m),
                     _money(spec.cache_write_price_per_m), _money(spec.output_price_per_m), tier))
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    lines = [line(header), *(line(r) for r in rows), "",
             f"* the default model. USD per 1M tokens (speech: per audio minute); prices: {PRICE_SOURCE} "
             "(refresh: scripts/refresh_prices.py). rule 'undocumented': OpenAI documents no image rule; budgets "
             "are conservative."]
    return "\n".join(lines) + "\n"
