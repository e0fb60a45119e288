"""From the openai SDK's errors and HTTP statuses to the videovision error tree, in one place.

    ErrorMapper(endpoint, timeout, max_retries, secrets).map(err, model) ──▶ RequestError (a subclass)

The messages say what went wrong and what to do next (which flag to change), name the endpoint's
host only, and pass the server's words through ``redact.clean_message`` (no key, no base64, one line).
The SDK's error (chained as ``__cause__``, so printed in a traceback) is scrubbed of secrets in place.

For a caller sending many requests: ``stops_run(err)`` says when every other request would fail the
same way, ``billed_usage(err)`` what the failed reply cost.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import (
    AuthenticationError,
    ContentRefusedError,
    ContextLengthError,
    EndpointConnectionError,
    ModelNotFoundError,
    QuotaExceededError,
    RateLimitError,
    RequestError,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
)
from .redact import clean_message, display_url, scrub_exception, url_host
from .types import Usage

if TYPE_CHECKING:  # the SDK loads when an error is mapped, not when a plan is made
    import openai

__all__ = ["RUN_STOPPING_ERRORS", "ErrorMapper", "billed_usage", "error_fields", "rejects_streaming", "request_id_of",
           "stops_run"]

RUN_STOPPING_ERRORS: tuple[type[RequestError], ...] = (AuthenticationError, ModelNotFoundError, QuotaExceededError)
"""Errors that every other request of the same run would get too."""

_CONTEXT_WORDS = re.compile(
    r"context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long|exceeds the context",
    re.I,
)
_POLICY_WORDS = re.compile(r"content[ _-]?(policy|filter|management)|safety system", re.I)
_TAG = re.compile(r"<[^>]{0,200}>")


def stops_run(err: BaseException) -> bool:
    """Whether the other requests of a run would fail the same way, so none should be sent.

    True for a refused key (401/403, ``AuthenticationError``), an unknown model, a spent quota and a
    wrong endpoint path (a plain 404).

    Args:
        err: an error raised by ``ChatClient.complete``.

    Returns:
        True when the caller should send no further request.
    """
    if isinstance(err, RUN_STOPPING_ERRORS):
        return True
    return type(err) is RequestError and err.status_code == 404


def billed_usage(err: BaseException) -> Usage:
    """The tokens the endpoint reported for the reply that failed (zero when none were reported).

    A reply cut off at the output limit, refused by the model or stopped by the content filter is
    billed although it raises; the client keeps its usage on the error (``RequestError.usage``).

    Args:
        err: an error raised by ``ChatClient.complete``.

    Returns:
        The reported usage, or ``Usage()``.
    """
    usage = getattr(err, "usage", None)
    return usage if isinstance(usage, Usage) else Usage()


@dataclass(frozen=True, repr=False)
class ErrorMapper:
    """Maps errors for one endpoint (its messages name the host, the timeout and the retries).

    Attributes:
        endpoint: the base URL requests go to.
        timeout: seconds each attempt may take (quoted in timeout messages).
        max_retries: the retries configured (quoted in messages about spent retries).
        secrets: strings scrubbed from every message and from the SDK errors chained.
        path: the API path requests go to under the endpoint (named when it is not found).
    """

    endpoint: str
    timeout: float
    max_retries: int
    secrets: tuple[str, ...] = ()
    path: str = ""

    def __repr__(self) -> str:
        return f"ErrorMapper({display_url(self.endpoint)!r})"

    @property
    def host(self) -> str:
        """``host[:port]`` of the endpoint, for messages."""
        return url_host(self.endpoint) or "the endpoint"

    def clean(self, text: Any) -> str:
        """Server text fit for a message: no secrets, no base64, one bounded line."""
        return clean_message(text, self.secrets)

    def retries_note(self, retries: int | None = None) -> str:
        """``after 2 retries`` (the configured number unless given), or ``with retries disabled``."""
        n = self.max_retries if retries is None else retries
        return "with retries disabled" if n == 0 else f"after {n} retr{'y' if n == 1 else 'ies'}"

    def timeout_message(self, note: str) -> str:
        """The message of a ``RequestTimeoutError`` (``note`` says how many retries were made)."""
        return f"no complete reply from {self.host} within {self.timeout:g} s ({note}): raise --timeout"

    def malformed(self, err: BaseException | None, request_id: str | None, *, detail: str = "") -> ResponseFormatError:
        """The error for a 2xx reply that is not a chat completion."""
        what = detail or (type(err).__name__ if err is not None else "unreadable body")
        return ResponseFormatError(
            f"the endpoint at {self.host} returned a reply that is not a chat completion ({what}): "
            "check that --base-url points to an OpenAI-compatible /v1 endpoint",
            status_code=getattr(err, "status_code", None) or 200,
            request_id=request_id,
        )

    def map(self, err: BaseException, model: str) -> RequestError:
        """Turn an SDK (or decoding) error into the videovision error tree. The one place this happens.

        Args:
            err: an ``openai.OpenAIError``, ``json.JSONDecodeError`` or ``pydantic.ValidationError``
                (anything else becomes a plain ``RequestError``); scrubbed of secrets in place.
            model: the model asked (named in messages).

        Returns:
            The error to raise (``from err``).
        """
        import openai
        import pydantic

        scrub_exception(err, self.secrets)
        if isinstance(err, openai.APITimeoutError):
            return RequestTimeoutError(self.timeout_message(self.retries_note()))
        if isinstance(err, openai.APIConnectionError):
            return EndpointConnectionError(
                f"cannot reach {display_url(self.endpoint)}: is the server running? "
                f"({_cause_name(err)}; check --base-url)"
            )
        if isinstance(err, openai.APIResponseValidationError):
            return self.malformed(err, request_id_of(err))
        if isinstance(err, openai.APIStatusError):
            return self.status_error(err.status_code, err.body, request_id_of(err), model,
                                     retry_after=retry_after_of(err))
        if isinstance(err, openai.APIError):  # an error event inside a stream
            return self.status_error(None, err.body if err.body is not None else err.message, None, model)
        if isinstance(err, (json.JSONDecodeError, pydantic.ValidationError)):
            return self.malformed(err, None)
        return RequestError(f"the OpenAI client failed: {self.clean(err)}")

    def status_error(self, status: int | None, body: Any, request_id: str | None, model: str, *,
                     retry_after: float | None = None) -> RequestError:
        """The error for an HTTP status and error body (``status`` None: an error event mid-stream).

        The body's code and message are checked first (context length and content policy can come
        with several statuses), then the status. ``retry_after``: the reply's ``Retry-After`` in
        seconds; one longer than the SDK waits (``SDK_MAX_RETRY_AFTER``) stopped the retries at once.
        """
        code, message = error_fields(body)
        server = self.clean(message) if message else ""
        quoted = f" (server said: {server})" if server else ""
        kw: dict[str, Any] = {"status_code": status, "request_id": request_id}
        if code == "context_length_exceeded" or _CONTEXT_WORDS.search(message):
            return ContextLengthError(
                f"the request does not fit the model's context window{_status(status)}: "
                "use a smaller budget: --max-frames / --max-image-tokens",
                **kw,
            )
        if code in ("content_policy_violation", "content_filter") or _POLICY_WORDS.search(message):
            return ContentRefusedError(
                f"the provider's content filter refused the request{_status(status)}: try other frames or another prompt",
                **kw,
            )
        if status is None:
            return RequestError(f"the endpoint reported an error mid-answer: {server or 'no details'}", **kw)
        if status in (401, 403):
            return self._auth_error(status, model, quoted, kw)
        if status == 404:
            return self._not_found(code, message, model, quoted, kw)
        if status == 429:
            return self._rate_limited(code, message, kw, retry_after)
        return self._other_status(status, server, quoted, kw, retry_after)

    def _spent(self, retry_after: float | None) -> str | None:
        """Why no retry was made, when the server asked for a wait the SDK does not make."""
        if retry_after is None or not retry_after > SDK_MAX_RETRY_AFTER:
            return None
        return (f"it asks to wait {format_wait(retry_after)} (Retry-After), longer than retries wait "
                f"({SDK_MAX_RETRY_AFTER:g} s), so none was made: try again after that")

    # ---- one status family each

    def _auth_error(self, status: int, model: str, quoted: str, kw: dict[str, Any]) -> RequestError:
        if status == 401:
            return AuthenticationError("API key rejected (401): check OPENAI_API_KEY", **kw)
        return AuthenticationError(
            f"access denied (403) by {self.host}: the key may not use model '{model}' or this endpoint; "
            f"check the key's project, organisation and model access{quoted}",
            **kw,
        )

    def _not_found(self, code: str | None, message: str, model: str, quoted: str, kw: dict[str, Any]) -> RequestError:
        if "only supported in v1/responses" in message:
            return ModelNotFoundError(f"model '{model}' is only served by the Responses API (v1/responses), not "
                                      "Chat Completions: use --api responses (or --api auto)", **kw)
        if code == "model_not_found" or "model" in message.lower():
            return ModelNotFoundError(f"model '{model}' not found at {self.host}: check --model", **kw)
        return RequestError(
            f"not found (404) at {display_url(self.endpoint)}{self.path}: check --base-url "
            f"(OpenAI-compatible servers usually end in /v1){quoted}",
            **kw,
        )

    def _rate_limited(self, code: str | None, message: str, kw: dict[str, Any],
                      retry_after: float | None = None) -> RequestError:
        if is_quota(code, message):
            return QuotaExceededError(
                f"quota exceeded (429) at {self.host}: check the account's plan and billing (retrying will not help)",
                **kw,
            )
        waited = self._spent(retry_after)
        if waited:
            return RateLimitError(f"rate limited (429) by {self.host}; {waited}", **kw)
        n = self.max_retries
        spent = "retries are disabled" if n == 0 else f"the {n} retr{'y was' if n == 1 else 'ies were'} exhausted"
        return RateLimitError(
            f"rate limited (429) by {self.host}; {spent}: wait a minute and try again, or raise --max-retries",
            **kw,
        )

    def _other_status(self, status: int, server: str, quoted: str, kw: dict[str, Any],
                      retry_after: float | None = None) -> RequestError:
        waited = self._spent(retry_after) if status >= 500 else None
        if waited:
            return ServerError(f"server error ({status}) from {self.host}; {waited}{quoted}", **kw)
        if status == 408:
            return RequestTimeoutError(
                f"the server at {self.host} timed out (408) {self.retries_note()}: raise --timeout or try again later",
                **kw,
            )
        if status == 413:
            return RequestError(
                f"the request is too large for {self.host} (413): send fewer or smaller frames "
                "(--max-frames, --max-side)",
                **kw,
            )
        if status >= 500:
            return ServerError(
                f"server error ({status}) from {self.host} {self.retries_note()}: try again later{quoted}", **kw
            )
        return RequestError(f"request rejected ({status}): {server or 'no details given'}", **kw)


SDK_MAX_RETRY_AFTER = 120.0
"""Seconds of ``Retry-After`` the openai SDK waits at most; above it, it does not retry at all
(``openai._constants.MAX_RETRY_AFTER_DELAY``)."""


def is_quota(code: str | None, message: str) -> bool:
    """A 429 for an exhausted quota (``insufficient_quota``): retrying cannot help."""
    return code == "insufficient_quota" or "quota" in message.lower()


def retry_after_of(err: BaseException) -> float | None:
    """Seconds of a reply's ``Retry-After`` (or ``retry-after-ms``) header, when it has a number."""
    headers = getattr(getattr(err, "response", None), "headers", None)
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        try:
            seconds = float(value) / divisor if value is not None else None
        except ValueError:
            continue
        if seconds is not None and math.isfinite(seconds):
            return seconds
    return None


