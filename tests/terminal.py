"""Running the CLI as a person at a terminal would: stdout on a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys


def run_on_a_terminal(args: list[str], timeout: float = 60) -> tuple[int, str, str]:
    """Run ``python -m videovision ARGS`` with stdout on a pseudo-terminal (so a summary streams).

    Returns:
        (exit code, what the terminal showed, stderr).
    """
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "videovision", *args], stdout=slave, stderr=subprocess.PIPE,
                            env=dict(os.environ))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=timeout)
    os.close(master)
    assert proc.stderr is not None
    return proc.returncode, b"".join(chunks).decode(), proc.stderr.read().decode()
