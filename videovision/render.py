"""Present results (stage 7: render): text, Markdown and JSON, plus chapter exports.

Renderers take typed results and return strings; they never print.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .speech.fusion import render_line
from .timecode import format_time, time_label
from .types import Answer, Chapters, Moment, Summary

if TYPE_CHECKING:
    from .speech.transcript import Transcript

if TYPE_CHECKING:
    from .speech.transcript import Transcript


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
    bad = list(dict.fromkeys(time_label(m.time) for m in moments if not m.supported))
    if bad:
        lines.append("Note: no frame sent supports " + ", ".join(bad) + " (the model may have invented these times).")
    if rejected:
        lines.append("Note: ignored times outside the video: " + ", ".join(dict.fromkeys(rejected)) + ".")
    return lines


def summary_notes(summary: Summary) -> list[str]:
    """Notes on the times a summary cites that no frame sent supports, or that lie outside the video."""
    return _unsupported_note(summary.moments, summary.rejected)


def summary_text(summary: Summary, markdown: bool = False) -> str:
    lines = (["## Summary", ""] if markdown else []) + [summary.text]
    notes = summary_notes(summary)
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
    lines += chapter_notes(chapters)
    return "\n".join(lines) + "\n"


def chapter_notes(chapters: Chapters) -> list[str]:
    """Notes on chapter starts the reply placed outside the video."""
    return _unsupported_note([], chapters.rejected)


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


def plan_table(plan) -> str:
    """A human-readable plan: the frames to send, totals, requests and what was dropped."""
    v = plan.video
    lines = [
        f"video    {v.path}  {format_time(v.duration, precision=1)}  "
        + (f"{v.width}x{v.height}  {v.fps:.2f} fps" if v.width else "audio only (speech-only requests)")
        + (f"  rotation {v.rotation}" if v.rotation else "")
        + ("  (truncated)" if v.truncated else ""),
        f"model    {plan.model}" + ("" if plan.model_known else "  (unknown model: conservative token estimate)")
        + f"  detail {plan.detail}",
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
        lines.append(f"cost         ~${cost_in:.4f} input, ~${cost:.4f} with output at its limit (estimate)")
    lines.append(f"requests     {len(plan.requests)}" + (
        "  (" + ", ".join(f"{r.kind} {format_time(r.time_range[0], precision=0)}-{format_time(r.time_range[1], precision=0)}: "
                           f"{len(r.images)} images" if r.kind != "reduce" else "reduce" for r in plan.requests) + ")"
        if len(plan.requests) > 1 else ""))
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
        text = f"{s.speaker}: {s.text}" if s.speaker else s.text
        subs.append(pysubs2.SSAEvent(start=round(s.start * 1000), end=round(max(s.end, s.start) * 1000),
                                     text=text.replace("\n", "\\N")))
    return subs.to_string("srt" if fmt == "srt" else "vtt")
