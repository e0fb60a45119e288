"""Absurd settings are refused with one line and exit 2, never accepted silently (issue 20)."""

from __future__ import annotations

import json

import pytest
from media import DEMO

from videovision.cli import main


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("extra, words", [
    (["--model", ""], "--model must be a model name"),
    (["--model", "   "], "--model must be a model name"),
])
def test_an_empty_model_is_refused(capsys, extra, words):
    code, out, err = cli(capsys, "plan", DEMO, *extra)
    assert code == 2 and words in err and out == "" and len(err.strip().splitlines()) == 1


def test_a_provider_profile_with_an_unknown_base_is_refused(capsys, tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"base": "nope"}))
    code, _, err = cli(capsys, "plan", DEMO, "--provider", profile)
    assert code == 2 and "unknown base profile 'nope'" in err


@pytest.mark.parametrize("field, value", [("context_window", -1), ("input_price_per_m", -0.5),
                                          ("context_window", 1.5), ("output_price_per_m", "free")])
def test_a_models_file_with_numbers_out_of_range_is_refused(capsys, tmp_path, field, value):
    models = tmp_path / "m.json"
    models.write_text(json.dumps({"models": {"my-model": {"like": "gpt-4o", field: value}}}))
    code, _, err = cli(capsys, "plan", DEMO, "--models-file", models, "--model", "my-model")
    assert code == 2 and field in err and "my-model" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("mode", ["copy", "encode"])
def test_a_clip_onto_a_full_disk_is_an_output_error_not_an_unreadable_video(tmp_path, mode):
    """The disk fills while the clip is written (simulated with a file-size limit): exit 2 naming
    the output, nothing left behind; the video is not called unreadable (exit 3)."""
    import resource
    import signal
    import subprocess
    import sys

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "c.mp4"
    proc = subprocess.run([sys.executable, "-m", "videovision", "clip", str(DEMO), "--at", "10", "-o", str(out),
                           "--mode", mode], capture_output=True, text=True, preexec_fn=small_files, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "cannot write" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