def format_wait(seconds: float) -> str:
    """``3600 s`` as ``1 h``, ``90 s`` as ``90 s``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 120:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.0f} s"


def request_id_of(err: BaseException) -> str | None:
    """The ``x-request-id`` of the reply an SDK error came from, if any."""
    request_id = getattr(err, "request_id", None)
    if request_id is None:
        response = getattr(err, "response", None)
        headers = getattr(response, "headers", None)
        request_id = headers.get("x-request-id") if headers is not None else None
    return request_id


def error_fields(body: Any) -> tuple[str | None, str]:
    """(code, message) from an error body: ``{"error": {...}}``, the inner dict, or plain text."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            code = inner.get("code")
            message = inner.get("message")
            return (str(code) if code is not None else None, message if isinstance(message, str) else "")
        if isinstance(inner, str):
            return None, inner
        return None, ""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        return None, _TAG.sub(" ", body)
    return None, ""


def rejects_streaming(err: openai.BadRequestError) -> bool:
    """Whether a 400 says the endpoint does not take ``stream``/``stream_options``."""
    code, message = error_fields(err.body)
    param = getattr(err, "param", None)
    return param in ("stream", "stream_options") or "stream_options" in message or (code or "") == "stream"


def _status(status: int | None) -> str:
    return f" ({status})" if status is not None else ""


def _cause_name(err: BaseException) -> str:
    cause = err.__cause__
    if cause is None:
        return "connection error"
    text = " ".join(str(cause).split())
    if "refused" in text.lower() or "Errno 111" in text:
        return "connection refused"
    if type(cause).__name__ == "RemoteProtocolError" or "disconnected" in text.lower():
        return "the connection closed without a reply"
    if "name or service" in text.lower() or "nodename" in text.lower() or "getaddrinfo" in text.lower():
        return "host name not found"
    return type(cause).__name__
