"""The console entry point (``videovision = "videovision.cli:main"``); the command line itself
lives in the private package :mod:`videovision._cli`."""

from __future__ import annotations

import sys

from ._cli import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
