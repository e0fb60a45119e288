"""The HTML report (stage 7: render): one self-contained page to check an answer against the video.

    TaskResult ──render_report──▶ HTML text (the caller writes it next to, or near, the video)

The page holds a ``<video>`` player for the original file (its path relative to the report's
folder), the summary / answers / chapters with every cited time a ``#t=SECONDS`` link that seeks
the player and highlights the frame it was snapped to, a filmstrip of every frame sent (the packed
JPEGs as ``data:`` URIs, not re-encoded), a scene / chapter timeline, the speech lines sent, and
the plan (model, tokens, cost, dropped frames, warnings).

Model text is untrusted. It is rendered as CommonMark by markdown-it-py with raw HTML off and
links limited to ``http``/``https``/``mailto``; every other value is escaped. A
Content-Security-Policy meta tag allows only this page's own inline script and style (by their
SHA-256 hashes), ``data:`` images and the local video, so even markup that slipped through could
not run. Renderers never print; the caller writes the file.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import html
import os
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

from .parsing import TimeCheck, cited_spans
from .redact import display_url, split_url, url_name
from .render import NO_FRAME_MARK, OUTSIDE_MARK
from .report_assets import SCRIPT, STYLE
from .timecode import format_time
from .types import Answer, Chapters, Moment, PackedImage, Summary, VideoInfo

if TYPE_CHECKING:
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

    from .pipeline import TaskResult
    from .plan import Plan
    from .refine import RefineOutcome

__all__ = ["CSP_TEMPLATE", "SAFE_LINK_SCHEMES", "render_report"]

SAFE_LINK_SCHEMES = ("http://", "https://", "mailto:")
"""The only links a reply may make; any other (``javascript:``, ``data:``, relative paths, ``#t=``
fragments that would pose as checked citations) is rendered as plain text."""
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp"})
"""Image types embedded as ``data:`` URIs (what the packer writes)."""
CSP_TEMPLATE = ("default-src 'none'; script-src '{script}'; style-src '{style}'; img-src data:; "
                "media-src 'self' file:; base-uri 'none'; form-action 'none'")
"""The page's Content-Security-Policy: nothing loads but its own hashed inline script and style,
``data:`` images and the video (same folder tree, or a ``file:`` URL)."""
VIDEO_MIMES = {("h264", "mov"): 'video/mp4; codecs="avc1.42E01E"', ("hevc", "mov"): 'video/mp4; codecs="hvc1"',
               ("av1", "mov"): 'video/mp4; codecs="av01.0.05M.08"', ("vp9", "webm"): 'video/webm; codecs="vp9"',
               ("vp8", "webm"): 'video/webm; codecs="vp8"', ("av1", "webm"): 'video/webm; codecs="av01.0.05M.08"'}
"""(codec, container family) -> the MIME type the page asks ``canPlayType`` about (others: the error event
alone). PyAV names the MP4/MOV family ``mov`` and Matroska/WebM ``matroska,webm``."""
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_RESERVED = re.compile("[\ue000\ue001]")
_TAG = re.compile(r"(<[^>]*>)")


# --------------------------------------------------------------------------- small helpers
def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _secs(t: float) -> str:
    """Seconds for a ``#t=`` link: up to millisecond precision, no trailing zeros."""
    return f"{max(0.0, t):.3f}".rstrip("0").rstrip(".") or "0"


def _ts(t: float) -> str:
    return format_time(t, precision=1)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _cost(value: float | None) -> str:
    return "unknown (model not in the price table)" if value is None else f"${value:.4f}"


def video_src(video: str | os.PathLike, out: str | os.PathLike) -> str:
    """The player's ``src``: the video's path relative to the report's folder, URL-quoted (a
    ``file:`` URL when no relative path exists, e.g. another drive on Windows)."""
    target = Path(os.path.abspath(os.fsdecode(video)))
    folder = os.path.dirname(os.path.abspath(os.fsdecode(out)))
    try:
        rel = os.path.relpath(target, folder)
    except ValueError:
        return target.as_uri()
    return urllib.parse.quote(os.fsencode(rel.replace(os.sep, "/")), safe="/")  # bytes: a non-UTF-8 name too


