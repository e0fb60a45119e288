"""The llm plugin: the ``video:PATH`` fragment loader on its own, and driven by ``llm`` with the
``llm-echo`` debug model (it echoes the prompt and the attachments it received)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

llm = pytest.importorskip("llm")
pytest.importorskip("llm_echo")

from videovision import llm_plugin  # noqa: E402
from videovision.errors import ConfigError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LABEL = re.compile(r"\[\d\d:\d\d:\d\d\.\d\]")


@pytest.fixture
def talk(tmp_path, monkeypatch):
    """samples/talk.mp4 with its sidecar subtitles, a private cache and llm home."""
    for name in ("talk.mp4", "talk.srt"):
        shutil.copy(ROOT / "samples" / name, tmp_path / name)
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm"))
    monkeypatch.delenv("VIDEOVISION_MODEL", raising=False)
    return tmp_path / "talk.mp4"


def test_the_loader_returns_labelled_frames_and_timed_speech(talk):
    loaded = llm_plugin.load_video(f"{talk}?frames=4")
    fragment, images = loaded[0], loaded[1:]
    assert isinstance(fragment, llm.Fragment) and fragment.source == f"video:{talk}"
    assert len(images) == 4 and all(isinstance(a, llm.Attachment) and a.type == "image/jpeg" for a in images)
    assert all(a.content[:2] == b"\xff\xd8" for a in images)  # JPEG
    labels = re.findall(r"^Image (\d+): (\[[^\]]+\])$", fragment, flags=re.M)
    assert [int(n) for n, _ in labels] == [1, 2, 3, 4]
    times = [label for _, label in labels]
    assert times == sorted(times) and all(LABEL.fullmatch(t) for t in times)
    assert "[00:00:16.1] Third, the launch moves to March." in fragment  # the sidecar's lines, timed


def test_options_frames_speech_and_errors(talk):
    two = llm_plugin.load_video(f"{talk}?frames=2&speech=off&detail=low")
    assert len(two) == 3 and "launch moves" not in two[0] and "Speech: none sent" in two[0]
    budget = llm_plugin.load_video(f"{talk}?max_cost=0.002&model=gpt-4o-mini")
    assert 1 <= len(budget) - 1 < len(llm_plugin.load_video(str(talk))) - 1  # packed by the cost budget
    with pytest.raises(ConfigError, match="unknown option 'fps'"):
        llm_plugin.load_video(f"{talk}?fps=3")
    with pytest.raises(ConfigError, match="no such file"):
        llm_plugin.load_video(str(talk.parent / "nope.mp4"))
    with pytest.raises(ConfigError, match="max-frames"):
        llm_plugin.load_video(f"{talk}?frames=0")


def _registered_in_process():
    from llm.plugins import pm

    if not any(getattr(p, "__name__", "") == "videovision.llm_plugin" for p in pm.get_plugins()):
        pm.register(llm_plugin, name="videovision-test")


def _check_echo(output: str, talk: Path, frames: int) -> None:
    echoed = json.loads(output)
    attachments = echoed["attachments"]
    assert len(attachments) == frames and {a["type"] for a in attachments} == {"image/jpeg"}
    expected = [hashlib.sha256(a.content).hexdigest() for a in llm_plugin.load_video(f"{talk}?frames={frames}")[1:]]
    assert [a["id"] for a in attachments] == expected  # the same frames, in order
    prompt = echoed["prompt"]
    assert prompt.rstrip().endswith("When is the launch?")
    assert len(re.findall(r"^Image \d+: \[", prompt, flags=re.M)) == frames
    assert "[00:00:16.1] Third, the launch moves to March." in prompt


def test_llm_with_the_echo_model_gets_the_frames_and_the_timed_speech(talk):
    from click.testing import CliRunner
    from llm.cli import cli

    _registered_in_process()
    result = CliRunner().invoke(cli, ["-f", f"video:{talk}?frames=3", "-m", "echo", "--no-stream",
                                      "When is the launch?"])
    assert result.exit_code == 0, result.output
    _check_echo(result.output, talk, 3)


def test_the_entry_point_through_the_llm_command(talk, tmp_path):
    """``llm`` in a subprocess finds the plugin by its entry point: the installed one (after ``pip
    install -e .``), else the same entry point declared by a dist-info on PYTHONPATH (a worktree
    not installed)."""
    paths = [str(ROOT)]
    if not [e for e in metadata.entry_points(group="llm") if e.value == "videovision.llm_plugin"]:
        site = tmp_path / "site"
        info = site / "videovision_llm_entry-0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: videovision-llm-entry\nVersion: 0\n")
        (info / "entry_points.txt").write_text("[llm]\nvideovision = videovision.llm_plugin\n")
        paths.append(str(site))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (*paths, os.environ.get("PYTHONPATH"))))}
    done = subprocess.run([sys.executable, "-m", "llm", "-f", f"video:{talk}?frames=3", "-m", "echo",
                           "--no-stream", "When is the launch?"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    _check_echo(done.stdout, talk, 3)
