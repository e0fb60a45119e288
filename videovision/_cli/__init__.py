"""The ``videovision`` command line, a private package over the library (as PySceneDetect keeps
``scenedetect/_cli/``): one options table (:mod:`.options`), the commands that read it, and
:func:`main`, where a ``VideovisionError`` becomes one line and an exit code."""

from __future__ import annotations

from .app import build_parser, main

__all__ = ["build_parser", "main"]