class _Frames:
    """Where each time the model saw a picture for is shown: the figure id of its frame."""

    def __init__(self, plan: Plan, refine_images: Sequence[PackedImage]):
        self.ids: dict[float, str] = {}
        for prefix, images in (("f", plan.images), ("r", refine_images)):
            for n, image in enumerate(images):
                for t in image.frame_times:
                    self.ids.setdefault(round(t, 3), f"{prefix}{n}")
        for repeat in plan.selection.repeats:  # "same picture as": shown by the earlier frame
            same = self.ids.get(round(repeat.same_as, 3))
            if same is not None:
                self.ids.setdefault(round(repeat.time, 3), same)
        self.times = sorted(self.ids)

    def of(self, t: float | None) -> str:
        return self.ids.get(round(t, 3), "") if t is not None else ""

    def nearest(self, t: float) -> str:
        if not self.times:
            return ""
        i = bisect.bisect_left(self.times, t)
        near = min((self.times[j] for j in (i - 1, i) if 0 <= j < len(self.times)), key=lambda s: abs(s - t))
        return self.ids[near]


def _seek(t: float, label: str, frame: str = "", *, supported: bool = True, cls: str = "t") -> str:
    """A link that seeks the player to ``t`` (and highlights ``frame``), marked when unsupported."""
    classes = cls + ("" if supported else " unsupported")
    title = "" if supported else ' title="no frame sent (nor spoken line) lies near this time"'
    mark = "" if supported else f' <span class="mark">({NO_FRAME_MARK})</span>'
    data = f' data-frame="{_e(frame)}"' if frame else ""
    return f'<a class="{classes}" href="#t={_secs(t)}"{data}{title}>{_e(label)}{mark}</a>'


def _outside(label: str) -> str:
    return f'<span class="outside">{_e(label)} <span class="mark">({OUTSIDE_MARK})</span></span>'


def _moment_link(m: Moment, frames: _Frames, label: str | None = None) -> str:
    text = label if label is not None else _ts(m.time) + (f"–{_ts(m.end)}" if m.end is not None else "")
    return _seek(m.time, text, frames.of(m.frame_time), supported=m.supported)


# --------------------------------------------------------------------------- model text
def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(SAFE_LINK_SCHEMES)


def _link_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env)


