"""A loopback OpenAI-compatible Chat Completions server for end-to-end tests.

A real HTTP server (``http.server.ThreadingHTTPServer`` on 127.0.0.1, port 0) in a background
thread, so any client version and transport (openai 3.x uses ``httpx2``) is tested on the wire.
Standard library only, plus OpenCV/numpy to decode the images it receives.

    with FakeOpenAIServer(api_key="sk-test") as server:
        client = openai.OpenAI(api_key="sk-test", base_url=server.base_url)
        server.enqueue_fault("429", retry_after=0.01)     # the next chat request gets a 429
        ...
        assert server.request_count == 2

What it does, per ``POST /v1/chat/completions``:

1. takes the next queued fault, if any (FIFO, one per chat request; ``FAULT_KINDS`` lists them: HTTP
   errors, slow/held/trickled bodies, truncated or cut streams, a key echoed in an error or an answer);
2. checks ``Authorization: Bearer <key>`` (401 ``invalid_api_key``);
3. validates the body the way OpenAI documents it and answers 400 ``invalid_request_error``
   (404 ``model_not_found`` for a model outside ``models`` when that list is given);
4. asks the responder ``(body) -> str`` for the answer (the default lists the time labels it saw
   before each image, or builds JSON from a ``json_schema`` response format);
5. answers a ``chat.completion`` (or SSE ``chat.completion.chunk``s when ``stream`` is true) with
   deterministic ``usage`` and an ``x-request-id`` header.

Routing is a table, ``server.routes[(method, path)] = handler`` with ``handler(request_handler, rec)``
(``add_route``): a new endpoint is one function using the handler's ``read_body``/``read_json``,
``check_auth``, ``next_fault``, ``send_json``/``send_bytes`` and raising ``ErrorReply`` for errors.

Counting: ``received_count`` counts requests as they arrive (before any answer; ``wait_for_received``
waits for it), ``request_count``/``requests`` those answered or dropped, ``release()`` lets "hold"
faults answer.

Token counts are deterministic, not real: text ``ceil(chars / 4)`` per text part, 3 per message,
3 for the reply; images by the gpt-4o tile rule (``low`` = 85, else ``85 + 170 x tiles``). An answer
longer than ``max_completion_tokens``/``max_tokens`` (4 characters a token) is cut off with
``finish_reason: "length"``, as a real model would.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from openapi_check import violations

__all__ = [
    "DEFAULT_MAX_IMAGES",
    "DEFAULT_MAX_IMAGE_BYTES",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "DEFAULT_MODELS",
    "DEFAULT_TRICKLE_BYTES",
    "FAULT_KINDS",
    "ErrorReply",
    "FakeOpenAIServer",
    "Fault",
    "ImageInfo",
    "ReceivedRequest",
    "RequestHandler",
    "Responder",
    "Route",
    "count_images",
    "decoded_images",
    "default_responder",
    "first_showing_responder",
    "frame_labels",
    "instance_from_schema",
    "label_seconds",
]

DEFAULT_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1-mini")
"""What ``GET /v1/models`` lists when the server is not given a model list."""
DEFAULT_MAX_IMAGES = 500
"""Images per request (OpenAI's documented limit)."""
DEFAULT_MAX_PAYLOAD_BYTES = 50 * 1024 * 1024
"""Total request body bytes (OpenAI's documented limit for image inputs)."""
DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Decoded bytes per image."""
DEFAULT_HANDLER_TIMEOUT = 30.0
"""Seconds an idle connection may stay open (bounds every handler thread)."""
DEFAULT_TRICKLE_BYTES = 8
"""Bytes the "trickle" fault writes at a time."""
DEFAULT_TRICKLE_INTERVAL = 0.05
"""Seconds the "trickle" fault waits between writes (its ``delay``)."""

ROLES = ("system", "developer", "user", "assistant", "tool")
PART_TYPES = ("text", "image_url")
DETAILS = ("low", "high", "auto")
IMAGE_FORMATS = ("jpeg", "png", "webp", "gif")

FAULT_KINDS = frozenset(
    {
        "401",  # key rejected
        "403",  # no access to the model
        "404",  # model_not_found
        "429",  # rate limited (retry_after -> Retry-After header)
        "quota",  # 429 insufficient_quota
        "500",
        "502",
        "503",
        "slow",  # wait `delay` seconds, then answer normally
        "disconnect",  # close the connection without answering
        "malformed",  # 200, Content-Type application/json, body not JSON
        "html",  # 200, Content-Type text/html (a proxy's page)
        "empty",  # 200 chat.completion with no choices
        "length",  # 200, answer cut off: finish_reason "length"
        "refusal",  # 200 with message.refusal set (content null)
        "content_filter",  # 200 with finish_reason "content_filter"
        "content_policy",  # 400 content_policy_violation
        "context",  # 400 context_length_exceeded
        "error_event",  # /v1/responses streaming: half the answer, then an ``error`` event
        "pass",  # no fault: answer normally (to script faults for later requests)
        # faults of the hardening trial (docs in Fault and enqueue_fault)
        "truncate",  # half the answer, then the body ends cleanly: no finish_reason, no usage, no [DONE]
        "truncate_done",  # half the answer, then [DONE] without a finish_reason chunk
        "cut",  # half the body, then the connection is closed mid-body
        "trickle",  # the whole answer, `trickle_bytes` bytes every `delay` seconds
        "hold",  # wait until release() (or the server stops), then answer normally
        "401_echo",  # 401 whose message echoes the full key received (unmasked)
        "echo_key",  # 200 whose answer quotes the key received, bare and as "Bearer <key>"
    }
)

Responder = Callable[[dict], str]
Route = Callable[["RequestHandler", dict], None]
"""``handler(request_handler, rec)``: serve one request; ``rec`` is the record being built
(method, path, headers, body, size, request_id, status, images)."""

_TIMECODE = re.compile(r"\[?((?:\d{1,2}:)?\d{1,2}:\d{2}(?:\.\d+)?)\]?")
_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)$", re.S)
_SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ImageInfo:
    """An image the server received and decoded."""

    format: str
    width: int
    height: int
    bytes: int
    detail: str
    tokens: int
    label: str | None
    """The time label found in the text part just before the image, if any."""


@dataclass(frozen=True)
class ReceivedRequest:
    """One HTTP request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names in lower case."""
    body: Any
    """The parsed JSON body (None when absent or not JSON)."""
    size: int
    """Body bytes."""
    request_id: str
    status: int = 0
    """The status the server answered (0 if it never answered)."""
    images: tuple[ImageInfo, ...] = ()

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/").endswith("/chat/completions")


@dataclass(frozen=True)
class Fault:
    """A fault served instead of (or on top of) the next chat request's normal answer."""

    kind: str
    retry_after: float | None = None
    """Seconds sent as ``Retry-After`` (429/5xx faults)."""
    delay: float = 0.0
    """Seconds to wait first ("slow" fault)."""
    message: str | None = None
    """Override the error message."""
    trickle_bytes: int = DEFAULT_TRICKLE_BYTES
    """Bytes written at a time ("trickle" fault; ``delay`` seconds apart)."""


class ErrorReply(Exception):
    """Raised inside the handler to send an OpenAI-shaped error."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


@dataclass
class _Parsed:
    model: str
    images: list[ImageInfo] = field(default_factory=list)
    prompt_tokens: int = 0
    max_output: int | None = None
    stream: bool = False
    include_usage: bool = False
    prefixes: list[tuple[str, int]] = field(default_factory=list)
    """(digest of the prompt up to here, tokens up to here) after each message and content part:
    what the simulated prompt cache matches on."""


# --------------------------------------------------------------------------- the server


class FakeOpenAIServer:
    """An OpenAI-compatible Chat Completions endpoint on 127.0.0.1 for tests.

    Args:
        api_key: the key the server expects; None accepts any non-empty Bearer key.
        require_auth: False accepts requests without an Authorization header (like most local servers).
        models: the models it knows; others get 404 ``model_not_found``. None accepts any model name.
        responder: ``(body) -> str`` producing the answer text; ``default_responder`` if None.
        max_images: images per request.
        max_payload_bytes: request body bytes.
        max_image_bytes: decoded bytes per image.
        context_window: when set, prompt tokens + max output tokens above it get 400
            ``context_length_exceeded``.
        allow_original_detail: accept ``detail: "original"`` (newer models) besides low/high/auto.
        supports_stream_options: False answers 400 to ``stream_options`` (as some older servers do).
        unsupported_params: model -> parameter names it rejects with 400 ``unsupported_parameter``
            (e.g. ``{"o3": ["max_tokens", "temperature"]}``).
        check_strict_schemas: with ``json_schema.strict: true``, require every object to list all its
            properties in ``required`` and to set ``additionalProperties: false`` (as OpenAI does).
        host, port: where to listen (port 0 picks a free one).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        require_auth: bool = True,
        models: Sequence[str] | None = None,
        responder: Responder | None = None,
        max_images: int = DEFAULT_MAX_IMAGES,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        context_window: int | None = None,
        allow_original_detail: bool = True,
        supports_stream_options: bool = True,
        unsupported_params: Mapping[str, Iterable[str]] | None = None,
        check_strict_schemas: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.api_key = api_key
        self.require_auth = require_auth
        self.prompt_caching = True
        """Simulate OpenAI's automatic prompt caching: a prompt whose first 1,024+ tokens were sent
        before reports them (in 128-token steps) as ``usage.prompt_tokens_details.cached_tokens``."""
        self.count_images = True
        """False: images are accepted but not counted in ``prompt_tokens`` (a server that drops them)."""
        self.report_image_tokens = True
        """Report ``usage.prompt_tokens_details.image_tokens`` as OpenAI does (False: a server that
        reports totals only, as many OpenAI-compatible ones do)."""
        self._prompt_cache: set[str] = set()
        self.models = tuple(models) if models is not None else None
        self.responder: Responder = responder or default_responder
        self.max_images = max_images
        self.max_payload_bytes = max_payload_bytes
        self.max_image_bytes = max_image_bytes
        self.context_window = context_window
        self.allow_original_detail = allow_original_detail
        self.supports_stream_options = supports_stream_options
        self.unsupported_params = {m: frozenset(p) for m, p in (unsupported_params or {}).items()}
        self.check_strict_schemas = check_strict_schemas
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._requests: list[ReceivedRequest] = []
        self._faults: collections.deque[Fault] = collections.deque()
        self._errors: list[BaseException] = []
        self.spec_violations: list[str] = []
        """Chat bodies that broke OpenAI's published schema (answered 400): [] for a healthy client."""
        self._seq = 0
        self._closing = threading.Event()
        self._released = threading.Event()
        self._arrived = threading.Condition(self._lock)
        self._received = 0
        self._sockets: set[socket.socket] = set()
        self.routes: dict[tuple[str, str], Route] = {
            ("POST", "/v1/chat/completions"): RequestHandler.serve_chat,
            ("POST", "/v1/responses"): RequestHandler.serve_responses,
            ("GET", "/v1/models"): RequestHandler.serve_models,
        }
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> FakeOpenAIServer:
        """Start listening (idempotent). Returns self."""
        if self._httpd is not None:
            return self
        self._closing.clear()
        httpd = _HTTPServer((self._host, self._port), _make_handler(self))
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.name = f"FakeOpenAIServer:{self.port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wakes "slow", "hold" and "trickle" handlers, closes open connections, joins the thread."""
        httpd = self._httpd
        if httpd is None:
            return
        self._closing.set()
        self._released.set()
        httpd.shutdown()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    close = stop

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- addresses

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running: call start() or use it as a context manager")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path)."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: what an OpenAI client takes as ``base_url``."""
        return self.url + "/v1"

    # ---- what it received

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far (a copy), in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[ReceivedRequest]:
        """The ``POST /v1/chat/completions`` requests received so far."""
        return [r for r in self.requests if r.is_chat]

    @property
    def responses_requests(self) -> list[ReceivedRequest]:
        """The ``POST /v1/responses`` requests received so far."""
        return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/").endswith("/v1/responses")]

    @property
    def request_count(self) -> int:
        """How many HTTP requests (any path) the server received and answered (or dropped)."""
        with self._lock:
            return len(self._requests)

    @property
    def received_count(self) -> int:
        """How many HTTP requests (any path) have arrived, answered or not (e.g. still held)."""
        with self._lock:
            return self._received

    def wait_for_received(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` requests have arrived; False on timeout."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self._received >= count, timeout)

    def release(self) -> None:
        """Let every "hold" fault (waiting or still queued) answer."""
        self._released.set()

    def add_route(self, method: str, path: str, handler: Route) -> None:
        """Serve ``method path`` (e.g. ``"POST", "/v1/audio/transcriptions"``) with ``handler``."""
        self.routes[(method.upper(), path.rstrip("/"))] = handler

    @property
    def last_body(self) -> Any:
        """The JSON body of the last chat request (None if there was none)."""
        chats = self.chat_requests
        return chats[-1].body if chats else None

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions inside the server (including a failing responder); [] when healthy."""
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        """Forget received requests, queued faults and errors."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._errors.clear()
            self._received = 0

    # ---- faults

    def enqueue_fault(
        self,
        kind: str | int,
        *,
        retry_after: float | None = None,
        delay: float | None = None,
        message: str | None = None,
        times: int = 1,
        trickle_bytes: int = DEFAULT_TRICKLE_BYTES,
    ) -> None:
        """Queue a fault for the next chat request(s), FIFO, one fault per request.

        Args:
            kind: one of ``FAULT_KINDS`` ("429", "500", "503", "slow", "malformed", "length",
                "refusal", "context", "401", "403", "404", "truncate", "cut", "trickle", "hold",
                "401_echo", "echo_key", ...); an int status is accepted too.
            retry_after: seconds to send as ``Retry-After`` (429 / 5xx).
            delay: seconds the "slow" fault waits before answering (default 2), or between the
                writes of the "trickle" fault (default ``DEFAULT_TRICKLE_INTERVAL``).
            message: replaces the error message of error faults.
            times: queue the same fault this many times.
            trickle_bytes: bytes the "trickle" fault writes at a time.
        """
        kind = str(kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {sorted(FAULT_KINDS)}")
        if trickle_bytes < 1:
            raise ValueError("trickle_bytes must be >= 1")
        defaults = {"slow": 2.0, "trickle": DEFAULT_TRICKLE_INTERVAL}
        wait = (defaults[kind] if delay is None else delay) if kind in defaults else 0.0
        fault = Fault(kind, retry_after=retry_after, delay=wait, message=message, trickle_bytes=trickle_bytes)
        with self._lock:
            self._faults.extend([fault] * times)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    # ---- internals used by the handler

    def _next_request_id(self) -> str:
        with self._lock:
            self._seq += 1
            return f"req_fake{self._seq:08d}"

    def _pop_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _arrive(self) -> None:
        with self._arrived:
            self._received += 1
            self._arrived.notify_all()

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _record_error(self, err: BaseException) -> None:
        with self._lock:
            self._errors.append(err)

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._sockets.add if add else self._sockets.discard)(sock)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that go away (timeouts) are normal here


# --------------------------------------------------------------------------- the handler


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(RequestHandler):
        owner = server

    return Handler


class RequestHandler(BaseHTTPRequestHandler):
    """Serves one connection; routes each request through ``owner.routes``.

    Helpers for route handlers: ``read_body``/``read_json``, ``check_auth``, ``next_fault``,
    ``send_json``/``send_bytes``/``write`` (``write`` honours a "trickle" fault); raise ``ErrorReply``
    to answer an OpenAI-shaped error.
    """

    owner: FakeOpenAIServer
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAI/1.0"
    timeout = DEFAULT_HANDLER_TIMEOUT

    def setup(self) -> None:
        super().setup()
        self.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.owner._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ---- HTTP verbs

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    # ---- plumbing

    def _route(self, path: str) -> Route:
        routes = self.owner.routes
        key = (self.command, path.rstrip("/"))
        if key in routes:
            return routes[key]
        if self.command == "GET" and key[1].startswith("/v1/models/"):
            return RequestHandler.serve_models
        return RequestHandler.serve_not_found

    def _serve(self) -> None:
        self.owner._arrive()
        self._trickle: Fault | None = None
        rec: dict[str, Any] = {
            "method": self.command,
            "path": self.path.split("?", 1)[0],
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": None,
            "size": 0,
            "request_id": self.owner._next_request_id(),
            "status": 0,
            "images": (),
        }
        self._committed = False
        try:
            self._route(rec["path"])(self, rec)
        except ErrorReply as reply:
            self.send_json(rec, reply.status, reply.body(), reply.headers)
        except (TimeoutError, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as err:  # a bug in the server or the responder: report it, do not hang
            self.owner._record_error(err)
            body = {"error": {"message": f"fake server error: {err!r}", "type": "server_error", "param": None, "code": None}}
            try:
                self.send_json(rec, 500, body, {"x-should-retry": "false"})
            except OSError:
                self.close_connection = True
        finally:
            self._commit(rec)

    def _commit(self, rec: dict) -> None:
        """Record the request once, before its answer is written (so a client never sees an
        answer before the request is counted)."""
        if not self._committed:
            self._committed = True
            self.owner._record(ReceivedRequest(**rec))

    def next_fault(self) -> Fault | None:
        """The next queued fault (one per request that takes faults), or None."""
        return self.owner._pop_fault()

    def read_json(self, rec: dict) -> tuple[Any, bool]:
        """The body parsed as JSON into ``rec["body"]``: (body, whether it parsed)."""
        raw = self.read_body(rec)
        try:
            rec["body"] = json.loads(raw) if raw else None
        except ValueError:
            rec["body"] = None
            return None, False
        return rec["body"], True

    def read_body(self, rec: dict) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        if length > 4 * self.owner.max_payload_bytes:
            self.close_connection = True
            raise ErrorReply(413, f"Request body too large: {length} bytes.", code="request_too_large")
        data = self.rfile.read(length) if length else b""
        rec["size"] = len(data)
        return data

    def send_json(self, rec: dict, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_bytes(rec, status, data, "application/json", headers)

    def send_bytes(
        self, rec: dict, status: int, data: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        rec["status"] = status
        self._commit(rec)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", rec["request_id"])
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.write(data)

    def write(self, data: bytes) -> None:
        """Write response bytes: at once, or a few at a time under a "trickle" fault."""
        trickle = self._trickle
        if trickle is None:
            self.wfile.write(data)
            self.wfile.flush()
            return
        for start in range(0, len(data), trickle.trickle_bytes):
            if self.owner._closing.wait(trickle.delay):
                self.close_connection = True
                raise ConnectionAbortedError("server stopping")
            self.wfile.write(data[start : start + trickle.trickle_bytes])
            self.wfile.flush()

    def serve_not_found(self, rec: dict) -> None:
        self.read_body(rec)
        raise ErrorReply(404, f"Invalid URL ({self.command} {rec['path']})")

    def check_auth(self) -> None:
        owner = self.owner
        header = self.headers.get("authorization")
        if header is None or not header.startswith("Bearer ") or not header[7:].strip():
            if not owner.require_auth and header is None:
                return
            raise ErrorReply(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code="invalid_api_key",
            )
        key = self.bearer_key() or ""
        if owner.api_key is not None and key != owner.api_key:
            raise ErrorReply(401, f"Incorrect API key provided: {_mask_key(key)}.", code="invalid_api_key")

    def bearer_key(self) -> str | None:
        """The key sent as ``Authorization: Bearer <key>``, or None."""
        header = self.headers.get("authorization") or ""
        return header[7:].strip() or None if header.startswith("Bearer ") else None

    # ---- GET /v1/models[/id]

    def serve_models(self, rec: dict) -> None:
        path = rec["path"].rstrip("/")
        if path == "/v1/models":
            self.check_auth()
            models = self.owner.models if self.owner.models is not None else DEFAULT_MODELS
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fakeserver"} for m in models]
            self.send_json(rec, 200, {"object": "list", "data": data})
        elif path.startswith("/v1/models/"):
            self.check_auth()
            model = path[len("/v1/models/") :]
            models = self.owner.models if self.owner.models is not None else DEFAULT_MODELS
            if model not in models:
                raise ErrorReply(404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found")
            self.send_json(rec, 200, {"id": model, "object": "model", "created": 0, "owned_by": "fakeserver"})
        else:
            raise ErrorReply(404, f"Invalid URL (GET {rec['path']})")

    # ---- POST /v1/chat/completions

    def serve_chat(self, rec: dict) -> None:
        body, body_ok = self.read_json(rec)
        size = rec["size"]
        fault = self.next_fault()
        if fault is not None and self._early_fault(rec, fault):
            return

        self.check_auth()
        if not body_ok:
            raise ErrorReply(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
                "valid JSON.)",
            )
        parsed = _validate(self.owner, body, size)
        rec["images"] = tuple(parsed.images)
        answer = self.owner.responder(body)
        if not isinstance(answer, str):
            raise TypeError(f"the responder must return a str, got {type(answer).__name__}")
        late = fault.kind if fault is not None and fault.kind in _LATE_FAULTS else None
        self._answer(rec, body, parsed, answer, late)

    def serve_responses(self, rec: dict) -> None:
        """``POST /v1/responses``: see ``tests/fake_responses.py``."""
        from fake_responses import serve_responses

        serve_responses(self, rec)

    def _early_fault(self, rec: dict, fault: Fault) -> bool:
        """Serve a fault that replaces the answer (True), or let the request go on (False).

        "slow" waits first; the late faults ("length", "refusal", "content_filter") change the answer.
        """
        kind = fault.kind
        if kind == "pass":
            return False
        if kind == "slow":
            if self.owner._closing.wait(fault.delay):
                self.close_connection = True
                raise ConnectionAbortedError("server stopping")
            return False
        if kind == "hold":
            self.owner._released.wait()
            if self.owner._closing.is_set():
                self.close_connection = True
                raise ConnectionAbortedError("server stopping")
            return False
        if kind == "trickle":
            self._trickle = fault
            return False
        if kind in _LATE_FAULTS:
            return False
        model = rec["body"].get("model") if isinstance(rec["body"], dict) else None
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["retry-after"] = repr(float(fault.retry_after))
        msg = fault.message
        if kind == "disconnect":
            self.close_connection = True
            self._commit(rec)
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if kind == "malformed":
            self.send_bytes(rec, 200, b'{"id": "chatcmpl-broken", "choices": [ this is not json', "application/json")
            return True
        if kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1><p>upstream went away</p></body></html>"
            self.send_bytes(rec, 200, page, "text/html; charset=utf-8")
            return True
        if kind == "empty":
            self.send_json(rec, 200, _completion(rec, model or "unknown", [], None))
            return True
        replies = {
            "401": ErrorReply(401, msg or "Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.", code="invalid_api_key"),
            "401_echo": ErrorReply(401, msg or f"Incorrect API key provided: {self.bearer_key()}. You can find your API key at https://platform.openai.com/account/api-keys.", code="invalid_api_key"),
            "403": ErrorReply(403, msg or f"Project does not have access to model `{model}`.", code="model_not_found", type="invalid_request_error"),
            "404": ErrorReply(404, msg or f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"),
            "429": ErrorReply(429, msg or f"Rate limit reached for {model} on tokens per min (TPM): Limit 30000, Used 30000, Requested 1200. Please try again in 2.4s.", type="tokens", code="rate_limit_exceeded", headers=headers),
            "quota": ErrorReply(429, msg or "You exceeded your current quota, please check your plan and billing details.", type="insufficient_quota", code="insufficient_quota", headers=headers),
            "500": ErrorReply(500, msg or "The server had an error while processing your request. Sorry about that!", type="server_error", headers=headers),
            "502": ErrorReply(502, msg or "Bad gateway.", type="server_error", headers=headers),
            "503": ErrorReply(503, msg or "The engine is currently overloaded, please try again later.", type="server_error", headers=headers),
            "content_policy": ErrorReply(400, msg or "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.", code="content_policy_violation"),
            "context": ErrorReply(400, msg or "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.", param="messages", code="context_length_exceeded"),
        }
        raise replies[kind]

    # ---- the answer

    def _answer(self, rec: dict, body: dict, parsed: _Parsed, answer: str, late: str | None) -> None:
        finish: str | None = "stop"
        refusal: str | None = None
        if late == "echo_key":
            key = self.bearer_key()
            answer += f" The request was authorised with Bearer {key} (key {key})."
        completion_tokens = _text_tokens(answer)
        if parsed.max_output is not None and completion_tokens > parsed.max_output:
            answer = answer[: parsed.max_output * 4]
            completion_tokens = parsed.max_output
            finish = "length"
        if late == "length":
            answer = answer[: max(1, len(answer) // 2)]
            completion_tokens = _text_tokens(answer)
            finish = "length"
        elif late == "refusal":
            refusal, answer = "I'm sorry, I can't help with that.", None  # type: ignore[assignment]
            completion_tokens = _text_tokens(refusal)
        elif late == "content_filter":
            answer = ""
            completion_tokens = 0
            finish = "content_filter"
        elif late in _CUT_FAULTS and not parsed.stream:  # a streamed answer is cut in _stream
            answer = answer[: max(1, len(answer) // 2)]
            completion_tokens = _text_tokens(answer)
            finish = None
        usage = {
            "prompt_tokens": parsed.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": parsed.prompt_tokens + completion_tokens,
        }
        details: dict[str, int] = {}
        if self.owner.prompt_caching:
            details.update(cached_tokens=cached_prefix_tokens(self.owner, parsed), audio_tokens=0)
        if self.owner.report_image_tokens:
            details["image_tokens"] = sum(i.tokens for i in parsed.images) if self.owner.count_images else 0
        if details:
            usage["prompt_tokens_details"] = details
        if parsed.stream:
            self._stream(rec, parsed, answer, refusal, finish or "stop", usage, late if late in _CUT_FAULTS else None)
            return
        message = {"role": "assistant", "content": answer, "refusal": refusal}
        choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
        completion = _completion(rec, parsed.model, [choice], usage)
        if late == "cut":
            self._send_cut(rec, json.dumps(completion).encode())
            return
        self.send_json(rec, 200, completion)

    def _send_cut(self, rec: dict, data: bytes) -> None:
        """Announce the whole body, send half of it, then close the connection."""
        rec["status"] = 200
        self._commit(rec)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", rec["request_id"])
        self.end_headers()
        self.write(data[: len(data) // 2])
        self._drop_connection()

    def _drop_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _stream(
        self,
        rec: dict,
        parsed: _Parsed,
        answer: str | None,
        refusal: str | None,
        finish: str,
        usage: dict,
        cut: str | None = None,
    ) -> None:
        """Answer as SSE chunks; ``cut`` ("truncate", "truncate_done", "cut") stops after half the
        answer's pieces: the body ends cleanly, or sends [DONE], or the connection is dropped."""
        rec["status"] = 200
        self._commit(rec)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", rec["request_id"])
        self.end_headers()

        base = {
            "id": "chatcmpl-" + rec["request_id"],
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": parsed.model,
            "system_fingerprint": "fp_fake",
        }
        extra = {"usage": None} if parsed.include_usage else {}

        def event(payload: Any) -> None:
            data = b"data: " + (payload if isinstance(payload, bytes) else json.dumps(payload).encode()) + b"\n\n"
            self.write(b"%x\r\n%s\r\n" % (len(data), data))

        def chunk(delta: dict, finish_reason: str | None = None) -> dict:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}], **extra}

        event(chunk({"role": "assistant", "content": "" if refusal is None else None, "refusal": None}))
        if refusal is not None:
            for piece in _pieces(refusal):
                event(chunk({"refusal": piece}))
        else:
            pieces = _pieces(answer or "")
            for piece in pieces[: max(1, len(pieces) // 2)] if cut else pieces:
                event(chunk({"content": piece}))
        if cut == "cut":
            self._drop_connection()
            return
        if cut is None:
            event(chunk({}, finish))
            if parsed.include_usage:
                event({**base, "choices": [], "usage": usage})
        if cut != "truncate":
            event(b"[DONE]")
        self.write(b"0\r\n\r\n")


_CUT_FAULTS = frozenset({"truncate", "truncate_done", "cut"})
"""Faults that stop an answer half-way (no finish_reason)."""
_LATE_FAULTS = frozenset({"length", "refusal", "content_filter", "echo_key"}) | _CUT_FAULTS
"""Faults that change a valid answer (the request is still validated)."""


def _completion(rec: dict, model: str, choices: list, usage: dict | None) -> dict:
    return {
        "id": "chatcmpl-" + rec["request_id"],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage,
        "system_fingerprint": "fp_fake",
        "service_tier": "default",
    }


def _pieces(text: str) -> list[str]:
    """Split an answer into stream deltas (word by word, whitespace kept)."""
    return re.findall(r"\S+\s*|\s+", text) or [text] if text else []


def _mask_key(key: str) -> str:
    """Mask a key the way OpenAI echoes it: a few leading characters and the last four."""
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def _text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


# --------------------------------------------------------------------------- validation


def _bad(message: str, param: str | None = None, code: str | None = None, status: int = 400) -> ErrorReply:
    return ErrorReply(status, message, param=param, code=code)


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a decimal",
        str: "a string",
        list: "an array",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


RESPONSES_ONLY = frozenset({"gpt-5-pro", "gpt-5.5-pro", "gpt-5.4-pro", "gpt-5.2-pro", "o3-pro", "o1-pro",
                            "gpt-5-codex", "computer-use-preview"})
"""Models OpenAI serves only through /v1/responses (with their dated snapshots)."""


def _chat_body_of(body: dict) -> dict:
    """A Responses body as the Chat Completions body it stands for (to reuse the message checks)."""
    messages: list[dict] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": body["instructions"]})
    for item in body.get("input") or []:
        parts = []
        if isinstance(item.get("content"), str):
            messages.append({"role": item.get("role"), "content": item["content"]})
            continue
        for part in item.get("content") or []:
            if part.get("type") in ("input_text", "output_text"):
                parts.append({"type": "text", "text": part.get("text", "")})
            elif part.get("type") == "input_image":
                parts.append({"type": "image_url", "image_url": {"url": part.get("image_url"),
                                                                 "detail": part.get("detail")}})
        messages.append({"role": item.get("role"), "content": parts})
    chat = {"model": body.get("model"), "messages": messages}
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    fmt = (body.get("text") or {}).get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        chat["response_format"] = {"type": "json_schema", "json_schema": {
            k: fmt[k] for k in ("name", "schema", "strict") if k in fmt}}
    return chat


def _validate(owner: FakeOpenAIServer, body: Any, size: int,
              schema: str | None = "CreateChatCompletionRequest") -> _Parsed:
    """Check a chat request as OpenAI documents it; raise ErrorReply (400/404) on the first problem."""
    if not isinstance(body, dict):
        raise _bad(f"Invalid type for request body: expected an object, but got {_type_name(body)} instead.", code="invalid_type")
    if size > owner.max_payload_bytes:
        raise _bad(
            f"Request too large: the request body is {size} bytes; the maximum is {owner.max_payload_bytes} bytes.",
            code="request_too_large",
        )
    model = body.get("model")
    if model is None:
        raise _bad("you must provide a model parameter", code=None)
    if not isinstance(model, str) or not model:
        raise _bad(f"Invalid type for 'model': expected a string, but got {_type_name(model)} instead.", "model", "invalid_type")
    if owner.models is not None and model not in owner.models:
        raise _bad(f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found", status=404)
    if schema == "CreateChatCompletionRequest" and re.sub(r"-\d{4}-\d{2}-\d{2}$", "", model) in RESPONSES_ONLY:
        raise _bad("This model is only supported in v1/responses and not in v1/chat/completions.", "model",
                   None, status=404)
    for name in sorted(owner.unsupported_params.get(model, ())):
        if name in body:
            hint = " Use 'max_completion_tokens' instead." if name == "max_tokens" else ""
            raise _bad(f"Unsupported parameter: '{name}' is not supported with this model.{hint}", name, "unsupported_parameter")

    parsed = _Parsed(model=model)
    _validate_options(owner, body, parsed)
    _validate_messages(owner, body.get("messages"), parsed)
    broken = violations(body) if schema else []  # after the checks above, which answer as OpenAI words them
    if broken:
        owner.spec_violations.extend(broken)
        raise _bad(f"Invalid request: {broken[0]} (OpenAPI CreateChatCompletionRequest)", code="invalid_request")
    if owner.context_window is not None:
        wanted = parsed.prompt_tokens + (parsed.max_output or 0)
        if wanted > owner.context_window:
            raise _bad(
                f"This model's maximum context length is {owner.context_window} tokens. However, you requested "
                f"{wanted} tokens ({parsed.prompt_tokens} in the messages, {parsed.max_output or 0} in the "
                "completion). Please reduce the length of the messages or completion.",
                "messages",
                "context_length_exceeded",
            )
    return parsed


def _validate_options(owner: FakeOpenAIServer, body: dict, parsed: _Parsed) -> None:
    for name in ("max_tokens", "max_completion_tokens"):
        if name in body and body[name] is not None:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int):
                raise _bad(f"Invalid type for '{name}': expected an integer, but got {_type_name(value)} instead.", name, "invalid_type")
            if value < 1:
                raise _bad(
                    f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {value} instead.",
                    name,
                    "integer_below_min_value",
                )
            parsed.max_output = value if parsed.max_output is None else min(parsed.max_output, value)
    if "temperature" in body and body["temperature"] is not None:
        t = body["temperature"]
        if isinstance(t, bool) or not isinstance(t, (int, float)):
            raise _bad(f"Invalid type for 'temperature': expected a decimal, but got {_type_name(t)} instead.", "temperature", "invalid_type")
        if not 0 <= t <= 2:
            raise _bad(f"Invalid 'temperature': decimal out of range. Expected a value between 0 and 2, but got {t} instead.", "temperature", "decimal_out_of_range")
    if "n" in body and body["n"] not in (None, 1):
        raise _bad("The fake server supports only n=1.", "n", "invalid_value")

    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise _bad(f"Invalid type for 'stream': expected a boolean, but got {_type_name(stream)} instead.", "stream", "invalid_type")
    parsed.stream = bool(stream)
    options = body.get("stream_options")
    if options is not None:
        if not owner.supports_stream_options:
            raise _bad("Unrecognized request argument supplied: stream_options", "stream_options", "unknown_parameter")
        if not parsed.stream:
            raise _bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value")
        if not isinstance(options, dict):
            raise _bad(f"Invalid type for 'stream_options': expected an object, but got {_type_name(options)} instead.", "stream_options", "invalid_type")
        parsed.include_usage = bool(options.get("include_usage"))

    fmt = body.get("response_format")
    if fmt is not None:
        _validate_response_format(owner, fmt)


def _validate_response_format(owner: FakeOpenAIServer, fmt: Any) -> None:
    if not isinstance(fmt, dict):
        raise _bad(f"Invalid type for 'response_format': expected an object, but got {_type_name(fmt)} instead.", "response_format", "invalid_type")
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise _bad(
            f"Invalid value: {kind!r}. Supported values are: 'text', 'json_object', and 'json_schema'.",
            "response_format.type",
            "invalid_value",
        )
    if kind != "json_schema":
        return
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict):
        raise _bad("Missing required parameter: 'response_format.json_schema'.", "response_format.json_schema", "missing_required_parameter")
    name = spec.get("name")
    if not isinstance(name, str):
        raise _bad("Missing required parameter: 'response_format.json_schema.name'.", "response_format.json_schema.name", "missing_required_parameter")
    if not _SCHEMA_NAME.match(name):
        raise _bad(
            f"Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that "
            f"matches the pattern '^[a-zA-Z0-9_-]+$' (at most 64 characters), but got {name!r} instead.",
            "response_format.json_schema.name",
            "invalid_value",
        )
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        raise _bad("Missing required parameter: 'response_format.json_schema.schema'.", "response_format.json_schema.schema", "missing_required_parameter")
    if spec.get("strict") and owner.check_strict_schemas:
        problem = _strict_problem(schema, schema, ())
        if problem:
            raise _bad(f"Invalid schema for response_format '{name}': {problem}", "response_format", "invalid_json_schema")


def _strict_problem(node: Any, root: dict, context: tuple) -> str | None:
    """What OpenAI's strict structured outputs would reject in this schema, or None."""
    if not isinstance(node, dict):
        return None
    node = _resolve(node, root)
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types:
        props = node.get("properties", {})
        if node.get("additionalProperties") is not False:
            return f"In context={context}, 'additionalProperties' is required to be supplied and to be false."
        required = node.get("required", [])
        missing = [k for k in props if k not in required]
        if missing:
            return (
                f"In context={context}, 'required' is required to be supplied and to be an array including every "
                f"key in properties. Missing '{missing[0]}'."
            )
        for key, sub in props.items():
            problem = _strict_problem(sub, root, context + ("properties", key))
            if problem:
                return problem
    if "array" in types and "items" in node:
        return _strict_problem(node["items"], root, context + ("items",))
    for key in ("anyOf", "oneOf"):
        for i, sub in enumerate(node.get(key, []) or []):
            problem = _strict_problem(sub, root, context + (key, str(i)))
            if problem:
                return problem
    return None


def _validate_messages(owner: FakeOpenAIServer, messages: Any, parsed: _Parsed) -> None:
    if messages is None:
        raise _bad("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(messages, list):
        raise _bad(f"Invalid type for 'messages': expected an array, but got {_type_name(messages)} instead.", "messages", "invalid_type")
    if not messages:
        raise _bad(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
            "empty_array",
        )
    tokens = 3
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _bad(f"Invalid type for '{where}': expected an object, but got {_type_name(message)} instead.", where, "invalid_type")
        role = message.get("role")
        if role not in ROLES:
            if role is None:
                raise _bad(f"Missing required parameter: '{where}.role'.", f"{where}.role", "missing_required_parameter")
            raise _bad(
                f"Invalid value: {role!r}. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
                f"{where}.role",
                "invalid_value",
            )
        tokens += 3
        content = message.get("content")
        if content is None and role == "assistant":
            continue
        if isinstance(content, str):
            tokens += _text_tokens(content)
            _mark(parsed, {"role": role, "content": content}, tokens)
            continue
        if not isinstance(content, list):
            raise _bad(
                f"Invalid type for '{where}.content': expected one of a string or array of objects, but got {_type_name(content)} instead.",
                f"{where}.content",
                "invalid_type",
            )
        if not content:
            raise _bad(
                f"Invalid '{where}.content': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                f"{where}.content",
                "empty_array",
            )
        last_text: str | None = None
        for j, part in enumerate(content):
            pwhere = f"{where}.content[{j}]"
            if not isinstance(part, dict):
                raise _bad(f"Invalid type for '{pwhere}': expected an object, but got {_type_name(part)} instead.", pwhere, "invalid_type")
            kind = part.get("type")
            if kind not in PART_TYPES:
                raise _bad(
                    f"Invalid value: {kind!r}. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'.",
                    f"{pwhere}.type",
                    "invalid_value",
                )
            if kind == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise _bad(f"Invalid type for '{pwhere}.text': expected a string, but got {_type_name(text)} instead.", f"{pwhere}.text", "invalid_type")
                tokens += _text_tokens(text)
                last_text = text
                _mark(parsed, part, tokens)
                continue
            if role != "user":
                raise _bad(
                    f"Invalid '{pwhere}.type': image content parts are only allowed in messages with role 'user', but this message has role '{role}'.",
                    f"{pwhere}.type",
                    "invalid_value",
                )
            image = _validate_image(owner, part, pwhere, _last_label(last_text), parsed.model)
            parsed.images.append(image)
            if len(parsed.images) > owner.max_images:
                raise _bad(
                    f"Too many images in request. Max is {owner.max_images}.",
                    "messages",
                    "too_many_images",
                )
            tokens += image.tokens if owner.count_images else 0
            last_text = None
            _mark(parsed, part, tokens)
    parsed.prompt_tokens = tokens + 3


def _mark(parsed: _Parsed, piece: Any, tokens: int) -> None:
    previous = parsed.prefixes[-1][0] if parsed.prefixes else ""
    digest = hashlib.sha256((previous + json.dumps(piece, sort_keys=True)).encode()).hexdigest()
    parsed.prefixes.append((digest, tokens))


PROMPT_CACHE_MIN = 1024
PROMPT_CACHE_STEP = 128


def cached_prefix_tokens(owner: FakeOpenAIServer, parsed: _Parsed) -> int:
    """Tokens of the longest prefix seen in an earlier request (OpenAI: at least 1,024, in steps of
    128), then remember this request's prefixes."""
    with owner._lock:
        hit = max((tokens for digest, tokens in parsed.prefixes if digest in owner._prompt_cache), default=0)
        owner._prompt_cache.update(digest for digest, _ in parsed.prefixes)
    if hit < PROMPT_CACHE_MIN:
        return 0
    return hit - hit % PROMPT_CACHE_STEP


def _validate_image(owner: FakeOpenAIServer, part: dict, where: str, label: str | None,
                    model: str = "gpt-4o") -> ImageInfo:
    spec = part.get("image_url")
    if not isinstance(spec, dict):
        raise _bad(f"Invalid type for '{where}.image_url': expected an object, but got {_type_name(spec)} instead.", f"{where}.image_url", "invalid_type")
    url = spec.get("url")
    if not isinstance(url, str):
        raise _bad(f"Missing required parameter: '{where}.image_url.url'.", f"{where}.image_url.url", "missing_required_parameter")
    detail = spec.get("detail", "auto")
    allowed = DETAILS + (("original",) if owner.allow_original_detail else ())
    if detail not in allowed:
        listed = ", ".join(f"'{d}'" for d in allowed[:-1]) + f", and '{allowed[-1]}'"
        raise _bad(f"Invalid value: {detail!r}. Supported values are: {listed}.", f"{where}.image_url.detail", "invalid_value")
    match = _DATA_URL.match(url)
    if not match:
        if url.startswith(("http://", "https://")):
            raise _bad(
                f"Invalid '{where}.image_url.url': the fake server cannot download remote images; send a base64 data URL.",
                f"{where}.image_url.url",
                "invalid_image_url",
            )
        # Like the real API, echo the start of what was sent (clients must not repeat it verbatim).
        raise _bad(f"Invalid image URL: {url[:64]!r}. Expected a base64-encoded data URL or an https URL.", f"{where}.image_url.url", "invalid_image_url")
    mime = match.group("mime").lower()
    fmt = mime.split("/", 1)[1] if mime.startswith("image/") else ""
    if fmt not in IMAGE_FORMATS or ";base64" not in match.group("params").lower():
        raise _bad(
            f"Invalid '{where}.image_url.url'. Expected a base64-encoded data URL with an image MIME type "
            f"(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got unsupported MIME type {mime!r} "
            f"with data {url[len(match.group(0)) - len(match.group('data')):][:48]!r}.",
            f"{where}.image_url.url",
            "invalid_image_format",
        )
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError):
        raise _bad(
            f"Invalid '{where}.image_url.url': the data URL's payload is not valid base64.",
            f"{where}.image_url.url",
            "invalid_image_url",
        ) from None
    if len(data) > owner.max_image_bytes:
        raise _bad(
            f"Image too large: {len(data)} bytes; the maximum is {owner.max_image_bytes} bytes per image.",
            f"{where}.image_url.url",
            "image_too_large",
        )
    actual = _sniff(data)
    if actual != fmt:
        raise _bad(
            "You uploaded an unsupported image. Please make sure your image is valid and has one of the "
            f"following formats: ['png', 'jpeg', 'gif', 'webp'] (declared image/{fmt}, "
            f"bytes look like {actual or 'no image format'}).",
            f"{where}.image_url.url",
            "invalid_image_format",
        )
    size = _decode_size(data, actual)
    if size is None:
        raise _bad(
            f"The image data in '{where}.image_url.url' could not be decoded (corrupt {actual}).",
            f"{where}.image_url.url",
            "invalid_image",
        )
    width, height = size
    return ImageInfo(actual, width, height, len(data), detail, _image_tokens(width, height, detail, model), label)


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _decode_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is not None:
        return int(image.shape[1]), int(image.shape[0])
    if fmt == "gif" and len(data) >= 10:  # OpenCV builds without a GIF decoder: read the header
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    return None


TILE_COSTS = {"gpt-4o-mini": (2833, 5667), "o1": (75, 150), "o3": (75, 150), "gpt-5": (70, 140)}
"""(base, per tile) image tokens OpenAI bills by model family (its vision docs); others as gpt-4o (85, 170)."""


def _tile_costs(model: str) -> tuple[int, int]:
    family = max((name for name in TILE_COSTS if model.startswith(name)), key=len, default=None)
    return TILE_COSTS[family] if family is not None else (85, 170)


PATCH_RULES = {
    "gpt-4.1-mini": (1.62, 1536, 2048), "gpt-4.1-nano": (2.46, 1536, 2048), "o4-mini": (1.72, 1536, 2048),
    "gpt-5-mini": (1.2, 1536, 2048), "gpt-5-nano": (1.5, 1536, 2048), "gpt-5.2": (1.2, 1536, 2048),
    "gpt-5.3": (1.2, 1536, 2048), "gpt-5.4": (1.2, 2500, 2048), "gpt-5.5": (1.2, 2500, 2048),
    "gpt-5.6": (1.2, 10_000, 6000), "gpt-6": (1.2, 10_000, 6000),
}
"""Patch models (32 px patches): (multiplier as billed, patch budget, longest side) by name prefix, the
rule of ../shared/TOKENS.md section 3.2 written out here apart from the code under test. GPT-6 has no
documented rule: this server bills it like GPT-5.6 (the client budgets it conservatively)."""


def _patch_tokens(width: int, height: int, rule: tuple[float, int, int]) -> int:
    multiplier, budget, max_dim = rule
    w, h = float(width), float(height)
    if max(w, h) > max_dim:
        s = max_dim / max(w, h)
        w, h = round(w * s), round(h * s)
    patches = math.ceil(w / 32) * math.ceil(h / 32)
    if patches > budget:
        r = math.sqrt(32 * 32 * budget / (w * h))
        r *= min(math.floor(w * r / 32) / (w * r / 32), math.floor(h * r / 32) / (h * r / 32))
        patches = min(math.ceil(math.floor(w * r + 1e-9) / 32) * math.ceil(math.floor(h * r + 1e-9) / 32), budget)
    return math.ceil(patches * multiplier)


def _image_tokens(width: int, height: int, detail: str, model: str = "gpt-4o") -> int:
    """Patch models (PATCH_RULES) by patches at any detail (low is budgeted as high, TOKENS.md 3.6);
    otherwise the tile rule: low = base; otherwise fit in 2048², short side <= 768, base + per tile
    for each 512-px tile (gpt-4o: 85 + 170 per tile)."""
    patch = max((name for name in PATCH_RULES if model.startswith(name)), key=len, default=None)
    tile_family = max((name for name in TILE_COSTS if model.startswith(name)), key=len, default="")
    if patch is not None and len(patch) > len(tile_family):
        return _patch_tokens(width, height, PATCH_RULES[patch])
    base, tile = _tile_costs(model)
    if detail == "low":
        return base
    w, h = float(width), float(height)
    scale = min(1.0, 2048 / max(w, h))
    w, h = w * scale, h * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return base + tile * math.ceil(w / 512) * math.ceil(h / 512)


def _last_label(text: str | None) -> str | None:
    if not text:
        return None
    found = _TIMECODE.findall(text)
    return f"[{found[-1]}]" if found else None


# --------------------------------------------------------------------------- the default responder


def frame_labels(body: dict) -> list[str]:
    """The time labels (e.g. ``[00:01:05.2]``) found in the text part before each image, in order.

    Images with no label before them are skipped.
    """
    return [label for label, _ in _images_after_text(body) if label]


def _images_after_text(body: dict) -> Iterator[tuple[str | None, dict]]:
    """Each ``image_url`` part of a request with the time label of the text part just before it."""
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        last_text: str | None = None
        for part in content:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text":
                last_text = part.get("text") if isinstance(part.get("text"), str) else None
            elif part.get("type") == "image_url":
                yield _last_label(last_text), part
                last_text = None


def count_images(body: dict) -> int:
    """How many image parts the request carries."""
    return sum(
        1
        for message in body.get("messages") or []
        if isinstance(message, dict) and isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, dict) and part.get("type") == "image_url"
    )


