"""A paid reply is never lost (issue 20): Ctrl-C during a single request, a disk that cannot take
the cache write, an empty answer (paid for, never replayed as an answer)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from videovision.cli import main


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_ctrl_c_during_a_single_request_lets_its_reply_land(cut_clip, api_env, capsys):
    server = api_env
    server.enqueue_fault("hold")  # the one request waits for release()
    args = [sys.executable, "-m", "videovision", "summarize", str(cut_clip[0]), "--max-retries", "0"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ), text=True)
    try:
        assert server.wait_for_received(1, timeout=60)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        server.release()  # the reply arrives after the interruption
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "waiting for the reply in flight" in err
    assert [r.status for r in server.chat_requests] == [200]
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--max-retries", "0", "--json")
    assert code == 0, err
    assert json.loads(out)["cache_hits"] == 1 and len(server.chat_requests) == 1  # kept: not paid again


def test_an_empty_answer_warns_and_is_never_replayed(cut_clip, api_env, capsys):
    server = api_env
    answers = iter(["", "A test pattern [00:00:00.0]."])
    server.responder = lambda body: next(answers)
    code, _, err = cli(capsys, "summarize", cut_clip[0], "--max-retries", "0")
    assert code == 0 and "warning" in err and "empty" in err
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--max-retries", "0", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["cache_hits"] == 0 and "test pattern" in data["summary"]  # asked again, not the empty one
    code, out, _ = cli(capsys, "log", "--json")
    statuses = [r["status"] for r in json.loads(out)["entries"]]
    assert "empty-reply" in statuses  # the paid empty answer is in the log


def test_a_reply_that_cannot_be_cached_is_still_given(cut_clip, api_env, capsys, monkeypatch):
    from videovision.errors import CacheError
    from videovision.store.responses import ResponseStore

    def full_disk(self, *a, **k):
        raise CacheError("database or disk is full")

    monkeypatch.setattr(ResponseStore, "put", full_disk)
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--max-retries", "0")
    assert code == 0, err
    assert "test pattern" in out
    assert "could not be cached" in err and "disk is full" in err


def test_a_stream_cut_mid_answer_ends_its_line_before_the_error(cut_clip, api_env):
    """On a terminal the answer streams; when the connection is cut mid-answer the partial line is
    ended, so the error line that follows (same terminal) starts on its own line."""
    from terminal import run_on_a_terminal

    api_env.enqueue_fault("cut")
    code, out, err = run_on_a_terminal(["summarize", str(cut_clip[0]), "--max-retries", "0"])
    assert code == 7, err
    assert out.strip() and out.replace("\r\n", "\n").endswith("\n")
    assert err.startswith("videovision: error:")
