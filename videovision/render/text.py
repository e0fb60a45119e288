"""Results as text and Markdown: summaries (unsupported times marked where they stand), answers and
their moments, chapter lines, and the notes shown beside each. They return strings; they never print."""

from __future__ import annotations

from collections.abc import Sequence

from ..timecode import format_time, time_label
from ..types import Answer, Chapters, Moment, Summary

NO_FRAME_MARK = "no frame"
"""Put beside a cited time no frame sent (nor spoken line) supports, where it stands in the text."""
OUTSIDE_MARK = "outside the video"
"""Put beside a cited time that lies outside the video."""
NO_ANSWER = "(no answer in the reply)"
UNSUPPORTED_START = "(unsupported: no frame or speech sent near this start)"
NO_CHAPTERS = "No chapters could be read from the model's reply"


def _ts(t: float) -> str:
    return format_time(t, precision=1)


def _unsupported_note(moments: Sequence[Moment], rejected: Sequence[str]) -> list[str]:
    lines = []
    bad = list(dict.fromkeys(time_label(m.time) for m in moments if not m.supported))
    if bad:
        lines.append("Note: no frame sent supports " + ", ".join(bad) + " (the model may have invented these times).")
    if rejected:
        lines.append("Note: ignored times outside the video: " + ", ".join(dict.fromkeys(rejected)) + ".")
    return lines


def summary_notes(summary: Summary) -> list[str]:
    """Notes on the times a summary cites that no frame sent supports, or that lie outside the video."""
    return _unsupported_note(summary.moments, summary.rejected)


def marked_text(summary: Summary) -> str:
    """The summary text with each unsupported cited time marked where it stands: ``[00:01:05.0 (no frame)]``,
    ``00:09 to 00:12 (no frame)``, ``[01:00:00.0 (outside the video)]``."""
    text = summary.text
    out: list[str] = []
    pos = 0
    for start, stop, supported in summary.spans:
        if supported or start < pos or stop > len(text):
            continue
        cite = text[start:stop]
        mark = NO_FRAME_MARK if supported is False else OUTSIDE_MARK
        single = cite.startswith("[") and cite.endswith("]") and cite.count("]") == 1
        out += [text[pos:start], f"{cite[:-1]} ({mark})]" if single else f"{cite} ({mark})"]
        pos = stop
    return "".join(out) + text[pos:]


def summary_text(summary: Summary, markdown: bool = False, *, notes: bool = True) -> str:
    """The summary (unsupported times marked where they stand), then its notes unless ``notes=False``
    (the CLI prints them on stderr: stdout carries the answer alone)."""
    body = marked_text(summary) or "(" + "; ".join(summary.warnings or ("the summary is empty",)) + ")"
    lines = (["## Summary", ""] if markdown else []) + [body]
    shown = summary_notes(summary) if notes else []
    if shown:
        lines += [""] + [f"> {n}" if markdown else n for n in shown]
    return "\n".join(lines) + "\n"


def _shared_with(answers: Sequence[Answer]) -> dict[int, list[int]]:
    """For each answer, the answers that point to its text (valid pointers only)."""
    owners: dict[int, list[int]] = {i: [] for i in range(len(answers))}
    for i, a in enumerate(answers):
        j = a.answered_with
        if j is not None and j != i and 0 <= j < len(answers) and answers[j].answered_with is None:
            owners[j].append(i)
            del owners[i]
    return owners


def answer_notes(answers: Sequence[Answer]) -> list[str]:
    """Notes on the times the answers cite outside the video (``answers_text(..., notes=False)`` leaves them out)."""
    return [n for a in answers for n in _unsupported_note([], a.rejected)]


def answers_text(answers: Sequence[Answer], markdown: bool = False, *, notes: bool = True) -> str:
    """Answers with their moments; a text that answers several questions is printed once, under all of them.
    ``notes=False``: without the notes of :func:`answer_notes`."""
    out: list[str] = []
    many = len(answers) > 1
    for i, sharers in _shared_with(answers).items():
        a = answers[i]
        questions = [a.question] + [answers[j].question for j in sharers]
        text = a.text or NO_ANSWER
        if markdown:
            out += [f"### {q}" for q in questions] + ["", text, ""]
        else:
            out += ([f"Q: {q}" for q in questions] + [f"A: {text}"] if many else [text])
        if a.moments:
            out.append("Moments:" if not markdown else "**Moments**")
            for m in a.moments:
                span = _ts(m.time) + (f"-{_ts(m.end)}" if m.end is not None else "")
                flag = "" if m.supported else "  (unsupported: no frame sent near this time)"
                flag += "  (refined)" if m.refined else ""
                out.append(f"{'- ' if markdown else '  '}[{span}] {m.text}{flag}")
        if notes:
            out += _unsupported_note([], a.rejected)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def one_line(text: str) -> str:
    """A title on one line: every run of whitespace, newlines included, becomes one space."""
    return " ".join(text.split())


def cue_text(text: str) -> str:
    """Text made safe as the text of an SRT/WebVTT cue: no blank line (it would end the cue and let the
    rest forge cues of its own) and no ``-->`` (it marks a timing line): each is written ``->``."""
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    while "-->" in text:
        text = text.replace("-->", "->")
    return text


def chapters_text(chapters: Chapters, markdown: bool = False, *, notes: bool = True) -> str:
    """Chapter lines (unsupported starts marked), the notes (unless ``notes=False``), or the reply as
    received when it held no chapter."""
    lines = ["## Chapters", ""] if markdown else []
    if not chapters.chapters:
        lines += _no_chapters(chapters, markdown)
    for c in chapters.chapters:
        tail = f" - {one_line(c.summary)}" if c.summary else ""
        flag = "" if c.supported else f"  {UNSUPPORTED_START}"
        lines.append(f"{'- ' if markdown else ''}{_ts(c.start)} {one_line(c.title)}{tail}{flag}")
    shown = chapter_notes(chapters) if notes else []
    if shown:
        lines += [""] + [f"> {n}" if markdown else n for n in shown]
    return "\n".join(lines) + "\n"


def _no_chapters(chapters: Chapters, markdown: bool) -> list[str]:
    if not chapters.raw:
        return [f"{NO_CHAPTERS}: the reply is empty."]
    head = f"{NO_CHAPTERS}; here it is as received:"
    return ([f"> {head}", "", "```", chapters.raw, "```"] if markdown else [head, "", chapters.raw])


def chapter_notes(chapters: Chapters) -> list[str]:
    """Notes on chapters: merged or moved by parsing, starts no frame supports, starts outside the video."""
    lines = [f"Note: {n}." for n in chapters.notes]
    bad = [time_label(c.start) for c in chapters.chapters if not c.supported]
    if bad:
        lines.append("Note: no frame or speech sent supports the chapter starts " + ", ".join(bad)
                     + " (the model may have invented these times).")
    return lines + _unsupported_note([], chapters.rejected)
