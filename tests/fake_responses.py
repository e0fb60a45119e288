"""``POST /v1/responses`` for the loopback server (``tests/fakeserver.py`` routes it here).

Per request: the next queued fault (the chat route's early faults, and "length" / "refusal" /
"truncate" / "cut" / "error_event" served here), the key, then the body against OpenAI's published
``CreateResponse`` schema (a violation is recorded in ``server.spec_violations`` and answered 400, as
the chat route does) and ``detail`` on every image (vLLM refuses images without it). The body is then
read as the Chat request it stands for, which goes through the chat route's own checks (images
decoded and counted, limits, models) and to the responder, so both wires meet the same rules. The
answer is a ``response`` object, or typed SSE events (``response.created`` ...
``response.output_text.delta`` ... ``response.completed`` / ``response.incomplete``) with
``stream``; usage is ``input_tokens`` / ``output_tokens`` with ``input_tokens_details.cached_tokens``,
``cache_write_tokens`` and ``image_tokens``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import fakeserver as fs
from openapi_check import violations

_OWN_FAULTS = frozenset({"length", "refusal", "truncate", "cut", "error_event", "pass"})
"""Faults this route serves itself (the others are the chat route's early faults)."""


def serve_responses(handler: fs.RequestHandler, rec: dict) -> None:
    body, body_ok = handler.read_json(rec)
    fault = handler.next_fault()
    if fault is not None and fault.kind not in _OWN_FAULTS and handler._early_fault(rec, fault):
        return
    handler.check_auth()
    if not body_ok or not isinstance(body, dict):
        raise fs.ErrorReply(400, "We could not parse the JSON body of your request.")
    chat, parsed = validated(handler.owner, body, rec["size"])
    rec["images"] = tuple(parsed.images)
    answer = handler.owner.responder(chat)
    if not isinstance(answer, str):
        raise TypeError(f"the responder must return a str, got {type(answer).__name__}")
    kind = fault.kind if fault is not None and fault.kind in _OWN_FAULTS else None
    response = build_response(handler.owner, rec["request_id"], body, parsed, answer, kind)
    if not body.get("stream"):
        handler.send_json(rec, 200, response)
        return
    _stream(handler, rec, response, kind)


def validated(owner: fs.FakeOpenAIServer, body: dict, size: int) -> tuple[dict, Any]:
    """Check a Responses body (the schema, ``detail`` on images, then the chat route's rules on the
    request it stands for): (the Chat request, the chat route's parse). Raises ErrorReply."""
    broken = violations(body, "CreateResponse")
    if broken:
        owner.spec_violations.extend(broken)
        raise fs._bad(f"Invalid request: {broken[0]} (OpenAPI CreateResponse)", code="invalid_request")
    for i, item in enumerate(body.get("input") or []):
        for j, part in enumerate(item.get("content") or [] if isinstance(item, dict) else []):
            if isinstance(part, dict) and part.get("type") == "input_image" and "detail" not in part:
                raise fs._bad("Missing required parameter: 'detail'.", f"input[{i}].content[{j}].detail",
                              "missing_required_parameter")
    chat = fs._chat_body_of(body)
    return chat, fs._validate(owner, chat, size, schema=None)


def build_response(owner: fs.FakeOpenAIServer, request_id: str, body: dict, parsed: Any, answer: str,
                   fault: str | None = None) -> dict:
    """The ``response`` object answering ``body`` with ``answer`` (cut at the output limit)."""
    status, reason, refusal = "completed", None, None
    output_tokens = fs._text_tokens(answer)
    limit = body.get("max_output_tokens")
    if isinstance(limit, int) and output_tokens > limit:
        answer, output_tokens, status, reason = answer[: limit * 4], limit, "incomplete", "max_output_tokens"
    if fault == "length":
        answer = answer[: max(1, len(answer) // 2)]
        output_tokens, status, reason = fs._text_tokens(answer), "incomplete", "max_output_tokens"
    elif fault == "refusal":
        refusal, answer = "I'm sorry, I can't help with that.", ""
        output_tokens = fs._text_tokens(refusal)
    cached = fs.cached_prefix_tokens(owner, parsed) if owner.prompt_caching else 0
    details = {"cached_tokens": cached, "cache_write_tokens": 0,
               "image_tokens": sum(i.tokens for i in parsed.images) if owner.count_images else 0}
    usage = {"input_tokens": parsed.prompt_tokens, "input_tokens_details": details, "output_tokens": output_tokens,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": parsed.prompt_tokens + output_tokens}
    part = {"type": "refusal", "refusal": refusal} if refusal else {"type": "output_text", "text": answer, "annotations": []}
    message = {"type": "message", "id": "msg_" + request_id, "status": status, "role": "assistant", "content": [part]}
    return {
        "id": "resp_" + request_id, "object": "response", "created_at": int(time.time()), "status": status,
        "error": None, "incomplete_details": {"reason": reason} if reason else None,
        "instructions": body.get("instructions"), "model": parsed.model, "output": [message],
        "parallel_tool_calls": False, "tool_choice": "auto", "tools": [], "temperature": body.get("temperature"),
        "top_p": None, "max_output_tokens": body.get("max_output_tokens"), "metadata": {}, "usage": usage,
    }


def _stream(handler: fs.RequestHandler, rec: dict, response: dict, fault: str | None) -> None:
    """Typed events, chunked; "truncate" stops after half the deltas (the body ends cleanly), "cut"
    closes the connection there, "error_event" sends an ``error`` event there."""
    rec["status"] = 200
    handler._commit(rec)
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("x-request-id", rec["request_id"])
    handler.end_headers()
    seq = 0

    def event(kind: str, **payload: Any) -> None:
        nonlocal seq
        data = json.dumps({"type": kind, "sequence_number": seq, **payload}).encode()
        seq += 1
        frame = b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"
        handler.write(b"%x\r\n%s\r\n" % (len(frame), frame))

    pending = {**response, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    event("response.created", response=pending)
    event("response.in_progress", response=pending)
    item = response["output"][0]
    part = item["content"][0]
    event("response.output_item.added", output_index=0,
          item={"type": "message", "id": item["id"], "status": "in_progress", "role": "assistant", "content": []})
    pieces = fs._pieces(part.get("text", ""))
    cut = fault in ("truncate", "cut", "error_event")
    if part.get("refusal"):
        event("response.refusal.delta", item_id=item["id"], output_index=0, content_index=0, delta=part["refusal"])
    else:
        for piece in pieces[: max(1, len(pieces) // 2)] if cut else pieces:
            event("response.output_text.delta", item_id=item["id"], output_index=0, content_index=0, delta=piece,
                  logprobs=[])
    if fault == "cut":
        handler._drop_connection()
        return
    if fault == "error_event":
        event("error", code="server_error", message="The server had an error while processing your request.",
              param=None)
    elif fault != "truncate":
        event("response.output_text.done", item_id=item["id"], output_index=0, content_index=0,
              text=part.get("text", ""), logprobs=[])
        event("response.output_item.done", output_index=0, item=item)
        event("response.incomplete" if response["status"] == "incomplete" else "response.completed", response=response)
    handler.write(b"0\r\n\r\n")
