"""What the commands share: output files (written atomically, never over an input), the cache,
notes and the one-line form of an error."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..console import terminal_text, write_out
from ..errors import ConfigError, VideovisionError

PROG = "videovision"


def one_line(err: VideovisionError) -> str:
    """The error's message on one line; a config field it names is shown as its flag."""
    message = terminal_text(" ".join(str(err).split())) or type(err).__name__
    field = getattr(err, "field", None)
    if field and message.startswith(field):
        message = "--" + field.replace("_", "-") + message[len(field):]
    return message


def read_cache(args, read: Callable[[Any], Any]) -> Any:
    """``read(cache)`` on a cache opened for it (commands without ``--no-cache``), then closed."""
    cache = open_cache(args)
    assert cache is not None
    try:
        return read(cache)
    finally:
        cache.close()


def open_cache(args):
    """The cache of ``--cache-dir`` (None with ``--no-cache``)."""
    from ..store import open_cache as open_store

    return open_store(getattr(args, "cache_dir", None), enabled=not getattr(args, "no_cache", False))


def answer_out(args: argparse.Namespace, text: str, what: str, *, as_json: bool = False) -> None:
    """The answer on stdout, or written atomically to ``-o/--output``."""
    if getattr(args, "output", None):
        write_output(args.output, "--output", text)
        print(f"wrote the {what} to {args.output}", file=sys.stderr)
    else:
        write_out(text, as_json=as_json)


def write_output(path_text: str, option: str, text: str) -> None:
    """Write an output file atomically; a failure is a one-line ConfigError naming the option."""
    from pathlib import Path

    from ..files import atomic_write_text

    try:
        atomic_write_text(Path(path_text), text)
    except OSError as err:
        raise ConfigError(f"{option} {path_text}: cannot write ({err.strerror})") from err


_INPUT_OPTIONS = (("video", "the video"), ("subtitles", "the --subtitles file"),
                  ("models_file", "the --models-file file"), ("provider", "the --provider file"))
"""The arguments naming files a command reads (attribute, what the message calls it)."""


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths are one file (the same path, a hard link or a symlink: st_dev + st_ino)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # either is missing (nothing to destroy), or not a path at all
        return False


def refuse_input(args: argparse.Namespace | None, path_text: str, option: str) -> None:
    """An output path that resolves to one of the command's inputs is refused before anything is
    written or paid (it would destroy the input)."""
    if args is None:
        return
    for attr, what in _INPUT_OPTIONS:
        value = getattr(args, attr, None)
        if isinstance(value, (str, os.PathLike)) and os.fspath(value) and same_file(path_text, value):
            raise ConfigError(f"{option} {path_text}: is {what} itself (the same file, a hard link or a symlink); "
                              "writing there would destroy it: choose another file")


def check_writable(path_text: str, option: str, args: argparse.Namespace | None = None) -> None:
    """Fail before paying for a request whose result could not be written, or would overwrite an
    input of ``args``."""
    from pathlib import Path

    refuse_input(args, path_text, option)
    path = Path(path_text)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a directory")
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"{option} {path}: not writable")


def print_notes(notes: Sequence[str]) -> None:
    """Notes on the answer (cited times no frame supports ...) go to stderr: stdout carries the answer alone."""
    for note in notes:
        print(terminal_text(note), file=sys.stderr)


def check_report(args: argparse.Namespace) -> None:
    if getattr(args, "report", None):
        check_writable(args.report, "--report", args)


def write_report(result, video: str, path: str, *, url: str | None = None) -> None:
    """The run's HTML report, written atomically; a URL video plays from its URL (``url``)."""
    from ..report import render_report

    write_output(path, "--report", render_report(result, video=result.plan.source or video, out=path, url=url))
    print(f"{PROG}: report written to {path}", file=sys.stderr)
