"""ask: the one place that talks to the model endpoint.

    body (a Chat Completions request) ──ChatClient.complete──▶ ChatResult(text, usage, ...)

``OpenAIChatClient`` sends the body through the official ``openai`` SDK to any OpenAI-compatible
endpoint. The SDK does the retries (``max_retries``, exponential backoff, honours ``Retry-After``)
and the timeout; this module maps the SDK's errors once into the videovision tree
(``RequestError`` and its subclasses, keeping ``status_code`` and ``request_id``), with one-line
messages that say what to do next and never contain the API key or image data.

Tests and the pipeline's logic use any object with a ``complete`` method (``ChatClient``); the wire
is tested against a loopback OpenAI-compatible server.

Logging (``logging.getLogger("videovision.client")``, DEBUG): the request with every data URL
elided (``redact_body``), and the reply's metadata. Never the key, never base64.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol
from urllib.parse import urlsplit, urlunsplit

import openai
import pydantic

from .errors import (
    AuthenticationError,
    ConfigError,
    ContentRefusedError,
    ContextLengthError,
    EndpointConnectionError,
    ModelNotFoundError,
    RateLimitError,
    RequestError,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
)
from .types import ChatResult, Usage

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_CONNECT_TIMEOUT",
    "OPENAI_BASE_URL",
    "LOCAL_PLACEHOLDER_KEY",
    "ClientConfig",
    "ChatClient",
    "OpenAIChatClient",
    "redact_body",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 120.0
"""Seconds to wait for a reply (per attempt; the SDK retries on timeouts)."""
DEFAULT_MAX_RETRIES = 2
"""Retries the SDK makes on 408/409/429/5xx, connection errors and timeouts."""
DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the TCP connection (capped by the timeout)."""
OPENAI_BASE_URL = "https://api.openai.com/v1"
"""The endpoint used when no base URL is configured."""
LOCAL_PLACEHOLDER_KEY = "not-needed"
"""Sent as the key to a non-OpenAI endpoint when none is configured (local servers ignore it)."""
MAX_SERVER_MESSAGE_CHARS = 240
"""Server error messages quoted in ours are cut to this many characters."""

