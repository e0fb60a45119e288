"""Many videos over the same pipeline: ``videovision batch INPUT... --out DIR``.

    find_videos   files, folders (recursive, video extensions) and globs -> [VideoInput] with unique stems
    run_batch     per video: make_plan in a worker process (``jobs`` at a time), then run_plan in this
                  process with requests in flight bounded across all videos (``concurrency``)

What a batch writes into ``out_dir``:

    <stem>.json    the video's result (``TaskResult.to_json()`` plus ``video``; the transcript JSON for
                   task ``transcript``), written atomically
    <stem>.html    with ``report``: its HTML report (:mod:`videovision.report`), written first
    index.jsonl    one row per video: {"video", "stem", "status": "ok"|"failed"|"skipped", "result",
                   "error", "tokens", "cost_usd", "seconds", "key"}, rewritten atomically after
                   each video (a Ctrl-C keeps every finished video; never a half line)
    search.db      the SQLite FTS5 index of :mod:`videovision.search`, updated after each video

Resuming: a video whose ``key`` (content digest + task + options + videovision version + endpoint)
matches its row from an earlier run, and whose result file is still there, is ``skipped``
without decoding or sending anything; a failed video, a changed one or a missing result runs again.
``total_max_cost`` skips (``error``: "total cost cap reached") a video whose estimate would take the
spend so far, plus the estimates of the videos in flight, past the cap; it runs on a later batch.

Exit codes for the CLI (:attr:`BatchSummary.exit_code`): 0 every video ok or skipped, 8 some
failed (partial failure), 7 every video failed.

Worker processes come from a fork server with videovision preloaded (``spawn`` where there is
none; never a fork of this process, which holds threads and SQLite connections); each is given
this process's environment, log level and model table. The plan travels back pickled (measured on
samples/demo.mp4: 0.76 MB, pickled in < 1 ms, against 90 ms to make the plan again from the shared
frame cache); the frames are also stored in the cache (SQLite WAL, shared by processes), so a
later run of the video reuses them. Requests are sent from this process only, ``concurrency`` at
a time across all videos; plans made but not yet sent are at most ``jobs + concurrency``.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

from . import defaults
from ._version import __version__
from .batchapi import BatchCollector, DeferredToBatch
from .client import ChatClient, stops_run
from .endpoint import ClientConfig
from .errors import EXIT_ALL_FAILED, EXIT_PARTIAL, EXIT_PENDING, ConfigError, VideovisionError
from .files import atomic_write_text
from .paths import path_text
from .plan import Plan, TaskConfig
from .scaleout import ExecutorName, check_executor
from .speech.transcript import Segment, Transcript
from .store import Cache, default_cache_dir, file_digest
from .types import BatchTask

log = logging.getLogger("videovision")

__all__ = [
    "EXIT_ALL_FAILED", "EXIT_OK", "EXIT_PARTIAL", "INDEX_FILENAME", "VIDEO_EXTENSIONS", "BatchProgress",
    "BatchSummary", "BatchTask", "VideoInput", "find_videos", "read_index", "run_batch",
]

BATCH_TASKS: tuple[str, ...] = get_args(BatchTask)
VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".wmv", ".flv",
    ".3gp", ".ogv",
})
"""What a folder walk picks up (compared case-insensitively). A file named on the command line is
taken whatever its extension."""
INDEX_FILENAME = "index.jsonl"
RESULT_SUFFIX = ".json"
REPORT_SUFFIX = ".html"
STEM_MAX_CHARS = 150
"""Longer stems are cut and given a hash of the full relative path (file names stay under 255 bytes)."""
COST_CAP_REACHED = "total cost cap reached"
WAITING = "waiting for the OpenAI Batch API: run the same batch again to complete it"
EXIT_OK = 0
KEY_FORMAT = 1
"""Version of what a video's resume key holds."""

