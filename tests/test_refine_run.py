"""The refine pass wired into ``ask`` (run_plan and the CLI): on by default, within a second of the
truth, off with --no-refine, held to --max-cost, failures keep the overview's answer with a warning."""

from __future__ import annotations

import json

import pytest
from fakeserver import first_showing_responder
from media import generate

from videovision.cli import main

RED_START = 19.3
RED = "When does the red square appear?"


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    path = tmp_path_factory.mktemp("refine_run") / "events.mp4"
    gt = generate.generate_event_clip(path, duration=40.0, events=[("red", RED_START, 27.0)], write_json=False)
    return path, gt["events"][0]["first_time"]


@pytest.fixture
def looking(api_env):
    api_env.responder = first_showing_responder(
        {RED: lambda rgb: generate.colour_shown(rgb, generate.EVENT_COLOURS["red"])})
    return api_env


def ask(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


COARSE = ("--strategy", "interval", "--every", "6")


def test_ask_refines_when_by_default(events, looking, capsys):
    path, truth = events
    code, out, err = ask(capsys, "ask", path, RED, "--json", *COARSE)
    assert code == 0, err
    data = json.loads(out)
    (moment,) = data["moments"]
    assert moment["refined"] is True and moment["supported"] is True
    assert abs(moment["time"] - truth) <= 0.5
    assert [r["status"] for r in data["refine"]] == ["refined"]
    assert data["requests"] == 2 and data["refine_frames_sent"] > 10
    code, out, _ = ask(capsys, "ask", path, RED, *COARSE)
    assert "(refined)" in out


def test_no_refine_answers_from_the_overview_alone(events, looking, capsys):
    path, truth = events
    code, out, err = ask(capsys, "ask", path, RED, "--json", "--no-refine", *COARSE)
    assert code == 0, err
    (moment,) = json.loads(out)["moments"]
    assert moment["refined"] is False and abs(moment["time"] - truth) > 3.0  # the overview's frame spacing
    assert len(looking.chat_requests) == 1


def test_the_refine_pass_stays_within_max_cost(events, looking, capsys):
    path, _ = events
    # gpt-4o-mini: its 2,833-token images make the refine windows cost more than the cap
    code, out, err = ask(capsys, "ask", path, RED, "--json", "--max-cost", "0.01", "--model", "gpt-4o-mini", *COARSE)
    assert code == 0, err
    assert len(looking.chat_requests) == 1
    assert any("--max-cost" in w and "refine" in w for w in json.loads(out)["warnings"])


def test_a_failed_refine_request_keeps_the_overview_time_with_a_warning(events, looking, capsys):
    path, truth = events
    looking.enqueue_fault("pass")
    looking.enqueue_fault(500, times=5)
    code, out, err = ask(capsys, "ask", path, RED, "--max-retries", "0", *COARSE)
    assert code == 0, err
    assert "refine pass: 1 of 1 requests failed" in err and "(refined)" not in out
    code, out, err = ask(capsys, "ask", path, RED, "--max-retries", "0", *COARSE, "--strict")  # fails again
    assert code == 7 and "refine pass: 1 of 1 requests failed" in err and out  # the answer is still printed


def test_a_wrong_key_during_the_refine_pass_stops_the_run(events, looking, capsys):
    path, _ = events
    looking.enqueue_fault("pass")
    looking.enqueue_fault(401)
    code, out, err = ask(capsys, "ask", path, RED, *COARSE)
    assert code == 7 and len(err.strip().splitlines()) == 1


def test_dry_run_shows_the_refine_worst_case(events, looking, capsys):
    path, _ = events
    code, out, _ = ask(capsys, "ask", path, RED, "--dry-run", *COARSE)
    assert code == 0 and "refine       up to 3 more requests" in out and "(worst case)" in out
    code, out, _ = ask(capsys, "ask", path, RED, "--dry-run", "--no-refine", *COARSE)
    assert "refine " not in out
    assert looking.chat_requests == []
