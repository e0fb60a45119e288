"""`videovision batch` and `videovision search` from the command line (the library is tested in
test_batch.py and test_search.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from videovision.cli import main

ROOT = Path(__file__).resolve().parents[1]


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def lectures(tmp_path, clips) -> Path:
    root = tmp_path / "lectures"
    for week in ("week1", "week2"):
        (root / week).mkdir(parents=True)
    shutil.copy(ROOT / "samples" / "talk.mp4", root / "week1" / "talk.mp4")
    shutil.copy(clips("library_cli", duration=4.0, cuts=[2.0])[0], root / "week2" / "talk.mp4")
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video" * 40)
    return root


SMALL = ("--strategy", "interval", "--every", "6", "--max-frames", "4", "--jobs", "1")


def test_a_folder_with_a_broken_file_is_a_partial_failure_and_a_rerun_costs_nothing(lectures, api_env, capsys,
                                                                                       tmp_path):
    out = tmp_path / "out"
    code, _, err = cli(capsys, "batch", lectures, "--out", out, *SMALL)
    assert code == 8, err
    assert err.strip().splitlines()[-1].startswith("2 ok, 1 failed, 0 skipped")
    rows = [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]
    assert sorted(r["status"] for r in rows) == ["failed", "ok", "ok"]
    assert len({r["result"] for r in rows if r["result"]}) == 2  # two talk.mp4, two result files
    sent = len(api_env.chat_requests)
    code, _, err = cli(capsys, "batch", lectures, "--out", out, *SMALL)
    assert code == 8 and len(api_env.chat_requests) == sent  # the broken file fails again, nothing is re-sent
    assert "0 ok, 1 failed, 2 skipped" in err


def test_search_finds_a_spoken_word_with_its_video_and_time(lectures, api_env, capsys, tmp_path):
    out = tmp_path / "out"
    cli(capsys, "batch", lectures / "week1", "--out", out, *SMALL)
    code, stdout, err = cli(capsys, "search", "forty", "--index", out)
    assert code == 0, err
    first = stdout.splitlines()[0]
    assert "week1/talk.mp4 [00:06] " in first and "**forty**" in first
    code, stdout, _ = cli(capsys, "search", "forty", "--index", out, "--json", "--limit", "1")
    hits = json.loads(stdout)["hits"]
    assert len(hits) == 1 and hits[0]["kind"] == "speech" and hits[0]["time"] == pytest.approx(6.03, abs=0.01)


def test_search_errors_are_one_line(lectures, api_env, capsys, tmp_path):
    code, _, err = cli(capsys, "search", "forty", "--index", tmp_path / "nothing")
    assert code == 2 and len(err.strip().splitlines()) == 1
    out = tmp_path / "out"
    cli(capsys, "batch", lectures / "week1", "--out", out, *SMALL)
    code, _, err = cli(capsys, "search", 'budget "unclosed', "--index", out)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "quote" in err


def test_batch_option_mistakes_are_caught_before_any_work(lectures, api_env, capsys, tmp_path):
    code, _, err = cli(capsys, "batch", lectures, "--out", tmp_path / "o", "--task", "ask")
    assert code == 2 and "--question" in err
    with pytest.raises(SystemExit) as exited:  # one file for many videos: batch has no --subtitles at all
        cli(capsys, "batch", lectures, "--out", tmp_path / "o", "--subtitles", "x.srt")
    assert exited.value.code == 2 and "unrecognized arguments: --subtitles" in capsys.readouterr().err
    code, _, err = cli(capsys, "batch", tmp_path / "missing", "--out", tmp_path / "o")
    assert code == 2 and "missing" in err
    assert api_env.chat_requests == []


def test_batch_api_submits_then_collects_and_completes_the_videos(lectures, api_env, capsys, tmp_path):
    from fake_batches import install_batches

    install_batches(api_env)
    out = tmp_path / "out"
    args = ("batch", lectures / "week1", lectures / "week2", "--out", out, *SMALL, "--batch-api")
    code, _, err = cli(capsys, *args)
    assert code == 9, err  # submitted: every video waits for the Batch API
    assert "submitted 2 requests" in err and "2 waiting for the Batch API" in err
    assert api_env.chat_requests == []  # nothing went to /chat/completions
    rows = [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows] == ["pending", "pending"]
    for _ in range(5):  # the fake batch moves one step per retrieve
        code, _, err = cli(capsys, *args)
        if code != 9:
            break
        assert "still running" in err and "submitted" not in err  # never submitted twice
    assert code == 0, err
    assert "collected 2 replies" in err and "2 ok, 0 failed" in err
    assert api_env.chat_requests == []
    assert all(json.loads(p.read_text())["summary"] for p in out.glob("*.json"))
    code, _, err = cli(capsys, *args)  # done: a re-run costs nothing
    assert code == 0 and "0 ok, 0 failed, 2 skipped" in err


def test_batch_api_needs_the_cache(lectures, api_env, capsys, tmp_path):
    code, _, err = cli(capsys, "batch", lectures, "--out", tmp_path / "o", "--batch-api", "--no-cache")
    assert code == 2 and "--batch-api needs the cache" in err


def test_the_plan_shows_the_batch_api_price(capsys):
    code, out, _ = cli(capsys, "plan", ROOT / "samples" / "demo.mp4", "--json", "--no-cache")
    data = json.loads(out)
    assert code == 0 and data["estimated_batch_api_cost_usd"] == pytest.approx(data["estimated_cost_usd"] / 2, abs=2e-6)
    code, out, _ = cli(capsys, "plan", ROOT / "samples" / "demo.mp4", "--no-cache")
    assert "half through the OpenAI Batch API" in out


def test_a_ray_address_without_the_ray_executor_is_refused(lectures, api_env, capsys, tmp_path):
    code, _, err = cli(capsys, "batch", lectures, "--out", tmp_path / "o", "--ray-address", "auto")
    assert code == 2 and "ray" in err.lower() and len(err.strip().splitlines()) == 1
