"""The OpenAI Batch API (videovision/batchapi.py) against the loopback server's files and batches routes
(tests/fake_batches.py): submit, poll until the batches end, replies in the response cache under the
keys the normal path computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_batches import install_batches
from fakeserver import FakeOpenAIServer
from media import SAMPLES_DIR

from videovision.asking import Asker
from videovision.batchapi import (
    BATCH_PRICE_FACTOR,
    BatchApiError,
    BatchCollector,
    DeferredToBatch,
    LineFailure,
    batch_cost,
    input_line,
    jobs_path,
    load_jobs,
    pending_ids,
    poll,
    split_lines,
    submit,
)
from videovision.client import OpenAIChatClient
from videovision.endpoint import ClientConfig
from videovision.errors import ConfigError
from videovision.models import estimate_cost
from videovision.packing import Budget, PackConfig
from videovision.pipeline import make_plan, run_plan
from videovision.plan import TaskConfig
from videovision.prompts import PromptOptions
from videovision.store import Cache, request_key
from videovision.types import ChatResult, SamplingConfig, Usage

KEY = "sk-batch-test-0123456789abcdef"
TALK = SAMPLES_DIR / "talk.mp4"


@pytest.fixture
def srv():
    server = FakeOpenAIServer(api_key=KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.errors == []


@pytest.fixture
def cache(tmp_path):
    with Cache(tmp_path / "cache") as c:
        yield c


def config_for(server: FakeOpenAIServer) -> ClientConfig:
    return ClientConfig(api_key=KEY, base_url=server.base_url, max_retries=0)


def chat_body(text: str, model: str = "gpt-4o-mini") -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}]}


def poll_until_done(jobs, cfg, cache, limit: int = 10):
    results: dict[str, ChatResult] = {}
    failures: list[LineFailure] = []
    for _ in range(limit):
        state = poll(jobs, cfg, cache)
        results.update(state.results)
        failures += state.failures
        jobs = list(state.pending)
        if state.done:
            return results, failures
    raise AssertionError("the batches never ended")


def small_config(frames_per_request: int | None = None) -> TaskConfig:
    return TaskConfig(sampling=SamplingConfig(strategy="interval", every=6.0),
                      pack=PackConfig(budget=Budget(max_frames=4), frames_per_request=frames_per_request),
                      prompt=PromptOptions())


# --------------------------------------------------------------------------- end to end


def test_a_video_deferred_then_answered_from_the_cache(srv, cache):
    batches = install_batches(srv)
    cfg = config_for(srv)
    plan = make_plan(TALK, small_config(), cache=cache, endpoint=cfg)
    collector = BatchCollector(cfg.endpoint)
    scope = collector.scope()
    with pytest.raises(DeferredToBatch):
        run_plan(plan, scope, cache=cache)
    assert scope.deferred >= 1 and srv.chat_requests == []
    requests = collector.requests()
    assert [c for c, _ in requests] == [request_key(b, endpoint=cfg.endpoint) for _, b in requests]

    jobs = submit(requests, cfg, cache)
    assert len(jobs) == 1 and load_jobs(cache) == jobs
    assert submit(requests, cfg, cache) == []  # already in a batch: not sent twice
    assert len(batches.uploads) == 1
    line = json.loads(batches.uploads[0].data.decode().splitlines()[0])
    assert set(line) == {"custom_id", "method", "url", "body"} and line["url"] == "/v1/chat/completions"
    assert line["body"] == requests[0][1]

    first = poll(load_jobs(cache), cfg, cache)  # what a later run does: the jobs come from the cache
    assert not first.done and first.statuses[jobs[0].batch_id] == "in_progress" and first.results == {}
    results, failures = poll_until_done(list(first.pending), cfg, cache)
    assert failures == [] and set(results) == {c for c, _ in requests}
    assert load_jobs(cache) == [] and pending_ids(cache) == frozenset()

    # the normal path now finds every reply: nothing is deferred, nothing is sent
    assert [r.kind for r in plan.requests] == ["single"]
    again = BatchCollector(cfg.endpoint)
    assert run_plan(plan, again.scope(), cache=cache).cache_hits == 1 and again.requests() == []
    with OpenAIChatClient(cfg) as client:
        result = run_plan(plan, client, cache=cache)
    assert result.requests_made == 0 and result.cache_hits == 1 and result.text
    assert srv.chat_requests == []


def test_a_map_reduce_video_takes_a_second_round_for_its_reduce_step(srv, cache):
    batches = install_batches(srv)
    cfg = config_for(srv)
    plan = make_plan(TALK, small_config(frames_per_request=2), cache=cache, endpoint=cfg)
    maps = [r for r in plan.requests if r.kind == "map"]
    assert len(maps) >= 2 and plan.requests[-1].kind == "reduce"
    rounds = []
    for _ in range(3):
        collector = BatchCollector(cfg.endpoint)
        try:
            result = run_plan(plan, collector.scope(), cache=cache)
            break
        except DeferredToBatch:
            rounds.append(len(collector.requests()))
            poll_until_done(submit(collector.requests(), cfg, cache), cfg, cache)
    assert rounds == [len(maps), 1]  # the maps first, then the reduce step built from their replies
    assert result.requests_made == 0 and result.cache_hits == len(maps) + 1
    assert len(batches.batches) == 2 and srv.chat_requests == []


def test_asker_finds_a_batch_reply_and_sends_nothing(srv, cache):
    install_batches(srv)
    cfg = config_for(srv)
    plan = make_plan(TALK, small_config(), cache=cache, endpoint=cfg)
    bodies = [chat_body(f"question {i}") for i in range(3)]
    jobs = submit([(request_key(b, endpoint=cfg.endpoint), b) for b in bodies], cfg, cache)
    Path(jobs[0].input_path).unlink()  # the local copy lost: the input file is downloaded again
    results, failures = poll_until_done(jobs, cfg, cache)
    assert failures == [] and len(results) == 3
    with OpenAIChatClient(cfg) as client:
        asker = Asker(client, cache, plan, "run-1")
        hit = asker.ask(bodies[1])
    assert hit.cached and hit.text == results[request_key(bodies[1], endpoint=cfg.endpoint)].text
    assert asker.requests_made == 0 and asker.cache_hits == 1 and srv.chat_requests == []
    # the same body sent normally gets the same answer the batch gave
    with OpenAIChatClient(cfg) as client:
        assert client.complete(bodies[1]).text == hit.text


# --------------------------------------------------------------------------- limits


def test_requests_are_split_by_the_line_limit(srv, cache):
    batches = install_batches(srv)
    cfg = config_for(srv)
    requests = [(f"id-{i}", chat_body(f"q{i}")) for i in range(5)]
    jobs = submit(requests, cfg, cache, max_lines=2)
    assert [len(j.custom_ids) for j in jobs] == [2, 2, 1]
    assert [len(f.data.decode().splitlines()) for f in batches.uploads] == [2, 2, 1]
    assert [c for j in jobs for c in j.custom_ids] == [c for c, _ in requests]
    results, failures = poll_until_done(jobs, cfg, cache)
    assert set(results) == {c for c, _ in requests} and failures == []


def test_requests_are_split_by_the_byte_limit():
    lines = [(f"id-{i}", input_line(f"id-{i}", chat_body("x" * 50))) for i in range(4)]
    size = len(lines[0][1])
    groups = list(split_lines(lines, max_bytes=2 * size + 1))
    assert [len(g) for g in groups] == [2, 2]
    assert all(sum(len(line) for _, line in g) <= 2 * size + 1 for g in groups)
    with pytest.raises(BatchApiError, match="more than a batch input file may hold"):
        list(split_lines(lines, max_bytes=size - 1))


def test_repeated_custom_ids_are_refused(srv, cache):
    with pytest.raises(ConfigError, match="unique"):
        submit([("a", chat_body("1")), ("a", chat_body("2"))], config_for(srv), cache)


# --------------------------------------------------------------------------- faults


def test_failed_lines_are_reported_and_not_cached(srv, cache):
    batches = install_batches(srv)
    batches.fail_lines(lambda custom_id, body: custom_id == "bad")
    cfg = config_for(srv)
    good, bad = chat_body("fine"), chat_body("rejected")
    jobs = submit([("good", good), ("bad", bad)], cfg, cache)
    results, failures = poll_until_done(jobs, cfg, cache)
    assert set(results) == {"good"}
    assert [(f.custom_id, f.status_code) for f in failures] == [("bad", 400)]
    assert "rejected for this test line" in failures[0].message
    assert cache.responses.get(request_key(good, endpoint=cfg.endpoint)) is not None
    assert cache.responses.get(request_key(bad, endpoint=cfg.endpoint)) is None


def test_a_cut_off_reply_is_not_cached(srv, cache):
    install_batches(srv)
    cfg = config_for(srv)
    short = {**chat_body("a question whose answer is long"), "max_completion_tokens": 2}
    results, failures = poll_until_done(submit([("short", short)], cfg, cache), cfg, cache)
    assert results == {} and "finish_reason length" in failures[0].message
    assert cache.responses.get(request_key(short, endpoint=cfg.endpoint)) is None


def test_an_expired_batch_keeps_its_answers_and_reports_the_rest(srv, cache):
    batches = install_batches(srv)
    batches.enqueue_fault("expired")
    cfg = config_for(srv)
    requests = [(f"id-{i}", chat_body(f"q{i}")) for i in range(4)]
    jobs = submit(requests, cfg, cache)
    results, failures = poll_until_done(jobs, cfg, cache)
    assert set(results) == {"id-0", "id-1"}
    assert sorted(f.custom_id for f in failures) == ["id-2", "id-3"]
    assert all("expired" in f.message for f in failures)
    for custom_id, body in requests:
        stored = cache.responses.get(request_key(body, endpoint=cfg.endpoint))
        assert (stored is not None) == (custom_id in results)
    assert load_jobs(cache) == []


def test_a_failed_batch_reports_every_request(srv, cache):
    batches = install_batches(srv)
    batches.enqueue_fault("failed")
    cfg = config_for(srv)
    requests = [(f"id-{i}", chat_body(f"q{i}")) for i in range(3)]
    results, failures = poll_until_done(submit(requests, cfg, cache), cfg, cache)
    assert results == {} and sorted(f.custom_id for f in failures) == ["id-0", "id-1", "id-2"]
    assert all("the batch failed" in f.message and "test fault" in f.message for f in failures)


def test_a_refused_upload_is_a_request_error_without_the_key(srv, cache):
    install_batches(srv)
    cfg = ClientConfig(api_key="sk-wrong-key-987654321", base_url=srv.base_url, max_retries=0)
    from videovision.errors import AuthenticationError

    with pytest.raises(AuthenticationError) as caught:
        submit([("a", chat_body("1"))], cfg, cache)
    assert "sk-wrong-key-987654321" not in str(caught.value)
    assert load_jobs(cache) == [] and list((cache.directory / "batchapi").glob("input-*")) == []


# --------------------------------------------------------------------------- the job file, prices


def test_the_job_file_never_holds_the_key(srv, cache):
    install_batches(srv)
    cfg = config_for(srv)
    jobs = submit([("a", chat_body("q"))], cfg, cache)
    text = jobs_path(cache).read_text()
    assert KEY not in text and jobs[0].batch_id in text
    poll_until_done(jobs, cfg, cache)
    assert all(KEY not in p.read_text(errors="replace") for p in (cache.directory / "batchapi").iterdir())


def test_a_damaged_job_file_is_one_error(cache):
    path = jobs_path(cache)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(BatchApiError, match="cannot read"):
        load_jobs(cache)


def test_batch_cost_is_half_the_list_price():
    usage = Usage(prompt_tokens=10_000, completion_tokens=2_000, cached_tokens=1_024)
    full = estimate_cost("gpt-4o-mini", 10_000, 2_000, 1_024)
    assert full is not None and full > 0
    assert batch_cost("gpt-4o-mini", usage) == pytest.approx(full * BATCH_PRICE_FACTOR)
    assert BATCH_PRICE_FACTOR == 0.5


# --------------------------------------------------------------------------- faults (issue 20)


def test_one_unreadable_output_line_does_not_block_the_good_ones(srv, cache):
    batches = install_batches(srv)
    batches.garble_output = True
    cfg = config_for(srv)
    requests = [(f"id-{i}", chat_body(f"q{i}")) for i in range(3)]
    results, failures = poll_until_done(submit(requests, cfg, cache), cfg, cache)
    assert set(results) == {"id-0", "id-1", "id-2"} and failures == []
    for _, body in requests:
        assert cache.responses.get(request_key(body, endpoint=cfg.endpoint)) is not None


@pytest.mark.parametrize("what", ["batch", "file"])
def test_a_submission_cut_in_flight_is_reconciled_not_sent_twice(srv, cache, what):
    """kill -9 or Ctrl-C while POST /v1/batches (or /v1/files) is in flight: the server did the work
    but the client never heard. The submission was recorded first, so the next run finds it (the
    batch by its metadata, or the uploaded file by its name) instead of submitting again."""
    batches = install_batches(srv)
    batches.drop_after_create(what)
    cfg = config_for(srv)
    requests = [(f"id-{i}", chat_body(f"q{i}")) for i in range(2)]
    with pytest.raises(Exception):
        submit(requests, cfg, cache)
    recorded = load_jobs(cache)
    assert len(recorded) == 1 and recorded[0].batch_id == "" and pending_ids(cache) == {"id-0", "id-1"}
    assert submit(requests, cfg, cache) == []  # the next run: reconciled, nothing new submitted
    assert len(batches.uploads) == 1 and len(batches.batches) == 1 and batches.lists >= 1
    jobs = load_jobs(cache)
    assert jobs[0].batch_id in batches.batches
    results, failures = poll_until_done(jobs, cfg, cache)
    assert set(results) == {"id-0", "id-1"} and failures == []


def test_a_submission_the_server_never_saw_is_sent_again(srv, cache):
    batches = install_batches(srv)
    cfg = config_for(srv)
    requests = [("id-0", chat_body("q0"))]
    jobs = submit(requests, cfg, cache)
    # a run stopped after recording but before the upload left the server: simulate by forgetting the ids
    import dataclasses

    from videovision.batchapi import _save_jobs

    _save_jobs(cache, [dataclasses.replace(jobs[0], batch_id="", input_file_id="", submission="never-sent")])
    batches.batches.clear()
    batches.files.clear()
    again = submit(requests, cfg, cache)
    assert len(again) == 1 and again[0].batch_id and load_jobs(cache) == again


def test_batch_replies_with_a_lone_surrogate_are_all_stored(srv, cache):
    """Issue 20: a reply holding "\\udcff" (valid JSON) is kept, with U+FFFD, like every other line."""
    install_batches(srv)
    srv.responder = lambda body: "odd \udcff byte"
    cfg = config_for(srv)
    requests = [(request_key(chat_body(t), endpoint=cfg.endpoint), chat_body(t)) for t in "abcdefghij"]
    results, failures = poll_until_done(submit(requests, cfg, cache), cfg, cache)
    assert failures == [] and len(results) == 10
    for key, _ in requests:
        stored = cache.responses.get(key)
        assert stored is not None and stored.text == "odd \ufffd byte"


def test_batch_api_over_responses_lines_and_replies_reach_the_normal_path(srv, cache):
    """--api responses (and a Responses-only model under auto): /v1/responses lines (CreateResponse bodies),
    a /v1/responses batch, and the replies stored under the keys the normal path computes."""
    from dataclasses import replace

    batches = install_batches(srv)
    cfg = replace(config_for(srv), api="responses")
    plan = make_plan(TALK, small_config(), cache=cache, endpoint=cfg)
    collector = BatchCollector(cfg.endpoint, api=cfg.api)  # the plan is Chat-encoded: the collector re-encodes
    with pytest.raises(DeferredToBatch):
        run_plan(plan, collector.scope(), cache=cache)
    requests = collector.requests()
    jobs = submit(requests, cfg, cache)
    assert len(jobs) == 1
    line = json.loads(batches.uploads[0].data.decode().splitlines()[0])
    assert line["url"] == "/v1/responses" and "input" in line["body"] and "messages" not in line["body"]
    assert all(p["detail"] for item in line["body"]["input"] if isinstance(item["content"], list)
               for p in item["content"] if p["type"] == "input_image")
    results, failures = poll_until_done(jobs, cfg, cache)
    assert failures == [] and set(results) == {c for c, _ in requests}
    assert all(r.usage.image_tokens is not None for r in results.values())
    assert srv.spec_violations == []
    with OpenAIChatClient(cfg) as client:
        result = run_plan(plan, client, cache=cache)
    assert result.requests_made == 0 and result.cache_hits == 1
    assert not [r for r in srv.requests if r.path == "/v1/responses"]
