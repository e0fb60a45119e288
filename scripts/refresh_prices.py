"""Refresh videovision/models/prices.json from genai-prices (the price database pydantic-ai uses).

Usage: ``pip install -U genai-prices && python scripts/refresh_prices.py``. Writes one entry per OpenAI
model genai-prices knows: USD per 1M tokens for input, output, cached reads and cache writes, the
long-context tier (its start and the tier prices) and the context window. videovision reads the
snapshot at import (no network, no runtime dependency); commit the refreshed file.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "videovision" / "models" / "prices.json"
KEYS = {"input_mtok": "input", "output_mtok": "output", "cache_read_mtok": "cache_read",
        "cache_write_mtok": "cache_write"}


def _price(value: Any) -> tuple[float | None, int | None, float | None]:
    """(base, tier start, tier price) of a genai-prices value (a Decimal or TieredPrices)."""
    if value is None:
        return None, None, None
    if isinstance(value, Decimal):
        return float(value), None, None
    tiers = list(getattr(value, "tiers", []) or [])
    base = float(value.base)
    if not tiers:
        return base, None, None
    return base, int(tiers[0].start), float(tiers[0].price)


def main() -> int:
    try:
        import genai_prices
        from genai_prices import data_snapshot
    except ImportError:
        print("refresh_prices: install genai-prices first (pip install genai-prices).", file=sys.stderr)
        return 1
    now = dt.datetime.now(dt.timezone.utc)
    provider = next(p for p in data_snapshot.get_snapshot().providers if p.id == "openai")
    models: dict[str, dict[str, Any]] = {}
    for model in provider.models:
        prices = model.get_prices(now).__dict__
        entry: dict[str, Any] = {"context_window": model.context_window}
        for key, name in KEYS.items():
            base, start, tier = _price(prices.get(key))
            if base is None:
                continue
            entry[name] = base
            if start is not None:
                entry["tier_start"] = start
                entry[f"tier_{name}"] = tier
        hours = prices.get("audio_hours") or prices.get("input_audio_hours")
        if hours is not None:
            entry["per_audio_minute"] = round(float(hours) / 60, 6)
        if prices.get("input_audio_mtok") is not None:
            entry["input_audio"] = float(prices["input_audio_mtok"])
        if len(entry) > 1:
            models[model.id] = entry
    # videovision's table names that genai-prices' own matching maps to another of its entries
    # (gpt-5.6 is gpt-5.6-sol, gpt-5.2-chat-latest is gpt-5.2 ...)
    sys.path.insert(0, str(OUT.parent.parent.parent))
    from videovision.models.spec import DEFAULT_MODELS

    aliases = {}
    for spec in DEFAULT_MODELS:
        found = provider.find_model(spec.name)
        if found is not None and found.id != spec.name and found.id in models:
            aliases[spec.name] = found.id
    doc = {"source": f"genai-prices {genai_prices.__version__}", "date": now.date().isoformat(),
           "provider": "openai", "unit": "USD per 1M tokens (per_audio_minute: USD per minute)",
           "aliases": dict(sorted(aliases.items())), "models": dict(sorted(models.items()))}
    OUT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(models)} OpenAI models to {OUT} ({doc['source']}, {doc['date']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
