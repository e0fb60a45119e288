"""The OpenAI Batch API: send a batch's chat requests at half price, collect the replies within 24 h.

    submit   (custom_id, body) pairs -> JSONL input files (each within OpenAI's limits) -> files API
             (purpose "batch") -> one batch per file; each batch's id and custom_ids are remembered
             in the cache directory (``batchapi/jobs.json``)
    poll     retrieve each batch; when it has ended, download its output and error files and put every
             usable reply into the response cache under the request key the normal path computes
             (:func:`videovision.store.request_key`), so a normal run then finds them as cache hits
    batch_cost   the plan's price at the Batch API's 50 % discount

How a library run uses it (the CLI wiring is in the caller): run the normal path with a
:class:`BatchCollector` scope as the chat client. Replies already cached are served as usual; every
other request is collected (its custom_id is its request key) and :class:`DeferredToBatch` stops that
video. ``submit(collector.requests(), ...)`` sends them. A later run polls; once the batches ended,
the normal path runs again and finds the replies in the cache; requests that only exist after the
first round's replies (a map-reduce video's reduce step, the refine pass) are collected then and go in
the next round.

The input lines are kept in the cache directory until their batch has ended (the replies are cached
with their redacted request, as the normal path does); the stored jobs never hold the API key.

Input line, output line and error line formats: OpenAI's Batch API reference ("request input",
"request output"): ``{"custom_id", "method": "POST", "url": "/v1" + the wire's path, "body"}`` in (the
exact body the wire sends: ``/v1/chat/completions``, ``/v1/responses`` ...; ``videovision.wires``),
``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}`` out.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from .client import wire_request
from .endpoint import ClientConfig, sdk_client
from .errormap import ErrorMapper
from .errors import ConfigError, RequestError, VideovisionError
from .files import atomic_write_text
from .models import BATCH_PRICE_FACTOR, ModelSpec, estimate_cost
from .redact import scrub_secrets
from .store import Cache, new_run_id, request_key
from .types import ChatResult, Usage
from .wires import DEFAULT, Wire, wire_for, wire_for_url, wire_of_body

__all__ = [
    "BATCH_PRICE_FACTOR", "CHAT_URL", "COMPLETION_WINDOW", "MAX_FILE_BYTES", "MAX_FILE_LINES", "SUBMISSION_KEY",
    "BatchApiError", "BatchCollector", "BatchJob", "DeferredToBatch", "DeferringClient", "LineFailure", "PollResult",
    "batch_cost", "jobs_path", "load_jobs", "pending_ids", "poll", "reconcile", "submit",
]

CHAT_URL: Final = "/v1" + wire_for(DEFAULT).path
"""The default wire's Batch API ``url`` (``/v1/chat/completions``)."""
COMPLETION_WINDOW: Final = "24h"
SUBMISSION_KEY: Final = "videovision_submission"
"""Batch metadata key naming the submission (see ``BatchJob.submission``)."""

log = logging.getLogger("videovision")
"""The only window OpenAI offers."""
MAX_FILE_BYTES = 200 * 1024 * 1024
"""OpenAI's cap on one batch input file."""
MAX_FILE_LINES = 50_000
"""OpenAI's cap on requests in one batch."""
"""The Batch API bills half the list price."""
JOBS_DIRNAME = "batchapi"
JOBS_FILENAME = "jobs.json"
JOBS_VERSION = 1
ENDED = frozenset({"completed", "expired", "cancelled", "failed"})
"""Batch statuses after which nothing more will come (the others: validating, in_progress, finalizing,
cancelling)."""
UNUSABLE_FINISH = frozenset({"length", "content_filter"})
"""Replies the normal client rejects (cut off, filtered): never cached (videovision/client.py)."""


class BatchApiError(VideovisionError):
    """The Batch API could not be used (an upload or a batch refused, a job file unreadable)."""