Status = Literal["ok", "failed", "skipped", "pending"]
"""``pending``: the video's requests wait in an OpenAI Batch API batch (``--batch-api``); a later run
completes it."""


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class VideoInput:
    """One video of a batch."""

    path: str
    """The path as found (a file given, or joined from the folder given): shown and stored in the index."""
    stem: str
    """Unique, filesystem-safe name of its outputs (``<stem>.json``), from its path relative to the
    common root of the batch (``week1/talk.mp4`` -> ``week1__talk.mp4``)."""


def find_videos(inputs: Sequence[str | os.PathLike]) -> list[VideoInput]:
    """The videos named by files, folders (walked recursively for :data:`VIDEO_EXTENSIONS`) and globs.

    Args:
        inputs: paths and glob patterns.

    Returns:
        The videos sorted by path, each real file once, with unique output stems.

    Raises:
        ConfigError: an input does not exist or matches nothing, or no video was found at all.
    """
    found: dict[str, str] = {}  # real path -> path as found (the first spelling wins)
    for given in inputs:
        for path in _expand(os.fspath(given)):
            found.setdefault(os.path.realpath(path), path)
    if not found:
        raise ConfigError("no video found in " + ", ".join(os.fspath(i) for i in inputs)
                          + f" (extensions searched in folders: {' '.join(sorted(VIDEO_EXTENSIONS))})")
    paths = sorted(found.values())
    return [VideoInput(p, s) for p, s in zip(paths, _stems(paths))]


def _expand(given: str) -> list[str]:
    if os.path.isdir(given):
        return _walk(given)
    if os.path.exists(given):
        return [given]
    if glob.has_magic(given):
        matches = sorted(glob.glob(given, recursive=True))
        if not matches:
            raise ConfigError(f"{given}: no file matches this pattern")
        return [p for m in matches for p in (_walk(m) if os.path.isdir(m) else [m] if _is_video(m) else [])]
    raise ConfigError(f"{given}: no such file or folder")


