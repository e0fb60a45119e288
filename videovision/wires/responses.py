"""The Responses wire: ``POST /responses`` (the only API serving ``gpt-5-pro``, ``o3-pro`` ...).

Encoding, statelessly (the whole conversation is sent each time, no ``previous_response_id``;
``store`` false):

- the system text → ``instructions``;
- each user turn → an input message of ``input_text`` / ``input_image`` parts, ``image_url`` the URL
  string and ``detail`` on every image (``auto`` when the request names none: vLLM refuses images
  without it);
- assistant turns (chat follow-ups) → ``{"role": "assistant", "content": "<text>"}``: the easy input
  message, the form OpenAI's published ``CreateResponse`` accepts for earlier answers without output
  ids;
- a schema → ``text.format`` (``name``, ``schema``, ``strict`` flattened); the output limit →
  ``max_output_tokens``; ``reasoning_effort`` → ``reasoning.effort``; temperature, cache hints and
  extra fields kept (the Chat-only ones dropped).

Replies: ``status`` ``completed`` → finish ``stop``; ``incomplete`` for ``max_output_tokens`` →
``length``, for ``content_filter`` → ``content_filter``; usage ``input_tokens``, ``output_tokens``,
``input_tokens_details.cached_tokens`` / ``cache_write_tokens`` / ``image_tokens``. Streams are typed
events: ``response.output_text.delta``, ``response.refusal.delta``, ``response.completed``,
``response.incomplete``, ``response.failed`` and ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, RequestError, ResponseFormatError, ServerError
from ..request import CACHE_HINTS, Image, Part, Request, Schema, Text, Turn
from ..usage import Usage
from .base import WireReply, field, usage_of

if TYPE_CHECKING:
    from ..models import ModelSpec, TokenCount

log = logging.getLogger(__name__)

_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}
_CHAT_ONLY = frozenset({"messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "n", "seed",
                        "stop", "logprobs", "top_logprobs", "logit_bias", "frequency_penalty", "presence_penalty",
                        "reasoning_effort", "response_format", "modalities", "audio", "prediction"})
"""Chat Completions fields with no Responses form (an extra field of these names is not sent)."""
_OWN = frozenset({"model", "instructions", "input", "max_output_tokens", "reasoning", "text", "temperature", "store",
                  "stream", *CACHE_HINTS})


def usage_from(usage: Any) -> Usage:
    """A Responses ``usage`` (SDK object or dict) as a :class:`Usage`."""
    return usage_of(usage, "input_tokens", "output_tokens", "input_tokens_details")


def _part(part: Part) -> dict:
    if isinstance(part, Text):
        return {"type": "input_text", "text": part.text}
    return {"type": "input_image", "image_url": part.url, "detail": part.detail or "auto"}


def _text_format(fmt: Any) -> dict | None:
    if not isinstance(fmt, Mapping):
        return None
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        return {"type": "json_schema", "name": spec.get("name", "answer"), "schema": spec.get("schema", {}),
                **({"strict": spec["strict"]} if "strict" in spec else {})}
    return {"type": str(fmt.get("type", "text"))}


def _finish(response: Any) -> str | None:
    status = field(response, "status")
    if status == "completed":
        return "stop"
    if status == "incomplete":
        return _INCOMPLETE.get(str(field(field(response, "incomplete_details"), "reason")), "length")
    return None  # in_progress, queued, or none said: unfinished


def _output(response: Any) -> tuple[str | None, str | None]:
    """(text, refusal) of a response's output messages."""
    texts: list[str] = []
    refusals: list[str] = []
    for item in field(response, "output") or []:
        if field(item, "type") != "message":
            continue  # reasoning items and tool calls carry no answer text
        for part in field(item, "content") or []:
            kind = field(part, "type")
            if kind == "output_text":
                texts.append(str(field(part, "text") or ""))
            elif kind == "refusal":
                refusals.append(str(field(part, "refusal") or ""))
    return ("".join(texts) if texts else None), ("".join(refusals) or None)


def _failed(error: Any, default: str) -> RequestError:
    message = field(error, "message") or default
    code = field(error, "code")
    if code in ("server_error", "rate_limit_exceeded", None):
        return ServerError(f"the endpoint reported an error mid-answer: {message}: try again later")
    return ResponseFormatError(f"the endpoint reported an error mid-answer ({code}): {message}")


