"""What the cache remembers of submitted batches (``batchapi/jobs.json``), the values the Batch API
functions return, and the connection and error mapping they share (:mod:`videovision.batchapi`)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from ..endpoint import ClientConfig, sdk_client
from ..errormap import ErrorMapper
from ..errors import VideovisionError
from ..files import atomic_write_text
from ..models import BATCH_PRICE_FACTOR, ModelSpec, estimate_cost
from ..store import Cache
from ..types import ChatResult, Usage
from ..wires import DEFAULT, wire_for

log = logging.getLogger("videovision")

CHAT_URL: Final = "/v1" + wire_for(DEFAULT).path
"""The default wire's Batch API ``url`` (``/v1/chat/completions``)."""
COMPLETION_WINDOW: Final = "24h"
"""The only window OpenAI offers."""
SUBMISSION_KEY: Final = "videovision_submission"
"""Batch metadata key naming the submission (see ``BatchJob.submission``)."""
MAX_FILE_BYTES = 200 * 1024 * 1024
"""OpenAI's cap on one batch input file."""
MAX_FILE_LINES = 50_000
"""OpenAI's cap on requests in one batch."""
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


def batch_cost(spec: str | ModelSpec, usage: Usage) -> float | None:
    """Estimated USD of a reply (or a plan's estimate) through the Batch API: 50 % of the list price.

    Returns:
        USD, or None when a needed price is unknown.
    """
    full = estimate_cost(spec, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens, usage.cache_write_tokens)
    return None if full is None else full * BATCH_PRICE_FACTOR


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


def _replace_job(store: Cache, job: BatchJob, **changes: Any) -> BatchJob:
    new = replace(job, **changes)
    _update_jobs(store, lambda old: [new if j.submission == job.submission and j.batch_id == job.batch_id
                                     else j for j in old])
    return new


def _connect(client_config: ClientConfig, sdk: Any | None) -> tuple[Any, ErrorMapper, tuple[str, ...]]:
    """The SDK client (``sdk`` when given), the error mapper and the secrets to scrub, for one call."""
    key = client_config.resolved_api_key()
    secrets = tuple(s for s in (client_config.api_key, key) if s)
    mapper = ErrorMapper(client_config.endpoint, client_config.timeout, client_config.max_retries, secrets)
    client = sdk if sdk is not None else sdk_client(client_config, key)
    return client, mapper, secrets


def _mapped(mapper: ErrorMapper, err: BaseException, model: str) -> VideovisionError:
    import openai

    if isinstance(err, VideovisionError):
        return err
    if isinstance(err, openai.OpenAIError):
        return mapper.map(err, model)
    return BatchApiError(f"Batch API: {mapper.clean(str(err))}")
