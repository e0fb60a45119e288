"""Commands that follow an answer: ``chat`` (follow-up questions over the same frames), ``clip``
(the moment as an MP4), ``report`` (a run's HTML page rebuilt from the cache). Part of the thin
command line in :mod:`videovision.cli`: parse options, call one library function, print."""

from __future__ import annotations

import argparse
import os
import sys
import threading

from ..console import terminal_text, write_out
from ..errors import ConfigError
from .configs import client_config
from .options import given
from .outputs import PROG, check_writable, one_line, open_cache, print_notes, read_cache, refuse_input, write_output
from .tasks import RequestStatus, make_task_plan, print_plan, run_task, shown_video


def cmd_clip(args: argparse.Namespace) -> int:
    from ..clips import clip_at
    from ..render.documents import document, dumps
    from ..timecode import format_time

    if args.end is not None and not args.end > args.at:
        raise ConfigError(f"--end must be after --at ({args.at:g} s), got {args.end:g} s")
    padding = {"before": 0.0, "after": 0.0} if args.end is not None else {}  # --at .. --end is the range itself
    clip = clip_at(args.video, args.at, args.output, end=args.end, mode=args.mode,
                   **{**padding, **given(args, "clip")})
    if args.json:
        sys.stdout.write(dumps(document(video=shown_video(args), **clip.to_json())))
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
    from ..errors import RequestError, UsageMismatchError

    cache = open_cache(args)
    failed = 0
    try:
        _, plan = make_task_plan(args, "summarize", cache=cache, transcribe=not args.dry_run)
        if args.dry_run:
            print_plan(plan, args.json)
            return 0
        interactive = sys.stdin.isatty()
        with OpenAIChatClient(client_config(args)) as client:
            status = RequestStatus()
            conversation = Conversation(plan, client, cache=cache, progress=status)
            status.close()
            if interactive:
                heard = f" + {len(plan.speech.segments)} spoken lines" if plan.speech.segments else ""
                print(f"chat about {plan.video.path}: {len(plan.sent_times)} frames{heard}, {plan.image_tokens:,} image "
                      f"tokens a question (billed at the cached rate after the first where the provider caches "
                      f"prompts). /help lists the commands; Ctrl-D or /quit ends.", file=sys.stderr)
            history = cache.directory / "chat_history" if cache is not None else None
            cancelled: _Cancelled | None = None
            for question in questions(history=history):
                if question.startswith("/") and not question.startswith("//"):
                    _chat_command(args, conversation, question)
                    continue
                question = question[1:] if question.startswith("//") else question
                if cancelled is not None:  # the conversation goes on once the cancelled reply has landed
                    cancelled.settle(conversation)
                    cancelled = None
                status = RequestStatus()
                conversation.asker.progress = status
                try:
                    asked = _ask_cancellable(conversation, question)
                    if isinstance(asked, _Cancelled):
                        cancelled = asked
                        continue
                    turn = asked
                except RequestError as err:
                    if stops_run(err):  # a wrong key or model: every further question would fail too
                        raise
                    failed += 1  # the next question still gets its answer (exit 7 at the end)
                    print(f"{PROG}: error: {one_line(err)}", file=sys.stderr)
                    continue
                finally:
                    status.close()
                _print_turn(turn, video=plan.video.path, as_json=args.json, markdown=args.markdown, interactive=interactive)
            if cancelled is not None:
                cancelled.settle(conversation)
            for warning in conversation.warnings:
                print(f"{PROG}: warning: {terminal_text(warning)}", file=sys.stderr)
            n, u = len(conversation.turns), conversation.usage
            print(f"{plan.model}: {n} question{'' if n == 1 else 's'}, {u.prompt_tokens:,}+{u.completion_tokens:,} "
                  f"tokens ({u.cached_tokens:,} from the provider's prompt cache), ~${conversation.cost_usd:.4f}",
                  file=sys.stderr)
            if failed:
                return RequestError.exit_code
            if args.strict and conversation.warnings:
                return UsageMismatchError.exit_code
            return 0
    finally:
        if cache is not None:
            cache.close()


class _Cancelled:
    """A chat answer cancelled with Ctrl-C: its request goes on in its thread (the reply is paid
    for and lands in the cache, so asking again costs nothing), but it leaves the conversation."""

    def __init__(self, thread: threading.Thread, turns_before: int):
        self.thread, self.turns_before = thread, turns_before

    def settle(self, conversation) -> None:
        """Wait for the reply to land (a Ctrl-C here leaves the chat), then drop its turn."""
        if self.thread.is_alive():
            print("waiting for the cancelled answer to land in the cache (Ctrl-C leaves)", file=sys.stderr)
            while self.thread.is_alive():
                self.thread.join(0.2)
        del conversation.turns[self.turns_before:]


