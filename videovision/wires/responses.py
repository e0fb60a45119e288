"""The Responses wire (``POST /v1/responses``): the body, the reply and its stream events.

The request videovision builds is a Chat Completions body; :func:`encode` turns it into a
``CreateResponse`` body: the system message becomes ``instructions``, each message an input message
of ``input_text`` / ``input_image`` parts (``detail`` on every image: vLLM refuses images without it),
assistant turns plain text, ``response_format`` goes to ``text.format``, the output limit to
``max_output_tokens``, ``reasoning_effort`` to ``reasoning.effort``. Stateless: a chat follow-up
sends the whole conversation (``store`` false, no ``previous_response_id``).
"""

from __future__ import annotations

from typing import Any

PATH = "/responses"

_KEPT = ("model", "temperature", "top_p", "prompt_cache_key", "prompt_cache_retention", "service_tier",
         "safety_identifier", "metadata", "user", "seed")
"""Body fields the two wires share (the rest are translated or have no Responses form)."""


def _parts(content: Any, role: str) -> list[dict[str, Any]]:
    kind = "input_text"
    if isinstance(content, str):
        return [{"type": kind, "text": content}]
    parts: list[dict[str, Any]] = []
    for part in content or []:
        if part.get("type") == "text":
            parts.append({"type": kind, "text": part.get("text", "")})
        elif part.get("type") == "image_url":
            image = part.get("image_url") or {}
            parts.append({"type": "input_image", "image_url": image.get("url"), "detail": image.get("detail") or "auto"})
    return parts


def encode(chat_body: dict[str, Any]) -> dict[str, Any]:
    """The ``CreateResponse`` body of a Chat Completions body (not modified)."""
    body: dict[str, Any] = {k: chat_body[k] for k in _KEPT if k in chat_body and k != "seed"}
    instructions: list[str] = []
    items: list[dict[str, Any]] = []
    for message in chat_body.get("messages", []):
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer") and not items:
            instructions.append(content if isinstance(content, str) else
                                "\n".join(p.get("text", "") for p in content or [] if p.get("type") == "text"))
            continue
        if role == "assistant":  # an earlier answer: an easy input message of plain text
            text = content if isinstance(content, str) else "".join(
                p.get("text", "") for p in content or [] if p.get("type") == "text")
            items.append({"type": "message", "role": "assistant", "content": text})
            continue
        items.append({"type": "message", "role": role, "content": _parts(content, role)})
    if instructions:
        body["instructions"] = "\n\n".join(instructions)
    body["input"] = items
    limit = chat_body.get("max_completion_tokens", chat_body.get("max_tokens"))
    if limit is not None:
        body["max_output_tokens"] = limit
    fmt = chat_body.get("response_format")
    if isinstance(fmt, dict):
        if fmt.get("type") == "json_schema":
            schema = fmt.get("json_schema") or {}
            body["text"] = {"format": {"type": "json_schema", **{k: schema[k] for k in ("name", "schema", "strict",
                                                                                         "description") if k in schema}}}
        elif fmt.get("type") in ("json_object", "text"):
            body["text"] = {"format": {"type": fmt["type"]}}
    if chat_body.get("reasoning_effort") is not None:
        body["reasoning"] = {"effort": chat_body["reasoning_effort"]}
    body["store"] = False
    return body


def _get(obj: Any, name: str) -> Any:
    value = getattr(obj, name, None)
    if value is None and isinstance(obj, dict):
        value = obj.get(name)
    return value


def output_text(response: Any) -> tuple[str | None, str | None]:
    """(the answer's text, a refusal) of a Response object or dict: its ``output_text`` parts joined."""
    texts: list[str] = []
    refusals: list[str] = []
    for item in _get(response, "output") or []:
        if _get(item, "type") != "message":
            continue
        for part in _get(item, "content") or []:
            kind = _get(part, "type")
            if kind == "output_text":
                texts.append(_get(part, "text") or "")
            elif kind == "refusal":
                refusals.append(_get(part, "refusal") or "")
    return ("".join(texts) if texts else None), ("".join(refusals) or None)


def finish_reason(response: Any) -> str | None:
    """The Chat Completions ``finish_reason`` a Response's status means: completed → stop; incomplete
    for max_output_tokens → length, for content_filter → content_filter; None while unfinished."""
    status = _get(response, "status")
    if status == "completed":
        return "stop"
    if status == "incomplete":
        reason = _get(_get(response, "incomplete_details"), "reason")
        return "content_filter" if reason == "content_filter" else "length"
    return None
