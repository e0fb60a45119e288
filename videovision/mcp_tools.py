"""What the MCP tools do (:mod:`videovision.mcp_server` declares them): a call's options become the CLI's own
parsed options (:func:`cli_args`), then one library function runs in a worker thread (:class:`_Work`: progress,
cancellation), bounded by its cost cap, reading and writing only under the allowed roots (:class:`Roots`); the
result is the JSON document the CLI's ``--json`` prints and a short text, the API key scrubbed from both.
Needs no MCP SDK (the llm plugin parses options through :func:`cli_args` too).
"""

import argparse
import base64
import contextlib
import io
import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import BudgetError, ConfigError, VideovisionError
from .render.documents import document
from .tasks import task_named

DEFAULT_MAX_COST = 0.05
"""USD: the most one tool call may spend unless the server's ``--max-cost`` or the call says otherwise."""
PROGRESS_INTERVAL = 0.25
"""Seconds between progress notifications while a tool works."""
MAX_TEXT_CHARS = 4000
"""The short text beside a structured result is cut here (the full document is the structured content)."""

INSTRUCTIONS = (
    "videovision answers questions about local video files with a vision language model. Call `plan` "
    "first: it is offline and free and shows the frames, tokens and estimated cost. `ask` returns moments "
    "with times checked against the frames sent (`supported`). Every call that sends is capped by "
    "`max_cost` (USD). Paths must lie under the server's allowed roots.")


class _Cancelled(Exception):
    """The call was cancelled: the worker stops at its next progress point."""


class Roots:
    """The folders whose files the tools may read and write (symlinks resolved)."""

    def __init__(self, roots: Sequence[str | os.PathLike[str]]):
        self.roots = tuple(Path(os.path.realpath(r)) for r in (roots or [os.getcwd()]))
        for root in self.roots:
            if not root.is_dir():
                raise ConfigError(f"--root {root}: not a folder")

    def resolve(self, path: str, what: str = "path") -> str:
        """``path`` (relative: to the first root) with symlinks resolved; a ConfigError when it
        lies outside every root."""
        if not isinstance(path, str) or not path.strip():
            raise ConfigError(f"{what}: give a file path")
        if "://" in path:
            raise ConfigError(f"{what} {path}: the MCP server reads local files under its roots, not URLs")
        given = Path(os.path.expanduser(path))
        full = Path(os.path.realpath(given if given.is_absolute() else self.roots[0] / given))
        for root in self.roots:
            if full == root or root in full.parents:
                return os.fspath(full)
        allowed = ", ".join(os.fspath(r) for r in self.roots)
        raise ConfigError(f"{what} {path}: outside the allowed roots ({allowed}); start the server with "
                          "--root for its folder")

    def existing(self, path: str, what: str = "video") -> str:
        full = self.resolve(path, what)
        if not os.path.exists(full):
            raise ConfigError(f"{what} {path}: no such file")
        return full


# --------------------------------------------------------------------------- CLI options
def _argv(command: str, options: dict[str, Any], positionals: Sequence[str]) -> list[str]:
    """The command line a tool call stands for: ``command --flag value ... -- positionals``."""
    argv = [command]
    for flag, value in options.items():
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                argv += [flag, str(v)]
        else:
            argv += [flag, str(value)]
    return [*argv, "--", *positionals]


def cli_args(command: str, options: dict[str, Any], positionals: Sequence[str]) -> argparse.Namespace:
    """The CLI's own parse of a tool call's options (its defaults and checks); a bad value is a
    ConfigError with argparse's message."""
    from ._cli import build_parser

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = build_parser().parse_args(_argv(command, options, positionals))
    except SystemExit:
        message = err.getvalue().strip().splitlines()
        raise ConfigError(message[-1].removeprefix("videovision: error: ").removesuffix(" (see --help)")
                          if message else "invalid options") from None
    args.argv = []
    return args


