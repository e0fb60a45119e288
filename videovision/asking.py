"""Send a run's requests: from the cache when the same request (to the same endpoint) was answered
before, else through the client; count, price and log each one; stop the run after an error that
would repeat on every request; on Ctrl-C let the replies in flight land in the cache."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .client import ChatClient, billed_usage, stops_run
from .errors import CacheError, ConfigError, RequestError, UsageMismatchError, VideovisionError
from .models import ModelSpec, estimate_cost
from .packing import ProviderLimits
from .plan import Plan
from .redact import scrub_secrets
from .store import Cache, request_key
from .types import ChatResult, Usage
from .wires import wire_of_body

log = logging.getLogger("videovision")

USAGE_CHECK_RATIO = 0.5
"""A reply whose input tokens are below this share of its images' predicted tokens did not count the
images (a text-only model, a proxy or server that drops them). Image counts are exact for known
models (docs/tokens.md), so half is far outside any rounding."""


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands: the one progress type of ``make_plan``, ``extract_frames`` and
    ``run_plan`` (their ``progress`` callback receives it).

    ``stage`` is ``"sampling"`` while the video is decoded (``done``/``total``: seconds of video)
    and ``"requests"`` while replies are awaited (``done``/``total``: requests)."""

    done: float
    """Replies received (or found in the cache); seconds decoded while sampling."""
    total: float
    """Requests the run will make as far as known (the refine pass adds its own when it starts);
    the seconds to decode while sampling."""
    running: int
    """Requests sent and waiting for their reply (0 while sampling)."""
    elapsed: float
    """Seconds since the stage started."""
    stage: Literal["sampling", "requests"] = "requests"


RunProgressCallback = Callable[[RunProgress], None]


def usage_shortfall(usage: Usage, image_tokens: int, limits: ProviderLimits) -> str | None:
    """Why a reply's usage shows the images were not read, or None when it looks right (or cannot
    be judged: no images, a provider that does not bill them, no usage reported)."""
    counted = usage.prompt_tokens + usage.cached_tokens  # some servers report cached tokens apart
    if not limits.bills_images or image_tokens <= 0:
        return None
    if usage.image_tokens is not None:  # the reply says what its images cost: no guessing from the total
        if usage.image_tokens >= USAGE_CHECK_RATIO * image_tokens:
            return None
        return (f"the endpoint reported {usage.image_tokens:,} image tokens for images that cost {image_tokens:,}: "
                "it probably did not read (all) the images (a text-only model, or a proxy or server that drops them)")
    if usage.prompt_tokens <= 0:
        return None
    if counted >= USAGE_CHECK_RATIO * image_tokens:
        return None
    return (f"the endpoint counted {counted:,} input tokens for a request whose images alone cost {image_tokens:,}: "
            "it probably did not read the images (a text-only model, or a proxy or server that drops them)")


def _exact(spec: ModelSpec) -> bool:
    """The model's image tokens follow a known rule (not a conservative guess)."""
    return spec.known and spec.image_rule != "undocumented"


