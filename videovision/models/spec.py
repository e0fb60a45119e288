"""The model table: every fact videovision knows about a model, in one place.

One :class:`ModelSpec` row per model or family (matched by name prefix): how it counts image tokens
(``scheme``: tile or patch, see ``docs/tokens.md``), its prices, its context window, whether it is a
reasoning model, its text encoding; the price snapshot laid over the typed prices. Looking names up,
registering models and pricing a request are :mod:`videovision.models.registry`'s; every function
there and in :mod:`videovision.models.images` / ``.text`` takes a spec or a name.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from .. import defaults
from ..types import Detail

logger = logging.getLogger("videovision")

Scheme = Literal["tile", "patch"]
ImageDetail = Literal["low", "high", "auto", "original"]
AutoMeans = Literal["high", "original", "unknown"]
Api = Literal["chat", "responses"]
ImageRule = Literal["documented", "observed", "undocumented"]

DEFAULT_MODEL = defaults.MODEL
"""Model assumed when none is given (named in :mod:`videovision.defaults`)."""
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

DETAILS: tuple[str, ...] = get_args(Detail)



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
    cached_input_price_per_m: float | None = None
    """USD per 1M input tokens served from the provider's prompt cache (``usage.prompt_tokens_details
    .cached_tokens``); None: unknown, priced as ordinary input (an upper bound)."""
    encoding: str | None = "o200k_base"
    """tiktoken encoding of the model's text; None when the tokenizer is unknown (estimate only)."""
    known: bool = True
    """False for the conservative default returned for a model not in the table: counts are estimates."""
    notes: str = ""
    context_window: int | None = None
    """Input + output tokens the model accepts in one request; None when unknown."""
    reasoning: bool = False
    """A reasoning model: accepts only the default temperature, spends output tokens on hidden
    reasoning (so it gets a larger default output limit), takes ``reasoning_effort``."""
    transcribe_price_per_minute: float | None = None
    """Speech-to-text models: USD per audio minute; None when unknown or not a transcription model."""
    api: Api = "chat"
    """The OpenAI API that serves the model: ``chat`` (Chat Completions and Responses) or
    ``responses`` (served only by the Responses API: gpt-5-pro, gpt-5.5-pro, o3-pro ...)."""
    image_rule: ImageRule = "documented"
    """Where the image-token rule comes from: OpenAI's vision guide (``documented``), measured billing
    only (``observed``), or nowhere (``undocumented``: the budget is a conservative guess, and each
    reply's reported ``image_tokens`` is compared with it)."""
    cache_write_price_per_m: float | None = None
    """USD per 1M input tokens written to the prompt cache (1.25x input on gpt-5.6 and later); None:
    cache writes are not billed apart."""
    long_context_start: int | None = None
    """Prompts with more input tokens than this bill the whole request at the ``long_context_*``
    prices (272K on gpt-5.4 and later); None: one price at every length."""
    long_context_input_price_per_m: float | None = None
    long_context_output_price_per_m: float | None = None
    long_context_cached_price_per_m: float | None = None
    long_context_cache_write_price_per_m: float | None = None
    price_source: str = ""
    """Where the prices come from (``genai-prices 0.2.3, 2026-12-02``; empty: typed into the table)."""

    @property
    def multiplier(self) -> float:
        """The patch multiplier used for budgets: ``max(doc, observed)`` (1.0 when neither is known)."""
        values = [m for m in (self.multiplier_doc, self.multiplier_observed) if m is not None]
        return max(values) if values else 1.0

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (the form ``register_model_from_dict`` and model files take)."""
        return dataclasses.asdict(self)



# ---------------------------------------------------------------------------------------------------
# The model table. One row per model or family; names are matched by longest prefix (see resolve_model).
# Sources are in docs/tokens.md (section 1); prices are as of PRICES_CHECKED.
# ---------------------------------------------------------------------------------------------------


def _tile(name: str, base: int, tile: int, price_in: float | None, price_out: float | None, context: int | None, *,
          short_side: int = DEFAULT_SHORT_SIDE, encoding: str = "o200k_base", reasoning: bool = False,
          notes: str = "") -> ModelSpec:
    return ModelSpec(name=name, scheme="tile", base=base, tile=tile, short_side=short_side,
                     input_price_per_m=price_in, output_price_per_m=price_out, encoding=encoding, notes=notes,
                     context_window=context, reasoning=reasoning)


def _patch(name: str, doc: float | None, observed: float | None, price_in: float | None, price_out: float | None,
           context: int | None, *, budget: int = DEFAULT_PATCH_BUDGET, budget_original: int | None = None,
           max_dim_original: int | None = None, auto_means: AutoMeans = "high", reasoning: bool = True,
           notes: str = "") -> ModelSpec:
    return ModelSpec(name=name, scheme="patch", patch_budget_high=budget, max_dim_high=DEFAULT_MAX_DIM,
                     patch_budget_original=budget_original, max_dim_original=max_dim_original,
                     multiplier_doc=doc, multiplier_observed=observed, auto_means=auto_means,
                     input_price_per_m=price_in, output_price_per_m=price_out, notes=notes,
                     context_window=context, reasoning=reasoning)


def _speech(name: str, per_minute: float | None, price_in: float | None = None,
            price_out: float | None = None) -> ModelSpec:
    return ModelSpec(name=name, scheme="patch", input_price_per_m=price_in, output_price_per_m=price_out,
                     transcribe_price_per_minute=per_minute, notes="speech to text (audio/transcriptions)")


_K128, _K200, _K400, _M1 = 128_000, 200_000, 400_000, 1_047_576

DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    # name, image tokens (tile: base, per tile | patch: multiplier doc, observed), USD per 1M in/out,
    # context window (input + output tokens, from OpenAI's model pages as of PRICES_CHECKED; None = unknown)
    # ---- tile models (512 px tiles) -----------------------------------------------------------
    _tile("gpt-4o", 85, 170, 2.50, 10.00, _K128),
    _tile("chatgpt-4o-latest", 85, 170, 5.00, 15.00, _K128),
    _tile("gpt-4o-mini", 2833, 5667, 0.15, 0.60, _K128,
          notes="tokens are ~33x gpt-4o's; the price makes the cost equal"),
    _tile("gpt-4.1", 85, 170, 2.00, 8.00, _M1),
    _tile("gpt-4.5", 85, 170, 75.00, 150.00, _K128),
    _tile("gpt-4-turbo", 85, 170, 10.00, 30.00, _K128, encoding="cl100k_base",
          notes="OBS: same as gpt-4o; no longer in the docs"),
    _tile("gpt-4-vision-preview", 85, 170, 10.00, 30.00, _K128, encoding="cl100k_base"),
    _tile("o1", 75, 150, 15.00, 60.00, _K200, reasoning=True,
          notes="o1-2024-12-17 was measured far below 75/150; the docs are kept"),
    _tile("o1-pro", 75, 150, 150.00, 600.00, _K200, reasoning=True),
    _tile("o3", 75, 150, 2.00, 8.00, _K200, reasoning=True),
    _tile("gpt-5", 70, 140, 1.25, 10.00, _K400, reasoning=True),
    _tile("gpt-5-chat-latest", 70, 140, 1.25, 10.00, _K128),
    _tile("gpt-5-pro", 70, 140, None, None, None, reasoning=True),
    _tile("gpt-5-codex", 70, 140, None, None, None, reasoning=True),
    _tile("o3-pro", 75, 150, None, None, None, reasoning=True),
    dataclasses.replace(_tile("gpt-5.1", 85, 170, None, None, None, reasoning=True,
                              notes="no documented image rule: budgeted as gpt-4o's 85/170 tiles (others assume 70/140)"),
                        image_rule="undocumented"),
    dataclasses.replace(_tile("gpt-5.1-chat-latest", 85, 170, None, None, None,
                              notes="no documented image rule: budgeted as gpt-4o's 85/170 tiles"),
                        image_rule="undocumented"),
    dataclasses.replace(_tile("gpt-5.1-codex-max", 85, 170, None, None, None, reasoning=True,
                              notes="no documented image rule: budgeted as gpt-4o's 85/170 tiles"),
                        image_rule="undocumented"),
    _tile("computer-use-preview", 65, 129, 3.00, 12.00, 8_192),
    _tile("gpt-image-1", 65, 129, None, None, None, short_side=512, notes="image input to image generation"),
    # ---- patch models (32 px patches); reasoning unless said otherwise ----------------------------
    _patch("gpt-4.1-mini", 1.62, 1.62, 0.40, 1.60, _M1, reasoning=False),
    _patch("gpt-4.1-nano", 2.46, 2.46, 0.10, 0.40, _M1, reasoning=False),
    _patch("o4-mini", 1.72, 1.72, 1.10, 4.40, _K200),
    _patch("codex-mini-latest", 1.72, 1.72, 1.50, 6.00, _K200),
    _patch("gpt-5-mini", 1.62, 1.2, 0.25, 2.00, _K400, notes="billing observed at 1.2x; the docs say 1.62x"),
    _patch("gpt-5-nano", 2.46, 1.5, 0.05, 0.40, _K400, notes="billing observed at 1.5x; the docs say 2.46x"),
    _patch("gpt-5-codex-mini", None, 1.2, None, None, None, notes="1.2x assumed (Codex estimates ceil(1536 x 1.2))"),
    _patch("gpt-5.1-codex-mini", None, 1.2, None, None, None,
           notes="1.2x assumed (Codex estimates ceil(1536 x 1.2))"),
    _patch("gpt-5.2", None, 1.2, 1.75, 14.00, None),
    _patch("gpt-5.2-chat-latest", None, 1.2, None, None, None, reasoning=False),
    _patch("gpt-5.2-codex", None, 1.2, None, None, None),
    _patch("gpt-5.3-codex", None, 1.2, 1.75, 14.00, None),
    _patch("gpt-5.4", None, 1.2, 2.50, 15.00, None, budget=2500, budget_original=10_000, max_dim_original=6000,
           notes="prices up to 272K input tokens"),
    _patch("gpt-5.4-mini", 1.62, 1.2, 0.75, 4.50, None, budget=2500,
           notes="docs say a 1536-patch budget; 2500 was billed for 1600x1600"),
    _patch("gpt-5.4-nano", 2.46, 1.2, 0.20, 1.25, None, budget=2500,
           notes="docs say a 1536-patch budget; 2500 was billed for 1600x1600"),
    _patch("gpt-5.5", None, 1.2, 5.00, 30.00, None, budget=2500, budget_original=10_000, max_dim_original=6000,
           auto_means="original", notes="auto or no detail means original; 1.2x assumed by others"),
    _patch("gpt-5.2-pro", None, 1.2, None, None, None),
    _patch("gpt-5.3-chat-latest", None, 1.2, None, None, None, reasoning=False),
    _patch("gpt-5.4-pro", None, 1.2, None, None, None, budget=2500, budget_original=10_000, max_dim_original=6000),
    _patch("gpt-5.5-pro", None, 1.2, None, None, None, budget=2500, budget_original=10_000, max_dim_original=6000,
           auto_means="original", notes="auto or no detail means original"),
    # GPT-5.6: original/auto keep the image as is (the raw patch count is billed; a 400 above 30 000 patches
    # is reported); low/high have "finite limits" the guide does not state: budgeted as 10 000 / 6000 px.
    *(_patch(n, None, 1.2, None, None, None, budget=10_000, budget_original=30_000, max_dim_original=65_535,
             auto_means="original", notes="high limits unstated (budgeted 10000 patches / 6000 px); "
             "original keeps the image; 1.2x assumed")
      for n in ("gpt-5.6", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna")),
    # GPT-6: OpenAI documents no image rule. Budgeted conservatively (x2.46, the largest multiplier of any
    # OpenAI patch model; no resize below 30 000 patches; auto = the costlier of high and original).
    *(dataclasses.replace(
        _patch(n, None, UNKNOWN_MODEL_MULTIPLIER, None, None, None, budget=10_000, budget_original=30_000,
               max_dim_original=65_535, auto_means="unknown",
               notes="no documented image rule: conservative budget; compare with the reported image_tokens"),
        image_rule="undocumented")
      for n in ("gpt-6-sol", "gpt-6-luna", "gpt-6-astra", "gpt-6.1-sol", "gpt-6.1-terra", "gpt-6.2-sol",
                "gpt-6.2-astra")),
    # ---- speech to text (USD per audio minute; gpt-4o-transcribe also bills tokens, approximated per minute)
    _speech("whisper-1", 0.006),
    _speech("gpt-4o-transcribe", 0.006),
    _speech("gpt-4o-mini-transcribe", 0.003),
    _speech("gpt-4o-transcribe-diarize", 0.006),
    _speech("gpt-transcribe", 0.0045),
)

_CACHED_INPUT_PRICES: dict[str, float] = {
    # USD per 1M cached input tokens (OpenAI's pricing page, as of PRICES_CHECKED): 50 % off for the
    # gpt-4o and o1 generation, 75 % for gpt-4.1 / o3 / o4-mini, 90 % for gpt-5 and later.
    "gpt-4o": 1.25, "gpt-4o-mini": 0.075, "gpt-4.1": 0.50, "gpt-4.1-mini": 0.10, "gpt-4.1-nano": 0.025,
    "gpt-4.5": 37.50, "o1": 7.50, "o3": 0.50, "o4-mini": 0.275, "codex-mini-latest": 0.375, "gpt-5": 0.125,
    "gpt-5-chat-latest": 0.125, "gpt-5-mini": 0.025, "gpt-5-nano": 0.005, "gpt-5.2": 0.175, "gpt-5.3-codex": 0.175,
    "gpt-5.4": 0.25, "gpt-5.4-mini": 0.075, "gpt-5.4-nano": 0.02, "gpt-5.5": 0.50,
}
DEFAULT_MODELS = tuple(dataclasses.replace(m, cached_input_price_per_m=_CACHED_INPUT_PRICES.get(m.name))
                       for m in DEFAULT_MODELS)

RESPONSES_ONLY: frozenset[str] = frozenset({
    "gpt-5-pro", "gpt-5-codex", "gpt-5.1-codex-max", "gpt-5.2-pro", "gpt-5.4-pro", "gpt-5.5-pro", "o1-pro", "o3-pro",
    "computer-use-preview"})
"""Models the Responses API serves and Chat Completions does not (the openai SDK's ``ResponsesModel``
literals that are not ``ChatModel`` ones); ``--api auto`` sends them to ``/v1/responses``."""

PRICES_FILE = Path(__file__).with_name("prices.json")
"""The price snapshot, written by ``scripts/refresh_prices.py`` from genai-prices."""


def _load_price_snapshot() -> dict[str, Any]:
    try:
        doc = json.loads(PRICES_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # a broken install: keep the typed prices
        logger.warning("Cannot read the price snapshot %s (%s): typed prices are used.", PRICES_FILE, err)
        return {}
    return doc if isinstance(doc, dict) and isinstance(doc.get("models"), dict) else {}


PRICE_SNAPSHOT: dict[str, Any] = _load_price_snapshot()
PRICE_SOURCE = f"{PRICE_SNAPSHOT.get('source', 'typed')}, {PRICE_SNAPSHOT.get('date', PRICES_CHECKED)}"
"""Where the table's prices come from: ``genai-prices 0.2.3, 2026-12-02``."""


