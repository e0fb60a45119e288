"""Fault cases of the second hardening round (issue 20), end to end through the command line: an
output never overwrites an input, model text cannot drive the terminal, a paid reply with a lone
surrogate is kept, parsing is linear, retries are capped, malformed URLs are one line.

Each test runs the CLI against the loopback server (tests/fakeserver.py), like tests/test_hardening.py.
"""

from __future__ import annotations

import gc
import os
import shutil
import warnings
from pathlib import Path

import pytest

from videovision.cli import main


@pytest.fixture(autouse=True)
def _collect_earlier_garbage():
    """Collect what earlier CLI runs left, so their "unclosed socket" warnings do not land in this
    test's stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


# --------------------------------------------------------------------------- output == input


@pytest.fixture
def own_video(cut_clip, tmp_path) -> Path:
    """A private copy of the clip: a test that fails must not destroy the session's clip."""
    video = tmp_path / "video.mp4"
    shutil.copyfile(cut_clip[0], video)
    return video


def _alias(video: Path, how: str) -> Path:
    if how == "same":
        return video
    alias = video.with_name(f"alias-{how}.mp4")
    (os.link if how == "hardlink" else os.symlink)(video, alias)
    return alias


OUTPUT_ONTO_VIDEO = {
    "plan --request-json": lambda v, o: ["plan", v, "--request-json", o],
    "summarize --report": lambda v, o: ["summarize", v, "--report", o],
    "ask --report": lambda v, o: ["ask", v, "what?", "--report", o],
    "chapters --output": lambda v, o: ["chapters", v, "-o", o],
    "chapters --report": lambda v, o: ["chapters", v, "--format", "vtt", "--report", o],
    "transcript --output": lambda v, o: ["transcript", v, "-o", o],
    "frames --out": lambda v, o: ["frames", v, "--out", o],
}


@pytest.mark.parametrize("how", ["same", "hardlink", "symlink"])
@pytest.mark.parametrize("command", sorted(OUTPUT_ONTO_VIDEO))
def test_an_output_onto_the_video_is_refused_before_anything_is_written(own_video, api_env, capsys, command, how):
    before = own_video.read_bytes()
    out = _alias(own_video, how)
    code, stdout, err = cli(capsys, *OUTPUT_ONTO_VIDEO[command](own_video, out))
    assert code == 2 and one_line(err), err
    assert "itself" in err and "choose another" in err
    assert own_video.read_bytes() == before
    assert out.is_symlink() == (how == "symlink")
    assert api_env.chat_requests == [] and stdout == ""
    assert sorted(p.name for p in own_video.parent.iterdir()) == sorted({own_video.name, out.name})  # no temp file


def test_an_output_onto_the_subtitles_is_refused(own_video, api_env, capsys, tmp_path):
    subtitles = tmp_path / "video.srt"
    subtitles.write_text("1\n00:00:00,500 --> 00:00:02,000\nhello\n")
    code, _, err = cli(capsys, "transcript", own_video, "--subtitles", subtitles, "-o", subtitles)
    assert code == 2 and one_line(err) and "--subtitles" in err, err
    assert subtitles.read_text().endswith("hello\n")


def test_report_onto_the_runs_video_is_refused(own_video, api_env, capsys):
    code, _, err = cli(capsys, "summarize", own_video)
    assert code == 0, err
    before = own_video.read_bytes()
    code, _, err = cli(capsys, "report", "-o", own_video)
    assert code == 2 and one_line(err) and "itself" in err, err
    assert own_video.read_bytes() == before


def test_batch_out_onto_an_input_is_refused(own_video, api_env, capsys):
    before = own_video.read_bytes()
    code, _, err = cli(capsys, "batch", own_video, "--out", own_video)
    assert code == 2 and one_line(err) and "itself" in err, err
    assert own_video.read_bytes() == before
