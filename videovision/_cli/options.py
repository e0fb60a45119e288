"""The one options table: every option of every command, once, with the config field it sets,
its type, its default (from :mod:`videovision.defaults`, or None: the library's own), its help and
the commands that honour it. A command's parser is built from the rows naming it, so its
``--help`` lists exactly what it honours, and configs are built from the same rows
(:func:`given`), so no option is named twice.

    Option(flags, dest, field, commands, help, ...)     OPTIONS     add_options(parser, command)
    given(args, "sampling") -> {"every": 5.0, ...}      option(dest, command)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, get_args

from .. import defaults
from ..batch.executors import EXECUTORS
from ..render.formats import format_names
from ..sampling.strategies import strategy_names
from ..tasks import task_names
from ..types import (
    ClipMode,
    Detail,
    DetectorName,
    ImageFormat,
    Preset,
    ScreenTextMode,
    SpeechMode,
    Style,
)
from ..wires import api_choices
from . import argtypes as t

TASKS = frozenset(task_names(plans=True))
"""The commands that send one task's requests and print its answer (the tasks sent through a plan)."""
PLANNING = TASKS | {"plan", "chat", "batch"}
"""Commands that sample, pack and price a plan."""
SAMPLING = PLANNING | {"frames"}
SENDING = TASKS | {"chat", "batch", "transcript"}
"""Commands that send requests (chat or transcription)."""
SPEECH = PLANNING | {"transcript"}
VIDEO = TASKS | {"frames", "plan", "chat", "transcript", "clip"}
"""Commands whose first argument is one VIDEO (a file or an http(s) URL)."""
CACHED = SENDING | {"plan", "log", "report", "config"}
PROFILED = frozenset({"config"})
"""Besides the commands each row names, ``config`` shows what a profile may set."""


@dataclass(frozen=True)
class Option:
    """One row of the table.

    Attributes:
        flags: the option strings (``--model``, ``-m``).
        dest: the attribute on the parsed namespace (also the key of a stored run's settings and of
            a config-file profile).
        field: the config field it sets, ``section.name`` (``sampling.every``), or None for an
            option of the command line itself (``--json``, ``--output``).
        commands: the commands that honour it.
        help: what it does; ``{default}`` is replaced by the default the command uses.
        group: the heading it is listed under in ``--help``.
        type: the converter of the word given (also checks a profile's value).
        default: the value when not given; None means the library default.
        choices: the values allowed (from the library's ``Literal`` types), or what gives them when the
            parser is built (the strategies found: :meth:`allowed`).
        action: an argparse action (``store_true``, ``store_false``, ``append``), else a value.
        metavar: the value's name in ``--help``.
        required: the command needs it.
        profile: a config-file profile may set it (``[profiles.ollama] base_url = ...``).
        path: names a file the run reads (stored absolute with a run; refused as an output).
        per_command: a default (or help) that differs by command: {command: default}.
    """

    flags: tuple[str, ...]
    dest: str
    field: str | None
    commands: frozenset[str]
    help: str
    group: str = "options"
    type: Callable[[str], Any] | None = None
    default: Any = None
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    action: str | None = None
    metavar: str | None = None
    required: bool = False
    profile: bool = False
    path: bool = False
    per_command: tuple[tuple[str, Any], ...] = ()

    def default_for(self, command: str) -> Any:
        return dict(self.per_command).get(command, self.default)

    def allowed(self) -> tuple[str, ...] | None:
        """The values allowed, as of now."""
        return self.choices() if callable(self.choices) else self.choices

    def help_for(self, command: str) -> str:
        shown = self.default_for(command)
        return self.help.replace("{default}", f"{shown:g}" if isinstance(shown, float) else str(shown))


def _o(flags: str | tuple[str, ...], field: str | None, commands: Iterable[str], help: str, **kw: Any) -> Option:
    flags = (flags,) if isinstance(flags, str) else flags
    dest = kw.pop("dest", None) or flags[0].lstrip("-").replace("-", "_")
    return Option(flags, dest, field, frozenset(commands), help, **kw)


