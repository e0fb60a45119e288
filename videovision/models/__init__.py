"""Everything videovision knows about models, in one package.

    spec.py     the model table (ModelSpec: image scheme, prices, context window, reasoning flag)
    registry.py name resolution, registering models from code or a JSON/TOML file, request prices
    images.py   image tokens per scheme (tile, patch) and the size the server keeps
    text.py     text tokens offline (tiktoken files on disk, or a conservative estimate), chat totals
    headers.py  image sizes from file headers; data URLs

Resolve a name once (:func:`resolve_model`) and pass the :class:`ModelSpec` down; every function
also takes a name. How OpenAI counts image tokens, with worked examples: ``docs/tokens.md``.
"""

from .headers import data_url, data_url_image_size, image_size, split_data_url
from .images import image_tokens, max_image_tokens, target_size
from .registry import (
    BATCH_PRICE_FACTOR,
    estimate_cost,
    load_models_file,
    prices,
    register_model,
    register_model_from_dict,
    reset_models,
    resolve_model,
)
from .spec import DEFAULT_MODEL, DEFAULT_MODELS, PRICES_CHECKED, UNKNOWN_MODEL_SPEC, ModelSpec
from .text import ENCODINGS_DIR_ENV, TokenCount, chat_tokens, count_text_tokens, estimate_text_tokens

__all__ = [
    "BATCH_PRICE_FACTOR",
    "DEFAULT_MODEL",
    "DEFAULT_MODELS",
    "ENCODINGS_DIR_ENV",
    "PRICES_CHECKED",
    "UNKNOWN_MODEL_SPEC",
    "ModelSpec",
    "TokenCount",
    "chat_tokens",
    "count_text_tokens",
    "data_url",
    "data_url_image_size",
    "estimate_cost",
    "estimate_text_tokens",
    "image_size",
    "image_tokens",
    "load_models_file",
    "max_image_tokens",
    "prices",
    "register_model",
    "register_model_from_dict",
    "reset_models",
    "resolve_model",
    "split_data_url",
    "target_size",
]
