"""Present results (stage 7: render): text, Markdown and JSON, plus chapter exports.

Renderers take typed results and return strings; they never print.
"""

from __future__ import annotations

import json
from typing import Sequence

from .timecode import format_time
from .types import Answer, Chapters, Moment, Summary


def _ts(t: float) -> str:
    return format_time(t, precision=1)


def moment_json(m: Moment) -> dict:
    return {
        "time": round(m.time, 3),
        "end": round(m.end, 3) if m.end is not None else None,
        "text": m.text,
        "frame_time": round(m.frame_time, 3) if m.frame_time is not None else None,
        "supported": m.supported,
    }


def _unsupported_note(moments: Sequence[Moment], rejected: Sequence[str]) -> list[str]:
    lines = []
    bad = [m for m in moments if not m.supported]
    if bad:
        lines.append("Note: no frame sent supports " + ", ".join(f"[{_ts(m.time)}]" for m in bad)
                     + " (the model may have invented these times).")
    if rejected:
        lines.append("Note: ignored times outside the video: " + ", ".join(rejected) + ".")
    return lines


def summary_text(summary: Summary, markdown: bool = False) -> str:
    lines = (["## Summary", ""] if markdown else []) + [summary.text]
    notes = _unsupported_note(summary.moments, summary.rejected)
    if notes:
        lines += [""] + [f"> {n}" if markdown else n for n in notes]
    return "\n".join(lines) + "\n"


def answers_text(answers: Sequence[Answer], markdown: bool = False) -> str:
    out: list[str] = []
    many = len(answers) > 1
    for a in answers:
        if markdown:
            out += [f"### {a.question}", "", a.text, ""]
        else:
            out += ([f"Q: {a.question}", f"A: {a.text}"] if many else [a.text])
        if a.moments:
            out.append("Moments:" if not markdown else "**Moments**")
            for m in a.moments:
                span = _ts(m.time) + (f"-{_ts(m.end)}" if m.end is not None else "")
                flag = "" if m.supported else "  (unsupported: no frame sent near this time)"
                out.append(f"{'- ' if markdown else '  '}[{span}] {m.text}{flag}")
        notes = _unsupported_note([], a.rejected)
        out += notes
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def chapters_text(chapters: Chapters, markdown: bool = False) -> str:
    lines = ["## Chapters", ""] if markdown else []
    for c in chapters.chapters:
        tail = f" - {c.summary}" if c.summary else ""
        lines.append(f"{'- ' if markdown else ''}{_ts(c.start)} {c.title}{tail}")
    return "\n".join(lines) + "\n"


def youtube_chapters(chapters: Chapters) -> str:
    """YouTube description lines: ``0:00 Title`` (first at 0:00, whole seconds)."""
    lines = []
    for c in chapters.chapters:
        total = int(c.start)
        h, rest = divmod(total, 3600)
        m, s = divmod(rest, 60)
        stamp = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
        lines.append(f"{stamp} {c.title}")
    return "\n".join(lines) + "\n"


def _vtt_time(t: float) -> str:
    return format_time(t, precision=3, always_hours=True)


def webvtt_chapters(chapters: Chapters) -> str:
    """WebVTT chapter cues."""
    out = ["WEBVTT", ""]
    for i, c in enumerate(chapters.chapters, 1):
        out += [f"chapter-{i}", f"{_vtt_time(c.start)} --> {_vtt_time(c.end)}", c.title]
        if c.summary:
            out.append(c.summary)
        out.append("")
    return "\n".join(out)


def chapters_json(chapters: Chapters) -> list[dict]:
    return [{"start": round(c.start, 3), "end": round(c.end, 3), "title": c.title, "summary": c.summary}
            for c in chapters.chapters]


def dumps(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