def label_seconds(label: str) -> float:
    """``[00:01:05.2]`` or ``01:05`` -> 65.2 seconds."""
    fields = label.strip("[] ").split(":")
    seconds = 0.0
    for value in fields:
        seconds = seconds * 60 + float(value)
    return seconds


_NOTE_LABEL = re.compile(r"\[\d{2}:\d{2}:\d{2}\.\d\]")


def _user_text(body: dict) -> str:
    texts = []
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
            texts.append(message["content"])
    return "\n".join(texts)


def default_responder(body: dict) -> str:
    """Answer from what was received: the frame time labels, or JSON for a ``json_schema`` format.

    Plain: ``"Frames at [00:00:00.0], [00:00:05.0] show a test pattern."``;
    ``json_object``: ``{"answer": <that text>}``; ``json_schema``: ``instance_from_schema``.
    """
    labels = frame_labels(body)
    images = count_images(body)
    if not images:  # a text-only request (e.g. a map-reduce merge): echo the labels its notes cite
        labels = list(dict.fromkeys(_NOTE_LABEL.findall(_user_text(body))))
    if labels:
        text = f"Frames at {', '.join(labels)} show a test pattern."
    elif images:
        text = f"{images} frame{'s' if images != 1 else ''} (no time labels) show a test pattern."
    else:
        text = "No frames were received."
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = fmt["json_schema"]["schema"]
        return json.dumps(instance_from_schema(schema, labels))
    if fmt.get("type") == "json_object":
        return json.dumps({"answer": text})
    return text


