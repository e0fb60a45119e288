"""ask: the one place that talks to the model endpoint.

    request (neutral, or a wire's body) ──ChatClient.complete──▶ ChatResult(text, usage, ...)

The request goes over the wire ``ClientConfig.api`` chooses (``videovision.wires``: Chat
Completions, the Responses API for the models served only there, or any other wire module): the
wire encodes it, names the SDK call and parses the reply and its stream; this module keeps what
holds for every wire.

``OpenAIChatClient`` sends the body through the official ``openai`` SDK to any OpenAI-compatible
endpoint. The SDK does the retries (``max_retries``, exponential backoff, honours ``Retry-After``);
this module maps the SDK's errors once into the videovision tree (``RequestError`` and its
subclasses, keeping ``status_code`` and ``request_id``), with one-line messages that say what to do
next and never contain the API key or image data (``videovision.errormap``).

What the client guarantees on top of the SDK:

- **Only finished replies are returned.** A reply without a ``finish_reason`` (a stream cut off, a
  connection closed mid-answer, a stream that ends without its final chunk, a non-streamed reply
  without one, or with no choices) is asked again within ``max_retries`` (the SDK's retries count
  against the same budget), then raised as ``IncompleteReplyError`` — never returned, so never cached.
- **An overall deadline per attempt.** ``timeout`` bounds each attempt from sending the request to
  the last byte of the reply (``videovision.deadline``), not only the gap between reads.
- **No key in any output.** Error messages, the SDK errors they chain, and the returned (and
  streamed) answer pass through ``videovision.redact.scrub_secrets``.
- **Billed usage survives errors.** Every ``RequestError`` raised by ``complete`` has a ``usage``
  attribute (``billed_usage(err)``): the tokens the endpoint reported for that reply, e.g. an answer
  cut off at the output limit (``finish_reason: "length"``), else zero.
- ``stops_run(err)`` tells a caller sending many requests when the others would fail the same way
  (key refused 401/403, model unknown, quota spent, wrong endpoint path), so it sends no more.

Around it: ``ClientConfig`` in ``videovision.endpoint``, the error mapping with ``stops_run`` and
``billed_usage`` in ``videovision.errormap``, ``IncompleteReplyError`` and ``QuotaExceededError`` in
``videovision.errors``; all are importable from here too.

Tests and the pipeline's logic use any object with a ``complete`` method (``ChatClient``); the wire
is tested against a loopback OpenAI-compatible server.

Logging (``logging.getLogger("videovision.client")``, DEBUG): the request with every data URL
elided (``redact_body``), and the reply's metadata. Never the key, never base64.
"""

from __future__ import annotations

import inspect
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from .endpoint import LOCAL_PLACEHOLDER_KEY, OPENAI_BASE_URL, ClientConfig
from .endpoint import sdk_client as make_sdk_client
from .errormap import RUN_STOPPING_ERRORS, ErrorMapper, billed_usage, rejects_streaming, stops_run
from .errors import (
    ConfigError,
    ContentRefusedError,
    IncompleteReplyError,
    QuotaExceededError,
    RequestError,
    RequestTimeoutError,
    ResponseFormatError,
)
from .redact import display_url, redact_body, scrub_secrets

if TYPE_CHECKING:  # the SDK loads when a request is made, not when a plan is (start-up: issue 24)
    import openai
from .relay import CallbackFailed, TextRelay
from .request import Request
from .types import ChatResult, Usage
from .wires import DEFAULT, Wire, wire_of, wire_of_body

__all__ = [
    "LOCAL_PLACEHOLDER_KEY",
    "OPENAI_BASE_URL",
    "RETRY_BASE_DELAY",
    "RETRY_MAX_DELAY",
    "RUN_STOPPING_ERRORS",
    "ChatClient",
    "ClientConfig",
    "IncompleteReplyError",
    "OpenAIChatClient",
    "QuotaExceededError",
    "billed_usage",
    "redact_body",
    "scrub_secrets",
    "stops_run",
    "wire_request",
]

log = logging.getLogger(__name__)