def _task_options(a: dict[str, Any]) -> dict[str, Any]:
    """The CLI flags of the common task arguments."""
    names = {"model": "--model", "max_frames": "--max-frames", "max_cost": "--max-cost", "detail": "--detail",
             "strategy": "--strategy", "start": "--start", "end": "--end", "speech": "--speech",
             "language": "--language", "style": "--style"}
    out = {flag: a[name] for name, flag in names.items() if name in a}
    if a.get("refine") is False:
        out["--no-refine"] = True
    return out


# --------------------------------------------------------------------------- the work, in a thread
class _Work:
    """Progress shared between the worker thread and the notifier, and the cancel flag."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.progress: tuple[float, str] | None = None
        self._lock = threading.Lock()

    def report(self, fraction: float, message: str) -> None:
        if self.cancelled.is_set():
            raise _Cancelled()
        with self._lock:
            done = max(0.0, min(1.0, fraction)) * 100
            if self.progress is None or done >= self.progress[0]:
                self.progress = (done, message)

    def sampling(self, share: float = 1.0) -> Callable[[Any], None]:
        def on(p: Any) -> None:  # a RunProgress, stage "sampling": seconds decoded
            self.report(share * (p.done / p.total if p.total else 0.0), f"sampling {p.done:.0f}/{p.total:.0f} s")
        return on

    def requests(self, start: float) -> Callable[[Any], None]:
        def on(p: Any) -> None:
            if self.cancelled.is_set():
                return  # a reply in flight still lands in the cache; nothing more is reported
            share = p.done / p.total if p.total else 0.0
            self.report(start + (1 - start) * share, f"requests {p.done}/{p.total} ({p.running} waiting)")
        return on


async def _run(ctx: Any, fn: Callable[[_Work], Any]) -> Any:
    """``fn(work)`` in a worker thread, with progress notifications while it runs; a cancelled
    call leaves the thread (it stops at its next progress point; a reply in flight is cached)."""
    import anyio

    work = _Work()
    sent: list[float] = []
    finished = anyio.Event()

    async def notify() -> None:
        while not finished.is_set():
            with anyio.move_on_after(PROGRESS_INTERVAL):
                await finished.wait()
            current = work.progress
            if current is not None and ctx is not None and (not sent or current[0] > sent[-1]):
                sent.append(current[0])
                with contextlib.suppress(Exception):
                    await ctx.report_progress(current[0], 100, current[1])

    outcome: dict[str, Any] = {}
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(notify)
            try:
                outcome["value"] = await anyio.to_thread.run_sync(fn, work, abandon_on_cancel=True)
            except Exception as err:  # raised below, outside the task group (not as an ExceptionGroup)
                outcome["error"] = err
            finally:
                finished.set()
    except BaseException:  # cancelled: the worker stops at its next progress point
        work.cancelled.set()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --------------------------------------------------------------------------- results
def _secrets() -> tuple[str, ...]:
    from .redact import secrets_from_env

    return secrets_from_env()


def _clean(text: str) -> str:
    from .redact import scrub_secrets

    return scrub_secrets(text, _secrets())


def _ok(data: dict, text: str, extra: Sequence[Any] = ()) -> Any:
    from mcp.types import CallToolResult, TextContent

    from .redact import scrub_secrets

    document = json.loads(scrub_secrets(json.dumps(data, ensure_ascii=False), _secrets()))
    text = _clean(text.strip())
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS - 1].rstrip() + "…"
    return CallToolResult(content=[TextContent(type="text", text=text or "done"), *extra],
                          structured_content=document)


def _error(message: str) -> Any:
    from mcp.types import CallToolResult, TextContent

    return CallToolResult(content=[TextContent(type="text", text=_clean(message))], is_error=True)


def _one_line(err: VideovisionError) -> str:
    from ._cli import one_line as cli_one_line

    return cli_one_line(err)


async def _call(ctx: Any, fn: Callable[[_Work], tuple[dict, str] | tuple[dict, str, list]]) -> Any:
    """A tool's body: its result, or a tool error (never an exception out of the server)."""
    try:
        made = await _run(ctx, fn)
    except VideovisionError as err:
        return _error(f"error: {_one_line(err)}")
    except _Cancelled:
        return _error("cancelled")
    except Exception as err:  # a bug: still one line, and the server keeps serving
        return _error(f"internal error: {type(err).__name__}: {' '.join(str(err).split())[:300]}")
    return _ok(*made)


