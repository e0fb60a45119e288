"""The HTML report (no browser): model text escaped, the CSP hashes the page's own inline blocks,
cited times linked (unsupported ones marked, rejected ones plain text), the video found by a
relative path, the filmstrip embeds the packed JPEGs as they are, and 32 frames stay under 2 MB.

Every TaskResult here is a real run: make_plan on a video, run_plan against the loopback server
answering what the test wants."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import urllib.parse
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fakeserver import FakeOpenAIServer
from media import DEMO

from tests.conftest import KEY
from videovision.client import OpenAIChatClient
from videovision.endpoint import ClientConfig
from videovision.packing import Budget, PackConfig
from videovision.pipeline import TaskResult, make_plan, run_plan
from videovision.plan import TaskConfig
from videovision.prompts import PromptOptions
from videovision.report import render_report, video_src
from videovision.types import SamplingConfig, SpeechConfig

XSS = {
    "script": "<script>window.__pwned = 1; document.title = 'pwned'</script>",
    "img": "<img src=x onerror=\"window.__pwned = 1; document.title = 'pwned'\">",
    "js_link": "[click me](javascript:window.__pwned=1)",
    "svg": "\"><svg onload=\"window.__pwned = 1\">",
    "autolink": "<javascript:window.__pwned=1>",
    "data_link": "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
}
XSS_REPLY = ("A red card is shown at [00:00:02.0], then a cut at [00:00:04.0]. " + " ".join(XSS.values())
             + "\n\nAn invented time [00:00:11.3] and one past the end [00:09:00.0].\n")


def run_task(video: str | Path, reply: str, *, task: str = "summarize", questions: Sequence[str] = (),
             every: float = 2.0, max_frames: int = 12, refine: bool = False, tolerance: float = 0.5,
             speech: SpeechConfig | None = None, strategy: str = "interval") -> TaskResult:
    """A real run of ``task`` on ``video`` against the loopback server, which answers ``reply``."""
    config = TaskConfig(sampling=SamplingConfig(strategy=strategy, every=every),  # type: ignore[arg-type]
                        pack=PackConfig(budget=Budget(max_frames=max_frames)),
                        prompt=PromptOptions(task=task, questions=tuple(questions), structured=False),  # type: ignore[arg-type]
                        speech=speech or SpeechConfig(mode="off"), refine=refine, tolerance=tolerance)
    with FakeOpenAIServer(api_key=KEY, responder=lambda body: reply) as server:
        plan = make_plan(video, config)
        with OpenAIChatClient(ClientConfig(api_key=KEY, base_url=server.base_url, max_retries=0)) as client:
            return run_plan(plan, client)


class Page(HTMLParser):
    """The parsed page: every element with its attributes, the inline blocks, the text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in self.blocks:
            self._open = tag
            self.blocks[tag].append("")

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        if self._open:
            self.blocks[self._open][-1] += data
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == tag]


@pytest.fixture(scope="module")
def xss_summary(tmp_path_factory):
    folder = tmp_path_factory.mktemp("xss")
    video = folder / "demo.mp4"
    shutil.copyfile(DEMO, video)
    result = run_task(video, XSS_REPLY)
    return result, render_report(result, video=video, out=folder / "report.html")


def test_model_markup_is_escaped_never_live(xss_summary):
    _, page_text = xss_summary
    page = Page(page_text)
    assert len(page.blocks["script"]) == 1 and "__pwned" not in page.blocks["script"][0]
    assert [a for t, a in page.elements if t in ("svg", "img") and any(k.startswith("on") for k in a)] == []
    assert not any(k.startswith("on") for _, attrs in page.elements for k in attrs)
    hrefs = [a.get("href") or "" for a in page.all("a")]
    assert hrefs and not [h for h in hrefs if not h.startswith(("#t=", "http://", "https://", "mailto:"))]
    text = "".join(page.text)
    # the payloads are shown as the text the model wrote
    assert "<script>window.__pwned = 1" in text and "onerror=" in text and "javascript:window.__pwned=1" in text
    assert "<svg onload=" in text
    assert len(page.all("svg")) == 1  # the timeline only
    assert len(page.all("img")) == len(xss_summary[0].plan.images) + 1  # the frames and the "seen" preview


