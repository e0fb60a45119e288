"""The files and batches APIs for the loopback OpenAI-compatible server (tests/fakeserver.py).

    with FakeOpenAIServer(api_key=KEY) as server:
        batches = install_batches(server)             # POST /v1/files, POST /v1/batches (+ per-id routes)
        batches.enqueue_fault("expired")              # the next batch created expires half-way
        batches.fail_lines(lambda custom_id, body: custom_id == "b")   # those lines get a 400
        ...
        batches.uploads, batches.batches["batch_..."]["status"]

Routes, as OpenAI documents them:

- ``POST /v1/files`` (multipart: ``file``, ``purpose``): a file object ``{id, object: "file", bytes,
  created_at, filename, purpose, status}``; purpose ``batch`` files must be JSONL lines ``{"custom_id",
  "method": "POST", "url", "body"}`` with unique custom_ids (else 400);
- ``GET /v1/files/{id}`` and ``GET /v1/files/{id}/content`` (added per file: the server's route table
  matches exact paths);
- ``POST /v1/batches`` (``input_file_id``, ``endpoint`` ``/v1/chat/completions``, ``completion_window``
  ``24h``): a batch object, status ``validating``;
- ``GET /v1/batches/{id}``: each retrieve moves the batch one step: validating -> in_progress ->
  completed (``steps``). On reaching its end the batch runs its lines through the server's own chat
  validation and responder (as a ``chat.completion`` with usage) and writes the output file
  (``{"id", "custom_id", "response": {"status_code": 200, "request_id", "body"}, "error": null}``) and
  the error file (status 4xx lines with the error body, or ``"response": null`` and an ``error`` for
  lines a batch never ran).

Faults (FIFO, one per batch created): ``expired`` (status expired; the first half of the lines answered,
the rest ``batch_expired`` in the error file), ``failed`` (status failed, ``errors.data`` set, no
files), ``cancelled``; ``fail_lines`` makes chosen lines fail with 400.
Chat requests (``server.chat_requests``) are not counted for lines run by a batch.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fake_audio import _parse_form
from fakeserver import (
    ErrorReply,
    FakeOpenAIServer,
    RequestHandler,
    _chat_body_of,
    _text_tokens,
    _validate,
    cached_prefix_tokens,
)
from openapi_check import violations

__all__ = ["BATCH_FAULTS", "BatchesEndpoint", "StoredFile", "install_batches"]

BATCH_FAULTS = frozenset({"expired", "failed", "cancelled", "pass"})
DEFAULT_STEPS = ("validating", "in_progress", "completed")
ENDPOINTS = ("/v1/chat/completions", "/v1/responses")
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_LINES = 50_000

LineSelector = Callable[[str, dict], bool]


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def obj(self) -> dict:
        return {"id": self.id, "object": "file", "bytes": len(self.data), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed", "expires_at": None,
                "status_details": None}


class BatchesEndpoint:
    """State of the files and batches routes: files, batches, faults."""

    def __init__(self, server: FakeOpenAIServer, *, steps: tuple[str, ...] = DEFAULT_STEPS):
        self.server = server
        self.steps = steps
        self._lock = threading.Lock()
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, dict] = {}
        self.retrieves = 0
        self._faults: collections.deque[str] = collections.deque()
        self._batch_faults: dict[str, str] = {}
        self._step: dict[str, int] = {}
        self._line_selector: LineSelector | None = None
        self._seq = 0
        self._drops: collections.deque[str] = collections.deque()
        self.lists = 0
        self.garble_output = False
        """Output files start with a line that is not JSON."""

    # ---- test controls

    @property
    def uploads(self) -> list[StoredFile]:
        """Files uploaded with purpose ``batch``, in order."""
        with self._lock:
            return [f for f in self.files.values() if f.purpose == "batch"]

    def enqueue_fault(self, kind: str) -> None:
        """The next batch created ends this way (``BATCH_FAULTS``)."""
        if kind not in BATCH_FAULTS:
            raise ValueError(f"unknown batch fault {kind!r}; choose from {sorted(BATCH_FAULTS)}")
        with self._lock:
            self._faults.append(kind)

    def drop_after_create(self, what: str) -> None:
        """The next ``file`` upload or ``batch`` creation is carried out, then the connection is cut
        before the answer (a client killed or interrupted with the request in flight)."""
        if what not in ("file", "batch"):
            raise ValueError("drop_after_create: 'file' or 'batch'")
        with self._lock:
            self._drops.append(what)

    def _dropped(self, handler: RequestHandler, what: str) -> bool:
        with self._lock:
            if self._drops and self._drops[0] == what:
                self._drops.popleft()
                drop = True
            else:
                drop = False
        if drop:
            handler._drop_connection()
        return drop

    def list_batches(self, handler: RequestHandler, rec: dict) -> None:
        handler.check_auth()
        with self._lock:
            self.lists += 1
            data = sorted(self.batches.values(), key=lambda b: b["id"], reverse=True)
        handler.send_json(rec, 200, {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                                     "last_id": data[-1]["id"] if data else None, "has_more": False})

    def list_files(self, handler: RequestHandler, rec: dict) -> None:
        handler.check_auth()
        with self._lock:
            data = [f.obj() for f in self.files.values()]
        handler.send_json(rec, 200, {"object": "list", "data": data, "has_more": False})

    def fail_lines(self, selector: LineSelector) -> None:
        """Lines for which ``selector(custom_id, body)`` is true get a 400 in the error file."""
        self._line_selector = selector

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            self._seq += 1
            return f"{prefix}-{self._seq:04d}{int(time.time() * 1000) % 100000:05d}"

    # ---- files

    def create_file(self, handler: RequestHandler, rec: dict) -> None:
        raw = handler.read_body(rec)
        handler.check_auth()
        form, files = _parse_form(handler.headers.get("content-type") or "", raw)
        rec["body"] = {**form, **{name: {"filename": f, "bytes": len(d)} for name, (f, d) in files.items()}}
        purpose = form.get("purpose")
        if not purpose:
            raise ErrorReply(400, "Missing required parameter: 'purpose'.", param="purpose", code="missing_required_parameter")
        if "file" not in files:
            raise ErrorReply(400, "Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
        filename, data = files["file"]
        if purpose == "batch":
            _check_batch_input(data)
        stored = StoredFile(self._new_id("file"), filename, purpose, data, int(time.time()))
        self._store(stored)
        if not self._dropped(handler, "file"):
            handler.send_json(rec, 200, stored.obj())

    def _store(self, stored: StoredFile) -> None:
        with self._lock:
            self.files[stored.id] = stored
        fid = stored.id
        self.server.add_route("GET", f"/v1/files/{fid}", lambda h, r: self._get_file(h, r, fid, content=False))
        self.server.add_route("GET", f"/v1/files/{fid}/content", lambda h, r: self._get_file(h, r, fid, content=True))

    def _get_file(self, handler: RequestHandler, rec: dict, fid: str, *, content: bool) -> None:
        handler.check_auth()
        stored = self.files[fid]
        if content:
            handler.send_bytes(rec, 200, stored.data, "application/octet-stream")
        else:
            handler.send_json(rec, 200, stored.obj())

    # ---- batches

    def create_batch(self, handler: RequestHandler, rec: dict) -> None:
        body, ok = handler.read_json(rec)
        handler.check_auth()
        if not ok or not isinstance(body, dict):
            raise ErrorReply(400, "We could not parse the JSON body of your request.")
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not body.get(name):
                raise ErrorReply(400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
        if body["endpoint"] not in ENDPOINTS:
            raise ErrorReply(400, f"Invalid value: '{body['endpoint']}'.", param="endpoint", code="invalid_value")
        if body["completion_window"] != "24h":
            raise ErrorReply(400, f"Invalid value: '{body['completion_window']}'. Supported values are: '24h'.",
                             param="completion_window", code="invalid_value")
        stored = self.files.get(body["input_file_id"])
        if stored is None:
            raise ErrorReply(404, f"No such File object: {body['input_file_id']}", param="input_file_id")
        if stored.purpose != "batch":
            raise ErrorReply(400, "The input file must be uploaded with purpose 'batch'.", param="input_file_id")
        bid = self._new_id("batch")
        now = int(time.time())
        lines = _input_lines(stored.data)
        batch = {
            "id": bid, "object": "batch", "endpoint": body["endpoint"], "errors": None,
            "input_file_id": stored.id, "completion_window": "24h", "status": self.steps[0],
            "output_file_id": None, "error_file_id": None, "created_at": now, "in_progress_at": None,
            "expires_at": now + 86400, "finalizing_at": None, "completed_at": None, "failed_at": None,
            "expired_at": None, "cancelling_at": None, "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": body.get("metadata"), "model": None, "usage": None,
        }
        with self._lock:
            self.batches[bid] = batch
            self._step[bid] = 0
            fault = self._faults.popleft() if self._faults else "pass"
            self._batch_faults[bid] = fault
        self.server.add_route("GET", f"/v1/batches/{bid}", lambda h, r: self._retrieve(h, r, bid))
        if not self._dropped(handler, "batch"):
            handler.send_json(rec, 200, batch)

    def _retrieve(self, handler: RequestHandler, rec: dict, bid: str) -> None:
        handler.check_auth()
        with self._lock:
            self.retrieves += 1
            batch = self.batches[bid]
            ended = batch["status"] in ("completed", "expired", "failed", "cancelled")
            if not ended:
                self._step[bid] += 1
                step = self._step[bid]
                last = step >= len(self.steps) - 1
                if not last:
                    batch["status"] = self.steps[step]
                    batch["in_progress_at"] = batch["in_progress_at"] or int(time.time())
        if not ended and last:
            self._finish(bid)
        handler.send_json(rec, 200, self.batches[bid])

    def _finish(self, bid: str) -> None:
        batch = self.batches[bid]
        fault = self._batch_faults[bid]
        now = int(time.time())
        if fault == "failed":
            batch.update(status="failed", failed_at=now, errors={"object": "list", "data": [
                {"code": "invalid_request", "message": "The batch could not be processed (test fault).",
                 "param": None, "line": None}]})
            return
        lines = _input_lines(self.files[batch["input_file_id"]].data)
        run = lines if fault == "pass" else lines[: len(lines) // 2]
        outputs: list[dict] = []
        errors: list[dict] = []
        for n, line in enumerate(run):
            reply = self._answer(bid, n, line)
            (outputs if reply["response"]["status_code"] == 200 else errors).append(reply)
        if fault != "pass":
            code = "batch_expired" if fault == "expired" else "batch_cancelled"
            errors += [{"id": f"batch_req_{bid}_{n}", "custom_id": line["custom_id"], "response": None,
                        "error": {"code": code, "message": "This request could not be executed before the "
                                  "completion window expired." if fault == "expired" else "The batch was cancelled."}}
                       for n, line in enumerate(lines[len(run):], len(run))]
        if outputs:
            batch["output_file_id"] = self._write(bid, "output", outputs)
        if errors:
            batch["error_file_id"] = self._write(bid, "error", errors)
        batch["request_counts"] = {"total": len(lines), "completed": len(outputs), "failed": len(errors)}
        status = {"pass": "completed", "expired": "expired", "cancelled": "cancelled"}[fault]
        batch.update(status=status, finalizing_at=now, **{f"{status}_at": now})

    def _write(self, bid: str, kind: str, lines: list[dict]) -> str:
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        if self.garble_output and kind == "output" and data:
            data = b'{"custom_id": "id-0", "response": {"status_c\n' + data  # a cut, non-JSON line first
        stored = StoredFile(self._new_id("file"), f"{bid}_{kind}.jsonl", f"batch_{kind}", data, int(time.time()))
        self._store(stored)
        return stored.id

    def _answer(self, bid: str, n: int, line: dict) -> dict:
        """One line through the server's chat validation and responder."""
        request_id = f"req_{bid}_{n}"
        body = line["body"]
        selector = self._line_selector
        try:
            if selector is not None and selector(line["custom_id"], body):
                raise ErrorReply(400, "Invalid 'messages': rejected for this test line.", param="messages",
                                 code="invalid_value")
            responses = line.get("url") == "/v1/responses"
            if responses:
                broken = violations(body, "CreateResponse")
                if broken:
                    self.server.spec_violations.extend(broken)
                    raise ErrorReply(400, f"Invalid request: {broken[0]} (OpenAPI CreateResponse)")
                body = _chat_body_of(body)
            parsed = _validate(self.server, body, len(json.dumps(body)),
                               schema=None if responses else "CreateChatCompletionRequest")
            text = self.server.responder(body)
        except ErrorReply as err:
            return {"id": f"batch_req_{bid}_{n}", "custom_id": line["custom_id"],
                    "response": {"status_code": err.status, "request_id": request_id, "body": err.body()},
                    "error": None}
        completion_tokens = _text_tokens(text)
        finish = "stop"
        if parsed.max_output is not None and completion_tokens > parsed.max_output:
            text, completion_tokens, finish = text[: parsed.max_output * 4], parsed.max_output, "length"
        usage = {"prompt_tokens": parsed.prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": parsed.prompt_tokens + completion_tokens,
                 "prompt_tokens_details": {"cached_tokens": cached_prefix_tokens(self.server, parsed), "audio_tokens": 0}}
        if responses:
            images = sum(i.tokens for i in parsed.images)
            reply = {"id": f"resp_{request_id}", "object": "response", "created_at": int(time.time()),
                     "status": "completed" if finish == "stop" else "incomplete",
                     "incomplete_details": None if finish == "stop" else {"reason": "max_output_tokens"},
                     "model": parsed.model, "error": None,
                     "output": [{"type": "message", "id": f"msg_{request_id}", "status": "completed",
                                 "role": "assistant", "content": [{"type": "output_text", "text": text,
                                                                   "annotations": []}]}],
                     "usage": {"input_tokens": parsed.prompt_tokens, "output_tokens": completion_tokens,
                               "total_tokens": parsed.prompt_tokens + completion_tokens,
                               "input_tokens_details": {"cached_tokens": 0, "image_tokens": images},
                               "output_tokens_details": {"reasoning_tokens": 0}}}
            return {"id": f"batch_req_{bid}_{n}", "custom_id": line["custom_id"],
                    "response": {"status_code": 200, "request_id": request_id, "body": reply}, "error": None}
        completion = {
            "id": f"chatcmpl-{request_id}", "object": "chat.completion", "created": int(time.time()),
            "model": parsed.model, "system_fingerprint": "fp_fake", "service_tier": "default", "usage": usage,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                         "finish_reason": finish, "logprobs": None}],
        }
        return {"id": f"batch_req_{bid}_{n}", "custom_id": line["custom_id"],
                "response": {"status_code": 200, "request_id": request_id, "body": completion}, "error": None}


