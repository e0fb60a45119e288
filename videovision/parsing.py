"""Turn a model's reply into checked values (stage 6: parse).

Models invent timestamps. Every time a reply cites is checked against the frames actually
sent: a time past the video's end is rejected; any other is snapped to the nearest frame
sent (``frame_time``) and marked ``supported`` only when that frame lies within
``tolerance`` seconds of it.

Structured replies (JSON schema) are read as JSON; anything else, or JSON that does not
parse, falls back to reading ``[HH:MM:SS.s]`` / ``[MM:SS]`` citations from the text.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from . import defaults
from .errors import ConfigError
from .timecode import parse_time, time_label
from .types import Answer, Chapter, Chapters, Moment, Scene, Summary

SNAP_TO_CUT = 2.0
"""Seconds within which a chapter start moves to a scene cut."""
END_SLACK = 0.5
"""Seconds past the video's end still accepted as its end (rounding in labels)."""

_TS = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_CITE = re.compile(
    r"\[\s*(?P<a>" + _TS + r")\s*(?:(?:-|–|—|to)\s*(?P<b>" + _TS + r")\s*)?\]"
    r"(?:\s*(?:-|–|—|to)\s*\[\s*(?P<c>" + _TS + r")\s*\])?"
    # a bare time (00:01:05.2, 1:05) outside brackets counts as a citation too
    r"|(?<![\w:.\[])(?P<bare>" + _TS + r")(?![\w:])"
)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


def parse_timestamp(text: str | float | int | None) -> float | None:
    """Seconds from a time a model wrote (``HH:MM:SS.s``, ``MM:SS``, ``[00:01:05.2]``, ``00:01:05,2``
    or a number); None if it is not a time."""
    if text is None:
        return None
    if not isinstance(text, (int, float)) or isinstance(text, bool):
        text = str(text).strip().strip("[]").strip().replace(",", ".")
    try:
        return parse_time(text)
    except ConfigError:
        return None


@dataclass(frozen=True)
class TimeCheck:
    """Checks cited times against the frames sent."""

    sent_times: tuple[float, ...]
    duration: float
    tolerance: float = defaults.TOLERANCE
    spans: tuple[tuple[float, float], ...] = ()
    """(start, end) of each spoken line sent: a time inside one is supported by what was said."""

    def __post_init__(self):
        object.__setattr__(self, "sent_times", tuple(sorted(self.sent_times)))

    def nearest(self, t: float) -> float | None:
        if not self.sent_times:
            return None
        i = bisect.bisect_left(self.sent_times, t)
        near = [self.sent_times[j] for j in (i - 1, i) if 0 <= j < len(self.sent_times)]
        return min(near, key=lambda s: abs(s - t))

    def spoken(self, t: float) -> bool:
        """True when ``t`` falls inside a spoken line sent (within the tolerance)."""
        return any(a - self.tolerance <= t <= b + self.tolerance for a, b in self.spans)

    def in_video(self, t: float) -> bool:
        return 0 <= t <= self.duration + END_SLACK

    def moment(self, t: float, end: float | None, text: str) -> Moment | None:
        """A checked moment, or None when ``t`` lies outside the video."""
        if not self.in_video(t):
            return None
        t = min(t, self.duration)
        if end is not None and (not self.in_video(end) or end < t):
            end = None
        frame = self.nearest(t)
        supported = (frame is not None and abs(frame - t) <= self.tolerance + 1e-9) or self.spoken(t)
        return Moment(time=t, end=min(end, self.duration) if end is not None else None, text=text.strip(),
                      frame_time=frame, supported=supported)


def _sentence_around(text: str, start: int, stop: int) -> str:
    """The sentence holding a citation, with every citation (and what only served it) taken out."""
    masked = _CITE.sub(lambda m: "#" * len(m.group(0)), text)  # periods inside times end nothing
    ends = [m.end() for m in _SENTENCE_END.finditer(masked)]
    left = max([e for e in ends if e <= start], default=0)
    right = min([e for e in ends if e >= stop], default=len(text))
    return _strip_citations(text[left:right])


def _strip_citations(sentence: str) -> str:
    mark = "\x00"
    out = _CITE.sub(mark, sentence)
    out = re.sub(r"\x00(?:\s*(?:,|;|and|&|or)\s*\x00)+", mark, out)  # lists of times
    out = re.sub(r"\b(?:at|around|from|until|by|in|see)\s+(?=\x00)", "", out, flags=re.IGNORECASE)
    out = re.sub(r"[\s,]*\x00\s*(?=[,.;:!?)\]])", "", out)  # a time before punctuation
    out = re.sub(r"\s*\x00\s*,?\s*", " ", out)
    out = re.sub(r"\(\s*\)|\[\s*\]", "", out)
    out = re.sub(r"\s+([,.;:!?])", r"\1", out)
    return " ".join(out.split()).strip(" -–—:;,")


def citations(text: str, check: TimeCheck) -> tuple[list[Moment], list[str]]:
    """Moments cited in free text as ``[HH:MM:SS.s]`` (ranges ``[a - b]`` or ``[a]-[b]`` too).

    Returns:
        (moments in order of appearance, rejected citation strings).
    """
    moments: list[Moment] = []
    rejected: list[str] = []
    for match in _CITE.finditer(text):
        t = parse_timestamp(match.group("a") or match.group("bare"))
        end_text = match.group("b") or match.group("c")
        end = parse_timestamp(end_text) if end_text else None
        if t is None:
            rejected.append(_label(match.group(0)))
            continue
        moment = check.moment(t, end, _sentence_around(text, match.start(), match.end()))
        if moment is None:
            rejected.append(_label(match.group(0)))
        else:
            moments.append(moment)
    return moments, rejected


