"""SubRip subtitles of a transcript."""

from __future__ import annotations

from ..exports import subtitles
from . import Format

FORMAT = Format("srt", lambda task, value, extra: (subtitles(value, "srt"), ()), frozenset({"transcript"}), rank=3)
