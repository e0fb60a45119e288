"""BatchOptions: how a batch runs (the task, the endpoint, the cache, workers, requests in flight, the cost
cap, reports, the executor), one value checked when it is built."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import get_args

from .. import defaults
from ..endpoint import ClientConfig
from ..errors import ConfigError
from ..types import BatchTask
from .executors import ExecutorName, check_executor

BATCH_TASKS: tuple[str, ...] = get_args(BatchTask)


@dataclass(frozen=True)
class BatchOptions:
    """What :func:`~videovision.batch.run_batch` does with the videos beyond each video's own
    :class:`~videovision.plan.TaskConfig`; checked when built (a :class:`ConfigError` naming the field)."""

    task: BatchTask = "summarize"
    """``summarize``, ``chapters``, ``ask`` or ``transcript``."""
    endpoint: ClientConfig | None = None
    """The endpoint (None: from the environment): its URL is part of each video's key, and the workers
    transcribe audio through it."""
    cache_dir: str | os.PathLike | None = None
    """The cache directory (None: :func:`~videovision.store.default_cache_dir`)."""
    use_cache: bool = True
    """False: no frame, transcript or reply cache (outputs still resume)."""
    jobs: int | None = None
    """Worker processes making plans (None: :func:`~videovision.batch.available_cpus`)."""
    concurrency: int = defaults.CONCURRENCY
    """Requests in flight at once across all videos."""
    total_max_cost: float | None = None
    """USD cap on the whole batch's estimated spend (None: no cap)."""
    report: bool = False
    """Also write each video's HTML report, ``<stem>.html`` (not for ``transcript``)."""
    executor: ExecutorName = "process"
    """``process`` (a local process pool) or ``ray`` (Ray tasks: :mod:`videovision.batch.scaleout`)."""
    ray_address: str | None = None
    """With ``ray``, the cluster to join (None: a local Ray runtime of ``jobs`` CPUs)."""

    def __post_init__(self) -> None:
        if self.task not in BATCH_TASKS:
            raise ConfigError(f"task must be one of {', '.join(BATCH_TASKS)} (got {self.task!r})", field="task")
        for name, value in (("jobs", self.jobs), ("concurrency", self.concurrency)):
            if value is None and name == "jobs":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1", field=name)
        if self.total_max_cost is not None and not (isinstance(self.total_max_cost, (int, float))
                                                    and not isinstance(self.total_max_cost, bool)
                                                    and self.total_max_cost >= 0):
            raise ConfigError("total_max_cost must be a number of USD >= 0", field="total_max_cost")
        check_executor(self.executor, self.ray_address)

    @classmethod
    def of(cls, options: BatchOptions | None, **changes) -> BatchOptions:
        """``options`` (default: ``BatchOptions()``) with ``changes`` applied; an unknown name is a ConfigError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(f"unknown batch option {unknown[0]!r}: use one of {', '.join(sorted(known))}",
                              field=unknown[0])
        base = options if options is not None else cls()
        if not changes:
            return base
        values = {f.name: getattr(base, f.name) for f in fields(cls)}
        return cls(**{**values, **changes})
