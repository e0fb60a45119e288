"""The commands: name, help, an example, positional arguments, exit codes and the function that
runs each (``module:function`` in this package, imported when the command runs). Their options
come from the options table (:mod:`.options`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..tasks import TASKS
from .helptext import BATCH_EXIT_CODES

_VIDEO = ("video", {"help": "video file (any container/codec FFmpeg reads) or an http(s) URL (downloaded once "
                            "into the cache; user:password@ becomes HTTP Basic authentication, never shown)"})


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    example: str
    func: str
    """``module:function`` in :mod:`videovision._cli`."""
    errors: str
    """The kind of failures it can have (:data:`.helptext._BY_KIND`)."""
    positionals: tuple[tuple[str, dict[str, Any]], ...] = ()
    extra_codes: tuple[tuple[int, str], ...] = ()


def _task_command(task) -> Command:
    """The command of a task (``videovision summarize``): its help, example and arguments are the task's."""
    video = ("video", {"help": task.video_help}) if task.video_help else _VIDEO
    return Command(task.name, task.help, task.description, task.example, task.command, task.errors,
                   (video, *task.arguments))


TASK_COMMANDS: tuple[Command, ...] = tuple(_task_command(t) for t in TASKS.values())
"""One command per task (:data:`videovision.tasks.TASKS`), in the tasks' order."""

COMMANDS: tuple[Command, ...] = (
    Command("frames", "extract keyframes with exact timestamps",
            "Extract keyframes with exact presentation timestamps into a folder (JPEGs named by time, a contact "
            "sheet, frames.json).", "videovision frames talk.mp4 --out frames/ --strategy scenes",
            "tasks:cmd_frames", "plan", (_VIDEO,)),
    Command("plan", "show what would be sent and what it costs (offline)",
            "Offline: sample, pack and price a request (the defaults are summarize's).",
            "videovision plan talk.mp4 -m gpt-4o --max-frames 12 --request-json body.json",
            "tasks:cmd_plan", "plan", (_VIDEO,)),
    *TASK_COMMANDS,
    Command("log", "list recent requests (tokens, cost, cache hits)",
            "List recent paid calls, newest first, from the run log in the cache: chat requests, transcription "
            "chunks, cost, cache hits.", "videovision log --limit 50", "tasks:cmd_log", "cache"),
    Command("chat", "a conversation about a video (follow-up questions reuse the frames)",
            "Ask questions about a video, one after another: the frames and speech are sent first, identically on "
            "every turn (a provider's prompt cache bills them at its cached rate), then the conversation so far. On "
            "a terminal: a prompt with line editing and history; from a pipe: one question per line. /help, /cost, "
            "/save FILE and /quit are handled locally.", "videovision chat talk.mp4 --profile ollama",
            "followup:cmd_chat", "send", (_VIDEO,)),
    Command("clip", "cut a short MP4 clip around a moment (plays in browsers)",
            "Write the part of a video around a moment as an MP4: packets copied when the start falls on a keyframe, "
            "else the short clip re-encoded (H.264/AAC, upright, square pixels). Never a splice of both.",
            "videovision clip talk.mp4 --at 1:40 --end 2:10 -o demo.mp4", "followup:cmd_clip", "video", (_VIDEO,)),
    Command("report", "write the HTML report of an earlier run (from the cache, nothing sent)",
            "Rebuild a summarize/ask/chapters run from the cache (its frames and replies) and write its HTML report. "
            "RUN is a run id from `videovision log` (its last 8 characters are enough); without it, the latest run.",
            "videovision report 3f9c2a1b -o talk.html", "followup:cmd_report", "plan",
            (("run", {"nargs": "?", "default": None, "metavar": "RUN", "help": "a run id (default: the latest run)"}),)),
    Command("batch", "run a task over many videos (folders, globs): resumable, with a search index",
            "Summarize (or chapter, transcribe, ask) every video found in the inputs: one result per video in --out, "
            "index.jsonl, and search.db for `videovision search`. A re-run skips what is done and retries failures.",
            "videovision batch lectures/ --out out/ --task chapters --report", "library:cmd_batch", "send",
            (("inputs", {"nargs": "+", "metavar": "INPUT", "help": "video files, folders (searched recursively) or "
                                                                   "globs"}),), BATCH_EXIT_CODES),
    Command("search", "search what a batch produced (summaries, chapters, answers, speech)",
            "Full-text search (SQLite FTS5, ranked by bm25) over a batch's results and speech, each hit with its "
            "video and time.", 'videovision search "gradient clipping" --index out/', "library:cmd_search", "search",
            (("query", {"help": 'words, "a phrase", OR, NOT, prefix*'}),)),
    Command("models", "list the models videovision knows: API, image tokens, detail modes, context, prices",
            "List every model in the table (and those a --models-file adds): the API that serves it, how it counts "
            "image tokens and whether OpenAI documents that rule, its detail modes, context window, and prices "
            "(input, cached reads, cache writes, output, the long-context tier) with their source and date.",
            "videovision models --json", "tasks:cmd_models", "offline"),
    Command("config", "show the effective settings and where each came from",
            "Show the settings a command would use (model, endpoint, provider, transcription, api, cache) and where "
            "each came from: a flag, the environment, a profile of the config file, or the default. Keys are never "
            "shown, only whether one is set and where.", "videovision config --profile ollama",
            "profiles:cmd_config", "offline"),
)
