"""What never leaves the process: API keys and image data.

    scrub_secrets(text, secrets)  the configured keys and anything key-like (``sk-…``, ``Bearer …``) → masked
    scrub_exception(err, secrets) the same, in place, on an exception and those it chains (tracebacks)
    clean_message(text, secrets)  scrub_secrets + data URLs and base64 runs elided, one line, bounded length
    redact_body(body)             a request body with every image data URL replaced by its size, for logs
    display_url(url)              a URL without user info, query or fragment (they may carry credentials)
    url_host(url)                 only ``host[:port]`` of a URL, for messages and the run log
    split_url(url)                ``urlsplit`` that returns None for a malformed URL or port

``scrub_secrets`` is the one scrubber: the client passes error messages, the exceptions it chains and
every reply's text through it; the CLI passes tracebacks (``VIDEOVISION_DEBUG=1``) through it; a store
may pass stored replies through it. ``secrets_from_env`` lists the keys the environment configures.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from .models.headers import DATA_URL_IN_TEXT, split_data_url

__all__ = [
    "MASK",
    "MAX_MESSAGE_CHARS",
    "MIN_SECRET_CHARS",
    "SECRET_ENV_VARS",
    "clean_message",
    "display_url",
    "redact_body",
    "scrub_exception",
    "scrub_secrets",
    "secrets_from_env",
    "split_url",
    "url_host",
    "url_name",
]

MASK = "***"
"""What a secret is replaced with."""
MIN_SECRET_CHARS = 8
"""Configured secrets shorter than this (``sk-test``, ``ollama``) are replaced where they stand as a
whole token (not inside a longer word: ``ollama`` in ``ollamas`` stays); longer ones wherever they appear."""
MAX_MESSAGE_CHARS = 240
"""``clean_message`` cuts text to this many characters."""
SECRET_ENV_VARS = ("OPENAI_API_KEY",)
"""Environment variables whose values are secrets."""

# ``sk-…``/``sess-…`` tokens (OpenAI keys, also as echoed masked: ``sk-proj-****abcd``). Requiring a digit or
# an asterisk keeps words such as ``sk-learn`` intact; real keys are long random base62.
_KEY_LIKE = re.compile(r"\b(sk|sess|rk)-(?=[A-Za-z0-9_*.-]*[0-9*])[A-Za-z0-9_*.-]{12,}", re.I)
_BEARER = re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/*=-]{8,}", re.I)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}")


_SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate (valid in a JSON string as ``"\\udcff"``, never encodable as UTF-8)."""


