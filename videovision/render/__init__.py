"""Present results (stage 7: render). Renderers take typed results and return strings; they never print.

    text.py        summaries, answers, chapters as text or Markdown, and their notes
    exports.py     YouTube chapter lines, WebVTT chapters, transcripts as lines and subtitles
    formats/       the output formats, one module each, found by looking (name → renderer, the tasks it serves)
    documents.py   every JSON document, ``schema_version`` first
    plans.py       the plan table
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .documents import answer_json, chapters_json, document, dumps, moment_json, result_document
from .exports import (
    YOUTUBE_MIN_CHAPTERS,
    YOUTUBE_MIN_SECONDS,
    subtitles,
    transcript_lines,
    webvtt_chapters,
    youtube_chapters,
    youtube_export,
)
from .formats import FORMATS, Format, format_names, render
from .plans import plan_table
from .text import (
    NO_ANSWER,
    NO_CHAPTERS,
    NO_FRAME_MARK,
    OUTSIDE_MARK,
    UNSUPPORTED_START,
    answer_notes,
    answers_text,
    chapter_notes,
    chapters_text,
    cue_text,
    marked_text,
    one_line,
    summary_notes,
    summary_text,
)

if TYPE_CHECKING:
    from ..speech.transcript import Transcript

__all__ = ["FORMATS", "NO_ANSWER", "NO_CHAPTERS", "NO_FRAME_MARK", "OUTSIDE_MARK", "UNSUPPORTED_START",
           "YOUTUBE_MIN_CHAPTERS", "YOUTUBE_MIN_SECONDS", "Format", "answer_json", "answer_notes", "answers_text",
           "chapter_notes", "chapters_json", "chapters_text", "cue_text", "document", "dumps", "format_names",
           "marked_text", "moment_json", "one_line", "plan_table", "render", "result_document", "subtitles",
           "summary_notes", "summary_text", "transcript_lines", "transcript_text", "webvtt_chapters",
           "youtube_chapters", "youtube_export"]


def transcript_text(transcript: Transcript, fmt: str = "text") -> str:
    """A transcript as ``text`` (a timed line each), ``srt``, ``vtt`` (subtitle files) or ``json``."""
    from ..tasks import TASKS

    return render(fmt, TASKS["transcript"], transcript)[0]
