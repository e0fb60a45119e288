"""Writing output files, in one place: atomically (a temp file beside the target, renamed over it), with
the same permissions for every file videovision writes (``0o666`` less the umask, as ``open()`` gives).

A reader never sees half a file, and a failed or interrupted write leaves the previous file as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_output", "atomic_write_bytes", "atomic_write_text", "file_mode", "put_in_place"]


def file_mode() -> int:
    """The mode every output file gets: ``0o666`` less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def put_in_place(finished: Path, path: Path) -> None:
    """Give a finished file (written beside ``path``, on the same file system) the output mode and rename it
    over ``path`` in one step: the one rename behind every atomic write.

    Raises:
        OSError: the rename fails.
    """
    os.chmod(finished, file_mode())
    os.replace(finished, path)


@contextlib.contextmanager
def atomic_output(path: Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on a clean exit it gets the output mode and replaces
    ``path``; on any error (Ctrl-C included) it is removed and ``path`` is untouched.

    Raises:
        OSError: the temporary file cannot be made, or the rename fails.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        put_in_place(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically.

    Raises:
        OSError: the file cannot be written.
    """
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically.

    A lone surrogate (a non-UTF-8 file name decoded by ``os.fsdecode``) is written as its ``\\udcXX``
    escape: valid UTF-8, and in a JSON string it reads back as the same name.

    Raises:
        OSError: the file cannot be written.
    """
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", errors="backslashreplace") as fh:
        fh.write(text)