RETRY_BASE_DELAY = 0.5
"""Seconds before asking again after an unfinished reply; doubles with each retry."""
RETRY_MAX_DELAY = 8.0
"""Longest wait between two attempts after unfinished replies."""

# --------------------------------------------------------------------------- the interface


class ChatClient(Protocol):
    """Anything that can answer one request: a neutral :class:`~videovision.request.Request` or a
    wire's body (a client that sends over a wire offers ``wire_request(body) -> (wire, exact body)``
    too, for the reply cache's key; without it the body is taken as it is)."""

    @property
    def endpoint(self) -> str:
        """Where requests go (a base URL, or any name unique to the backend): part of the cache key."""
        ...

    def complete(self, body: Any, *, on_text: Callable[[str], None] | None = None) -> ChatResult:
        """Send one request.

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


class CachedRepliesOnly:
    """A client that never sends: ``videovision report`` rebuilds a run from the cache with it (every
    reply of the run is found there first; a missing one is an error, not a request)."""

    def __init__(self, endpoint: str, api: str = "auto"):
        self._endpoint = endpoint
        self._api = api

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def wire_request(self, body: Any) -> tuple[Wire, dict]:
        """As ``OpenAIChatClient.wire_request``: the keys the run's replies were stored under."""
        return wire_request(body, self._api)

    def complete(self, body: Any, *, on_text: Callable[[str], None] | None = None) -> ChatResult:
        from .errors import CacheError

        raise CacheError("a reply of this run is no longer in the cache (pruned or cleared): run the command again "
                         "with --report to rebuild it")


# --------------------------------------------------------------------------- the OpenAI SDK client


