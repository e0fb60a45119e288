"""Time values at the edges: parsing what users type and formatting what they read.

Inside videovision time is always seconds (float) from the video's first frame, taken from
presentation timestamps. Strings exist only here.
"""

from __future__ import annotations

import math
import re

from .errors import ConfigError

_CLOCK = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)$")


def parse_time(value: str | float | int) -> float:
    """Parse a time given as seconds (``"75"``, ``"75.5"``, ``"75s"``) or ``[HH:]MM:SS[.mmm]``.

    Args:
        value: the text (or number) to parse.

    Returns:
        The time in seconds (float, >= 0).

    Raises:
        ConfigError: the value is not a time.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip()
        match = _CLOCK.match(text)
        if match:
            hours = int(match.group("h") or 0)
            minutes = int(match.group("m"))
            secs = float(match.group("s"))
            if (minutes >= 60 and match.group("h") is not None) or secs >= 60:
                raise ConfigError(f"invalid time {text!r}: minutes and seconds must be below 60")
            seconds = hours * 3600 + minutes * 60 + secs
        else:
            try:
                seconds = float(text[:-1] if text.endswith("s") else text)
            except ValueError:
                raise ConfigError(
                    f"invalid time {text!r}: use seconds (e.g. 75.5) or [HH:]MM:SS[.mmm] (e.g. 01:15.5)"
                ) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(f"invalid time {value!r}: must be a finite number of seconds >= 0")
    return seconds


def format_time(seconds: float, *, precision: int = 3, always_hours: bool = False) -> str:
    """Format seconds as ``HH:MM:SS.mmm`` (or ``MM:SS.mmm`` under an hour unless ``always_hours``).

    Args:
        seconds: the time in seconds (>= 0).
        precision: digits after the decimal point (0 drops the fraction).
        always_hours: always include the hours field.

    Returns:
        The formatted time.
    """
    seconds = max(0.0, float(seconds))
    scale = 10**precision
    total = round(seconds * scale)
    whole, frac = divmod(total, scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    body = f"{minutes:02d}:{secs:02d}"
    if hours or always_hours:
        body = f"{hours:02d}:{body}"
    if precision > 0:
        body += f".{frac:0{precision}d}"
    return body


def time_label(seconds: float) -> str:
    """The label put before each image in a prompt and used in answers: ``[HH:MM:SS.s]``."""
    return f"[{format_time(seconds, precision=1, always_hours=True)}]"


def file_stamp(seconds: float) -> str:
    """A file-name-safe time stamp, sortable: ``00h01m05.200s``."""
    seconds = max(0.0, float(seconds))
    ms = round(seconds * 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}h{minutes:02d}m{rest / 1000:06.3f}s"