def _label(text: object) -> str:
    """A cited time as ``[HH:MM:SS.s]`` (as given when it does not parse)."""
    t = parse_timestamp(str(text).strip())
    return time_label(t) if t is not None else str(text)


def parse_summary(text: str, check: TimeCheck) -> Summary:
    """The summary text with every cited time checked."""
    moments, rejected = citations(text, check)
    return Summary(text=text.strip(), moments=tuple(moments), rejected=tuple(rejected))


def _load_json(text: str) -> object | None:
    cleaned = text.strip()
    if cleaned.startswith("```"):
        cleaned = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", cleaned)
    try:
        return json.loads(cleaned)
    except ValueError:
        start, stop = cleaned.find("{"), cleaned.rfind("}")
        if 0 <= start < stop:
            try:
                return json.loads(cleaned[start : stop + 1])
            except ValueError:
                return None
    return None


def parse_answers(text: str, questions: Sequence[str], check: TimeCheck) -> list[Answer]:
    """Answers to ``questions``: from the JSON schema reply, else from cited labels in text.

    Args:
        text: the reply.
        questions: the questions asked, in order.
        check: the frames sent and the video's duration.

    Returns:
        One :class:`Answer` per question (a free-text reply is one answer shared by all).
    """
    data = _load_json(text)
    items = data.get("answers") if isinstance(data, dict) else None
    if isinstance(items, list) and items and all(isinstance(i, dict) for i in items):
        answers = []
        for qi, question in enumerate(questions):
            item = items[qi] if qi < len(items) else {}
            answer_text = str(item.get("answer", "")).strip()
            moments: list[Moment] = []
            rejected: list[str] = []
            for m in item.get("moments") or []:
                if not isinstance(m, dict):
                    continue
                t = parse_timestamp(m.get("time"))
                end = parse_timestamp(m.get("end")) if m.get("end") not in (None, "", "null") else None
                moment = check.moment(t, end, str(m.get("text", ""))) if t is not None else None
                if moment is None:
                    rejected.append(_label(m.get("time")))
                else:
                    moments.append(moment)
            more, more_rejected = citations(answer_text, check)
            seen = {round(m.time, 3) for m in moments}
            moments += [m for m in more if round(m.time, 3) not in seen]
            answers.append(Answer(question=question, text=answer_text, moments=tuple(moments),
                                  rejected=tuple(rejected + more_rejected)))
        return answers
    moments, rejected = citations(text, check)
    sections = _split_numbered(text, len(questions))
    if sections is not None:
        out = []
        for question, section in zip(questions, sections):
            ms, rj = citations(section, check)
            out.append(Answer(question=question, text=section.strip(), moments=tuple(ms), rejected=tuple(rj)))
        return out
    return [Answer(question=q, text=text.strip(), moments=tuple(moments), rejected=tuple(rejected)) for q in questions]


def _split_numbered(text: str, n: int) -> list[str] | None:
    if n < 2:
        return None
    marks = [m for m in re.finditer(r"(?m)^\s*(?:\*\*)?(\d+)[.)]", text)]
    numbers = [int(m.group(1)) for m in marks]
    if numbers[:n] != list(range(1, n + 1)):
        return None
    starts = [m.start() for m in marks[:n]] + [len(text)]
    return [re.sub(r"^\s*(?:\*\*)?\d+[.)]\s*", "", text[starts[i] : starts[i + 1]]) for i in range(n)]


def parse_chapters(text: str, check: TimeCheck, scenes: Sequence[Scene] = (), snap: float = SNAP_TO_CUT) -> Chapters:
    """Chapters from a JSON schema reply or ``[HH:MM:SS.s] Title - summary`` lines.

    Starts outside the video are dropped; the rest are snapped to a scene cut within ``snap``
    seconds, sorted, de-duplicated; the first chapter starts at 0 and each ends where the next begins.
    """
    raw: list[tuple[float, str, str]] = []
    data = _load_json(text)
    items = data.get("chapters") if isinstance(data, dict) else None
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                t = parse_timestamp(item.get("start"))
                if t is not None:
                    raw.append((t, str(item.get("title", "")).strip(), str(item.get("summary", "")).strip()))
    else:
        for line in text.splitlines():
            match = _CITE.search(line)
            if not match:
                continue
            t = parse_timestamp(match.group("a"))
            rest = line[match.end() :].strip(" -–—:*")
            pieces = re.split(r"\s+[-–—:]\s+", rest, maxsplit=1)
            title, summary = (pieces + [""])[:2]
            if t is not None:
                raw.append((t, title.strip("* "), summary.strip()))
    cuts = sorted(s.start for s in scenes if s.start > 0)
    starts: list[tuple[float, str, str]] = []
    rejected: list[str] = []
    for cited, title, summary in sorted(raw):
        if not check.in_video(cited) or cited >= check.duration:
            rejected.append(time_label(cited))
            continue
        start = cited
        if cuts:
            near = min(cuts, key=lambda c: abs(c - cited))
            if abs(near - cited) <= snap:
                start = near
        if starts and abs(starts[-1][0] - start) < 1e-6:
            continue
        starts.append((start, title or f"Chapter {len(starts) + 1}", summary))
    if starts and starts[0][0] > 0:
        t, title, summary = starts[0]
        starts[0] = (0.0, title, summary)
    chapters = tuple(
        Chapter(start=t, end=starts[i + 1][0] if i + 1 < len(starts) else check.duration, title=title, summary=summary)
        for i, (t, title, summary) in enumerate(starts)
    )
    return Chapters(chapters=chapters, rejected=tuple(rejected))
