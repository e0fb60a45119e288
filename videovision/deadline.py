"""An overall deadline for each HTTP attempt, as ``httpx2`` event hooks.

httpx's ``read`` timeout bounds the gap between two reads, not the request: a server that trickles a
byte every second holds a 2 s timeout forever. ``deadline_hooks`` gives an ``httpx2.Client`` event hooks
so each request (each attempt, including each of the openai SDK's retries) must be answered completely
within ``deadline`` seconds of being sent:

    send ──▶ headers ──▶ body chunk ... body chunk ──▶ done      all within `deadline`

- the body is checked against the clock between chunks, and
- a watchdog timer shuts the socket down at the deadline, so a read blocked on a silent server
  returns at once.

Either way the reader gets ``httpx2.ReadTimeout``, which the openai SDK treats as a timeout (retried,
then ``openai.APITimeoutError``) and which a streaming reader sees directly. Waiting for the
response headers is bounded by the ``read`` timeout of the request itself (set it to the deadline).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2

__all__ = ["DeadlineExceeded", "deadline_hooks"]


class DeadlineExceeded(httpx2.ReadTimeout):
    """A response was not complete within its deadline."""


def deadline_hooks(deadline: float) -> dict[str, list[Callable[..., None]]]:
    """``event_hooks`` for an ``httpx2.Client``: each request must be answered completely within
    ``deadline`` seconds of being sent.

    Hooks (rather than a wrapping transport) keep the client's own transports, so proxies from the
    environment still apply.

    Args:
        deadline: seconds from sending a request to the end of its response body (> 0).

    Returns:
        ``{"request": [...], "response": [...]}`` to pass as ``httpx2.Client(event_hooks=...)``.

    Raises:
        ValueError: ``deadline`` is not a positive number.
    """
    if not deadline > 0:
        raise ValueError(f"deadline must be > 0 seconds, got {deadline!r}")

    def on_request(request: httpx2.Request) -> None:
        request.extensions = {**request.extensions, _SENT: time.monotonic()}

    def on_response(response: httpx2.Response) -> None:
        request = response.request
        due = float(request.extensions.get(_SENT, time.monotonic())) + deadline
        response.stream = _DeadlineStream(response.stream, due, deadline, _socket_of(response), request)

    return {"request": [on_request], "response": [on_response]}


_SENT = "videovision_sent_at"
"""Request extension holding the monotonic time the request was sent (the transport ignores it)."""


def _socket_of(response: httpx2.Response) -> socket.socket | None:
    stream = response.extensions.get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    sock = get("socket") if get is not None else None
    return sock if isinstance(sock, socket.socket) else None


class _DeadlineStream(httpx2.SyncByteStream):
    """A response body that raises ``DeadlineExceeded`` once its deadline has passed."""

    def __init__(self, inner: Any, due: float, deadline: float, sock: socket.socket | None, request: httpx2.Request):
        self._inner = inner
        self._due = due
        self._deadline = deadline
        self._sock = sock
        self._request = request
        self._lock = threading.Lock()
        self._done = False
        self._fired = False
        remaining = due - time.monotonic()
        self._timer: threading.Timer | None = None
        if sock is not None and remaining > 0:
            self._timer = threading.Timer(remaining, self._fire)
            self._timer.daemon = True
            self._timer.start()
        elif remaining <= 0:
            self._fired = True

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self._fired = True
            sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked on a silent server
            except OSError:
                pass

    def _expired(self) -> DeadlineExceeded:
        self._finish()
        return DeadlineExceeded(f"the response was not complete within {self._deadline:g} s", request=self._request)

    def __iter__(self) -> Iterator[bytes]:
        if self._fired:
            raise self._expired()
        try:
            for chunk in self._inner:
                if self._fired or time.monotonic() > self._due:
                    raise self._expired()
                yield chunk
        except DeadlineExceeded:
            raise
        except httpx2.TransportError as err:
            if self._fired or time.monotonic() > self._due:
                raise self._expired() from err
            raise
        finally:
            self._finish()

    def _finish(self) -> None:
        with self._lock:
            self._done = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def close(self) -> None:
        self._finish()
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()
