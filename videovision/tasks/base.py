"""The Task interface: everything videovision knows about one task, in one object.

A task says what it asks the model (:meth:`Task.prompt`, :attr:`Task.schema` for structured output),
how it behaves (:attr:`Task.streams`, :attr:`Task.needs_questions`, :attr:`Task.refinable`), how its
reply is read (:meth:`Task.parse`, calling :mod:`videovision.parsing`), and how its result is shown:
as text or Markdown (:meth:`Task.text`, :meth:`Task.notes`) and as its JSON document
(:meth:`Task.document`). Its command (``videovision NAME``) comes from the same object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..parsing import TimeCheck
    from ..plan import Plan
    from ..prompts import PromptOptions
    from ..request import Schema


class Task:
    """One task. A module of :mod:`videovision.tasks` that defines ``TASK`` (an instance) registers it."""

    name: str = ""
    order: int = 100
    """Where it comes in lists (``--help``, choices): lower first, then by name."""
    plans: bool = True
    """Frames (and speech) are sent to a vision model through a plan; False: the task runs without one
    (``transcript``)."""
    streams: bool = False
    """A single-request reply may be streamed to the terminal as it arrives."""
    needs_questions: bool = False
    refinable: bool = False
    """The refine pass (a dense look at each cited moment) applies to its result."""
    schema: Schema | None = None
    """The JSON schema of its structured output (None: free text only)."""
    # the command line: ``videovision NAME``
    help: str = ""
    description: str = ""
    example: str = ""
    command: str = "tasks:cmd_task"
    """``module:function`` in :mod:`videovision._cli` running the command."""
    errors: str = "send"
    """The kind of failures the command can have (:data:`videovision._cli.helptext._BY_KIND`)."""
    video_help: str = ""
    """The help of its VIDEO argument (empty: the usual one)."""
    arguments: tuple[tuple[str, dict[str, Any]], ...] = ()
    """Positional arguments after VIDEO (argparse ``add_argument`` keywords)."""
    what: str = "the result"
    """What its output is called (``wrote the summary to FILE``)."""
    field: str = ""
    """The :class:`~videovision.pipeline.TaskResult` field its parse sets and its renderers read."""
    text_of: Callable[..., str] | None = None
    """``(value of field, markdown=, notes=) -> str``: :meth:`text` (render/text.py's renderer)."""
    notes_of: Callable[[Any], list[str]] | None = None
    """``(value of field) -> notes``: :meth:`notes`."""

    def prompt(self, options: PromptOptions, partial: bool, structured: bool) -> str:
        """What to do, without the sentence about the video's length.

        Args:
            partial: one chunk of a map-reduce (its answer is notes to be merged).
            structured: the reply is asked for in :attr:`schema`'s format.
        """
        raise NotImplementedError(self.name)

    json_reply: str = ""
    """How a structured reply is to be written (appended to the prompt when :attr:`schema` is sent)."""
    text_reply: str = ""
    """How a free-text reply is to be written (appended to the prompt otherwise)."""

    def reply_form(self, structured: bool) -> str:
        """:attr:`json_reply` or :attr:`text_reply`, as the reply is structured or not."""
        return self.json_reply if structured else self.text_reply

    def parse(self, text: str, check: TimeCheck, plan: Plan) -> Mapping[str, Any]:
        """The reply's text read as this task asked: the fields of
        :class:`~videovision.pipeline.TaskResult` it sets (``summary``, ``answers``, ``chapters``, ``parsed``)."""
        raise NotImplementedError(self.name)

    def text(self, value: Any, markdown: bool = False, *, notes: bool = True) -> str:
        """The result (a TaskResult, or the task's own value) as text or Markdown; ``notes=False``:
        without the notes of :meth:`notes` (the CLI prints them on stderr)."""
        if self.text_of is None:
            raise NotImplementedError(self.name)
        return self.text_of(getattr(value, self.field), markdown=markdown, notes=notes)

    def notes(self, value: Any) -> list[str]:
        """Notes on the result shown beside it (on stderr in the CLI)."""
        return self.notes_of(getattr(value, self.field)) if self.notes_of is not None else []

    def fields(self, value: Any) -> dict[str, Any]:
        """The task's own fields of its JSON document."""
        return {}

    def document(self, value: Any, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The result's JSON document (``schema_version`` first: :mod:`videovision.render.documents`)."""
        from ..render.documents import result_document

        return result_document(value, self.fields(value), extra)

    def written(self, value: Any) -> str:
        """What was written to a file, for the line that says so."""
        return self.what

    def __repr__(self) -> str:
        return f"<task {self.name}>"


def strict_object(properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON-schema object as strict structured output wants it: every property required, no other."""
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def language(options: PromptOptions) -> str:
    """The sentence asking for the reply's language (empty: the model's choice)."""
    return f" Write in {options.language}." if options.language else ""