def test_csp_allows_exactly_the_pages_own_inline_blocks(xss_summary):
    _, page_text = xss_summary
    page = Page(page_text)
    (meta,) = [a for a in page.all("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    policy = dict((d.strip().split(" ", 1) + [""])[:2] for d in (meta["content"] or "").split(";"))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data:"
    assert set(policy["media-src"].split()) == {"'self'", "file:"}

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert policy["script-src"] == digest(page.blocks["script"][0])
    assert policy["style-src"] == digest(page.blocks["style"][0])
    assert page_text.index("Content-Security-Policy") < page_text.index("<style>")  # in force before any block
    assert not any("style" in attrs for _, attrs in page.elements)  # style attributes would be blocked


def test_cited_times_link_unsupported_ones_are_marked_rejected_ones_are_text(xss_summary):
    result, page_text = xss_summary
    summary = result.summary
    assert [m.supported for m in summary.moments] == [True, True, False] and summary.rejected == ("[00:09:00.0]",)
    section = page_text.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    links = {a["href"]: a for a in Page(section).all("a") if (a.get("href") or "").startswith("#t=")}
    for moment in summary.moments:
        link = links[f"#t={moment.time:g}"]
        assert ("unsupported" in (link["class"] or "")) is (not moment.supported)
        frame_id = link["data-frame"]
        frame = re.search(rf'<figure id="{frame_id}" data-times="([^"]*)"', page_text)
        assert frame and float(frame.group(1).split()[0]) == pytest.approx(moment.frame_time)  # the snapped frame
    assert re.search(r'href="#t=11.3"[^>]*>\[00:00:11.3\] <span class="mark">\(no frame\)</span></a>', page_text)
    assert "#t=540" not in page_text
    assert re.search(r'<span class="outside">\[00:09:00.0\] <span class="mark">\(outside the video\)', page_text)


def test_answers_list_their_moments_as_links(tmp_path):
    reply = "1. The red card at [00:00:02.0].\n2. Invented: [00:00:15.1], and [00:30:00.0] is past the end.\n"
    result = run_task(DEMO, reply, task="ask", questions=("Red?", "<b>Blue</b>?"), every=4.0)
    page_text = render_report(result, video=DEMO, out=tmp_path / "r.html")
    page = Page(page_text)
    first, second = result.answers
    assert [m.time for m in first.moments] == [2.0] and second.rejected == ("[00:30:00.0]",)
    hrefs = [a["href"] for a in page.all("a")]
    assert "#t=2" in hrefs and "#t=15.1" in hrefs and "#t=1800" not in hrefs
    answers = Page(page_text.split('<section id="answers">', 1)[1].split("</section>", 1)[0])
    unsupported = [a for a in answers.all("a") if a["href"] == "#t=15.1"]
    assert unsupported and all("unsupported" in (a["class"] or "") for a in unsupported)
    assert "&lt;b&gt;Blue&lt;/b&gt;?" in page_text and "<b>Blue" not in page_text
    # times in the answers' own text are links too, in place; the one past the end stays text
    articles = re.findall(r'<article class="answer".*?<h4>', page_text, re.S)
    assert [[a["href"] for a in Page(x).all("a")] for x in articles] == [["#t=2"], ["#t=15.1"]]
    assert re.search(r'<span class="outside">\[00:30:00\.0\]', articles[1])


def test_chapters_link_their_starts_and_draw_a_timeline(tmp_path):
    reply = "[00:00:00.0] Opening - <i>red</i>\n[00:00:06.9] Middle - blue\n[00:00:14.0] End - green\n[00:05:00.0] Late"
    result = run_task(DEMO, reply, task="chapters", strategy="hybrid")
    assert result.plan.scenes
    page_text = render_report(result, video=DEMO, out=tmp_path / "r.html")
    assert [c.title for c in result.chapters.chapters] == ["Opening", "Middle", "End"]
    page = Page(page_text)
    starts = [f"#t={c.start:g}" for c in result.chapters.chapters]
    assert set(starts) <= {a["href"] for a in page.all("a")}
    assert len([r for r in page.all("rect") if "chapter" in (r.get("class") or "")]) == 3
    assert len([r for r in page.all("rect") if "scene" in (r.get("class") or "")]) == len(result.plan.scenes)
    assert "&lt;i&gt;red&lt;/i&gt;" in page_text and "[00:05:00.0]" in page_text and "#t=300" not in page_text


@pytest.mark.parametrize("name", ["my talk 2024.mp4", "Präsentation – ü#1?.mp4"])
def test_the_video_is_found_by_a_quoted_relative_path(tmp_path, name):
    video = tmp_path / "videos" / name
    video.parent.mkdir()
    shutil.copyfile(DEMO, video)
    out = tmp_path / "reports" / "run one" / "report.html"
    result = run_task(video, "Nothing but [00:00:02.0].", max_frames=4)
    (player,) = Page(render_report(result, video=video, out=out)).all("video")
    src = player["src"] or ""
    assert src == "../../videos/" + urllib.parse.quote(name)
    assert " " not in src and "#" not in src and "?" not in src
    assert (out.parent / urllib.parse.unquote(src)).resolve() == video.resolve()
    assert video_src(video, tmp_path / "videos" / "r.html") == urllib.parse.quote(name)


def test_the_filmstrip_embeds_the_packed_images_as_they_are(tmp_path):
    result = run_task(DEMO, "See [00:00:04.0].", refine=False)
    page = Page(render_report(result, video=DEMO, out=tmp_path / "r.html"))
    uris = [a["src"] for a in page.all("img") if (a.get("src") or "").startswith("data:")]
    assert uris == ["data:image/jpeg;base64," + base64.b64encode(i.data).decode() for i in result.plan.images]
    captions = [f for f in page.all("figure")]
    assert len(captions) == len(result.plan.images)


def test_a_refine_pass_gets_its_own_strip(tmp_path):
    result = run_task(DEMO, "The blue card appears at [00:00:04.0].", task="ask", questions=("When blue?",),
                      every=6.0, refine=True)
    assert result.refine_images, "the refine pass sent frames"
    page_text = render_report(result, video=DEMO, out=tmp_path / "r.html")
    strips = [part.split("</ol>", 1)[0] for part in page_text.split('<ol class="strip refine">')[1:]]
    assert len(strips) == len(result.refine_outcomes)  # one strip per refine window
    assert sum(strip.count("<figure") for strip in strips) == len(result.refine_images)
    assert [o.status for o in result.refine_outcomes] == ["refined"] and "around 00:04.0: refined" in page_text
    (moment,) = result.answers[0].moments
    link = re.search(rf'href="#t={moment.time:g}" data-frame="([fr]\d+)"', page_text)
    assert link and re.search(rf'<figure id="{link.group(1)}" data-times="[^"]*\b{moment.frame_time:g}\b', page_text)


def test_speech_lines_and_the_plan_are_shown(tmp_path):
    srt = tmp_path / "demo.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,500\nHello <b>there</b>\n\n2\n00:00:05,000 --> 00:00:06,000\n"
                   "Second line\n", encoding="utf-8")
    result = run_task(DEMO, "Greeting at [00:00:01.5].", speech=SpeechConfig(mode="subtitles", subtitles=str(srt)))
    assert result.plan.speech.segments
    page_text = render_report(result, video=DEMO, out=tmp_path / "r.html")
    speech = page_text.split('<ol class="speech">', 1)[1].split("</ol>", 1)[0]
    assert 'href="#t=1"' in speech and 'href="#t=5"' in speech and "Second line" in speech
    plan = page_text.split('<section id="plan">', 1)[1]
    for value in (result.plan.model, f"{result.plan.image_tokens:,}", f"{result.plan.speech.tokens:,}",
                  f"{result.usage.cached_tokens:,}"):
        assert f"<dd>{value}" in plan


def test_dropped_frames_and_warnings_are_listed(tmp_path):
    result = run_task(DEMO, "", every=1.0, max_frames=6)  # 24 picked, 6 sent; an empty reply warns
    assert result.plan.dropped and result.warnings
    page_text = render_report(result, video=DEMO, out=tmp_path / "r.html")
    assert f"{len(result.plan.dropped)} frames picked but not sent" in page_text
    assert all(d.reason in page_text for d in result.plan.dropped[:3])
    assert result.warnings[0] in page_text


def test_32_frames_make_a_report_under_2_mb(tmp_path):
    result = run_task(DEMO, "A summary at [00:00:05.0].", every=0.75, max_frames=32)
    assert len(result.plan.sent_times) == 32
    page_text = render_report(result, video=DEMO, out=tmp_path / "r.html")
    assert len(page_text.encode("utf-8")) <= 2 * 1024 * 1024
