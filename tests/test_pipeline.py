"""The orchestration: plans carry their settled config, replies are keyed by endpoint, run_plan
honours the plan's config, map-reduce resumes from the cache, an auth failure stops the run."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from media import DEMO

from videovision import defaults
from videovision.errors import AuthenticationError, ConfigError, ServerError
from videovision.packing import Budget, PackConfig
from videovision.pipeline import make_plan, run_plan
from videovision.plan import TaskConfig
from videovision.prompts import PromptOptions
from videovision.store import Cache
from videovision.timecode import time_label
from videovision.types import ChatResult, SamplingConfig, Usage


class FakeClient:
    """A ChatClient in process: cites the first image label it was shown, or the time it is told."""

    def __init__(self, endpoint: str = "http://a.example/v1", *, cite: float | None = None,
                 fail_with: Exception | None = None):
        self.endpoint = endpoint
        self.cite = cite
        self.fail_with = fail_with
        self.bodies: list[dict] = []
        self.lock = threading.Lock()

    def complete(self, body, *, on_text=None):
        with self.lock:
            self.bodies.append(body)
        if self.fail_with is not None:
            raise self.fail_with
        labels = [p["text"] for m in body["messages"] if isinstance(m["content"], list)
                  for p in m["content"] if p["type"] == "text" and p["text"].startswith("[")]
        label = time_label(self.cite) if self.cite is not None else (labels[0] if labels else "[00:00:00.0]")
        return ChatResult(text=f"A coloured card is shown {label}.", usage=Usage(100, 10), model=body["model"],
                          finish_reason="stop")


def config(**overrides) -> TaskConfig:
    base = TaskConfig(sampling=SamplingConfig(strategy="interval", every=4.0),
                      pack=PackConfig(budget=Budget(max_frames=8)))
    return replace(base, **overrides)


@pytest.fixture
def cache(tmp_path):
    with Cache(tmp_path / "cache") as c:
        yield c


def test_plan_carries_its_settled_config_and_spec():
    plan = make_plan(DEMO, config(pack=PackConfig(model="gpt-4o-mini")))
    assert plan.config.prompt.max_output_tokens == defaults.MAX_OUTPUT_TOKENS
    assert plan.config.pack.expected_output_tokens == defaults.MAX_OUTPUT_TOKENS
    assert plan.spec.name == "gpt-4o-mini" and plan.model == "gpt-4o-mini"
    default = make_plan(DEMO, config())  # the default model reasons: the larger output limit
    assert default.model == defaults.MODEL and default.spec.reasoning
    assert default.config.prompt.max_output_tokens == defaults.REASONING_MAX_OUTPUT_TOKENS
    reasoning = make_plan(DEMO, config(pack=PackConfig(model="o3", budget=Budget(max_frames=8))))
    assert reasoning.config.prompt.max_output_tokens == defaults.REASONING_MAX_OUTPUT_TOKENS
    assert reasoning.requests[0].body["max_completion_tokens"] == defaults.REASONING_MAX_OUTPUT_TOKENS
    hybrid = make_plan(DEMO, TaskConfig())  # the automatic hybrid gap is settled into the config
    assert hybrid.config.sampling.max_gap != defaults.MAX_GAP


def test_replies_from_two_endpoints_never_share_cache_entries(cache):
    plan = make_plan(DEMO, config())
    local, remote = FakeClient("http://localhost:11434/v1"), FakeClient("https://api.openai.com/v1")
    assert run_plan(plan, local, cache=cache).requests_made == 1
    second = run_plan(plan, remote, cache=cache)  # wave-1 bug: served from the local server's reply
    assert second.requests_made == 1 and second.cache_hits == 0 and len(remote.bodies) == 1
    again = run_plan(plan, local, cache=cache)
    assert again.requests_made == 0 and again.cache_hits == 1


def test_run_plan_uses_the_plans_tolerance():
    plan = make_plan(DEMO, config())
    first = plan.sent_times[1]
    client = FakeClient(cite=first + 0.5)
    loose = run_plan(plan, client).summary
    tight = run_plan(make_plan(DEMO, config(tolerance=0.1)), client).summary
    assert loose is not None and tight is not None
    assert loose.moments[0].supported and not tight.moments[0].supported


def test_run_plan_uses_the_plans_concurrency():
    plan = make_plan(DEMO, config(pack=PackConfig(budget=Budget(max_frames=8), frames_per_request=2),
                                  concurrency=1))
    in_flight, peak = 0, 0
    lock = threading.Lock()

    class Counting(FakeClient):
        def complete(self, body, *, on_text=None):
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            try:
                import time

                time.sleep(0.05)
                return super().complete(body, on_text=on_text)
            finally:
                with lock:
                    in_flight -= 1

    run_plan(plan, Counting())
    assert peak == 1
    peak = 0
    run_plan(replace(plan, config=replace(plan.config, concurrency=4)), Counting())
    assert peak > 1


def test_map_reduce_resumes_and_a_higher_output_cap_reuses_finished_replies(cache):
    cfg = config(pack=PackConfig(budget=Budget(max_frames=8), frames_per_request=2))
    plan = make_plan(DEMO, cfg, cache=cache)
    kinds = [r.kind for r in plan.requests]
    assert kinds.count("map") >= 3 and kinds[-1] == "reduce"
    client = FakeClient()
    first = run_plan(plan, client, cache=cache)
    assert first.requests_made == len(plan.requests)
    # the advice after a length error is "raise --max-output-tokens": finished replies stay valid
    higher = make_plan(DEMO, replace(cfg, prompt=PromptOptions(max_output_tokens=4000)), cache=cache)
    again = run_plan(higher, client, cache=cache)
    assert again.requests_made == 0 and again.cache_hits == len(plan.requests)


def test_an_auth_failure_stops_the_run(cache):
    plan = make_plan(DEMO, config(pack=PackConfig(budget=Budget(max_frames=8), frames_per_request=1),
                                  concurrency=1))
    client = FakeClient(fail_with=AuthenticationError("401: incorrect API key", status_code=401))
    with pytest.raises(AuthenticationError):
        run_plan(plan, client, cache=cache)
    assert len(client.bodies) == 1  # no new request after a 401
    logged = cache.log.recent(50)
    assert [e.status for e in logged] == ["AuthenticationError"]


def test_other_failures_keep_the_finished_chunks(cache):
    plan = make_plan(DEMO, config(pack=PackConfig(budget=Budget(max_frames=8), frames_per_request=2),
                                  concurrency=1))
    maps = [r for r in plan.requests if r.kind == "map"]

    class FailsOnce(FakeClient):
        def complete(self, body, *, on_text=None):
            if body is maps[1].body and not getattr(self, "failed", False):
                self.failed = True
                self.bodies.append(body)
                raise ServerError("500 after retries", status_code=500)
            return super().complete(body, on_text=on_text)

    client = FailsOnce()
    with pytest.raises(ServerError):
        run_plan(plan, client, cache=cache)
    sent_first = len(client.bodies)
    resumed = run_plan(plan, client, cache=cache)
    assert resumed.requests_made == 2 and resumed.cache_hits == len(maps) - 1  # the failed chunk + reduce
    assert sent_first == len(maps)


def test_frames_are_reused_from_the_cache_and_rebuilt_when_damaged(cache, tmp_path):
    import sqlite3

    first = make_plan(DEMO, config(), cache=cache)
    again = make_plan(DEMO, config(), cache=cache)
    assert [i.data for i in again.images] == [i.data for i in first.images]
    assert again.requests[0].body == first.requests[0].body
    with sqlite3.connect(cache.path) as conn:
        conn.execute("UPDATE images SET data = X'00'")
    rebuilt = make_plan(DEMO, config(), cache=cache)
    assert [i.data for i in rebuilt.images] == [i.data for i in first.images]


def test_no_client_is_a_config_error():
    plan = make_plan(DEMO, config())
    with pytest.raises(ConfigError):
        run_plan(plan, None)


def test_task_config_names_fields_not_flags():
    with pytest.raises(ConfigError) as info:
        TaskConfig(tolerance=float("nan"))
    assert info.value.field == "tolerance" and str(info.value).startswith("tolerance")
    with pytest.raises(ConfigError) as info:
        Budget(max_frames=0)
    assert info.value.field == "max_frames" and "--" not in str(info.value)
