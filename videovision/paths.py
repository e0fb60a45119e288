"""File paths as text (shared by the stages that print, store or log a path)."""

from __future__ import annotations

import os


def path_text(path: str | os.PathLike) -> str:
    """A path as printable, storable text: undecodable bytes (non-UTF-8 names) become ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
