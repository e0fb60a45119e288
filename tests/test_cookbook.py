"""The cookbook scripts run as documented: offline, and against an OpenAI-compatible server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KEY

COOKBOOK = Path(__file__).resolve().parents[1] / "cookbook"


def run(script, *args, env=None):
    return subprocess.run([sys.executable, str(COOKBOOK / script), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_frames_script_offline(cut_clip):
    proc = run("01_frames.py", cut_clip[0])
    assert proc.returncode == 0, proc.stderr
    assert "scenes" in proc.stdout and " s  frame " in proc.stdout


@pytest.mark.parametrize("script, expect", [("02_summarize.py", "[00:00:00.0]"), ("03_ask.py", "Q:"),
                                            ("04_chapters.py", "WEBVTT")])
def test_scripts_against_a_server(cut_clip, server, tmp_path, script, expect):
    env = {"OPENAI_API_KEY": KEY, "VIDEOVISION_CACHE_DIR": str(tmp_path)}
    proc = run(script, cut_clip[0], "--base-url", server.base_url, env=env)
    assert proc.returncode == 0, proc.stderr
    assert expect in proc.stdout
    assert server.request_count >= 1


def test_dry_run_needs_no_server(cut_clip):
    proc = run("02_summarize.py", cut_clip[0], "--dry-run", env={"OPENAI_API_KEY": ""})
    assert proc.returncode == 0 and "image tokens" in proc.stdout
