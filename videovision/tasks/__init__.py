"""The tasks videovision runs, one module each, found by looking:

    summarize.py    a summary citing times          ask.py          answers citing moments
    chapters.py     chapters starting on scene cuts  transcript.py   the speech, timed (no model request)

Every module of this package that defines ``TASK`` (a :class:`~videovision.tasks.base.Task`) is a
task, named by ``TASK.name``: the prompt, the pipeline, the refine pass, the renderers, the JSON
documents, the batch runner, the MCP server and the command line (its ``videovision NAME`` command,
``batch --task`` choices) all go through it. A new task is one new module here and nothing else.

    TASKS["ask"].needs_questions         -> True
    task_named("chapters").schema        -> the chapters' JSON schema
    task_names(plans=True)               -> ("summarize", "ask", "chapters")
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from ..errors import ConfigError
from .base import Task

__all__ = ["TASKS", "Task", "refresh", "task_named", "task_names"]


class _Registry(Mapping[str, Task]):
    """Name → task, in their ``order``; the modules are imported when first asked for."""

    def __init__(self) -> None:
        self._found: dict[str, Task] = {}

    def _load(self) -> dict[str, Task]:
        if not self._found:
            found: list[Task] = []
            for module in pkgutil.iter_modules(__path__):
                if module.name == "base" or module.name.startswith("_"):
                    continue
                task = getattr(importlib.import_module(f"{__name__}.{module.name}"), "TASK", None)
                if isinstance(task, Task):
                    found.append(task)
            self._found.update((t.name, t) for t in sorted(found, key=lambda t: (t.order, t.name)))
        return self._found

    def __getitem__(self, name: str) -> Task:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def refresh(self) -> None:
        self._found.clear()


TASKS = _Registry()
"""Every task: name → its ``TASK``."""


def refresh() -> None:
    """Look for task modules again (after a module was added to the package's path)."""
    TASKS.refresh()


def task_names(plans: bool | None = None) -> tuple[str, ...]:
    """The tasks' names in order; ``plans=True``: those sent to a model through a plan, False: the others."""
    return tuple(name for name, task in TASKS.items() if plans is None or task.plans == plans)


def task_named(name: str, plans: bool | None = None) -> Task:
    """The task called ``name`` (``plans=True``: one sent through a plan).

    Raises:
        ConfigError: no such task.
    """
    task = TASKS.get(name)
    if task is None or (plans is not None and task.plans != plans):
        raise ConfigError(f"task must be one of {', '.join(task_names(plans))} (got {name!r})", field="task")
    return task
