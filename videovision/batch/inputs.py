"""The videos of a batch: files, folders (walked for video extensions) and globs, each given a unique,
filesystem-safe output name (its stem)."""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..paths import safe_name

__all__ = ["STEM_MAX_BYTES", "VIDEO_EXTENSIONS", "VideoInput", "find_videos", "videos_of"]

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".wmv", ".flv",
    ".3gp", ".ogv",
})
"""What a folder walk picks up (compared case-insensitively). A file named on the command line is
taken whatever its extension."""
STEM_MAX_BYTES = 150
"""Longer stems (UTF-8 bytes) are cut on a character and given a hash of the full name (file names stay
under 255 bytes)."""


@dataclass(frozen=True)
class VideoInput:
    """One video of a batch."""

    path: str
    """The path as found (a file given, or joined from the folder given): shown and stored in the index."""
    stem: str
    """Unique, filesystem-safe name of its outputs (``<stem>.json``), from its path relative to the
    common root of the batch (``week1/talk.mp4`` -> ``week1__talk.mp4``)."""


def find_videos(inputs: Sequence[str | os.PathLike]) -> list[VideoInput]:
    """The videos named by files, folders (walked recursively for :data:`VIDEO_EXTENSIONS`) and globs.

    Args:
        inputs: paths and glob patterns.

    Returns:
        The videos sorted by path, each real file once, with unique output stems.

    Raises:
        ConfigError: an input does not exist or matches nothing, or no video was found at all.
    """
    found: dict[str, str] = {}  # real path -> path as found (the first spelling wins)
    for given in inputs:
        for path in _expand(os.fspath(given)):
            found.setdefault(os.path.realpath(path), path)
    if not found:
        raise ConfigError("no video found in " + ", ".join(os.fspath(i) for i in inputs)
                          + f" (extensions searched in folders: {' '.join(sorted(VIDEO_EXTENSIONS))})")
    paths = sorted(found.values())
    return [VideoInput(p, s) for p, s in zip(paths, _stems(paths))]


def _expand(given: str) -> list[str]:
    if os.path.isdir(given):
        return _walk(given)
    if os.path.exists(given):
        return [given]
    if glob.has_magic(given):
        matches = sorted(glob.glob(given, recursive=True))
        if not matches:
            raise ConfigError(f"{given}: no file matches this pattern")
        return [p for m in matches for p in (_walk(m) if os.path.isdir(m) else [m] if _is_video(m) else [])]
    raise ConfigError(f"{given}: no such file or folder")


def _is_video(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS


def _walk(folder: str) -> list[str]:
    out: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(os.path.join(root, f) for f in sorted(files) if _is_video(f) and not f.startswith("."))
    return out


def _stems(paths: Sequence[str]) -> list[str]:
    absolute = [os.path.abspath(p) for p in paths]
    root = os.path.commonpath([os.path.dirname(p) for p in absolute])
    stems = [_safe_stem(os.path.relpath(p, root)) for p in absolute]
    counts: dict[str, int] = {}
    for s in stems:
        counts[s.casefold()] = counts.get(s.casefold(), 0) + 1
    # a clash after normalising (ü composed and decomposed), also on case-insensitive file systems
    return [s if counts[s.casefold()] == 1 else f"{s}-{_short_hash(p)}" for s, p in zip(stems, absolute)]


def _safe_stem(relative: str) -> str:
    """A result's name: the video's path under the batch's root, its folders joined by ``__``,
    letters of any script kept (:func:`videovision.paths.safe_name`)."""
    stem = "__".join(safe_name(part) for part in Path(relative).parts)
    return safe_name(stem, max_bytes=STEM_MAX_BYTES)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def videos_of(inputs: Sequence[VideoInput] | Sequence[str | os.PathLike]) -> list[VideoInput]:
    found = [v for v in inputs if isinstance(v, VideoInput)]
    if found and len(found) == len(inputs):
        return found
    return find_videos([i for i in inputs if not isinstance(i, VideoInput)])
