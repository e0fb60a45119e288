"""The Chat Completions wire: ``POST /chat/completions``.

Encoding: the system text is the first message; each turn a message, its parts ``text`` and
``image_url`` (``detail`` when the request names one), a plain turn's content a string; the output
limit under the request's ``limit_name`` (``max_completion_tokens``, or ``max_tokens`` for servers
that only know the older name); a schema as ``response_format`` ``json_schema``; cache hints and
extra fields as they are. Replies: ``choices[0].message`` and ``finish_reason``; usage
``prompt_tokens``, ``completion_tokens``, ``prompt_tokens_details.cached_tokens`` /
``cache_write_tokens`` / ``image_tokens`` where reported. Streams: ``chat.completion.chunk``s with
``stream_options.include_usage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..request import CACHE_HINTS, Image, Part, Request, Schema, Text, Turn
from ..usage import Usage
from .base import WireReply, field, usage_of

if TYPE_CHECKING:
    from ..models import ModelSpec, TokenCount

_LIMITS = ("max_completion_tokens", "max_tokens")
_OWN = frozenset({"model", "messages", "temperature", "reasoning_effort", "response_format", "stream",
                  "stream_options", *_LIMITS, *CACHE_HINTS})


def usage_from(usage: Any) -> Usage:
    """A Chat Completions ``usage`` (SDK object or dict) as a :class:`Usage`."""
    return usage_of(usage, "prompt_tokens", "completion_tokens", "prompt_tokens_details")


def _part(part: Part) -> dict:
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    url: dict[str, Any] = {"url": part.url}
    if part.detail is not None:
        url["detail"] = part.detail
    return {"type": "image_url", "image_url": url}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(str(p.get("text", "")) for p in content or [] if isinstance(p, Mapping) and p.get("type") == "text")


def _parts_of(content: Any) -> str | tuple[Part, ...]:
    if isinstance(content, str):
        return content
    parts: list[Part] = []
    for part in content or []:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            parts.append(Text(str(part.get("text", ""))))
        elif kind == "image_url":
            ref = part.get("image_url")
            ref = ref if isinstance(ref, Mapping) else {"url": ref}
            parts.append(Image(str(ref.get("url")), ref.get("detail")))
        else:
            raise ConfigError(f"a chat request part of type {kind!r} has no neutral form: only text and images")
    return tuple(parts)


class ChatWire:
    """Chat Completions (see the module docstring)."""

    name = "chat"
    path = "/chat/completions"
    serves_only: frozenset[str] = frozenset()

    def encode(self, request: Request) -> dict:
        messages: list[dict] = [{"role": "system", "content": request.system}] if request.system else []
        for turn in request.turns:
            content = turn.content if isinstance(turn.content, str) else [_part(p) for p in turn.content]
            messages.append({"role": turn.role, "content": content})
        body: dict[str, Any] = {"model": request.model, "messages": messages}
        if request.output_tokens is not None:
            body[request.limit_name] = request.output_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.reasoning_effort is not None:
            body["reasoning_effort"] = request.reasoning_effort
        if request.schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": request.schema.name, "strict": request.schema.strict, "schema": request.schema.schema}}
        body.update(request.cache)
        body.update(request.extra)
        return body

    def decode(self, body: Mapping[str, Any]) -> Request:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ConfigError("a chat request body needs a non-empty 'messages' list")
        system: list[str] = []
        turns: list[Turn] = []
        for message in messages:
            if not isinstance(message, Mapping):
                raise ConfigError(f"a chat message must be an object, not {type(message).__name__}")
            role = message.get("role")
            if role in ("system", "developer") and not turns:
                system.append(_text_of(message.get("content")))
            elif role in ("user", "assistant"):
                turns.append(Turn(role, _parts_of(message.get("content"))))
            else:
                raise ConfigError(f"a chat message with role {role!r} has no neutral form")
        limit = next((k for k in _LIMITS if body.get(k) is not None), "max_completion_tokens")
        fmt = body.get("response_format")
        schema = None
        extra = {k: v for k, v in body.items() if k not in _OWN}
        if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            schema = Schema(str(spec.get("name", "answer")), spec.get("schema", {}), bool(spec.get("strict", False)))
        elif fmt is not None:
            extra["response_format"] = fmt
        return Request(model=str(body.get("model")), system="\n\n".join(system), turns=tuple(turns),
                       output_tokens=body.get(limit), limit_name=limit, temperature=body.get("temperature"),
                       reasoning_effort=body.get("reasoning_effort"), schema=schema,
                       cache={k: body[k] for k in CACHE_HINTS if k in body}, extra=extra)

    def owns(self, body: Mapping[str, Any]) -> bool:
        return isinstance(body.get("messages"), list) and bool(body["messages"])

    def count(self, body: Mapping[str, Any], spec: ModelSpec) -> TokenCount:
        from ..models import chat_tokens

        return chat_tokens(body["messages"], spec)

    def resource(self, sdk: Any) -> Any:
        return sdk.chat.completions

    def stream_options(self) -> dict:
        return {"stream": True, "stream_options": {"include_usage": True}}

    def cache_endpoint(self, endpoint: str) -> str:
        return endpoint  # the keys replies were always stored under: the base URL alone means chat

    def parse(self, reply: Any) -> WireReply:
        usage = field(reply, "usage")
        choices = field(reply, "choices")
        if not isinstance(choices, list) or not choices:
            return WireReply(None, None, None, usage_from(usage), field(reply, "model"), answered=False)
        choice = choices[0]
        message = field(choice, "message")
        return WireReply(field(message, "content"), field(message, "refusal"), field(choice, "finish_reason"),
                         usage_from(usage), field(reply, "model"))

    def new_stream(self) -> ChatStream:
        return ChatStream()


class ChatStream:
    """``chat.completion.chunk``s (choice 0 only)."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.refusal: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.model: str | None = None
        self.saw_answer = False

    def take(self, chunk: Any) -> str | None:
        self.model = self.model or field(chunk, "model")
        if field(chunk, "usage") is not None:
            self.usage = field(chunk, "usage")
        added: list[str] = []
        for choice in field(chunk, "choices") or []:
            if (field(choice, "index") or 0) != 0:
                continue
            self.saw_answer = True
            delta = field(choice, "delta")
            content = field(delta, "content")
            if content:
                self.pieces.append(content)
                added.append(content)
            refusal = field(delta, "refusal")
            if refusal:
                self.refusal.append(refusal)
            if field(choice, "finish_reason"):
                self.finish_reason = field(choice, "finish_reason")
        return "".join(added) or None

    def reply(self) -> WireReply:
        return WireReply("".join(self.pieces), "".join(self.refusal) or None, self.finish_reason,
                         usage_from(self.usage), self.model, self.saw_answer)


WIRE = ChatWire()
