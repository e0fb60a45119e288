"""The output formats, one entry each: name → how a task's result is written in it, and which tasks
it serves. ``--format`` offers the formats of its command's task (looked up when the parser is built);
a new format is one new entry.

    render("youtube", TASKS["chapters"], result) -> (text, warnings)
    format_names("transcript")                   -> ("text", "srt", "vtt", "json")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .documents import dumps
from .exports import subtitles, webvtt_chapters, youtube_export

if TYPE_CHECKING:
    from ..tasks.base import Task

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

    def serves(self, task: str) -> bool:
        return self.tasks is None or task in self.tasks


def _by_task(**renderers: Callable[[Any], str]) -> tuple[Callable[[Task, Any, Mapping[str, Any]], Rendered],
                                                         frozenset[str]]:
    """A renderer that differs by task (``vtt``: chapter cues, or subtitles), and the tasks it serves."""
    return (lambda task, value, extra: (renderers[task.name](value), ())), frozenset(renderers)


_vtt, _vtt_tasks = _by_task(chapters=lambda r: webvtt_chapters(r.chapters), transcript=lambda t: subtitles(t, "vtt"))

FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("text", lambda task, value, extra: (task.text(value, notes=False), ())),
    Format("markdown", lambda task, value, extra: (task.text(value, markdown=True, notes=False), ()),
           frozenset({"summarize", "ask", "chapters"}), option=False),
    Format("youtube", lambda task, value, extra: youtube_export(value.chapters), frozenset({"chapters"})),
    Format("srt", lambda task, value, extra: (subtitles(value, "srt"), ()), frozenset({"transcript"})),
    Format("vtt", _vtt, _vtt_tasks),
    Format("json", lambda task, value, extra: (dumps(task.document(value, extra)), ()), json=True),
)}
"""Every output format. Add an entry to add one; the choices of ``--format`` follow."""


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
