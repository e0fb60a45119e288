"""`--report FILE.html` on summarize/ask/chapters, and `videovision report`: a run rebuilt from the
cache (its remembered command line, the same requests answered from the cache), nothing sent."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

from videovision.cli import main


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def images(html: str) -> list[str]:
    return re.findall(r"data:image/jpeg;base64,[A-Za-z0-9+/=]+", html)


def section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">.*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_report_is_written_beside_the_usual_output(cut_clip, api_env, capsys, tmp_path):
    report = tmp_path / "out" / "talk report.html"
    report.parent.mkdir()
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--json", "--report", report)
    assert code == 0, err
    assert json.loads(out)["summary"]  # --json output unchanged
    html = report.read_text()
    assert "Content-Security-Policy" in html and html.count("data:image/jpeg;base64,") >= 5
    assert os.path.relpath(cut_clip[0], report.parent).split("/")[-1] in html
    assert f"report written to {report}" in err


def test_an_unwritable_report_fails_before_any_request(cut_clip, api_env, capsys, tmp_path):
    code, _, err = cli(capsys, "ask", cut_clip[0], "What?", "--report", tmp_path / "missing" / "r.html")
    assert code == 2 and "--report" in err and len(err.strip().splitlines()) == 1
    assert api_env.chat_requests == []


def test_report_rebuilds_the_last_run_from_the_cache_without_a_request(cut_clip, api_env, capsys, tmp_path,
                                                                       monkeypatch):
    code, _, err = cli(capsys, "ask", cut_clip[0], "When does it change?", "--report", tmp_path / "first.html")
    assert code == 0, err
    sent = len(api_env.chat_requests)
    first = (tmp_path / "first.html").read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the run's relative paths still resolve
    code, _, err = cli(capsys, "report")
    assert code == 0, err
    assert len(api_env.chat_requests) == sent  # nothing sent
    again = (elsewhere / (Path(cut_clip[0]).stem + ".html")).read_text()
    # the same frames and the same answer; only the player's relative path differs (another folder)
    assert images(again) == images(first) and len(images(first)) >= 5
    assert section(again, "answers") == section(first, "answers") and "When does it change?" in section(again, "answers")


def test_report_picks_a_run_by_its_id_from_the_log(cut_clip, api_env, capsys, tmp_path):
    cli(capsys, "summarize", cut_clip[0])
    cli(capsys, "chapters", cut_clip[0])
    code, out, _ = cli(capsys, "log", "--json")
    run_ids = [e["run_id"] for e in json.loads(out)["entries"]]
    summary_run = run_ids[-1]
    code, _, err = cli(capsys, "report", summary_run[-8:], "-o", tmp_path / "s.html")
    assert code == 0, err
    html = (tmp_path / "s.html").read_text()
    assert section(html, "summary") and not section(html, "chapters")


def test_report_without_a_run_or_with_its_replies_gone_says_so(cut_clip, api_env, capsys, tmp_path):
    code, _, err = cli(capsys, "report")
    assert code == 2 and "no finished" in err
    code, _, err = cli(capsys, "summarize", cut_clip[0], "--no-cache")
    code, _, err = cli(capsys, "report")
    assert code == 2  # a --no-cache run is not remembered
    cli(capsys, "summarize", cut_clip[0])
    db = Path(os.environ["VIDEOVISION_CACHE_DIR"]) / "cache.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM responses")
    sent = len(api_env.chat_requests)
    code, _, err = cli(capsys, "report", "-o", tmp_path / "r.html")
    assert code == 6 and "no longer in the cache" in err and len(err.strip().splitlines()) == 1
    assert len(api_env.chat_requests) == sent and not (tmp_path / "r.html").exists()
    code, _, err = cli(capsys, "report", "nosuchrun")
    assert code == 2 and "nosuchrun" in err
