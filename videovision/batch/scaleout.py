"""Plans made as Ray tasks: ``videovision batch --executor ray [--ray-address ADDR]``.

    RayPlanner   an executor for :func:`videovision.batch.run_batch`: each ``submit(fn, job)`` is one Ray
                 task (``num_cpus=1``) that runs ``fn(job)`` (the batch's :func:`~videovision.batch.worker.prepare`: make_plan, or the
                 transcript) on some node; its result comes back as a ``concurrent.futures.Future``

Everything else stays in the driver, as with the process pool: digests and resume keys, requests
(I/O-bound, ``concurrency`` at a time across all videos), result files, ``index.jsonl`` and
``search.db``. Only the CPU-bound part (decode, sample, pack) fans out.

Over the wire: to a task, the video's *path* (every node must see the same file at the same path:
shared storage such as NFS or a mounted bucket), the task's options, the endpoint settings
(transcription calls the endpoint from the node) and a small setup (:class:`~videovision.batch.worker.WorkerSetup`: cache path, log level, model
table, ``VIDEOVISION_*``/``TIKTOKEN_*`` variables); back from it, the pickled plan (its images are
the packed JPEGs: about 0.8 MB for samples/demo.mp4) or a one-line error. The frame cache is the
one at the driver's cache path on each node (a node where it cannot be opened works without one).

Without an address a local Ray runtime is started (``num_cpus=jobs``) and shut down at the end; with
one (``auto``, ``host:6379`` or ``ray://host:10001``) the batch connects to that cluster and leaves
it running. A process that has already called ``ray.init`` is used as it is.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from ..errors import ConfigError
from .worker import WorkerSetup, ready

log = logging.getLogger("videovision")

__all__ = ["RAY_INSTALL", "RayPlanner", "import_ray"]

RAY_INSTALL = "pip install 'videovision[ray]'"
TASK_CPUS = 1
"""CPUs Ray reserves for each plan (decoding one video is one core's work)."""
TASK_RETRIES = 1
"""Ray runs a task again once when its worker dies: a node lost mid-task gets a second chance, a
decoder crash that would repeat costs one more decode (Ray's default is 3)."""
LOCAL = "local"
"""``ray.init`` address that always starts a new local runtime (never joins ``RAY_ADDRESS``)."""


@contextmanager
def _stderr_to_log() -> Iterator[None]:
    """Ray's runtime prints banners (token authentication, dashboard) straight to file descriptor 2
    from its C++ core while it starts: send them to the log (debug) instead of the terminal, so
    stderr keeps only videovision's own lines."""
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (a service): nothing to keep clean
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode("utf-8", "replace").splitlines():
                if line.strip():
                    log.debug("ray: %s", line)


def import_ray() -> ModuleType:
    """The ``ray`` module, imported only when the Ray executor is chosen.

    Raises:
        ConfigError: Ray is not installed.
    """
    try:
        import ray
    except ImportError as err:
        raise ConfigError(f"--executor ray needs Ray, which is not installed: {RAY_INSTALL}",
                          field="executor") from err
    return ray


# --------------------------------------------------------------------------- in the Ray worker
def _run_task(setup: WorkerSetup, fn: Callable[[Any], Any], job: Any) -> Any:
    """The body of each Ray task: the batch's worker function, after the worker's setup."""
    ready(setup)
    return fn(job)


# --------------------------------------------------------------------------- in the driver
class RayPlanner(Executor):
    """Runs ``fn(job)`` as Ray tasks; a task Ray could not finish resolves to ``on_lost(message)``.

    Args:
        jobs: CPUs of the local runtime started when there is no address (ignored with one).
        address: a Ray cluster to join (``auto``, ``host:port``, ``ray://host:10001``), or None
            for a new local runtime.
        setup: applied in each worker process before its first task.
        on_lost: makes the result of a task that died with its worker, was lost or cancelled
            (the batch records it as that video's failure; the others go on).

    Raises:
        ConfigError: Ray is not installed, or it cannot start or reach the cluster.
    """

    def __init__(self, jobs: int, address: str | None, setup: WorkerSetup, on_lost: Callable[[str], Any]):
        ray = import_ray()
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "configure_logging": False}
            if address is None:
                options.update(address=LOCAL, num_cpus=jobs)
            else:
                options.update(address=address)
            try:
                with _stderr_to_log():
                    ray.init(**options)
            except Exception as err:  # ConnectionError, a version mismatch, a bad address...
                where = f"the Ray cluster at {address}" if address is not None else "a local Ray runtime"
                text = " ".join(str(err).split()) or type(err).__name__
                raise ConfigError(f"cannot use {where}: {text}", field="ray_address") from err
            self._started = True
        self._task = ray.remote(num_cpus=TASK_CPUS, max_retries=TASK_RETRIES)(_run_task)
        self._setup = ray.put(setup)
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._pending: dict[Future, Any] = {}  # our future -> its ObjectRef

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """One Ray task running ``fn(job)``; ``args`` is the one job."""
        (job,) = args
        ref = self._task.remote(self._setup, fn, job)
        out: Future = Future()
        with self._lock:
            self._pending[out] = ref
        ref.future().add_done_callback(lambda done: self._settle(out, done))
        return out

    def _settle(self, out: Future, done: Future) -> None:
        with self._lock:
            self._pending.pop(out, None)
        if not out.set_running_or_notify_cancel():
            return
        try:
            out.set_result(done.result())
        except BaseException as err:  # the worker died (a decoder crash, out of memory), lost, cancelled
            lines = str(err).strip().splitlines()
            text = " ".join(lines[0].split())[:300] if lines else type(err).__name__
            out.set_result(self._on_lost(f"the Ray task making the plan failed ({type(err).__name__}: {text})"))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel what has not finished when asked; shut the runtime down if this planner started it."""
        if cancel_futures:
            with self._lock:
                pending = list(self._pending.items())
                self._pending.clear()
            for out, ref in pending:
                out.cancel()
                try:
                    self._ray.cancel(ref, force=True)
                except Exception as err:  # already finished or gone: nothing to stop
                    log.debug("ray.cancel: %s", err)
        elif wait:
            with self._lock:
                running = list(self._pending)
            futures_wait(running)
        if self._started:
            self._started = False
            self._ray.shutdown()