def _is_video(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS


def _walk(folder: str) -> list[str]:
    out: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(os.path.join(root, f) for f in sorted(files) if _is_video(f) and not f.startswith("."))
    return out


def _stems(paths: Sequence[str]) -> list[str]:
    absolute = [os.path.abspath(p) for p in paths]
    root = os.path.commonpath([os.path.dirname(p) for p in absolute])
    stems = [_safe_stem(os.path.relpath(p, root)) for p in absolute]
    counts: dict[str, int] = {}
    for s in stems:
        counts[s.casefold()] = counts.get(s.casefold(), 0) + 1
    # a clash after sanitising ("a b/x.mp4" and "a_b/x.mp4"), also on case-insensitive file systems
    return [s if counts[s.casefold()] == 1 else f"{s}-{_short_hash(p)}" for s, p in zip(stems, absolute)]


def _safe_stem(relative: str) -> str:
    parts = [re.sub(r"[^A-Za-z0-9._-]", "_", part).lstrip(".") or "_" for part in Path(relative).parts]
    stem = "__".join(parts)
    return stem if len(stem) <= STEM_MAX_CHARS else f"{stem[:STEM_MAX_CHARS]}-{_short_hash(relative)}"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands (passed to ``run_batch``'s ``progress`` callback after each video)."""

    done: int
    total: int
    cost_usd: float
    """Spent so far in this batch (estimated from the usage billed)."""
    eta_seconds: float | None
    """Time left at the pace of the videos processed so far (None before the first one)."""
    ok: int = 0
    failed: int = 0
    skipped: int = 0


BatchProgressCallback = Callable[[BatchProgress], None]


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did."""

    ok: int
    failed: int
    skipped: int
    cost_usd: float
    seconds: float
    pending: int = 0
    """Videos waiting for the OpenAI Batch API (run the batch again to complete them)."""
    failures: tuple[tuple[str, str], ...] = ()
    """(video path, reason) of each video that failed in this run, in input order."""
    failed_cost_usd: float = 0.0
    """What the failed videos' answered requests cost (paid, no result); included in ``cost_usd``."""

    @property
    def exit_code(self) -> int:
        """0: nothing failed; 8: some videos failed; 7: every video failed; 9: none failed, some wait
        for the Batch API."""
        if self.failed == 0:
            return EXIT_PENDING if self.pending else EXIT_OK
        return EXIT_ALL_FAILED if self.ok == 0 and self.skipped == 0 else EXIT_PARTIAL


def read_index(out_dir: str | os.PathLike) -> list[dict]:
    """The rows of ``out_dir/index.jsonl`` (none when there is no index yet; unreadable lines skipped)."""
    path = Path(out_dir) / INDEX_FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from err
    rows = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("stem"), str):
            rows.append(row)
    return rows


def _row(video: VideoInput, status: Status, *, result: str | None = None, error: str | None = None,
         tokens: int = 0, cost: float = 0.0, seconds: float = 0.0, key: str | None = None) -> dict:
    return {"video": path_text(video.path), "stem": video.stem, "status": status, "result": result, "error": error,
            "tokens": tokens, "cost_usd": round(cost, 6), "seconds": round(seconds, 3), "key": key}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically (:func:`videovision.export.atomic_write_text`); a failure
    is a one-line ConfigError."""
    try:
        atomic_write_text(path, text)
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror or err}") from err


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, VideovisionError):
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one): the default ``jobs``."""
    sched = getattr(os, "sched_getaffinity", None)
    return len(sched(0)) if sched is not None else (os.cpu_count() or 1)


# --------------------------------------------------------------------------- keys
def video_key(digest: str, task: str, config: TaskConfig, endpoint: str) -> str:
    """What decides "unchanged": the video's content, the task, its options, the endpoint and the
    videovision version (a new version may sample or parse differently)."""
    from .models import resolve_model

    options: Any = (asdict(config.speech) if task == "transcript"  # a models file can change a model's table
                    else {**asdict(config), "model_spec": resolve_model(config.pack.model).to_dict()})
    payload = {"f": KEY_FORMAT, "version": __version__, "digest": digest, "task": task, "options": options,
               "endpoint": endpoint}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- worker processes
@dataclass(frozen=True)
class _Job:
    video: str
    task: str
    config: TaskConfig
    endpoint: ClientConfig


@dataclass(frozen=True)
class _Prepared:
    """What a worker sends back: the plan (or the transcript), or the failure's one-line message."""

    plan: Plan | None = None
    transcript: Transcript | None = None
    error: str | None = None
    stops: bool = False
    """The error would repeat for every video (a refused key, an unknown model)."""
    logs: tuple[tuple[int, str], ...] = ()
    seconds: float = 0.0


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


_worker_cache: Cache | None = None


def _init_worker(cache_dir: str | None, log_level: int, models: tuple, environ: dict[str, str]) -> None:
    """Each worker: Ctrl-C is the parent's to handle; the parent's environment now (the fork server
    keeps the one it started with); one cache connection; the parent's model table."""
    global _worker_cache
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environ)
    from .models import register_model

    for spec in models:
        register_model(spec)
    log.setLevel(log_level)
    log.propagate = False  # records travel back to the parent with the result (_Prepared.logs)
    _worker_cache = Cache(cache_dir) if cache_dir is not None else None


def _prepare(job: _Job) -> _Prepared:
    """make_plan (or transcribe_video) for one video, in a worker process."""
    from .pipeline import make_plan, transcribe_video

    started = time.monotonic()
    collect = _Collect()
    log.addHandler(collect)
    try:
        if job.task == "transcript":
            transcript = transcribe_video(job.video, job.config.speech, endpoint=job.endpoint, cache=_worker_cache,
                                          concurrency=job.config.concurrency)
            return _Prepared(transcript=transcript, logs=tuple(collect.records),
                             seconds=time.monotonic() - started)
        plan = make_plan(job.video, job.config, cache=_worker_cache, endpoint=job.endpoint, transcribe=True)
        return _Prepared(plan=plan, logs=tuple(collect.records), seconds=time.monotonic() - started)
    except Exception as err:  # one bad file never stops the batch; the parent records the message
        return _Prepared(error=_one_line(err), stops=_stops(err), logs=tuple(collect.records),
                         seconds=time.monotonic() - started)
    finally:
        log.removeHandler(collect)


