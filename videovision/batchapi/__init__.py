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

The package: this module collects (:class:`BatchCollector`); ``submitting.py`` submits and reconciles,
``polling.py`` collects the replies, ``jobs.py`` holds the job file, the values and what both share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..client import wire_request
from ..models import BATCH_PRICE_FACTOR
from ..store import request_key
from ..types import ChatResult
from ..wires import Wire
from .jobs import (
    CHAT_URL,
    COMPLETION_WINDOW,
    MAX_FILE_BYTES,
    MAX_FILE_LINES,
    SUBMISSION_KEY,
    BatchApiError,
    BatchJob,
    DeferredToBatch,
    LineFailure,
    PollResult,
    batch_cost,
    jobs_path,
    load_jobs,
    pending_ids,
)
from .jobs import _save_jobs as _save_jobs
from .polling import poll
from .submitting import input_line, line_url, reconcile, split_lines, submit

__all__ = [
    "BATCH_PRICE_FACTOR", "CHAT_URL", "COMPLETION_WINDOW", "MAX_FILE_BYTES", "MAX_FILE_LINES", "SUBMISSION_KEY",
    "BatchApiError", "BatchCollector", "BatchJob", "DeferredToBatch", "DeferringClient", "LineFailure", "PollResult",
    "batch_cost", "input_line", "jobs_path", "line_url", "load_jobs", "pending_ids", "poll", "reconcile",
    "split_lines", "submit",
]


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