class DeferredToBatch(VideovisionError):
    """A request collected for the Batch API instead of being sent: its video waits for the batch."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class BatchJob:
    """One submitted batch: what the cache remembers of it (never the key)."""

    batch_id: str
    input_file_id: str
    endpoint: str
    """The base URL the requests were meant for: part of each reply's request key."""
    custom_ids: tuple[str, ...]
    input_path: str
    """The local copy of the input file (removed once the batch has ended)."""
    created_at: float
    submission: str = ""
    """Names this submission (the input file's name and the batch's metadata): recorded before the
    upload, so a run stopped while ``POST /v1/files`` or ``/v1/batches`` was in flight is reconciled
    with ``GET /v1/batches`` on the next run, never submitted twice. ``batch_id`` is "" until known."""
    url: str = CHAT_URL
    """The batch's endpoint: ``/v1`` + the path of the wire its lines are in."""

    def to_json(self) -> dict:
        return {**asdict(self), "custom_ids": list(self.custom_ids)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchJob:
        return cls(batch_id=str(data["batch_id"]), input_file_id=str(data["input_file_id"]),
                   endpoint=str(data["endpoint"]), custom_ids=tuple(str(c) for c in data["custom_ids"]),
                   input_path=str(data["input_path"]), created_at=float(data["created_at"]),
                   submission=str(data.get("submission", "")), url=str(data.get("url", CHAT_URL)))


@dataclass(frozen=True)
class LineFailure:
    """A request the batch did not answer usably (to be asked again)."""

    custom_id: str
    batch_id: str
    message: str
    status_code: int | None = None


@dataclass(frozen=True)
class PollResult:
    """Where the polled batches stand."""

    statuses: Mapping[str, str]
    """batch id -> its status."""
    pending: tuple[BatchJob, ...]
    """Batches still running (poll again later)."""
    results: Mapping[str, ChatResult]
    """custom_id -> the reply, now in the response cache."""
    failures: tuple[LineFailure, ...]
    """Requests without a usable reply: failed lines, or lines of an expired/failed/cancelled batch."""
    usage: Usage = Usage()
    cost_usd: float = 0.0
    """Estimated spend of the replies at the batch price (unknown prices count 0)."""

    @property
    def done(self) -> bool:
        """No batch is still running."""
        return not self.pending


# --------------------------------------------------------------------------- prices


def batch_cost(spec: str | ModelSpec, usage: Usage) -> float | None:
    """Estimated USD of a reply (or a plan's estimate) through the Batch API: 50 % of the list price.

    Returns:
        USD, or None when a needed price is unknown.
    """
    full = estimate_cost(spec, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens, usage.cache_write_tokens)
    return None if full is None else full * BATCH_PRICE_FACTOR


# --------------------------------------------------------------------------- collecting


class DeferringClient:
    """A ChatClient for one video's run: every request that reaches it (it missed the cache) is
    collected and raises :class:`DeferredToBatch`. ``deferred`` counts them, so a caller knows the
    run's result is incomplete even where the pipeline tolerates failed requests (the refine pass)."""

    def __init__(self, collector: BatchCollector):
        self._collector = collector
        self.deferred = 0

    @property
    def endpoint(self) -> str:
        return self._collector.endpoint

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._collector.secrets

    def wire_request(self, body: Any) -> tuple[Wire, dict]:
        """The wire and exact body a request would go by (the reply cache's key, as the real client's)."""
        return wire_request(body, self._collector.api)

    def complete(self, body: Any, *, on_text: Callable[[str], None] | None = None) -> ChatResult:
        self._collector.add(body)
        self.deferred += 1
        raise DeferredToBatch("waiting for the OpenAI Batch API (submitted with this run; poll with a later run)")


class BatchCollector:
    """Collects the requests of many runs for one submission, each once (by request key)."""

    def __init__(self, endpoint: str, secrets: Sequence[str] = (), api: str = "auto"):
        self.endpoint = endpoint
        self.secrets = tuple(secrets)
        self.api = api
        """The wire requests are sent over (``ClientConfig.api``)."""
        self._lock = threading.Lock()
        self._requests: dict[str, dict] = {}

    def scope(self) -> DeferringClient:
        """A client for one video's run (its own ``deferred`` count)."""
        return DeferringClient(self)

    def add(self, body: Any) -> str:
        """Collect a request (kept as the exact body of its wire); returns its custom_id (its request key)."""
        wire, exact = wire_request(body, self.api)
        key = request_key(exact, endpoint=wire.cache_endpoint(self.endpoint))
        with self._lock:
            self._requests.setdefault(key, exact)
        return key

    def requests(self) -> list[tuple[str, dict]]:
        """(custom_id, body) of everything collected, in collection order."""
        with self._lock:
            return list(self._requests.items())


# --------------------------------------------------------------------------- the job file


def jobs_path(store: Cache) -> Path:
    """Where the cache remembers the submitted batches."""
    return store.directory / JOBS_DIRNAME / JOBS_FILENAME


def load_jobs(store: Cache) -> list[BatchJob]:
    """The batches submitted and not yet collected (empty when none).

    Raises:
        BatchApiError: the job file is not readable.
    """
    path = jobs_path(store)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as err:
        raise BatchApiError(f"cannot read the Batch API jobs in {path}: {err}") from err
    if not isinstance(data, dict) or data.get("version") != JOBS_VERSION or not isinstance(data.get("jobs"), list):
        raise BatchApiError(f"{path} is not a videovision Batch API job file (version {JOBS_VERSION})")
    try:
        return [BatchJob.from_json(j) for j in data["jobs"]]
    except (KeyError, TypeError, ValueError) as err:
        raise BatchApiError(f"{path} holds a damaged job entry: {err!r}") from err


def _save_jobs(store: Cache, jobs: Sequence[BatchJob]) -> None:
    path = jobs_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"version": JOBS_VERSION, "jobs": [j.to_json() for j in jobs]}, indent=1))


