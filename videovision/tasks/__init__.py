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

from ..errors import ConfigError
from ..plugins import Found
from .base import Task

__all__ = ["TASKS", "Task", "refresh", "task_named", "task_names"]


TASKS: Found[Task] = Found(__name__, "TASK", order=lambda t: (t.order, t.name))
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