_NO_KEY_MESSAGE = "no API key: set OPENAI_API_KEY, or pass --base-url for a local OpenAI-compatible server"
_CONTEXT_WORDS = re.compile(
    r"context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long|exceeds the context",
    re.I,
)
_POLICY_WORDS = re.compile(r"content[ _-]?(policy|filter|management)|safety system", re.I)
_DATA_URL = re.compile(r"data:[^\s'\"<>,]*,[^\s'\"<>)\]}]*", re.I)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}")
_KEY_LIKE = re.compile(r"\b(sk|sess)-[A-Za-z0-9_*.-]{4,}", re.I)
_TAG = re.compile(r"<[^>]{0,200}>")
_DATA_URL_VALUE = re.compile(r"^data:(?P<mime>[^;,]*)(?:;[^,]*)?;base64,(?P<data>.*)$", re.I | re.S)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, repr=False)
class ClientConfig:
    """Where and how to reach a Chat Completions endpoint.

    Attributes:
        api_key: the key (``OPENAI_API_KEY``). Optional for a local server (``base_url`` set).
        base_url: the endpoint (``OPENAI_BASE_URL``), e.g. ``http://localhost:11434/v1``;
            None means OpenAI's.
        timeout: seconds to wait for each attempt's reply.
        max_retries: retries the SDK makes on rate limits, 5xx, timeouts and connection errors.

    ``repr`` never shows the key.
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES

    def __post_init__(self) -> None:
        if self.api_key is not None and not isinstance(self.api_key, str):
            raise ConfigError("the API key must be a string")
        if self.base_url is not None:
            parts = urlsplit(str(self.base_url))
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(
                    f"invalid base URL {_display_url(str(self.base_url))!r}: "
                    "use http(s)://host[:port]/v1, e.g. http://localhost:11434/v1"
                )
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or not (
            math.isfinite(self.timeout) and self.timeout > 0
        ):
            raise ConfigError(f"invalid timeout {self.timeout!r}: must be a number of seconds > 0")
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ConfigError(f"invalid max retries {self.max_retries!r}: must be an integer >= 0")

    def __repr__(self) -> str:
        key = "None" if self.api_key is None else "'***'"
        return (
            f"ClientConfig(api_key={key}, base_url={self.base_url!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "ClientConfig":
        """Build a config from ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``, then apply overrides.

        Args:
            environ: the environment to read (``os.environ`` if None).
            **overrides: field values that win over the environment; ``None`` values are ignored,
                so a CLI can pass every option as given.

        Returns:
            The config.

        Raises:
            ConfigError: an unknown field or an invalid value.
        """
        import os

        env = os.environ if environ is None else environ
        unknown = set(overrides) - {"api_key", "base_url", "timeout", "max_retries"}
        if unknown:
            raise ConfigError(f"unknown client option(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {
            "api_key": env.get("OPENAI_API_KEY") or None,
            "base_url": env.get("OPENAI_BASE_URL") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def endpoint(self) -> str:
        """The base URL requests go to (OpenAI's when none is set)."""
        return (self.base_url or OPENAI_BASE_URL).rstrip("/")

    @property
    def is_openai(self) -> bool:
        """True when the endpoint is OpenAI's own API."""
        return (urlsplit(self.endpoint).hostname or "").lower() == "api.openai.com"

    def resolved_api_key(self) -> str:
        """The key to send: the configured one, or a placeholder for a local server.

        Raises:
            AuthenticationError: no key and the endpoint is OpenAI's.
        """
        if self.api_key:
            return self.api_key
        if self.base_url and not self.is_openai:
            return LOCAL_PLACEHOLDER_KEY
        raise AuthenticationError(_NO_KEY_MESSAGE)


# --------------------------------------------------------------------------- the interface


class ChatClient(Protocol):
    """Anything that can answer one Chat Completions request."""

    def complete(self, body: dict, *, on_text: Callable[[str], None] | None = None) -> ChatResult:
        """Send one Chat Completions request.

        Args:
            body: the exact request body (model, messages, max_completion_tokens or max_tokens,
                temperature, response_format ...). ``stream``/``stream_options`` are chosen by the client.
            on_text: called with each piece of the answer as it arrives (streaming), if given.

        Returns:
            The answer, its token usage, model, finish reason and request id.

        Raises:
            RequestError: (or a subclass) the endpoint failed or the answer cannot be used.
        """
        ...


# --------------------------------------------------------------------------- the OpenAI SDK client


class OpenAIChatClient:
    """``ChatClient`` over the official ``openai`` SDK, for any OpenAI-compatible endpoint.

    Args:
        config: endpoint, key, timeout and retries (``ClientConfig.from_env()`` if None).
        sdk_client: an ``openai.OpenAI`` to use instead of building one (e.g. with a mock transport).

    Raises:
        AuthenticationError: no key and no local base URL.
    """

    def __init__(self, config: ClientConfig | None = None, *, sdk_client: openai.OpenAI | None = None):
        self.config = config if config is not None else ClientConfig.from_env()
        key = self.config.resolved_api_key()
        self._secrets = tuple(s for s in (self.config.api_key, key) if s and s != LOCAL_PLACEHOLDER_KEY)
        if sdk_client is None:
            timeout = float(self.config.timeout)
            sdk_client = openai.OpenAI(
                api_key=key,
                base_url=self.config.endpoint,
                timeout=openai.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT)),
                max_retries=self.config.max_retries,
            )
        self._sdk = sdk_client
        self._known_params = _create_parameters(type(self._sdk.chat.completions))

    def __repr__(self) -> str:
        return f"OpenAIChatClient({self.config!r})"

    def close(self) -> None:
        """Close the HTTP connections."""
        self._sdk.close()

    def __enter__(self) -> "OpenAIChatClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the one call

    def complete(self, body: dict, *, on_text: Callable[[str], None] | None = None) -> ChatResult:
        """Send one Chat Completions request (streamed when ``on_text`` is given).

        Args:
            body: the request body; not modified. ``stream`` and ``stream_options`` in it are ignored.
            on_text: called with each delta of the answer as it streams in.

        Returns:
            ``ChatResult(text, Usage(prompt, completion), model, finish_reason, request_id)``.

        Raises:
            AuthenticationError: the key was refused (401) or lacks access (403).
            ModelNotFoundError: the endpoint does not know the model (404).
            RateLimitError: still rate limited (429) after the retries.
            ServerError: still failing (5xx) after the retries.
            RequestTimeoutError: no reply within the timeout.
            EndpointConnectionError: the endpoint cannot be reached.
            ContextLengthError: the request does not fit the model's context.
            ContentRefusedError: the model or its content filter refused.
            ResponseFormatError: the reply is malformed, empty, or cut off at the output limit.
            RequestError: any other rejection (the server's message is quoted).
            ConfigError: ``body`` is not a request body.
        """
        request = _request_body(body)
        model = request["model"]
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "chat request to %s (%s): %s",
                _display_url(self.config.endpoint),
                "streaming" if on_text else "non-streaming",
                json.dumps(redact_body(request), ensure_ascii=False),
            )
        started = time.monotonic()
        callback_error: BaseException | None = None
        try:
            if on_text is None:
                result, retries = self._create(request)
            else:
                result, retries = self._stream(request, on_text)
        except _CallbackFailed as failed:
            callback_error = failed.error
        except RequestError:
            raise
        except (openai.OpenAIError, json.JSONDecodeError, pydantic.ValidationError) as err:
            raise self._map_error(err, model) from err
        if callback_error is not None:  # on_text's own exception, re-raised as it was
            raise callback_error
        log.debug(
            "chat reply: model=%s finish_reason=%s prompt_tokens=%d completion_tokens=%d "
            "request_id=%s retries=%d chars=%d in %.2f s",
            result.model,
            result.finish_reason,
            result.usage.prompt_tokens,
            result.usage.completion_tokens,
            result.request_id,
            retries,
            len(result.text),
            time.monotonic() - started,
        )
        return result

    # ---- non-streaming

    def _create(self, request: dict) -> tuple[ChatResult, int]:
        raw = self._sdk.chat.completions.with_raw_response.create(**self._kwargs(request))
        request_id = raw.request_id
        try:
            completion = raw.parse()
        except Exception as err:  # JSON or model decoding of a 2xx body
            raise self._malformed(err, request_id) from err
        if not isinstance(completion, openai.BaseModel):  # the SDK returns text for non-JSON bodies
            raise self._malformed(None, request_id, detail=f"Content-Type {raw.headers.get('content-type')!r}")
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise ResponseFormatError(
                f"the endpoint at {self._host} answered with no choices: try again, or check that the model "
                "supports chat completions",
                status_code=raw.http_response.status_code,
                request_id=request_id,
            )
        choice = choices[0]
        message = getattr(choice, "message", None)
        result = self._result(
            text=getattr(message, "content", None),
            refusal=getattr(message, "refusal", None),
            finish_reason=getattr(choice, "finish_reason", None),
            usage=getattr(completion, "usage", None),
            model=getattr(completion, "model", None) or request["model"],
            status=raw.http_response.status_code,
            request_id=request_id or getattr(completion, "_request_id", None),
        )
        return result, getattr(raw, "retries_taken", 0)

    # ---- streaming

    def _stream(self, request: dict, on_text: Callable[[str], None]) -> tuple[ChatResult, int]:
        kwargs = self._kwargs(request)
        try:
            raw = self._sdk.chat.completions.with_raw_response.create(
                **kwargs, stream=True, stream_options={"include_usage": True}
            )
        except openai.BadRequestError as err:
            if not _rejects_streaming(err):
                raise
            log.debug("the endpoint rejected stream/stream_options; asking again without streaming")
            result, retries = self._create(request)
            if result.text:
                _emit(on_text, result.text)
            return result, retries
        request_id = raw.request_id
        stream = raw.parse()
        pieces: list[str] = []
        refusal: list[str] = []
        finish_reason: str | None = None
        usage: Any = None
        model: str | None = None
        saw_choice = False
        with stream:
            for chunk in stream:
                model = model or getattr(chunk, "model", None)
                if getattr(chunk, "usage", None) is not None:
                    usage = chunk.usage
                for choice in getattr(chunk, "choices", None) or []:
                    if getattr(choice, "index", 0) != 0:
                        continue
                    saw_choice = True
                    delta = getattr(choice, "delta", None)
                    content = getattr(delta, "content", None)
                    if content:
                        pieces.append(content)
                        _emit(on_text, content)
                    if getattr(delta, "refusal", None):
                        refusal.append(delta.refusal)
                    if getattr(choice, "finish_reason", None):
                        finish_reason = choice.finish_reason
        if not saw_choice:
            raise ResponseFormatError(
                f"the stream from {self._host} ended without an answer: check that --base-url points to an "
                "OpenAI-compatible /v1 endpoint",
                status_code=raw.http_response.status_code,
                request_id=request_id,
            )
        if usage is None:
            log.debug("the stream carried no usage chunk; token usage recorded as 0")
        result = self._result(
            text="".join(pieces),
            refusal="".join(refusal) or None,
            finish_reason=finish_reason,
            usage=usage,
            model=model or request["model"],
            status=raw.http_response.status_code,
            request_id=request_id,
        )
        return result, getattr(raw, "retries_taken", 0)

    # ---- helpers

    @property
    def _host(self) -> str:
        parts = urlsplit(self.config.endpoint)
        return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "the endpoint"

    def _kwargs(self, request: dict) -> dict:
        """Split the body into the SDK's keyword arguments and ``extra_body`` for the rest."""
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in request.items():
            (kwargs if key in self._known_params else extra)[key] = value
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def _result(
        self,
        *,
        text: Any,
        refusal: Any,
        finish_reason: Any,
        usage: Any,
        model: str,
        status: int | None,
        request_id: str | None,
    ) -> ChatResult:
        """Check a finished answer (refusal, filter, cut off, no text) and build the result."""
        kw = {"status_code": status, "request_id": request_id}
        if refusal:
            raise ContentRefusedError(f"the model refused to answer: {self._clean(refusal)}", **kw)
        if finish_reason == "content_filter":
            raise ContentRefusedError(
                "the provider's content filter stopped the answer (finish_reason content_filter): "
                "try other frames or another prompt",
                **kw,
            )
        if finish_reason == "length":
            raise ResponseFormatError("the answer was cut off at the output limit: raise --max-output-tokens", **kw)
        if not isinstance(text, str):
            raise ResponseFormatError(
                f"the endpoint at {self._host} returned an answer without text "
                f"(finish_reason {finish_reason}): try again",
                **kw,
            )
        return ChatResult(
            text=text,
            usage=_usage(usage),
            model=str(model),
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
            request_id=request_id,
        )

    def _malformed(self, err: BaseException | None, request_id: str | None, *, detail: str = "") -> ResponseFormatError:
        what = detail or (type(err).__name__ if err is not None else "unreadable body")
        return ResponseFormatError(
            f"the endpoint at {self._host} returned a reply that is not a chat completion ({what}): "
            "check that --base-url points to an OpenAI-compatible /v1 endpoint",
            status_code=getattr(err, "status_code", None) or 200,
            request_id=request_id,
        )

    def _clean(self, text: Any) -> str:
        return _clean_message(text, self._secrets)

    def _retries_note(self) -> str:
        n = self.config.max_retries
        return "with retries disabled" if n == 0 else f"after {n} retr{'y' if n == 1 else 'ies'}"

    def _map_error(self, err: BaseException, model: str) -> RequestError:
        """Turn an SDK (or decoding) error into the videovision error tree. The one place this happens."""
        host = self._host
        if isinstance(err, openai.APITimeoutError):
            return RequestTimeoutError(
                f"no reply from {host} within {self.config.timeout:g} s ({self._retries_note()}): raise --timeout"
            )
        if isinstance(err, openai.APIConnectionError):
            return EndpointConnectionError(
                f"cannot reach {_display_url(self.config.endpoint)}: is the server running? "
                f"({_cause_name(err)}; check --base-url)"
            )
        if isinstance(err, openai.APIResponseValidationError):
            return self._malformed(err, _request_id(err))
        if isinstance(err, openai.APIStatusError):
            return self._status_error(err.status_code, err.body, _request_id(err), model)
        if isinstance(err, openai.APIError):  # an error event inside a stream
            return self._status_error(None, err.body if err.body is not None else err.message, None, model)
        if isinstance(err, (json.JSONDecodeError, pydantic.ValidationError)):
            return self._malformed(err, None)
        return RequestError(f"the OpenAI client failed: {self._clean(err)}")

    def _status_error(self, status: int | None, body: Any, request_id: str | None, model: str) -> RequestError:
        code, message = _error_fields(body)
        server = self._clean(message) if message else ""
        quoted = f" (server said: {server})" if server else ""
        kw = {"status_code": status, "request_id": request_id}
        host = self._host
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
        if status == 401:
            return AuthenticationError("API key rejected (401): check OPENAI_API_KEY", **kw)
        if status == 403:
            return AuthenticationError(
                f"access denied (403) by {host}: the key may not use model '{model}' or this endpoint; "
                f"check the key's project, organisation and model access{quoted}",
                **kw,
            )
        if status == 404:
            if code == "model_not_found" or "model" in message.lower():
                return ModelNotFoundError(f"model '{model}' not found at {host}: check --model", **kw)
            return RequestError(
                f"not found (404) at {_display_url(self.config.endpoint)}/chat/completions: check --base-url "
                f"(OpenAI-compatible servers usually end in /v1){quoted}",
                **kw,
            )
        if status == 408:
            return RequestTimeoutError(
                f"the server at {host} timed out (408) {self._retries_note()}: raise --timeout or try again later",
                **kw,
            )
        if status == 413:
            return RequestError(
                f"the request is too large for {host} (413): send fewer or smaller frames "
                "(--max-frames, --max-side)",
                **kw,
            )
        if status == 429:
            if code == "insufficient_quota" or "quota" in message.lower():
                return RateLimitError(
                    f"quota exceeded (429) at {host}: check the account's plan and billing (retrying will not help)",
                    **kw,
                )
            n = self.config.max_retries
            spent = "retries are disabled" if n == 0 else f"the {n} retr{'y was' if n == 1 else 'ies were'} exhausted"
            return RateLimitError(
                f"rate limited (429) by {host}; {spent}: wait a minute and try again, or raise --max-retries",
                **kw,
            )
        if status is not None and status >= 500:
            return ServerError(
                f"server error ({status}) from {host} {self._retries_note()}: try again later{quoted}", **kw
            )
        if status is None:
            return RequestError(f"the endpoint reported an error mid-answer: {server or 'no details'}", **kw)
        return RequestError(f"request rejected ({status}): {server or 'no details given'}", **kw)


