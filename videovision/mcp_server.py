"""``videovision mcp``: the library as an MCP server (the official SDK's ``MCPServer``), for agents.

Tools: ``plan`` (offline: frames, tokens, cost), ``summarize``, ``ask`` (moments with checked
times), ``chapters``, ``transcript``, ``frames`` (a contact sheet as image content), ``search``
(over a batch index) and ``clip``. Each result carries the JSON document the CLI's ``--json``
prints (with ``schema_version``) as structured content, plus a short text.

The tools' options become the CLI's own options (:func:`videovision._cli.build_parser`), so every
default and check is the command line's; then one library function runs, in a worker thread
(progress is sent while it runs; a cancelled call is abandoned, and a reply in flight still lands
in the cache). Every call is bounded: ``max_cost`` (default ``--max-cost``) is the plan's budget,
and a plan estimated above it is refused. Files are read and written only under the allowed roots
(``--root``, symlinks resolved). A :class:`~videovision.errors.VideovisionError` is a tool error
(``isError``) with its one-line message, never a crash of the server; the API key is scrubbed
from every result and message.

Needs ``pip install 'videovision[mcp]'`` (``mcp>=2``).
"""

import argparse
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from . import defaults
from ._version import __version__
from .errors import ConfigError
from .mcp_tools import (
    DEFAULT_MAX_COST,
    INSTRUCTIONS,
    Roots,
    _call,
    _task_options,
    _Work,
    cli_args,
    do_clip,
    do_frames,
    do_plan,
    do_search,
    do_task,
    do_transcript,
    locals_of,
)
from .tasks import task_named, task_names

__all__ = ["DEFAULT_MAX_COST", "add_mcp_parser", "build_server", "cli_args", "cmd_mcp"]


