"""Commands that follow an answer: ``chat`` (follow-up questions over the same frames), ``clip``
(the moment as an MP4), ``report`` (a run's HTML page rebuilt from the cache). Part of the thin
command line in :mod:`videovision.cli`: parse options, call one library function, print."""

from __future__ import annotations

import argparse
import os
import sys
from typing import get_args

from .. import defaults
from .app import (
    PROG,
    RequestStatus,
    _check_writable,
    _client_config,
    _finite_float,
    _given,
    _one_line,
    _open_cache,
    _plan,
    _print_plan,
    _read_cache,
    _refuse_input,
    _run_task,
    _time_arg,
    _verbose_parent,
    _write,
    _write_report,
    add_pack_options,
    add_request_options,
    add_sampling_options,
    add_speech_options,
    build_parser,
    fetch_remote,
)
from ..console import terminal_text, write_out
from ..errors import ConfigError
from ..types import ClipMode


def cmd_clip(args: argparse.Namespace) -> int:
    from ..clips import clip_at
    from ..render import dumps
    from ..timecode import format_time

    if args.end is not None and not args.end > args.at:
        raise ConfigError(f"--end must be after --at ({args.at:g} s), got {args.end:g} s")
    padding = {"before": 0.0, "after": 0.0} if args.end is not None else {}  # --at .. --end is the range itself
    clip = clip_at(args.video, args.at, args.output, end=args.end, mode=args.mode,
                   **{**padding, **_given(args, before="before", after="after")})
    if args.json:
        sys.stdout.write(dumps({"schema_version": 1, **clip.to_json()}))
    else:
        how = "copied" if clip.method == "copy" else "re-encoded"
        print(f"{how} {format_time(clip.start, precision=3)}-{format_time(clip.end, precision=3)} "
              f"({clip.duration:.2f} s) -> {clip.path}", file=sys.stderr)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """A conversation: the frames once, then a question per line (a prompt with line editing on a
    terminal; the lines of a pipe otherwise)."""
    from ..chat import Conversation
    from ..client import OpenAIChatClient
    from ..console import questions
    from ..errormap import stops_run
    from ..errors import RequestError
    cache = _open_cache(args)
    failed = 0
    try:
        _, plan = _plan(args, "summarize", cache=cache, transcribe=not args.dry_run)
        if args.dry_run:
            _print_plan(plan, args.json)
            return 0
        interactive = sys.stdin.isatty()
        with OpenAIChatClient(_client_config(args)) as client:
            status = RequestStatus()
            conversation = Conversation(plan, client, cache=cache, progress=status)
            status.close()
            if interactive:
                heard = f" + {len(plan.speech.segments)} spoken lines" if plan.speech.segments else ""
                print(f"chat about {plan.video.path}: {len(plan.sent_times)} frames{heard}, {plan.image_tokens:,} image "
                      f"tokens a question (billed at the cached rate after the first where the provider caches "
                      f"prompts). /help lists the commands; Ctrl-D or /quit ends.", file=sys.stderr)
            history = cache.directory / "chat_history" if cache is not None else None
            for question in questions(history=history):
                if question.startswith("/") and not question.startswith("//"):
                    _chat_command(args, conversation, question)
                    continue
                question = question[1:] if question.startswith("//") else question
                status = RequestStatus()
                conversation.asker.progress = status
                try:
                    turn = conversation.ask(question)
                except RequestError as err:
                    if stops_run(err):  # a wrong key or model: every further question would fail too
                        raise
                    failed += 1  # the next question still gets its answer (exit 7 at the end)
                    print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
                    continue
                finally:
                    status.close()
                _print_turn(turn, as_json=args.json, markdown=args.markdown, interactive=interactive)
            for warning in conversation.warnings:
                print(f"{PROG}: warning: {terminal_text(warning)}", file=sys.stderr)
            n, u = len(conversation.turns), conversation.usage
            print(f"{plan.model}: {n} question{'' if n == 1 else 's'}, {u.prompt_tokens:,}+{u.completion_tokens:,} "
                  f"tokens ({u.cached_tokens:,} from the provider's prompt cache), ~${conversation.cost_usd:.4f}",
                  file=sys.stderr)
            if failed or (args.strict and conversation.warnings):
                return 7
            return 0
    finally:
        if cache is not None:
            cache.close()


