"""Files made from results: YouTube chapter lines, WebVTT chapter cues, a transcript's lines and
subtitle files (SubRip, WebVTT, by pysubs2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..timecode import format_time
from ..types import Chapter, Chapters
from .text import NO_CHAPTERS, cue_text, one_line

if TYPE_CHECKING:
    from ..speech.transcript import Transcript

YOUTUBE_MIN_SECONDS = 10
"""YouTube shows chapters only when each lasts at least 10 s, ..."""
YOUTUBE_MIN_CHAPTERS = 3
"""... there are at least 3 of them, and the first starts at 0:00."""


def _youtube_stamp(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def youtube_export(chapters: Chapters) -> tuple[str, tuple[str, ...]]:
    """YouTube description lines (``0:00 Title``, whole seconds), made to follow YouTube's rules, and a
    warning for every change and for a list YouTube will not show.

    The first chapter starts at 0:00; a chapter shorter than 10 s merges with its neighbour (the one
    before it; the first with the next), keeping the longer one's title; fewer than 3 chapters are
    written but warned about. A reply with no chapter gives its raw text.

    Returns:
        (text, warnings).
    """
    if not chapters.chapters:
        return (chapters.raw + "\n" if chapters.raw else ""), ()
    items = [(int(c.start), c) for c in chapters.chapters]
    warnings: list[str] = []
    first = items[0][1]
    if items[0][0] > 0:
        warnings.append(f'YouTube needs the first chapter at 0:00: "{first.title}" moved there from '
                        f"{_youtube_stamp(items[0][0])}")
    items[0] = (0, first)
    while len(items) > 1:
        stops = [s for s, _ in items[1:]] + [int(items[-1][1].end)]
        lengths = [stop - start for (start, _), stop in zip(items, stops)]
        short = next((i for i, n in enumerate(lengths) if n < YOUTUBE_MIN_SECONDS), None)
        if short is None:
            break
        j = max(short - 1, 0)  # merge items j and j + 1
        keep, gone = (j, j + 1) if lengths[j] >= lengths[j + 1] else (j + 1, j)
        kept = items[keep][1]
        warnings.append(f"YouTube needs chapters of at least {YOUTUBE_MIN_SECONDS} s: \"{items[gone][1].title}\" "
                        f"({_youtube_stamp(items[gone][0])}, {lengths[gone]} s) merged into \"{kept.title}\"")
        items[j : j + 2] = [(items[j][0], Chapter(kept.start, items[j + 1][1].end, kept.title, kept.summary,
                                                  kept.supported))]
    if len(items) < YOUTUBE_MIN_CHAPTERS:
        warnings.append(f"YouTube shows chapters only when there are at least {YOUTUBE_MIN_CHAPTERS} "
                        f"(here {len(items)}): it will not show these")
    text = "".join(f"{_youtube_stamp(start)} {one_line(c.title)}\n" for start, c in items)
    return text, tuple(warnings)


def youtube_chapters(chapters: Chapters) -> str:
    """The text of :func:`youtube_export` (its warnings dropped: use ``youtube_export`` to show them)."""
    return youtube_export(chapters)[0]


def _vtt_time(t: float) -> str:
    return format_time(t, precision=3, always_hours=True)


def webvtt_chapters(chapters: Chapters) -> str:
    """WebVTT chapter cues; a reply with no chapter becomes a ``NOTE`` block holding the reply."""
    out = ["WEBVTT", ""]
    if not chapters.chapters:
        # a NOTE block ends at a blank line and may not hold "-->"
        body = cue_text(chapters.raw).splitlines()
        out += ["NOTE", NO_CHAPTERS + (": the reply is empty." if not body else "; as received:"), *body, ""]
    for i, c in enumerate(chapters.chapters, 1):
        out += [f"chapter-{i}", f"{_vtt_time(c.start)} --> {_vtt_time(c.end)}", cue_text(one_line(c.title))]
        summary = cue_text(c.summary or "")
        if summary:
            out.append(summary)
        out.append("")
    return "\n".join(out)


def transcript_lines(transcript: Transcript) -> str:
    """A transcript as text: a timed line each (``[00:01:05.2] Ann: hello``)."""
    from ..speech.fusion import render_line

    return "".join(render_line(s) + "\n" for s in transcript.segments)


def subtitles(transcript: Transcript, kind: str) -> str:
    """A transcript as a subtitle file: ``srt`` (SubRip) or ``vtt`` (WebVTT); a speaker is written before the line."""
    import pysubs2

    subs = pysubs2.SSAFile()
    for s in transcript.segments:
        text = cue_text(f"{one_line(s.speaker)}: {s.text}" if s.speaker else s.text)
        subs.append(pysubs2.SSAEvent(start=round(s.start * 1000), end=round(max(s.end, s.start) * 1000),
                                     text=text.replace("\n", "\\N")))
    return subs.to_string(kind)