def _input_lines(data: bytes) -> list[dict]:
    return [json.loads(raw) for raw in data.decode("utf-8").splitlines() if raw.strip()]


def _check_batch_input(data: bytes) -> None:
    """OpenAI's checks of a batch input file: size, line count, JSONL lines, unique custom_ids."""
    if len(data) > MAX_FILE_BYTES:
        raise ErrorReply(400, f"File is too large: {len(data)} bytes; the limit for batch files is {MAX_FILE_BYTES}.",
                         param="file", code="invalid_file")
    seen: set[str] = set()
    for n, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        try:
            line = json.loads(raw)
        except ValueError:
            raise ErrorReply(400, f"Line {n} is not valid JSON.", param="file", code="invalid_file") from None
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str) or line.get("method") != "POST" \
                or not isinstance(line.get("url"), str) or not isinstance(line.get("body"), dict):
            raise ErrorReply(400, f"Line {n}: expected custom_id, method POST, url and body.", param="file",
                             code="invalid_file")
        if line["custom_id"] in seen:
            raise ErrorReply(400, f"Line {n}: duplicate custom_id {line['custom_id']!r}.", param="file",
                             code="duplicate_custom_id")
        seen.add(line["custom_id"])
        if n > MAX_LINES:
            raise ErrorReply(400, f"A batch file may hold at most {MAX_LINES} requests.", param="file",
                             code="invalid_file")


def install_batches(server: FakeOpenAIServer, **options: Any) -> BatchesEndpoint:
    """Add ``POST /v1/files`` and ``POST /v1/batches`` (per-id GET routes follow as objects are created).

    Args:
        server: the loopback server.
        **options: ``BatchesEndpoint`` options (``steps``).
    """
    endpoint = BatchesEndpoint(server, **options)
    server.add_route("POST", "/v1/files", endpoint.create_file)
    server.add_route("POST", "/v1/batches", endpoint.create_batch)
    server.add_route("GET", "/v1/batches", endpoint.list_batches)
    server.add_route("GET", "/v1/files", endpoint.list_files)
    return endpoint