# --------------------------------------------------------------------------- the server
def build_server(roots: Sequence[str | os.PathLike[str]] = (), max_cost: float = DEFAULT_MAX_COST,
                 log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING") -> Any:
    """The ``MCPServer`` with videovision's tools, reading files under ``roots`` (default: the
    working directory) and spending at most ``max_cost`` USD a call unless a call says less or more."""
    from mcp.server import MCPServer
    from mcp.server.mcpserver import Context
    from mcp.types import CallToolResult, ToolAnnotations
    from pydantic import Field

    from .sampling.strategies import strategy_names
    from .timecode import parse_time
    from .types import Detail, SpeechMode, Style

    allowed = Roots(roots)
    server_max_cost = max_cost
    server = MCPServer("videovision", version=__version__, instructions=INSTRUCTIONS, log_level=log_level)
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    paid = ToolAnnotations(read_only_hint=True, open_world_hint=True)

    Video = Annotated[str, Field(description="the video file (absolute, or relative to the first allowed root)")]
    Model = Annotated[str | None, Field(description=f"model name (default $VIDEOVISION_MODEL or {defaults.MODEL})")]
    MaxFrames = Annotated[int | None, Field(ge=1, description=f"send at most N frames (default {defaults.MAX_FRAMES})")]
    MaxCost = Annotated[float | None, Field(gt=0, description=f"USD cap on this call (default ${max_cost:g}, the "
                                                                 "server's --max-cost)")]
    Start = Annotated[str | None, Field(description="start time: seconds or [HH:]MM:SS[.mmm]")]
    End = Annotated[str | None, Field(description="end time: seconds or [HH:]MM:SS[.mmm]")]
    Speech = Annotated[SpeechMode | None, Field(description="where speech comes from (default auto: subtitles, "
                                                            "else transcription when there is audio)")]
    DetailArg = Annotated[Detail | None, Field(description=f"image detail (default {defaults.DETAIL})")]
    Language = Annotated[str | None, Field(description="answer in this language")]
    if TYPE_CHECKING:
        PlanTask: TypeAlias = str
        Strategy: TypeAlias = str
    else:  # the tasks sent through a plan (videovision/tasks) and the strategies found, as enums in the schemas
        PlanTask = Literal[task_names(plans=True)]
        Strategy = Literal[strategy_names()]
    StrategyArg = Annotated[Strategy | None, Field(description="how frames are picked (default "
                                                              f"{defaults.TASK_STRATEGY})")]

    def cost_of(given: float | None) -> float:
        return server_max_cost if given is None else given

    def task_args(command: str, video: str, extra: Sequence[str], a: dict[str, Any]) -> tuple[argparse.Namespace, float]:
        cap = cost_of(a.get("max_cost"))
        args = cli_args(command, _task_options({**a, "max_cost": cap}), [allowed.existing(video), *extra])
        return args, cap

    @server.tool(annotations=read_only)
    async def plan(video: Video, task: Annotated[PlanTask, Field(
                       description="the task to plan")] = "summarize",
                   questions: Annotated[list[str] | None, Field(description="task ask: the questions")] = None,
                   model: Model = None, max_frames: MaxFrames = None, max_cost: MaxCost = None,
                   detail: DetailArg = None, strategy: StrategyArg = None, start: Start = None, end: End = None,
                   speech: Speech = None, ctx: Context | None = None) -> CallToolResult:
        """Offline and free: sample and pack the video and price the request(s) a task would send —
        the frames (each with its time), image and text tokens, and the estimated cost (USD, an upper
        bound). Nothing leaves the machine. Call this first to see the cost."""
        def work(w: _Work) -> tuple[dict, str]:
            needs = task_named(task, plans=True).needs_questions
            qs = tuple(questions or ()) if needs else ()
            if needs and not qs:
                raise ConfigError(f"questions: task {task} needs at least one question")
            args, cap = task_args(task, video, qs, locals_of(model, max_frames, max_cost, detail, strategy,
                                                             start, end, speech))
            return do_plan(args, task, qs, cap, w)
        return await _call(ctx, work)

    @server.tool(annotations=paid)
    async def summarize(video: Video, style: Annotated[Style | None, Field(description=f"(default "
                                                                               f"{defaults.STYLE})")] = None,
                        model: Model = None, max_frames: MaxFrames = None, max_cost: MaxCost = None,
                        detail: DetailArg = None, strategy: StrategyArg = None, start: Start = None,
                        end: End = None, speech: Speech = None, language: Language = None,
                        ctx: Context | None = None) -> CallToolResult:
        """Summarize a video: its frames (and speech) sent to the vision model; the summary cites
        times, each checked against the frames sent. Costs at most max_cost."""
        def work(w: _Work) -> tuple[dict, str]:
            a = locals_of(model, max_frames, max_cost, detail, strategy, start, end, speech, language)
            args, cap = task_args("summarize", video, (), {**a, "style": style})
            return do_task(args, "summarize", (), cap, w)
        return await _call(ctx, work)

    @server.tool(annotations=paid)
    async def ask(video: Video, questions: Annotated[list[str], Field(min_length=1, description="the questions")],
                  refine: Annotated[bool, Field(description="a second, dense look at each cited moment for a "
                                                            "frame-exact time (one request each)")] = True,
                  model: Model = None, max_frames: MaxFrames = None, max_cost: MaxCost = None,
                  detail: DetailArg = None, strategy: StrategyArg = None, start: Start = None, end: End = None,
                  speech: Speech = None, language: Language = None, ctx: Context | None = None) -> CallToolResult:
        """Ask questions about a video. Each answer comes with moments: times checked against the
        frames sent (`supported`, `frame_time`); invented times are rejected. Costs at most max_cost."""
        def work(w: _Work) -> tuple[dict, str]:
            a = locals_of(model, max_frames, max_cost, detail, strategy, start, end, speech, language)
            args, cap = task_args("ask", video, tuple(questions), {**a, "refine": refine})
            return do_task(args, "ask", tuple(questions), cap, w)
        return await _call(ctx, work)

    @server.tool(annotations=paid)
    async def chapters(video: Video, model: Model = None, max_frames: MaxFrames = None, max_cost: MaxCost = None,
                       detail: DetailArg = None, strategy: StrategyArg = None, start: Start = None, end: End = None,
                       speech: Speech = None, language: Language = None,
                       ctx: Context | None = None) -> CallToolResult:
        """Split a video into chapters (start, end, title), starts snapped to scene cuts. Costs at most
        max_cost."""
        def work(w: _Work) -> tuple[dict, str]:
            a = locals_of(model, max_frames, max_cost, detail, strategy, start, end, speech, language)
            args, cap = task_args("chapters", video, (), a)
            return do_task(args, "chapters", (), cap, w)
        return await _call(ctx, work)

    @server.tool(annotations=paid)
    async def transcript(video: Video, speech: Speech = None,
                         speech_language: Annotated[str | None, Field(description="language hint for "
                                                                                  "transcription, e.g. en")] = None,
                         max_cost: MaxCost = None, ctx: Context | None = None) -> CallToolResult:
        """The speech of a video with exact times: its subtitles, a sidecar file next to it, or its audio
        sent to the transcription endpoint (refused when that would cost more than max_cost)."""
        def work(w: _Work) -> tuple[dict, str]:
            args = cli_args("transcript", {"--speech": speech, "--speech-language": speech_language},
                            [allowed.existing(video)])
            return do_transcript(args, cost_of(max_cost), w)
        return await _call(ctx, work)

    @server.tool(annotations=read_only)
    async def frames(video: Video, strategy: Annotated[Strategy | None, Field(
                         description="how frames are picked (default scenes: one per shot)")] = None,
                     count: Annotated[int | None, Field(ge=1, le=64, description="uniform: number of frames")] = None,
                     every: Annotated[float | None, Field(gt=0, description="interval: seconds between frames")] = None,
                     start: Start = None, end: End = None, ctx: Context | None = None) -> CallToolResult:
        """Offline: sample frames with exact timestamps and return the contact sheet(s) as images
        (each frame labelled with its time) plus the frames' manifest."""
        def work(w: _Work) -> tuple[dict, str, list]:
            args = cli_args("frames", {"--strategy": strategy, "--count": count, "--every": every,
                                       "--start": start, "--end": end, "--out": "-"}, [allowed.existing(video)])
            return do_frames(args, w)
        return await _call(ctx, work)

    @server.tool(annotations=read_only)
    async def search(index: Annotated[str, Field(description="a batch's --out folder (with search.db)")],
                     query: Annotated[str, Field(description='words, "a phrase", OR, NOT, prefix*')],
                     limit: Annotated[int, Field(ge=1, le=200, description="hits at most")] = defaults.SEARCH_LIMIT,
                     ctx: Context | None = None) -> CallToolResult:
        """Full-text search over what `videovision batch` produced (summaries, chapters, answers,
        speech): each hit with its video and time. Offline."""
        def work(w: _Work) -> tuple[dict, str]:
            return do_search(allowed.existing(index, "index"), query, limit)
        return await _call(ctx, work)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
    async def clip(video: Video, at: Annotated[str, Field(description="the moment: seconds or [HH:]MM:SS[.mmm]")],
                   end: Annotated[str | None, Field(description="the end of a range (optional)")] = None,
                   output: Annotated[str | None, Field(description="the MP4 to write, under an allowed root "
                                                                   "(default: clip-<time>.mp4 next to the video)")] = None,
                   before: Annotated[float | None, Field(ge=0, description="seconds before the moment (default "
                                                                           f"{defaults.CLIP_BEFORE:g})")] = None,
                   after: Annotated[float | None, Field(ge=0, description="seconds after the moment or range "
                                                                          f"(default {defaults.CLIP_AFTER:g})")] = None,
                   mode: Annotated[Literal["auto", "copy", "encode"], Field(
                       description="auto copies when the cut falls on a keyframe, else re-encodes")] = "auto",
                   ctx: Context | None = None) -> CallToolResult:
        """Offline: cut the moment out of the video as an MP4 (stream copy when possible) and return
        where it was written."""
        def work(w: _Work) -> tuple[dict, str]:
            from .clips import clip_name

            source = allowed.existing(video)
            t, stop = parse_time(at), (parse_time(end) if end is not None else None)
            target = allowed.resolve(output or os.path.join(os.path.dirname(source), clip_name(t, stop)), "output")
            return do_clip(source, t, target, stop, before, after, mode)
        return await _call(ctx, work)

    return server


# --------------------------------------------------------------------------- command line
def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: give HOST:PORT, e.g. 127.0.0.1:8765")
    return host.strip("[]") or "127.0.0.1", int(port)


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        import mcp.server  # noqa: F401
    except ImportError:
        raise ConfigError("the MCP server needs the mcp package: pip install 'videovision[mcp]'") from None
    import logging

    logging.getLogger("videovision").propagate = False  # its own one-line handler (cli.py); not twice
    server = build_server(args.root or [os.getcwd()], args.max_cost,
                          log_level="INFO" if getattr(args, "verbose", 0) else "WARNING")
    if args.http is None:
        server.run("stdio")
    else:
        host, port = args.http
        server.run("streamable-http", host=host, port=port)
    return 0


def add_mcp_parser(sub: Any) -> None:
    from ._cli import positive_money as _positive_money
    from ._cli import verbose_parent as _verbose_parent

    p = sub.add_parser("mcp", help="serve the tools to agents over MCP (stdio; streamable HTTP with --http)",
                       parents=[_verbose_parent()],
                       description="An MCP server (Model Context Protocol) with the tools plan, summarize, ask, "
                                   "chapters, transcript, frames, search and clip. Needs pip install "
                                   "'videovision[mcp]'. The endpoint and key come from the environment "
                                   "(OPENAI_BASE_URL, OPENAI_API_KEY), as for the other commands.")
    p.add_argument("--root", action="append", metavar="DIR",
                   help="a folder whose files the tools may read and write (repeatable; default: the working "
                        "directory); symlinks are resolved, a path outside is refused")
    p.add_argument("--max-cost", type=_positive_money, default=DEFAULT_MAX_COST, metavar="USD",
                   help=f"the most one tool call may spend unless the call gives its own max_cost (default "
                        f"${DEFAULT_MAX_COST:g})")
    p.add_argument("--http", type=_host_port, default=None, metavar="HOST:PORT",
                   help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio")
    p.set_defaults(func=cmd_mcp)