_TIME_NAMES = {"time", "timestamp", "t", "start", "start_time", "at", "seconds", "begin"}
_END_NAMES = {"end", "end_time", "until", "stop"}


def instance_from_schema(schema: dict, labels: Sequence[str] = (), *, max_items: int = 5) -> Any:
    """A JSON value that validates against a simple reading of ``schema``.

    Objects get every property; arrays one item per frame label (at least ``minItems``, at most
    ``maxItems`` or ``max_items``); properties named like a time (``time``, ``start``, ``end``...)
    get the frame's time (seconds for numbers, the label for strings); other strings describe the frame.
    ``$ref`` to ``#/$defs`` / ``#/definitions``, ``anyOf``/``oneOf``, ``enum``, ``const`` are followed.
    """
    return _instance(schema, schema, list(labels), 0, "", max_items)


def _resolve(node: dict, root: dict) -> dict:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        ref = node["$ref"]
        target: Any = root
        if ref.startswith("#"):
            for key in [k for k in ref[1:].split("/") if k]:
                target = target.get(key, {}) if isinstance(target, dict) else {}
        node = target if isinstance(target, dict) else {}
        seen += 1
    return node


def _instance(node: Any, root: dict, labels: list[str], frame: int, name: str, max_items: int) -> Any:
    if not isinstance(node, dict):
        return None
    node = _resolve(node, root)
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in node.get(key) or [] if _resolve(o, root).get("type") != "null"]
        if options:
            return _instance(options[0], root, labels, frame, name, max_items)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in node else "array" if "items" in node else "string"
    lname = name.lower()
    label = labels[frame] if frame < len(labels) else None
    if kind == "object":
        props = node.get("properties") or {}
        return {key: _instance(sub, root, labels, frame, key, max_items) for key, sub in props.items()}
    if kind == "array":
        low = int(node.get("minItems", 0))
        high = int(node.get("maxItems", max_items))
        count = max(low, min(high, max(1, len(labels))))
        return [_instance(node.get("items", {}), root, labels, i, name, max_items) for i in range(count)]
    if kind in ("number", "integer"):
        value: float = 0.0
        if label is not None and (lname in _TIME_NAMES or lname in _END_NAMES):
            value = label_seconds(label)
            if lname in _END_NAMES:
                value = label_seconds(labels[frame + 1]) if frame + 1 < len(labels) else value + 1.0
        value = max(value, float(node.get("minimum", value)))
        if "maximum" in node:
            value = min(value, float(node["maximum"]))
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    # string
    if label is not None and (lname in _TIME_NAMES or lname in _END_NAMES):
        if lname in _END_NAMES and frame + 1 < len(labels):
            return labels[frame + 1].strip("[]")
        return label.strip("[]")
    if lname in ("title", "name", "heading"):
        return f"Part {frame + 1}"
    return f"a test pattern at {label}" if label else "a test pattern"


