"""Send a run's requests: from the cache when the same request (to the same endpoint) was answered
before, else through the client; count, price and log each one; stop the run after an error that
would repeat on every request; on Ctrl-C let the replies in flight land in the cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .client import ChatClient, billed_usage, stops_run
from .errors import ConfigError, RequestError, VideovisionError
from .models import estimate_cost
from .plan import Plan
from .redact import scrub_secrets
from .store import Cache, request_key
from .types import ChatResult, Usage


@dataclass
class Asker:
    """Sends requests (or finds them in the cache), counts, logs, and stops the run after an
    authentication failure."""

    client: ChatClient | None
    cache: Cache | None
    plan: Plan
    run_id: str
    requests_made: int = 0
    cache_hits: int = 0
    usage: Usage = Usage()
    cost: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: BaseException | None = None
    """Set by an error that would repeat on every request (401/403, unknown model, quota, wrong
    path): no new request is sent after it."""

    @property
    def endpoint(self) -> str:
        if self.client is None:
            raise ConfigError("no client to send the request with")
        return self.client.endpoint

    def ask(self, body: dict, on_text: Callable[[str], None] | None = None) -> ChatResult:
        key = request_key(body, endpoint=self.endpoint)
        started = time.monotonic()
        hit = self.cache.responses.get(key) if self.cache is not None else None
        model = body["model"]
        if hit is not None:
            with self.lock:
                self.cache_hits += 1
                self.usage = self.usage + hit.usage  # tokens of the answer, though not paid again
            self._log(model, hit, key, started, cached=True)
            return hit
        assert self.client is not None  # self.endpoint raised otherwise
        if self.stopped is not None:
            raise self.stopped
        try:
            result = self.client.complete(body, on_text=on_text)
        except RequestError as err:
            if stops_run(err):  # a wrong key, model or endpoint: every further request would fail too
                self.stopped = err
            self._log(model, ChatResult("", billed_usage(err), model), key, started, cached=False,
                      status=type(err).__name__)
            raise
        cost = estimate_cost(self.plan.spec, result.usage.prompt_tokens, result.usage.completion_tokens)
        with self.lock:
            self.requests_made += 1
            self.usage = self.usage + result.usage
            self.cost += cost or 0.0
        if self.cache is not None:
            secrets = tuple(getattr(self.client, "secrets", ()))
            self.cache.responses.put(key, result, body=body, scrub=lambda text: scrub_secrets(text, secrets))
        self._log(model, result, key, started, cached=False, cost=cost)
        return result

    def _log(self, model: str, result: ChatResult | None, key: str, started: float, *, cached: bool,
             status: str = "ok", cost: float | None = None) -> None:
        if self.cache is None:
            return
        usage = result.usage if result is not None else Usage()
        if cost is None and not cached and result is not None:
            cost = estimate_cost(self.plan.spec, usage.prompt_tokens, usage.completion_tokens)
        self.cache.log.add(
            run_id=self.run_id, model=model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, estimated_cost_usd=0.0 if cached else cost,
            duration_s=time.monotonic() - started, cached=cached, request_key=key, task=self.plan.prompt.task,
            video=self.plan.video.path, endpoint=self.endpoint, status=status,
        )


def ask_all(asker: Asker, bodies: list[dict], concurrency: int) -> list[ChatResult]:
    """Send map requests, ``concurrency`` at a time. Every finished reply is cached even when another
    fails or the run is interrupted: on Ctrl-C no new request starts, the ones in flight finish and
    are stored, then the interruption goes on."""
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    futures = [pool.submit(asker.ask, body) for body in bodies]
    results: list[ChatResult] = []
    first_error: BaseException | None = None
    try:
        for f in futures:
            try:
                results.append(f.result())
            except VideovisionError as err:
                first_error = first_error or err
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        _drain(futures)
        raise
    pool.shutdown(wait=True)
    if first_error is not None:
        raise first_error
    return results


def _drain(futures: list) -> None:
    """Wait for the requests already in flight (their replies are paid for: let them be cached).
    A second Ctrl-C stops waiting."""
    try:
        for f in futures:
            if not f.cancelled():
                try:
                    f.result()
                except Exception:  # their errors do not matter any more (a Ctrl-C does: see below)
                    pass
    except KeyboardInterrupt:
        pass
