"""Turn a model's reply into checked values (stage 6: parse).

Models invent timestamps. Every time a reply cites is checked against the frames actually
sent: a time past the video's end is rejected; any other is snapped to the nearest frame
sent (``frame_time``) and marked ``supported`` only when that frame lies within
``tolerance`` seconds of it.

Structured replies (JSON schema) are read as JSON; anything else falls back to reading
``[HH:MM:SS.s]`` / ``[MM:SS]`` / bare citations and ranges ("from 00:09 to 00:12") from the text.

Nothing is lost without a word: what parsing changes is kept as ``notes`` (chapters merged on one
scene cut), what it could not read as ``warnings`` (one line each), with the reply itself kept
where nothing could be read from it (docs/json.md).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from . import defaults
from .errors import ConfigError
from .timecode import parse_time, time_label
from .types import Answer, Chapter, Chapters, Moment, Scene, Summary

SNAP_TO_CUT = 2.0
"""Seconds within which a chapter start moves to a scene cut."""
END_SLACK = 0.5
"""Seconds past the video's end still accepted as its end (rounding in labels)."""
MOMENT_TEXT_CHARS = 400
"""A moment's text (the sentence around its citation) is cut to this many characters: a reply of one
endless sentence citing thousands of times must not give each moment the whole reply (output linear
in the reply's size)."""

