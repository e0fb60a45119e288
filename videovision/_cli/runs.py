"""A finished run remembered as its configuration (the values of the options its command
honours, paths made absolute, URLs without credentials or query), and rebuilt from it by
``videovision report``: no command line is replayed, no folder changed into."""

from __future__ import annotations

import argparse
import os
from typing import Any

from .options import rows

_NOT_STORED = frozenset({"output", "report", "clips", "dry_run", "json", "markdown", "no_cache", "cache_dir",
                         "max_download", "profile"})
"""Options of where output goes, not of what the run was."""


def stored_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's configuration: every option its command honours that shapes the result (paths
    absolute, URLs shown without user info or query), and its questions."""
    from ..redact import display_url

    out: dict[str, Any] = {}
    for o in rows(str(args.command)):
        value = getattr(args, o.dest, None)
        if o.dest in _NOT_STORED or value is None:
            continue
        if o.path and isinstance(value, str) and os.path.exists(value):
            value = os.path.abspath(value)
        elif isinstance(value, str) and "://" in value:
            value = display_url(value)
        out[o.dest] = list(value) if isinstance(value, tuple) else value
    if getattr(args, "questions", None):
        out["questions"] = list(args.questions)
    if getattr(args, "video_url", None):
        out["video_url"] = display_url(args.video_url)
    return out


def remember_run(cache, args: argparse.Namespace, result, task: str, endpoint: str) -> None:
    """Store the run's configuration (for ``videovision report``); best effort: a finished run never
    fails here. A VIDEO URL is remembered as its downloaded file (``report`` works offline) and its
    URL without credentials."""
    from ..errors import CacheError
    from ..paths import path_text
    from ..store import RunRecord

    video = path_text(os.path.abspath(args.video))
    try:
        cache.runs.add(RunRecord(result.run_id, "", task, video, endpoint, stored_settings(args)))
    except CacheError:
        pass


def replayed_args(record, *, video: str | None, cache_dir: str | None) -> argparse.Namespace:
    """The namespace a stored run's command would have parsed: its settings, every other option at
    its default; ``video`` when the file moved."""
    command = record.task
    args = argparse.Namespace(command=command, video=video or record.video, cache_dir=cache_dir, verbose=0)
    for o in rows(command):
        default = None if o.action in ("store_true", "store_false") else o.default_for(command)
        setattr(args, o.dest, record.settings.get(o.dest, default))
    args.questions = tuple(record.settings.get("questions", ()))
    if record.settings.get("video_url"):
        args.video_url = record.settings["video_url"]
    return args
