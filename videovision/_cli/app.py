"""The ``videovision`` command line: :func:`build_parser` (the commands of :mod:`.commands`, each
with the options of the table in :mod:`.options` it honours) and :func:`main`, where a
``VideovisionError`` becomes one line on stderr and its exit code, in one place.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
import threading
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

from .._version import __version__
from ..console import end_open_lines, terminal_text
from ..errors import VideovisionError
from .outputs import PROG, one_line


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2, with a suggestion for a
    mistyped command or option (``sumarize``: did you mean summarize?)."""

    argv: Sequence[str] = ()
    """The words being parsed (set by :func:`main`): a mistyped option is matched against its command's."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}{self._suggestion(message)} (see --help)\n")

    def _suggestion(self, message: str) -> str:
        import difflib
        import re

        commands = [a for a in self._actions if isinstance(a, argparse._SubParsersAction)]
        choice = re.search(r"invalid choice: '([^']*)'", message)
        if choice and commands:
            names: list[str] = [str(c) for a in commands for c in a.choices]
            close = difflib.get_close_matches(choice.group(1), names, n=1, cutoff=0.75)
            return f"; did you mean {close[0]}?" if close else ""
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if unknown and unknown.group(1).startswith("--"):
            given = [p for a in commands for name, p in a.choices.items() if name in self.argv]
            parsers = [self] + (given[:1] or [p for a in commands for p in a.choices.values()])
            flags = sorted({o for p in parsers for a in p._actions for o in a.option_strings if o.startswith("--")})
            close = difflib.get_close_matches(unknown.group(1).split("=")[0], flags, n=1, cutoff=0.7)
            return f"; did you mean {close[0]}?" if close else ""
        return ""


def verbose_parent() -> argparse.ArgumentParser:
    """Lets -v follow the subcommand too."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log what happens, requests included (images elided, never the key)")
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command: positionals from :mod:`.commands`, options from the options
    table (:mod:`.options`), so a command's ``--help`` lists exactly the options it honours."""
    from .commands import COMMANDS
    from .helptext import environment, exit_codes
    from .options import add_options

    parser: argparse.ArgumentParser = _Parser(
        prog=PROG, description="Understand recorded video with vision language models.",
        epilog=f"{environment()}\n\n{exit_codes('send')}\n\nrun `videovision COMMAND --help` for a command's "
               "options, an example and its exit codes", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log what happens, requests included (images elided, never the key)")
    sub: Any = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=textwrap.fill(command.description, 79),
                           parents=[verbose_parent()], formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog=f"example:\n  {command.example}\n\n{exit_codes(command.errors, command.extra_codes)}")
        for name, kwargs in command.positionals:
            p.add_argument(name, **kwargs)
        add_options(p, command.name)
        p.set_defaults(func=command.func)
    _extend_mcp(sub)
    return parser


MCP_FRONT_END = "videovision.mcp_server"
"""The MCP server is a front end above the CLI (it parses tool calls with this parser and builds configs
with :mod:`videovision._cli.configs`); the CLI reaches its ``mcp`` command by module name, as an entry
point would, so the two do not import each other."""


def _extend_mcp(sub) -> None:
    import importlib

    from .helptext import exit_codes

    importlib.import_module(MCP_FRONT_END).add_mcp_parser(sub)
    p = sub.choices["mcp"]
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = f"example:\n  videovision mcp --root ~/videos --max-cost 0.50\n\n{exit_codes('offline')}"


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command (``func``: a function, or ``module:function`` in this package)."""
    import importlib

    func = args.func
    if isinstance(func, str):
        module, _, name = func.partition(":")
        func = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    return int(func(args) or 0)


_HANDLER: logging.Handler | None = None


class _LevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{PROG}: {record.levelname.lower()}: {terminal_text(record.getMessage())}"


def _setup_logging(verbose: int) -> None:
    global _HANDLER
    logger = logging.getLogger("videovision")
    if _HANDLER is not None:
        logger.removeHandler(_HANDLER)
        _HANDLER = None
    _HANDLER = logging.StreamHandler(sys.stderr)
    _HANDLER.setFormatter(_LevelFormatter())
    _HANDLER.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.addHandler(_HANDLER)
    logger.setLevel(logging.DEBUG if verbose else logging.NOTSET)


def _one_line_warnings() -> None:
    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).splitlines()[0] if str(message) else category.__name__
        print(f"{PROG}: warning: {terminal_text(text)}", file=sys.stderr)

    warnings.showwarning = show
    warnings.simplefilter("default")
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _print_traceback() -> None:
    """The current exception's traceback on stderr (VIDEOVISION_DEBUG=1), secrets scrubbed."""
    from ..redact import scrub_secrets, secrets_from_env

    sys.stderr.write(scrub_secrets(traceback.format_exc(), secrets_from_env()))


def _exit_now_if_threads(code: int) -> None:
    """Leave at once when request threads are still running (a second Ctrl-C): waiting for them at
    interpreter exit would hang, and a further Ctrl-C would print a traceback."""
    if threading.active_count() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    debug = os.environ.get("VIDEOVISION_DEBUG", "") not in ("", "0")
    for stream in (sys.stdout, sys.stderr):  # non-UTF-8 file names must not crash printing
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass
    parser = build_parser()
    argv = list(argv) if argv is not None else sys.argv[1:]
    if isinstance(parser, _Parser):
        parser.argv = argv
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    _one_line_warnings()
    try:
        from .profiles import apply_profile
        from .tasks import fetch_remote

        apply_profile(args)
        fetch_remote(args)
        return run_command(args)
    except VideovisionError as err:
        if debug:
            _print_traceback()
        end_open_lines()
        print(f"{PROG}: error: {one_line(err)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        end_open_lines()
        print(f"{PROG}: interrupted (finished replies are cached; run again to resume)", file=sys.stderr)
        _exit_now_if_threads(130)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as err:  # the last resort: still one line unless debugging
        if debug:
            _print_traceback()
        print(f"{PROG}: internal error: {type(err).__name__}: {terminal_text(' '.join(str(err).split()))[:300]} "
              f"(set VIDEOVISION_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

