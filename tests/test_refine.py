"""The refine pass of ``ask`` against the loopback server: a model that looks at the frames it is
sent (it cites the first one showing a coloured square) moves from the overview's coarse time to
within half a second of the truth after the refine pass; windows are clipped; a reply that does
not place the moment, or places it at a time no frame supports, keeps the coarse moment."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import KEY
from fakeserver import NOT_SHOWN, FakeOpenAIServer, first_showing_responder, frame_labels
from media import generate

from videovision import defaults
from videovision.client import OpenAIChatClient
from videovision.endpoint import ClientConfig
from videovision.models import chat_tokens, estimate_cost
from videovision.packing import Budget, PackConfig
from videovision.parsing import TimeCheck, parse_answers
from videovision.pipeline import make_plan
from videovision.plan import PlanSpeech, TaskConfig
from videovision.prompts import PromptOptions
from videovision.refine import (
    apply_refined,
    refine_check,
    refine_estimate,
    refine_requests,
    refine_windows,
)
from videovision.render import plan_table
from videovision.speech.transcript import Segment
from videovision.timecode import time_label
from videovision.types import Answer, ChatResult, Moment, SamplingConfig, Usage

RED_START = 19.3
"""The red square shows from here (the overview, a frame every 6 s, first sees it at 24.0)."""
RED = "When does the red square appear?"
BLUE = "When does the blue square appear?"
EVERY = 6.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("refine") / "events.mp4"
    gt = generate.generate_event_clip(path, duration=40.0, events=[("red", RED_START, 27.0), ("blue", 31.13, 38.5)],
                                      write_json=False)
    return path, gt


def shows(colour: str):
    return lambda rgb: generate.colour_shown(rgb, generate.EVENT_COLOURS[colour])


def config(*questions: str, **overrides) -> TaskConfig:
    base = TaskConfig(sampling=SamplingConfig(strategy="interval", every=EVERY),
                      pack=PackConfig(budget=Budget(max_frames=32)),
                      prompt=PromptOptions(task="ask", questions=questions or (RED,)))
    return replace(base, **overrides)


def client_for(server: FakeOpenAIServer) -> OpenAIChatClient:
    return OpenAIChatClient(ClientConfig(api_key=KEY, base_url=server.base_url, timeout=10.0, max_retries=0))


def overview(plan, client) -> list[Answer]:
    """The overview pass alone (the plan's single request), parsed as run_plan parses it."""
    reply = client.complete(plan.requests[0].body)
    check = TimeCheck(plan.seen_times, plan.video.duration, plan.config.tolerance)
    return parse_answers(reply.text, plan.prompt.questions, check)


def coarse(t: float, end: float | None = None, question: str = RED) -> Answer:
    return Answer(question, "seen", (Moment(t, end, "seen", t, True),))


def json_reply(*times: str) -> str:
    moments = [{"time": t, "end": None, "text": "here"} for t in times]
    return json.dumps({"answers": [{"question": RED, "answer": "here" if times else NOT_SHOWN, "moments": moments}]})


def test_refining_moves_a_coarse_time_to_within_half_a_second(clip):
    path, gt = clip
    truth = [e["first_time"] for e in gt["events"]]
    plan = make_plan(path, config(RED, BLUE))
    with FakeOpenAIServer(api_key=KEY, responder=first_showing_responder({RED: shows("red"), BLUE: shows("blue")})) \
            as server, client_for(server) as client:
        answers = overview(plan, client)
        before = [a.moments[0].time for a in answers]
        assert [abs(b - t) > 3.0 for b, t in zip(before, truth)] == [True, True]  # off by several seconds
        requests = refine_requests(plan, refine_windows(plan, answers), path)
        replies = [client.complete(r.body) for r in requests]
    result = apply_refined(plan, answers, requests, replies)
    assert [o.status for o in result.outcomes] == ["refined", "refined"]
    for answer, t in zip(result.answers, truth):
        (moment,) = answer.moments
        assert moment.refined and moment.supported
        assert abs(moment.time - t) <= 0.5
    # the window's frames are sent the way the overview's were, every time exact and new to the run
    assert {(i.width, i.height, i.mime) for r in requests for i in r.images} == {(i.width, i.height, i.mime)
                                                                                 for i in plan.images}
    details = {p["image_url"].get("detail") for r in requests for p in r.body["messages"][1]["content"]
               if p["type"] == "image_url"}
    assert details == {plan.detail}
    assert len(result.sent_times) == sum(len(r.images) for r in requests)
    assert all(any(abs(t - f) < 1e-6 for f in gt["frame_times"]) for t in result.sent_times)
    steps = [b - a for a, b in zip(requests[0].sent_times, requests[0].sent_times[1:])]
    assert max(steps) <= 1 / defaults.REFINE_FPS + 0.05


def test_windows_reach_the_frames_around_and_are_clipped(clip):
    path, _ = clip
    plan = make_plan(path, config())
    (middle,) = refine_windows(plan, [coarse(24.0)])
    assert (middle.start, middle.end) == (24.0 - EVERY, 24.0 + EVERY)  # from the frame before to the one after
    assert len(middle.times) == 2 * EVERY * defaults.REFINE_FPS + 1
    first, last = refine_windows(plan, [coarse(0.0), coarse(plan.video.duration - 0.1, question=BLUE)])
    assert first.start == 0.0 and first.end == EVERY
    assert last.end == plan.video.duration and last.start < last.end
    part = make_plan(path, config(sampling=SamplingConfig(strategy="interval", every=EVERY, start=12.0, end=30.0)))
    inside, = refine_windows(part, [coarse(12.0)])
    assert inside.start == 12.0 and inside.end <= 30.0
    assert refine_windows(part, [coarse(35.0)]) == []  # outside --start/--end: nothing to look at
    wide = make_plan(path, config(sampling=SamplingConfig(strategy="interval", every=20.0)))
    (spread,) = refine_windows(wide, [coarse(20.0)])
    assert len(spread.times) == defaults.REFINE_MAX_FRAMES  # 40 s at 2 fps would be 81: spread evenly
    assert spread.times[0] == spread.start and spread.times[-1] == pytest.approx(spread.end)
    small = make_plan(path, config(sampling=SamplingConfig(strategy="interval", every=1.0)))
    (tight,) = refine_windows(small, [coarse(10.0)])
    assert tight.end - tight.start == 2 * defaults.REFINE_MIN_HALF_WINDOW


def test_a_reply_that_does_not_place_the_moment_keeps_the_coarse_one(clip):
    path, _ = clip
    plan = make_plan(path, config())
    answers = [coarse(24.0)]
    requests = refine_requests(plan, refine_windows(plan, answers), path)
    with FakeOpenAIServer(api_key=KEY, responder=lambda body: json_reply()) as server, \
            client_for(server) as client:
        replies = [client.complete(r.body) for r in requests]
        assert "close look" in server.chat_requests[0].body["messages"][1]["content"][-1]["text"]
    result = apply_refined(plan, answers, requests, replies)
    assert result.outcomes[0].status == "not_shown"
    assert result.answers[0].moments == answers[0].moments and not result.answers[0].moments[0].refined
    failed = apply_refined(plan, answers, requests, [None])  # the request failed
    assert failed.outcomes[0].status == "failed" and failed.answers[0].moments == answers[0].moments


def test_refined_times_no_frame_of_either_pass_supports_are_flagged(clip):
    path, _ = clip
    plan = make_plan(path, config(tolerance=0.1))
    answers = [coarse(24.0)]
    requests = refine_requests(plan, refine_windows(plan, answers), path)
    between = requests[0].sent_times[3] + 0.25  # inside the window, between two of its frames
    check = refine_check(plan, requests)
    assert not check.moment(between, None, "").supported
    assert check.moment(requests[0].sent_times[3], None, "").supported  # a window frame
    assert check.moment(plan.sent_times[0], None, "").supported  # an overview frame
    for invented in (time_label(between).strip("[]"), "00:00:38.75"):
        reply = ChatResult(json_reply(invented), Usage(), "gpt-4o-mini")
        result = apply_refined(plan, answers, requests, [reply])
        assert result.outcomes[0].status == "unsupported"
        assert result.answers[0].moments == answers[0].moments
    far = ChatResult(json_reply("00:00:00.0"), Usage(), "gpt-4o-mini")  # an overview frame, far outside the window
    assert apply_refined(plan, answers, requests, [far]).outcomes[0].status == "outside"


def test_a_range_keeps_its_end_unless_the_window_gives_one(clip):
    path, _ = clip
    plan = make_plan(path, config())
    answers = [coarse(24.0, end=27.0)]
    requests = refine_requests(plan, refine_windows(plan, answers), path)
    assert requests[0].image_tokens == sum(i.tokens for i in requests[0].images) > 0

    def refined(moment: dict) -> Moment:
        text = json.dumps({"answers": [{"question": RED, "answer": "x", "moments": [{"text": "x", **moment}]}]})
        result = apply_refined(plan, answers, requests, [ChatResult(text, Usage(), "gpt-4o-mini")])
        return result.answers[0].moments[0]

    assert (refined({"time": "00:00:19.5", "end": None}).end) == 27.0  # the overview's end still follows it
    both = refined({"time": "00:00:19.5", "end": "00:00:26.5"})
    assert (both.time, both.end, both.refined) == (19.5, 26.5, True)


def test_refine_max_caps_the_requests_in_answer_order(clip):
    path, _ = clip
    answers = [Answer(RED, "", tuple(Moment(t, None, "", t, True) for t in (6.0, 12.0, 12.0))),
               Answer(BLUE, "", tuple(Moment(t, None, "", t, True) for t in (18.0, 24.0, 30.0)))]
    plan = make_plan(path, config(RED, BLUE))
    windows = refine_windows(plan, answers)
    assert [(w.question, w.cited) for w in windows] == [(RED, 6.0), (RED, 12.0), (BLUE, 18.0)]
    assert windows[1].moments == ((0, 1), (0, 2))  # one look at a time cited twice
    two = make_plan(path, config(RED, BLUE, refine_max=2))
    assert len(refine_windows(two, answers)) == 2
    assert refine_windows(make_plan(path, config(refine=False)), answers) == []
    assert refine_windows(make_plan(path, config(refine_max=0)), answers) == []
    summary = make_plan(path, config(prompt=PromptOptions(task="summarize")))
    assert refine_windows(summary, answers) == [] and refine_estimate(summary) is None
    def first_label(body: dict) -> str:  # cites the first frame it is shown
        label = frame_labels(body)[0].strip("[]")
        return json.dumps({"answers": [{"question": "q", "answer": "here", "moments": [
            {"time": label, "end": None, "text": "here"}]}]})

    with FakeOpenAIServer(api_key=KEY, responder=first_label) as server, client_for(server) as client:
        requests = refine_requests(plan, windows, path)
        replies = [client.complete(r.body) for r in requests]
        assert server.request_count == plan.config.refine_max
    result = apply_refined(plan, answers, requests, replies)
    assert [[m.refined for m in a.moments] for a in result.answers] == [[True, True, True], [True, False, False]]
    assert [m.time for m in result.answers[0].moments] == [w.start for w in windows[:2] for _ in w.moments]
    assert result.answers[1].moments[1:] == answers[1].moments[1:]  # past the cap: untouched


def test_the_window_carries_its_own_speech(clip):
    path, _ = clip
    lines = (Segment(2.0, 3.0, "far before"), Segment(21.0, 22.5, "look at this"), Segment(35.0, 36.0, "far after"))
    plan = replace(make_plan(path, config()), speech=PlanSpeech(source="sidecar", segments=lines, tokens=20))
    (request,) = refine_requests(plan, refine_windows(plan, [coarse(24.0)]), path)
    text = " ".join(p["text"] for p in request.body["messages"][1]["content"] if p["type"] == "text")
    assert "look at this" in text and "far before" not in text and "far after" not in text
    assert text.rstrip().endswith("cite no time.")  # the question and the refine instruction come last


def test_the_estimate_is_the_worst_case_and_shows_in_the_plan(clip):
    path, _ = clip
    plan = make_plan(path, config(RED, BLUE))
    estimate = refine_estimate(plan)
    assert estimate is not None and estimate.requests == defaults.REFINE_MAX
    assert estimate.frames == 2 * EVERY * defaults.REFINE_FPS + 1
    output = plan.prompt.output_tokens(plan.spec) * estimate.requests
    assert estimate.output_tokens == output
    assert estimate.cost_usd == estimate_cost(plan.spec, estimate.image_tokens + estimate.text_tokens, output)
    answers = [Answer(RED, "", tuple(Moment(t, None, "", t, True) for t in (0.0, 18.0, 36.0)))]
    for request in refine_requests(plan, refine_windows(plan, answers), path):
        count = chat_tokens(request.body["messages"], plan.spec)
        assert count.image_tokens <= estimate.image_tokens / estimate.requests
        assert count.text_tokens <= estimate.text_tokens / estimate.requests
    shown = replace(plan, refine_estimate=estimate)
    assert shown.to_json()["refine"]["requests"] == defaults.REFINE_MAX
    assert "refine       up to 3 more requests" in plan_table(shown)
    assert replace(plan, refine_estimate=None).to_json()["refine"] is None
    off = make_plan(path, config(refine=False))
    assert refine_estimate(off) is None
