"""End-to-end through the command line: frames/plan offline, summarize/ask/chapters against the
loopback OpenAI-compatible server (faults, cache, map-reduce resume, key hygiene)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import KEY
from media import make_not_a_video, read_frame_number
from terminal import run_on_a_terminal

from videovision import defaults
from videovision.cli import main


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ frames
def test_frames_writes_jpegs_contact_sheet_and_manifest(cut_clip, tmp_path, capsys):
    path, gt = cut_clip
    out_dir = tmp_path / "frames"
    code, out, err = cli(capsys, "frames", path, "--out", out_dir, "--strategy", "scenes")
    assert code == 0 and out == ""  # results on stdout only with --json
    manifest = json.loads((out_dir / "frames.json").read_text())
    assert set(manifest["video"]) >= {"path", "duration", "width", "height", "fps", "rotation"}
    times = [f["time"] for f in manifest["frames"]]
    assert times == sorted(times) and len(times) == len(gt["cuts"]) + 1
    for entry in manifest["frames"]:
        image = cv2.imread(str(out_dir / entry["file"]))
        assert image.shape[:2] == (entry["height"], entry["width"])
        assert read_frame_number(image[:, :, ::-1]) == entry["index"]
        assert set(entry) >= {"time", "index", "scene", "file", "width", "height"}
    assert (out_dir / manifest["contact_sheets"][0]).is_file()


def test_frames_json_on_stdout_and_clock_times(cut_clip, tmp_path, capsys):
    path, _ = cut_clip
    code, out, _ = cli(capsys, "frames", path, "--out", tmp_path / "f", "--every", "1", "--start", "00:01.5",
                       "--end", "0:04", "--max-side", "80", "--json")
    data = json.loads(out)
    assert code == 0
    assert [round(f["time"], 2) for f in data["frames"]] == [1.52, 2.52, 3.52]
    assert all(f["width"] == 80 for f in data["frames"])


@pytest.mark.parametrize("case, code, needle", [
    ("missing", 3, "no such file"), ("dir", 3, "directory"), ("empty", 3, "empty"),
    ("text", 3, "not a video"), ("badtime", 2, "invalid time"),
])
def test_frames_bad_input_is_one_line_and_nonzero(tmp_path, capsys, cut_clip, case, code, needle):
    args = {"missing": [tmp_path / "nope.mp4"], "dir": [tmp_path], "empty": [tmp_path / "e.mp4"],
            "text": [tmp_path / "t.mp4"], "badtime": [cut_clip[0], "--start", "1:99"]}[case]
    (tmp_path / "e.mp4").write_bytes(b"")
    make_not_a_video(tmp_path / "t.mp4")
    got, out, err = cli(capsys, "frames", *args, "--out", tmp_path / "o") if case != "badtime" else _usage(capsys, args, tmp_path)
    assert got == code
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _usage(capsys, args, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["frames", *map(str, args), "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_python_dash_m_entry_point_and_debug_traceback(tmp_path):
    env = {**os.environ, "VIDEOVISION_DEBUG": "1"}
    proc = subprocess.run([sys.executable, "-m", "videovision", "frames", str(tmp_path / "x.mp4"), "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 3 and "Traceback" in proc.stderr and "no such file" in proc.stderr


# ------------------------------------------------------------------ plan (offline)
def test_plan_request_json_is_a_valid_chat_completions_body(cut_clip, tmp_path, capsys):
    path, _ = cut_clip
    req = tmp_path / "req.json"
    code, out, _ = cli(capsys, "plan", path, "--model", "gpt-4o", "--detail", "high", "--strategy", "interval", "--every", "2",
                       "--json", "--request-json", req, "--no-cache")
    assert code == 0
    plan = json.loads(out)
    assert set(plan) >= {"model", "detail", "frames", "image_tokens", "text_tokens", "estimated_cost_usd", "requests", "dropped"}
    body = json.loads(req.read_text())
    content = body["messages"][-1]["content"]
    images = [(i, p) for i, p in enumerate(content) if p["type"] == "image_url"]
    assert len(images) == len(plan["frames"]) == 3
    for (i, part), frame in zip(images, plan["frames"]):
        assert content[i - 1]["type"] == "text" and content[i - 1]["text"].startswith("[00:00:0")
        assert part["image_url"]["detail"] == "high"
        header, b64 = part["image_url"]["url"].split(",", 1)
        assert header == "data:image/jpeg;base64"
        img = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR)
        assert img.shape[:2] == (frame["height"], frame["width"])
    assert plan["image_tokens"] == sum(f["tokens"] for f in plan["frames"])


def test_plan_budget_too_small_is_a_budget_error(cut_clip, capsys):
    code, _, err = cli(capsys, "plan", cut_clip[0], "--max-image-tokens", "10", "--no-cache")
    assert code == 5 and "budget" in err


# ------------------------------------------------------------------ against the loopback server
def test_summarize_json_then_cached_rerun(cut_clip, api_env, capsys):
    server = api_env
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"summary", "frames_sent", "usage", "estimated_cost_usd", "model"}
    assert data["model"] == defaults.MODEL and data["frames_sent"] >= 4
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["estimated_image_tokens"] > 0
    assert "[00:00:00.0]" in data["summary"]
    assert all(m["supported"] for m in data["moments"])
    (request,) = server.chat_requests
    assert all(i.detail == "low" and i.label for i in request.images)
    code, out2, _ = cli(capsys, "summarize", cut_clip[0], "--json")
    assert code == 0 and server.request_count == 1  # second run: nothing reached the server
    assert json.loads(out2)["summary"] == data["summary"]
    code, out, _ = cli(capsys, "log", "--json")
    entries = json.loads(out)["entries"]
    assert [e["cached"] for e in entries[:2]] == [True, False]


def test_dry_run_sends_nothing(cut_clip, api_env, capsys):
    code, out, _ = cli(capsys, "summarize", cut_clip[0], "--dry-run")
    assert code == 0 and "image tokens" in out and api_env.request_count == 0


def test_ask_validates_every_cited_time(cut_clip, api_env, capsys):
    def responder(body):
        return json.dumps({"answers": [
            {"question": "q", "answer": "It changes.", "moments": [
                {"time": "00:00:00.0", "end": None, "text": "start"},
                {"time": "00:00:02.7", "end": None, "text": "invented"},
                {"time": "00:09:00.0", "end": None, "text": "beyond the end"},
            ]},
            {"question": "q2", "answer": "No.", "moments": []},
        ]})

    api_env.responder = responder
    code, out, err = cli(capsys, "ask", cut_clip[0], "When does it change?", "Is there a dog?",
                         "--json", "--strategy", "interval", "--every", "1", "--tolerance", "0.25", "--no-refine")
    assert code == 0, err
    data = json.loads(out)
    first = data["answers"][0]
    assert [(m["time"], m["supported"]) for m in first["moments"]] == [(0.0, True), (2.7, False)]
    assert first["moments"][1]["frame_time"] == 3.0  # snapped to the nearest frame sent
    assert first["rejected"] == ["[00:09:00.0]"]
    body = api_env.last_body
    assert body["response_format"]["type"] == "json_schema"
    assert "When does it change?" in json.dumps(body["messages"]) and "Is there a dog?" in json.dumps(body["messages"])


def test_chapters_formats(cut_clip, api_env, capsys, tmp_path):
    code, out, err = cli(capsys, "chapters", cut_clip[0], "--format", "vtt")
    assert code == 0, err
    assert out.startswith("WEBVTT") and "-->" in out
    code, out, _ = cli(capsys, "chapters", cut_clip[0], "--format", "youtube")
    assert out.splitlines()[0].startswith("0:00 ")
    code, out, _ = cli(capsys, "chapters", cut_clip[0], "--json")
    chapters = json.loads(out)["chapters"]
    assert chapters[0]["start"] == 0.0 and all(c["end"] > c["start"] for c in chapters)


@pytest.mark.parametrize("fault, code, needle, extra", [
    ("500", 7, "5", ["--max-retries", "0"]),
    ("401", 7, "401", []),
    ("malformed", 7, "not a chat completion", []),
    ("length", 7, "--max-output-tokens", []),
    ("context", 7, "--max-frames", []),
    ("slow", 7, "--timeout", ["--timeout", "0.5", "--max-retries", "0"]),
])
def test_request_faults_are_one_line_errors(cut_clip, api_env, capsys, fault, code, needle, extra):
    api_env.enqueue_fault(fault, delay=3.0) if fault == "slow" else api_env.enqueue_fault(fault)
    got, out, err = cli(capsys, "summarize", cut_clip[0], "--no-cache", *extra)
    assert got == code
    assert needle in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and KEY not in err


def test_rate_limit_with_retry_after_is_retried(cut_clip, api_env, capsys):
    api_env.enqueue_fault("429", retry_after=0.05)
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--no-cache", "--json")
    assert code == 0, err
    assert len(api_env.chat_requests) == 2


def test_no_key_and_no_base_url(cut_clip, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path))
    code, _, err = cli(capsys, "summarize", cut_clip[0])
    assert code == 7 and "OPENAI_API_KEY" in err and "--base-url" in err


def test_local_server_needs_no_key(cut_clip, monkeypatch, capsys, tmp_path):
    from fakeserver import FakeOpenAIServer

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path))
    with FakeOpenAIServer(max_images=8) as local:
        code, out, err = cli(capsys, "summarize", cut_clip[0], "--base-url", local.base_url, "--provider", "local",
                             "--model", "llava", "--every", "0.5", "--strategy", "interval", "--json")
        assert code == 0, err
        bodies = [r.body for r in local.chat_requests]
    assert len(bodies) > 1  # 12 frames, 8 per request: map-reduce
    moments = json.loads(out)["moments"]  # the merged summary keeps global times, all checked
    assert len(moments) == 12 and all(m["supported"] for m in moments)
    for body in bodies:
        parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
        images = [p for p in parts if p["type"] == "image_url"]
        assert len(images) <= 8 and all("detail" not in p["image_url"] for p in images)


def test_map_reduce_resumes_paying_only_for_missing_chunks(cut_clip, api_env, capsys):
    args = ["summarize", cut_clip[0], "--strategy", "interval", "--every", "0.5", "--frames-per-request", "3",
            "--concurrency", "1", "--max-retries", "0", "--json"]
    # chunks 1 and 2 succeed, chunk 3 fails: the run fails, but what finished is cached
    server = api_env
    server.enqueue_fault("pass", times=2)
    server.enqueue_fault("500")
    code, _, err = cli(capsys, *args)
    assert code == 7, err
    first_run = len(server.chat_requests)
    assert first_run == 4
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    data = json.loads(out)
    # the second run pays only for the failed chunk and the reduce step
    assert data["cache_hits"] == 3 and data["requests"] == 2
    assert len(server.chat_requests) - first_run == 2
    reduce_body = server.last_body
    assert all(isinstance(m["content"], str) for m in reduce_body["messages"])  # text only


def test_key_and_base64_never_leak(cut_clip, api_env, capsys, tmp_path):
    code, out, err = cli(capsys, "-v", "summarize", cut_clip[0], "--json")
    assert code == 0
    assert KEY not in out and KEY not in err
    payload = re.compile(rb";base64,[A-Za-z0-9+/=]{16}")
    assert "elided" in err and not payload.search(err.encode())
    cache_dir = Path(os.environ["VIDEOVISION_CACHE_DIR"])
    for f in cache_dir.iterdir():
        raw = f.read_bytes()
        assert KEY.encode() not in raw
        assert not payload.search(raw)


def test_summary_streams_to_an_interactive_terminal(cut_clip, api_env, tmp_path):
    """With stdout a terminal the summary is streamed (SSE) as it arrives, then the footer."""
    code, out, err = run_on_a_terminal(["summarize", str(cut_clip[0])])
    assert code == 0, err
    assert "show a test pattern" in out and "[00:00:00.0]" in out
    assert api_env.last_body.get("stream") is True


def test_failed_run_leaves_the_previous_frames_folder_intact(cut_clip, tmp_path, capsys):
    out_dir = tmp_path / "f"
    assert cli(capsys, "frames", cut_clip[0], "--out", out_dir, "--every", "2")[0] == 0
    before = sorted(p.name for p in out_dir.iterdir())
    code, _, err = cli(capsys, "frames", cut_clip[0], "--out", out_dir, "--start", "5.999")
    assert code == 4 and "no frame" in err
    assert sorted(p.name for p in out_dir.iterdir()) == before
    manifest = json.loads((out_dir / "frames.json").read_text())
    assert all((out_dir / f["file"]).is_file() for f in manifest["frames"])
    # a later successful run replaces the old frames entirely
    assert cli(capsys, "frames", cut_clip[0], "--out", out_dir, "--every", "5")[0] == 0
    assert sorted(p.name for p in out_dir.iterdir() if p.suffix == ".jpg" and p.name.startswith("frame_")) == [
        "frame_00h00m00.000s.jpg", "frame_00h00m05.000s.jpg"]


def test_unwritable_output_is_a_one_line_error(cut_clip, tmp_path, capsys):
    out_dir = tmp_path / "f"
    out_dir.mkdir()
    (out_dir / "frames.json").mkdir()  # something in the way
    code, _, err = cli(capsys, "frames", cut_clip[0], "--out", out_dir)
    assert code == 2 and "cannot write" in err and len(err.strip().splitlines()) == 1


def test_non_utf8_file_name(cut_clip, tmp_path, capsys):
    import shutil

    odd = Path(os.fsdecode(bytes(tmp_path) + b"/clip\xff.mp4"))
    shutil.copy(cut_clip[0], odd)
    code, out, err = cli(capsys, "plan", odd, "--cache-dir", tmp_path / "cache")
    assert code == 0, err
    assert "clip\\xff.mp4" in out


def test_frames_dedup_count_in_manifest(tmp_path, capsys):
    from media import make_clip

    path = tmp_path / "still.mp4"
    make_clip(path, duration=4.0, cuts=[], size=(160, 120), labels=False)
    code, out, _ = cli(capsys, "frames", path, "--out", tmp_path / "o", "--every", "0.5", "--dedup", "--dedup-threshold", "20", "--json")
    data = json.loads(out)
    assert code == 0 and data["duplicates_dropped"] >= 1
    assert data["duplicates_dropped"] + len(data["frames"]) == 8


def test_requests_are_split_to_fit_the_model_context_window(cut_clip, capsys):
    from videovision.models import resolve_model

    args = ["plan", cut_clip[0], "--strategy", "interval", "--every", "0.1", "--max-frames", "60", "--no-cache", "--json"]
    data = json.loads(cli(capsys, *args, "--model", "gpt-4o-mini")[1])
    window = resolve_model("gpt-4o-mini").context_window
    maps = [r for r in data["request_plan"] if r["kind"] == "map"]
    assert data["image_tokens"] > window and len(maps) >= 2
    assert all(r["image_tokens"] + r["text_tokens"] + 1200 <= window for r in maps)
    data = json.loads(cli(capsys, *args, "--model", "gpt-4o")[1])  # 85 tokens an image: one request
    assert data["requests"] == 1


def test_unwritable_chapters_output_fails_before_any_request(cut_clip, api_env, capsys, tmp_path):
    code, _, err = cli(capsys, "chapters", cut_clip[0], "--output", tmp_path / "missing" / "ch.vtt", "--format", "vtt")
    assert code == 2 and "does not exist" in err
    assert api_env.request_count == 0


def test_verbose_after_the_subcommand_and_cached_tokens(cut_clip, api_env, capsys):
    code, _, err = cli(capsys, "summarize", cut_clip[0], "--json", "-v")
    assert code == 0 and "chat request to" in err
    first = json.loads(cli(capsys, "summarize", cut_clip[0], "--json")[1])
    assert first["cache_hits"] == 1 and first["requests"] == 0
    assert first["usage"]["prompt_tokens"] > 0  # the cached answer's tokens are still reported