_JOBS_LOCK = threading.Lock()


def _update_jobs(store: Cache, change: Callable[[list[BatchJob]], list[BatchJob]]) -> None:
    with _JOBS_LOCK:
        _save_jobs(store, change(load_jobs(store)))


def pending_ids(store: Cache) -> frozenset[str]:
    """custom_ids in batches submitted and not yet collected (not to be submitted again)."""
    return frozenset(c for job in load_jobs(store) for c in job.custom_ids)


# --------------------------------------------------------------------------- submit


def input_line(custom_id: str, body: dict) -> bytes:
    """One JSONL line of a batch input file (newline included): ``body`` is a wire's exact body, its
    ``url`` that wire's (:func:`line_url`)."""
    if not isinstance(custom_id, str) or not custom_id:
        raise ConfigError("a Batch API request needs a non-empty custom_id")
    url = line_url(body)
    line = {"custom_id": custom_id, "method": "POST", "url": url, "body": body}
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


def line_url(body: dict) -> str:
    """The Batch API ``url`` of a wire's body: ``/v1`` + its wire's path."""
    return "/v1" + wire_of_body(body).path


def split_lines(lines: Iterable[tuple[str, bytes]], *, max_bytes: int = MAX_FILE_BYTES,
                max_lines: int = MAX_FILE_LINES) -> Iterator[list[tuple[str, bytes]]]:
    """Group (custom_id, line) pairs into files of at most ``max_lines`` lines and ``max_bytes`` bytes.

    Raises:
        BatchApiError: one line alone is larger than ``max_bytes``.
    """
    if max_bytes <= 0 or max_lines <= 0:
        raise ConfigError("Batch API file limits must be > 0")
    group: list[tuple[str, bytes]] = []
    size = 0
    for custom_id, line in lines:
        if len(line) > max_bytes:
            raise BatchApiError(f"request {custom_id} is {len(line):,} bytes: more than a batch input file may hold "
                                f"({max_bytes:,})")
        if group and (len(group) >= max_lines or size + len(line) > max_bytes):
            yield group
            group, size = [], 0
        group.append((custom_id, line))
        size += len(line)
    if group:
        yield group


def submit(requests: Sequence[tuple[str, dict]], client_config: ClientConfig, store: Cache, *,
           max_bytes: int = MAX_FILE_BYTES, max_lines: int = MAX_FILE_LINES,
           sdk: Any | None = None) -> list[BatchJob]:
    """Send requests as OpenAI batches: as many input files as the limits need, one batch each.

    Requests whose custom_id is already in a batch not yet collected are left out (a second run
    before the first batch ended does not pay twice).

    Args:
        requests: (custom_id, body) pairs; body exactly as the chat endpoint would get it.
        client_config: the endpoint and key.
        store: the cache (the jobs and the input copies live in its directory).
        max_bytes, max_lines: per input file (OpenAI's limits by default).
        sdk: an ``openai.OpenAI`` to use instead of one built from ``client_config``.

    Returns:
        The batches created (also remembered in the cache), in order.

    Raises:
        ConfigError: a custom_id repeats or is empty.
        BatchApiError: a request is larger than one input file may be.
        RequestError: the files or batches API refused (mapped as the chat client maps errors).
    """
    ids = [c for c, _ in requests]
    if len(set(ids)) != len(ids):
        raise ConfigError("Batch API custom_ids must be unique within a submission")
    key = client_config.resolved_api_key()
    secrets = tuple(s for s in (client_config.api_key, key) if s)
    mapper = ErrorMapper(client_config.endpoint, client_config.timeout, client_config.max_retries, secrets)
    client = sdk if sdk is not None else sdk_client(client_config, key)
    if any(not j.batch_id for j in load_jobs(store)):
        reconcile(store, client, mapper)
    known = pending_ids(store)
    todo = [(c, b) for c, b in requests if c not in known]
    if not todo:
        return []
    model = str(todo[0][1].get("model", "")) if isinstance(todo[0][1], dict) else ""
    exact = [(c, wire_request(b, client_config.api)[1]) for c, b in todo]
    by_url: dict[str, list[tuple[str, bytes]]] = {}  # one batch serves one endpoint
    for c, b in exact:
        by_url.setdefault(line_url(b), []).append((c, input_line(c, b)))
    folder = store.directory / JOBS_DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    jobs: list[BatchJob] = []
    groups = [(url, group) for url, lines in by_url.items()
              for group in split_lines(lines, max_bytes=max_bytes, max_lines=max_lines)]
    for url, group in groups:
        token = uuid.uuid4().hex
        path = folder / f"input-{token}.jsonl"
        path.write_bytes(b"".join(line for _, line in group))
        job = BatchJob(batch_id="", input_file_id="", endpoint=client_config.endpoint,
                       custom_ids=tuple(c for c, _ in group), input_path=str(path), created_at=time.time(),
                       submission=token, url=url)
        _update_jobs(store, lambda old, job=job: [*old, job])  # type: ignore[misc]  # before anything is sent
        try:
            with open(path, "rb") as f:
                uploaded = client.files.create(file=(path.name, f, "application/jsonl"), purpose="batch")
            job = _replace_job(store, job, input_file_id=uploaded.id)
            batch = _create_batch(client, uploaded.id, token, url)
        except Exception as err:
            if _refused(err):  # the server answered no: nothing was created, forget the submission
                _update_jobs(store, lambda old, t=token: [j for j in old if j.submission != t])  # type: ignore[misc]
                path.unlink(missing_ok=True)
            raise _mapped(mapper, err, model) from err
        jobs.append(_replace_job(store, job, batch_id=batch.id))
    return jobs


