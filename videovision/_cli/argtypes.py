"""Converters of command-line words into values (argparse ``type=``): a bad word is argparse's
one-line usage error (exit 2), naming the value and what is expected. Also used to check the
values of a config-file profile, so a profile is held to the same rules as a flag."""

from __future__ import annotations

import argparse
import math

from .. import defaults
from ..errors import ConfigError
from ..timecode import parse_time


def time_arg(text: str) -> float:
    """Seconds or ``[HH:]MM:SS[.mmm]``."""
    try:
        return parse_time(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= defaults.MAX_RETRIES_CAP:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 to {defaults.MAX_RETRIES_CAP} (at most "
                                         f"{defaults.MAX_RETRIES_CAP} retries: each waits longer than the last)")
    return value


def _at_least(text: str, low: int, wanted: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{text!r} must be {wanted}")
    return value


def positive_int(text: str) -> int:
    return _at_least(text, 1, "at least 1")


def whole_number(text: str) -> int:
    return _at_least(text, 0, "0 or more")


def positive_money(text: str) -> float:
    """USD, with or without a leading ``$``."""
    return positive_float(text.lstrip("$"))


def grid_arg(text: str) -> tuple[int, int]:
    """``RxC``: rows by columns, at least two cells."""
    try:
        rows, cols = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a grid: use RxC, e.g. 2x2") from None
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: a grid needs at least two cells")
    return rows, cols


def download_size(text: str) -> int:
    """Bytes: ``800000``, ``500M``, ``2G``."""
    from ..remote import parse_size

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def text_arg(text: str) -> str:
    """Any non-empty text."""
    if not str(text).strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return str(text)


def word_list(text: str) -> tuple[str, ...]:
    """Comma-separated words or phrases (``"Kubernetes, PyAV, Ada Lovelace"``), none empty."""
    words = tuple(w.strip() for w in str(text).split(","))
    if not any(words) or not all(words):
        raise argparse.ArgumentTypeError(f"must be comma-separated words or phrases, none empty (got {text!r})")
    return words