def scrub_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask the given secrets and anything that looks like an API key or a bearer token; replace each
    lone surrogate by U+FFFD (every reply passes here, so a paid reply can always be cached, printed
    and written).

    Args:
        text: any text (an error message, a traceback, a model's reply).
        secrets: exact strings to remove (the configured API key ...), of any length; None and
            empty values are skipped; short ones (< ``MIN_SECRET_CHARS``) only as whole tokens.

    Returns:
        The text with each secret replaced by ``***``, ``sk-…`` tokens by ``sk-***``,
        ``Bearer <token>`` by ``Bearer ***`` and lone surrogates by U+FFFD. Everything else is unchanged.
    """
    text = _SURROGATE.sub("\ufffd", text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_CHARS:
            text = text.replace(secret, MASK)
        else:  # a short key as a whole token: ordinary words that merely contain it stay
            text = re.sub(rf"(?<![A-Za-z0-9_-]){re.escape(secret)}(?![A-Za-z0-9_-])", MASK, text)
    text = _KEY_LIKE.sub(lambda m: f"{m.group(1)}-{MASK}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


def scrub_exception(err: BaseException, secrets: Iterable[str | None] = ()) -> None:
    """Scrub an exception and every exception it chains (``__cause__``/``__context__``), in place.

    Their ``args`` (what ``str()`` and a traceback print) and ``message``/``body`` attributes (the
    openai SDK's errors keep the server's error body there) pass through ``scrub_secrets``.

    Args:
        err: the exception (not re-raised; modified in place).
        secrets: as for ``scrub_secrets``.
    """
    secrets = tuple(secrets)
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(scrub_secrets(a, secrets) if isinstance(a, str) else a for a in current.args)
        for name in ("message", "body"):
            value = getattr(current, name, None)
            if isinstance(value, (str, dict, list)):
                try:
                    setattr(current, name, _scrub_value(value, secrets))
                except AttributeError:  # a read-only property
                    pass
        current = current.__cause__ or current.__context__


def _scrub_value(value: Any, secrets: tuple[str | None, ...]) -> Any:
    if isinstance(value, str):
        return scrub_secrets(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, secrets) for v in value]
    return value


def secrets_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The secrets the environment configures (``SECRET_ENV_VARS`` that are set).

    Args:
        environ: the environment to read (``os.environ`` if None).

    Returns:
        Their values, non-empty ones only.
    """
    env = os.environ if environ is None else environ
    return tuple(value for name in SECRET_ENV_VARS if (value := env.get(name)))


def clean_message(text: Any, secrets: Iterable[str | None] = ()) -> str:
    """One line for an error message: no secrets, no base64, at most ``MAX_MESSAGE_CHARS`` characters."""
    cleaned = scrub_secrets(str(text), secrets)
    cleaned = DATA_URL_IN_TEXT.sub("data:<elided>", cleaned)
    cleaned = _BASE64_RUN.sub("<elided>", cleaned)
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > MAX_MESSAGE_CHARS:
        cleaned = cleaned[: MAX_MESSAGE_CHARS - 1].rstrip() + "…"
    return cleaned


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
        parts = split_data_url(body)
        if parts is not None:
            mime, payload = parts
            return f"data:{mime};base64,<{_b64_size(payload)} bytes elided>"
        if len(body) >= 256 and _BASE64_RUN.fullmatch(body.strip()):
            return f"<{_b64_size(body.strip())} bytes elided>"
        if len(body) >= 64 and "base64," in body:  # data URLs inside a longer text
            return DATA_URL_IN_TEXT.sub("data:<elided>", body)
    if isinstance(body, (bytes, bytearray)):
        return f"<{len(body)} bytes elided>"
    return body


def _b64_size(data: str) -> int:
    data = data.strip()
    return max(0, len(data) * 3 // 4 - data[-2:].count("="))


def url_host(url: str | None) -> str | None:
    """Only ``host[:port]`` of a URL (never user info, path or query); None when there is no host.

    Args:
        url: a URL, or a bare ``host[:port]``.

    Returns:
        E.g. ``api.openai.com`` or ``localhost:11434`` (an IPv6 host in brackets), or None when
        ``url`` is empty or malformed.
    """
    if not url:
        return None
    parts = split_url(url if "://" in url else "//" + url)
    if parts is None:
        return None
    return _netloc(parts) or None


def display_url(url: str) -> str:
    """The URL without user info, query or fragment (they may carry credentials), for messages.

    Args:
        url: any URL.

    Returns:
        ``scheme://host[:port]/path`` (no trailing slash), or ``<invalid URL>`` when it cannot be parsed.
    """
    parts = split_url(url)
    if parts is None:
        return "<invalid URL>"
    return urlunsplit((parts.scheme, _netloc(parts), parts.path.rstrip("/"), "", ""))


def url_name(url: str) -> str:
    """A URL's file name, as a person would call the video: the last part of its path,
    percent-decoded (``talk%20%C3%BC.mp4`` -> ``talk ü.mp4``), else its host; never user info or query.

    Args:
        url: any URL.

    Returns:
        The name, or ``<invalid URL>`` when the URL cannot be parsed.
    """
    from urllib.parse import unquote

    parts = split_url(url)
    if parts is None:
        return "<invalid URL>"
    name = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return name.replace("/", "_").replace("\\", "_") or (parts.hostname or "video")


def split_url(url: str) -> SplitResult | None:
    """``urlsplit`` that also checks the port, or None when either fails (``http://[x``, ``:99999``)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    return parts


def _netloc(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if host and parts.port else host
