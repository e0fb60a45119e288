"""Where and how to reach a Chat Completions endpoint: ``ClientConfig``, checked when built.

    ClientConfig(api_key, base_url, timeout, max_retries)     ClientConfig.from_env(**overrides)

Defaults come from ``videovision.defaults``; a bad value raises ``ConfigError`` (exit code 2 in the
CLI), a malformed base URL included. ``repr`` never shows the key.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import openai

from . import defaults
from .errors import AuthenticationError, ConfigError
from .redact import display_url, split_url

__all__ = ["LOCAL_PLACEHOLDER_KEY", "OPENAI_BASE_URL", "ClientConfig"]

OPENAI_BASE_URL = "https://api.openai.com/v1"
"""The endpoint used when no base URL is configured."""
LOCAL_PLACEHOLDER_KEY = "not-needed"
"""Sent as the key to a non-OpenAI endpoint when none is configured (local servers ignore it)."""
_NO_KEY_MESSAGE = "no API key: set OPENAI_API_KEY, or pass --base-url for a local OpenAI-compatible server"


@dataclass(frozen=True, repr=False)
class ClientConfig:
    """Where and how to reach a Chat Completions endpoint.

    Attributes:
        api_key: the key (``OPENAI_API_KEY``). Optional for a local server (``base_url`` set).
        base_url: the endpoint (``OPENAI_BASE_URL``), e.g. ``http://localhost:11434/v1``;
            None means OpenAI's.
        timeout: seconds each attempt may take, from sending the request to the last byte of the
            reply (the SDK retries on timeouts).
        max_retries: retries the SDK makes on 408/409/429/5xx, timeouts and connection errors (an
            unfinished reply is asked again within the same budget); at most ``defaults.MAX_RETRIES_CAP``.

    ``repr`` never shows the key.
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout: float = defaults.TIMEOUT
    max_retries: int = defaults.MAX_RETRIES
    api: str = "auto"
    """The request format: a wire's name (``chat``: ``/chat/completions``, ``responses``:
    ``/responses``; ``videovision.wires``), or ``auto`` (Responses for models only it serves, Chat
    Completions otherwise: the model table's ``api``)."""

    def __post_init__(self) -> None:
        from .wires import api_choices

        if self.api not in api_choices():
            raise ConfigError(f"invalid api {self.api!r}: choose {', '.join(api_choices())}", field="api")
        if self.api_key is not None and not isinstance(self.api_key, str):
            raise ConfigError("the API key must be a string")
        if self.base_url is not None:
            _check_base_url(str(self.base_url))
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or not (
            math.isfinite(self.timeout) and self.timeout > 0
        ):
            raise ConfigError(f"invalid timeout {self.timeout!r}: must be a number of seconds > 0")
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ConfigError(f"invalid max retries {self.max_retries!r}: must be an integer >= 0")
        if self.max_retries > defaults.MAX_RETRIES_CAP:
            raise ConfigError(f"max_retries {self.max_retries}: at most {defaults.MAX_RETRIES_CAP} retries (each "
                              "waits longer than the last: more would keep a failing run going for a long time)",
                              field="max_retries")

    def __repr__(self) -> str:
        key = "None" if self.api_key is None else "'***'"
        return (
            f"ClientConfig(api_key={key}, base_url={self.base_url!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, api={self.api!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ClientConfig:
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
        env = os.environ if environ is None else environ
        unknown = set(overrides) - {"api_key", "base_url", "timeout", "max_retries", "api"}
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
        parts = split_url(self.endpoint)
        return parts is not None and (parts.hostname or "").lower() == "api.openai.com"

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


def _check_base_url(url: str) -> None:
    """Accept an ``http(s)://host...`` URL that parses; a malformed one (``http://[x/v1``) is a ConfigError."""
    parts = split_url(url)
    if parts is not None and parts.scheme in ("http", "https") and parts.hostname:
        return
    shown = repr(display_url(url)) if parts is not None else "(malformed)"
    raise ConfigError(f"invalid base URL {shown}: use http(s)://host[:port]/v1, e.g. http://localhost:11434/v1")


CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the TCP/TLS connection (within the overall deadline)."""


def sdk_client(config: ClientConfig, key: str) -> openai.OpenAI:
    """The ``openai.OpenAI`` for an endpoint: the SDK's retries and timeouts, the overall deadline of
    each attempt (videovision/deadline.py), connections closed when it is collected.

    Args:
        config: the endpoint.
        key: the key to send (``config.resolved_api_key()``).
    """
    import openai

    from .deadline import deadline_hooks

    class _HttpClient(openai.DefaultHttpxClient):
        def __del__(self) -> None:
            try:
                if not self.is_closed:
                    self.close()
            except Exception:  # interpreter shutdown: nothing left to do
                pass

    timeout = float(config.timeout)
    hooks = deadline_hooks(timeout)
    hooks["response"].append(_no_retry_on_quota)
    return openai.OpenAI(api_key=key, base_url=config.endpoint,
                         timeout=openai.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
                         max_retries=config.max_retries, http_client=_HttpClient(event_hooks=hooks))


def _no_retry_on_quota(response: Any) -> None:
    """A 429 for an exhausted quota is final: tell the SDK not to retry it (``x-should-retry``),
    rather than spend the retries and the backoff on an answer that cannot change."""
    if response.status_code != 429 or "x-should-retry" in response.headers:
        return
    from .errormap import error_fields, is_quota

    try:
        response.read()
        code, message = error_fields(response.json())
    except Exception:  # not JSON, or unreadable: the SDK decides as usual
        return
    if is_quota(code, message):
        response.headers["x-should-retry"] = "false"
