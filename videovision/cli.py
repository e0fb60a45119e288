"""The ``videovision`` command line: parse options into config objects, call one library
function, render the result. ``VideovisionError`` becomes one line on stderr and a non-zero
exit code here, in :func:`main`, and nowhere else.

Exit codes: 0 ok, 1 unexpected, 2 bad usage/options, 3 unreadable video, 4 sampling,
5 budget, 6 cache, 7 request failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any, get_args

from . import defaults
from ._version import __version__
from .console import ProgressBar, RequestStatus, StreamedText, end_open_lines, terminal_text, write_out
from .errors import ConfigError, VideovisionError
from .timecode import parse_time
from .types import (
    ChapterFormat,
    Detail,
    DetectorName,
    ImageFormat,
    Preset,
    SamplingConfig,
    SpeechMode,
    Strategy,
    Style,
    TranscriptFormat,
)

PROG = "videovision"


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
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def _retries(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= defaults.MAX_RETRIES_CAP:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 to {defaults.MAX_RETRIES_CAP} (at most "
                                         f"{defaults.MAX_RETRIES_CAP} retries: each waits longer than the last)")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


# --------------------------------------------------------------------------- options
def _given(args: argparse.Namespace, **names: str) -> dict[str, Any]:
    """Config fields the user gave: {field: value} for each ``field=attribute`` whose value is not None
    (an option not given is None, which means "the library default")."""
    return {f: getattr(args, a) for f, a in names.items() if getattr(args, a, None) is not None}


def add_sampling_options(p: argparse.ArgumentParser, default_strategy: str = defaults.STRATEGY) -> None:
    g = p.add_argument_group("sampling")
    g.add_argument("--strategy", choices=get_args(Strategy), default=default_strategy,
                   help=f"how to pick frames (default: {default_strategy})")
    g.add_argument("--every", type=_positive_float, default=None, metavar="SECONDS",
                   help=f"interval: seconds between frames (default {defaults.EVERY:g})")
    g.add_argument("--count", type=_positive_int, default=None, metavar="N",
                   help=f"uniform: number of frames (default {defaults.COUNT})")
    g.add_argument("--max-gap", type=_positive_float, default=None, metavar="SECONDS",
                   help=f"hybrid: longest gap between frames (default {defaults.MAX_GAP:g})")
    g.add_argument("--start", type=_time_arg, default=None, metavar="T", help="start time (seconds or [HH:]MM:SS[.mmm])")
    g.add_argument("--end", type=_time_arg, default=None, metavar="T", help="end time (seconds or [HH:]MM:SS[.mmm])")
    g.add_argument("--max-side", type=_positive_int, default=None, metavar="PX", help="downscale frames to this long side")
    g.add_argument("--dedup", action="store_true", help="drop near-duplicate frames")
    g.add_argument("--dedup-threshold", type=_finite_float, default=None, metavar="PERCENT",
                   help="with --dedup: a frame whose picture differs from a kept one in at most this percent of its "
                        f"pixels is a duplicate (default {defaults.DEDUP_CHANGE:g})")
    g.add_argument("--preset", choices=get_args(Preset), default=None,
                   help="scene detection: screen (slides, screen shares), film (cuts), or auto: chosen from the "
                        f"measured motion, shown by plan (default {defaults.PRESET})")
    g.add_argument("--detector", choices=get_args(DetectorName), default=None,
                   help="use exactly this PySceneDetect detector (no preset)")
    g.add_argument("--threshold", type=_finite_float, default=None,
                   help="scene detector threshold (the detector's own default if omitted; alone: the adaptive detector)")
    g.add_argument("--min-scene-len", type=_time_arg, default=None, metavar="SECONDS",
                   help=f"merge scenes shorter than this (default {defaults.MIN_SCENE_LEN:g})")


def sampling_config(args: argparse.Namespace) -> SamplingConfig:
    return SamplingConfig(strategy=args.strategy, dedup=args.dedup, **_given(
        args, every="every", count="count", max_gap="max_gap", start="start", end="end", max_side="max_side",
        dedup_threshold="dedup_threshold", preset="preset", detector="detector", threshold="threshold",
        min_scene_len="min_scene_len"))


# --------------------------------------------------------------------------- commands
def cmd_frames(args: argparse.Namespace) -> int:
    from .pipeline import extract_frames

    _refuse_input(args, args.out, "--out")
    bar = ProgressBar("frames")
    try:
        result = extract_frames(args.video, sampling_config(args), args.out, progress=bar)
    finally:
        bar.close()
    if args.json:
        sys.stdout.write(result.manifest.read_text())
    else:
        sheets = ", ".join(str(result.out_dir / s) for s in result.contact_sheets)
        dups = f"; {result.duplicates_dropped} near-duplicates dropped" if args.dedup else ""
        n = len(result.frames)
        print(f"wrote {n} frame{'' if n == 1 else 's'} to {result.out_dir}/ (manifest {result.manifest.name}; "
              f"contact sheet {sheets}{dups})", file=sys.stderr)
    return 0


def _grid_arg(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a grid: use RxC, e.g. 2x2") from None
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: a grid needs at least two cells")
    return rows, cols


def _positive_money(text: str) -> float:
    return _positive_float(text.lstrip("$"))


def add_pack_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model, budget and packing")
    g.add_argument("--model", default=None, help="model name (default $VIDEOVISION_MODEL or gpt-4o-mini)")
    g.add_argument("--detail", choices=get_args(Detail), default=None, help=f"image detail (default {defaults.DETAIL})")
    g.add_argument("--max-frames", type=_positive_int, default=defaults.MAX_FRAMES, metavar="N",
                   help=f"send at most N frames (default {defaults.MAX_FRAMES})")
    g.add_argument("--max-image-tokens", type=_positive_int, default=None, metavar="N", help="image token budget")
    g.add_argument("--max-cost", type=_positive_money, default=None, metavar="USD", help="cost budget in USD")
    g.add_argument("--grid", type=_grid_arg, default=None, metavar="RxC", help="tile RxC frames into one image")
    g.add_argument("--burn-timestamps", action="store_true", help="burn each frame's time into its pixels")
    g.add_argument("--image-format", choices=get_args(ImageFormat), default=None,
                   help=f"image format (default {defaults.IMAGE_FORMAT})")
    g.add_argument("--quality", type=_positive_int, default=None,
                   help=f"JPEG/WEBP quality 1-100 (default {defaults.QUALITY})")
    g.add_argument("--provider", default=None, metavar="NAME|FILE",
                   help="provider limits: openai (default), local, or a JSON file")
    g.add_argument("--models-file", default=None, metavar="FILE", help="JSON/TOML file of extra model parameters")
    g.add_argument("--frames-per-request", type=_positive_int, default=None, metavar="N",
                   help="split into map-reduce requests of at most N images")
    g.add_argument("--max-output-tokens", type=_positive_int, default=None, metavar="N",
                   help=f"output token limit per request (default {defaults.MAX_OUTPUT_TOKENS}; "
                        f"{defaults.REASONING_MAX_OUTPUT_TOKENS} for reasoning models)")


def add_request_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("endpoint, cache and output")
    g.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint (default $OPENAI_BASE_URL or OpenAI)")
    g.add_argument("--timeout", type=_positive_float, default=None, metavar="SECONDS",
                   help=f"per-request deadline (default {defaults.TIMEOUT:g})")
    g.add_argument("--max-retries", type=_retries, default=None, metavar="N",
                   help=f"retries with backoff (default {defaults.MAX_RETRIES}, at most {defaults.MAX_RETRIES_CAP})")
    g.add_argument("--concurrency", type=_positive_int, default=None, metavar="N",
                   help=f"parallel chunk requests (default {defaults.CONCURRENCY})")
    g.add_argument("--tolerance", type=_finite_float, default=None, metavar="SECONDS",
                   help=f"a cited time is supported when a frame sent lies within this (default {defaults.TOLERANCE:g})")
    g.add_argument("--cache-dir", default=None, metavar="DIR", help="cache directory (default: user cache dir)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache and run log")
    g.add_argument("--dry-run", action="store_true", help="print the plan and send nothing")
    g.add_argument("--json", action="store_true", help="print JSON")
    g.add_argument("--language", default=None, help="answer in this language")
    g.add_argument("--strict", action="store_true",
                   help="exit 7 on any warning about the reply: the endpoint did not count the images (it stops the "
                        "run), or the reply could not be read as asked (after printing what there is)")


def add_speech_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("speech (subtitles and transcription)")
    g.add_argument("--speech", choices=get_args(SpeechMode), default=None,
                   help="where speech comes from: auto = subtitles (embedded, then a sidecar file), else "
                        f"transcription when there is audio, else frames only (default {defaults.SPEECH})")
    g.add_argument("--subtitles", default=None, metavar="FILE", help="use this SRT / WebVTT / ASS / transcript JSON file")
    g.add_argument("--subtitle-language", default=None, metavar="LANG", help="preferred subtitle track or sidecar language")
    g.add_argument("--transcribe-model", default=None, metavar="MODEL",
                   help=f"transcription model (default {defaults.TRANSCRIBE_MODEL})")
    g.add_argument("--transcribe-base-url", default=None, metavar="URL",
                   help="transcription endpoint (default: the chat endpoint; needed with --provider local)")
    g.add_argument("--speech-language", default=None, metavar="LANG",
                   help="language hint for transcription, e.g. en (default: detected)")
    g.add_argument("--transcribe-chunk", type=_positive_float, default=None, metavar="SECONDS",
                   help=f"longest audio chunk uploaded (default {defaults.TRANSCRIBE_CHUNK:g}; always < 25 MB)")
    g.add_argument("--max-speech-tokens", type=int, default=None, metavar="N",
                   help="speech text per plan; over it, lines are thinned evenly across the video "
                        f"(default {defaults.MAX_SPEECH_TOKENS})")


def speech_config(args: argparse.Namespace):
    from .types import SpeechConfig

    return SpeechConfig(**_given(args, mode="speech", subtitles="subtitles", subtitle_language="subtitle_language",
                                 transcribe_model="transcribe_model", transcribe_base_url="transcribe_base_url",
                                 language="speech_language", chunk_seconds="transcribe_chunk",
                                 max_tokens="max_speech_tokens"))


def _client_config(args: argparse.Namespace):
    from .endpoint import ClientConfig

    return ClientConfig.from_env(**_given(args, base_url="base_url", timeout="timeout", max_retries="max_retries"))


def _task_config(args: argparse.Namespace, task: str, questions: tuple[str, ...] = ()):
    from .models import DEFAULT_MODEL, load_models_file
    from .packing import Budget, PackConfig, load_provider
    from .pipeline import TaskConfig
    from .prompts import PromptOptions

    if args.models_file:
        load_models_file(args.models_file)
    model = args.model if args.model is not None else (os.environ.get("VIDEOVISION_MODEL") or DEFAULT_MODEL)
    pack_config = PackConfig(
        model=model, burn_timestamps=args.burn_timestamps, grid=args.grid, limits=load_provider(args.provider),
        budget=Budget(args.max_frames, args.max_image_tokens, args.max_cost),
        **_given(args, detail="detail", image_format="image_format", quality="quality",
                 frames_per_request="frames_per_request"),
    )
    prompt = PromptOptions(task=task, questions=questions, **_given(  # type: ignore[arg-type]
        args, style="style", language="language", instruction="prompt", max_output_tokens="max_output_tokens"))
    return TaskConfig(sampling=sampling_config(args), pack=pack_config, prompt=prompt, speech=speech_config(args),
                      strict=bool(getattr(args, "strict", False)),
                      **_given(args, concurrency="concurrency", tolerance="tolerance", refine="refine",
                               refine_max="refine_max"))


def _read_cache(args, read: Callable[[Any], Any]) -> Any:
    """``read(cache)`` on a cache opened for it (commands without ``--no-cache``), then closed."""
    cache = _open_cache(args)
    assert cache is not None
    try:
        return read(cache)
    finally:
        cache.close()


def _open_cache(args):
    from .store import open_cache

    return open_cache(args.cache_dir, enabled=not getattr(args, "no_cache", False))


def _plan(args, task: str, questions: tuple[str, ...] = (), cache=None, transcribe: bool = False):
    from .pipeline import make_plan

    config = _task_config(args, task, questions)
    bar = ProgressBar("sampling")
    try:
        return config, make_plan(args.video, config, cache=cache, progress=bar, endpoint=_client_config(args),
                                 transcribe=transcribe)
    finally:
        bar.close()


def _print_plan(plan, as_json: bool) -> None:
    from .render import dumps, plan_table

    write_out(dumps(plan.to_json()) if as_json else plan_table(plan), as_json=as_json)


def cmd_plan(args: argparse.Namespace) -> int:
    from .render import dumps

    if args.request_json:
        _check_writable(args.request_json, "--request-json", args)
    cache = _open_cache(args)
    try:
        _, plan = _plan(args, "summarize", cache=cache)
    finally:
        if cache is not None:
            cache.close()
    _print_plan(plan, args.json)
    if args.request_json:
        bodies = [r.body for r in plan.requests if r.body is not None]
        _write(args.request_json, "--request-json", dumps(bodies[0] if len(bodies) == 1 else bodies))
        print(f"wrote {len(bodies)} request bod{'y' if len(bodies) == 1 else 'ies'} to {args.request_json}", file=sys.stderr)
    return 0


def _run_task(args: argparse.Namespace, task: str, questions: tuple[str, ...] = (), *, replay: str | None = None):
    """Plan, then (unless --dry-run) send and parse; a finished run is remembered in the cache (its
    command line, for ``videovision report``).

    Args:
        replay: rebuild a run from the cache only, for this endpoint (``videovision report``): nothing is sent.

    Returns:
        (TaskResult or None for a dry run, whether the text was already streamed to the terminal).
    """
    from contextlib import nullcontext

    from .client import CachedRepliesOnly, OpenAIChatClient
    from .pipeline import run_plan

    cache = _open_cache(args)
    try:
        _, plan = _plan(args, task, questions, cache=cache, transcribe=not args.dry_run and replay is None)
        if args.dry_run:
            _print_plan(plan, args.json)
            return None, False
        streaming = (replay is None and task == "summarize" and not args.json and sys.stdout.isatty()
                     and len(plan.requests) == 1 and not getattr(args, "output", None))
        status = RequestStatus()

        shown = StreamedText()

        def on_text(text: str) -> None:
            status.close()  # the answer itself replaces the waiting line
            shown.write(text)

        client_context: Any = (nullcontext(CachedRepliesOnly(replay)) if replay is not None
                               else OpenAIChatClient(_client_config(args)))
        try:
            with client_context as client:
                result = run_plan(plan, client, cache=cache, on_text=on_text if streaming else None, progress=status)
                endpoint = client.endpoint
        finally:
            status.close()
            shown.close()
        if cache is not None and replay is None:
            _remember_run(cache, args, result, task, endpoint)
        streamed = streaming and result.cache_hits == 0
        if streamed:
            sys.stdout.write("\n")
        return result, streamed
    finally:
        if cache is not None:
            cache.close()


def _remember_run(cache, args: argparse.Namespace, result, task: str, endpoint: str) -> None:
    """Store the run's command line (for ``videovision report``); best effort: a finished run never
    fails here."""
    from .errors import CacheError
    from .paths import path_text
    from .store import RunRecord

    argv = [_storable(a, args) for a in getattr(args, "argv", ()) if a != "--no-cache"]
    try:
        cache.runs.add(RunRecord(result.run_id, "", task, path_text(args.video), endpoint, os.getcwd(), tuple(argv)))
    except CacheError:
        pass


def _storable(arg: str, args: argparse.Namespace) -> str:
    """A command-line word as the run log may keep it: a downloaded VIDEO URL becomes its file in
    the cache (``report`` works offline), any other URL loses its user info and query (credentials,
    signed tokens); ``--flag=URL`` likewise."""
    from .redact import display_url
    from .remote import is_url

    if arg == getattr(args, "video_url", None):
        return str(args.video)
    flag, sep, value = arg.partition("=") if arg.startswith("-") else ("", "", arg)
    if "://" in value and (is_url(value) or value.lower().startswith(("http://", "https://"))):
        return f"{flag}{sep}{display_url(value)}"
    return arg


def cmd_summarize(args: argparse.Namespace) -> int:
    from .render import dumps, summary_notes, summary_text

    if args.output:
        _check_writable(args.output, "--output", args)
    _check_report(args)
    result, streamed = _run_task(args, "summarize")
    if result is None:
        return 0
    if args.json:
        _answer_out(args, dumps(result.to_json()), "summary", as_json=True)
    else:
        if not streamed:  # else the text is on the terminal already
            _answer_out(args, summary_text(result.summary, markdown=args.markdown, notes=False), "summary")
        print_notes(summary_notes(result.summary))
    return _finish(args, result)


def _answer_out(args: argparse.Namespace, text: str, what: str, *, as_json: bool = False) -> None:
    """The answer on stdout, or written atomically to ``-o/--output``."""
    if getattr(args, "output", None):
        _write(args.output, "--output", text)
        print(f"wrote the {what} to {args.output}", file=sys.stderr)
    else:
        write_out(text, as_json=as_json)


def cmd_ask(args: argparse.Namespace) -> int:
    from .render import answer_notes, answers_text, dumps

    questions = tuple(q for q in args.questions)
    if args.output:
        _check_writable(args.output, "--output", args)
    _check_report(args)
    if args.clips and os.path.exists(args.clips) and not os.path.isdir(args.clips):
        raise ConfigError(f"--clips {args.clips}: not a folder")
    result, _ = _run_task(args, "ask", questions)
    if result is None:
        return 0
    clips = _clips(args, result) if args.clips else None
    if args.json:
        data = result.to_json()
        if clips is not None:
            data["clips"] = clips
        _answer_out(args, dumps(data), "answers", as_json=True)
    else:
        _answer_out(args, answers_text(result.answers, markdown=args.markdown, notes=False), "answers")
        print_notes(answer_notes(result.answers))
    return _finish(args, result)


def _clips(args: argparse.Namespace, result) -> list[dict]:
    """``ask --clips DIR``: one clip per cited moment (answers are printed even when a clip fails)."""
    from .clips import clips_for_moments
    from .timecode import time_label

    moments = [m for a in result.answers for m in a.moments]
    made = clips_for_moments(result.plan.source or args.video, moments, args.clips,
                             **_given(args, before="clip_before", after="clip_after"))
    for moment, clip in zip(moments, made):
        how = "copied" if clip.method == "copy" else "re-encoded"
        print(f"clip {time_label(moment.time)} -> {clip.path} ({how}, {clip.duration:.1f} s)", file=sys.stderr)
    return [{"time": round(m.time, 3), **c.to_json()} for m, c in zip(moments, made)]


def _write(path_text: str, option: str, text: str) -> None:
    """Write an output file atomically; a failure is a one-line ConfigError naming the option."""
    from pathlib import Path

    from .files import atomic_write_text

    try:
        atomic_write_text(Path(path_text), text)
    except OSError as err:
        raise ConfigError(f"{option} {path_text}: cannot write ({err.strerror})") from err


_INPUT_OPTIONS = (("video", "the video"), ("subtitles", "the --subtitles file"),
                  ("models_file", "the --models-file file"), ("provider", "the --provider file"))
"""The arguments naming files a command reads (attribute, what the message calls it)."""


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths are one file (the same path, a hard link or a symlink: st_dev + st_ino)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # either is missing (nothing to destroy), or not a path at all
        return False


def _refuse_input(args: argparse.Namespace | None, path_text: str, option: str) -> None:
    """An output path that resolves to one of the command's inputs is refused before anything is
    written or paid (it would destroy the input)."""
    if args is None:
        return
    for attr, what in _INPUT_OPTIONS:
        value = getattr(args, attr, None)
        if isinstance(value, (str, os.PathLike)) and os.fspath(value) and _same_file(path_text, value):
            raise ConfigError(f"{option} {path_text}: is {what} itself (the same file, a hard link or a symlink); "
                              "writing there would destroy it: choose another file")


def _check_writable(path_text: str, option: str, args: argparse.Namespace | None = None) -> None:
    """Fail before paying for a request whose result could not be written, or would overwrite an
    input of ``args``."""
    from pathlib import Path

    _refuse_input(args, path_text, option)
    path = Path(path_text)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a directory")
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"{option} {path}: not writable")


def cmd_chapters(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .render import chapter_notes, chapters_text, dumps, webvtt_chapters, youtube_export

    if args.output:
        _check_writable(args.output, "--output", args)
    _check_report(args)
    result, _ = _run_task(args, "chapters")
    if result is None:
        return 0
    fmt = "json" if args.json else args.format
    if fmt == "json":
        text = dumps(result.to_json())
    elif fmt == "youtube":
        text, youtube_warnings = youtube_export(result.chapters)
        result = replace(result, warnings=result.warnings + youtube_warnings)
    elif fmt == "vtt":
        text = webvtt_chapters(result.chapters)
    else:
        text = chapters_text(result.chapters, markdown=args.markdown, notes=False)
    if args.output:
        _write(args.output, "--output", text)
        print(f"wrote {len(result.chapters.chapters)} chapters to {args.output}", file=sys.stderr)
    else:
        write_out(text, as_json=fmt == "json")
    if fmt != "json":  # JSON carries them itself
        print_notes(chapter_notes(result.chapters))
    return _finish(args, result)


def print_notes(notes: Sequence[str]) -> None:
    """Notes on the answer (cited times no frame supports ...) go to stderr: stdout carries the answer alone."""
    for note in notes:
        print(terminal_text(note), file=sys.stderr)


def _footer(result) -> None:
    cost = result.estimated_cost_usd
    cost_text = "unknown cost" if cost is None else f"~${cost:.4f}"
    cached = f", {result.cache_hits} from the cache (not paid again)" if result.cache_hits else ""
    speech = result.plan.speech
    heard = f" + {len(speech.segments)} spoken lines ({speech.source})" if speech.segments else ""
    u = result.usage
    reused = f" ({u.cached_tokens} of them from the provider's prompt cache)" if u.cached_tokens else ""
    refined = sum(o.status == "refined" for o in result.refine_outcomes)
    if result.refine_outcomes:
        heard += (f" + {len(result.refine_times)} frames looking again at {len(result.refine_outcomes)} moment(s) "
                  f"({refined} refined)")
    print(f"{result.plan.model}: {len(result.plan.sent_times)} frames{heard}, {result.requests_made} request(s) sent{cached}, "
          f"{u.prompt_tokens}+{u.completion_tokens} tokens{reused}, {cost_text}", file=sys.stderr)


def _check_report(args: argparse.Namespace) -> None:
    if getattr(args, "report", None):
        _check_writable(args.report, "--report", args)


def _write_report(result, video: str, path: str) -> None:
    from .report import render_report

    _write(path, "--report", render_report(result, video=result.plan.source or video, out=path))
    print(f"{PROG}: report written to {path}", file=sys.stderr)


def _finish(args: argparse.Namespace, result) -> int:
    """Print the run's warnings after its output; the exit code: 7 with ``--strict`` when there are any."""
    if getattr(args, "report", None):
        _write_report(result, args.video, args.report)
    for warning in result.warnings:
        print(f"{PROG}: warning: {terminal_text(warning)}", file=sys.stderr)
    _footer(result)
    if getattr(args, "strict", False) and result.warnings:
        print(f"{PROG}: error: --strict: {len(result.warnings)} warning(s) above (the output was still written)",
              file=sys.stderr)
        return 7
    return 0


