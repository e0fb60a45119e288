"""The worker side of a batch, shared by the local process pool and Ray: one job (a video to plan, or to
transcribe), what comes back, and making a worker process ready once.

A worker is given the driver's log level, model table, cache path and environment (a pool worker the whole
environment, as a fork server keeps the one it started with; a Ray task on another machine the
``VIDEOVISION_*``/``TIKTOKEN_*`` variables only); its log records travel back with the result.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ..client import stops_run
from ..endpoint import ClientConfig
from ..errors import CacheError, VideovisionError
from ..plan import Plan, TaskConfig
from ..speech.transcript import Transcript
from ..store import Cache

log = logging.getLogger("videovision")

__all__ = ["FORWARDED_ENV_PREFIXES", "Job", "Prepared", "WorkerSetup", "init_process_worker", "models_for",
           "one_line", "prepare", "ready", "stops"]

FORWARDED_ENV_PREFIXES = ("VIDEOVISION_", "TIKTOKEN_", "DATA_GYM_")
"""Environment variables a Ray task sees as the driver had them (cache and tokenizer locations). The
rest of a node's environment is its own (PATH, HOME... differ between machines)."""


@dataclass(frozen=True)
class Job:
    video: str
    task: str
    config: TaskConfig
    endpoint: ClientConfig


@dataclass(frozen=True)
class Prepared:
    """What a worker sends back: the plan (or the transcript), or the failure's one-line message."""

    plan: Plan | None = None
    transcript: Transcript | None = None
    error: str | None = None
    stops: bool = False
    """The error would repeat for every video (a refused key, an unknown model)."""
    logs: tuple[tuple[int, str], ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process needs before its first job."""

    cache_dir: str | None
    log_level: int
    models: tuple
    """The driver's model table entries the plans use (:func:`models_for`)."""
    environ: tuple[tuple[str, str], ...]
    whole_environment: bool = False
    """True: ``environ`` replaces the worker's environment (a local pool); False: it is added (Ray)."""

    @classmethod
    def of(cls, cache_dir: str | None, log_level: int, models: tuple, environ: Mapping[str, str] | None = None,
           *, whole_environment: bool = False) -> WorkerSetup:
        env = os.environ if environ is None else environ
        items = env.items() if whole_environment else (
            (k, v) for k, v in env.items() if k.startswith(FORWARDED_ENV_PREFIXES))
        return cls(cache_dir, log_level, models, tuple(sorted(items)), whole_environment)


_cache: Cache | None = None
_applied: WorkerSetup | None = None
_setup_lock = threading.Lock()


def ready(setup: WorkerSetup) -> None:
    """Make this worker process ready for ``setup``, once (Ray reuses a worker for many tasks)."""
    global _applied, _cache
    from ..models import register_model

    with _setup_lock:
        if _applied == setup:
            return
        if setup.whole_environment:
            os.environ.clear()
        os.environ.update(dict(setup.environ))
        for spec in setup.models:
            register_model(spec)
        log.setLevel(setup.log_level)
        log.propagate = False  # records travel back to the driver with the result (Prepared.logs)
        old = _cache
        try:
            _cache = Cache(setup.cache_dir) if setup.cache_dir is not None else None
        except CacheError as err:  # this node cannot use that path: plans are made without a cache
            log.warning("no frame cache on this node: %s", err)
            _cache = None
        if old is not None:
            old.close()
        _applied = setup


def init_process_worker(setup: WorkerSetup) -> None:
    """The process pool's initializer: Ctrl-C is the parent's to handle, then :func:`ready`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ready(setup)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def prepare(job: Job) -> Prepared:
    """make_plan (or transcribe_video) for one video, in a worker process."""
    from ..pipeline import make_plan, transcribe_video
    from ..tasks import task_named

    started = time.monotonic()
    collect = _Collect()
    log.addHandler(collect)
    try:
        if not task_named(job.task).plans:  # the speech alone (transcript)
            transcript = transcribe_video(job.video, job.config.speech, endpoint=job.endpoint, cache=_cache,
                                          concurrency=job.config.concurrency)
            return Prepared(transcript=transcript, logs=tuple(collect.records), seconds=time.monotonic() - started)
        plan = make_plan(job.video, job.config, cache=_cache, endpoint=job.endpoint, transcribe=True)
        return Prepared(plan=plan, logs=tuple(collect.records), seconds=time.monotonic() - started)
    except Exception as err:  # one bad file never stops the batch; the parent records the message
        return Prepared(error=one_line(err), stops=stops(err), logs=tuple(collect.records),
                        seconds=time.monotonic() - started)
    finally:
        log.removeHandler(collect)


def stops(err: BaseException) -> bool:
    """Whether ``err`` would repeat for every video (a refused key, an unknown model)."""
    from ..errors import RequestError

    return isinstance(err, RequestError) and stops_run(err)


def models_for(config: TaskConfig) -> tuple:
    """The model table entries the workers need (a models file loaded here is not loaded there)."""
    from ..models import resolve_model

    names = {config.pack.model, config.speech.transcribe_model}
    specs = [resolve_model(n) for n in names if n]
    return tuple(s for s in specs if s.known)


def one_line(err: BaseException) -> str:
    """An error as the one line a batch records."""
    text = " ".join(str(err).split())
    if isinstance(err, VideovisionError):
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
