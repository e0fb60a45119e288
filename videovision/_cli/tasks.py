"""The commands that make one plan and run it (``frames``, ``plan``, each task's: ``summarize``, ``ask``,
``chapters`` through :func:`cmd_task`, ``transcript``) and ``log``: parse options into configs (:mod:`.configs`), call
one library function, render the result."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..console import ProgressBar, RequestStatus, StreamedText, terminal_text, write_out
from ..errors import ConfigError, UsageMismatchError
from .configs import client_config, sampling_config, speech_config, task_config
from .options import given
from .outputs import (
    PROG,
    answer_out,
    check_report,
    check_writable,
    open_cache,
    print_notes,
    read_cache,
    refuse_input,
    write_output,
    write_report,
)
from .runs import remember_run


def cmd_frames(args: argparse.Namespace) -> int:
    from ..pipeline import extract_frames

    refuse_input(args, args.out, "--out")
    bar = ProgressBar("frames")
    try:
        result = extract_frames(args.video, sampling_config(args), args.out, progress=bar, shown=shown_video(args))
    finally:
        bar.close()
    if args.json:
        import json

        from ..render import dumps

        sys.stdout.write(dumps(json.loads(result.manifest.read_text())))
    else:
        sheets = ", ".join(str(result.out_dir / s) for s in result.contact_sheets)
        dups = f"; {result.duplicates_dropped} near-duplicates dropped" if args.dedup else ""
        n = len(result.frames)
        print(f"wrote {n} frame{'' if n == 1 else 's'} to {result.out_dir}/ (manifest {result.manifest.name}; "
              f"contact sheet {sheets}{dups})", file=sys.stderr)
    return 0


def make_task_plan(args, task: str, questions: tuple[str, ...] = (), cache=None, transcribe: bool = False):
    from ..pipeline import make_plan

    config = task_config(args, task, questions)
    bar = ProgressBar("sampling")
    try:
        plan = make_plan(args.video, config, cache=cache, progress=bar, endpoint=client_config(args),
                         transcribe=transcribe)
    finally:
        bar.close()
    return config, shown_plan(args, plan)


def shown_video(args: argparse.Namespace) -> str:
    """The VIDEO as shown in plans, JSON, logs and reports: a URL without user info or query (not
    the downloaded file in the cache), else the path given."""
    from ..paths import path_text
    from ..redact import display_url

    url = getattr(args, "video_url", None)
    return display_url(url) if url else path_text(args.video)


def shown_plan(args: argparse.Namespace, plan):
    """The plan of a URL's download, named by the URL (``video.path`` is display text; the file it
    opens again stays ``plan.source``)."""
    from dataclasses import replace

    if not getattr(args, "video_url", None):
        return plan
    return replace(plan, video=replace(plan.video, path=shown_video(args)), source=plan.source or args.video)


def print_plan(plan, as_json: bool) -> None:
    from ..render import dumps, plan_table

    write_out(dumps(plan.to_json()) if as_json else plan_table(plan), as_json=as_json)


def cmd_plan(args: argparse.Namespace) -> int:
    from ..render import dumps, plan_table

    for path, flag in ((args.request_json, "--request-json"), (args.output, "--output")):
        if path:
            check_writable(path, flag, args)
    cache = open_cache(args)
    try:
        _, plan = make_task_plan(args, "summarize", cache=cache)
    finally:
        if cache is not None:
            cache.close()
    answer_out(args, dumps(plan.to_json()) if args.json else plan_table(plan), "plan", as_json=bool(args.json))
    if args.request_json:
        bodies = [r.body for r in plan.requests if r.body is not None]  # the exact bodies of the plan's wire
        write_output(args.request_json, "--request-json", dumps(bodies[0] if len(bodies) == 1 else bodies))
        print(f"wrote {len(bodies)} request bod{'y' if len(bodies) == 1 else 'ies'} to {args.request_json}", file=sys.stderr)
    return 0


def run_task(args: argparse.Namespace, task: str, questions: tuple[str, ...] = (), *, replay: str | None = None):
    """Plan, then (unless --dry-run) send and parse; a finished run is remembered in the cache (its
    configuration, for ``videovision report``).

    Args:
        replay: rebuild a run from the cache only, for this endpoint (``videovision report``): nothing is sent.

    Returns:
        (TaskResult or None for a dry run, whether the text was already streamed to the terminal).
    """
    from contextlib import nullcontext

    from ..client import CachedRepliesOnly, OpenAIChatClient
    from ..pipeline import run_plan
    from ..tasks import task_named

    cache = open_cache(args)
    try:
        _, plan = make_task_plan(args, task, questions, cache=cache, transcribe=not args.dry_run and replay is None)
        if args.dry_run:
            print_plan(plan, args.json)
            return None, False
        streaming = (replay is None and task_named(task).streams and not args.json and sys.stdout.isatty()
                     and len(plan.requests) == 1 and not getattr(args, "output", None))
        status = RequestStatus()

        shown = StreamedText()

        def on_text(text: str) -> None:
            status.close()  # the answer itself replaces the waiting line
            shown.write(text)

        client_context: Any = (nullcontext(CachedRepliesOnly(replay, getattr(args, "api", None) or "auto"))
                               if replay is not None
                               else OpenAIChatClient(client_config(args)))
        try:
            with client_context as client:
                result = run_plan(plan, client, cache=cache, on_text=on_text if streaming else None, progress=status)
                endpoint = client.endpoint
        finally:
            status.close()
            shown.close()
        if cache is not None and replay is None:
            remember_run(cache, args, result, task, endpoint)
        streamed = streaming and result.cache_hits == 0
        if streamed:
            sys.stdout.write("\n")
        return result, streamed
    finally:
        if cache is not None:
            cache.close()


def cmd_task(args: argparse.Namespace) -> int:
    """``videovision TASK``: run the task (:data:`videovision.tasks.TASKS`, the command's name) and write its
    result in the format asked for (:data:`videovision.render.formats.FORMATS`), its notes on stderr."""
    from dataclasses import replace

    from ..render.formats import format_named
    from ..tasks import task_named

    task = task_named(args.command, plans=True)
    if args.output:
        check_writable(args.output, "--output", args)
    check_report(args)
    clips_dir = getattr(args, "clips", None)
    if clips_dir and os.path.exists(clips_dir) and not os.path.isdir(clips_dir):
        raise ConfigError(f"--clips {clips_dir}: not a folder")
    result, streamed = run_task(args, task.name, tuple(getattr(args, "questions", None) or ()))
    if result is None:
        return 0
    extra = {"clips": _clips(args, result)} if clips_dir else {}
    fmt = format_named(output_format(args), task.name)
    text, warnings = fmt.render(task, result, extra)
    result = replace(result, warnings=result.warnings + warnings)
    if args.output:
        write_output(args.output, "--output", text)
        print(f"wrote {task.written(result)} to {args.output}", file=sys.stderr)
    elif not streamed:  # else the text is on the terminal already
        write_out(text, as_json=fmt.json)
    if not fmt.json:  # JSON carries them itself
        print_notes(task.notes(result))
    return finish(args, result)


def output_format(args: argparse.Namespace) -> str:
    """The format asked for: ``--json``, else ``--format`` (text by default), Markdown with ``--markdown``."""
    fmt = "json" if getattr(args, "json", False) else getattr(args, "format", None) or "text"
    return "markdown" if fmt == "text" and getattr(args, "markdown", False) else fmt


def _clips(args: argparse.Namespace, result) -> list[dict]:
    """``ask --clips DIR``: one clip per cited moment (answers are printed even when a clip fails)."""
    from ..clips import clips_for_moments
    from ..timecode import time_label

    moments = [m for a in result.answers for m in a.moments]
    made = clips_for_moments(result.plan.source or args.video, moments, args.clips,
                             **given(args, "clip"))
    for moment, clip in zip(moments, made):
        how = "copied" if clip.method == "copy" else "re-encoded"
        print(f"clip {time_label(moment.time)} -> {clip.path} ({how}, {clip.duration:.1f} s)", file=sys.stderr)
    return [{"time": round(m.time, 3), **c.to_json()} for m, c in zip(moments, made)]


def footer(result) -> None:
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


def finish(args: argparse.Namespace, result) -> int:
    """Print the run's warnings after its output; the exit code: ``UsageMismatchError``'s (7) with
    ``--strict`` when there are any."""
    if getattr(args, "report", None):
        write_report(result, args.video, args.report, url=getattr(args, "video_url", None))
    for warning in result.warnings:
        print(f"{PROG}: warning: {terminal_text(warning)}", file=sys.stderr)
    footer(result)
    if getattr(args, "strict", False) and result.warnings:
        print(f"{PROG}: error: --strict: {len(result.warnings)} warning(s) above (the output was still written)",
              file=sys.stderr)
        return UsageMismatchError.exit_code
    return 0


def cmd_transcript(args: argparse.Namespace) -> int:
    from ..pipeline import transcribe_video
    from ..render.formats import format_named
    from ..tasks import TASKS

    if args.output:
        check_writable(args.output, "--output", args)
    if args.dry_run:
        return _transcript_dry_run(args)
    cache = open_cache(args)
    try:
        transcript = transcribe_video(args.video, speech_config(args), endpoint=client_config(args), cache=cache,
                                      **given(args, "task"))
    finally:
        if cache is not None:
            cache.close()
    if getattr(args, "video_url", None):
        from dataclasses import replace

        transcript = replace(transcript, video={**dict(transcript.video or {}), "path": shown_video(args)})
    task = TASKS["transcript"]
    fmt = format_named(output_format(args), task.name)
    text, _ = fmt.render(task, transcript, {})
    if args.output:
        write_output(args.output, "--output", text)
        print(f"wrote {task.written(transcript)} to {args.output}", file=sys.stderr)
    else:
        write_out(text, as_json=fmt.json)
    return 0


def _transcript_dry_run(args: argparse.Namespace) -> int:
    """``transcript --dry-run``: what would be uploaded and what it would cost; nothing is sent."""
    from ..pipeline import estimate_transcript
    from ..render.documents import document, dumps, round_cost
    from ..speech.estimate import SpeechEstimate

    cache = open_cache(args)
    try:
        found = estimate_transcript(args.video, speech_config(args), endpoint=client_config(args), cache=cache)
    finally:
        if cache is not None:
            cache.close()
    if isinstance(found, SpeechEstimate):
        model = speech_config(args).transcribe_model
        cost = "unknown cost" if found.cost is None else f"~${found.cost:.4f}"
        data = document(video=shown_video(args), source="transcription", model=model,
                        audio_seconds=round(found.audio_seconds, 3), requests=found.requests,
                        estimated_cost_usd=round_cost(found.cost))
        text = (f"would upload {found.audio_seconds / 60:.1f} min of audio to {model} in at most {found.requests} "
                f"request(s): {cost} (estimate; nothing was sent)\n")
    else:
        data = document(video=shown_video(args), source=found.source, lines=len(found.segments), requests=0,
                        estimated_cost_usd=0.0)
        text = f"{len(found.segments)} lines from {found.source}: nothing to upload, $0\n"
    write_out(dumps(data) if args.json else text, as_json=bool(args.json))
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from ..render.documents import document, dumps

    if args.output:
        check_writable(args.output, "--output")
    entries = read_cache(args, lambda cache: cache.log.recent(args.limit))
    if args.json:
        answer_out(args, dumps(document(entries=[e.to_json() for e in entries])), "log",
                   as_json=True)
        return 0
    if not entries:
        print("no requests logged yet", file=sys.stderr)
        return 0
    lines = [f"{'time (UTC)':<19}  {'run':<8}  {'task':<9} {'model':<18} {'tokens in+out':>14} {'cached':>7} "
             f"{'written':>7} {'images':>13} {'cost':>9} {'time':>7}  {'status':<6} video"]
    for e in entries:
        cost = "-" if e.estimated_cost_usd is None else f"${e.estimated_cost_usd:.4f}"
        status = "cache" if e.cached else e.status
        amount = (f"{e.audio_seconds / 60:>10.2f} min" if e.task == "transcribe" and not e.prompt_tokens
                  else f"{e.prompt_tokens:>7}+{e.completion_tokens:<6}")
        lines.append(terminal_text(
            f"{e.time[:19]}  {e.run_id[-8:]}  {e.task:<9} {e.model:<18} {amount} "
            f"{e.cached_tokens or '':>7} {e.cache_write_tokens or '':>7} {_images(e):>13} {cost:>9} "
            f"{e.duration_s:6.2f}s  {status:<6} {video_name(e.video)}"))
    answer_out(args, "\n".join(lines) + "\n", "log")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """``videovision models``: the model table (the logic is :mod:`videovision.models.catalog`)."""
    from ..models import load_models_file
    from ..models.catalog import models_json, models_table
    from ..render.documents import document, dumps

    if args.output:
        check_writable(args.output, "--output")
    if getattr(args, "models_file", None):
        load_models_file(args.models_file)
    if args.json:
        answer_out(args, dumps(document(**models_json())), "models", as_json=True)
    else:
        answer_out(args, models_table(), "models")
    return 0


def _images(entry: Any) -> str:
    """``reported/planned`` image tokens of a logged request (``-`` where the reply did not say)."""
    if entry.image_tokens is None and not entry.planned_image_tokens:
        return ""
    reported = "-" if entry.image_tokens is None else str(entry.image_tokens)
    return f"{reported}/{entry.planned_image_tokens or '-'}"


def video_name(video: str | None) -> str:
    """How a logged video is shown: a URL's file name (without credentials or query), a file's name."""
    from ..redact import url_name

    return url_name(video) if video and "://" in video else os.path.basename(video or "")


def fetch_remote(args: argparse.Namespace) -> None:
    """An ``http(s)://`` VIDEO is downloaded into the cache (once per URL and ETag) and read from there."""
    from ..remote import fetch, is_url

    if is_url(getattr(args, "video", None)):
        from ..store import default_cache_dir

        args.video_url = args.video
        args.video = os.fspath(fetch(args.video, getattr(args, "cache_dir", None) or default_cache_dir(),
                                     max_download=getattr(args, "max_download", None)))


