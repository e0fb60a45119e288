"""WebVTT: chapter cues for chapters, subtitles for a transcript."""

from __future__ import annotations

from typing import Any

from ..exports import subtitles, webvtt_chapters
from . import Format, Rendered

_BY_TASK = {"chapters": lambda result: webvtt_chapters(result.chapters), "transcript": lambda t: subtitles(t, "vtt")}


def _vtt(task: Any, value: Any, extra: Any) -> Rendered:
    return _BY_TASK[task.name](value), ()


FORMAT = Format("vtt", _vtt, frozenset(_BY_TASK), rank=4)
