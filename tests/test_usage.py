"""What replies cost and whether they read the images: prompt-cache discounts, the usage check,
progress while waiting, and the run using the TaskConfig it was planned with."""

from __future__ import annotations

import json

import pytest

from tests.conftest import KEY
from tests.terminal import run_on_a_terminal
from videovision import TaskConfig, make_plan, run_plan
from videovision.cli import main
from videovision.client import OpenAIChatClient
from videovision.endpoint import ClientConfig
from videovision.errors import UsageMismatchError
from videovision.models import estimate_cost, resolve_model
from videovision.packing import PROVIDERS, PackConfig
from videovision.types import SamplingConfig, Usage


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def warnings_in(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("videovision: warning:")]


def test_a_second_question_about_the_same_frames_reuses_the_prefix_at_the_cached_price(cut_clip, api_env, capsys):
    # gpt-4o-mini: its 2,833-token low-detail images make the short clip's prompt pass the 1,024 tokens
    # OpenAI caches from (the default model's images of this clip are ~24 tokens each)
    mini = ("--model", "gpt-4o-mini")
    code, out, _ = cli(capsys, "ask", cut_clip[0], "What colour is the first scene?", "--json", "--no-refine", *mini)
    assert code == 0
    first = json.loads(out)
    assert first["usage"]["cached_tokens"] == 0
    code, out, err = cli(capsys, "ask", cut_clip[0], "How many cuts are there?", "--json", "--no-refine", *mini)
    assert code == 0
    second = json.loads(out)
    usage = second["usage"]
    # everything but the question was sent before: the provider's cache served nearly all of it
    assert usage["cached_tokens"] >= 0.9 * usage["estimated_image_tokens"]
    assert usage["cached_tokens"] <= usage["prompt_tokens"]
    spec = resolve_model(second["model"])
    expected = estimate_cost(spec, usage["prompt_tokens"], usage["completion_tokens"], usage["cached_tokens"])
    full = estimate_cost(spec, usage["prompt_tokens"], usage["completion_tokens"])
    assert second["estimated_cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert expected < 0.6 * full  # gpt-4o-mini's cached input costs half
    code, out, err = cli(capsys, "ask", cut_clip[0], "Is there text on screen?", "--no-refine", *mini)
    assert "from the provider's prompt cache" in err.splitlines()[-1]
    code, out, _ = cli(capsys, "log", "--json", "--limit", "3")
    entries = json.loads(out)["entries"]
    assert entries[0]["cached_tokens"] > 0 and entries[-1]["cached_tokens"] == 0


def test_an_endpoint_that_drops_the_images_is_noticed(cut_clip, api_env, capsys):
    api_env.count_images = False  # accepts the images, counts (and reads) none of them
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--json")
    assert code == 0 and json.loads(out)["summary"]  # the work is not lost
    found = warnings_in(err)
    assert len(found) == 1, err
    plan_tokens = json.loads(out)["usage"]["estimated_image_tokens"]
    # the reply's prompt_tokens_details.image_tokens says it: no guessing from the total
    assert "reported 0 image tokens" in found[0] and f"{plan_tokens:,}" in found[0]
    assert json.loads(out)["warnings"] == [found[0].removeprefix("videovision: warning: ")]
    code, out, _ = cli(capsys, "log", "--json", "--limit", "1")
    assert json.loads(out)["entries"][0]["status"] == "images-not-counted"


def test_a_server_reporting_totals_only_is_judged_from_the_total(cut_clip, api_env, capsys):
    api_env.count_images = False
    api_env.report_image_tokens = False  # as many OpenAI-compatible servers: prompt_tokens only
    # gpt-4o-mini: images that cost far more than the text, so a total without them shows it
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--json", "--model", "gpt-4o-mini")
    assert code == 0 and json.loads(out)["summary"]
    found = warnings_in(err)
    assert len(found) == 1, err
    plan_tokens = json.loads(out)["usage"]["estimated_image_tokens"]
    counted = json.loads(out)["usage"]["prompt_tokens"]
    assert f"counted {counted:,} input tokens" in found[0] and f"{plan_tokens:,}" in found[0]


def test_strict_stops_at_the_first_reply_that_did_not_count_the_images(cut_clip, api_env, capsys):
    api_env.count_images = False
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--strict", "--frames-per-request", "2", "--no-cache",
                         "--concurrency", "1")
    assert code == 7 and out == ""
    assert len(err.strip().splitlines()) == 1 and "did not read" in err and "--strict" in err
    assert len(api_env.chat_requests) == 1  # no further request after the first shortfall


