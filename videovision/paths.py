"""File paths as text (shared by the stages that print, store or log a path)."""

from __future__ import annotations

import os
import unicodedata

NAME_MAX_BYTES = 200
"""The longest name :func:`safe_name` makes, in UTF-8 bytes (file systems allow 255; a suffix fits)."""


def path_text(path: str | os.PathLike) -> str:
    """A path as printable, storable text: undecodable bytes (non-UTF-8 names) become ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def safe_name(text: str, *, max_bytes: int = NAME_MAX_BYTES) -> str:
    """``text`` as one file name that keeps its letters, in any script: NFC-normalised, with only
    path separators, control characters and a leading dot replaced (``clip ü.mp4`` stays
    ``clip ü.mp4``; ``a/b`` becomes ``a_b``; ``.env`` becomes ``_env``); cut on a character
    boundary to ``max_bytes`` of UTF-8 (the cut marked by a hash of the whole name).

    Args:
        text: a name (undecodable bytes, as lone surrogates, are written ``\\xNN`` first).
        max_bytes: the longest result in UTF-8 bytes.

    Returns:
        A non-empty name.
    """
    import hashlib

    text = unicodedata.normalize("NFC", path_text(text) if isinstance(text, str) else str(text))
    name = "".join("_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)
    name = ("_" + name[1:]) if name.startswith(".") else name
    name = name or "_"
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    mark = "-" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    cut = name.encode("utf-8")[: max_bytes - len(mark)].decode("utf-8", "ignore")
    return cut + mark
