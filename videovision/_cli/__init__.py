"""The ``videovision`` command line, a private package over the library (as PySceneDetect keeps
``scenedetect/_cli/``): one options table (:mod:`.options`), the commands that read it
(:mod:`.commands`), and :func:`main`, where a ``VideovisionError`` becomes one line and an exit code.

    options.py   the table: flag, config field, type, default, help, the commands honouring it
    configs.py   parsed options -> SamplingConfig, SpeechConfig, ClientConfig, TaskConfig
    commands.py  each command: help, example, positionals, exit codes
    app.py       the parser and main()          profiles.py  the config file, ``config``
    tasks.py  followup.py  library.py           the commands' bodies
    outputs.py  runs.py  argtypes.py  helptext.py

The MCP server (:mod:`videovision.mcp_server`) and the llm plugin reuse the parser, the names below
and the config builders of :mod:`.configs` (importing this package stays light: the options table,
which names the batch executors, loads with the parser).
"""

from __future__ import annotations

from .app import build_parser, main, verbose_parent
from .argtypes import positive_money
from .outputs import one_line, open_cache

__all__ = ["build_parser", "main", "one_line", "open_cache", "positive_money", "verbose_parent"]
