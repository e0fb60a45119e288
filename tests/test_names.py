"""File names that are not UTF-8 (bytes from another system) never stop a run (issue 20)."""

from __future__ import annotations

import json
import os
import shutil

from media import DEMO

from videovision.cli import main


def cli(capsys, *argv):
    code = main([a if isinstance(a, str) else os.fsdecode(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def odd_copy(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    target = os.path.join(os.fsencode(folder), b"clip\xff.mp4")
    shutil.copyfile(DEMO, target)
    return folder, os.fsdecode(target)


def test_batch_with_a_non_utf8_name_writes_its_index(tmp_path, capsys, api_env):
    folder, _ = odd_copy(tmp_path)
    out = tmp_path / "out"
    code, _, err = cli(capsys, "batch", str(folder), "--out", str(out), "--speech", "off", "--max-frames", "4")
    assert code == 0, err
    rows = [json.loads(line) for line in (out / "index.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["status"] == "ok" and rows[0]["video"].endswith("clip\\xff.mp4")
    code, _, err = cli(capsys, "batch", str(folder), "--out", str(out), "--speech", "off", "--max-frames", "4")
    assert code == 0 and "1 skipped" in err  # the re-run finds it


def test_a_report_for_a_non_utf8_name(tmp_path, capsys, api_env):
    _, video = odd_copy(tmp_path)
    report = tmp_path / "r.html"
    code, _, err = cli(capsys, "summarize", video, "--speech", "off", "--max-frames", "4", "--report", str(report))
    assert code == 0, err
    page = report.read_text(encoding="utf-8")
    assert "clip%FF.mp4" in page and "<video" in page  # the player finds the file by its bytes