# --------------------------------------------------------------------------- an observing responder


def decoded_images(body: dict) -> list[tuple[str | None, Any]]:
    """Every base64 image of a request, decoded to an RGB array, with the time label of the text part
    before it (None when there is none), in order."""
    import cv2
    import numpy as np

    out: list[tuple[str | None, Any]] = []
    for label, part in _images_after_text(body):
        match = _DATA_URL.match(str((part.get("image_url") or {}).get("url", "")))
        if match is None:
            continue
        raw = np.frombuffer(base64.b64decode(match.group("data")), np.uint8)
        bgr = cv2.imdecode(raw, cv2.IMREAD_COLOR)
        if bgr is not None:
            out.append((label, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    return out


NOT_SHOWN = "not in this window"


def first_showing_responder(questions: Mapping[str, Callable[[Any], bool]]) -> Responder:
    """A responder that looks: for each known question found in the request (in the order they
    appear), it cites the label of the first image it received where ``shows(rgb)`` is true, or
    says ``NOT_SHOWN`` and cites nothing. It sees only the frames sent (an ideal observer: what it
    misses, the sampling missed). Answers JSON for a ``json_schema`` format, else text with labels."""

    def respond(body: dict) -> str:
        text = "\n".join(p.get("text", "") for m in body.get("messages") or [] if isinstance(m, dict)
                         and isinstance(m.get("content"), list) for p in m["content"]
                         if isinstance(p, dict) and p.get("type") == "text")
        asked = sorted((text.find(q), q) for q in questions if q in text)
        images = decoded_images(body)
        items = []
        for _, question in asked:
            label = next((lab for lab, rgb in images if lab and questions[question](rgb)), None)
            answer = f"It first shows at {label}." if label else f"It is {NOT_SHOWN}."
            moments = [{"time": label.strip("[]"), "end": None, "text": "first seen"}] if label else []
            items.append({"question": question, "answer": answer, "moments": moments})
        if (body.get("response_format") or {}).get("type") == "json_schema":
            return json.dumps({"answers": items})
        return "\n".join(f"{n}. {item['answer']}" for n, item in enumerate(items, 1))

    return respond
