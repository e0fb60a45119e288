"""The neutral request: what one question to the model says, in no wire's words.

``videovision.prompts`` builds it; a wire (``videovision.wires``) encodes it into the body its
endpoint takes, counts that body's tokens and reads the reply. Nothing outside ``wires/`` knows a
body's shape.

    Request(model, system="You are shown frames ...",
            turns=(Turn("user", (Text("The video is 1:05 long.", "video"),
                                 Text("[00:00:01.0]", "label"), Image("data:image/jpeg;base64,...", "low"),
                                 Text("[00:00:02.5] SPEAKER 1: hello", "speech"),
                                 Text("Summarize ...", "task"))),),
            output_tokens=1000, schema=None)

A turn's ``content`` is a string for a plain message (a follow-up question, an earlier answer, a
reduce step's notes) or the parts in order: the labelled images, the speech lines and on-screen
notes between them, the task last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

TextKind = Literal["text", "video", "label", "speech", "screen", "task"]
"""What a text part is: the video's length, an image's time label, speech lines (and repeat notes),
text read on screen, the task, or any other text."""

CACHE_HINTS = ("prompt_cache_key", "prompt_cache_retention")
"""Body fields that only steer the provider's prompt cache (kept in :attr:`Request.cache`)."""


@dataclass(frozen=True)
class Text:
    """A text part."""

    text: str
    kind: TextKind = "text"


@dataclass(frozen=True)
class Image:
    """An image part: a URL (a ``data:`` URL of the packed image) and its detail (None: the
    provider ignores detail, so the request names none)."""

    url: str
    detail: str | None = None


Part = Text | Image


@dataclass(frozen=True)
class Turn:
    """One message: the user's (frames, questions) or the assistant's (an earlier answer)."""

    role: Literal["user", "assistant"]
    content: str | tuple[Part, ...]

    @property
    def parts(self) -> tuple[Part, ...]:
        return (Text(self.content),) if isinstance(self.content, str) else self.content


@dataclass(frozen=True)
class Schema:
    """Structured output: the reply is JSON of this schema."""

    name: str
    schema: Mapping[str, Any]
    strict: bool = True


@dataclass(frozen=True)
class Request:
    """One request, in no wire's words (see the module docstring).

    Attributes:
        model: the model name.
        system: the system text.
        turns: the messages after it, in order.
        output_tokens: the output-token limit (None: the endpoint's default).
        limit_name: what Chat Completions calls the limit (``max_tokens`` on servers that only know
            the older name); the Responses wire always says ``max_output_tokens``.
        temperature: sampling temperature (None: the default; reasoning models take no other).
        reasoning_effort: for reasoning models, when the provider takes it.
        schema: structured output, if asked for.
        cache: prompt-cache hints (``prompt_cache_key``, ``prompt_cache_retention``), sent as they are.
        extra: other body fields, sent as they are (``PromptOptions.extra``).
    """

    model: str
    system: str
    turns: tuple[Turn, ...]
    output_tokens: int | None = None
    limit_name: str = "max_completion_tokens"
    temperature: float | None = None
    reasoning_effort: str | None = None
    schema: Schema | None = None
    cache: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def images(self) -> tuple[Image, ...]:
        """Every image part, in order."""
        return tuple(p for t in self.turns for p in t.parts if isinstance(p, Image))

    def with_turns(self, turns: tuple[Turn, ...], *, schema: Schema | None = None) -> Request:
        """This request with other turns (and ``schema``; None drops it): a chat follow-up."""
        return replace(self, turns=turns, schema=schema)


def with_extra(request: Request, extra: Mapping[str, Any]) -> Request:
    """``request`` with body fields added: the cache hints to :attr:`Request.cache`, the rest to
    :attr:`Request.extra` (a later field replaces an earlier one)."""
    cache = {**request.cache, **{k: v for k, v in extra.items() if k in CACHE_HINTS}}
    rest = {**request.extra, **{k: v for k, v in extra.items() if k not in CACHE_HINTS}}
    return replace(request, cache=cache, extra=rest)
