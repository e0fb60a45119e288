"""Where a batch's plans are made: a local process pool (a fork server with videovision preloaded) or Ray
tasks (:mod:`videovision.batch.scaleout`). Both run :func:`videovision.batch.worker.prepare` after
:func:`videovision.batch.worker.ready`; requests are always sent from the driver."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Literal, get_args

from ..errors import ConfigError
from ..plan import TaskConfig
from .worker import Prepared, WorkerSetup, init_process_worker, models_for

log = logging.getLogger("videovision")

__all__ = ["EXECUTORS", "WORKER_PRELOAD", "ExecutorName", "available_cpus", "check_executor", "make_executor",
           "stop_workers"]

ExecutorName = Literal["process", "ray"]
EXECUTORS: tuple[str, ...] = get_args(ExecutorName)
WORKER_PRELOAD = ["videovision.batch.worker", "videovision.pipeline"]
"""Imported once by the fork server; each worker is forked from it with them loaded."""


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one): the default ``jobs``."""
    sched = getattr(os, "sched_getaffinity", None)
    return len(sched(0)) if sched is not None else (os.cpu_count() or 1)


def check_executor(executor: str, ray_address: str | None) -> None:
    """Raise ConfigError for an unknown executor, an address given without ``ray``, or Ray missing."""
    if executor not in EXECUTORS:
        raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)} (got {executor!r})", field="executor")
    if ray_address is not None and executor != "ray":
        raise ConfigError("a Ray address needs executor ray", field="ray_address")
    if ray_address is not None and not ray_address.strip():
        raise ConfigError("the Ray address is empty", field="ray_address")
    if executor == "ray":
        from .scaleout import import_ray

        import_ray()  # before any work: a missing Ray is a one-line error at the start


def worker_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` with videovision preloaded where the OS has it, else ``spawn``: never a plain
    fork of this process (its threads and SQLite connections). Measured on 2 CPUs: 2 workers ready
    in 1.5-1.9 s against 4.4-4.7 s with spawn (each spawned worker imports videovision itself)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WORKER_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def make_executor(executor: ExecutorName, jobs: int, cache_dir: str | None, config: TaskConfig,
                  ray_address: str | None = None) -> Executor:
    """The executor plans are submitted to (``submit(prepare, job)``)."""
    models = models_for(config)
    if executor == "ray":
        from .scaleout import RayPlanner

        setup = WorkerSetup.of(cache_dir, log.getEffectiveLevel(), models)
        return RayPlanner(jobs, ray_address, setup, lambda error: Prepared(error=error))
    setup = WorkerSetup.of(cache_dir, log.getEffectiveLevel(), models, whole_environment=True)
    return ProcessPoolExecutor(jobs, mp_context=worker_context(), initializer=init_process_worker, initargs=(setup,))


def stop_workers(pool: Executor) -> None:
    """Cancel what has not started and end the worker processes (Ctrl-C: their work is lost anyway)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # CPython keeps its workers here
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