class ResponsesWire:
    """The Responses API (see the module docstring)."""

    name = "responses"
    path = "/responses"

    @property
    def serves_only(self) -> frozenset[str]:
        from ..models.spec import RESPONSES_ONLY

        return RESPONSES_ONLY

    def encode(self, request: Request) -> dict:
        body: dict[str, Any] = {"model": request.model}
        if request.system:
            body["instructions"] = request.system
        items: list[dict] = []
        for turn in request.turns:
            if turn.role == "assistant":
                items.append({"role": "assistant", "content": "".join(
                    p.text for p in turn.parts if isinstance(p, Text))})
            else:
                items.append({"role": turn.role, "content": [_part(p) for p in turn.parts]})
        body["input"] = items
        if request.output_tokens is not None:
            body["max_output_tokens"] = request.output_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.reasoning_effort is not None:
            body["reasoning"] = {"effort": request.reasoning_effort}
        if request.schema is not None:
            body["text"] = {"format": {"type": "json_schema", "name": request.schema.name,
                                       "schema": request.schema.schema, "strict": request.schema.strict}}
        elif _text_format(request.extra.get("response_format")) is not None:
            body["text"] = {"format": _text_format(request.extra["response_format"])}
        body["store"] = False  # stateless: every request carries the whole conversation
        body.update(request.cache)
        dropped = sorted(k for k in request.extra if k in _CHAT_ONLY)
        if dropped:
            log.debug("fields with no Responses form not sent: %s", ", ".join(dropped))
        body.update({k: v for k, v in request.extra.items() if k not in _CHAT_ONLY})
        return body

    def decode(self, body: Mapping[str, Any]) -> Request:
        items = body.get("input")
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        if not isinstance(items, list) or not items:
            raise ConfigError("a Responses request body needs a non-empty 'input' list")
        turns: list[Turn] = []
        for item in items:
            role = item.get("role") if isinstance(item, Mapping) else None
            if role not in ("user", "assistant"):
                raise ConfigError(f"a Responses input item with role {role!r} has no neutral form")
            content = item.get("content")
            if isinstance(content, str):
                turns.append(Turn(role, content))
                continue
            parts: list[Part] = []
            for part in content or []:
                kind = part.get("type") if isinstance(part, Mapping) else None
                if kind in ("input_text", "output_text"):
                    parts.append(Text(str(part.get("text", ""))))
                elif kind == "input_image":
                    parts.append(Image(str(part.get("image_url")), part.get("detail")))
                else:
                    raise ConfigError(f"a Responses part of type {kind!r} has no neutral form")
            turns.append(Turn(role, tuple(parts)))
        fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), Mapping) else None
        schema = (Schema(str(fmt.get("name", "answer")), fmt.get("schema", {}), bool(fmt.get("strict", False)))
                  if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema" else None)
        reasoning = body.get("reasoning")
        return Request(model=str(body.get("model")), system=str(body.get("instructions") or ""), turns=tuple(turns),
                       output_tokens=body.get("max_output_tokens"), temperature=body.get("temperature"),
                       reasoning_effort=reasoning.get("effort") if isinstance(reasoning, Mapping) else None,
                       schema=schema, cache={k: body[k] for k in CACHE_HINTS if k in body},
                       extra={k: v for k, v in body.items() if k not in _OWN})

    def owns(self, body: Mapping[str, Any]) -> bool:
        return "messages" not in body and isinstance(body.get("input"), (list, str)) and bool(body["input"])

    def count(self, body: Mapping[str, Any], spec: ModelSpec) -> TokenCount:
        from ..models import chat_tokens

        system = [{"role": "system", "content": body["instructions"]}] if body.get("instructions") else []
        return chat_tokens([*system, *body["input"]], spec)

    def resource(self, sdk: Any) -> Any:
        return sdk.responses

    def stream_options(self) -> dict:
        return {"stream": True}

    def cache_endpoint(self, endpoint: str) -> str:
        return endpoint.rstrip("/") + self.path

    def parse(self, reply: Any) -> WireReply:
        if field(reply, "status") == "failed":
            raise _failed(field(reply, "error"), "the response failed")
        text, refusal = _output(reply)
        return WireReply(text, refusal, _finish(reply), usage_from(field(reply, "usage")), field(reply, "model"),
                         answered=text is not None or refusal is not None or field(reply, "status") == "incomplete")

    def new_stream(self) -> ResponsesStream:
        return ResponsesStream()


class ResponsesStream:
    """Typed Responses stream events."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.refusal: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.model: str | None = None
        self.saw_answer = False

    def take(self, event: Any) -> str | None:
        kind = field(event, "type")
        if kind == "response.output_text.delta":
            self.saw_answer = True
            delta = str(field(event, "delta") or "")
            self.pieces.append(delta)
            return delta or None
        if kind == "response.refusal.delta":
            self.saw_answer = True
            self.refusal.append(str(field(event, "delta") or ""))
        elif kind in ("response.created", "response.in_progress"):
            self.model = self.model or field(field(event, "response"), "model")
        elif kind in ("response.completed", "response.incomplete"):
            response = field(event, "response")
            self.saw_answer = True
            self.model = field(response, "model") or self.model
            self.usage = field(response, "usage")
            self.finish_reason = _finish(response)
            if not self.pieces:  # a server that sent no deltas: the final response holds the text
                text, refusal = _output(response)
                if text:
                    self.pieces.append(text)
                    return text
                if refusal:
                    self.refusal.append(refusal)
        elif kind == "response.failed":
            raise _failed(field(field(event, "response"), "error"), "the response failed")
        elif kind == "error":
            raise _failed(event, "the stream reported an error")
        return None

    def reply(self) -> WireReply:
        return WireReply("".join(self.pieces), "".join(self.refusal) or None, self.finish_reason,
                         usage_from(self.usage), self.model, self.saw_answer)


WIRE = ResponsesWire()
