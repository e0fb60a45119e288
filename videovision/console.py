"""What the command line shows on a terminal while it works, and how it reads a conversation:
progress bars (tqdm) on stderr, and questions with line editing and history (readline).

Nothing here prints unless stderr (or stdin, for questions) is a terminal: piped and redirected
runs stay clean.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .asking import RunProgress

TICK = 0.1
"""Seconds between redraws of the waiting time."""

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""What must not reach a terminal raw: C0 controls but newline and tab (ESC starts OSC 52 clipboard
writes, ``ESC[2J``, OSC 8 links; a bare carriage return overwrites the line), DEL, C1 controls (CSI
``\\x9b`` ...), and lone surrogates (which cannot even be encoded)."""


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return "\ufffd" if "\ud800" <= char <= "\udfff" else f"\\x{ord(char):02x}"


def terminal_text(text: str) -> str:
    """Text from outside (model replies, transcripts, search hits, server messages) made safe to show on
    a terminal: ``\\r\\n`` becomes ``\\n``, every other control character but newline and tab is shown
    escaped (ESC as the four characters ``\\x1b``), a lone surrogate becomes U+FFFD. The one helper
    every place printing such text goes through."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(_escaped, text)


def _json_escaped(match: re.Match[str]) -> str:
    char = match.group()
    return "\ufffd" if "\ud800" <= char <= "\udfff" else f"\\u{ord(char):04x}"


def terminal_json(text: str) -> str:
    """JSON text (``json.dumps`` escapes C0 controls itself) with DEL and C1 controls escaped as
    ``\\u00XX`` (still valid JSON, the same strings) and lone surrogates as U+FFFD."""
    return _UNSAFE.sub(_json_escaped, text)


class StreamedText:
    """Writes a streamed answer, piece by piece, through :func:`terminal_text`: a ``\\r`` ending one
    piece waits for the next, so a ``\\r\\n`` split between two pieces is still one newline."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.held = ""

    def write(self, text: str) -> None:
        text = self.held + text
        self.held = "\r" if text.endswith("\r") else ""
        shown = text[: len(text) - len(self.held)]
        self.stream.write(terminal_text(shown))
        self.stream.flush()
        if shown:
            _OPEN_LINES[id(self.stream)] = (self.stream, not shown.endswith("\n"))

    def close(self) -> None:
        if self.held:
            self.stream.write(terminal_text(self.held))
            self.held = ""


_OPEN_LINES: dict[int, tuple[TextIO, bool]] = {}
"""Streams a streamed answer was written to, and whether its last line is still open."""


def end_open_lines() -> None:
    """End the line of an answer cut off mid-stream, so an error or interruption message that
    follows starts on a line of its own."""
    for stream, open_line in list(_OPEN_LINES.values()):
        if open_line:
            try:
                stream.write("\n")
                stream.flush()
            except (OSError, ValueError):
                pass
    _OPEN_LINES.clear()


def write_out(text: str, stream: TextIO | None = None, *, as_json: bool = False) -> None:
    """Write untrusted text to stdout (or ``stream``) through :func:`terminal_text`
    (:func:`terminal_json` for JSON)."""
    (stream or sys.stdout).write(terminal_json(text) if as_json else terminal_text(text))


def _bar(stream: TextIO, fmt: str, total: float | None = None):
    from tqdm import tqdm

    return tqdm(total=total, file=stream, bar_format=fmt, leave=False, disable=not stream.isatty(),
                dynamic_ncols=True, mininterval=TICK)


class ProgressBar:
    """``sampling [#####     ]  52%`` while a video is decoded (a progress callback of
    ``make_plan``/``extract_frames``: it receives a :class:`~videovision.asking.RunProgress`)."""

    def __init__(self, label: str, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.bar = _bar(self.stream, label + " {bar} {percentage:3.0f}%", total=1000) if self.enabled else None

    def __call__(self, state: RunProgress) -> None:
        if self.bar is None or state.total <= 0:
            return
        self.bar.n = round(1000 * max(0.0, min(1.0, state.done / state.total)))
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class RequestStatus:
    """``request 3/7 · 12.4 s`` on stderr while replies are awaited, the seconds ticking (a
    ``run_plan`` progress callback). :meth:`close` clears it (before a streamed answer, at the end)."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.bar = _bar(self.stream, "{desc}") if self.enabled else None
        self.state: RunProgress | None = None
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.ticker: threading.Thread | None = None

    def __call__(self, state: RunProgress) -> None:
        if self.bar is None:
            return
        with self.lock:
            self.state = state
        if self.ticker is None:
            self.ticker = threading.Thread(target=self._tick, name="videovision-status", daemon=True)
            self.ticker.start()
        self._draw()

    def text(self) -> str:
        state = self.state
        if state is None:
            return ""
        current = min(state.total, state.done + max(1, state.running))
        at_once = f" ({state.running} at once)" if state.running > 1 else ""
        return f"request {current}/{state.total}{at_once} · {time.monotonic() - self.started:.1f} s"

    def _draw(self) -> None:
        with self.lock:
            if self.bar is not None and self.state is not None:
                self.bar.set_description_str(self.text(), refresh=True)

    def _tick(self) -> None:
        while not self.done.wait(TICK):
            self._draw()

    def close(self) -> None:
        self.done.set()
        with self.lock:
            if self.bar is not None:
                self.bar.close()
                self.bar = None


def questions(prompt: str = "> ", history: Path | None = None, stdin: TextIO | None = None) -> Iterator[str]:
    """The questions of a conversation, one per line, blank lines skipped, until end of input or
    ``/quit``. On a terminal: a prompt, line editing and history (kept in ``history`` between runs);
    from a pipe: the lines as they come, no prompt."""
    stdin = stdin or sys.stdin
    interactive = stdin.isatty() and stdin is sys.stdin
    if interactive:
        _readline(history)
    while True:
        try:
            line = input(prompt) if interactive else stdin.readline()
        except EOFError:
            break
        if not interactive and line == "":
            break
        line = line.strip()
        if line in ("/quit", "/exit"):
            break
        if line:
            yield line
    if interactive:
        _save_history(history)


def _readline(history: Path | None) -> None:
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input()
        return
    if history is not None and history.is_file():
        try:
            readline.read_history_file(os.fspath(history))
        except OSError:
            pass
    readline.set_history_length(1000)


def _save_history(history: Path | None) -> None:
    if history is None:
        return
    try:
        import readline

        history.parent.mkdir(parents=True, exist_ok=True)
        readline.write_history_file(os.fspath(history))
    except (ImportError, OSError):
        pass
