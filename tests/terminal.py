"""Running the CLI as a person at a terminal would: stdout (and optionally stderr) on a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios

COLUMNS, ROWS = 100, 30


def _terminal() -> tuple[int, int]:
    """A pseudo-terminal (master, slave) sized like a window (a bare pty has 0 columns)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    return master, slave


def run_on_a_terminal(args: list[str], timeout: float = 60, *, stderr_terminal: bool = False,
                      stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``python -m videovision ARGS`` with stdout on a pseudo-terminal (so a summary streams).

    Args:
        stderr_terminal: stderr on a second pseudo-terminal (progress bars show only there).
        stdin: text piped to the command's stdin (None: no input).

    Returns:
        (exit code, what the terminal showed on stdout, stderr).
    """
    out_master, out_slave = _terminal()
    err_master, err_slave = _terminal() if stderr_terminal else (None, None)
    proc = subprocess.Popen([sys.executable, "-m", "videovision", *args], stdout=out_slave,
                            stderr=err_slave if err_slave is not None else subprocess.PIPE,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, env=dict(os.environ))
    os.close(out_slave)
    if err_slave is not None:
        os.close(err_slave)
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    chunks: dict[int, list[bytes]] = {out_master: [], **({err_master: []} if err_master is not None else {})}
    open_fds = set(chunks)
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [], timeout)
        if not ready:
            break
        for fd in ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if data:
                chunks[fd].append(data)
            else:
                open_fds.discard(fd)
    proc.wait(timeout=timeout)
    for fd in chunks:
        os.close(fd)
    if err_master is not None:
        err = b"".join(chunks[err_master]).decode()
    else:
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
    return proc.returncode, b"".join(chunks[out_master]).decode(), err