@dataclass
class Asker:
    """Sends requests (or finds them in the cache), counts, prices, checks usage, logs, reports
    progress, and stops the run after an error every further request would repeat."""

    client: ChatClient | None
    cache: Cache | None
    plan: Plan
    run_id: str
    progress: RunProgressCallback | None = None
    total: int = 0
    """Requests expected (for progress)."""
    requests_made: int = 0
    cache_hits: int = 0
    usage: Usage = Usage()
    cost: float = 0.0
    warnings: list[str] = field(default_factory=list)
    """One line per reply whose usage shows its images were not read (see :func:`usage_shortfall`)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: BaseException | None = None
    """Set by an error that would repeat on every request (401/403, unknown model, quota, wrong
    path): no new request is sent after it."""
    task: str | None = None
    """The task the run log names (default: the plan's prompt task; ``chat`` for a conversation)."""
    _running: int = 0
    _done: int = 0
    _started: float | None = None

    @property
    def endpoint(self) -> str:
        if self.client is None:
            raise ConfigError("no client to send the request with")
        return self.client.endpoint

    def expect(self, more: int) -> None:
        """``more`` requests join the run (the reduce step, the refine pass)."""
        with self.lock:
            self.total += more
        self._report()

    def _report(self) -> None:
        if self.progress is None:
            return
        with self.lock:
            elapsed = 0.0 if self._started is None else time.monotonic() - self._started
            state = RunProgress(self._done, max(self.total, self._done + self._running), self._running, elapsed)
        self.progress(state)

    def _moved(self, running: int, done: int) -> None:
        with self.lock:
            if self._started is None:
                self._started = time.monotonic()
            self._running += running
            self._done += done
        self._report()

    def ask(self, body: dict, on_text: Callable[[str], None] | None = None, *, image_tokens: int = 0) -> ChatResult:
        """One reply: from the cache, else from the endpoint (cached, priced and logged).

        The cache key is the exact body the client's wire sends and the wire's endpoint
        (``Wire.cache_endpoint``): a client without ``wire_request`` sends ``body`` as it is.

        Args:
            body: the request (a wire's body, or a neutral request).
            on_text: streaming callback.
            image_tokens: the images' predicted tokens, for the usage check (0: no check).

        Raises:
            RequestError; UsageMismatchError with ``plan.config.strict`` when the usage shows the
            images were not read (the reply is cached first: it was paid for).
        """
        body, key = self._keyed(body)
        started = time.monotonic()
        hit = self.cache.responses.get(key) if self.cache is not None else None
        model = body["model"]
        if hit is not None:
            with self.lock:
                self.cache_hits += 1
                self.usage = self.usage + replace(hit.usage, cached_tokens=0)  # tokens of the answer, not paid again
            self._moved(0, 1)
            self._log(model, hit, key, started, cached=True)
            self._check(hit, image_tokens)
            return hit
        assert self.client is not None  # self.endpoint raised otherwise
        if self.stopped is not None:
            raise self.stopped
        self._moved(1, 0)
        client = self.client
        interrupted = False
        try:
            result, interrupted = _landing(lambda: client.complete(body, on_text=on_text))
        except RequestError as err:
            if stops_run(err):  # a wrong key, model or endpoint: every further request would fail too
                self.stopped = err
            self._log(model, ChatResult("", billed_usage(err), model), key, started, cached=False,
                      status=type(err).__name__)
            raise
        finally:
            self._moved(-1, 1)
        u = result.usage
        cost = estimate_cost(self.plan.spec, u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.cache_write_tokens)
        with self.lock:
            self.requests_made += 1
            self.usage = self.usage + u
            self.cost += cost or 0.0
        empty = not result.text.strip()
        if self.cache is not None and not empty:  # an empty answer is paid for (and warned of), never replayed
            secrets = tuple(getattr(self.client, "secrets", ()))
            try:
                self.cache.responses.put(key, result, body=body, scrub=lambda text: scrub_secrets(text, secrets))
            except CacheError as err:  # a full disk: the paid answer is still given, once warned
                self._warn(f"the reply could not be cached ({err}); a re-run will ask again")
        self._compare_images(u, image_tokens)
        shortfall = usage_shortfall(u, image_tokens if _exact(self.plan.spec) else 0, self.plan.config.pack.limits)
        try:
            self._log(model, result, key, started, cached=False, cost=cost, planned=image_tokens,
                      status="empty-reply" if empty else "ok" if shortfall is None else "images-not-counted")
        except CacheError as err:
            self._warn(f"the request could not be logged ({err})")
        if interrupted:  # the reply in flight has landed: now the interruption goes on
            raise KeyboardInterrupt
        self._check(result, image_tokens)
        return result

    def _keyed(self, body: Any) -> tuple[dict, str]:
        """(the exact body sent, its cache key)."""
        endpoint = self.endpoint
        keying = getattr(self.client, "wire_request", None)
        if keying is not None:
            wire, body = keying(body)
        else:
            wire = wire_of_body(body)
        return body, request_key(body, endpoint=wire.cache_endpoint(endpoint))

    def _warn(self, text: str) -> None:
        with self.lock:
            if text not in self.warnings:
                self.warnings.append(text)

    def _compare_images(self, usage: Usage, image_tokens: int) -> None:
        """A model without a documented image rule: log the budgeted image tokens against the reported ones
        (a models-file entry with the measured rule makes the budget exact)."""
        if _exact(self.plan.spec) or usage.image_tokens is None or image_tokens <= 0:
            return
        log.info("%s: images budgeted at %d tokens, the reply reports %d (%.2fx); OpenAI documents no image "
                    "rule for this model, so the budget is a conservative guess", self.plan.spec.name, image_tokens,
                    usage.image_tokens, usage.image_tokens / image_tokens)

    def _check(self, result: ChatResult, image_tokens: int) -> None:
        if not _exact(self.plan.spec):  # the images' tokens are a conservative guess: nothing to compare
            return
        shortfall = usage_shortfall(result.usage, image_tokens, self.plan.config.pack.limits)
        if shortfall is None:
            return
        if self.plan.config.strict:
            self.stopped = UsageMismatchError(shortfall + " (--strict)")
            raise self.stopped
        with self.lock:
            if shortfall not in self.warnings:
                self.warnings.append(shortfall)

    def _log(self, model: str, result: ChatResult | None, key: str, started: float, *, cached: bool,
             status: str = "ok", cost: float | None = None, planned: int | None = None) -> None:
        if self.cache is None:
            return
        usage = result.usage if result is not None else Usage()
        if cost is None and not cached and result is not None:
            cost = estimate_cost(self.plan.spec, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens, usage.cache_write_tokens)
        self.cache.log.add(
            run_id=self.run_id, model=model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, estimated_cost_usd=0.0 if cached else cost,
            duration_s=time.monotonic() - started, cached=cached, request_key=key, task=self.task or self.plan.prompt.task,
            video=self.plan.video.path, endpoint=self.endpoint, status=status,
            cached_tokens=0 if cached else usage.cached_tokens,
            cache_write_tokens=0 if cached else usage.cache_write_tokens,
            image_tokens=None if cached else usage.image_tokens, planned_image_tokens=planned,
        )


def _landing(call: Callable[[], ChatResult]) -> tuple[ChatResult, bool]:
    """Run a paid request so that Ctrl-C cannot lose its reply: from the main thread the request
    runs in a worker, a first Ctrl-C waits for it to land (a second gives up on it), and the result
    says whether an interruption is pending (raised once the reply is stored). Elsewhere (worker
    threads, which signals never reach) it simply calls."""
    if threading.current_thread() is not threading.main_thread():
        return call(), False
    box: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as err:  # handed to the caller's thread
            box["error"] = err
        finally:
            done.set()

    threading.Thread(target=run, name="videovision-request", daemon=True).start()
    interrupted = False
    while not done.is_set():
        try:
            done.wait()
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            log.warning("interrupted: waiting for the reply in flight (paid for) to land; Ctrl-C again to abandon it")
    if "error" in box:
        if interrupted:
            raise KeyboardInterrupt from box["error"]  # type: ignore[misc]
        raise box["error"]  # type: ignore[misc]
    return box["result"], interrupted  # type: ignore[return-value]


def ask_all(asker: Asker, requests: list[tuple[dict, int]], concurrency: int) -> list[ChatResult]:
    """Send requests ((body, predicted image tokens) each), ``concurrency`` at a time. Every finished
    reply is cached even when another fails or the run is interrupted: on Ctrl-C no new request
    starts, the ones in flight finish and are stored, then the interruption goes on."""
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    futures = [pool.submit(asker.ask, body, image_tokens=tokens) for body, tokens in requests]
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


def ask_each(asker: Asker, requests: list[tuple[dict, int]], concurrency: int) -> list[ChatResult | VideovisionError]:
    """Like :func:`ask_all`, but a failed request gives its error in its place instead of failing
    the others; an error that stops the run (a wrong key, spent quota, ``strict``) is raised."""
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    futures = [pool.submit(asker.ask, body, image_tokens=tokens) for body, tokens in requests]
    results: list[ChatResult | VideovisionError] = []
    try:
        for f in futures:
            try:
                results.append(f.result())
            except VideovisionError as err:
                if asker.stopped is not None:
                    raise
                results.append(err)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        _drain(futures)
        raise
    pool.shutdown(wait=True)
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