# --------------------------------------------------------------------------- the tools' bodies
def _check_budget(plan: Any, max_cost: float) -> None:
    estimate = plan.estimated_cost_usd
    if estimate is not None and estimate > max_cost + 1e-12:
        raise BudgetError(f"max_cost ${max_cost:g}: the plan is estimated at ${estimate:.4f} (raise max_cost, "
                          "or send fewer frames)")


def _plan_line(plan: Any) -> str:
    cost = plan.estimated_cost_usd
    cost_text = "unknown cost" if cost is None else f"~${cost:.4f} at most"
    speech = plan.speech
    heard = f", {len(speech.segments)} spoken lines ({speech.source})" if speech.segments else ""
    return (f"{plan.model}: {len(plan.images)} image(s) of {len(plan.sent_times)} frame(s){heard}, "
            f"{plan.image_tokens:,} image + {plan.text_tokens:,} text tokens in {len(plan.requests)} request(s), "
            f"{cost_text}")


def _planned(args: argparse.Namespace, task: str, questions: tuple[str, ...], work: _Work, *, cache: Any,
             transcribe: bool, share: float) -> Any:
    from ._cli.configs import client_config as _client_config
    from ._cli.configs import task_config as _task_config
    from .pipeline import make_plan

    config = _task_config(args, task, questions)
    return make_plan(args.video, config, cache=cache, progress=work.sampling(share), endpoint=_client_config(args),
                     transcribe=transcribe)


def do_plan(args: argparse.Namespace, task: str, questions: tuple[str, ...], max_cost: float,
            work: _Work) -> tuple[dict, str]:
    from ._cli import open_cache as _open_cache

    cache = _open_cache(args)
    try:
        plan = _planned(args, task, questions, work, cache=cache, transcribe=False, share=1.0)
    finally:
        if cache is not None:
            cache.close()
    line = _plan_line(plan)
    estimate = plan.estimated_cost_usd
    if estimate is not None and estimate > max_cost:
        line += f" (over max_cost ${max_cost:g}: a run would be refused)"
    return plan.to_json(), line


def do_task(args: argparse.Namespace, task: str, questions: tuple[str, ...], max_cost: float,
            work: _Work) -> tuple[dict, str]:
    from ._cli import open_cache as _open_cache
    from ._cli.configs import client_config as _client_config
    from ._cli.runs import remember_run as _remember_run
    from .client import OpenAIChatClient
    from .pipeline import run_plan

    cache = _open_cache(args)
    try:
        plan = _planned(args, task, questions, work, cache=cache, transcribe=True, share=0.5)
        _check_budget(plan, max_cost)
        with OpenAIChatClient(_client_config(args)) as client:
            result = run_plan(plan, client, cache=cache, progress=work.requests(0.5))
            endpoint = client.endpoint
        if cache is not None:
            _remember_run(cache, args, result, task, endpoint)
    finally:
        if cache is not None:
            cache.close()
    text = task_named(task).text(result)
    cost = result.estimated_cost_usd
    footer = (f"\n\n({plan.model}: {len(plan.sent_times)} frames, {result.requests_made} request(s), "
              f"{result.cache_hits} from the cache, {'unknown cost' if cost is None else f'~${cost:.4f}'})")
    warnings = "".join(f"\nwarning: {w}" for w in result.warnings)
    return result.to_json(), text + footer + warnings


