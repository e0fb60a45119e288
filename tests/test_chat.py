"""`videovision chat` and `Conversation`: the frames once, follow-ups appended, the prefix reused."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from tests.conftest import KEY
from videovision import TaskConfig, make_plan
from videovision.chat import Conversation
from videovision.client import OpenAIChatClient
from videovision.endpoint import ClientConfig
from videovision.errors import ConfigError, ContextLengthError
from videovision.packing import PackConfig

QUESTIONS = ["What is on screen first?", "And after the first cut?", "How does it end?"]


def chat(video, *args, stdin: str):
    return subprocess.run([sys.executable, "-m", "videovision", "chat", str(video), *args], input=stdin,
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)


MINI = ("--model", "gpt-4o-mini")
"""Prompt-cache tests: gpt-4o-mini's 2,833-token images put the short clip's prefix past the 1,024 tokens
OpenAI caches from (the default model's images of it cost ~24 tokens each)."""


def test_follow_ups_resend_the_conversation_with_the_same_prefix(cut_clip, api_env):
    proc = chat(cut_clip[0], *MINI, stdin="\n".join(QUESTIONS[:2]) + "\n\n" + QUESTIONS[2] + "\n")
    assert proc.returncode == 0, proc.stderr
    bodies = [r.body for r in api_env.chat_requests]
    assert len(bodies) == 3  # the blank line asks nothing
    for before, after in itertools.pairwise(bodies):
        # every turn starts with the whole previous request, byte for byte
        assert json.dumps(after["messages"][: len(before["messages"])]) == json.dumps(before["messages"])
        assert after["messages"][len(before["messages"])]["role"] == "assistant"
    last = bodies[-1]["messages"]
    assert last[-1] == {"role": "user", "content": QUESTIONS[2]}
    assert QUESTIONS[0] in last[1]["content"][-1]["text"] and last[1]["content"][-2]["type"] == "image_url"
    # the provider's prompt cache served the frames on every follow-up, and the cost says so
    turns = [line for line in proc.stderr.splitlines() if line.startswith("  ")]
    assert len(turns) == 3 and "prompt cache" not in turns[0]
    assert all("from the provider's prompt cache" in t for t in turns[1:])
    assert proc.stdout.count("Moments:") == 3


def test_json_lines_one_per_question_with_checked_moments(cut_clip, api_env):
    proc = chat(cut_clip[0], "--json", *MINI, stdin="\n".join(QUESTIONS) + "\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in rows] == QUESTIONS
    assert all(r["moments"] and all(m["supported"] for m in r["moments"]) for r in rows)
    assert rows[0]["usage"]["cached_tokens"] == 0 and rows[2]["usage"]["cached_tokens"] > 0
    assert rows[2]["cost_usd"] < rows[0]["cost_usd"]
    again = chat(cut_clip[0], "--json", *MINI, stdin="\n".join(QUESTIONS) + "\n")  # the same conversation: from the cache
    assert [json.loads(line)["from_cache"] for line in again.stdout.splitlines()] == [True, True, True]
    assert len(api_env.chat_requests) == 3


def test_quit_ends_the_conversation(cut_clip, api_env):
    proc = chat(cut_clip[0], stdin=f"{QUESTIONS[0]}\n/quit\n{QUESTIONS[1]}\n")
    assert proc.returncode == 0 and len(api_env.chat_requests) == 1


def test_a_wrong_key_stops_the_chat_with_one_line(cut_clip, api_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    proc = chat(cut_clip[0], stdin="\n".join(QUESTIONS) + "\n")
    assert proc.returncode == 7 and "Traceback" not in proc.stderr
    assert len(api_env.chat_requests) == 1 and "sk-wrong" not in proc.stderr


def _client(server):
    return OpenAIChatClient(ClientConfig(api_key=KEY, base_url=server.base_url, max_retries=0))


def test_a_conversation_that_outgrows_the_context_window_says_so(cut_clip, api_env):
    plan = make_plan(cut_clip[0], TaskConfig())
    first = plan.requests[0].image_tokens + plan.requests[0].text_tokens + plan.prompt.output_tokens(plan.spec)
    small = replace(plan, spec=replace(plan.spec, context_window=first + 60))
    with _client(api_env) as client:
        conversation = Conversation(small, client)
        turn = conversation.ask(QUESTIONS[0])
        assert turn.answer.moments
        with pytest.raises(ContextLengthError, match="start a new chat"):
            for question in QUESTIONS[1:]:
                conversation.ask(question + " " + "Tell me more. " * 20)
    assert len(api_env.chat_requests) < 3


def test_a_plan_split_into_chunks_cannot_be_chatted_about(cut_clip, api_env):
    plan = make_plan(cut_clip[0], TaskConfig(pack=PackConfig(frames_per_request=2)))
    with _client(api_env) as client, pytest.raises(ConfigError, match="one request"):
        Conversation(plan, client)


def test_a_failed_piped_question_does_not_end_the_chat(cut_clip, api_env):
    """A question that fails (a 500 after the retries) is reported on one line; the next question
    of the pipe is still answered, and the chat exits 7 at the end."""
    api_env.enqueue_fault("500")
    proc = chat(cut_clip[0], "--max-retries", "0", "--json", stdin="\n".join(QUESTIONS[:2]) + "\n")
    assert proc.returncode == 7 and "Traceback" not in proc.stderr
    assert "server error (500)" in proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == 1 and len(api_env.chat_requests) == 2


def test_ctrl_c_cancels_the_pending_answer_and_the_chat_goes_on(api_env, tmp_path):
    """Ctrl-C while an answer is awaited cancels it and the next question is read; the cancelled
    reply still lands in the cache and stays out of the conversation; the chat ends normally."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    demo = Path(__file__).resolve().parents[1] / "samples" / "demo.mp4"
    server = api_env
    server.enqueue_fault("hold", times=1)  # the first question's reply waits for release()
    proc = subprocess.Popen([sys.executable, "-m", "videovision", "chat", str(demo), "--speech", "off",
                             "--max-frames", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ), text=True)
    try:
        assert proc.stdin is not None
        proc.stdin.write("What is shown first?\n")
        proc.stdin.flush()
        assert server.wait_for_received(1, timeout=60)
        proc.send_signal(signal.SIGINT)
        time.sleep(1.0)
        assert proc.poll() is None  # still chatting
        server.release()  # the cancelled reply lands after the interruption
        out, err = proc.communicate("And at the end?\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "cancelled" in err and "Traceback" not in err
    assert len(server.chat_requests) == 2 and all(r.status == 200 for r in server.chat_requests)
    second = server.chat_requests[1].body["messages"]
    assert "What is shown first?" not in str(second)  # the cancelled turn left the conversation
    assert out.count("\n") >= 1 and "And at the end?" not in out
