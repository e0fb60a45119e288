"""The batch loop: digests and skips in the driver, plans in workers (a process pool or Ray), requests in
threads with ``concurrency`` in flight across all videos, results written here as each video ends."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..batchapi import BatchCollector, DeferredToBatch
from ..client import ChatClient
from ..endpoint import ClientConfig
from ..errors import ConfigError, VideovisionError
from ..plan import Plan, TaskConfig
from ..speech.transcript import Transcript
from ..store import Cache, default_cache_dir, file_digest
from ..types import BatchTask
from .executors import available_cpus, make_executor, stop_workers
from .inputs import VideoInput, videos_of
from .keys import video_key
from .options import BATCH_TASKS, BatchOptions
from .outputs import BatchProgressCallback, BatchSummary, Outputs, index_row
from .worker import Job, Prepared, one_line, prepare, stops

log = logging.getLogger("videovision")

__all__ = ["BATCH_TASKS", "COST_CAP_REACHED", "WAITING", "BatchOptions", "PlannedVideo", "plan_batch", "run_batch"]

COST_CAP_REACHED = "total cost cap reached"
WAITING = "waiting for the OpenAI Batch API: run the same batch again to complete it"


class _NotRun(VideovisionError):
    """A video not sent because an earlier one hit an error every request would repeat."""


class _Wrapped:
    """A ChatClient around another: the same endpoint and secrets."""

    def __init__(self, client: ChatClient):
        self._client = client

    @property
    def endpoint(self) -> str:
        return self._client.endpoint

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(getattr(self._client, "secrets", ()))

    def wire_request(self, body: Any) -> tuple[Any, dict]:
        """The wrapped client's wire and exact body (the reply cache's key), else ``body`` as it is."""
        inner = getattr(self._client, "wire_request", None)
        if inner is not None:
            return inner(body)
        from ..wires import wire_of_body

        return wire_of_body(body), body


class _Bounded(_Wrapped):
    """A ChatClient whose requests share ``slots`` with every other video of the batch."""

    def __init__(self, client: ChatClient, slots: threading.Semaphore):
        super().__init__(client)
        self._slots = slots

    def complete(self, body: dict, *, on_text: Callable[[str], None] | None = None):
        with self._slots:
            return self._client.complete(body, on_text=on_text)


class _Metered(_Wrapped):
    """A ChatClient that adds up what its replies cost (at list prices): what a video that fails
    after some of its requests were answered still paid."""

    def __init__(self, client: ChatClient, plan: Plan):
        super().__init__(client)
        self._plan = plan
        self._lock = threading.Lock()
        self.cost_usd = 0.0

    def complete(self, body: dict, *, on_text: Callable[[str], None] | None = None):
        from ..models import estimate_cost

        result = self._client.complete(body, on_text=on_text)
        u = result.usage
        cost = estimate_cost(self._plan.spec, u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.cache_write_tokens)
        with self._lock:
            self.cost_usd += cost or 0.0
        return result


class _PaidFailure(VideovisionError):
    """A video that failed after requests of it were paid: the error, and what they cost."""

    def __init__(self, message: str, cost_usd: float):
        super().__init__(message)
        self.cost_usd = cost_usd


@dataclass
class _Pending:
    video: VideoInput
    key: str
    prepared: Prepared | None = None
    reserved: float = 0.0
    pool: Executor | None = None
    """The pool its plan was submitted to (a broken pool is replaced once)."""


def run_batch(
    inputs: Sequence[VideoInput] | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    config: TaskConfig,
    client_factory: Callable[[], ChatClient] | None = None,
    *,
    options: BatchOptions | None = None,
    progress: BatchProgressCallback | None = None,
    collector: BatchCollector | None = None,
    **changes: Any,
) -> BatchSummary:
    """Run one task over many videos; resumable (see the module docstring).

    Args:
        inputs: :class:`VideoInput` values, or paths / folders / globs for :func:`find_videos`.
        out_dir: where results, ``index.jsonl`` and ``search.db`` go (created).
        config: the task's options (its prompt's task is set to the batch's task; ``ask`` needs its questions).
        client_factory: makes the one chat client the batch shares, called when the first request is
            due (default: :class:`~videovision.client.OpenAIChatClient` over the options' endpoint).
        options: how the batch runs (:class:`BatchOptions`: task, endpoint, cache, jobs, concurrency,
            cost cap, reports, executor); default ``BatchOptions()``.
        progress: called with a :class:`BatchProgress` after each video.
        collector: OpenAI Batch API (:mod:`videovision.batchapi`): requests not in the cache are
            collected here instead of sent, and their videos recorded ``pending``.
        changes: :class:`BatchOptions` fields by name, applied over ``options``
            (``run_batch(..., task="ask", jobs=2)``).

    Returns:
        The :class:`BatchSummary`.

    Raises:
        ConfigError: bad options, no video found, ``out_dir`` not writable, no FTS5 in SQLite.
        CacheError: the cache cannot be used.
        KeyboardInterrupt: after stopping the workers; every finished video is in the index.
    """
    opts = BatchOptions.of(options, **changes)
    config = _for_task(config, opts.task)
    endpoint = opts.endpoint if opts.endpoint is not None else ClientConfig.from_env()
    opts = BatchOptions.of(opts, endpoint=endpoint, jobs=opts.jobs if opts.jobs is not None else available_cpus())
    videos = videos_of(inputs)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create {out}: {err.strerror or err}") from err
    runner = _Runner(Outputs(videos, out, progress, opts.report and opts.task != "transcript"), config, opts,
                     client_factory)
    runner.collector = collector
    try:
        runner.run()
    finally:
        runner.close()
    return runner.batch.summary()


def _for_task(config: TaskConfig, task: BatchTask) -> TaskConfig:
    """The config with its prompt's task set to the batch's (``transcript`` sends no prompt)."""
    if task == "transcript":
        return config
    return replace(config, prompt=replace(config.prompt, task=task))


@dataclass(frozen=True)
class PlannedVideo:
    """One video of :func:`plan_batch`: what its run would send and cost (nothing is sent)."""

    video: VideoInput
    requests: int = 0
    """Chat requests (``transcript``: transcription requests) the video would make, at most."""
    cost_usd: float | None = 0.0
    """Estimated cost (output at its limit, a pending transcription included); None: a price unknown."""
    plan: Plan | None = None
    note: str = ""
    error: str | None = None
    """Why the video could not be planned (one line); it would fail in the run too."""

    def to_json(self) -> dict:
        return {"video": self.video.path, "stem": self.video.stem, "requests": self.requests,
                "estimated_cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
                "note": self.note, "error": self.error}


def plan_batch(
    inputs: Sequence[VideoInput] | Sequence[str | os.PathLike],
    config: TaskConfig,
    *,
    options: BatchOptions | None = None,
    cache: Cache | None = None,
    **changes: Any,
) -> list[PlannedVideo]:
    """What :func:`run_batch` would send for each video, and its cost, offline (``batch --dry-run``):
    no chat, transcription, file or batch request is made; a cached transcript is used when there is one.
    ``options`` / ``changes`` as for :func:`run_batch` (its task and endpoint are what count here).

    Raises:
        ConfigError: a bad task, no video found.
    """
    from ..pipeline import estimate_transcript, make_plan
    from ..speech.estimate import SpeechEstimate

    opts = BatchOptions.of(options, **changes)
    task = opts.task
    config = _for_task(config, task)
    endpoint = opts.endpoint if opts.endpoint is not None else ClientConfig.from_env()
    planned = []
    for video in videos_of(inputs):
        try:
            if task == "transcript":
                found = estimate_transcript(video.path, config.speech, endpoint=endpoint, cache=cache)
                if isinstance(found, SpeechEstimate):
                    planned.append(PlannedVideo(video, found.requests, found.cost,
                                                note=f"{found.audio_seconds / 60:.1f} min of audio to transcribe"))
                else:
                    planned.append(PlannedVideo(video, 0, 0.0, note=f"{len(found.segments)} lines from {found.source}"))
                continue
            plan = make_plan(video.path, config, cache=cache, endpoint=endpoint, transcribe=False)
            planned.append(PlannedVideo(video, len(plan.requests), plan.estimated_cost_usd, plan=plan,
                                        note=f"{len(plan.sent_times)} frames"))
        except VideovisionError as err:
            planned.append(PlannedVideo(video, 0, 0.0, error=one_line(err)))
    return planned


class _Runner:
    """The loop: digests and skips here, plans in worker processes, requests in threads, writing here."""

    def __init__(self, batch: Outputs, config: TaskConfig, options: BatchOptions,
                 client_factory: Callable[[], ChatClient] | None):
        assert options.endpoint is not None and options.jobs is not None
        self.batch, self.config, self.task, self.endpoint = batch, config, options.task, options.endpoint
        self.client_factory = client_factory
        cache_path = Path(options.cache_dir).expanduser() if options.cache_dir is not None else default_cache_dir()
        self.cache_dir = os.fspath(cache_path) if options.use_cache else None
        self.jobs, self.concurrency, self.cap = options.jobs, options.concurrency, options.total_max_cost
        self.executor, self.ray_address = options.executor, options.ray_address
        concurrency = options.concurrency
        self.collector: BatchCollector | None = None
        self.cache: Cache | None = None
        self.client: ChatClient | None = None
        self.slots = threading.Semaphore(concurrency)
        self._lock = threading.Lock()
        self.halt: str | None = None
        self.interrupted = False
        """Stopped by an exception (Ctrl-C): requests in flight finish in their threads, unwaited."""
        self.pool: Executor | None = None
        self.threads = ThreadPoolExecutor(concurrency, thread_name_prefix="videovision-batch")

    # -- the loop
    def run(self) -> None:
        todo = self._todo()
        if not todo:
            return
        window = self.jobs + self.concurrency  # plans made but not yet sent stay few: memory is bounded
        planning: dict[Future, _Pending] = {}
        running: dict[Future, _Pending] = {}
        queue = list(reversed(todo))
        if self.executor == "ray" and self.pool is None:  # a cluster that cannot be joined fails here, cleanly
            self.pool = self._executor()
        try:
            while queue or planning or running:
                while queue and len(planning) + len(running) < window:
                    item = queue.pop()
                    planning[self._submit(item)] = item
                finished, _ = wait([*planning, *running], return_when=FIRST_COMPLETED)
                for future in finished:
                    if future in planning:
                        self._planned(planning.pop(future), future, running)
                    else:
                        self._ran(running.pop(future), future)
        except BaseException:
            self.interrupted = True
            if self.pool is not None:
                stop_workers(self.pool)
                self.pool = None
            self.threads.shutdown(wait=False, cancel_futures=True)
            raise

    def _todo(self) -> list[_Pending]:
        """Each video's key; the unchanged ones skipped (one index write for them all)."""
        endpoint_url = self.endpoint.endpoint
        cache = self._cache()  # remembers digests by (path, size, mtime, inode): a re-run reads no video
        digest = cache.frames.file_digest if cache is not None else file_digest
        todo = []
        for video in self.batch.videos:
            started = time.monotonic()
            try:
                key = video_key(digest(video.path), self.task, self.config, endpoint_url)
            except VideovisionError as err:
                self.batch.record(index_row(video, "failed", error=one_line(err), seconds=time.monotonic() - started),
                                  write=False)
                continue
            if self.batch.unchanged(video, key):
                old = self.batch.previous[video.stem]
                self.batch.record(index_row(video, "skipped", result=old.get("result"), key=key), write=False)
            else:
                todo.append(_Pending(video, key))
        self.batch.write_index()
        return todo

    def _executor(self) -> Executor:
        return make_executor(self.executor, self.jobs, self.cache_dir, self.config, self.ray_address)

    def _submit(self, item: _Pending) -> Future:
        if self.pool is None:
            self.pool = self._executor()
        item.pool = self.pool
        return self.pool.submit(prepare, Job(item.video.path, self.task, self.config, self.endpoint))

    def _planned(self, item: _Pending, future: Future, running: dict[Future, _Pending]) -> None:
        try:
            prepared: Prepared = future.result()
        except BrokenProcessPool as err:  # a worker died (a decoder crash, out of memory): a new pool
            if item.pool is self.pool and self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
            prepared = Prepared(error=f"the worker process making the plan died ({one_line(err)})")
        item.prepared = prepared
        for level, message in prepared.logs:
            log.log(level, "%s: %s", item.video.path, message)
        if prepared.error is not None:
            if prepared.stops:
                self.halt = prepared.error
            self._fail(item, prepared.error)
        elif prepared.transcript is not None:
            self._finish_transcript(item, prepared.transcript)
        elif self.halt is not None:
            self._fail(item, f"not run: {self.halt}")
        else:
            assert prepared.plan is not None
            if not self._reserve(item, prepared.plan):
                self.batch.record(index_row(item.video, "skipped", error=COST_CAP_REACHED, seconds=prepared.seconds))
                return
            running[self.threads.submit(self._run_plan, prepared.plan)] = item

    def _reserve(self, item: _Pending, plan: Plan) -> bool:
        """Whether the plan's estimate fits the cap with the spend so far and the videos in flight."""
        if self.cap is None:
            return True
        estimate = plan.estimated_cost_usd
        refine = plan.refine_estimate.cost_usd if plan.refine_estimate is not None else 0.0
        estimate = None if estimate is None or refine is None else estimate + refine  # the worst case
        if estimate is None or self.batch.spent + self.batch.reserved + estimate > self.cap:
            return False
        item.reserved = estimate
        self.batch.reserved += estimate
        return True

    def _run_plan(self, plan: Plan):
        """run_plan in a request thread; an error every request would repeat stops the videos after it."""
        from ..pipeline import run_plan

        if self.halt is not None:
            raise _NotRun(f"not run: {self.halt}")
        started = time.monotonic()
        try:
            if self.collector is not None:  # the Batch API: collect what the cache lacks, send nothing
                scope = self.collector.scope()
                result = run_plan(plan, scope, cache=self._cache())
                if scope.deferred:  # the refine pass keeps going past a failed request: not finished
                    raise DeferredToBatch(WAITING)
                return result, time.monotonic() - started
            meter = _Metered(self._client(), plan)
            try:
                return run_plan(plan, meter, cache=self._cache()), time.monotonic() - started
            except VideovisionError as err:
                if meter.cost_usd > 0:
                    if stops(err):
                        self.halt = self.halt or one_line(err)
                    raise _PaidFailure(one_line(err), meter.cost_usd) from err
                raise
        except VideovisionError as err:
            if stops(err):
                self.halt = self.halt or one_line(err)
            raise

    def _ran(self, item: _Pending, future: Future) -> None:
        self.batch.reserved -= item.reserved
        assert item.prepared is not None and item.prepared.plan is not None
        try:
            result, seconds = future.result()
        except DeferredToBatch:
            self.batch.record(index_row(item.video, "pending", error=WAITING, seconds=item.prepared.seconds), worked=True)
            return
        except Exception as err:  # one bad video never stops the batch
            self._fail(item, one_line(err), cost=err.cost_usd if isinstance(err, _PaidFailure) else 0.0)
            return
        plan = item.prepared.plan
        data = {"video": item.video.path, **result.to_json()}
        if self.batch.report:
            try:
                self.batch.write_report(item.video, result)
            except Exception as err:  # a page that cannot be made fails this video only
                self._fail(item, f"HTML report: {one_line(err)}")
                return
        name = self.batch.write_result(item.video, data, plan.speech.segments)
        tokens = result.usage.prompt_tokens + result.usage.completion_tokens
        self.batch.record(index_row(item.video, "ok", result=name, tokens=tokens, cost=result.estimated_cost_usd or 0.0,
                               seconds=item.prepared.seconds + seconds, key=item.key), worked=True)

    def _finish_transcript(self, item: _Pending, transcript: Transcript) -> None:
        assert item.prepared is not None
        data = {"video": item.video.path, **transcript.to_json()}
        name = self.batch.write_result(item.video, data, transcript.segments)
        self.batch.record(index_row(item.video, "ok", result=name, seconds=item.prepared.seconds, key=item.key),
                          worked=True)

    def _fail(self, item: _Pending, message: str, cost: float = 0.0) -> None:
        seconds = item.prepared.seconds if item.prepared is not None else 0.0
        self.batch.record(index_row(item.video, "failed", error=message, seconds=seconds, cost=cost), worked=True)

    # -- shared resources, made when first needed (a batch with nothing to do sends nothing)
    def _client(self) -> _Bounded:
        with self._lock:
            if self.client is None:
                if self.client_factory is not None:
                    self.client = self.client_factory()
                else:
                    from ..client import OpenAIChatClient

                    self.client = OpenAIChatClient(self.endpoint)
            return _Bounded(self.client, self.slots)

    def _cache(self) -> Cache | None:
        with self._lock:
            if self.cache is None and self.cache_dir is not None:
                self.cache = Cache(self.cache_dir)
            return self.cache

    def close(self) -> None:
        self.batch.close()
        if self.interrupted:  # threads may still be sending: they hold the client and the cache
            return
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        self.threads.shutdown(wait=True)
        for thing in (self.client, self.cache):
            close = getattr(thing, "close", None)
            if close is not None:
                close()