_TS = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_BARE = r"(?<![\w:.\[])" + _TS + r"(?![\w:])"
_ONE = r"(?:\[\s*" + _TS + r"\s*\]|" + _BARE + r")"
"""One time, in brackets or bare."""
_H = r"[^\S\n]"
"""Horizontal white space: a range never spans two lines."""
_UNTIL = r"(?:" + _H + r"*(?:-|–|—)" + _H + r"*|" + _H + r"+(?:to|until|till|through|thru)" + _H + r"+)"
_CITE = re.compile(
    # ranges in words: "between 1:05 and 1:20", "from 00:09 to 00:12", "[a] - [b]", "00:09 until 00:12"
    r"\bbetween" + _H + r"+(?P<ba>" + _ONE + r")" + _H + r"+and" + _H + r"+(?P<bb>" + _ONE + r")"
    r"|(?:\bfrom" + _H + r"+)?(?P<ra>" + _ONE + r")" + _UNTIL + r"(?P<rb>" + _ONE + r")"
    # one bracket, a time or a range: [00:01:05.2], [00:09 - 00:12]
    r"|\[\s*(?P<a>" + _TS + r")\s*(?:(?:-|–|—|to)\s*(?P<b>" + _TS + r")\s*)?\]"
    # a bare time (00:01:05.2, 1:05) outside brackets counts as a citation too
    r"|(?P<bare>" + _BARE + r")",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


def _match_times(match: re.Match[str]) -> tuple[str, str | None]:
    """The (start, end) text of a citation match; end is None for a single time."""
    ba, bb, ra, rb, a, b, bare = match.group("ba", "bb", "ra", "rb", "a", "b", "bare")
    if ba:
        return ba, bb
    if ra:
        return ra, rb
    if a:
        return a, b
    return bare, None


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
    _span_starts: tuple[float, ...] = field(init=False, repr=False, compare=False, default=())
    _span_reach: tuple[float, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self):
        object.__setattr__(self, "sent_times", tuple(sorted(self.sent_times)))
        # spoken(): spans by start, with the latest end among each prefix (a lookup is a bisection)
        spans = sorted(self.spans)
        reach: list[float] = []
        for _, end in spans:
            reach.append(max(end, reach[-1]) if reach else end)
        object.__setattr__(self, "_span_starts", tuple(a for a, _ in spans))
        object.__setattr__(self, "_span_reach", tuple(reach))

    def nearest(self, t: float) -> float | None:
        times = self.sent_times
        if not times:
            return None
        i = bisect.bisect_left(times, t)
        if i == 0:
            return times[0]
        if i == len(times):
            return times[-1]
        before, after = times[i - 1], times[i]
        return before if abs(before - t) <= abs(after - t) else after

    def spoken(self, t: float) -> bool:
        """True when ``t`` falls inside a spoken line sent (within the tolerance)."""
        i = bisect.bisect_right(self._span_starts, t + self.tolerance)  # the spans starting early enough
        return i > 0 and self._span_reach[i - 1] >= t - self.tolerance

    def supports(self, t: float, frame: float | None = None) -> bool:
        """True when a frame sent lies within the tolerance of ``t``, or ``t`` falls inside a spoken line."""
        frame = self.nearest(t) if frame is None else frame
        return (frame is not None and abs(frame - t) <= self.tolerance + 1e-9) or self.spoken(t)

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
        return Moment(time=t, end=min(end, self.duration) if end is not None else None, text=text.strip(),
                      frame_time=frame, supported=self.supports(t, frame))


class _Sentences:
    """The sentences of a text, found once (linear in its size): :meth:`around` gives the sentence
    holding a citation, with every citation (and what only served it) taken out; citations of one
    sentence share one result, so a reply of many citations is still read in linear time."""

    def __init__(self, text: str, matches: Sequence[re.Match[str]]):
        self.text = text
        self.spans = [m.span() for m in matches]
        self.starts = [a for a, _ in self.spans]
        pieces, pos = [], 0
        for a, b in self.spans:  # periods inside times end nothing
            pieces += [text[pos:a], "#" * (b - a)]
            pos = b
        masked = "".join(pieces) + text[pos:]
        self.ends = [m.end() for m in _SENTENCE_END.finditer(masked)]
        self.done: dict[tuple[int, int], str] = {}

    def around(self, start: int, stop: int) -> str:
        i = bisect.bisect_right(self.ends, start)
        left = self.ends[i - 1] if i > 0 else 0
        j = bisect.bisect_left(self.ends, stop)
        right = self.ends[j] if j < len(self.ends) else len(self.text)
        if (left, right) not in self.done:
            # the sentence with each citation marked (no citation crosses a sentence end: they are masked)
            pieces, pos = [], left
            for a, b in self.spans[bisect.bisect_left(self.starts, left) : bisect.bisect_left(self.starts, right)]:
                pieces += [self.text[pos:a], "\x00"]
                pos = b
            self.done[left, right] = _shortened(_strip_marked("".join(pieces) + self.text[pos:right]))
        return self.done[left, right]


_TIME_LIST = re.compile(r"\x00(?:\s*(?:,|;|and|&|or)\s*\x00)+")
_LEAD_WORD = re.compile(r"\b(?:at|around|from|until|by|in|see|during|between)\s+(?=\x00)", re.IGNORECASE)
_BEFORE_PUNCT = re.compile(r"(?<![\s,])[\s,]*\x00\s*(?=[,.;:!?)\]])")
_MARK = re.compile(r"(?<!\s)\s*\x00\s*,?\s*")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_SPACE_PUNCT = re.compile(r"(?<!\s)\s+([,.;:!?])")
"""(``(?<!\\s)`` and ``(?<![\\s,])``: a run of white space is scanned from its start only, never again
from inside it, so a reply of a million spaces stays linear; the matches are the same.)"""


def _shortened(text: str, limit: int = MOMENT_TEXT_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, ``…`` marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


def _strip_citations(sentence: str) -> str:
    return _strip_marked(_CITE.sub("\x00", sentence))


def _strip_marked(out: str) -> str:
    """A sentence whose citations are marked ``\\x00``, with the marks and what only served them taken out."""
    mark = "\x00"
    out = _TIME_LIST.sub(mark, out)  # lists of times
    out = _LEAD_WORD.sub("", out)
    out = _BEFORE_PUNCT.sub("", out)  # a time before punctuation
    out = _MARK.sub(" ", out)
    out = _EMPTY_BRACKETS.sub("", out)
    out = _SPACE_PUNCT.sub(r"\1", out)
    return " ".join(out.split()).strip(" -–—:;,")


class _Cited(NamedTuple):
    """One citation found in a text: where it stands, and the moment it gives (None: outside the video).
    (A named tuple, not a dataclass: a reply may hold tens of thousands.)"""

    start: int
    stop: int
    time: float | None
    """The cited time (None: not a time)."""
    text: str
    """The citation as written."""
    moment: Moment | None

    @property
    def label(self) -> str:
        return time_label(self.time) if self.time is not None else _label(self.text)


def _cite_all(text: str, check: TimeCheck) -> list[_Cited]:
    """Every citation in ``text``, in one pass over it (linear in its size)."""
    out = []
    matches = list(_CITE.finditer(text))
    sentences = _Sentences(text, matches)
    for match in matches:
        first, second = _match_times(match)
        t = parse_timestamp(first)
        end = parse_timestamp(second) if second else None
        moment = None
        start, stop = match.span()
        if t is not None:
            moment = check.moment(t, end, sentences.around(start, stop))
        out.append(_Cited(start, stop, t, match.group(0), moment))
    return out


def cited_spans(text: str, check: TimeCheck) -> list[tuple[int, int, Moment | None]]:
    """Where each time cited in ``text`` stands: ``(start, stop, moment)``, the moment None for a
    time outside the video (the HTML report links these in place)."""
    return [(c.start, c.stop, c.moment) for c in _cite_all(text, check)]


def citations(text: str, check: TimeCheck) -> tuple[list[Moment], list[str]]:
    """Moments cited in free text: ``[HH:MM:SS.s]`` or bare times, and ranges (``[a - b]``, ``[a]-[b]``,
    "from a to b", "between a and b", "a until b", "a through b").

    Returns:
        (moments in order of appearance, rejected citation labels).
    """
    found = _cite_all(text, check)
    return [c.moment for c in found if c.moment is not None], [c.label for c in found if c.moment is None]


def _label(text: object) -> str:
    """A cited time as ``[HH:MM:SS.s]`` (as given when it does not parse)."""
    t = parse_timestamp(str(text).strip())
    return time_label(t) if t is not None else str(text)


EMPTY_REPLY = "the model returned an empty reply"


def parse_summary(text: str, check: TimeCheck) -> Summary:
    """The summary text with every cited time checked, and where each citation stands in it."""
    text = text.strip()
    found = _cite_all(text, check)
    return Summary(
        text=text,
        moments=tuple(c.moment for c in found if c.moment is not None),
        rejected=tuple(c.label for c in found if c.moment is None),
        spans=tuple((c.start, c.stop, c.moment.supported if c.moment else None) for c in found),
        warnings=() if text else (EMPTY_REPLY + " (no summary)",),
    )


_FENCE = re.compile(r"^```[a-zA-Z]*\s*|(?<!\s)\s*```$")
"""A Markdown code fence around a JSON reply. (``(?<!\\s)``: white space is scanned from the start of
its run only, never again from inside it: a reply of a million spaces stays linear.)"""


def _load_json(text: str) -> object | None:
    cleaned = text.strip()
    if cleaned.startswith("```"):
        cleaned = _FENCE.sub("", cleaned)
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


def _looks_like_json(text: str) -> bool:
    """A reply that was meant as JSON (an object, or a fenced JSON block)."""
    head = text.lstrip()
    return head.startswith("{") or head.lower().startswith("```json") or head.startswith("```\n{")


def parse_answers(text: str, questions: Sequence[str], check: TimeCheck) -> list[Answer]:
    """Answers to ``questions``: from the JSON schema reply, else from cited times in the text.

    A free-text reply is split per question when it is numbered ``1.``/``2.``, headed ``Q1``/``Question 1``,
    or repeats each question; otherwise its text is kept once, on the first answer (the others point to it
    with ``answered_with``), with a warning. A JSON reply that cannot be read is kept the same way.

    Args:
        text: the reply.
        questions: the questions asked, in order.
        check: the frames sent and the video's duration.

    Returns:
        One :class:`Answer` per question.
    """
    data = _load_json(text)
    items = data.get("answers") if isinstance(data, dict) else None
    if isinstance(items, list) and items and all(isinstance(i, dict) for i in items):
        return [_json_answer(q, items[i] if i < len(items) else None, i, check) for i, q in enumerate(questions)]
    if not text.strip():
        return _shared(text, questions, check, EMPTY_REPLY)
    if _looks_like_json(text):
        return _shared(text, questions, check, "the reply is not the JSON answer asked for; it is shown as received")
    sections = _split_per_question(text, questions)
    if sections is not None:
        return [_text_answer(q, section, check) for q, section in zip(questions, sections)]
    if len(questions) == 1:
        return [_text_answer(questions[0], text, check)]
    return _shared(text, questions, check,
                   f"the reply did not answer the {len(questions)} questions separately; its text answers them all")


def _text_answer(question: str, text: str, check: TimeCheck, warnings: tuple[str, ...] = ()) -> Answer:
    moments, rejected = citations(text, check)
    return Answer(question=question, text=text.strip(), moments=tuple(moments), rejected=tuple(rejected),
                  warnings=warnings)


def _shared(text: str, questions: Sequence[str], check: TimeCheck, warning: str) -> list[Answer]:
    """One text for every question: kept once, on the first answer; the others point to it."""
    first = _text_answer(questions[0], text, check, (warning,))
    return [first] + [Answer(question=q, text="", answered_with=0) for q in questions[1:]]


def _json_answer(question: str, item: dict | None, index: int, check: TimeCheck) -> Answer:
    if item is None:
        return Answer(question=question, text="", warnings=(f"the reply has no answer to question {index + 1}",))
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
    empty = not answer_text and not moments
    return Answer(question=question, text=answer_text, moments=tuple(moments),
                  rejected=tuple(rejected + more_rejected),
                  warnings=(f"the reply's answer to question {index + 1} is empty",) if empty else ())


_NUMBERED = re.compile(r"(?m)^[^\S\n]*(?:\*\*)?(\d+)[.)]")
_HEADING = re.compile(r"(?im)^[ \t>#*_]*(?:Q|Question)[ \t]*(\d+)\b")
_LEAD = re.compile(r"^[\s*_#:.)?\-–—]*")
"""What is left of a heading at the start of a section (markup, a colon, the question mark)."""


def _split_per_question(text: str, questions: Sequence[str]) -> list[str] | None:
    """The reply cut into one section per question, or None when it does not answer them one by one."""
    n = len(questions)
    if n < 2:
        return None
    for marks in (_numbered_marks(text, n), _heading_marks(text, n), _question_marks(text, questions)):
        sections = _cut(text, marks) if marks else None
        if sections is not None:
            return sections
    return None


def _numbered_marks(text: str, n: int) -> list[tuple[int, int]] | None:
    marks = list(_NUMBERED.finditer(text))
    if [int(m.group(1)) for m in marks[:n]] != list(range(1, n + 1)):
        return None
    return [(m.start(), m.end()) for m in marks[:n]]


def _heading_marks(text: str, n: int) -> list[tuple[int, int]] | None:
    """``Q1`` / ``Question 1`` headings, the first of each number in order."""
    return _in_order([[(m.start(), m.end()) for m in _HEADING.finditer(text) if int(m.group(1)) == k]
                      for k in range(1, n + 1)])


def _question_marks(text: str, questions: Sequence[str]) -> list[tuple[int, int]] | None:
    """Each question's own text at the start of a line, in order."""
    found = []
    for q in questions:
        core = q.strip().rstrip("?").strip()
        if not core:
            return None
        pattern = re.compile(r"(?im)^[ \t>#*_\-\d.)]*" + re.escape(core) + r"\??")
        found.append([(m.start(), m.end()) for m in pattern.finditer(text)])
    return _in_order(found)


def _in_order(candidates: list[list[tuple[int, int]]]) -> list[tuple[int, int]] | None:
    """One mark per question, each after the one before (the first that fits), or None."""
    chosen: list[tuple[int, int]] = []
    pos = 0
    for options in candidates:
        mark = next((m for m in options if m[0] >= pos), None)
        if mark is None:
            return None
        chosen.append(mark)
        pos = mark[1]
    return chosen


def _cut(text: str, marks: list[tuple[int, int]]) -> list[str] | None:
    """Sections between the marks; None when one is empty or the text before the first cites a time
    (that text would be lost)."""
    if _CITE.search(text[: marks[0][0]]):
        return None
    stops = [m[0] for m in marks[1:]] + [len(text)]
    sections = [_LEAD.sub("", text[m[1] : stop]).strip() for m, stop in zip(marks, stops)]
    return sections if all(sections) else None


# --------------------------------------------------------------------------- chapters
@dataclass(frozen=True)
class _Draft:
    start: float
    cited: float
    title: str
    summary: str


_TITLE_SPLIT = re.compile(r"(?<!\s)\s+[-–—:]\s+")


def _chapter_items(text: str) -> tuple[list[tuple[float, str, str]], list[str]]:
    """(cited start, title, summary) of each chapter in a JSON reply or in ``[time] Title - summary``
    lines, and a warning for each JSON chapter whose start is not a time."""
    raw: list[tuple[float, str, str]] = []
    bad: list[str] = []
    data = _load_json(text)
    items = data.get("chapters") if isinstance(data, dict) else None
    if isinstance(items, list):
        for item in items:
            if not isinstance(item, dict):
                continue
            t = parse_timestamp(item.get("start"))
            title, summary = " ".join(str(item.get("title", "")).split()), str(item.get("summary", "")).strip()
            if t is None:
                bad.append(f'chapter "{title}" left out: its start {item.get("start")!r} is not a time')
            else:
                raw.append((t, title, summary))
        return raw, bad
    for line in text.splitlines():
        match = _CITE.search(line)
        t = parse_timestamp(_match_times(match)[0]) if match else None
        if match is None or t is None:
            continue
        rest = line[match.end() :].strip(" -–—:*")
        pieces = _TITLE_SPLIT.split(rest, maxsplit=1)
        title, summary = (pieces + [""])[:2]
        if not title.strip("* "):  # "**Intro** [00:00:00.0]": the title stands before the time
            title = re.sub(r"^[\s>#*\-–—]*(?:\d+[.)])?", "", line[: match.start()]).strip(" -–—:*")
        raw.append((t, title.strip("* "), summary.strip()))
    return raw, bad


def _snap(t: float, cuts: Sequence[float], window: float) -> float:
    """``t`` moved to the nearest scene cut within ``window`` seconds (unchanged when there is none)."""
    if not cuts:
        return t
    i = bisect.bisect_left(cuts, t)
    near = min((cuts[j] for j in (i - 1, i) if 0 <= j < len(cuts)), key=lambda c: abs(c - t))
    return near if abs(near - t) <= window else t


def parse_chapters(text: str, check: TimeCheck, scenes: Sequence[Scene] = (), snap: float = SNAP_TO_CUT) -> Chapters:
    """Chapters from a JSON schema reply or ``[HH:MM:SS.s] Title - summary`` lines.

    Starts outside the video are dropped (``rejected``). The first chapter starts at 0. Every other
    start moves to a scene cut within ``snap`` seconds, unless the cut is taken by the chapter before:
    then the two merge when their cited starts lie within ``snap`` seconds of each other (a note says so),
    else the cited start is kept. Each chapter ends where the next begins. A start near no frame sent and
    in no spoken line is ``supported=False``. A reply with no chapter in it is kept as ``raw``, with a warning.
    """
    raw, warnings = _chapter_items(text)
    cuts = sorted(s.start for s in scenes if s.start > 0)
    drafts: list[_Draft] = []
    rejected: list[str] = []
    notes: list[str] = []
    for cited, title, summary in sorted(raw, key=lambda r: r[0]):
        if not check.in_video(cited) or cited >= check.duration:
            rejected.append(time_label(cited))
            continue
        title = title or f"Chapter {len(drafts) + 1}"
        if not drafts:
            if cited > snap:
                notes.append(f'"{title}" starts at {time_label(0.0)}, not at its cited {time_label(cited)}: '
                             "the first chapter covers the start of the video")
            drafts.append(_Draft(0.0, cited, title, summary))
            continue
        prev = drafts[-1]
        start = _snap(cited, cuts, snap)
        if start <= prev.start + 1e-6:
            if cited - prev.cited <= snap:
                why = "both cite the same start" if start == cited else "both snap to the scene cut there"
                notes.append(f'"{title}" (cited {time_label(cited)}) merged into "{prev.title}" '
                             f"(starts {time_label(prev.start)}): {why}")
                continue
            start = cited
        drafts.append(_Draft(start, cited, title, summary))
    chapters = tuple(
        Chapter(start=d.start, end=drafts[i + 1].start if i + 1 < len(drafts) else check.duration, title=d.title,
                summary=d.summary, supported=check.supports(d.cited) or check.supports(d.start))
        for i, d in enumerate(drafts)
    )
    if not chapters:
        warnings.append(EMPTY_REPLY if not text.strip() else
                        "no chapter could be read from the reply; it is shown as received")
    return Chapters(chapters=chapters, rejected=tuple(rejected), notes=tuple(notes), warnings=tuple(warnings),
                    raw=text.strip() if not chapters else "")