class OpenAIChatClient:
    """``ChatClient`` over the official ``openai`` SDK, for any OpenAI-compatible endpoint.

    Args:
        config: endpoint, key, timeout and retries (``ClientConfig.from_env()`` if None).
        sdk_client: an ``openai.OpenAI`` to use instead of building one (e.g. with a mock transport);
            the overall deadline is then only checked between streamed chunks.

    Raises:
        AuthenticationError: no key and no local base URL.
    """

    def __init__(self, config: ClientConfig | None = None, *, sdk_client: openai.OpenAI | None = None):
        self.config = config if config is not None else ClientConfig.from_env()
        key = self.config.resolved_api_key()
        self._secrets = tuple(s for s in (self.config.api_key, key) if s and s != LOCAL_PLACEHOLDER_KEY)
        self._errors = ErrorMapper(self.config.endpoint, self.config.timeout, self.config.max_retries, self._secrets)
        self._sdk = sdk_client if sdk_client is not None else make_sdk_client(self.config, key)

    def __repr__(self) -> str:
        return f"OpenAIChatClient({self.config!r})"

    @property
    def endpoint(self) -> str:
        """The base URL requests go to: part of every reply's cache key (with the wire's own part,
        ``Wire.cache_endpoint``, so two wires' replies are never mixed up)."""
        return self.config.endpoint

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secrets this client scrubs from everything it returns (for ``scrub_secrets``)."""
        return self._secrets

    def close(self) -> None:
        """Close the HTTP connections."""
        self._sdk.close()

    def __enter__(self) -> OpenAIChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wire_request(self, body: Any) -> tuple[Wire, dict]:
        """The wire a request goes over and the exact body it sends (the reply cache's key).

        Raises:
            ConfigError: ``body`` is not a request.
        """
        return wire_request(body, self.config.api)

    # ---- the one call

    def complete(self, body: Any, *, on_text: Callable[[str], None] | None = None) -> ChatResult:
        """Send one request (streamed when ``on_text`` is given) over the wire :meth:`wire_request` picks.

        Args:
            body: a neutral :class:`~videovision.request.Request`, or a wire's body (re-encoded when
                ``ClientConfig.api`` names another wire); not modified. ``stream`` and
                ``stream_options`` in it are ignored.
            on_text: called with the answer's text as it streams in (secrets scrubbed; held back to a
                word boundary). When an unfinished reply is asked again, only text beyond what was
                already passed on is passed; if the new answer differs, it is passed again from its
                start after a newline.

        Returns:
            ``ChatResult(text, Usage(prompt, completion), model, finish_reason, request_id)`` of a
            finished reply, its text scrubbed of secrets.

        Raises:
            AuthenticationError: the key was refused (401) or lacks access (403).
            ModelNotFoundError: the endpoint does not know the model (404).
            QuotaExceededError: the account's quota is spent (429 insufficient_quota).
            RateLimitError: still rate limited (429) after the retries.
            ServerError: still failing (5xx) after the retries.
            RequestTimeoutError: no complete reply within the timeout, after the retries.
            EndpointConnectionError: the endpoint cannot be reached.
            ContextLengthError: the request does not fit the model's context.
            ContentRefusedError: the model or its content filter refused.
            IncompleteReplyError: the reply kept ending before it was finished (no finish_reason).
            ResponseFormatError: the reply is malformed, empty, or cut off at the output limit.
            RequestError: any other rejection (the server's message is quoted).
            ConfigError: ``body`` is not a request body.

            Every ``RequestError`` carries ``usage`` (see ``billed_usage``).
        """
        wire, request = self.wire_request(body)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s request to %s%s (%s): %s",
                wire.name,
                display_url(self.config.endpoint),
                wire.path,
                "streaming" if on_text else "non-streaming",
                json.dumps(redact_body(request), ensure_ascii=False),
            )
        started = time.monotonic()
        relay = TextRelay(on_text, self._secrets) if on_text is not None else None
        callback_error: BaseException | None = None
        try:
            result, retries = self._ask(wire, request, relay)
        except CallbackFailed as failed:
            callback_error = failed.error
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

    # ---- attempts

    def _ask(self, wire: Wire, request: dict, relay: TextRelay | None) -> tuple[ChatResult, int]:
        """Ask until a finished reply arrives; unfinished ones are asked again within ``max_retries``.

        Returns:
            The result and the number of retries it took (the SDK's and ours).
        """
        retries = 0
        while True:
            budget = self.config.max_retries - retries
            try:
                result, taken = self._attempt(wire, request, relay, budget)
                return result, retries + taken
            except _Unfinished as unfinished:
                retries += unfinished.retries_taken
                note = self._errors.retries_note(retries)
                if retries >= self.config.max_retries:
                    raise unfinished.final(note) from unfinished.__cause__
                log.debug("%s; asking again", unfinished.final(note))
                time.sleep(_retry_delay(retries))
                retries += 1
                if relay is not None:
                    relay.restart()

    def _attempt(self, wire: Wire, request: dict, relay: TextRelay | None,
                 max_retries: int) -> tuple[ChatResult, int]:
        import openai
        import pydantic

        sdk = self._sdk if max_retries == self.config.max_retries else self._sdk.with_options(max_retries=max_retries)
        try:
            if relay is None:
                return self._create(wire, sdk, request)
            return self._stream(wire, sdk, request, relay)
        except (CallbackFailed, _Unfinished, RequestError):
            raise
        except (openai.OpenAIError, json.JSONDecodeError, pydantic.ValidationError) as err:
            raise replace(self._errors, path=wire.path).map(err, request["model"]) from err

    # ---- non-streaming

    def _create(self, wire: Wire, sdk: openai.OpenAI, request: dict) -> tuple[ChatResult, int]:
        import openai

        raw = wire.resource(sdk).with_raw_response.create(**self._kwargs(wire, request))
        request_id = raw.request_id
        retries = int(getattr(raw, "retries_taken", 0) or 0)
        status = raw.http_response.status_code
        try:
            completion = raw.parse()
        except Exception as err:  # JSON or model decoding of a 2xx body
            raise self._errors.malformed(err, request_id) from err
        if not isinstance(completion, openai.BaseModel):  # the SDK returns text for non-JSON bodies
            raise self._errors.malformed(None, request_id, detail=f"Content-Type {raw.headers.get('content-type')!r}")
        reply = wire.parse(completion)
        if not reply.answered:
            host, path = self._host, wire.path
            raise _Unfinished(
                ResponseFormatError,
                lambda note: f"the endpoint at {host} answered with no choices ({note}): try again, or check "
                f"that the model is served at {path}",
                status_code=status,
                request_id=request_id,
                usage=reply.usage,
                retries_taken=retries,
            )
        result = self._result(
            text=reply.text,
            refusal=reply.refusal,
            finish_reason=reply.finish_reason,
            usage=reply.usage,
            model=reply.model or request["model"],
            status=status,
            request_id=request_id or getattr(completion, "_request_id", None),
            retries=retries,
        )
        return result, retries

    # ---- streaming

    def _stream(self, wire: Wire, sdk: openai.OpenAI, request: dict, relay: TextRelay) -> tuple[ChatResult, int]:
        import httpx2
        import openai

        kwargs = self._kwargs(wire, request)
        due = time.monotonic() + float(self.config.timeout)
        try:
            raw = wire.resource(sdk).with_raw_response.create(**kwargs, **wire.stream_options())
        except openai.BadRequestError as err:
            if not rejects_streaming(err):
                raise
            log.debug("the endpoint rejected stream/stream_options; asking again without streaming")
            result, retries = self._create(wire, sdk, request)
            relay.feed(result.text)
            relay.flush()
            return result, retries
        request_id = raw.request_id
        retries = int(getattr(raw, "retries_taken", 0) or 0)
        status = raw.http_response.status_code
        state = wire.new_stream()
        try:
            with raw.parse() as stream:
                for chunk in stream:
                    text = state.take(chunk)
                    if text:
                        relay.feed(text)
                    if time.monotonic() > due:  # also bounds an injected sdk_client without the deadline hooks
                        raise _Unfinished(
                            RequestTimeoutError, self._errors.timeout_message, request_id=request_id,
                            usage=state.reply().usage, retries_taken=retries,
                        )
        except (httpx2.TimeoutException, openai.APITimeoutError) as err:  # the SDK wraps httpx2's errors
            raise _Unfinished(
                RequestTimeoutError, self._errors.timeout_message, request_id=request_id,
                usage=state.reply().usage, retries_taken=retries,
            ) from err
        except (httpx2.TransportError, openai.APIConnectionError) as err:  # the connection closed mid-answer
            if state.finish_reason is None:
                host = self._host
                raise _Unfinished(
                    IncompleteReplyError,
                    lambda note: f"the connection to {host} closed before the answer was finished ({note}): "
                    "try again later, or raise --max-retries",
                    status_code=status,
                    request_id=request_id,
                    usage=state.reply().usage,
                    retries_taken=retries,
                ) from err
            log.debug("the connection closed after the answer finished (%s); usage may be missing", type(err).__name__)
        if not state.saw_answer:
            raise ResponseFormatError(
                f"the stream from {self._host} ended without an answer: check that --base-url points to an "
                "OpenAI-compatible /v1 endpoint",
                status_code=status,
                request_id=request_id,
            )
        reply = state.reply()
        if reply.usage == Usage():
            log.debug("the stream carried no usage; token usage recorded as 0")
        result = self._result(
            text=reply.text,
            refusal=reply.refusal,
            finish_reason=reply.finish_reason,
            usage=reply.usage,
            model=reply.model or request["model"],
            status=status,
            request_id=request_id,
            retries=retries,
        )
        relay.flush()
        return result, retries

    # ---- helpers

    @property
    def _host(self) -> str:
        return self._errors.host

    def _kwargs(self, wire: Wire, request: dict) -> dict:
        """Split the body into the SDK's keyword arguments and ``extra_body`` for the rest."""
        known = _create_parameters(type(wire.resource(self._sdk)))
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in request.items():
            (kwargs if key in known else extra)[key] = value
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def _result(
        self,
        *,
        text: Any,
        refusal: Any,
        finish_reason: Any,
        usage: Usage,
        model: str,
        status: int | None,
        request_id: str | None,
        retries: int,
    ) -> ChatResult:
        """Check a reply (refusal, filter, cut off, unfinished, no text) and build the result.

        Raises:
            _Unfinished: no finish_reason (asked again within the retries).
            ContentRefusedError, ResponseFormatError: billed replies that cannot be used; their
                usage is attached.
        """
        billed = usage
        kw: dict[str, Any] = {"status_code": status, "request_id": request_id, "usage": billed}
        if refusal:
            raise ContentRefusedError(f"the model refused to answer: {self._errors.clean(refusal)}", **kw)
        if finish_reason == "content_filter":
            raise ContentRefusedError(
                "the provider's content filter stopped the answer (finish_reason content_filter): "
                "try other frames or another prompt",
                **kw,
            )
        if finish_reason == "length":
            raise ResponseFormatError("the answer was cut off at the output limit: raise --max-output-tokens", **kw)
        if not isinstance(finish_reason, str) or not finish_reason:
            host = self._host
            raise _Unfinished(
                IncompleteReplyError,
                lambda note: f"the reply from {host} ended before the answer was finished (no finish_reason; "
                f"{note}): try again later, or raise --max-retries",
                status_code=status,
                request_id=request_id,
                usage=billed,
                retries_taken=retries,
            )
        if not isinstance(text, str):
            raise ResponseFormatError(
                f"the endpoint at {self._host} returned an answer without text "
                f"(finish_reason {finish_reason}): try again",
                **kw,
            )
        return ChatResult(
            text=scrub_secrets(text, self._secrets),
            usage=billed,
            model=str(model),
            finish_reason=finish_reason,
            request_id=request_id,
        )

    def _map_error(self, err: BaseException, model: str) -> RequestError:
        """``ErrorMapper.map`` for this client's endpoint (also used by ``speech.transcribe``)."""
        return self._errors.map(err, model)


# --------------------------------------------------------------------------- helpers


class _Unfinished(Exception):
    """An attempt whose reply cannot be used but may be fine when asked again (no finish_reason,
    no choices, the deadline passed mid-answer). ``final(note)`` is the error to raise when the
    retries are spent; ``note`` says how many were made."""

    def __init__(
        self,
        error: type[RequestError],
        message: Callable[[str], str],
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        usage: Usage | None = None,
        retries_taken: int = 0,
    ):
        super().__init__(error.__name__)
        self.error = error
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.usage = usage
        self.retries_taken = retries_taken

    def final(self, note: str) -> RequestError:
        return self.error(self.message(note), status_code=self.status_code, request_id=self.request_id, usage=self.usage)


def _retry_delay(retries: int) -> float:
    """Exponential backoff with jitter, as the SDK does between its own retries."""
    return min(RETRY_BASE_DELAY * 2.0**retries, RETRY_MAX_DELAY) * (1.0 - 0.25 * random.random())


def wire_request(body: Any, api: str | None = "auto") -> tuple[Wire, dict]:
    """The wire a request goes over for ``api`` (``ClientConfig.api``) and the exact body it sends.

    A neutral :class:`~videovision.request.Request` is encoded by the wire ``api`` picks for its
    model. A wire's body goes as it is when that is the wire picked (under ``auto``, a body in any
    wire's format but the default one keeps its wire), else it is read back and encoded anew (a
    Chat Completions body handed to a client set to ``responses``).

    Raises:
        ConfigError: ``body`` is not a request.
    """
    if isinstance(body, Request):
        if not body.model:
            raise ConfigError("a request needs a 'model': pass --model")
        wire = wire_of(body.model, api)
        return wire, wire.encode(body)
    if not isinstance(body, Mapping):
        raise ConfigError(f"a request body must be a dict, not {type(body).__name__}")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise ConfigError("a request body needs a 'model' (string): pass --model")
    given = wire_of_body(body)
    wire = given if api in (None, "auto") and given.name != DEFAULT else wire_of(body["model"], api)
    if wire is given:  # sent as it is (the endpoint judges its fields)
        return wire, {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    return wire, wire.encode(given.decode(body))


_PARAMS_CACHE: dict[type[Any], frozenset[str]] = {}


def _create_parameters(resource: type[Any]) -> frozenset[str]:
    """The body fields ``chat.completions.create`` takes as keywords in the installed SDK."""
    if resource not in _PARAMS_CACHE:
        params = inspect.signature(resource.create).parameters
        _PARAMS_CACHE[resource] = frozenset(
            name
            for name, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("extra_headers", "extra_query", "extra_body", "timeout")
        )
    return _PARAMS_CACHE[resource]