# --------------------------------------------------------------------------- redaction and helpers


class _CallbackFailed(Exception):
    """Carries an exception raised by ``on_text`` past the SDK error mapping."""

    def __init__(self, error: BaseException):
        super().__init__(repr(error))
        self.error = error


def _emit(on_text: Callable[[str], None], text: str) -> None:
    try:
        on_text(text)
    except Exception as err:
        raise _CallbackFailed(err) from err


def redact_body(body: Any) -> Any:
    """A copy of a request body with image data elided, for logs.

    Every ``data:...;base64,...`` string becomes ``data:image/jpeg;base64,<12345 bytes elided>``
    (its own MIME type, its decoded size); any other long base64 string becomes ``<N bytes elided>``.

    Args:
        body: a request body (dicts, lists, strings ...). Not modified.

    Returns:
        The redacted copy.
    """
    if isinstance(body, dict):
        return {key: redact_body(value) for key, value in body.items()}
    if isinstance(body, (list, tuple)):
        return [redact_body(value) for value in body]
    if isinstance(body, str):
        match = _DATA_URL_VALUE.match(body)
        if match:
            mime = match.group("mime") or "application/octet-stream"
            return f"data:{mime};base64,<{_b64_size(match.group('data'))} bytes elided>"
        if len(body) >= 256 and _BASE64_RUN.fullmatch(body.strip()):
            return f"<{_b64_size(body.strip())} bytes elided>"
        if len(body) >= 64 and "base64," in body:  # data URLs inside a longer text
            return _DATA_URL.sub("data:<elided>", body)
    if isinstance(body, (bytes, bytearray)):
        return f"<{len(body)} bytes elided>"
    return body