def _stops(err: BaseException) -> bool:
    from .errors import RequestError

    return isinstance(err, RequestError) and stops_run(err)


def _models_for(config: TaskConfig) -> tuple:
    """The model table entries the workers need (a models file loaded here is not loaded there)."""
    from .models import resolve_model

    names = {config.pack.model, config.speech.transcribe_model}
    specs = [resolve_model(n) for n in names if n]
    return tuple(s for s in specs if s.known)


WORKER_PRELOAD = ["videovision.batch", "videovision.pipeline"]
"""Imported once by the fork server; each worker is forked from it with them loaded."""


def _worker_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` with videovision preloaded where the OS has it, else ``spawn``: never a plain
    fork of this process (its threads and SQLite connections). Measured on 2 CPUs: 2 workers ready
    in 1.5-1.9 s against 4.4-4.7 s with spawn (each spawned worker imports videovision itself)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WORKER_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _stop_workers(pool: Executor) -> None:
    """Cancel what has not started and end the worker processes (Ctrl-C: their work is lost anyway)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # CPython keeps its workers here
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _ray_planner(runner: _Runner) -> Executor:
    """Plans as Ray tasks running :func:`_prepare` (:mod:`videovision.scaleout`)."""
    from .scaleout import RayPlanner, WorkerSetup

    setup = WorkerSetup.of(runner.cache_dir, log.getEffectiveLevel(), _models_for(runner.config))
    return RayPlanner(runner.jobs, runner.ray_address, setup, lambda error: _Prepared(error=error))


# --------------------------------------------------------------------------- requests
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
        from .models import estimate_cost

        result = self._client.complete(body, on_text=on_text)
        u = result.usage
        cost = estimate_cost(self._plan.spec, u.prompt_tokens, u.completion_tokens, u.cached_tokens)
        with self._lock:
            self.cost_usd += cost or 0.0
        return result


class _PaidFailure(VideovisionError):
    """A video that failed after requests of it were paid: the error, and what they cost."""

    def __init__(self, message: str, cost_usd: float):
        super().__init__(message)
        self.cost_usd = cost_usd


# --------------------------------------------------------------------------- the batch
@dataclass
class _Pending:
    video: VideoInput
    key: str
    prepared: _Prepared | None = None
    reserved: float = 0.0
    pool: Executor | None = None
    """The pool its plan was submitted to (a broken pool is replaced once)."""


class _Batch:
    """The parent's bookkeeping: rows, spend, outputs, index, search index (main thread only)."""

    def __init__(self, videos: Sequence[VideoInput], out_dir: Path, progress: BatchProgressCallback | None,
                 report: bool = False):
        from .search import SearchIndex

        self.out_dir = out_dir
        self.report = report
        self.videos = videos
        self.previous = {row["stem"]: row for row in read_index(out_dir)}
        self.rows: dict[str, dict] = {}
        self.progress = progress
        self.spent = 0.0
        self.reserved = 0.0
        self.started = time.monotonic()
        self.worked = 0
        self.search = SearchIndex(out_dir)

    def unchanged(self, video: VideoInput, key: str) -> bool:
        row = self.previous.get(video.stem)
        wanted = [video.stem + RESULT_SUFFIX] + ([video.stem + REPORT_SUFFIX] if self.report else [])
        return (row is not None and row.get("key") == key and row.get("status") in ("ok", "skipped")
                and not row.get("error") and all((self.out_dir / name).is_file() for name in wanted))

    def record(self, row: dict, *, worked: bool = False, write: bool = True) -> None:
        """Keep a video's row, write the index (unless ``write`` is False: the caller writes it soon), report."""
        self.rows[row["stem"]] = row
        if worked:
            self.worked += 1
        self.spent += row["cost_usd"]
        if row["status"] == "failed":
            self.search.remove(row["stem"])
        if write:
            self.write_index()
        if self.progress is not None:
            self.progress(self._progress())

    def _progress(self) -> BatchProgress:
        counts = {s: sum(r["status"] == s for r in self.rows.values()) for s in ("ok", "failed", "skipped")}
        done = len(self.rows)
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.worked * (len(self.videos) - done) if self.worked else None
        return BatchProgress(done, len(self.videos), round(self.spent, 6), eta, counts["ok"], counts["failed"],
                             counts["skipped"])

    def write_index(self) -> None:
        current = {v.stem for v in self.videos}
        rows = [self.rows[v.stem] for v in self.videos if v.stem in self.rows]
        rows += [self.previous[v.stem] for v in self.videos if v.stem not in self.rows and v.stem in self.previous]
        rows += [r for s, r in self.previous.items() if s not in current]  # earlier batches' videos stay listed
        write_atomic(self.out_dir / INDEX_FILENAME, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))

    def write_result(self, video: VideoInput, data: dict, segments: Sequence[Segment]) -> str:
        name = video.stem + RESULT_SUFFIX
        write_atomic(self.out_dir / name, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        self.search.replace(path_text(video.path), video.stem, data, segments)
        return name

    def write_report(self, video: VideoInput, result: Any) -> None:
        """``<stem>.html``: the run's HTML report (:func:`videovision.report.render_report`)."""
        from .report import render_report

        path = self.out_dir / (video.stem + REPORT_SUFFIX)
        write_atomic(path, render_report(result, video=result.plan.source or video.path, out=path))

    def summary(self) -> BatchSummary:
        p = self._progress()
        pending = sum(r["status"] == "pending" for r in self.rows.values())
        failed = [self.rows[v.stem] for v in self.videos if self.rows.get(v.stem, {}).get("status") == "failed"]
        return BatchSummary(p.ok, p.failed, p.skipped, round(self.spent, 6), time.monotonic() - self.started, pending,
                            tuple((r["video"], r["error"] or "failed") for r in failed),
                            round(sum(r["cost_usd"] for r in failed), 6))

    def close(self) -> None:
        self.search.close()


def run_batch(
    inputs: Sequence[VideoInput] | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    config: TaskConfig,
    client_factory: Callable[[], ChatClient] | None = None,
    *,
    task: BatchTask = "summarize",
    endpoint: ClientConfig | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    concurrency: int = defaults.CONCURRENCY,
    total_max_cost: float | None = None,
    report: bool = False,
    progress: BatchProgressCallback | None = None,
    executor: ExecutorName = "process",
    ray_address: str | None = None,
    collector: BatchCollector | None = None,
) -> BatchSummary:
    """Run one task over many videos; resumable (see the module docstring).

    Args:
        inputs: :class:`VideoInput` values, or paths / folders / globs for :func:`find_videos`.
        out_dir: where results, ``index.jsonl`` and ``search.db`` go (created).
        config: the task's options (its prompt's task is set to ``task``; ``ask`` needs its questions).
        client_factory: makes the one chat client the batch shares, called when the first request is
            due (default: :class:`~videovision.client.OpenAIChatClient` over ``endpoint``).
        task: ``summarize``, ``chapters``, ``ask`` or ``transcript``.
        endpoint: the endpoint (default: from the environment): its URL is part of each video's key,
            and the workers transcribe audio through it.
        cache_dir: the cache directory (default: :func:`~videovision.store.default_cache_dir`).
        use_cache: False: no frame, transcript or reply cache (outputs still resume).
        jobs: worker processes making plans (default: :func:`available_cpus`).
        concurrency: requests in flight at once across all videos.
        total_max_cost: USD cap on the whole batch's estimated spend (None: no cap).
        report: also write each video's HTML report, ``<stem>.html`` (not for ``transcript``).
        progress: called with a :class:`BatchProgress` after each video.
        executor: ``process`` (a local process pool) or ``ray`` (Ray tasks: :mod:`videovision.scaleout`).
        ray_address: with ``ray``, the cluster to join (None: a local Ray runtime of ``jobs`` CPUs).
        collector: OpenAI Batch API (:mod:`videovision.batchapi`): requests not in the cache are
            collected here instead of sent, and their videos recorded ``pending``.

    Returns:
        The :class:`BatchSummary`.

    Raises:
        ConfigError: bad options, no video found, ``out_dir`` not writable, no FTS5 in SQLite.
        CacheError: the cache cannot be used.
        KeyboardInterrupt: after stopping the workers; every finished video is in the index.
    """
    if task not in BATCH_TASKS:
        raise ConfigError(f"task must be one of {', '.join(BATCH_TASKS)} (got {task!r})", field="task")
    jobs = jobs if jobs is not None else available_cpus()
    for name, value in (("jobs", jobs), ("concurrency", concurrency)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number >= 1", field=name)
    check_executor(executor, ray_address)
    if total_max_cost is not None and not total_max_cost >= 0:
        raise ConfigError("total_max_cost must be a number of USD >= 0", field="total_max_cost")
    if task != "transcript":
        config = replace(config, prompt=replace(config.prompt, task=task))
    endpoint = endpoint if endpoint is not None else ClientConfig.from_env()
    videos = _videos(inputs)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create {out}: {err.strerror or err}") from err
    cache_path = os.fspath(Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir())
    runner = _Runner(_Batch(videos, out, progress, report and task != "transcript"), config, task, endpoint,
                     client_factory, cache_path if use_cache else None, jobs, concurrency, total_max_cost,
                     executor, ray_address)
    runner.collector = collector
    try:
        runner.run()
    finally:
        runner.close()
    return runner.batch.summary()


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
    task: BatchTask = "summarize",
    endpoint: ClientConfig | None = None,
    cache: Cache | None = None,
) -> list[PlannedVideo]:
    """What :func:`run_batch` would send for each video, and its cost, offline (``batch --dry-run``):
    no chat, transcription, file or batch request is made; a cached transcript is used when there is one.

    Raises:
        ConfigError: a bad task, no video found.
    """
    from .pipeline import estimate_transcript, make_plan
    from .speech.estimate import SpeechEstimate

    if task not in BATCH_TASKS:
        raise ConfigError(f"task must be one of {', '.join(BATCH_TASKS)} (got {task!r})", field="task")
    if task != "transcript":
        config = replace(config, prompt=replace(config.prompt, task=task))
    endpoint = endpoint if endpoint is not None else ClientConfig.from_env()
    planned = []
    for video in _videos(inputs):
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
            planned.append(PlannedVideo(video, 0, 0.0, error=_one_line(err)))
    return planned


def _videos(inputs: Sequence[VideoInput] | Sequence[str | os.PathLike]) -> list[VideoInput]:
    found = [v for v in inputs if isinstance(v, VideoInput)]
    if found and len(found) == len(inputs):
        return found
    return find_videos([i for i in inputs if not isinstance(i, VideoInput)])


class _Runner:
    """The loop: digests and skips here, plans in worker processes, requests in threads, writing here."""

    def __init__(self, batch: _Batch, config: TaskConfig, task: str, endpoint: ClientConfig,
                 client_factory: Callable[[], ChatClient] | None, cache_dir: str | None, jobs: int,
                 concurrency: int, cap: float | None, executor: ExecutorName = "process",
                 ray_address: str | None = None):
        self.batch, self.config, self.task, self.endpoint = batch, config, task, endpoint
        self.client_factory = client_factory
        self.cache_dir, self.jobs, self.concurrency, self.cap = cache_dir, jobs, concurrency, cap
        self.executor, self.ray_address = executor, ray_address
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
            self.pool = _ray_planner(self)
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
                _stop_workers(self.pool)
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
                self.batch.record(_row(video, "failed", error=_one_line(err), seconds=time.monotonic() - started),
                                  write=False)
                continue
            if self.batch.unchanged(video, key):
                old = self.batch.previous[video.stem]
                self.batch.record(_row(video, "skipped", result=old.get("result"), key=key), write=False)
            else:
                todo.append(_Pending(video, key))
        self.batch.write_index()
        return todo

    def _submit(self, item: _Pending) -> Future:
        if self.pool is None and self.executor == "ray":
            self.pool = _ray_planner(self)
        if self.pool is None:
            self.pool = ProcessPoolExecutor(
                self.jobs, mp_context=_worker_context(), initializer=_init_worker,
                initargs=(self.cache_dir, log.getEffectiveLevel(), _models_for(self.config), dict(os.environ)))
        item.pool = self.pool
        return self.pool.submit(_prepare, _Job(item.video.path, self.task, self.config, self.endpoint))

    def _planned(self, item: _Pending, future: Future, running: dict[Future, _Pending]) -> None:
        try:
            prepared: _Prepared = future.result()
        except BrokenProcessPool as err:  # a worker died (a decoder crash, out of memory): a new pool
            if item.pool is self.pool and self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
            prepared = _Prepared(error=f"the worker process making the plan died ({_one_line(err)})")
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
                self.batch.record(_row(item.video, "skipped", error=COST_CAP_REACHED, seconds=prepared.seconds))
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
        from .pipeline import run_plan

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
                    if _stops(err):
                        self.halt = self.halt or _one_line(err)
                    raise _PaidFailure(_one_line(err), meter.cost_usd) from err
                raise
        except VideovisionError as err:
            if _stops(err):
                self.halt = self.halt or _one_line(err)
            raise

    def _ran(self, item: _Pending, future: Future) -> None:
        self.batch.reserved -= item.reserved
        assert item.prepared is not None and item.prepared.plan is not None
        try:
            result, seconds = future.result()
        except DeferredToBatch:
            self.batch.record(_row(item.video, "pending", error=WAITING, seconds=item.prepared.seconds), worked=True)
            return
        except Exception as err:  # one bad video never stops the batch
            self._fail(item, _one_line(err), cost=err.cost_usd if isinstance(err, _PaidFailure) else 0.0)
            return
        plan = item.prepared.plan
        data = {"video": item.video.path, **result.to_json()}
        if self.batch.report:
            try:
                self.batch.write_report(item.video, result)
            except Exception as err:  # a page that cannot be made fails this video only
                self._fail(item, f"HTML report: {_one_line(err)}")
                return
        name = self.batch.write_result(item.video, data, plan.speech.segments)
        tokens = result.usage.prompt_tokens + result.usage.completion_tokens
        self.batch.record(_row(item.video, "ok", result=name, tokens=tokens, cost=result.estimated_cost_usd or 0.0,
                               seconds=item.prepared.seconds + seconds, key=item.key), worked=True)

    def _finish_transcript(self, item: _Pending, transcript: Transcript) -> None:
        assert item.prepared is not None
        data = {"video": item.video.path, **transcript.to_json()}
        name = self.batch.write_result(item.video, data, transcript.segments)
        self.batch.record(_row(item.video, "ok", result=name, seconds=item.prepared.seconds, key=item.key),
                          worked=True)

    def _fail(self, item: _Pending, message: str, cost: float = 0.0) -> None:
        seconds = item.prepared.seconds if item.prepared is not None else 0.0
        self.batch.record(_row(item.video, "failed", error=message, seconds=seconds, cost=cost), worked=True)

    # -- shared resources, made when first needed (a batch with nothing to do sends nothing)
    def _client(self) -> _Bounded:
        with self._lock:
            if self.client is None:
                if self.client_factory is not None:
                    self.client = self.client_factory()
                else:
                    from .client import OpenAIChatClient

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