def _create_batch(client: Any, input_file_id: str, token: str, url: str = CHAT_URL) -> Any:
    return client.batches.create(input_file_id=input_file_id, endpoint=url, completion_window=COMPLETION_WINDOW,
                                 metadata={SUBMISSION_KEY: token})


def _refused(err: BaseException) -> bool:
    """The server answered with an error status (so it created nothing), as opposed to a request
    whose outcome is unknown (a timeout, a cut connection, an interrupt)."""
    import openai

    return isinstance(err, openai.APIStatusError)


def _replace_job(store: Cache, job: BatchJob, **changes: Any) -> BatchJob:
    new = replace(job, **changes)
    _update_jobs(store, lambda old: [new if j.submission == job.submission and j.batch_id == job.batch_id
                                     else j for j in old])
    return new


def reconcile(store: Cache, client: Any, mapper: ErrorMapper) -> list[BatchJob]:
    """Settle the submissions recorded without a batch id (a run stopped mid-submission).

    A batch carrying the submission's name in its metadata is adopted; an input file uploaded under
    its name gets its batch created now; a submission the server never saw is forgotten (its
    requests go into the next submission). Returns the jobs as they now stand.

    Raises:
        RequestError: the files or batches API refused.
    """
    unsettled = {j.submission: j for j in load_jobs(store) if not j.batch_id and j.submission}
    if not unsettled:
        return load_jobs(store)
    try:
        for batch in client.batches.list(limit=100):
            token = (getattr(batch, "metadata", None) or {}).get(SUBMISSION_KEY)
            job = unsettled.pop(token, None) if token else None
            if job is not None:
                _replace_job(store, job, batch_id=batch.id, input_file_id=str(batch.input_file_id))
            if not unsettled:
                break
        for job in list(unsettled.values()):
            file_id = job.input_file_id or _uploaded(client, Path(job.input_path).name)
            if file_id:
                batch = _create_batch(client, file_id, job.submission, job.url)
                _replace_job(store, job, batch_id=batch.id, input_file_id=file_id)
            else:
                _update_jobs(store, lambda old, t=job.submission: [j for j in old if j.submission != t])  # type: ignore[misc]
                Path(job.input_path).unlink(missing_ok=True)
    except Exception as err:
        raise _mapped(mapper, err, "") from err
    return load_jobs(store)


def _uploaded(client: Any, filename: str) -> str:
    """The id of the batch input file uploaded as ``filename`` ("" when there is none)."""
    for f in client.files.list(purpose="batch"):
        if getattr(f, "filename", None) == filename:
            return str(f.id)
    return ""


def _mapped(mapper: ErrorMapper, err: BaseException, model: str) -> VideovisionError:
    import openai

    if isinstance(err, VideovisionError):
        return err
    if isinstance(err, openai.OpenAIError):
        return mapper.map(err, model)
    return BatchApiError(f"Batch API: {mapper.clean(str(err))}")


# --------------------------------------------------------------------------- poll


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
    key = client_config.resolved_api_key()
    secrets = tuple(s for s in (client_config.api_key, key) if s)
    mapper = ErrorMapper(client_config.endpoint, client_config.timeout, client_config.max_retries, secrets)
    client = sdk if sdk is not None else sdk_client(client_config, key)
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