def test_local_servers_are_not_held_to_openai_image_counts(cut_clip, api_env, capsys):
    api_env.count_images = False
    code, _, err = cli(capsys, "summarize", cut_clip[0], "--provider", "local", "--strict")
    assert code == 0 and warnings_in(err) == []


def test_honest_usage_gives_no_warning(cut_clip, api_env, capsys):
    code, _, err = cli(capsys, "summarize", cut_clip[0], "--strict")
    assert code == 0 and warnings_in(err) == []


def test_run_plan_uses_the_task_config_and_reports_progress(cut_clip, api_env):
    config = TaskConfig(sampling=SamplingConfig(strategy="interval", every=0.5),
                        pack=PackConfig(frames_per_request=3), concurrency=1, tolerance=0.1)
    plan = make_plan(cut_clip[0], config)
    assert len(plan.requests) > 3
    seen = []
    with OpenAIChatClient(ClientConfig(api_key=KEY, base_url=api_env.base_url, max_retries=0)) as client:
        result = run_plan(plan, client, progress=seen.append)
    assert max(s.running for s in seen) == 1  # concurrency 1, as configured
    assert seen[-1].done == seen[-1].total == len(plan.requests) == result.requests_made
    assert [s.done for s in seen] == sorted(s.done for s in seen)
    # tolerance 0.1: a time 0.3 s from every frame sent is not supported
    from videovision.parsing import TimeCheck

    assert TimeCheck(plan.seen_times, plan.video.duration, result.plan.config.tolerance).moment(
        plan.sent_times[0] + 0.3, None, "x").supported is False


def test_usage_check_counts_cached_tokens_reported_apart():
    from videovision.asking import usage_shortfall

    openai = PROVIDERS["openai"]
    assert usage_shortfall(Usage(prompt_tokens=300, completion_tokens=5), 10_000, openai) is not None
    # a server reporting only uncached tokens, with the rest as cached: not a shortfall
    assert usage_shortfall(Usage(prompt_tokens=300, completion_tokens=5, cached_tokens=9_800), 10_000, openai) is None
    assert usage_shortfall(Usage(prompt_tokens=0), 10_000, openai) is None  # no usage reported: cannot judge
    assert usage_shortfall(Usage(prompt_tokens=300), 0, openai) is None  # a text-only request
    assert usage_shortfall(Usage(prompt_tokens=300), 10_000, PROVIDERS["local"]) is None


def test_a_terminal_shows_which_request_is_awaited_and_for_how_long(cut_clip, api_env):
    api_env.enqueue_fault("slow", delay=0.6)
    code, out, err = run_on_a_terminal(["summarize", str(cut_clip[0]), "--no-cache"], stderr_terminal=True)
    assert code == 0, err
    assert "request 1/1 · 0." in err  # the seconds tick while waiting
    assert "Frames at" in out


def test_strict_run_raises_in_the_library_too(cut_clip, api_env):
    api_env.count_images = False
    plan = make_plan(cut_clip[0], TaskConfig(strict=True))
    with OpenAIChatClient(ClientConfig(api_key=KEY, base_url=api_env.base_url, max_retries=0)) as client:
        with pytest.raises(UsageMismatchError):
            run_plan(plan, client)