CHAT_COMMANDS = (("/help", "these commands"), ("/cost", "tokens and cost so far"),
                 ("/save FILE", "write the conversation to FILE as Markdown"), ("/quit", "end the chat (or Ctrl-D)"))
"""Commands a chat handles itself: never sent to the model. A line starting with ``//`` is sent with one ``/``."""


def _chat_command(args: argparse.Namespace, conversation, line: str) -> None:
    """A chat command, handled here (nothing is sent); a mistake costs one line."""
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if name == "/help":
        width = max(len(c) for c, _ in CHAT_COMMANDS)
        for command, what in CHAT_COMMANDS:
            print(f"  {command:<{width}}  {what}", file=sys.stderr)
        print("  anything else is a question (start it with // to send a line beginning with /)", file=sys.stderr)
    elif name == "/cost":
        n, u = len(conversation.turns), conversation.usage
        print(f"{conversation.plan.model}: {n} question{'' if n == 1 else 's'}, {u.prompt_tokens:,}+"
              f"{u.completion_tokens:,} tokens ({u.cached_tokens:,} from the provider's prompt cache), "
              f"~${conversation.cost_usd:.4f}", file=sys.stderr)
    elif name == "/save":
        if not rest:
            print(f"{PROG}: error: /save needs a file name: /save chat.md", file=sys.stderr)
            return
        try:
            _check_writable(rest, "/save", args)
            _write(rest, "/save", conversation.markdown())
        except ConfigError as err:
            print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
            return
        n = len(conversation.turns)
        print(f"wrote {n} question{'' if n == 1 else 's'} and answer{'' if n == 1 else 's'} to {rest}",
              file=sys.stderr)
    else:
        print(terminal_text(f"{PROG}: unknown command {name}: /help lists the commands (nothing was sent)"),
              file=sys.stderr)


