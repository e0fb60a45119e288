"""Many videos over the same pipeline: ``videovision batch INPUT... --out DIR``.

    inputs.py     the videos (files, folders, globs) and their unique output names
    outputs.py    the output folder: results, reports, ``index.jsonl``, the search index; the summary
    keys.py       a video's resume key
    worker.py     one job in a worker process (plan or transcribe), shared by the process pool and Ray
    executors.py  the process pool (fork server) and the choice of executor
    scaleout.py   Ray tasks as an executor
    options.py    BatchOptions: how a batch runs (task, endpoint, cache, jobs, concurrency, cap, executor)
    runner.py     the loop: run_batch, and plan_batch (a dry run)

    find_videos   files, folders (recursive, video extensions) and globs -> [VideoInput] with unique stems
    run_batch     per video: make_plan in a worker process (``jobs`` at a time), then run_plan in this
                  process with requests in flight bounded across all videos (``concurrency``)

What a batch writes into ``out_dir``:

    <stem>.json    the video's result (``TaskResult.to_json()`` plus ``video``; the transcript JSON for
                   task ``transcript``), written atomically
    <stem>.html    with ``report``: its HTML report (:mod:`videovision.report`), written first
    index.jsonl    one row per video: {"video", "stem", "status": "ok"|"failed"|"skipped", "result",
                   "error", "tokens", "cost_usd", "seconds", "key"}, rewritten atomically after
                   each video (a Ctrl-C keeps every finished video; never a half line)
    search.db      the SQLite FTS5 index of :mod:`videovision.search`, updated after each video

Resuming: a video whose ``key`` (content digest + task + options + videovision version + endpoint)
matches its row from an earlier run, and whose result file is still there, is ``skipped``
without decoding or sending anything; a failed video, a changed one or a missing result runs again.
``total_max_cost`` skips (``error``: "total cost cap reached") a video whose estimate would take the
spend so far, plus the estimates of the videos in flight, past the cap; it runs on a later batch.

Exit codes for the CLI (:attr:`BatchSummary.exit_code`): 0 every video ok or skipped, 8 some
failed (partial failure), 7 every video failed.

Worker processes come from a fork server with videovision preloaded (``spawn`` where there is
none; never a fork of this process, which holds threads and SQLite connections); each is given
this process's environment, log level and model table. The plan travels back pickled (measured on
samples/demo.mp4: 0.76 MB, pickled in < 1 ms, against 90 ms to make the plan again from the shared
frame cache); the frames are also stored in the cache (SQLite WAL, shared by processes), so a
later run of the video reuses them. Requests are sent from this process only, ``concurrency`` at
a time across all videos; plans made but not yet sent are at most ``jobs + concurrency``.
"""

from .executors import EXECUTORS, ExecutorName, available_cpus, check_executor
from .inputs import VIDEO_EXTENSIONS, VideoInput, find_videos
from .keys import video_key
from .options import BatchOptions
from .outputs import (
    EXIT_ALL_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    INDEX_FILENAME,
    BatchProgress,
    BatchProgressCallback,
    BatchSummary,
    read_index,
    write_atomic,
)
from .runner import BATCH_TASKS, COST_CAP_REACHED, WAITING, PlannedVideo, plan_batch, run_batch

__all__ = [
    "BATCH_TASKS", "COST_CAP_REACHED", "EXECUTORS", "EXIT_ALL_FAILED", "EXIT_OK", "EXIT_PARTIAL", "INDEX_FILENAME",
    "VIDEO_EXTENSIONS", "WAITING", "BatchOptions", "BatchProgress", "BatchProgressCallback", "BatchSummary", "ExecutorName",
    "PlannedVideo", "VideoInput", "available_cpus", "check_executor", "find_videos", "plan_batch", "read_index",
    "run_batch", "video_key", "write_atomic",
]