def _markdown() -> MarkdownIt:
    """CommonMark with raw HTML off, no images (a reply cannot load anything) and safe links only."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


def _render_cited(md: MarkdownIt, text: str, cites: Sequence[tuple[int, int, str]]) -> str:
    """``text`` as Markdown with each ``(start, stop, markup)`` span replaced by its markup.

    Each span becomes a private-use placeholder before rendering, swapped for its markup in text
    positions after it (in a tag's attribute, where markup cannot go, for the escaped span text).
    """
    clean = _RESERVED.sub("\ufffd", text)
    pieces: list[str] = []
    spans: list[tuple[str, str]] = []
    pos = 0
    for start, stop, markup in sorted(cites):
        if start < pos or stop > len(clean) or start >= stop:
            continue
        pieces += [clean[pos:start], f"\ue000{len(spans)}\ue001"]
        spans.append((clean[start:stop], markup))
        pos = stop
    rendered = md.render("".join(pieces) + clean[pos:])
    as_text = lambda m: _e(spans[int(m.group(1))][0])  # noqa: E731
    as_markup = lambda m: spans[int(m.group(1))][1]  # noqa: E731
    return "".join(_PLACEHOLDER.sub(as_text if part.startswith("<") else as_markup, part)
                   for part in _TAG.split(rendered))


def _summary_html(md: MarkdownIt, summary: Summary, frames: _Frames) -> str:
    moments = iter(summary.moments)
    cites = []
    for start, stop, supported in summary.spans:
        label = summary.text[start:stop]
        if supported is None:
            cites.append((start, stop, _outside(label)))
            continue
        m = next(moments, None)
        if m is not None:
            cites.append((start, stop, _moment_link(m, frames, label)))
    body = _render_cited(md, summary.text, cites) if summary.text else ""
    return '<section id="summary"><h2>Summary</h2>' + (body or _empty(summary.warnings)) + "</section>"


def _empty(warnings: Iterable[str]) -> str:
    return '<p class="empty">' + _e("; ".join(warnings) or "(the reply is empty)") + "</p>"


def _moments_list(md: MarkdownIt, moments: Sequence[Moment], rejected: Sequence[str], frames: _Frames) -> str:
    items = []
    for m in moments:
        refined = ' <span class="tag">refined</span>' if m.refined else ""
        items.append(f"<li>{_moment_link(m, frames)}{refined} {md.renderInline(_RESERVED.sub('', m.text))}</li>")
    items += [f"<li>{_outside(r)}</li>" for r in rejected]
    return '<ul class="moments">' + "".join(items) + "</ul>" if items else ""


def _linked(md: MarkdownIt, text: str, check: TimeCheck, frames: _Frames) -> str:
    """``text`` as Markdown with every time it cites a seek link (times outside the video as text)."""
    cites = [(start, stop, _outside(text[start:stop]) if m is None else _moment_link(m, frames, text[start:stop]))
             for start, stop, m in cited_spans(text, check)]
    return _render_cited(md, text, cites)


def _answers_html(md: MarkdownIt, answers: Sequence[Answer], frames: _Frames, check: TimeCheck) -> str:
    out = ['<section id="answers"><h2>Answers</h2>']
    for i, a in enumerate(answers):
        out.append(f'<article class="answer" id="a{i}"><h3>{_e(a.question)}</h3>')
        if a.answered_with is not None and not a.text:
            out.append(f'<p class="empty">Answered together with question {a.answered_with + 1} above.</p>')
        else:
            out.append(_linked(md, a.text, check, frames) if a.text else _empty(()))
        if a.moments or a.rejected:
            out.append("<h4>Moments</h4>" + _moments_list(md, a.moments, a.rejected, frames))
        out += [f'<p class="warn">{_e(w)}</p>' for w in a.warnings]
        out.append("</article>")
    return "".join(out) + "</section>"


def _chapters_html(md: MarkdownIt, chapters: Chapters, frames: _Frames) -> str:
    out = ['<section id="chapters"><h2>Chapters</h2>']
    if chapters.chapters:
        out.append('<ol class="chapters">')
        for c in chapters.chapters:
            link = _seek(c.start, f"{_ts(c.start)}–{_ts(c.end)}", frames.nearest(c.start), supported=c.supported)
            summary = f" — {md.renderInline(_RESERVED.sub('', c.summary))}" if c.summary else ""
            out.append(f"<li>{link} <strong>{md.renderInline(_RESERVED.sub('', c.title))}</strong>{summary}</li>")
        out.append("</ol>")
    elif chapters.raw:
        out.append('<p class="warn">No chapter could be read; the reply as received:</p>' + md.render(chapters.raw))
    if chapters.rejected:
        out.append("<p>Starts outside the video (dropped): " + ", ".join(_outside(r) for r in chapters.rejected)
                   + "</p>")
    out += [f'<p class="note">{_e(n)}</p>' for n in chapters.notes]
    return "".join(out) + "</section>"


# --------------------------------------------------------------------------- frames, timeline, speech
def _figure(image: PackedImage, fid: str) -> str:
    mime = image.mime if image.mime in IMAGE_MIMES else "image/jpeg"
    uri = f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    times = image.frame_times
    label = " · ".join(_ts(t) for t in times)
    scene = f' · <span class="scene">scene {image.scene + 1}</span>' if image.scene is not None else ""
    return (f'<li><figure id="{fid}" data-times="{" ".join(_secs(t) for t in times)}">'
            f'<a class="t" href="#t={_secs(image.time)}" data-frame="{fid}">'
            f'<img src="{uri}" width="{image.width}" height="{image.height}" alt="frame sent at {_e(label)}"></a>'
            f"<figcaption>{_e(label)}{scene}</figcaption>{_screen_html(image)}</figure></li>")


def _screen_html(image: PackedImage) -> str:
    """The text read on screen and sent after the frame (videovision/screentext.py), under it."""
    if not image.screen_text:
        return ""
    text = image.screen_text.split(" on screen: ", 1)[-1]
    return f'<p class="ocr" title="text read on screen (OCR), sent after this frame">on screen: {_e(text)}</p>'



def _refine_groups(images: Sequence[PackedImage], outcomes: Sequence[RefineOutcome]
                   ) -> list[tuple[RefineOutcome | None, list[int]]]:
    """The refine images (by index) under the window that sent them: both are in request order, so
    each window takes the run of images inside it; any left over form a last group."""
    groups: list[tuple[RefineOutcome | None, list[int]]] = []
    i = 0
    for outcome in outcomes:
        w, taken = outcome.window, []
        while i < len(images) and w.start - 1e-3 <= images[i].time <= w.end + 1e-3:
            taken.append(i)
            i += 1
        groups.append((outcome, taken))
    if i < len(images):
        groups.append((None, list(range(i, len(images)))))
    return [g for g in groups if g[1]]


def _filmstrip_html(result: TaskResult) -> str:
    plan, refine = result.plan, result.refine_images
    out = [f'<section id="frames"><h2>Frames the model saw <span class="count">({len(plan.sent_times)})</span></h2>',
           '<ol class="strip">' + "".join(_figure(im, f"f{n}") for n, im in enumerate(plan.images)) + "</ol>"]
    if refine:
        out.append(f'<h3>Refine pass <span class="count">({sum(len(i.frame_times) for i in refine)})</span></h3>')
        for outcome, indices in _refine_groups(refine, result.refine_outcomes):
            if outcome is not None:
                w = outcome.window
                after = f" → {_ts(outcome.time)}" if outcome.time is not None else ""
                out.append(f'<h4>{_e(w.question)} · around {_ts(w.cited)}: {_e(outcome.status.replace("_", " "))}'
                           f"{_e(after)}</h4>")
            out.append('<ol class="strip refine">' + "".join(_figure(refine[n], f"r{n}") for n in indices) + "</ol>")
    return "".join(out) + "</section>"


def _bar(x0: float, x1: float, y: int, h: int, cls: str, title: str, href_t: float, frame: str = "") -> str:
    data = f' data-frame="{_e(frame)}"' if frame else ""
    return (f'<a href="#t={_secs(href_t)}"{data}><rect class="{cls}" x="{x0:.2f}" y="{y}" '
            f'width="{max(x1 - x0, 2.0):.2f}" height="{h}"><title>{_e(title)}</title></rect></a>')


def _timeline_html(result: TaskResult, frames: _Frames) -> str:
    plan, duration = result.plan, result.plan.video.duration
    if duration <= 0:
        return ""
    def x(t: float) -> float:
        return 1000.0 * min(max(t, 0.0), duration) / duration
    rows, y = [], 0
    scenes = plan.scenes
    if scenes:
        rows += [_bar(x(s.start), x(s.end), y, 12, f"scene s{i % 2}", f"scene {i + 1}: {_ts(s.start)}–{_ts(s.end)}",
                      s.start, frames.nearest(s.start)) for i, s in enumerate(scenes)]
        y += 16
    if result.chapters is not None and result.chapters.chapters:
        rows += [_bar(x(c.start), x(c.end), y, 12, f"chapter c{i % 2}", f"{c.title} ({_ts(c.start)})", c.start,
                      frames.nearest(c.start)) for i, c in enumerate(result.chapters.chapters)]
        y += 16
    rows += [_bar(x(t) - 1, x(t) + 1, y, 10, "tick", f"frame sent at {_ts(t)}", t, frames.of(t))
             for t in sorted(set(plan.sent_times + result.refine_times))]
    y += 12
    for m in _all_moments(result):
        cls = "cited" if m.supported else "cited unsupported"
        rows.append(_bar(x(m.time) - 3, x(m.time) + 3, y, 10, cls, f"cited {_ts(m.time)}", m.time,
                         frames.of(m.frame_time)))
    y += 10
    svg = (f'<svg class="timeline" viewBox="0 0 1000 {y}" preserveAspectRatio="none" role="img" '
           f'aria-label="timeline of scenes, chapters, frames sent and cited moments">{"".join(rows)}'
           f'<rect id="playhead" x="0" y="0" width="2" height="{y}"/></svg>')
    keys = [("scenes", "k-scene", bool(scenes)), ("chapters", "k-chapter", bool(result.chapters and result.chapters.chapters)),
            ("frames sent", "k-tick", True), ("cited", "k-cited", True), ("no frame", "k-bad", True)]
    legend = "".join(f'<span class="k {cls}">{name}</span>' for name, cls, shown in keys if shown)
    return (f'<section id="timeline"><h2>Timeline</h2>{svg}<p class="axis"><span>{_ts(0)}</span>'
            f'<span>{_ts(duration)}</span></p><p class="legend">{legend}</p></section>')


def _all_moments(result: TaskResult) -> list[Moment]:
    moments = list(result.summary.moments) if result.summary is not None else []
    for a in result.answers:
        moments += a.moments
    return moments


def _speech_html(plan: Plan, frames: _Frames) -> str:
    speech = plan.speech
    if not speech.segments:
        return ""
    items = []
    for s in speech.segments:
        who = f'<span class="who">{_e(s.speaker)}:</span> ' if s.speaker else ""
        approx = "~" if s.approximate else ""
        items.append(f"<li>{_seek(s.start, approx + _ts(s.start), frames.nearest(s.start))} {who}{_e(s.text)}</li>")
    more = f" ({speech.dropped} lines left out to fit the budget)" if speech.dropped else ""
    return (f'<section id="speech"><h2>Speech sent <span class="count">({_e(speech.source or "")}{_e(more)})'
            f'</span></h2><ol class="speech">{"".join(items)}</ol></section>')


# --------------------------------------------------------------------------- plan and page
def _plan_html(result: TaskResult) -> str:
    plan, usage = result.plan, result.usage
    rows = [("model", plan.model), ("frames sent", f"{len(plan.sent_times)} in {len(plan.images)} images"),
            ("image tokens", f"{plan.image_tokens:,}"), ("text tokens", f"{plan.text_tokens:,}"),
            ("speech tokens", f"{plan.speech.tokens:,}" + (f" ({plan.speech.source})" if plan.speech.source else "")),
            ("prompt tokens (reply)", f"{usage.prompt_tokens:,}"), ("cached tokens", f"{usage.cached_tokens:,}"),
            ("completion tokens", f"{usage.completion_tokens:,}"),
            ("requests", f"{result.requests_made} sent, {result.cache_hits} from the cache"),
            ("estimated cost (planned)", _cost(plan.estimated_cost_usd)), ("cost", _cost(result.estimated_cost_usd))]
    if result.refine_images:
        rows.append(("refine frames", f"{len(result.refine_times)}"))
    out = ['<section id="plan"><h2>Plan</h2><dl class="plan">']
    out += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows]
    out.append("</dl>")
    if plan.dropped:
        out.append(f"<details><summary>{len(plan.dropped)} frames picked but not sent</summary><ul>")
        out += [f"<li>{_seek(d.time, _ts(d.time))} {_e(d.reason)}</li>" for d in plan.dropped]
        out.append("</ul></details>")
    notes = [*plan.selection.notes, plan.speech.note] if plan.speech.note else list(plan.selection.notes)
    warnings = list(result.warnings)
    if warnings:
        out.append('<h3>Warnings</h3><ul class="warnings">' + "".join(f'<li class="warn">{_e(w)}</li>' for w in warnings)
                   + "</ul>")
    if notes:
        out.append('<h3>Notes</h3><ul>' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    return "".join(out) + "</section>"


def _video_name(path: str) -> str:
    """A video's name for the page: a URL's file name, a file's name."""
    return url_name(path) if "://" in path else (os.path.basename(path) or path)


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, for the page's media-src; None when it is not one."""
    parts = split_url(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return origin if re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin) else None


def _player_html(info: VideoInfo, src: str) -> str:
    family = "webm" if "webm" in info.container else info.container.split(",")[0]
    mime = VIDEO_MIMES.get((info.codec, family), "")
    data = f' data-mime="{_e(mime)}"' if mime else ""
    return (f'<aside class="stage"><video id="player" controls preload="metadata" playsinline src="{_e(src)}"{data}>'
            "</video>"
            f'<p id="video-note" class="warn" hidden>This browser cannot play the video here: <code>{_e(src)}</code> is '
            f"missing next to this report or its codec ({_e(info.codec)} in {_e(info.container)}) is not supported. "
            "The frames below are what the model saw; open the video in a player to watch it.</p>"
            '<p id="seen" hidden><img alt=""><span></span></p></aside>')


def _body(result: TaskResult, md: MarkdownIt, src: str) -> str:
    plan = result.plan
    frames = _Frames(plan, result.refine_images)
    parts = []
    if result.summary is not None:
        parts.append(_summary_html(md, result.summary, frames))
    if result.answers:
        check = plan.time_check(result.refine_times)
        parts.append(_answers_html(md, result.answers, frames, check))
    if result.chapters is not None:
        parts.append(_chapters_html(md, result.chapters, frames))
    parts += [_timeline_html(result, frames), _filmstrip_html(result),
              _speech_html(plan, frames), _plan_html(result)]
    name = _video_name(plan.video.path)
    head = (f"<header><h1>{_e(result.task)}: {_e(name)}</h1><p class=\"meta\">{_e(_ts(plan.video.duration))} · "
            f"{plan.video.width}×{plan.video.height} · {_e(plan.model)} · {len(plan.sent_times)} frames sent</p>"
            "</header>")
    return head + '<main>' + _player_html(plan.video, src) + '<div class="content">' + "".join(parts) + "</div></main>"


def render_report(result: TaskResult, *, video: str | os.PathLike, out: str | os.PathLike,
                  url: str | None = None) -> str:
    """The HTML report of a run: one self-contained page (no network, no external assets but the
    video of ``url``).

    Args:
        result: a summarize / ask / chapters run (:func:`videovision.pipeline.run_plan`).
        video: the video file, as the page should find it (its path is made relative to ``out``'s folder).
        out: where the page will be written (only its folder is used).
        url: the http(s) URL the video was downloaded from: the player plays it from there (shown and
            used without user info or query), and the page names it by its file name.

    Returns:
        The page's HTML text (UTF-8 when written).
    """
    md = _markdown()
    csp = CSP_TEMPLATE.format(script=_sha256(SCRIPT), style=_sha256(STYLE))
    src = video_src(video, out)
    origin = _origin(url) if url else None
    if origin is not None:
        src = display_url(str(url))
        csp = csp.replace("media-src 'self' file:", f"media-src 'self' file: {origin}")
    title = f"{result.task}: {_video_name(result.plan.video.path)} — videovision"
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark"><meta name="referrer" content="no-referrer">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n<body>"
            + _body(result, md, src)
            + f"<script>{SCRIPT}</script></body></html>\n")
