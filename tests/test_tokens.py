"""Tests for videovision.models: every worked example of docs/tokens.md section 5, plus properties.

Text-token counts that need the real o200k_base tokenizer run only where its file is available
offline (tiktoken's cache); the conservative estimate is always checked against the known counts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import cv2
import numpy as np
import pytest

from videovision import defaults
from videovision.errors import ConfigError
from videovision.models import (
    DEFAULT_MODEL,
    ENCODINGS_DIR_ENV,
    PRICES_CHECKED,
    ModelSpec,
    TokenCount,
    chat_tokens,
    count_text_tokens,
    data_url_image_size,
    estimate_cost,
    estimate_text_tokens,
    image_size,
    image_tokens,
    load_models_file,
    max_image_tokens,
    prices,
    register_model,
    register_model_from_dict,
    reset_models,
    resolve_model,
    target_size,
)
from videovision.models import images as tk_images


@pytest.fixture(autouse=True)
def _fresh_table():
    reset_models()
    yield
    reset_models()


HAVE_O200K = count_text_tokens("a", "gpt-4o")[1]
needs_o200k = pytest.mark.skipif(not HAVE_O200K, reason="o200k_base encoding file not available offline")


# --------------------------------------------------------------------------------------------------
# Section 5a: tile models
# --------------------------------------------------------------------------------------------------

TILE_MODELS = {  # column -> a model name of that column
    "85/170": ("gpt-4o", "gpt-4.1", "gpt-4.5-preview", "gpt-4-turbo"),
    "70/140": ("gpt-5",),
    "75/150": ("o1", "o3"),
    "2833/5667": ("gpt-4o-mini",),
    "65/129": ("computer-use-preview",),
}
COLUMNS = ("85/170", "70/140", "75/150", "2833/5667", "65/129")
TABLE_5A = [  # (w, h): high tokens per column
    ((512, 512), (255, 210, 225, 8500, 194)),
    ((513, 513), (765, 630, 675, 25501, 581)),
    ((1024, 1024), (765, 630, 675, 25501, 581)),
    ((2048, 4096), (1105, 910, 975, 36835, 839)),
    ((1920, 1080), (1105, 910, 975, 36835, 839)),
    ((3840, 2160), (1105, 910, 975, 36835, 839)),
    ((1280, 720), (1105, 910, 975, 36835, 839)),
    ((640, 360), (425, 350, 375, 14167, 323)),
    ((128, 64), (255, 210, 225, 8500, 194)),
    ((600, 1000), (765, 630, 675, 25501, 581)),
    ((2049, 513), (1445, 1190, 1275, 48169, 1097)),
    ((2050, 513), (765, 630, 675, 25501, 581)),
    ((1800, 2400), (765, 630, 675, 25501, 581)),
    ((4096, 512), (765, 630, 675, 25501, 581)),
    ((1, 1), (255, 210, 225, 8500, 194)),
]
LOW_5A = (85, 70, 75, 2833, 65)


@pytest.mark.parametrize("size,expected", TABLE_5A, ids=[f"{w}x{h}" for (w, h), _ in TABLE_5A])
def test_tile_high_table_5a(size, expected):
    for column, want in zip(COLUMNS, expected):
        for model in TILE_MODELS[column]:
            assert image_tokens(*size, model, "high") == want, (model, size)
            assert image_tokens(*size, model, "auto") == want, (model, size)  # auto budgets as high


@pytest.mark.parametrize("size", [(512, 512), (4096, 8192), (1, 1), (1920, 1080)])
def test_tile_low_is_base(size):
    for column, want in zip(COLUMNS, LOW_5A):
        for model in TILE_MODELS[column]:
            assert image_tokens(*size, model, "low") == want


def test_tile_resize_steps_documented():
    spec = resolve_model("gpt-4o")
    assert tk_images._tile_resize(2048, 4096, spec) == (768, 1536)
    assert tk_images._tile_resize(3840, 2160, spec) == (1365, 768)
    assert tk_images._tile_resize(2049, 513, spec) == (2048, 513)      # 512.75 rounds up: 2 rows
    assert tk_images._tile_resize(2050, 513, spec) == (2048, 512)      # 512.4995 rounds down: 1 row
    assert tk_images._tile_resize(600, 1000, spec) == (600, 1000)      # never upscaled
    assert tk_images._tile_resize(1800, 2400, spec) == (768, 1024)


def test_gpt_image_1_short_side_512():
    assert image_tokens(1024, 1024, "gpt-image-1", "high") == 194
    assert image_tokens(1024, 1025, "gpt-image-1", "high") == 194  # 512.5 -> 512 (billed as 1 tile)


# --------------------------------------------------------------------------------------------------
# Section 5b: patch counts per budget, and the multiplier table
# --------------------------------------------------------------------------------------------------

TABLE_5B = [  # (w, h): patches at (1536, 2048), (2500, 2048), (10000, 6000)
    ((1024, 1024), (1024, 1024, 1024)),
    ((1800, 2400), (1452, 2451, 4275)),
    ((1600, 1600), (1521, 2500, 2500)),
    ((4000, 1474), (1536, 1536, 5875)),
    ((1920, 1080), (1508, 2040, 2040)),
    ((3840, 2160), (1508, 2304, 8160)),
    ((2048, 2048), (1521, 2500, 4096)),
    ((1280, 720), (920, 920, 920)),
    ((640, 360), (240, 240, 240)),
    ((512, 512), (256, 256, 256)),
    ((128, 64), (8, 8, 8)),
    ((4000, 100), (128, 128, 500)),
    ((1, 1), (1, 1, 1)),
]


def _unit_patch_model(name: str, budget: int, max_dim: int) -> ModelSpec:
    return ModelSpec(name=name, scheme="patch", patch_budget_high=budget, max_dim_high=max_dim)


@pytest.mark.parametrize("size,expected", TABLE_5B, ids=[f"{w}x{h}" for (w, h), _ in TABLE_5B])
def test_patch_counts_table_5b(size, expected):
    for (budget, max_dim), want in zip(((1536, 2048), (2500, 2048), (10000, 6000)), expected):
        spec = _unit_patch_model("unit", budget, max_dim)      # multiplier 1.0: tokens == patches
        assert image_tokens(*size, spec, "high") == want, (budget, size)


def test_patch_counts_through_real_models():
    # 1536 column x model multipliers
    assert image_tokens(4000, 1474, "gpt-4.1-mini", "high") == 2489   # billed 1536 x 1.62 (not 1449)
    assert image_tokens(1800, 2400, "gpt-4.1-mini-2025-04-14", "high") == 2353
    assert image_tokens(1600, 1600, "gpt-5-mini", "high") == math.ceil(1521 * 1.62)
    # gpt-5.4 / 5.5: high 2500 / 2048, original 10000 / 6000, x1.2
    assert image_tokens(1600, 1600, "gpt-5.4", "high") == 3000
    assert image_tokens(3840, 2160, "gpt-5.4", "original") == math.ceil(8160 * 1.2)
    assert image_tokens(3840, 2160, "gpt-5.4", "auto") == math.ceil(2304 * 1.2)          # auto = high on 5.4
    assert image_tokens(3840, 2160, "gpt-5.5", "auto") == math.ceil(8160 * 1.2)          # auto = original on 5.5
    assert image_tokens(4000, 100, "gpt-5.5", "original") == 600


MULTIPLIER_TABLE = {  # patches -> tokens for x1.0, 1.2, 1.5, 1.62, 1.72, 2.46
    1024: (1024, 1229, 1536, 1659, 1762, 2520),
    1452: (1452, 1743, 2178, 2353, 2498, 3572),
    1536: (1536, 1844, 2304, 2489, 2642, 3779),
    2500: (2500, 3000, 3750, 4050, 4300, 6150),
}


@pytest.mark.parametrize("patches", sorted(MULTIPLIER_TABLE))
def test_multiplier_table(patches):
    for multiplier, want in zip((1.0, 1.2, 1.5, 1.62, 1.72, 2.46), MULTIPLIER_TABLE[patches]):
        spec = ModelSpec(name="m", scheme="patch", patch_budget_high=patches, multiplier_doc=multiplier)
        # a square of exactly `patches` patches is never resized, so tokens = ceil(patches x m)
        side = int(math.isqrt(patches))
        if side * side == patches:
            assert image_tokens(32 * side, 32 * side, spec, "high") == want
        assert tk_images._apply_multiplier(patches, multiplier) == want


def test_budget_multiplier_is_max_of_doc_and_observed():
    assert resolve_model("gpt-5-mini").multiplier == 1.62      # doc 1.62 > observed 1.2
    assert resolve_model("gpt-5-nano").multiplier == 2.46      # doc 2.46 > observed 1.5
    assert resolve_model("gpt-5.2").multiplier == 1.2          # no doc multiplier, observed 1.2
    assert resolve_model("gpt-4.1-nano").multiplier == 2.46
    assert resolve_model("o4-mini").multiplier == 1.72
    assert image_tokens(1024, 1024, "gpt-5.2", "high") == 1229
    assert image_tokens(1024, 1024, "gpt-5-nano", "high") == 2520


def test_patch_low_costs_as_high():
    for model in ("gpt-4.1-mini", "o4-mini", "gpt-5-mini", "gpt-5.4-nano", "gpt-5.2"):
        for size in ((1920, 1080), (128, 64), (512, 512)):
            assert image_tokens(*size, model, "low") == image_tokens(*size, model, "high")


def test_max_image_tokens():
    assert max_image_tokens("gpt-4o", "low") == 85
    assert max_image_tokens("gpt-4o", "high") == 85 + 170 * 8            # 768 x 2048 -> 2 x 4 tiles
    assert max_image_tokens("gpt-4.1-mini", "high") == 2489
    assert max_image_tokens("gpt-5.4", "auto") == 3000
    assert max_image_tokens("gpt-5.5", "auto") == 12000
    rng = random.Random(7)
    for _ in range(200):
        w, h = rng.randint(1, 9000), rng.randint(1, 9000)
        for model, detail in (("gpt-4o", "high"), ("o3", "auto"), ("gpt-5-mini", "high"), ("gpt-5.5", "auto")):
            assert image_tokens(w, h, model, detail) <= max_image_tokens(model, detail)


def test_detail_errors():
    with pytest.raises(ConfigError):
        image_tokens(100, 100, "gpt-4o", "medium")
    with pytest.raises(ConfigError, match="original"):
        image_tokens(100, 100, "gpt-4o", "original")
    with pytest.raises(ConfigError, match="original"):
        image_tokens(100, 100, "gpt-4.1-mini", "original")
    with pytest.raises(ValueError):
        image_tokens(0, 100, "gpt-4o", "high")


# --------------------------------------------------------------------------------------------------
# Model names
# --------------------------------------------------------------------------------------------------

RESOLVE = [
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
    ("gpt-4.1-2025-04-14", "gpt-4.1"),
    ("gpt-4.1-nano", "gpt-4.1-nano"),
    ("openai/gpt-4o", "gpt-4o"),
    ("OpenAI/GPT-4o-Mini", "gpt-4o-mini"),
    ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"),
    ("gpt-4-turbo-preview", "gpt-4-turbo"),
    ("gpt-4.5-preview", "gpt-4.5"),
    ("o1-2024-12-17", "o1"),
    ("o1-pro", "o1-pro"),
    ("o3-2025-04-16", "o3"),
    ("o4-mini-2025-04-16", "o4-mini"),
    ("computer-use-preview-2025-03-11", "computer-use-preview"),
    ("gpt-5-2025-08-07", "gpt-5"),
    ("gpt-5-chat-latest", "gpt-5-chat-latest"),
    ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
    ("gpt-5-nano", "gpt-5-nano"),
    ("gpt-5.2-2025-12-11", "gpt-5.2"),
    ("gpt-5.2-chat-latest", "gpt-5.2-chat-latest"),
    ("gpt-5.2-codex", "gpt-5.2-codex"),
    ("gpt-5.3-codex", "gpt-5.3-codex"),
    ("gpt-5.4-2026-03-05", "gpt-5.4"),
    ("gpt-5.4-pro", "gpt-5.4-pro"),
    ("gpt-5.6-sol-2026-09-01", "gpt-5.6-sol"),
    ("gpt-6-luna-2026-10-01", "gpt-6-luna"),
    ("gpt-5.4-mini-2026-03-17", "gpt-5.4-mini"),
    ("gpt-5.4-nano", "gpt-5.4-nano"),
    ("gpt-5.5", "gpt-5.5"),
    ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "gpt-4o-mini"),
]


@pytest.mark.parametrize("name,expected", RESOLVE)
def test_resolve_model(name, expected):
    spec = resolve_model(name)
    assert spec.name == expected
    assert spec.known


def test_schemes_of_required_models():
    tile = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.5", "gpt-4-turbo", "o1", "o1-pro", "o3", "gpt-5",
            "gpt-5-chat-latest", "computer-use-preview"]
    patch = ["gpt-4.1-mini", "gpt-4.1-nano", "o4-mini", "gpt-5-mini", "gpt-5-nano", "gpt-5.2",
             "gpt-5.2-chat-latest", "gpt-5.2-codex", "gpt-5.3-codex", "gpt-5.4", "gpt-5.4-mini",
             "gpt-5.4-nano", "gpt-5.5"]
    assert {resolve_model(m).scheme for m in tile} == {"tile"}
    assert {resolve_model(m).scheme for m in patch} == {"patch"}
    assert resolve_model("gpt-5.5").auto_means == "original"


@pytest.mark.parametrize("name", ["llava:13b", "Qwen2-VL-7B", "gpt-5.9", "my-local-model"])
def test_unknown_model_default(name, caplog):
    caplog.set_level(logging.WARNING, logger="videovision")
    spec = resolve_model(name)
    resolve_model(name)
    image_tokens(640, 360, name, "low")
    assert spec.known is False and spec.name == name
    assert spec.scheme == "patch" and spec.supports_detail is False and spec.encoding is None
    warnings = [r for r in caplog.records if r.name == "videovision" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and name in warnings[0].getMessage()
    # conservative: detail is ignored (low costs as high), x2.46 on 32 px patches
    assert image_tokens(1280, 720, name, "low") == 2264
    assert image_tokens(1920, 1080, name, "high") == math.ceil(1508 * 2.46)
    assert image_tokens(1280, 720, name, "low") > max(
        image_tokens(1280, 720, m, "high") for m in ("gpt-4o", "gpt-4.1-mini", "o4-mini", "gpt-5-mini", "gpt-5.4"))
    assert prices(name) == (None, None)
    if not name.startswith("gpt-"):              # tokenizer unknown too: bytes, digits not grouped
        assert count_text_tokens("hello 123", name) == (9, False)
    else:                                        # a newer gpt-5.x: tiktoken knows its text encoding
        assert count_text_tokens("hello 123", name) in ((3, True), (7, False))


# --------------------------------------------------------------------------------------------------
# Registering models
# --------------------------------------------------------------------------------------------------


def test_register_fixed_cost_model_and_prefix():
    register_model_from_dict({"name": "My-VLM", "scheme": "tile", "base": 576, "tile": 0, "supports_detail": False})
    assert resolve_model("my-vlm-2025-01-01").name == "my-vlm"
    for size in ((16, 16), (4000, 3000)):
        for detail in ("low", "high", "auto"):
            assert image_tokens(*size, "my-vlm", detail) == 576


def test_register_override_and_reset():
    assert image_tokens(1024, 1024, "gpt-5-mini", "high") == 1659
    register_model_from_dict({"name": "gpt-5-mini", "like": "gpt-5-mini", "multiplier_observed": 1.9,
                              "input_price_per_m": 1.0})
    assert image_tokens(1024, 1024, "gpt-5-mini-2025-08-07", "high") == math.ceil(1024 * 1.9)
    assert estimate_cost("gpt-5-mini", 1_000_000) == pytest.approx(1.0)
    reset_models()
    assert image_tokens(1024, 1024, "gpt-5-mini", "high") == 1659


def test_registered_snapshot_wins_over_family():
    register_model_from_dict({"name": "gpt-4o-2024-05-13", "like": "gpt-4o",
                              "input_price_per_m": 5.0, "output_price_per_m": 15.0})
    assert prices("gpt-4o-2024-05-13") == (5.0, 15.0)
    assert prices("openai/gpt-4o-2024-08-06") == (2.5, 10.0)


def test_register_model_spec_directly():
    spec = register_model(ModelSpec(name="qwen2-vl", scheme="patch", patch_size=28, patch_budget_high=1280,
                                    max_dim_high=4000, multiplier_doc=1.0))
    assert spec.known
    assert image_tokens(1280, 720, "qwen2-vl", "high") == 46 * 26
    # 1316x740 = 47 x 27 = 1269 patches of 28 px; 1317x741 would be 48 x 27 = 1296 > 1280
    assert target_size(1920, 1080, "qwen2-vl", "high") == (1316, 740)
    assert image_tokens(1316, 740, "qwen2-vl", "high") == 1269


def test_models_file_json_and_toml(tmp_path):
    json_file = tmp_path / "models.json"
    json_file.write_text(json.dumps({"models": [
        {"name": "srv-a", "like": "gpt-4.1-mini", "patch_size": 28, "input_price_per_m": 0},
        {"name": "srv-b", "scheme": "tile", "base": 100, "tile": 200},
    ]}))
    specs = load_models_file(json_file)
    assert [s.name for s in specs] == ["srv-a", "srv-b"]
    assert image_tokens(28 * 10, 28 * 10, "srv-a", "high") == math.ceil(100 * 1.62)
    assert image_tokens(512, 512, "srv-b", "high") == 300
    assert estimate_cost("srv-a", 10_000) == 0.0

    toml_file = tmp_path / "models.toml"
    toml_file.write_text(
        '[models."gpt-4o"]\nlike = "gpt-4o"\ninput_price_per_m = 1.5\n\n'
        '[models.srv-c]\nscheme = "patch"\npatch_budget_high = 100\nmultiplier_doc = 2.0\n'
    )
    load_models_file(toml_file)
    assert prices("gpt-4o-2024-08-06") == (1.5, 10.0)
    assert image_tokens(32 * 20, 32 * 20, "srv-c", "high") == 200   # 400 patches shrunk to <= 100, x2


@pytest.mark.parametrize("bad", [
    {"name": "x", "scheme": "grid"},
    {"name": "x", "scheme": "tile", "base": -1, "tile": 10},
    {"name": "x", "scheme": "tile", "base": 0, "tile": 0},
    {"name": "x", "scheme": "patch", "patch_budget_high": 0},
    {"name": "x", "scheme": "patch", "multiplier_doc": 0},
    {"name": "x", "scheme": "patch", "multiplier_observed": "1.2"},
    {"name": "x", "scheme": "patch", "input_price_per_m": -1},
    {"name": "x", "scheme": "patch", "auto_means": "original"},
    {"name": "x", "scheme": "patch", "patch_budget_original": 100},
    {"name": "x", "scheme": "tile", "base": 1, "tile": 1, "auto_means": "original"},
    {"name": "x", "scheme": "patch", "encoding": "p50k_base"},
    {"name": "x", "scheme": "patch", "colour": "red"},
    {"name": "x"},
    {"scheme": "patch"},
    {"name": "x", "like": "no-such-model"},
    {"name": "", "scheme": "patch"},
])
def test_register_rejects_bad_values(bad):
    with pytest.raises(ConfigError):
        register_model_from_dict(bad)


def test_models_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read"):
        load_models_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_models_file(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"models": 3}')
    with pytest.raises(ConfigError):
        load_models_file(wrong)


# --------------------------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------------------------


def test_prices_and_cost():
    assert prices("gpt-4o") == (2.50, 10.00)
    assert prices("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert prices("gpt-4.1") == (2.00, 8.00)
    assert prices("gpt-4.1-mini") == (0.40, 1.60)
    assert prices("gpt-4.1-nano") == (0.10, 0.40)
    assert prices("o4-mini") == (1.10, 4.40)
    assert prices("o3") == (2.00, 8.00)
    assert prices("gpt-5") == (1.25, 10.00)
    assert prices("gpt-5-mini") == (0.25, 2.00)
    assert prices("gpt-5-nano") == (0.05, 0.40)
    assert estimate_cost("gpt-4o", 1_000_000, 100_000) == pytest.approx(2.5 + 1.0)
    assert estimate_cost("gpt-4o-mini", 8862) == pytest.approx(8862 * 0.15 / 1e6)
    assert estimate_cost("gpt-image-1", 1000) == pytest.approx(1000 * 5.0 / 1e6)  # genai-prices: text input
    assert estimate_cost("gpt-5.2-codex", 1000, 10) == pytest.approx((1000 * 1.75 + 10 * 14) / 1e6)  # genai-prices: as gpt-5.2
    assert estimate_cost("some-unknown-model", 1000) is None
    with pytest.raises(ValueError):
        estimate_cost("gpt-4o", -1)
    assert PRICES_CHECKED.startswith("2026-")
    default = resolve_model(DEFAULT_MODEL)
    # the default: a current model whose image rule OpenAI documents, the cheapest such by input price
    assert default.known and default.image_rule == "documented" and DEFAULT_MODEL == defaults.MODEL


# --------------------------------------------------------------------------------------------------
# target_size: never upscales, and the server formula then performs no resize
# --------------------------------------------------------------------------------------------------


def _server_tile_resize(w: int, h: int, short_side: int = 768, fit: int = 2048) -> tuple[int, int]:
    """docs/tokens.md 2.2, written independently (floats and round)."""
    if max(w, h) > fit:
        s = fit / max(w, h)
        w, h = round(w * s), round(h * s)
    if min(w, h) > short_side:
        s = short_side / min(w, h)
        w, h = round(w * s), round(h * s)
    return w, h


def _grid(w: int, h: int, p: int = 32) -> int:
    return math.ceil(w / p) * math.ceil(h / p)


def _random_sizes() -> list[tuple[int, int]]:
    rng = random.Random(20261125)
    sizes = [(rng.randint(1, 8000), rng.randint(1, 8000)) for _ in range(120)]
    sizes += [(rng.randint(1, 40), rng.randint(500, 9000)) for _ in range(15)]
    sizes += [(rng.randint(500, 9000), rng.randint(1, 40)) for _ in range(15)]
    sizes += [(1920, 1080), (1280, 720), (3840, 2160), (1080, 1920), (640, 480), (7680, 4320), (1, 1),
              (2049, 513), (1800, 2400), (4000, 1474), (1600, 1600), (100000, 3)]
    return sizes


TARGET_CASES = [
    ("gpt-4o", "low"), ("gpt-4o", "high"), ("gpt-4o", "auto"), ("o3", "high"), ("gpt-image-1", "high"),
    ("gpt-4.1-mini", "low"), ("gpt-4.1-mini", "high"), ("gpt-5-nano", "auto"), ("gpt-5.4", "high"),
    ("gpt-5.4", "auto"), ("gpt-5.4", "original"), ("gpt-5.5", "auto"), ("gpt-5.5", "high"),
    ("gpt-5.4-mini", "high"), ("some-unknown-vlm", "low"),
]


@pytest.mark.parametrize("model,detail", TARGET_CASES)
def test_target_size_is_a_no_resize_size(model, detail):
    spec = resolve_model(model)
    for w, h in _random_sizes():
        tw, th = target_size(w, h, model, detail)
        assert 1 <= tw <= w and 1 <= th <= h, (w, h, tw, th)                      # never upscale
        assert abs(tw * h - th * w) <= (w + h) / 2 + 1e-6 or min(tw, th) == 1     # same aspect, rounded
        tokens = image_tokens(tw, th, model, detail)
        if spec.scheme == "tile" and detail == "low":
            assert max(tw, th) <= 512
            assert (tw, th) == (w, h) or max(tw, th) == 512                       # largest that fits
            assert tokens == spec.base
        elif spec.scheme == "tile":
            assert _server_tile_resize(tw, th, spec.short_side) == (tw, th)       # server does not resize
            assert (tw, th) == (w, h) or max(tw, th) == 2048 or min(tw, th) == spec.short_side
            assert tokens == spec.base + spec.tile * math.ceil(tw / 512) * math.ceil(th / 512)
        else:
            mode = detail
            if detail == "auto":
                mode = "original" if spec.auto_means == "original" else "high"
            if not spec.supports_detail:
                mode = "high"
            budget = spec.patch_budget_original if mode == "original" else spec.patch_budget_high
            max_dim = spec.max_dim_original if mode == "original" else spec.max_dim_high
            assert max(tw, th) <= max_dim and _grid(tw, th) <= budget              # server does not resize
            assert tokens == math.ceil(Decimal(_grid(tw, th)) * Decimal(repr(spec.multiplier)))
            if (tw, th) != (w, h):                                                 # and it is the largest
                long_side = max(tw, th) + 1
                bigger = ((long_side, max(1, round(h * long_side / w))) if w >= h
                          else (max(1, round(w * long_side / h)), long_side))
                assert (bigger[0] > w or bigger[1] > h or max(bigger) > max_dim
                        or _grid(*bigger) > budget), (w, h, tw, th)


def test_target_size_examples():
    assert target_size(1920, 1080, "gpt-4o", "high") == (1365, 768)
    assert target_size(1920, 1080, "gpt-4o", "low") == (512, 288)
    assert target_size(640, 360, "gpt-4o", "high") == (640, 360)
    assert target_size(1280, 720, "gpt-4.1-mini", "high") == (1280, 720)
    tw, th = target_size(1920, 1080, "gpt-4.1-mini", "high")
    assert _grid(tw, th) <= 1536 and image_tokens(tw, th, "gpt-4.1-mini", "high") == math.ceil(_grid(tw, th) * 1.62)


# --------------------------------------------------------------------------------------------------
# Image headers (OpenCV-encoded files)
# --------------------------------------------------------------------------------------------------


def _encode(ext: str, w: int, h: int, params: list[int] | None = None) -> bytes:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (10, 200, 30)
    ok, buf = cv2.imencode(ext, img, params or [])
    assert ok
    return buf.tobytes()


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@pytest.mark.parametrize("w,h", [(1, 1), (128, 64), (1280, 720), (333, 777), (4000, 16)])
def test_image_headers_from_opencv(w, h):
    jpeg = _encode(".jpg", w, h)
    png = _encode(".png", w, h)
    webp_lossy = _encode(".webp", w, h, [cv2.IMWRITE_WEBP_QUALITY, 80])
    webp_lossless = _encode(".webp", w, h, [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert webp_lossy[12:16] == b"VP8 " and webp_lossless[12:16] == b"VP8L"
    for data, mime in ((jpeg, "image/jpeg"), (png, "image/png"), (webp_lossy, "image/webp"),
                       (webp_lossless, "image/webp")):
        assert image_size(data) == (w, h)
        assert data_url_image_size(_data_url(data, mime)) == (w, h)


def test_jpeg_with_large_metadata_before_the_frame_header():
    jpeg = _encode(".jpg", 321, 123)
    app = b"\xff\xe1" + (65535).to_bytes(2, "big") + b"\0" * 65533
    big = jpeg[:2] + app + app + jpeg[2:]                  # SOF now starts after 131 KB
    assert image_size(big) == (321, 123)
    assert data_url_image_size(_data_url(big, "image/jpeg")) == (321, 123)
    assert image_size(big[:1000]) is None                  # cut short: unknown, not wrong


def test_webp_vp8x_and_gif_headers():
    vp8x = b"RIFF" + (100).to_bytes(4, "little") + b"WEBP" + b"VP8X" + (10).to_bytes(4, "little") \
        + b"\x10\0\0\0" + (3999).to_bytes(3, "little") + (2159).to_bytes(3, "little")
    assert image_size(vp8x) == (4000, 2160)
    gif = b"GIF89a" + (640).to_bytes(2, "little") + (360).to_bytes(2, "little") + b"\0" * 10
    assert image_size(gif) == (640, 360)
    assert image_size(b"not an image") is None
    assert data_url_image_size("https://example.invalid/a.png") is None
    assert data_url_image_size("data:image/png;base64,!!!!") is None


# --------------------------------------------------------------------------------------------------
# Text tokens
# --------------------------------------------------------------------------------------------------

KNOWN_O200K = {  # counts from docs/tokens.md 5c and measured with tiktoken o200k_base
    "repeat word from attached image": 5,
    "You are a video analyst.": 6,
    "Describe these video frames.": 5,
    "[00:01:05.2]": 9,
    "[01:23:45.678] Frame 1234 of 99999": 17,
    '{"time": 12.5, "text": "a person opens the door"}': 18,
    "视频分析是一项重要的任务。": 8,
    "Привет, мир! Это видео.": 8,
    "🎬📹🎥 emoji test 👍🏽": 11,
    "https://example.com/video?id=1234567890&t=42s": 15,
    "  indented\n\n\tcode = foo_bar(x, y) # comment": 14,
    "<|endoftext|> special": 8,
    "3.14159265358979 1,000,000 2026-11-25": 20,
}

COOKBOOK_MESSAGES = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."},
]


@pytest.mark.parametrize("text,count", sorted(KNOWN_O200K.items()))
def test_estimate_never_below_known_counts(text, count):
    assert estimate_text_tokens(text) >= count
    assert estimate_text_tokens(text, digits_grouped=False) >= count


def test_estimate_rule():
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("abc") == 3                        # bytes
    assert estimate_text_tokens("é") == 2                          # UTF-8 bytes
    assert estimate_text_tokens("1234567") == 3                    # digits in groups of 3
    assert estimate_text_tokens("x²123") == 1 + 2 + 3              # next to another numeral: bytes
    assert estimate_text_tokens("1234567", digits_grouped=False) == 7


@needs_o200k
@pytest.mark.parametrize("text,count", sorted(KNOWN_O200K.items()))
def test_exact_counts(text, count):
    assert count_text_tokens(text, "gpt-4o") == (count, True)
    assert count_text_tokens(text, "gpt-5.4-mini") == (count, True)


def test_text_counts_are_exact_or_conservative():
    for text, count in KNOWN_O200K.items():
        n, exact = count_text_tokens(text, "gpt-4o")
        assert n == count if exact else n >= count


def test_missing_encoding_file_never_uses_the_network(tmp_path, monkeypatch):
    attempts = []

    def no_network(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    bad_dir = tmp_path / "encodings"
    bad_dir.mkdir()
    (bad_dir / "o200k_base.tiktoken").write_bytes(b"aGVsbG8= 0\n")        # wrong file: hash check rejects it
    monkeypatch.setenv(ENCODINGS_DIR_ENV, str(bad_dir))
    result = count_text_tokens("hello world", "gpt-4o")
    assert result in ((2, True), (11, False))     # exact only if tiktoken already had it loaded
    assert attempts == []


def _tiktoken_cached_o200k() -> Path | None:
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    path = Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()
    return path if path.is_file() else None


@pytest.mark.skipif(_tiktoken_cached_o200k() is None, reason="o200k_base file not in tiktoken's cache")
def test_encoding_file_from_encodings_dir(tmp_path):
    import gzip

    (tmp_path / "o200k_base.tiktoken.gz").write_bytes(gzip.compress(_tiktoken_cached_o200k().read_bytes()))
    env = dict(os.environ, TIKTOKEN_CACHE_DIR="", **{ENCODINGS_DIR_ENV: str(tmp_path)})
    code = ("from videovision.models import count_text_tokens as c; "
            "print(c('[01:23:45.678] Frame 1234 of 99999', 'gpt-4o'), c('x', 'gpt-4-turbo'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "(17, True) (1, False)", out.stderr


# --------------------------------------------------------------------------------------------------
# Section 5c: full prompts
# --------------------------------------------------------------------------------------------------


def test_cookbook_example_124():
    count = chat_tokens(COOKBOOK_MESSAGES, "gpt-4o")
    assert count.image_tokens == 0
    if count.exact:
        assert count.text_tokens == 124
    else:
        assert count.text_tokens >= 124
    assert chat_tokens(COOKBOOK_MESSAGES, "gpt-4o-mini").text_tokens == count.text_tokens


@pytest.mark.parametrize("detail,total", [("low", 97), ("high", 267)])
def test_community_check_c1(detail, total):
    url = _data_url(_encode(".png", 128, 64), "image/png")
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "repeat word from attached image"},
        {"type": "image_url", "image_url": {"url": url, "detail": detail}},
    ]}]
    count = chat_tokens(messages, "gpt-4o")
    assert count.image_tokens == total - 12 and count.images == 1
    if count.exact:
        assert count.text_tokens == 12 and count.total == total
    else:
        assert count.text_tokens >= 12
    # Responses API part shapes count the same
    responses = [{"role": "user", "content": [
        {"type": "input_text", "text": "repeat word from attached image"},
        {"type": "input_image", "image_url": url, "detail": detail},
    ]}]
    assert chat_tokens(responses, "gpt-4o") == count


@pytest.mark.parametrize("model,detail,images", [
    ("gpt-4o", "low", 8 * 85),
    ("gpt-4o", "high", 8 * 1105),
    ("gpt-4.1-mini", "high", 8 * 1491),
    ("gpt-5-mini", "high", 8 * 1491),      # budget uses max(doc 1.62, observed 1.2)
])
def test_video_example(model, detail, images):
    urls = [f"https://frames.invalid/{i}.jpg" for i in range(8)]
    messages = [
        {"role": "system", "content": "You are a video analyst."},
        {"role": "user", "content": [{"type": "text", "text": "Describe these video frames."}]
         + [{"type": "image_url", "image_url": {"url": u, "detail": detail}} for u in urls]},
    ]
    count = chat_tokens(messages, model, image_sizes={u: (1280, 720) for u in urls})
    assert count.image_tokens == images and count.images == 8
    if count.exact:
        assert count.text_tokens == 22
    else:
        assert count.text_tokens >= 22
    # without sizes, remote images are budgeted at the worst case and the count is not exact
    unknown = chat_tokens(messages, model)
    assert unknown.image_tokens == 8 * max_image_tokens(model, detail) and not unknown.exact


def test_video_example_with_real_jpeg_data_urls():
    url = _data_url(_encode(".jpg", 1280, 720), "image/jpeg")
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url, "detail": "high"}}] * 8}]
    assert chat_tokens(messages, "gpt-4o").image_tokens == 8 * 1105


@needs_o200k
def test_chat_exact_details():
    assert chat_tokens([{"role": "user", "name": "bob", "content": "hi"}], "gpt-4o") == TokenCount(10, 0, True, 0)
    assert chat_tokens([{"role": "assistant", "content": None}], "gpt-4o") == TokenCount(7, 0, True, 0)


def test_chat_errors_and_unknown_models(caplog):
    with pytest.raises(ValueError):
        chat_tokens([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}], "gpt-4o")
    with pytest.raises(ValueError):
        chat_tokens(["not a message"], "gpt-4o")
    caplog.set_level(logging.WARNING, logger="videovision")
    text_only = chat_tokens([{"role": "user", "content": "hello"}], "llama3:8b")
    assert not text_only.exact and text_only.text_tokens == 3 + 3 + 4 + 5
    assert not caplog.records                       # no vision row needed for a text-only request
    with_image = chat_tokens([{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://x.invalid/a.png"}}]}], "llama3:8b",
        image_sizes={"https://x.invalid/a.png": (1280, 720)})
    assert with_image.image_tokens == 2264 and not with_image.exact
    assert len(caplog.records) == 1


# ---- issue 18: current models, prices from the genai-prices snapshot -----------------------------

def test_current_models_known_and_priced_from_snapshot():
    from videovision.models.spec import PRICE_SNAPSHOT, PRICE_SOURCE
    assert PRICE_SNAPSHOT["source"].startswith("genai-prices ")
    for name in ("gpt-5.1", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-6-luna", "gpt-6-sol",
                 "gpt-6.1-sol", "gpt-6.1-terra", "gpt-5.5-pro", "gpt-5-pro", "o3-pro"):
        spec = resolve_model(name)
        assert spec.known and spec.name == name
        assert spec.input_price_per_m is not None and spec.output_price_per_m is not None, name
        assert spec.price_source == PRICE_SOURCE
    # the snapshot's values, not typed ones
    assert prices("gpt-5.6-luna") == (0.2, 1.2)
    assert prices("gpt-5.5-pro") == (30.0, 180.0)
    assert resolve_model("gpt-5.6-sol").cache_write_price_per_m == 5.0


def test_responses_only_models():
    for name in ("gpt-5-pro", "gpt-5.5-pro", "gpt-5.5-pro-2026-04-23", "o3-pro", "o1-pro"):
        assert resolve_model(name).api == "responses", name
    for name in ("gpt-5.5", "gpt-4o-mini", "gpt-6-luna"):
        assert resolve_model(name).api == "chat", name


def test_long_context_tier_and_cache_writes():
    # gpt-5.5: over 272K input tokens the whole request bills 2x input, 1.5x output
    assert estimate_cost("gpt-5.5", 272_000, 1000) == pytest.approx((272_000 * 5 + 1000 * 30) / 1e6)
    assert estimate_cost("gpt-5.5", 272_001, 1000) == pytest.approx((272_001 * 10 + 1000 * 45) / 1e6)
    # gpt-5.6-sol: cache writes at 1.25x input, cached reads at 0.1x
    assert estimate_cost("gpt-5.6-sol", 10_000, 0, cached_tokens=2000, cache_write_tokens=3000) == pytest.approx(
        (5000 * 4.0 + 2000 * 0.4 + 3000 * 5.0) / 1e6)
    # a model that bills no cache writes prices them as input
    assert estimate_cost("gpt-4o", 1000, 0, cache_write_tokens=1000) == pytest.approx(1000 * 2.5 / 1e6)


def test_gpt6_budgets_conservatively_and_says_so():
    spec = resolve_model("gpt-6-luna")
    assert spec.image_rule == "undocumented"
    # never below any documented patch model for the same frame
    assert image_tokens(1280, 720, "gpt-6-luna", "high") >= max(
        image_tokens(1280, 720, m, "high") for m in ("gpt-5.6-sol", "gpt-4.1-nano", "gpt-5.5"))
    assert resolve_model("gpt-5.6-sol").image_rule == "documented"


def test_gpt56_original_keeps_the_image():
    # GPT-5.6 original: no resize (up to 30 000 patches): a 4K frame is billed raw
    assert image_tokens(3840, 2160, "gpt-5.6-sol", "original") == math.ceil(120 * 68 * 1.2)


def test_models_table_columns_line_up_and_mark_the_default():
    from videovision.models.catalog import models_table

    lines = models_table().splitlines()
    header, rows = lines[0], [line for line in lines[1:] if line and not line.startswith("*")]
    column = header.index("rule")  # after the widest image-token cell ("patch x2.46, 10000 patches (30000 original)")
    assert all(line[column - 2: column] == "  " for line in rows), [r for r in rows if r[column - 2: column] != "  "]
    default = [line for line in rows if line.split()[1] == "*"]
    assert len(default) == 1 and default[0].startswith(DEFAULT_MODEL + " *")
