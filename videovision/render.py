"""Present results (stage 7: render): text, Markdown and JSON, plus chapter exports.

Renderers take typed results and return strings; they never print.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .speech.fusion import render_line
from .timecode import format_time, time_label
from .types import Answer, Chapter, Chapters, Moment, Summary

if TYPE_CHECKING:
    from .speech.transcript import Transcript

NO_FRAME_MARK = "no frame"
"""Put beside a cited time no frame sent (nor spoken line) supports, where it stands in the text."""
OUTSIDE_MARK = "outside the video"
"""Put beside a cited time that lies outside the video."""
NO_ANSWER = "(no answer in the reply)"
UNSUPPORTED_START = "(unsupported: no frame or speech sent near this start)"
NO_CHAPTERS = "No chapters could be read from the model's reply"
YOUTUBE_MIN_SECONDS = 10
"""YouTube shows chapters only when each lasts at least 10 s, ..."""
YOUTUBE_MIN_CHAPTERS = 3
"""... there are at least 3 of them, and the first starts at 0:00."""


def _ts(t: float) -> str:
    return format_time(t, precision=1)


def moment_json(m: Moment) -> dict:
    return {
        "time": round(m.time, 3),
        "end": round(m.end, 3) if m.end is not None else None,
        "text": m.text,
        "frame_time": round(m.frame_time, 3) if m.frame_time is not None else None,
        "supported": m.supported,
        "refined": m.refined,
    }


def answer_json(a: Answer) -> dict:
    """One answer in the result JSON (``answered_with``: index of the answer holding this one's text)."""
    return {"question": a.question, "answer": a.text, "moments": [moment_json(m) for m in a.moments],
            "rejected": list(a.rejected), "warnings": list(a.warnings), "answered_with": a.answered_with}


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


def chapters_json(chapters: Chapters) -> list[dict]:
    return [{"start": round(c.start, 3), "end": round(c.end, 3), "title": c.title, "summary": c.summary,
             "supported": c.supported}
            for c in chapters.chapters]


def dumps(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def plan_table(plan) -> str:
    """A human-readable plan: the frames to send, totals, requests and what was dropped."""
    v = plan.video
    lines = [
        f"video    {v.path}  {format_time(v.duration, precision=1)}  "
        + (f"{v.width}x{v.height}  {v.fps:.2f} fps" if v.width else "audio only (speech-only requests)")
        + (f"  rotation {v.rotation}" if v.rotation else "")
        + ("  (truncated)" if v.truncated else ""),
        f"model    {plan.model}" + ("" if plan.model_known else "  (unknown model: conservative token estimate)")
        + ("  (OpenAI documents no image rule for it: conservative token estimate, checked against the "
           "reported image_tokens)" if plan.model_known and plan.spec.image_rule == "undocumented" else "")
        + f"  detail {plan.detail}  api {plan.api}",
        "",
        f"{'#':>4}  {'time':>10}  {'scene':>5}  {'size':>9}  {'tokens':>6}  {'KB':>6}",
    ]
    for n, image in enumerate(plan.images, 1):
        when = format_time(image.time, precision=1)
        if image.times and len(image.times) > 1:
            when += f" +{len(image.times) - 1}"
        scene = "" if image.scene is None else str(image.scene)
        lines.append(f"{n:>4}  {when:>10}  {scene:>5}  {image.width:>4}x{image.height:<4}  {image.tokens:>6}  "
                     f"{len(image.data) / 1024:6.1f}")
    frames = len(plan.sent_times)
    lines += [
        "",
        f"images       {len(plan.images)}" + (f" ({frames} frames in grids)" if frames != len(plan.images) else ""),
        f"image tokens {plan.image_tokens}",
        f"text tokens  {plan.text_tokens}" + ("" if plan.text_tokens_exact else " (estimate)"),
    ]
    cost_in, cost = plan.estimated_input_cost_usd, plan.estimated_cost_usd
    if cost is None:
        lines.append("cost         unknown (no price for this model; --models-file can set one)")
    else:
        lines.append(f"cost         ~${cost_in:.4f} input, ~${cost:.4f} with output at its limit (estimate); "
                     f"half through the OpenAI Batch API (batch --batch-api)"
                     + (f"; prices: {plan.spec.price_source}" if plan.spec.price_source else ""))
    lines.append(f"requests     {len(plan.requests)}" + (
        "  (" + ", ".join(f"{r.kind} {format_time(r.time_range[0], precision=0)}-{format_time(r.time_range[1], precision=0)}: "
                           f"{len(r.images)} images" if r.kind != "reduce" else "reduce" for r in plan.requests) + ")"
        if len(plan.requests) > 1 else ""))
    rf = plan.refine_estimate
    if rf is not None:
        price = "unknown cost" if rf.cost_usd is None else f"up to ~${rf.cost_usd:.4f}"
        lines.append(f"refine       up to {rf.requests} more requests of {rf.frames} frames (a close look at each "
                     f"cited moment): {rf.image_tokens + rf.text_tokens} input tokens, {price} (worst case)")
    sp = plan.speech
    if sp.pending is not None:
        cost = "unknown cost" if sp.pending.cost is None else f"~${sp.pending.cost:.4f}"
        lines.append(f"speech       to transcribe: {sp.pending.audio_seconds / 60:.1f} min of audio, {cost}, "
                     f"~{sp.tokens} tokens (estimate; nothing is uploaded by plan or --dry-run)")
    elif sp.source:
        dropped = f", {sp.dropped} thinned out to fit --max-speech-tokens" if sp.dropped else ""
        lines.append(f"speech       {len(sp.segments)} lines from {sp.source}, {sp.tokens} tokens{dropped}")
    elif sp.note:
        lines.append(f"speech       none ({sp.note})")
    if plan.screen_text is not None:
        lines.append(f"screen text  {plan.screen_text.summary_line()}")
        lines += [f"             {note}" for note in plan.screen_text.notes]
    sel = plan.selection
    if sel.preset:
        lines.append(f"scenes       {len(plan.scenes)} ({sel.preset}: {sel.preset_reason})" if sel.preset_reason
                     else f"scenes       {len(plan.scenes)} ({sel.preset})")
    if sel.repeats:
        lines.append(f"repeats      {len(sel.repeats)} unchanged pictures sent as a short text note, not an image")
    if plan.duplicates_dropped:
        lines.append(f"duplicates   {plan.duplicates_dropped} frames dropped by --dedup (same picture as a kept one)")
    if plan.dropped:
        lines.append(f"dropped      {len(plan.dropped)} frames:")
        for d in plan.dropped[:50]:
            lines.append(f"  {format_time(d.time, precision=1):>10}  {d.reason}")
        if len(plan.dropped) > 50:
            lines.append(f"  ... and {len(plan.dropped) - 50} more")
    return "\n".join(lines) + "\n"


def transcript_text(transcript: Transcript, fmt: str = "text") -> str:
    """A transcript as ``text`` (a timed line each), ``srt``, ``vtt`` (subtitle files) or ``json``."""
    if fmt == "json":
        return dumps(transcript.to_json())
    if fmt == "text":
        return "".join(render_line(s) + "\n" for s in transcript.segments)
    import pysubs2

    subs = pysubs2.SSAFile()
    for s in transcript.segments:
        text = cue_text(f"{one_line(s.speaker)}: {s.text}" if s.speaker else s.text)
        subs.append(pysubs2.SSAEvent(start=round(s.start * 1000), end=round(max(s.end, s.start) * 1000),
                                     text=text.replace("\n", "\\N")))
    return subs.to_string("srt" if fmt == "srt" else "vtt")