def _b64_size(data: str) -> int:
    data = data.strip()
    return max(0, len(data) * 3 // 4 - data[-2:].count("="))


def _request_body(body: Any) -> dict:
    if not isinstance(body, Mapping):
        raise ConfigError(f"a chat request body must be a dict, not {type(body).__name__}")
    request = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    if not isinstance(request.get("model"), str) or not request["model"]:
        raise ConfigError("a chat request body needs a 'model' (string): pass --model")
    if not isinstance(request.get("messages"), list) or not request["messages"]:
        raise ConfigError("a chat request body needs a non-empty 'messages' list")
    return request


_PARAMS_CACHE: dict[type, frozenset[str]] = {}


def _create_parameters(resource: type) -> frozenset[str]:
    """The body fields ``chat.completions.create`` takes as keywords in the installed SDK."""
    if resource not in _PARAMS_CACHE:
        params = inspect.signature(resource.create).parameters
        _PARAMS_CACHE[resource] = frozenset(
            name
            for name, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("extra_headers", "extra_query", "extra_body", "timeout")
        )
    return _PARAMS_CACHE[resource]


def _usage(usage: Any) -> Usage:
    def count(name: str) -> int:
        value = getattr(usage, name, None)
        if value is None and isinstance(usage, Mapping):
            value = usage.get(name)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

    return Usage(count("prompt_tokens"), count("completion_tokens"))


def _request_id(err: BaseException) -> str | None:
    request_id = getattr(err, "request_id", None)
    if request_id is None:
        response = getattr(err, "response", None)
        headers = getattr(response, "headers", None)
        request_id = headers.get("x-request-id") if headers is not None else None
    return request_id


def _error_fields(body: Any) -> tuple[str | None, str]:
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


def _status(status: int | None) -> str:
    return f" ({status})" if status is not None else ""


def _clean_message(text: Any, secrets: tuple[str, ...] = ()) -> str:
    """One line, no secrets, no base64, at most ``MAX_SERVER_MESSAGE_CHARS`` characters."""
    text = str(text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _DATA_URL.sub("data:<elided>", text)
    text = _BASE64_RUN.sub("<elided>", text)
    text = _KEY_LIKE.sub(lambda m: m.group(1) + "-***", text)
    text = " ".join(text.split())
    if len(text) > MAX_SERVER_MESSAGE_CHARS:
        text = text[: MAX_SERVER_MESSAGE_CHARS - 1].rstrip() + "…"
    return text


def _display_url(url: str) -> str:
    """The URL without user info, query or fragment (they may carry credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


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


def _rejects_streaming(err: Any) -> bool:
    code, message = _error_fields(err.body)
    param = getattr(err, "param", None)
    return param in ("stream", "stream_options") or "stream_options" in message or "stream" == (code or "")
