"""The command line does what it shows (issue 19): dry runs send nothing anywhere, stdout carries
the answer alone, the log holds every paid call, batch names its failures, chat commands stay
local, ``clip`` checks its range, short keys are scrubbed."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from fake_audio import install_audio
from fake_batches import install_batches
from media import SAMPLES_DIR

from videovision.cli import main

TALK = SAMPLES_DIR / "talk.mp4"


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ dry runs
DRY_RUNS = [
    ("summarize",), ("ask", "What is said?"), ("chapters",), ("chat",), ("transcript",),
    ("batch", "--out", "{out}"), ("batch", "--out", "{out}", "--batch-api"),
    ("batch", "--out", "{out}", "--task", "transcript"),
]


@pytest.mark.parametrize("command", DRY_RUNS, ids=lambda c: " ".join(w for w in c if not w.startswith("{")))
def test_a_dry_run_sends_nothing_anywhere(command, api_env, tmp_path, capsys):
    """Not a chat, transcription, file or batch request: the loopback server logs none; the plan
    and its cost are printed."""
    audio = install_audio(api_env)
    install_batches(api_env)
    video = tmp_path / "talk.mp4"
    shutil.copy(TALK, video)
    out = tmp_path / "out"
    name, *rest = command
    argv = [name, video, *[w.format(out=out) for w in rest], "--speech", "transcribe", "--dry-run"]
    code, stdout, err = cli(capsys, *argv)
    assert code == 0, err
    assert api_env.requests == [] and audio.uploads == []
    assert "$" in stdout  # what it would cost
    assert not out.exists()  # a dry batch writes no results
    code, stdout, err = cli(capsys, *argv, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert "estimated_cost_usd" in data and data["estimated_cost_usd"] > 0
    assert api_env.requests == [] and audio.uploads == []


# ------------------------------------------------------------------ stdout: the answer alone
def _beyond_the_end(body: dict) -> str:
    """The default answer plus a time outside the video (and one no frame supports)."""
    from fakeserver import default_responder

    text = default_responder(body)
    try:
        data = json.loads(text)
    except ValueError:
        return text + " Then [09:00:00.0] it ends, and at [00:00:02.7] nothing happens."
    if "chapters" in data:
        data["chapters"].append({"start": "09:00:00.0", "title": "Beyond", "summary": "after the end"})
    for answer in data.get("answers", ()):
        answer["moments"].append({"time": "09:00:00.0", "end": None, "text": "beyond the end"})
    return json.dumps(data)


@pytest.mark.parametrize("command", [("summarize",), ("ask", "What happens?", "--no-refine"), ("chapters",),
                                     ("chapters", "--format", "youtube"), ("chapters", "--format", "vtt"),
                                     ("summarize", "--markdown")], ids=" ".join)
def test_stdout_carries_the_answer_alone(command, cut_clip, api_env, capsys):
    """Notes on the cited times go to stderr: ``summarize > s.txt`` holds the summary only."""
    api_env.responder = _beyond_the_end
    name, *rest = command
    code, out, err = cli(capsys, name, cut_clip[0], *rest, "--strategy", "interval", "--every", "1",
                         "--tolerance", "0.25")
    assert code == 0, err
    assert "Note:" not in out and "ignored times" not in out
    assert "Note: ignored times outside the video" in err
    assert out.strip()


# ------------------------------------------------------------------ the log holds every paid call
def _log(capsys) -> list[dict]:
    code, out, err = cli(capsys, "log", "--json")
    assert code == 0, err
    return json.loads(out)["entries"]


def test_each_transcription_chunk_is_logged_with_its_minutes_and_cost(api_env, tmp_path, capsys):
    audio = install_audio(api_env)
    video = tmp_path / "talk.mp4"
    shutil.copy(TALK, video)
    code, _, err = cli(capsys, "transcript", video, "--speech", "transcribe", "--transcribe-chunk", "8")
    assert code == 0, err
    entries = [e for e in _log(capsys) if e["task"] == "transcribe"]
    assert len(entries) == len(audio.uploads) >= 2
    assert all(e["status"] == "ok" and e["estimated_cost_usd"] > 0 and e["audio_seconds"] > 0 for e in entries)
    assert sum(e["audio_seconds"] for e in entries) == pytest.approx(22.8, abs=1.0)
    assert len({e["run_id"] for e in entries}) == 1
    code, out, _ = cli(capsys, "log")
    assert "transcribe" in out and " min " in out
    # a re-run transcribes nothing and logs nothing new
    code, _, err = cli(capsys, "transcript", video, "--speech", "transcribe", "--transcribe-chunk", "8")
    assert code == 0 and len([e for e in _log(capsys) if e["task"] == "transcribe"]) == len(entries)


def test_chat_turns_are_logged_as_chat_and_report_says_what_it_rebuilds(cut_clip, api_env, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("What is on screen first?\nHow does it end?\n"))
    code, _, err = cli(capsys, "chat", cut_clip[0])
    assert code == 0, err
    entries = _log(capsys)
    assert [e["task"] for e in entries] == ["chat", "chat"]
    code, _, err = cli(capsys, "report", entries[0]["run_id"][-8:])
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "chat run" in err and "summarize, ask and chapters" in err


# ------------------------------------------------------------------ batch names each failed video
def test_batch_names_each_failed_video_and_counts_what_they_paid(api_env, cut_clip, tmp_path, capsys):
    root = tmp_path / "in"
    root.mkdir()
    for name in ("bad1.mp4", "bad2.mp4"):
        (root / name).write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video" * 50)
    shutil.copy(cut_clip[0], root / "split.mp4")
    # split.mp4's second request fails after its first was answered (and paid)
    api_env.enqueue_fault("pass")
    api_env.enqueue_fault("500", times=10)
    code, out, err = cli(capsys, "batch", root, "--out", tmp_path / "out", "--strategy", "interval", "--every", "1",
                         "--frames-per-request", "2", "--max-frames", "6", "--max-retries", "0", "--jobs", "1",
                         "--concurrency", "1")
    assert code == 7, err  # every video failed
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 3, err
    assert failed[0].startswith(f"failed: {root / 'bad1.mp4'}: not a video file")
    assert failed[1].startswith(f"failed: {root / 'bad2.mp4'}: not a video file")
    assert failed[2].startswith(f"failed: {root / 'split.mp4'}: server error (500)")
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("0 ok, 3 failed") and "of it paid for failed videos" in summary
    assert float(summary.split("· $")[1].split()[0]) > 0


def test_batch_failure_lines_are_capped(capsys):
    from videovision._cli.library import _print_failures

    _print_failures(tuple((f"v{i}.mp4", "broken") for i in range(25)))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 21 and lines[0] == "failed: v0.mp4: broken" and lines[-1].startswith("… and 5 more")


# ------------------------------------------------------------------ chat commands stay local
def test_chat_commands_are_handled_locally(cut_clip, api_env, tmp_path):
    from test_chat import chat

    saved = tmp_path / "chat.md"
    stdin = "\n".join(["/help", "What is on screen first?", "/cost", f"/save {saved}", "/nonsense", "/save",
                       "//etc/hosts: what is it?", "/quit", "Never asked"]) + "\n"
    proc = chat(cut_clip[0], stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    sent = [r.body["messages"][-1] for r in api_env.chat_requests]
    assert len(sent) == 2  # the two questions; no command reached the model
    assert "/etc/hosts: what is it?" in json.dumps(sent[1])
    assert "/help" not in json.dumps([r.body for r in api_env.chat_requests])
    err = proc.stderr
    assert "/save FILE" in err and "/cost" in err  # the help
    assert "unknown command /nonsense: /help lists the commands" in err
    assert "/save needs a file name" in err
    assert "1 question, " in err and "~$" in err  # /cost after the first answer
    text = saved.read_text()
    assert text.startswith("# Chat about ") and "## What is on screen first?" in text
    assert proc.stdout.count("Moments:") == 2 and "Never asked" not in json.dumps(sent)


# ------------------------------------------------------------------ clip --at / --end
def test_clip_end_before_at_is_a_one_line_usage_error(cut_clip, tmp_path, capsys):
    out = tmp_path / "c.mp4"
    code, _, err = cli(capsys, "clip", cut_clip[0], "--at", "4", "--end", "2", "-o", out)
    assert code == 2 and err.strip() == "videovision: error: --end must be after --at (4 s), got 2 s"
    assert not out.exists()
    code, _, err = cli(capsys, "clip", cut_clip[0], "--at", "4", "--end", "4", "-o", out)
    assert code == 2 and "--end must be after --at" in err


def test_clip_at_with_end_is_the_range(cut_clip, tmp_path, capsys):
    out = tmp_path / "c.mp4"
    code, stdout, err = cli(capsys, "clip", cut_clip[0], "--at", "1.52", "--end", "3", "-o", out, "--mode", "encode",
                            "--json")
    assert code == 0, err
    clip = json.loads(stdout)
    assert clip["start"] == pytest.approx(1.52, abs=0.05) and clip["end"] == pytest.approx(3.0, abs=0.05)
    code, stdout, err = cli(capsys, "clip", cut_clip[0], "--at", "1.52", "--end", "3", "--after", "1", "-o", out,
                            "--mode", "encode", "--json")
    assert code == 0, err
    assert json.loads(stdout)["end"] == pytest.approx(4.0, abs=0.05)


# ------------------------------------------------------------------ short keys scrubbed
@pytest.mark.parametrize("key", ["sk-test", "ollama", "k"])
def test_a_short_key_echoed_by_the_server_is_never_shown(key, cut_clip, monkeypatch, tmp_path, capsys):
    from fakeserver import FakeOpenAIServer

    with FakeOpenAIServer(api_key=key) as server:
        monkeypatch.setenv("OPENAI_API_KEY", key)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
        shown = []
        for fault, args in (("echo_key", ()), ("echo_key", ("--json",)), ("401_echo", ())):
            server.enqueue_fault(fault)
            code, out, err = cli(capsys, "summarize", cut_clip[0], "--no-cache", "--max-retries", "0", *args)
            assert code == (7 if fault == "401_echo" else 0), err
            shown.append(out + err)
        server.enqueue_fault("echo_key")
        code, out, err = cli(capsys, "ask", cut_clip[0], "What is shown?", "--no-cache", "--no-refine")
        shown.append(out + err)
        assert len(server.chat_requests) == 4
    text = "\n".join(shown)
    assert "Bearer *** (key ***)" in text and "API key rejected (401)" in text
    for line in text.splitlines():
        assert not re.search(rf"(?<![A-Za-z0-9_-]){re.escape(key)}(?![A-Za-z0-9_-])", line), line


# ------------------------------------------------------------------ suggestions
@pytest.mark.parametrize(("argv", "suggestion"), [
    (["sumarize", "v.mp4"], "did you mean summarize?"),
    (["chpaters", "v.mp4"], "did you mean chapters?"),
    (["summarize", "v.mp4", "--modle", "x"], "did you mean --model?"),
    (["clip", "v.mp4", "--at", "1", "-o", "c.mp4", "--mdoe", "copy"], "did you mean --mode?"),
])
def test_a_mistyped_command_or_option_gets_a_suggestion(argv, suggestion, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and len(err.splitlines()) == 1 and suggestion in err


def test_no_suggestion_when_nothing_is_close(capsys):
    with pytest.raises(SystemExit):
        main(["blah"])
    assert "did you mean" not in capsys.readouterr().err


# ------------------------------------------------------------------ -o/--output on summarize and ask
@pytest.mark.parametrize("command", [("summarize",), ("ask", "What is shown?", "--no-refine"),
                                     ("summarize", "--json")], ids=" ".join)
def test_output_writes_the_answer_to_a_file(command, cut_clip, api_env, tmp_path, capsys):
    name, *rest = command
    target = tmp_path / "answer.txt"
    code, out, err = cli(capsys, name, cut_clip[0], *rest, "-o", target)
    assert code == 0, err
    assert out == "" and f"to {target}" in err
    text = target.read_text()
    assert "test pattern" in text
    if "--json" in rest:
        assert json.loads(text)["summary"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    code, _, err = cli(capsys, name, cut_clip[0], *rest, "-o", tmp_path / "missing" / "a.txt")
    assert code == 2 and "--output" in err and len(api_env.chat_requests) == 1  # refused before sending
