"""The ``videovision`` command line: parse options into config objects, call one library
function, render the result. ``VideovisionError`` becomes one line on stderr and a non-zero
exit code here, in :func:`main`, and nowhere else.

Exit codes: 0 ok, 1 unexpected, 2 bad usage/options, 3 unreadable video, 4 sampling,
5 budget, 6 cache, 7 request failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
import warnings
from typing import Callable, Sequence

from . import __version__
from .errors import ConfigError, VideovisionError
from .timecode import parse_time
from .types import DEFAULT_COUNT, DEFAULT_EVERY, DEFAULT_MAX_GAP, SamplingConfig

PROG = "videovision"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _time_arg(text: str) -> float:
    try:
        return parse_time(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


# --------------------------------------------------------------------------- progress
class ProgressBar:
    """A one-line progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, label: str, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.last = 0.0

    def __call__(self, done: float, total: float) -> None:
        if not self.enabled or total <= 0:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        frac = max(0.0, min(1.0, done / total))
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r{self.label} [{bar:<30}] {frac * 100:5.1f}%")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


# --------------------------------------------------------------------------- options
def add_sampling_options(p: argparse.ArgumentParser, default_strategy: str = "interval") -> None:
    g = p.add_argument_group("sampling")
    g.add_argument("--strategy", choices=["interval", "uniform", "scenes", "hybrid"], default=default_strategy,
                   help=f"how to pick frames (default: {default_strategy})")
    g.add_argument("--every", type=_positive_float, default=None, metavar="SECONDS",
                   help=f"interval: seconds between frames (default {DEFAULT_EVERY:g})")
    g.add_argument("--count", type=_positive_int, default=None, metavar="N",
                   help=f"uniform: number of frames (default {DEFAULT_COUNT})")
    g.add_argument("--max-gap", type=_positive_float, default=None, metavar="SECONDS",
                   help=f"hybrid: longest gap between frames (default {DEFAULT_MAX_GAP:g})")
    g.add_argument("--start", type=_time_arg, default=None, metavar="T", help="start time (seconds or [HH:]MM:SS[.mmm])")
    g.add_argument("--end", type=_time_arg, default=None, metavar="T", help="end time (seconds or [HH:]MM:SS[.mmm])")
    g.add_argument("--max-side", type=_positive_int, default=None, metavar="PX", help="downscale frames to this long side")
    g.add_argument("--dedup", action="store_true", help="drop near-duplicate frames")
    g.add_argument("--detector", choices=["adaptive", "content", "threshold", "hash", "histogram"], default="adaptive",
                   help="scene detector (default adaptive)")
    g.add_argument("--threshold", type=float, default=None, help="scene detector threshold (detector default if omitted)")
    g.add_argument("--min-scene-len", type=_time_arg, default=0.6, metavar="SECONDS",
                   help="merge scenes shorter than this (default 0.6)")


def sampling_config(args: argparse.Namespace) -> SamplingConfig:
    return SamplingConfig(
        strategy=args.strategy,
        every=args.every if args.every is not None else DEFAULT_EVERY,
        count=args.count if args.count is not None else DEFAULT_COUNT,
        max_gap=args.max_gap if args.max_gap is not None else DEFAULT_MAX_GAP,
        start=args.start,
        end=args.end,
        max_side=args.max_side,
        dedup=args.dedup,
        detector=args.detector,
        threshold=args.threshold,
        min_scene_len=args.min_scene_len,
    )


# --------------------------------------------------------------------------- commands
def cmd_frames(args: argparse.Namespace) -> int:
    from .pipeline import extract_frames

    bar = ProgressBar("frames")
    try:
        result = extract_frames(args.video, sampling_config(args), args.out, progress=bar)
    finally:
        bar.close()
    if args.json:
        sys.stdout.write(result.manifest.read_text())
    else:
        sheets = ", ".join(str(result.out_dir / s) for s in result.contact_sheets)
        print(f"wrote {len(result.frames)} frames to {result.out_dir}/ (manifest {result.manifest.name}; contact sheet {sheets})",
              file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Understand recorded video with vision language models.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log what happens (-vv for requests)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("frames", help="extract keyframes with exact timestamps",
                       description="Extract keyframes with exact presentation timestamps into a folder.")
    p.add_argument("video", help="video file")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (JPEGs, contact sheet, frames.json)")
    add_sampling_options(p)
    p.add_argument("--json", action="store_true", help="print frames.json to stdout")
    p.set_defaults(func=cmd_frames)

    for extend in _EXTENSIONS:
        extend(sub)
    return parser


_EXTENSIONS: list[Callable[[argparse._SubParsersAction], None]] = []


def _setup_logging(verbose: int) -> None:
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("videovision: %(levelname)s: %(message)s"))
        logger = logging.getLogger("videovision")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)


def _one_line_warnings() -> None:
    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).splitlines()[0] if str(message) else category.__name__
        print(f"{PROG}: warning: {text}", file=sys.stderr)

    warnings.showwarning = show
    warnings.simplefilter("default")
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    debug = os.environ.get("VIDEOVISION_DEBUG", "") not in ("", "0")
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    _one_line_warnings()
    try:
        return int(args.func(args) or 0)
    except VideovisionError as err:
        if debug:
            traceback.print_exc()
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as err:  # the last resort: still one line unless debugging
        if debug:
            traceback.print_exc()
        print(f"{PROG}: internal error: {type(err).__name__}: {' '.join(str(err).split())[:300]} "
              f"(set VIDEOVISION_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
