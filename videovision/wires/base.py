"""What every wire offers: the interface, the shape of a parsed reply, and small readers of reply
fields shared by the wire modules.

A wire owns one request format end to end: the endpoint path, encoding the neutral
:class:`~videovision.request.Request` into its body (and reading such a body back), the token count
of the body it sends, the SDK call, reply and stream parsing with usage, and the cache key's endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..usage import Usage

if TYPE_CHECKING:
    from ..models import ModelSpec, TokenCount
    from ..request import Request


@dataclass(frozen=True)
class WireReply:
    """A reply as the client checks it, whichever wire it came over.

    Attributes:
        text: the answer's text (None when the reply carried none).
        refusal: the model's refusal text, if it refused.
        finish_reason: ``stop``, ``length``, ``content_filter`` ... in Chat Completions' words; None
            when the reply is unfinished (asked again).
        usage: the tokens reported (with ``image_tokens`` and cache writes where reported).
        model: the model that answered, if said.
        answered: False when the reply had nothing to answer with (no choices, no output).
    """

    text: str | None
    refusal: str | None
    finish_reason: str | None
    usage: Usage
    model: str | None = None
    answered: bool = True


class StreamState(Protocol):
    """What a streamed reply has said so far."""

    saw_answer: bool
    finish_reason: str | None

    def take(self, event: Any) -> str | None:
        """Take one streamed chunk or event; returns the answer text it adds (None for none).

        Raises:
            RequestError: the stream reported an error.
        """
        ...

    def reply(self) -> WireReply:
        """The reply so far."""
        ...


class Wire(Protocol):
    """One request format (a module of ``videovision.wires`` defines one as ``WIRE``)."""

    name: str
    """Its ``--api`` name."""
    path: str
    """The endpoint path below the base URL (``/chat/completions``); a Batch API line's ``url`` is
    ``/v1`` + it."""

    @property
    def serves_only(self) -> frozenset[str]:
        """Models only this wire serves (``--api auto`` picks it for them), besides the model
        table's ``api`` field."""
        ...

    def encode(self, request: Request) -> dict:
        """The body this wire sends for ``request``."""
        ...

    def decode(self, body: Mapping[str, Any]) -> Request:
        """The request a body of this wire says (for a body handed to a client set to another wire).

        Raises:
            ConfigError: not a body of this wire.
        """
        ...

    def owns(self, body: Mapping[str, Any]) -> bool:
        """Whether ``body`` is in this wire's format."""
        ...

    def count(self, body: Mapping[str, Any], spec: ModelSpec) -> TokenCount:
        """The input tokens of a body this wire encoded (text and images)."""
        ...

    def resource(self, sdk: Any) -> Any:
        """The SDK resource whose ``create`` sends this wire's body (``sdk.chat.completions``)."""
        ...

    def stream_options(self) -> dict:
        """The keyword arguments that ask for a streamed reply."""
        ...

    def parse(self, reply: Any) -> WireReply:
        """A non-streamed reply (an SDK object, or a plain dict as in Batch API output).

        Raises:
            RequestError: the reply reports a failure.
        """
        ...

    def new_stream(self) -> StreamState:
        """A fresh state for one streamed reply."""
        ...

    def cache_endpoint(self, endpoint: str) -> str:
        """What the reply cache keys this wire's requests under, for a base URL."""
        ...


def field(obj: Any, name: str) -> Any:
    """``obj.name`` of an SDK object, or ``obj[name]`` of a dict; None when absent."""
    value = getattr(obj, name, None)
    if value is None and isinstance(obj, Mapping):
        value = obj.get(name)
    return value


def count(obj: Any, name: str) -> int:
    """A non-negative token count field (0 when absent or not a number)."""
    value = field(obj, name)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0


def reported(obj: Any, name: str) -> int | None:
    """A count field when the reply reported one, else None."""
    value = field(obj, name)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def usage_of(usage: Any, prompt: str, completion: str, details: str) -> Usage:
    """A reply's ``usage`` (SDK object or dict) as a :class:`Usage`, by the names its wire uses."""
    d = field(usage, details)
    return Usage(count(usage, prompt), count(usage, completion), count(d, "cached_tokens"),
                 count(d, "cache_write_tokens"), reported(d, "image_tokens"))