def cmd_transcript(args: argparse.Namespace) -> int:
    from .pipeline import transcribe_video
    from .render import transcript_text

    if args.output:
        _check_writable(args.output, "--output", args)
    if args.dry_run:
        return _transcript_dry_run(args)
    cache = _open_cache(args)
    try:
        transcript = transcribe_video(args.video, speech_config(args), endpoint=_client_config(args), cache=cache,
                                      **_given(args, concurrency="concurrency"))
    finally:
        if cache is not None:
            cache.close()
    text = transcript_text(transcript, "json" if args.json else args.format)
    if args.output:
        _write(args.output, "--output", text)
        print(f"wrote {len(transcript.segments)} lines ({transcript.source}) to {args.output}", file=sys.stderr)
    else:
        write_out(text, as_json=bool(args.json) or args.format == "json")
    return 0


def _transcript_dry_run(args: argparse.Namespace) -> int:
    """``transcript --dry-run``: what would be uploaded and what it would cost; nothing is sent."""
    from .pipeline import estimate_transcript
    from .render import dumps
    from .speech.estimate import SpeechEstimate
    from .types import SCHEMA_VERSION

    cache = _open_cache(args)
    try:
        found = estimate_transcript(args.video, speech_config(args), endpoint=_client_config(args), cache=cache)
    finally:
        if cache is not None:
            cache.close()
    if isinstance(found, SpeechEstimate):
        model = speech_config(args).transcribe_model
        cost = "unknown cost" if found.cost is None else f"~${found.cost:.4f}"
        data = {"schema_version": SCHEMA_VERSION, "source": "transcription", "model": model,
                "audio_seconds": round(found.audio_seconds, 3), "requests": found.requests,
                "estimated_cost_usd": None if found.cost is None else round(found.cost, 6)}
        text = (f"would upload {found.audio_seconds / 60:.1f} min of audio to {model} in at most {found.requests} "
                f"request(s): {cost} (estimate; nothing was sent)\n")
    else:
        data = {"schema_version": SCHEMA_VERSION, "source": found.source, "lines": len(found.segments),
                "requests": 0, "estimated_cost_usd": 0.0}
        text = f"{len(found.segments)} lines from {found.source}: nothing to upload, $0\n"
    write_out(dumps(data) if args.json else text, as_json=bool(args.json))
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from .render import dumps
    from .types import SCHEMA_VERSION

    entries = _read_cache(args, lambda cache: cache.log.recent(args.limit))
    if args.json:
        write_out(dumps({"schema_version": SCHEMA_VERSION, "entries": [e.to_json() for e in entries]}), as_json=True)
        return 0
    if not entries:
        print("no requests logged yet", file=sys.stderr)
        return 0
    print(f"{'time (UTC)':<19}  {'run':<8}  {'task':<9} {'model':<18} {'tokens in+out':>14} {'cached':>7} {'cost':>9} "
          f"{'time':>7}  {'status':<6} video")
    for e in entries:
        cost = "-" if e.estimated_cost_usd is None else f"${e.estimated_cost_usd:.4f}"
        status = "cache" if e.cached else e.status
        amount = (f"{e.audio_seconds / 60:>10.2f} min" if e.task == "transcribe" and not e.prompt_tokens
                  else f"{e.prompt_tokens:>7}+{e.completion_tokens:<6}")
        print(terminal_text(
            f"{e.time[:19]}  {e.run_id[-8:]}  {e.task:<9} {e.model:<18} {amount} "
            f"{e.cached_tokens or '':>7} {cost:>9} {e.duration_s:6.2f}s  {status:<6} {os.path.basename(e.video or '')}"))
    return 0