def do_transcript(args: argparse.Namespace, max_cost: float, work: _Work) -> tuple[dict, str]:
    from ._cli import open_cache as _open_cache
    from ._cli.configs import client_config as _client_config
    from ._cli.configs import speech_config
    from .pipeline import transcribe_video
    from .render import transcript_text
    from .source import open_video
    from .speech.hear import hear

    config, endpoint = speech_config(args), _client_config(args)
    cache = _open_cache(args)
    try:
        work.report(0.0, "finding the speech")
        try:
            with open_video(args.video) as source:
                origin = source.info.start_time
        except VideovisionError:
            origin = 0.0
        found = hear(args.video, config, origin=origin, endpoint=endpoint, upload=False,
                     store=cache.transcripts if cache is not None else None)
        estimate = found.estimate
        if estimate is not None and (estimate.cost is None or estimate.cost > max_cost):
            cost = "an unknown cost" if estimate.cost is None else f"~${estimate.cost:.4f}"
            raise BudgetError(f"max_cost ${max_cost:g}: transcribing {estimate.audio_seconds:.0f} s of audio "
                              f"costs {cost}")
        work.report(0.1, "transcribing" if estimate is not None else "reading the subtitles")
        transcript = transcribe_video(args.video, config, endpoint=endpoint, cache=cache,
                                      **({"concurrency": args.concurrency} if args.concurrency else {}))
    finally:
        if cache is not None:
            cache.close()
    data = json.loads(transcript_text(transcript, "json"))
    return data, transcript_text(transcript, "text")


def do_frames(args: argparse.Namespace, work: _Work) -> tuple[dict, str, list]:
    from mcp.types import ImageContent

    from ._cli.configs import sampling_config
    from .pipeline import extract_frames

    with tempfile.TemporaryDirectory(prefix="videovision-mcp-") as out:
        result = extract_frames(args.video, sampling_config(args), out, progress=work.sampling())
        manifest = json.loads(result.manifest.read_text())
        images = [ImageContent(type="image", data=base64.b64encode((result.out_dir / s).read_bytes()).decode("ascii"),
                               mime_type="image/jpeg" if s.lower().endswith((".jpg", ".jpeg")) else "image/png")
                  for s in result.contact_sheets]
    from .timecode import time_label

    times = ", ".join(time_label(f["time"]) for f in manifest.get("frames", []))
    n = len(result.frames)
    return manifest, f"{n} frame{'' if n == 1 else 's'} on {len(images)} contact sheet(s): {times}", images


def do_search(index: str, query: str, limit: int) -> tuple[dict, str]:
    from .render import one_line
    from .search import render_hit, search

    hits = search(index, query, limit)
    text = "\n".join(one_line(render_hit(h)) for h in hits) or f"no match for {query!r}"
    return document(hits=[h.to_json() for h in hits]), text


def do_clip(video: str, at: float, out: str, end: float | None, before: float | None, after: float | None,
            mode: str) -> tuple[dict, str]:
    from .clips import clip_at

    kwargs = {k: v for k, v in (("before", before), ("after", after)) if v is not None}
    clip = clip_at(video, at, out, end=end, mode=mode, **kwargs)  # type: ignore[arg-type]
    how = "copied" if clip.method == "copy" else "re-encoded"
    return document(**clip.to_json()), (f"{how} {clip.start:.3f}-{clip.end:.3f} s "
                                                      f"({clip.duration:.2f} s) -> {clip.path}")


def locals_of(model: str | None, max_frames: int | None, max_cost: float | None, detail: str | None,
              strategy: str | None, start: str | None, end: str | None, speech: str | None,
              language: str | None = None) -> dict[str, Any]:
    """The common task arguments of a tool call, by name."""
    return {"model": model, "max_frames": max_frames, "max_cost": max_cost, "detail": detail, "strategy": strategy,
            "start": start, "end": end, "speech": speech, "language": language}
