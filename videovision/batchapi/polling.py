"""Polling: each submitted batch retrieved; an ended one's usable replies put into the response cache
under the request keys the normal path computes, its failures reported per request, the batch
forgotten (:mod:`videovision.batchapi`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..endpoint import ClientConfig
from ..errormap import ErrorMapper
from ..errors import RequestError
from ..redact import scrub_secrets
from ..store import Cache, new_run_id, request_key
from ..types import ChatResult, Usage
from ..wires import Wire, wire_for_url, wire_of_body
from .jobs import (
    ENDED,
    UNUSABLE_FINISH,
    BatchJob,
    LineFailure,
    PollResult,
    _connect,
    _mapped,
    _update_jobs,
    batch_cost,
    log,
)
from .submitting import reconcile


def poll(jobs: Sequence[BatchJob], client_config: ClientConfig, store: Cache, *,
         sdk: Any | None = None) -> PollResult:
    """Look at submitted batches; collect the ones that ended.

    A completed, expired or cancelled batch: its output file's usable replies go into the response
    cache under their normal request keys (with their redacted requests, logged at the batch price);
    failed lines, lines the batch never ran and unusable replies (cut off, refused, filtered) are
    reported per custom_id and not cached. A failed batch reports every custom_id. Ended batches are
    forgotten (job file and input copy); running ones stay.

    Raises:
        RequestError: the batches or files API refused.
        BatchApiError: an output file is not JSONL.
    """
    client, mapper, secrets = _connect(client_config, sdk)
    statuses: dict[str, str] = {}
    pending: list[BatchJob] = []
    results: dict[str, ChatResult] = {}
    failures: list[LineFailure] = []
    usage = Usage()
    cost = 0.0
    run_id = new_run_id()
    if any(not j.batch_id for j in jobs):
        settled = {j.submission: j for j in reconcile(store, client, mapper)}
        jobs = [settled[j.submission] if not j.batch_id and j.submission in settled else j for j in jobs
                if j.batch_id or j.submission in settled]
    for job in jobs:
        try:
            batch = client.batches.retrieve(job.batch_id)
        except Exception as err:
            raise _mapped(mapper, err, "") from err
        status = str(batch.status)
        statuses[job.batch_id] = status
        if status not in ENDED:
            pending.append(job)
            continue
        got, failed = _collect(client, mapper, job, batch, secrets)
        bodies = _bodies(client, mapper, job, set(got))
        for custom_id, result in got.items():
            body = bodies.get(custom_id)
            if body is None:
                failed.append(LineFailure(custom_id, job.batch_id, "its request is not in the batch's input file"))
                continue
            # the line's body is its wire's exact body: the key the normal path computes for it
            key = request_key(body, endpoint=wire_of_body(body).cache_endpoint(job.endpoint))
            store.responses.put(key, result, body=body,
                                scrub=lambda text: scrub_secrets(text, secrets))
            price = batch_cost(result.model, result.usage)
            store.log.add(run_id=run_id, model=result.model, prompt_tokens=result.usage.prompt_tokens,
                          completion_tokens=result.usage.completion_tokens, estimated_cost_usd=price,
                          duration_s=0.0, cached=False, request_key=custom_id, task="batch-api", video=None,
                          endpoint=job.endpoint, status="ok", cached_tokens=result.usage.cached_tokens)
            results[custom_id] = result
            usage = usage + result.usage
            cost += price or 0.0
        failures += failed
        _update_jobs(store, lambda old, done=job.batch_id: [j for j in old if j.batch_id != done])  # type: ignore[misc]
        Path(job.input_path).unlink(missing_ok=True)
    return PollResult(statuses=statuses, pending=tuple(pending), results=results, failures=tuple(failures),
                      usage=usage, cost_usd=cost)


def _download(client: Any, mapper: ErrorMapper, file_id: str) -> str:
    try:
        return str(client.files.content(file_id).text)
    except Exception as err:
        raise _mapped(mapper, err, "") from err


def _lines(text: str, what: str) -> Iterator[dict]:
    """The readable lines of a JSONL file. Each line stands alone: one that is not JSON or has no
    custom_id is skipped with a warning (its request, never answered, is asked again), and never
    keeps the good lines from being stored."""
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as err:
            log.warning("%s line %d is not JSON (%s): skipped, its request will be asked again", what, n, err)
            continue
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            log.warning("%s line %d has no custom_id: skipped", what, n)
            continue
        yield line


def _collect(client: Any, mapper: ErrorMapper, job: BatchJob, batch: Any,
             secrets: tuple[str, ...]) -> tuple[dict[str, ChatResult], list[LineFailure]]:
    """The usable replies and the failures of an ended batch, by custom_id."""
    expected = set(job.custom_ids)
    got: dict[str, ChatResult] = {}
    failed: dict[str, LineFailure] = {}
    for attr, what in (("output_file_id", "output file"), ("error_file_id", "error file")):
        file_id = getattr(batch, attr, None)
        if not file_id:
            continue
        for line in _lines(_download(client, mapper, file_id), f"batch {job.batch_id} {what}"):
            custom_id = line["custom_id"]
            if custom_id not in expected:
                continue
            outcome = _outcome(line, secrets, mapper, wire_for_url(job.url))
            if isinstance(outcome, ChatResult):
                got[custom_id] = outcome
                failed.pop(custom_id, None)
            elif custom_id not in got:
                failed[custom_id] = LineFailure(custom_id, job.batch_id, outcome[0], outcome[1])
    status = str(batch.status)
    reason = _batch_errors(batch, mapper) if status == "failed" else f"the batch ended {status} before answering it"
    for custom_id in job.custom_ids:
        if custom_id not in got and custom_id not in failed:
            failed[custom_id] = LineFailure(custom_id, job.batch_id, reason)
    return got, list(failed.values())


def _batch_errors(batch: Any, mapper: ErrorMapper) -> str:
    data = getattr(getattr(batch, "errors", None), "data", None) or []
    messages = [mapper.clean(getattr(e, "message", "") or getattr(e, "code", "")) for e in data]
    return "the batch failed" + (f": {'; '.join(m for m in messages if m)}" if any(messages) else "")


def _outcome(line: dict, secrets: tuple[str, ...], mapper: ErrorMapper,
             wire: Wire) -> ChatResult | tuple[str, int | None]:
    """A usable reply (read by the batch's wire), or (why not, HTTP status)."""
    response = line.get("response") if isinstance(line.get("response"), dict) else None
    error = line.get("error") if isinstance(line.get("error"), dict) else None
    status = response.get("status_code") if response is not None else None
    status = status if isinstance(status, int) else None
    body = response.get("body") if response is not None and isinstance(response.get("body"), dict) else {}
    if error is not None or status != 200:
        detail = error or (body.get("error") if isinstance(body.get("error"), dict) else None) or {}
        message = mapper.clean(detail.get("message") or detail.get("code") or f"HTTP {status}")
        return message, status
    try:
        reply = wire.parse(body)
    except RequestError as err:
        return mapper.clean(str(err)), status
    if not reply.answered:
        return "the reply has no choices", status
    if reply.refusal:
        return f"the model refused to answer: {mapper.clean(reply.refusal)}", status
    finish = reply.finish_reason
    if not isinstance(finish, str) or not finish or finish in UNUSABLE_FINISH:
        return f"the reply is not usable (finish_reason {finish})", status
    if not isinstance(reply.text, str):
        return "the reply has no text", status
    return ChatResult(text=scrub_secrets(reply.text, secrets), usage=reply.usage, model=str(reply.model or ""),
                      finish_reason=finish, request_id=_request_id(response))


def _request_id(response: dict | None) -> str | None:
    value = response.get("request_id") if response is not None else None
    return value if isinstance(value, str) and value else None


def _bodies(client: Any, mapper: ErrorMapper, job: BatchJob, wanted: set[str]) -> dict[str, dict]:
    """The request bodies of ``wanted`` custom_ids: from the local input copy, else downloaded again."""
    if not wanted:
        return {}
    try:
        text = Path(job.input_path).read_text(encoding="utf-8")
    except OSError:
        text = _download(client, mapper, job.input_file_id)
    found: dict[str, dict] = {}
    for line in _lines(text, f"batch {job.batch_id} input file"):
        if line["custom_id"] in wanted and isinstance(line.get("body"), dict):
            found[line["custom_id"]] = line["body"]
    return found
