"""The output formats, one module each, found by looking: name → how a task's result is written in it,
and which tasks it serves. ``--format`` offers the formats of its command's task (looked up when the
parser is built); a new format is one new module here defining ``FORMAT`` and nothing else.

    text.py  markdown.py (``--markdown``)  youtube.py (chapters)  srt.py (transcript)
    vtt.py (chapter cues, or subtitles)    json.py (the task's JSON document)

    render("youtube", TASKS["chapters"], result) -> (text, warnings)
    format_names("transcript")                   -> ("text", "srt", "vtt", "json")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import ConfigError
from ...plugins import Found

if TYPE_CHECKING:
    from ...tasks.base import Task

Rendered = tuple[str, tuple[str, ...]]
"""The text written, and warnings on what the format changed or will not show."""


@dataclass(frozen=True)
class Format:
    name: str
    render: Callable[[Task, Any, Mapping[str, Any]], Rendered]
    """(task, its result, extra fields of a JSON document) → :data:`Rendered`."""
    tasks: frozenset[str] | None = None
    """The tasks it serves (None: every task)."""
    json: bool = False
    """JSON (written unchanged to a pipe, coloured on a terminal)."""
    option: bool = True
    """``--format`` offers it (False: another flag asks for it, ``--markdown``)."""
    rank: int = 100
    """Where it is listed (the built-in ones 0–9, then others by name)."""

    def serves(self, task: str) -> bool:
        return self.tasks is None or task in self.tasks


FORMATS: Found[Format] = Found(__name__, "FORMAT", order=lambda f: (f.rank, f.name))
"""Every output format, in ``rank`` order; the choices of ``--format`` follow."""


def refresh() -> None:
    """Look for format modules again (after a module was added to the package's path)."""
    FORMATS.refresh()


def format_names(task: str, *, offered: bool = True) -> tuple[str, ...]:
    """The formats serving ``task``, in the table's order (``offered``: those ``--format`` takes)."""
    return tuple(f.name for f in FORMATS.values() if f.serves(task) and (f.option or not offered))


def format_named(name: str, task: str) -> Format:
    """The format ``name`` for ``task``.

    Raises:
        ConfigError: no such format, or not one for this task.
    """
    found = FORMATS.get(name)
    if found is None or not found.serves(task):
        raise ConfigError(f"format must be one of {', '.join(format_names(task, offered=False))} for {task} "
                          f"(got {name!r})", field="format")
    return found


def render(name: str, task: Task, value: Any, extra: Mapping[str, Any] | None = None) -> Rendered:
    """``value`` (a task's result) in the format ``name``.

    Raises:
        ConfigError: the format does not serve this task.
    """
    return format_named(name, task.name).render(task, value, extra or {})