def _priced(spec: ModelSpec) -> ModelSpec:
    """The row with its prices, tiers and context window from the genai-prices snapshot (when listed)."""
    api: Api = "responses" if spec.name in RESPONSES_ONLY else spec.api
    name = PRICE_SNAPSHOT.get("aliases", {}).get(spec.name, spec.name)
    entry = PRICE_SNAPSHOT.get("models", {}).get(name)
    if not isinstance(entry, dict):
        return dataclasses.replace(spec, api=api, price_source=f"typed, {PRICES_CHECKED}" if
                                   spec.input_price_per_m is not None else "")
    get = entry.get
    return dataclasses.replace(
        spec, api=api,
        input_price_per_m=get("input", spec.input_price_per_m),
        output_price_per_m=get("output", spec.output_price_per_m),
        cached_input_price_per_m=get("cache_read", spec.cached_input_price_per_m),
        cache_write_price_per_m=get("cache_write"),
        long_context_start=get("tier_start"),
        long_context_input_price_per_m=get("tier_input"),
        long_context_output_price_per_m=get("tier_output"),
        long_context_cached_price_per_m=get("tier_cache_read"),
        long_context_cache_write_price_per_m=get("tier_cache_write"),
        transcribe_price_per_minute=get("per_audio_minute", spec.transcribe_price_per_minute),
        context_window=get("context_window") or spec.context_window,
        price_source=PRICE_SOURCE)


DEFAULT_MODELS = tuple(_priced(m) for m in DEFAULT_MODELS)

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

ENCODINGS = ("o200k_base", "cl100k_base")
"""Text encodings videovision can count exactly (the files' hashes are in :mod:`videovision.models.text`)."""