def _ask_cancellable(conversation, question: str):
    """The next turn, asked in a thread: Ctrl-C while the answer is awaited cancels it (a
    :class:`_Cancelled`) and the prompt comes back; its reply still lands in the cache."""
    box: dict = {}
    done = threading.Event()
    turns_before = len(conversation.turns)

    def run() -> None:
        try:
            box["turn"] = conversation.ask(question)
        except BaseException as err:  # handed to the chat's thread
            box["error"] = err
        finally:
            done.set()

    thread = threading.Thread(target=run, name="videovision-chat", daemon=True)
    thread.start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        conversation.asker.progress = None  # its waiting line is gone with the prompt's return
        print("cancelled (the answer is cached when it lands: ask again to see it, free); Ctrl-C again or "
              "/quit to leave", file=sys.stderr)
        return _Cancelled(thread, turns_before)
    if "error" in box:
        raise box["error"]
    return box["turn"]


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
            check_writable(rest, "/save", args)
            write_output(rest, "/save", conversation.markdown())
        except ConfigError as err:
            print(f"{PROG}: error: {one_line(err)}", file=sys.stderr)
            return
        n = len(conversation.turns)
        print(f"wrote {n} question{'' if n == 1 else 's'} and answer{'' if n == 1 else 's'} to {rest}",
              file=sys.stderr)
    else:
        print(terminal_text(f"{PROG}: unknown command {name}: /help lists the commands (nothing was sent)"),
              file=sys.stderr)


def _print_turn(turn, *, video: str, as_json: bool, markdown: bool, interactive: bool) -> None:
    """A chat answer on stdout (a JSON line with ``--json``), its tokens and cost on stderr."""
    import json

    from ..render import answer_json, answer_notes, answers_text
    from ..render.documents import document

    u = turn.usage
    if as_json:
        row = document(video=video, **answer_json(turn.answer), cost_usd=round(turn.cost_usd, 6),
                       usage={"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                              "cached_tokens": u.cached_tokens}, from_cache=turn.from_cache)
        write_out(json.dumps(row, ensure_ascii=False) + "\n", as_json=True)
    else:
        write_out(answers_text([turn.answer], markdown=markdown, notes=False) + ("\n" if interactive else ""))
        print_notes(answer_notes([turn.answer]))
    sys.stdout.flush()
    where = " (from the cache, not paid again)" if turn.from_cache else (
        f" ({u.cached_tokens:,} from the provider's prompt cache)" if u.cached_tokens else "")
    print(f"  {u.prompt_tokens:,}+{u.completion_tokens:,} tokens{where}, ~${turn.cost_usd:.4f}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild a run's result from the cache (its stored configuration: the same requests, every
    reply found there) and write its HTML report; nothing is sent."""
    from .outputs import write_report
    from .runs import replayed_args

    record, task = read_cache(args, lambda cache: (cache.runs.get(args.run), _logged_task(cache, args.run)))
    if record is None and task is not None:
        raise ConfigError(f"run {args.run!r} is a {task} run: report rebuilds summarize, ask and chapters runs only"
                          + (" (`chat --json` prints each answer with its moments)" if task == "chat" else ""))
    if record is None:
        raise ConfigError(f"no run {args.run!r} in the cache (see `videovision log`)" if args.run else
                          "no finished summarize/ask/chapters run in the cache yet")
    out = os.path.abspath(args.output or os.path.splitext(os.path.basename(record.video or "run"))[0] + ".html")
    check_writable(out, "--output")
    replayed = replayed_args(record, video=os.path.abspath(args.video) if args.video else None,
                             cache_dir=args.cache_dir)
    refuse_input(replayed, out, "--output")
    result, _ = run_task(replayed, record.task, tuple(replayed.questions), replay=record.endpoint)
    assert result is not None
    write_report(result, replayed.video, out, url=getattr(replayed, "video_url", None))
    return 0


def _logged_task(cache, run: str | None) -> str | None:
    """The task the run log names for a run id (or its end, as ``log`` shows it), or None."""
    if not run:
        return None
    for entry in cache.log.recent(10_000):
        if entry.run_id.endswith(run):
            return str(entry.task)
    return None