_TIME = "seconds or [HH:]MM:SS[.mmm]"
_FORMAT_HELP = {"chapters": "text, YouTube description lines, WebVTT chapters or JSON (default text)",
                "transcript": "text, SRT or WebVTT subtitles, or JSON (default text)"}
"""``--format``'s help where it says more than the choices; every task whose formats (render/formats.py)
go beyond text and JSON takes ``--format``."""
_S, _P, _SP, _R, _O = ("sampling", "model, budget and packing", "speech (subtitles and transcription)",
                       "endpoint and requests", "cache and output")

OPTIONS: tuple[Option, ...] = (
    # ---------------------------------------------------------------- sampling
    _o("--strategy", "sampling.strategy", SAMPLING, "how to pick frames (default {default})", group=_S,
       choices=strategy_names, default=defaults.TASK_STRATEGY, per_command=(("frames", defaults.STRATEGY),)),
    _o("--every", "sampling.every", SAMPLING, f"interval: seconds between frames (default {defaults.EVERY:g})",
       group=_S, type=t.positive_float, metavar="SECONDS"),
    _o("--count", "sampling.count", SAMPLING, f"uniform: number of frames (default {defaults.COUNT})", group=_S,
       type=t.positive_int, metavar="N"),
    _o("--max-gap", "sampling.max_gap", SAMPLING, f"hybrid: longest gap between frames (default {defaults.MAX_GAP:g})",
       group=_S, type=t.positive_float, metavar="SECONDS"),
    _o("--start", "sampling.start", SAMPLING, f"start time ({_TIME})", group=_S, type=t.time_arg, metavar="T"),
    _o("--end", "sampling.end", SAMPLING, f"end time ({_TIME})", group=_S, type=t.time_arg, metavar="T"),
    _o("--max-side", "sampling.max_side", SAMPLING, "downscale frames to this long side", group=_S,
       type=t.positive_int, metavar="PX"),
    _o("--dedup", "sampling.dedup", SAMPLING, "drop near-duplicate frames", group=_S, action="store_true"),
    _o("--dedup-threshold", "sampling.dedup_threshold", SAMPLING,
       "with --dedup: a frame whose picture differs from a kept one in at most this percent of its pixels is a "
       f"duplicate (default {defaults.DEDUP_CHANGE:g})", group=_S, type=t.finite_float, metavar="PERCENT"),
    _o("--preset", "sampling.preset", SAMPLING,
       "scene detection: screen (slides, screen shares), film (cuts), or auto: chosen from the measured motion, "
       f"shown by plan (default {defaults.PRESET})", group=_S, choices=get_args(Preset)),
    _o("--detector", "sampling.detector", SAMPLING, "use exactly this PySceneDetect detector (no preset)", group=_S,
       choices=get_args(DetectorName)),
    _o("--threshold", "sampling.threshold", SAMPLING,
       "scene detector threshold (the detector's own default if omitted; alone: the adaptive detector)", group=_S,
       type=t.finite_float),
    _o("--min-scene-len", "sampling.min_scene_len", SAMPLING,
       f"merge scenes shorter than this (default {defaults.MIN_SCENE_LEN:g})", group=_S, type=t.time_arg,
       metavar="SECONDS"),
    # ---------------------------------------------------------------- model, budget and packing
    _o(("--model", "-m"), "pack.model", PLANNING | PROFILED,
       f"model name (default $VIDEOVISION_MODEL, a profile's model, or {defaults.MODEL})", group=_P, profile=True),
    _o("--api", "client.api", SENDING - {"transcript"} | {"plan"} | PROFILED,
       "request format: chat (Chat Completions), responses (the Responses API), or auto: Responses for models only "
       "it serves (gpt-5-pro, gpt-5.5-pro, o3-pro ...), Chat Completions otherwise (default auto)", group=_P,
       choices=api_choices(), profile=True),
    _o("--detail", "pack.detail", PLANNING | PROFILED, f"image detail (default {defaults.DETAIL})", group=_P,
       choices=get_args(Detail), profile=True),
    _o("--max-frames", "budget.max_frames", PLANNING, "send at most N frames (default {default})", group=_P,
       type=t.positive_int, default=defaults.MAX_FRAMES, metavar="N"),
    _o("--max-image-tokens", "budget.max_image_tokens", PLANNING, "image token budget", group=_P,
       type=t.positive_int, metavar="N"),
    _o("--max-cost", "budget.max_cost", PLANNING, "cost budget in USD (per video with batch)", group=_P,
       type=t.positive_money, metavar="USD"),
    _o("--grid", "pack.grid", PLANNING, "tile RxC frames into one image", group=_P, type=t.grid_arg, metavar="RxC"),
    _o("--burn-timestamps", "pack.burn_timestamps", PLANNING, "burn each frame's time into its pixels", group=_P,
       action="store_true"),
    _o("--image-format", "pack.image_format", PLANNING, f"image format (default {defaults.IMAGE_FORMAT})", group=_P,
       choices=get_args(ImageFormat)),
    _o("--quality", "pack.quality", PLANNING, f"JPEG/WEBP quality 1-100 (default {defaults.QUALITY})", group=_P,
       type=t.positive_int),
    _o("--provider", "pack.limits", PLANNING | PROFILED, "provider limits: openai (default), local, or a JSON file",
       group=_P, metavar="NAME|FILE", profile=True, path=True),
    _o("--models-file", None, PLANNING | {"models"}, "JSON/TOML file of extra model parameters", group=_P, metavar="FILE",
       path=True),
    _o("--frames-per-request", "pack.frames_per_request", PLANNING,
       "split into map-reduce requests of at most N images", group=_P, type=t.positive_int, metavar="N"),
    _o("--max-output-tokens", "prompt.max_output_tokens", PLANNING,
       f"output token limit per request (default {defaults.MAX_OUTPUT_TOKENS}; "
       f"{defaults.REASONING_MAX_OUTPUT_TOKENS} for reasoning models)", group=_P, type=t.positive_int, metavar="N"),
    # ---------------------------------------------------------------- speech
    _o("--speech", "speech.mode", SPEECH,
       "where speech comes from: auto = subtitles (embedded, then a sidecar file), else transcription when there "
       f"is audio, else frames only (default {defaults.SPEECH})", group=_SP, choices=get_args(SpeechMode)),
    _o("--subtitles", "speech.subtitles", SPEECH - {"batch"},
       "use this SRT / WebVTT / ASS / transcript JSON file", group=_SP, metavar="FILE", path=True),
    _o("--subtitle-language", "speech.subtitle_language", SPEECH, "preferred subtitle track or sidecar language",
       group=_SP, metavar="LANG"),
    _o("--transcribe-model", "speech.transcribe_model", SPEECH | PROFILED,
       f"transcription model (default {defaults.TRANSCRIBE_MODEL})", group=_SP, metavar="MODEL", profile=True),
    _o("--transcribe-base-url", "speech.transcribe_base_url", SPEECH | PROFILED,
       "transcription endpoint (default: the chat endpoint; needed with --provider local)", group=_SP,
       metavar="URL", profile=True),
    _o("--speech-language", "speech.language", SPEECH, "language hint for transcription, e.g. en; several "
       "comma-separated (en,de) with gpt-transcribe (default: detected)", group=_SP, metavar="LANG"),
    _o("--speech-keywords", "speech.keywords", SPEECH, "names and terms the speech contains, comma-separated, to "
       "guide transcription (gpt-transcribe's keywords; other models read them in the prompt)", group=_SP,
       type=t.word_list, metavar="WORDS"),
    _o("--transcribe-chunk", "speech.chunk_seconds", SPEECH,
       f"longest audio chunk uploaded (default {defaults.TRANSCRIBE_CHUNK:g}; always < 25 MB)", group=_SP,
       type=t.positive_float, metavar="SECONDS"),
    _o("--max-speech-tokens", "speech.max_tokens", PLANNING,
       "speech text per plan; over it, lines are thinned evenly across the video "
       f"(default {defaults.MAX_SPEECH_TOKENS})", group=_SP, type=t.whole_number, metavar="N"),
    _o("--screen-text", "screen_text.mode", PLANNING,
       "read text on screen (slides, code) with Tesseract and send it after its frame: auto = screen recordings "
       f"when Tesseract is installed (default {defaults.SCREEN_TEXT})", group=_SP, choices=get_args(ScreenTextMode)),
    # ---------------------------------------------------------------- endpoint and requests
    _o("--base-url", "client.base_url", SENDING | {"plan"} | PROFILED,
       "OpenAI-compatible endpoint (default $OPENAI_BASE_URL, a profile's base_url, or OpenAI; plan: part of the "
       "transcript cache key)", group=_R, metavar="URL", profile=True),
    _o("--timeout", "client.timeout", SENDING | PROFILED, f"per-request deadline (default {defaults.TIMEOUT:g})",
       group=_R, type=t.positive_float, metavar="SECONDS", profile=True),
    _o("--max-retries", "client.max_retries", SENDING | PROFILED,
       f"retries with backoff (default {defaults.MAX_RETRIES}, at most {defaults.MAX_RETRIES_CAP})", group=_R,
       type=t.retries, metavar="N", profile=True),
    _o("--concurrency", "task.concurrency", SENDING - {"chat"},
       f"requests in flight at once: map-reduce chunks, refine steps, audio chunks, a batch's videos (default "
       f"{defaults.CONCURRENCY})", group=_R, type=t.positive_int, metavar="N"),
    _o("--tolerance", "task.tolerance", PLANNING - {"plan"},
       f"a cited time is supported when a frame sent lies within this (default {defaults.TOLERANCE:g})", group=_R,
       type=t.finite_float, metavar="SECONDS"),
    _o("--language", "prompt.language", PLANNING - {"plan"}, "answer in this language (default: the model's choice)",
       group=_R, metavar="LANG"),
    _o("--strict", "task.strict", PLANNING - {"plan"},
       "exit 7 on any warning about the reply: the endpoint did not count the images (it stops the run), or the "
       "reply could not be read as asked (after printing what there is)", group=_R, action="store_true"),
    _o("--dry-run", None, SENDING, "print what would be sent and what it would cost; send nothing", group=_R,
       action="store_true"),
    # ---------------------------------------------------------------- cache and output
    _o("--cache-dir", None, CACHED, "cache directory (default $VIDEOVISION_CACHE_DIR or the user cache dir)",
       group=_O, metavar="DIR"),
    _o("--no-cache", None, SENDING | {"plan"}, "neither read nor write the cache and run log", group=_O,
       action="store_true"),
    _o("--json", None, (VIDEO | {"log", "search", "batch", "config", "models"}) - {"transcript"},
       "print JSON (its schema_version and fields: docs/json.md)", group=_O, action="store_true"),
    _o("--json", None, {"transcript"}, "print JSON (the same as --format json)", group=_O, action="store_true"),
    _o("--markdown", None, TASKS | {"chat"}, "Markdown output", group=_O, action="store_true"),
    _o(("--output", "-o"), None, TASKS | {"plan", "transcript", "log", "search", "config", "models"},
       "write the output to FILE instead of stdout (atomically)", group=_O, metavar="FILE"),
    _o(("--output", "-o"), None, {"clip"}, "the clip to write (.mp4)", group=_O, metavar="OUT.mp4", required=True),
    _o(("--output", "-o"), None, {"report"}, "the report to write (default: VIDEO_NAME.html here)", group=_O,
       metavar="FILE.html"),
    _o("--report", None, TASKS,
       "also write an HTML report: the player, the frames the model saw, every cited moment a click away (one "
       "self-contained file; `videovision report` rebuilds it later)", group=_O, metavar="FILE.html"),
    _o("--max-download", None, VIDEO,
       "when VIDEO is a URL: most bytes to download, e.g. 2G (default $VIDEOVISION_MAX_DOWNLOAD, else what the "
       "cache disk has free)", group=_O, type=t.download_size, metavar="SIZE"),
    _o("--profile", None, SENDING | PLANNING | {"config"},
       "use this profile of the config file (default $VIDEOVISION_PROFILE, else the file's default_profile)",
       group=_R, metavar="NAME"),
    # ---------------------------------------------------------------- one command's own
    _o("--out", None, {"frames"}, "output folder (JPEGs, contact sheet, frames.json)", metavar="DIR", required=True),
    _o("--request-json", None, {"plan"}, "write the exact request body(ies), full base64", metavar="FILE"),
    _o("--style", "prompt.style", {"summarize"}, f"summary style (default {defaults.STYLE})", choices=get_args(Style)),
    _o("--prompt", "prompt.instruction", {"summarize"}, "replace the instruction text", metavar="TEXT"),
    *(_o("--format", None, {task}, _FORMAT_HELP.get(task, "the output format (default text)"),
         choices=partial(format_names, task), default="text") for task in task_names() if set(format_names(task)) - {"text", "json"}),
    _o("--no-refine", "task.refine", {"ask"},
       "answer from the overview pass only (one request; times only as exact as the frames' spacing)",
       group="refine pass (a second, dense look at each cited moment)", action="store_false", dest="refine"),
    _o("--refine-max", "task.refine_max", {"ask"},
       f"moments refined at most, one request each (default {defaults.REFINE_MAX}; 0: none)",
       group="refine pass (a second, dense look at each cited moment)", type=t.whole_number, metavar="N"),
    _o("--clips", None, {"ask"}, "write one MP4 clip per cited moment into DIR (stream copy when the cut falls on a "
       "keyframe, else re-encoded H.264/AAC)", group="clips of the cited moments", metavar="DIR"),
    _o("--clip-before", "clip.before", {"ask"}, f"seconds before each moment (default {defaults.CLIP_BEFORE:g})",
       group="clips of the cited moments", type=t.finite_float, metavar="SECONDS"),
    _o("--clip-after", "clip.after", {"ask"}, f"seconds after each moment or range (default {defaults.CLIP_AFTER:g})",
       group="clips of the cited moments", type=t.finite_float, metavar="SECONDS"),
    _o("--at", None, {"clip"}, f"the moment ({_TIME})", type=t.time_arg, metavar="T", required=True),
    _o("--end", None, {"clip"}, "end of a range: the clip is --at to --end (after --at; padded only by "
       "--before/--after given)", type=t.time_arg, metavar="T"),
    _o("--before", "clip.before", {"clip"},
       f"seconds before the moment (default {defaults.CLIP_BEFORE:g}; 0 with --end)", type=t.finite_float,
       metavar="SECONDS"),
    _o("--after", "clip.after", {"clip"},
       f"seconds after the moment or range (default {defaults.CLIP_AFTER:g}; 0 with --end)", type=t.finite_float,
       metavar="SECONDS"),
    _o("--mode", None, {"clip"}, "auto: copy when the cut allows it and browsers can play the codecs, else encode "
       "(default auto)", choices=get_args(ClipMode), default="auto"),
    _o("--video", None, {"report"}, "the video, when it moved since the run", metavar="PATH"),
    _o("--limit", None, {"log"}, "how many requests (default {default})", type=t.positive_int,
       default=defaults.LOG_LIMIT, metavar="N"),
    _o("--limit", None, {"search"}, "hits shown (default {default})", type=t.positive_int,
       default=defaults.SEARCH_LIMIT, metavar="N"),
    _o("--index", None, {"search"}, "a batch's --out folder", metavar="DIR", required=True),
    _o("--out", None, {"batch"}, "results, index.jsonl and search.db go here", metavar="DIR", required=True),
    _o("--task", None, {"batch"}, "what to do to each video (default summarize)", choices=task_names,
       default="summarize"),
    _o("--question", None, {"batch"}, "--task ask: a question (repeatable)", action="append", metavar="Q"),
    _o("--jobs", None, {"batch"},
       "worker processes (or Ray tasks in flight) decoding videos (default: the CPUs available)", type=t.positive_int,
       metavar="N"),
    _o("--executor", None, {"batch"}, "where plans are made: 'process' (local worker processes) or 'ray' (Ray tasks; "
       "pip install 'videovision[ray]') (default process)", choices=tuple(EXECUTORS), default="process"),
    _o("--ray-address", None, {"batch"}, "with --executor ray: the cluster to join ('auto', HOST:6379 or "
       "ray://HOST:10001); default: a local Ray runtime of --jobs CPUs", metavar="ADDR"),
    _o("--total-max-cost", None, {"batch"}, "cap on the whole batch's estimated spend (--max-cost stays per video)",
       type=t.positive_money, metavar="USD"),
    _o("--report", None, {"batch"}, "also write each video's HTML report (<name>.html)", action="store_true"),
    _o("--batch-api", None, {"batch"}, "send the requests through the OpenAI Batch API (half price, replies within "
       "24 h): the first run submits them, a later run of the same command collects the replies and completes the "
       "videos (map-reduce and refine steps take one more round each)", action="store_true"),
)
"""Every option, once. Append a row to add one; a command's ``--help`` follows."""

