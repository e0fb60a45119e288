"""YouTube chapters: ``0:00 Title`` lines for a video description (chapters only)."""

from __future__ import annotations

from ..exports import youtube_export
from . import Format

FORMAT = Format("youtube", lambda task, value, extra: youtube_export(value.chapters), frozenset({"chapters"}), rank=2)