def _print_turn(turn, *, as_json: bool, markdown: bool, interactive: bool) -> None:
    """A chat answer on stdout (a JSON line with ``--json``), its tokens and cost on stderr."""
    import json

    from .app import print_notes
    from ..render import answer_json, answer_notes, answers_text

    u = turn.usage
    if as_json:
        row = {"schema_version": 1, **answer_json(turn.answer), "cost_usd": round(turn.cost_usd, 6),
               "usage": {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                         "cached_tokens": u.cached_tokens}, "from_cache": turn.from_cache}
        write_out(json.dumps(row, ensure_ascii=False) + "\n", as_json=True)
    else:
        write_out(answers_text([turn.answer], markdown=markdown, notes=False) + ("\n" if interactive else ""))
        print_notes(answer_notes([turn.answer]))
    sys.stdout.flush()
    where = " (from the cache, not paid again)" if turn.from_cache else (
        f" ({u.cached_tokens:,} from the provider's prompt cache)" if u.cached_tokens else "")
    print(f"  {u.prompt_tokens:,}+{u.completion_tokens:,} tokens{where}, ~${turn.cost_usd:.4f}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild a run's result from the cache (the same requests, every reply found there) and write
    its HTML report; nothing is sent."""
    record, task = _read_cache(args, lambda cache: (cache.runs.get(args.run), _logged_task(cache, args.run)))
    if record is None and task is not None:
        raise ConfigError(f"run {args.run!r} is a {task} run: report rebuilds summarize, ask and chapters runs only"
                          + (" (`chat --json` prints each answer with its moments)" if task == "chat" else ""))
    if record is None:
        raise ConfigError(f"no run {args.run!r} in the cache (see `videovision log`)" if args.run else
                          "no finished summarize/ask/chapters run in the cache yet")
    out = os.path.abspath(args.output or os.path.splitext(os.path.basename(record.video or "run"))[0] + ".html")
    _check_writable(out, "--output")
    replayed = build_parser().parse_args(list(record.argv))
    replayed.argv = list(record.argv)
    fetch_remote(replayed)  # a run on a URL reads the same download
    if args.video:  # the file moved since the run
        replayed.video = os.path.abspath(args.video)
    if args.cache_dir:
        replayed.cache_dir = args.cache_dir
    here = os.getcwd()
    try:
        os.chdir(record.cwd)  # the run's relative paths (video, --subtitles ...) are relative to it
    except OSError as err:
        raise ConfigError(f"the run's folder {record.cwd} is gone ({err.strerror})") from err
    try:
        _refuse_input(replayed, out, "--output")
        result, _ = _run_task(replayed, replayed.command, tuple(getattr(replayed, "questions", ()) or ()),
                              replay=record.endpoint)
        assert result is not None
        _write_report(result, replayed.video, out)
    finally:
        os.chdir(here)
    return 0


def _logged_task(cache, run: str | None) -> str | None:
    """The task the run log names for a run id (or its end, as ``log`` shows it), or None."""
    if not run:
        return None
    for entry in cache.log.recent(10_000):
        if entry.run_id.endswith(run):
            return str(entry.task)
    return None


def add_followup_parsers(sub) -> None:
    p = sub.add_parser("chat", help="a conversation about a video (follow-up questions reuse the frames)",
                       parents=[_verbose_parent()],
                       description="Ask questions about a video, one after another: the frames and speech are sent "
                                   "first, identically on every turn (a provider's prompt cache bills them at its "
                                   "cached rate), then the conversation so far. On a terminal: a prompt with line "
                                   "editing and history; from a pipe: one question per line.")
    p.add_argument("video", help="video file (any container/codec FFmpeg reads)")
    add_sampling_options(p, default_strategy=defaults.TASK_STRATEGY)
    add_pack_options(p)
    add_speech_options(p)
    add_request_options(p)
    p.add_argument("--markdown", action="store_true", help="Markdown output")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("clip", help="cut a short MP4 clip around a moment (plays in browsers)",
                       parents=[_verbose_parent()],
                       description="Write the part of a video around a moment as an MP4: packets copied when the "
                                   "start falls on a keyframe, else the short clip re-encoded (H.264/AAC, upright, "
                                   "square pixels). Never a splice of both.")
    p.add_argument("video", help="video file (any container/codec FFmpeg reads)")
    p.add_argument("--at", type=_time_arg, required=True, metavar="T", help="the moment (seconds or [HH:]MM:SS[.mmm])")
    p.add_argument("--end", type=_time_arg, default=None, metavar="T",
                   help="end of a range: the clip is --at to --end (after --at; padded only by --before/--after given)")
    p.add_argument("--before", type=_finite_float, default=None, metavar="SECONDS",
                   help=f"seconds before the moment (default {defaults.CLIP_BEFORE:g}; 0 with --end)")
    p.add_argument("--after", type=_finite_float, default=None, metavar="SECONDS",
                   help=f"seconds after the moment or range (default {defaults.CLIP_AFTER:g}; 0 with --end)")
    p.add_argument("--mode", choices=get_args(ClipMode), default="auto",
                   help="auto: copy when the cut allows it and browsers can play the codecs, else encode")
    p.add_argument("--output", "-o", required=True, metavar="OUT.mp4")
    p.add_argument("--json", action="store_true", help="print the clip's facts as JSON")
    p.set_defaults(func=cmd_clip)

    p = sub.add_parser("report", help="write the HTML report of an earlier run (from the cache, nothing sent)",
                       parents=[_verbose_parent()],
                       description="Rebuild a summarize/ask/chapters run from the cache (its frames and replies) and "
                                   "write its HTML report. RUN is a run id from `videovision log` (its last 8 "
                                   "characters are enough); without it, the latest run.")
    p.add_argument("run", nargs="?", default=None, metavar="RUN")
    p.add_argument("--output", "-o", default=None, metavar="FILE.html", help="default: VIDEO_NAME.html here")
    p.add_argument("--video", default=None, metavar="PATH", help="the video, when it moved since the run")
    p.add_argument("--cache-dir", default=None, help="cache directory (default: user cache dir)")
    p.set_defaults(func=cmd_report)