API_CHOICES = ("chat", "responses", "auto")
"""The values of a profile's ``api`` (the wire format; becomes ``--api`` where the table has it)."""


def rows(command: str) -> list[Option]:
    """The rows a command honours, in table order."""
    return [o for o in OPTIONS if command in o.commands]


def option(dest: str, command: str | None = None) -> Option | None:
    """The row of ``dest`` (for ``command``, when given), or None."""
    for o in OPTIONS:
        if o.dest == dest and (command is None or command in o.commands):
            return o
    return None


def add_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the options ``command`` honours to its parser, under their group headings."""
    groups: dict[str, Any] = {}
    for o in rows(command):
        group = groups.get(o.group)
        if group is None:
            group = groups[o.group] = parser.add_argument_group(o.group) if o.group != "options" else parser
        kwargs: dict[str, Any] = {"dest": o.dest, "help": o.help_for(command)}
        if o.action in ("store_true", "store_false"):
            kwargs.update(action=o.action, default=None)  # None: not given, the library decides
        else:
            kwargs.update(default=o.default_for(command), metavar=o.metavar)
            if o.action:
                kwargs["action"] = o.action
            if o.type is not None:
                kwargs["type"] = o.type
            if o.choices is not None:
                kwargs["choices"] = o.allowed()
            if o.required:
                kwargs["required"] = True
        group.add_argument(*o.flags, **kwargs)


def given(args: argparse.Namespace, section: str) -> dict[str, Any]:
    """The config fields of ``section`` the user set (flag or profile) for the command being run:
    ``{name: value}`` for each row ``section.name`` whose value is not None (an option not given is
    None: the library default)."""
    command = getattr(args, "command", None)
    out: dict[str, Any] = {}
    for o in OPTIONS:
        if o.field is None or not o.field.startswith(section + ".") or (command and command not in o.commands):
            continue
        value = getattr(args, o.dest, None)
        if value is not None:
            out[o.field.split(".", 1)[1]] = value
    return out


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The values of every option the command honours (its configuration, for a stored run)."""
    command = str(args.command)
    return {o.dest: getattr(args, o.dest, None) for o in rows(command)}
