"""An `llm <https://llm.datasette.io/>`_ plugin: the fragment loader ``video:PATH``.

    llm -f video:talk.mp4 -m gpt-4o "When is the demo?"
    llm -f 'video:talk.mp4?frames=16&detail=low' -m gpt-4o "Summarize the slides"

It returns what ``videovision plan`` would send: the frames packed by the same budget
(:func:`videovision.make_plan`: ``frames``, ``max_cost`` and the model's image-token rule), each
an image attachment with its time burned into its pixels, and one text fragment that lists each
image's time label in order, the video's length, and the speech (subtitles, a sidecar file or a
cached transcript) as timed lines ``[00:01:05.2] words``. Offline unless ``transcribe=1``: then a
video without subtitles has its audio sent to the transcription endpoint (OPENAI_API_KEY /
OPENAI_BASE_URL, as for ``videovision``).

Options after ``?`` (``&``-separated): ``frames`` (most frames, default 32), ``model`` (whose token
rule and prices pack the frames; default $VIDEOVISION_MODEL or videovision's default,
``videovision.defaults.MODEL``), ``detail``,
``max_cost`` (USD), ``strategy``, ``start``, ``end``, ``speech`` (auto, subtitles, off,
transcribe), ``transcribe`` (1: allow uploading audio), ``burn`` (0: no time in the pixels).

Installed with ``pip install 'videovision[llm]'``; registered through the entry point group ``llm``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl

import llm

from . import defaults
from .errors import ConfigError

OPTIONS = ("frames", "model", "detail", "max_cost", "strategy", "start", "end", "speech", "transcribe", "burn")
DEFAULT_FRAMES = defaults.MAX_FRAMES


def _flag(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{value!r}: give 1 or 0")


def parse_argument(argument: str) -> tuple[str, dict[str, str]]:
    """``PATH?key=value&...`` -> (path, options); an unknown option is a ConfigError."""
    path, sep, query = argument.partition("?")
    if sep and not os.path.exists(argument):
        options = dict(parse_qsl(query, keep_blank_values=True))
    else:  # a file name with a "?" in it
        path, options = argument, {}
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"video:{path}: unknown option {unknown[0]!r} (options: {', '.join(OPTIONS)})")
    if not path:
        raise ConfigError("video: give a file, e.g. video:talk.mp4")
    return os.path.expanduser(path), options


def plan_options(options: dict[str, str]) -> dict[str, Any]:
    """The ``videovision plan`` flags for the options (the CLI parses them: its checks and defaults)."""
    flags = {"frames": "--max-frames", "model": "--model", "detail": "--detail", "max_cost": "--max-cost",
             "strategy": "--strategy", "start": "--start", "end": "--end", "speech": "--speech"}
    out: dict[str, Any] = {"--max-frames": str(DEFAULT_FRAMES)}
    out.update({flag: options[name] for name, flag in flags.items() if options.get(name)})
    out["--burn-timestamps"] = _flag(options.get("burn", "1"))
    return out


def load_video(argument: str) -> list[Any]:
    """The ``video:`` fragment loader: ``[Fragment(text with time labels), Attachment(image), ...]``."""
    from .mcp_server import cli_args  # the CLI's own parse of the options (no MCP SDK needed)

    path, options = parse_argument(argument)
    if not os.path.exists(path):
        raise ConfigError(f"{path}: no such file")
    args = cli_args("plan", plan_options(options), [path])
    plan = _make_plan(args, transcribe=_flag(options.get("transcribe", "0")))
    return [llm.Fragment(describe(plan), f"video:{os.path.abspath(path)}"),
            *(llm.Attachment(type=image.mime, content=image.data) for image in plan.images)]


def _make_plan(args, transcribe: bool):
    from ._cli.configs import client_config, task_config
    from ._cli.outputs import open_cache
    from .pipeline import make_plan

    cache = open_cache(args)
    try:
        return make_plan(args.video, task_config(args, "summarize"), cache=cache, endpoint=client_config(args),
                         transcribe=transcribe)
    finally:
        if cache is not None:
            cache.close()


def describe(plan) -> str:
    """The text fragment: the video, each attached image's time label in order, the timed speech."""
    from .speech.fusion import render_line
    from .timecode import format_time, time_label

    total = format_time(plan.video.duration, precision=1, always_hours=True)
    lines = [f"Video {os.path.basename(plan.video.path)} ({total} long). The {len(plan.images)} attached images are "
             "frames of it in time order; each is labelled with its time [HH:MM:SS.s] (also drawn on it). Cite "
             "times in that form."]
    for n, image in enumerate(plan.images, 1):
        times = ", ".join(time_label(t) for t in image.frame_times)
        lines.append(f"Image {n}: {times}")
    if plan.speech.segments:
        lines += ["", f"Speech ({plan.speech.source}), one line each, with its start time:"]
        lines += [render_line(s) for s in plan.speech.segments]
    elif plan.speech.note:
        lines += ["", f"Speech: none sent ({plan.speech.note})."]
    return "\n".join(lines) + "\n"


@llm.hookimpl
def register_fragment_loaders(register):
    register("video", load_video)
