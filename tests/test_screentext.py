"""Screen text (videovision/screentext.py): OCR of the frames sent, "on screen" parts after each frame,
the timestamp check, search, report and the legibility measure. The engine tests need Tesseract
(.ci/run installs it): they fail in CI without it and skip elsewhere."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from videovision.errors import ConfigError
from videovision.parsing import TimeCheck, parse_summary
from videovision.pipeline import TaskConfig, TaskResult, make_plan
from videovision.screentext import ScreenTextConfig, decide, find_engine, parse_tsv, word_recall, words
from videovision.search import SearchIndex, render_hit, search
from videovision.timecode import time_label
from videovision.types import SpeechConfig

ROOT = Path(__file__).resolve().parents[1]


def _footage():
    key = "_videovision_samples_footage"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "samples" / "footage.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


def _need_engine() -> None:
    if find_engine() is None:
        if os.environ.get("CI"):
            pytest.fail("Tesseract is not installed: .ci/run installs tesseract-ocr")
        pytest.skip("Tesseract is not installed (apt-get install tesseract-ocr)")


# --------------------------------------------------------------------------- no engine needed
TSV = "\n".join([
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
    "1\t1\t0\t0\t0\t0\t0\t0\t1280\t720\t-1\t",
    "5\t1\t1\t1\t1\t1\t60\t60\t120\t40\t96.5\tMargin",
    "5\t1\t1\t1\t1\t2\t190\t60\t150\t40\t95.0\tForecast",
    "5\t1\t2\t1\t1\t1\t70\t190\t12\t12\t80.0\te",
    "5\t1\t2\t1\t1\t2\t110\t185\t90\t30\t91.0\tgrowth",
    "5\t1\t2\t1\t1\t3\t210\t185\t90\t30\t12.0\t~~",
    "5\t1\t3\t1\t1\t1\t10\t10\t5\t5\t90.0\t|",
])


def test_tsv_lines_drop_bullets_noise_and_low_confidence():
    lines = parse_tsv(TSV)
    assert [ln.text for ln in lines] == ["Margin Forecast", "growth"]
    assert lines[0].box == (60, 60, 280, 40)
    assert lines[0].confidence == pytest.approx(95.8, abs=0.1)


def test_words_and_recall():
    assert words("def total(ws): return sum(w.length())") == ["def", "total", "ws", "return", "sum", "length"]
    assert word_recall(["a1", "b2", "b2"], ["b2", "a1"]) == pytest.approx(2 / 3)
    assert word_recall([], ["x"]) == 1.0


def test_config_is_checked():
    with pytest.raises(ConfigError) as err:
        ScreenTextConfig(mode="always")  # type: ignore[arg-type]
    assert err.value.field == "screen_text"
    with pytest.raises(ConfigError):
        ScreenTextConfig(max_tokens=-1)
    with pytest.raises(ConfigError):
        ScreenTextConfig(language="eng; rm -rf /")


def test_decide_says_why():
    class Engine:
        name = "fake"

        def read(self, rgb):
            return []

    assert decide(ScreenTextConfig(mode="off"), "screen", Engine()) == (False, "--screen-text off")
    assert decide(ScreenTextConfig(), "screen", Engine()) == (True, "auto: screen recording")
    on, why = decide(ScreenTextConfig(), "film", Engine())
    assert not on and "not a screen recording" in why
    on, why = decide(ScreenTextConfig(), "screen", None)
    assert not on and "no OCR engine" in why
    with pytest.raises(ConfigError, match="apt-get install tesseract-ocr"):
        decide(ScreenTextConfig(mode="on"), "film", None)


def test_on_without_engine_is_one_line_exit_2(tmp_path):
    clip = tmp_path / "slides.mp4"
    _footage().make_slides_light(clip, short=True)
    env = {**os.environ, "VIDEOVISION_TESSERACT": str(tmp_path / "no-such-tesseract"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "videovision", "plan", str(clip), "--speech", "off", "--no-cache",
                           "--screen-text", "on"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "tesseract" in done.stderr.lower()


# --------------------------------------------------------------------------- with Tesseract
@pytest.fixture(scope="module")
def talks(tmp_path_factory):
    _need_engine()
    out = tmp_path_factory.mktemp("screentext")
    f = _footage()
    made = {}
    for name, make in (("light", f.make_slides_light), ("dark", f.make_slides_dark), ("code", f.make_code_dark)):
        path = out / f"{name}.mp4"
        truth = make(path, short=True)
        made[name] = (path, truth)
    return made


def _plan(path, model: str | None = None, **screen):
    config = TaskConfig(speech=SpeechConfig(mode="off"), screen_text=ScreenTextConfig(**screen))
    if model:
        config = dataclasses.replace(config, pack=dataclasses.replace(config.pack, model=model))
    return make_plan(path, config)


def _texts(plan) -> list[str]:
    return [p["text"] for r in plan.requests if r.body for p in r.body["messages"][1]["content"] if p["type"] == "text"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_slide_titles_reach_the_model_as_text_at_detail_low(talks, theme):
    path, truth = talks[theme]
    plan = _plan(path)
    assert plan.detail == "low" and plan.selection.preset == "screen"
    assert plan.screen_text is not None and plan.screen_text.read and "auto: screen recording" in plan.screen_text.reason
    on_screen = [t for t in _texts(plan) if " on screen: " in t]
    titles = [s["title"] for s in truth["slides"]]
    # the title's words in order (OCR may add a stray comma; the model still reads the title)
    found = [t for t in titles if any(" ".join(words(t)) in " ".join(words(o)) for o in on_screen)]
    assert len(found) / len(titles) >= 0.9, (titles, on_screen)
    # each part comes right after its frame's image and carries that frame's label
    for r in plan.requests:
        parts = r.body["messages"][1]["content"]
        for n, p in enumerate(parts):
            if p["type"] == "text" and " on screen: " in p["text"]:
                assert parts[n - 1]["type"] == "image_url"
                assert parts[n - 2]["text"] == p["text"].split(" on screen: ")[0]
    # counted in the plan's text tokens, and off means none
    off = _plan(path, mode="off")
    assert not any(" on screen: " in t for t in _texts(off))
    assert plan.text_tokens > off.text_tokens + plan.screen_text.tokens // 2
    assert plan.image_tokens == off.image_tokens


def test_only_what_changed_is_sent(talks):
    plan = _plan(talks["light"][0])
    frames = plan.screen_text.frames
    sent = [line for f in frames for line in f.new_lines]
    assert len(sent) == len(set(sent)), "a line already on screen in the frame before is sent again"
    assert sum(len(f.lines) for f in frames) >= len(sent)


def test_budget_caps_the_text(talks):
    plan = _plan(talks["light"][0], max_tokens=40)
    assert plan.screen_text.tokens <= 40
    assert any("cut at the budget" in n for n in plan.screen_text.notes)


def test_a_time_cited_from_the_screen_text_is_supported(talks):
    plan = _plan(talks["dark"][0])
    frame = next(f for f in plan.screen_text.frames if f.new_lines)
    check = TimeCheck(plan.seen_times, plan.video.duration, plan.config.tolerance)
    summary = parse_summary(f"The slide {time_label(frame.time)} reads {frame.new_lines[0]}.", check)
    assert [m.supported for m in summary.moments] == [True]


def test_search_finds_a_slide_by_its_title_at_its_time(talks, tmp_path):
    path, truth = talks["light"]
    plan = _plan(path)
    data = TaskResult(task="summarize", plan=plan, text="").to_json()
    assert data["screen_text"]
    json.dumps(data)
    slide = truth["slides"][1]
    with SearchIndex(tmp_path) as index:
        index.replace(str(path), "light", data)
    hits = search(tmp_path, f'"{slide["title"]}"')
    assert hits and hits[0].kind == "screen"
    assert slide["start"] - 0.5 <= hits[0].time <= slide["end"]
    assert "on screen:" in render_hit(hits[0])


def test_report_shows_the_text_under_its_frame(talks, tmp_path):
    from videovision.report import render_report

    path, truth = talks["light"]
    plan = _plan(path)
    result = TaskResult(task="summarize", plan=plan, text="A talk.")
    page = render_report(result, video=path, out=tmp_path / "r.html")
    assert page.count('class="ocr"') == sum(1 for f in plan.screen_text.frames if f.new_lines)
    assert truth["slides"][0]["title"] in page


def test_code_at_512_is_measured_illegible_and_said(talks):
    # gpt-4o-mini packs the 640x360 clip at 512x288 (the default model's patches take it whole)
    plan = _plan(talks["code"][0], model="gpt-4o-mini")
    st = plan.screen_text
    judged = [f for f in st.frames if f.legible is not None]
    assert judged and all(f.full_size[0] > f.packed_size[0] for f in judged)
    assert st.illegible, [f.packed_recall for f in judged]
    from videovision.render import plan_table

    table = plan_table(plan)
    assert "too small to read there" in table and "screen text" in table
    slides = _plan(talks["light"][0]).screen_text
    assert all(f.legible for f in slides.frames if f.legible is not None and len(f.lines) <= 3)


def test_auto_skips_camera_footage(tmp_path):
    _need_engine()
    path = tmp_path / "film.mp4"
    _footage().make_kind("home_camera", tmp_path, short=True)
    found = next(tmp_path.glob("home_camera*.mp4"), None) or path
    plan = _plan(found)
    assert plan.screen_text is not None and not plan.screen_text.read
    assert "not a screen recording" in plan.screen_text.reason


def test_engine_reads_what_was_drawn():
    _need_engine()
    import cv2
    import numpy as np

    img = np.full((200, 900, 3), 250, np.uint8)
    cv2.putText(img, "Gradient Clipping 2026", (30, 120), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (20, 20, 20), 4, cv2.LINE_AA)
    text = " ".join(ln.text for ln in find_engine().read(img))
    assert word_recall(["gradient", "clipping", "2026"], words(text)) == 1.0
    assert shutil.which("tesseract") or os.environ.get("VIDEOVISION_TESSERACT")


def test_illegible_frames_go_high_only_within_the_image_token_budget(talks):
    from dataclasses import replace

    from videovision.packing import Budget

    path = talks["code"][0]

    def plan_with(cap):
        cfg = TaskConfig(speech=SpeechConfig(mode="off"), screen_text=ScreenTextConfig())
        return make_plan(path, replace(cfg, pack=replace(cfg.pack, model="gpt-4o",
                                                         budget=Budget(max_frames=32, max_image_tokens=cap))))

    low = plan_with(None)
    assert not any(f.sent_high for f in low.screen_text.frames)
    roomy = plan_with(low.image_tokens + 1105 * 2)
    high = [f for f in roomy.screen_text.frames if f.sent_high]
    assert 1 <= len(high) <= 2 and all(f.legible is False for f in high)
    assert roomy.image_tokens <= low.image_tokens + 1105 * 2
    details = [p["image_url"]["detail"] for r in roomy.requests for p in r.body["messages"][1]["content"]
               if p["type"] == "image_url"]
    assert details.count("high") == len(high)
    assert "sent at detail high" in roomy.screen_text.summary_line()
    tight = plan_with(low.image_tokens + 100)
    assert not any(f.sent_high for f in tight.screen_text.frames)