def fetch_remote(args: argparse.Namespace) -> None:
    """An ``http(s)://`` VIDEO is downloaded into the cache (once per URL and ETag) and read from there."""
    from .remote import fetch, is_url

    if is_url(getattr(args, "video", None)):
        from .store import default_cache_dir

        args.video_url = args.video
        args.video = os.fspath(fetch(args.video, getattr(args, "cache_dir", None) or default_cache_dir(),
                                     max_download=getattr(args, "max_download", None)))


def _download_size(text: str) -> int:
    from .remote import parse_size

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_download_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-download", type=_download_size, default=None, metavar="SIZE",
                   help="when VIDEO is a URL: most bytes to download, e.g. 2G (default: what the cache disk has free)")


def _verbose_parent() -> argparse.ArgumentParser:
    """Lets -v follow the subcommand too."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log what happens, requests included (images elided, never the key)")
    return parent


def _extend_followup(sub) -> None:
    from .cli_followup import add_followup_parsers

    add_followup_parsers(sub)


def _extend_library(sub) -> None:
    from .cli_library import add_library_parsers

    add_library_parsers(sub)


def _extend_mcp(sub) -> None:
    from .mcp_server import add_mcp_parser

    add_mcp_parser(sub)


def _extend_tasks(sub) -> None:
    common_help = {"plan": "show what would be sent and what it costs (offline)",
                   "summarize": "summarize a video", "ask": "ask questions about a video (timestamped answers)",
                   "chapters": "split a video into chapters"}
    p = sub.add_parser("plan", help=common_help["plan"], parents=[_verbose_parent()],
                       description="Offline: sample, pack and price a request (the defaults are summarize's).")
    p.add_argument("video", help="video file (any container/codec FFmpeg reads)")
    add_sampling_options(p, default_strategy=defaults.TASK_STRATEGY)
    add_pack_options(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--request-json", metavar="FILE", help="write the exact request body(ies), full base64")
    add_speech_options(p)
    p.add_argument("--base-url", default=None, help="the endpoint the run would use (part of the transcript cache key)")
    p.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    p.add_argument("--no-cache", action="store_true", help="do not reuse or store packed frames")
    p.set_defaults(func=cmd_plan)

    for name, func in (("summarize", cmd_summarize), ("ask", cmd_ask), ("chapters", cmd_chapters)):
        p = sub.add_parser(name, help=common_help[name], description=common_help[name].capitalize() + ".",
                           parents=[_verbose_parent()])
        p.add_argument("video", help="video file (any container/codec FFmpeg reads)")
        if name == "ask":
            p.add_argument("questions", nargs="+", metavar="QUESTION")
            g = p.add_argument_group("refine pass (a second, dense look at each cited moment)")
            g.add_argument("--no-refine", dest="refine", action="store_false", default=None,
                           help="answer from the overview pass only (one request; times only as exact as the "
                                "frames' spacing)")
            g.add_argument("--refine-max", type=int, default=None, metavar="N",
                           help=f"moments refined at most, one request each (default {defaults.REFINE_MAX}; 0: none)")
            g = p.add_argument_group("clips of the cited moments")
            g.add_argument("--clips", default=None, metavar="DIR",
                           help="write one MP4 clip per cited moment into DIR (stream copy when the cut falls on a "
                                "keyframe, else re-encoded H.264/AAC)")
            g.add_argument("--clip-before", type=_finite_float, default=None, metavar="SECONDS",
                           help=f"seconds before each moment (default {defaults.CLIP_BEFORE:g})")
            g.add_argument("--clip-after", type=_finite_float, default=None, metavar="SECONDS",
                           help=f"seconds after each moment or range (default {defaults.CLIP_AFTER:g})")
        add_sampling_options(p, default_strategy=defaults.TASK_STRATEGY)
        add_pack_options(p)
        add_speech_options(p)
        add_request_options(p)
        p.add_argument("--markdown", action="store_true", help="Markdown output")
        p.add_argument("--report", default=None, metavar="FILE.html",
                       help="also write an HTML report: the player, the frames the model saw, every cited moment a "
                            "click away (one self-contained file; `videovision report` rebuilds it later)")
        if name == "summarize":
            p.add_argument("--style", choices=get_args(Style), default=None, help=f"(default {defaults.STYLE})")
            p.add_argument("--prompt", default=None, help="replace the instruction text")
        if name == "chapters":
            p.add_argument("--format", choices=get_args(ChapterFormat), default="text")
        p.add_argument("--output", "-o", default=None, metavar="FILE",
                       help="write the answer to FILE instead of stdout (atomically)")
        p.set_defaults(func=func)

    p = sub.add_parser("transcript", help="the speech of a video, timed (subtitles or transcription)",
                       parents=[_verbose_parent()],
                       description="Print a video's speech with exact times: from its subtitles, a sidecar file, "
                                   "or its audio sent to an OpenAI-compatible transcription endpoint.")
    p.add_argument("video", help="video or audio file")
    p.add_argument("--format", choices=get_args(TranscriptFormat), default="text")
    p.add_argument("--output", "-o", default=None, metavar="FILE", help="write to FILE instead of stdout")
    add_speech_options(p)
    add_request_options(p)
    p.set_defaults(func=cmd_transcript)

    p = sub.add_parser("log", help="list recent requests (tokens, cost, cache hits)", parents=[_verbose_parent()],
                       description="List recent model requests, newest first, from the run log in the cache.")
    p.add_argument("--limit", type=_positive_int, default=defaults.LOG_LIMIT, help=f"how many (default {defaults.LOG_LIMIT})")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--cache-dir", default=None, help="cache directory (default: user cache dir)")
    p.set_defaults(func=cmd_log)


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(prog=PROG, description="Understand recorded video with vision language models.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log what happens, requests included (images elided, never the key)")
    sub: Any = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("frames", help="extract keyframes with exact timestamps", parents=[_verbose_parent()],
                       description="Extract keyframes with exact presentation timestamps into a folder.")
    p.add_argument("video", help="video file (any container/codec FFmpeg reads)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (JPEGs, contact sheet, frames.json)")
    add_sampling_options(p)
    p.add_argument("--json", action="store_true", help="print frames.json to stdout")
    p.set_defaults(func=cmd_frames)

    for extend in _EXTENSIONS:
        extend(sub)
    for command in sub.choices.values():  # every command reading a VIDEO, which may be a URL
        if any(action.dest == "video" for action in command._actions):
            add_download_option(command)
    return parser


_EXTENSIONS: list[Callable[[argparse._SubParsersAction], None]] = [_extend_tasks, _extend_followup, _extend_library,
                                                                      _extend_mcp]


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


def _one_line(err: VideovisionError) -> str:
    """The error's message on one line; a config field it names is shown as its flag."""
    message = terminal_text(" ".join(str(err).split())) or type(err).__name__
    field = getattr(err, "field", None)
    if field and message.startswith(field):
        message = "--" + field.replace("_", "-") + message[len(field):]
    return message


def _print_traceback() -> None:
    """The current exception's traceback on stderr (VIDEOVISION_DEBUG=1), secrets scrubbed."""
    from .redact import scrub_secrets, secrets_from_env

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
    args.argv = [os.fsdecode(a) for a in argv]
    _setup_logging(args.verbose)
    _one_line_warnings()
    try:
        fetch_remote(args)
        return int(args.func(args) or 0)
    except VideovisionError as err:
        if debug:
            _print_traceback()
        end_open_lines()
        print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
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
