"""Streamed text on its way to an ``on_text`` callback: scrubbed of secrets, and shown once.

``TextRelay`` sits between a streamed reply and the caller's ``on_text``:

- text is held back to its last whitespace (keys contain none), so a key split across deltas is
  still caught by ``scrub_secrets`` before anything is passed on;
- after ``restart`` (the client asks again after an unfinished reply), text the reader has already
  seen is not passed again; if the new answer differs from it, the new answer is passed from its
  start after a newline.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .redact import scrub_secrets

__all__ = ["MAX_HOLDBACK_CHARS", "CallbackFailed", "TextRelay"]

MAX_HOLDBACK_CHARS = 2048
"""Text without whitespace is held back by at most this many characters."""

_BEARER_AT_END = re.compile(r"bearer\s+$", re.IGNORECASE)
_LAST_SPACE = re.compile(r".*\s", re.DOTALL)


class CallbackFailed(Exception):
    """Carries an exception raised by ``on_text`` past the caller's error mapping (``.error``)."""

    def __init__(self, error: BaseException):
        super().__init__(repr(error))
        self.error = error


def _emit(on_text: Callable[[str], None], text: str) -> None:
    try:
        on_text(text)
    except Exception as err:
        raise CallbackFailed(err) from err


class TextRelay:
    """Passes a streamed answer to ``on_text``: scrubbed of secrets, and once only across retries.

    Text is held back to its last whitespace (keys hold none), so a key split across deltas is still
    scrubbed. After ``restart`` (a retry), text the reader has already seen is not passed again; if
    the new answer differs from it, the new answer is passed from its start after a newline.
    """

    def __init__(self, on_text: Callable[[str], None], secrets: tuple[str, ...]):
        self._on_text = on_text
        self._secrets = secrets
        self._shown = ""  # the answer as the reader currently sees it
        self._attempt = ""  # this attempt's scrubbed text so far
        self._pending = ""  # this attempt's text not yet scrubbed (after the last whitespace)
        self._synced = True  # this attempt has caught up with what is shown

    def feed(self, piece: str) -> None:
        self._pending += piece
        cut = _safe_cut(self._pending)
        if cut == 0 and len(self._pending) > MAX_HOLDBACK_CHARS:
            cut = len(self._pending)
        if cut:
            self._pass(scrub_secrets(self._pending[:cut], self._secrets))
            self._pending = self._pending[cut:]

    def flush(self) -> None:
        if self._pending:
            self._pass(scrub_secrets(self._pending, self._secrets))
            self._pending = ""

    def restart(self) -> None:
        self._attempt = ""
        self._pending = ""
        self._synced = not self._shown

    def _pass(self, text: str) -> None:
        if not text:
            return
        self._attempt += text
        if self._synced:
            self._shown = self._attempt
            _emit(self._on_text, text)
            return
        if self._shown.startswith(self._attempt):
            return  # the reader has seen this already
        new = self._attempt[len(self._shown) :] if self._attempt.startswith(self._shown) else "\n" + self._attempt
        self._shown = self._attempt
        self._synced = True
        _emit(self._on_text, new)


def _safe_cut(text: str) -> int:
    """Where text can be cut without splitting a secret: after its last whitespace, and before a
    trailing ``Bearer`` whose token has not arrived yet."""
    match = _LAST_SPACE.match(text)
    if match is None:
        return 0
    cut = match.end()
    bearer = _BEARER_AT_END.search(text, 0, cut)
    return bearer.start() if bearer else cut
