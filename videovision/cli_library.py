"""Commands over whole libraries: ``batch`` (a task over folders of videos, resumable, in worker
processes) and ``search`` (what a batch produced, by SQLite FTS5). Part of the thin command line
in :mod:`videovision.cli`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import get_args

from . import defaults
from .batch.executors import EXECUTORS
from .cli import (
    _client_config,
    _given,
    _positive_int,
    _positive_money,
    _same_file,
    _task_config,
    _verbose_parent,
    add_pack_options,
    add_request_options,
    add_sampling_options,
    add_speech_options,
)
from .console import write_out
from .errors import EXIT_ALL_FAILED, EXIT_PARTIAL, EXIT_PENDING, ConfigError
from .types import BatchTask


def _batch_progress():
    """A line over the library on a terminal: videos done/total, outcomes, spend, ETA (tqdm)."""
    from .console import _bar

    bar = _bar(sys.stderr, "{desc}") if sys.stderr.isatty() else None

    def show(p) -> None:
        if bar is None:
            return
        eta = "" if p.eta_seconds is None else f" · ETA {p.eta_seconds:.0f} s"
        bar.set_description_str(f"videos {p.done}/{p.total} · {p.ok} ok, {p.failed} failed, {p.skipped} skipped"
                                f" · ${p.cost_usd:.4f}{eta}", refresh=True)

    return show, (bar.close if bar is not None else (lambda: None))


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch
    from .client import OpenAIChatClient
    from .redact import display_url
    from .remote import is_url

    questions = tuple(args.question or ())
    if (args.task == "ask") != bool(questions):
        raise ConfigError("--question is needed with --task ask, and only there")
    if args.subtitles:
        raise ConfigError("--subtitles names one file: a batch finds each video's own subtitles")
    for given in args.inputs:
        if is_url(given):  # shown without its user info or query: they may hold credentials
            raise ConfigError(f"{display_url(given)}: batch reads files, folders and globs, not URLs; run "
                              "`videovision summarize URL` (it downloads the video), or download it first")
        if _same_file(args.out, given):
            raise ConfigError(f"--out {args.out}: is the input {given} itself; give a folder for the results")
    config = _task_config(args, args.task if args.task != "transcript" else "summarize", questions)
    endpoint = _client_config(args)
    if args.dry_run:
        return _batch_dry_run(args, config, endpoint)
    collector = _batch_api_round(args, endpoint) if args.batch_api else None
    if args.batch_api and collector is None:
        return EXIT_PENDING  # the batches submitted before are still running
    show, close = _batch_progress()
    try:
        summary = run_batch(args.inputs, args.out, config, lambda: OpenAIChatClient(endpoint), task=args.task,
                            endpoint=endpoint, cache_dir=args.cache_dir, use_cache=not args.no_cache,
                            jobs=args.jobs, total_max_cost=args.total_max_cost, report=args.report,
                            progress=show, collector=collector, executor=args.executor,
                            ray_address=args.ray_address, **_given(args, concurrency="concurrency"))
    finally:
        close()
    if collector is not None:
        _batch_api_submit(args, endpoint, collector)
    _print_failures(summary.failures)
    waiting = f", {summary.pending} waiting for the Batch API" if summary.pending else ""
    lost = f" (${summary.failed_cost_usd:.4f} of it paid for failed videos)" if summary.failed_cost_usd else ""
    print(f"{summary.ok} ok, {summary.failed} failed, {summary.skipped} skipped{waiting} · ${summary.cost_usd:.4f}{lost} · "
          f"{summary.seconds:.1f} s · {args.out}/index.jsonl", file=sys.stderr)
    return summary.exit_code


def _batch_dry_run(args: argparse.Namespace, config, endpoint) -> int:
    """``batch --dry-run``: each video's requests and cost, and the total; nothing is sent, nothing written
    to ``--out``."""
    from .batch import plan_batch
    from .batchapi import BATCH_PRICE_FACTOR
    from .cli import _open_cache
    from .console import terminal_text
    from .render import dumps
    from .types import SCHEMA_VERSION

    cache = _open_cache(args)
    try:
        planned = plan_batch(args.inputs, config, task=args.task, endpoint=endpoint, cache=cache)
    finally:
        if cache is not None:
            cache.close()
    costs = [p.cost_usd for p in planned if p.error is None]
    total = None if any(c is None for c in costs) else sum(c for c in costs if c is not None)
    factor = BATCH_PRICE_FACTOR if args.batch_api and args.task != "transcript" else 1.0
    total = None if total is None else total * factor
    requests = sum(p.requests for p in planned)
    if args.json:
        write_out(dumps({"schema_version": SCHEMA_VERSION, "task": args.task, "batch_api": bool(args.batch_api),
                         "videos": [p.to_json() for p in planned], "requests": requests,
                         "estimated_cost_usd": None if total is None else round(total, 6)}), as_json=True)
        return 0
    lines = []
    for p in planned:
        if p.error is not None:
            lines.append(terminal_text(f"{p.video.path}: would fail: {p.error}"))
            continue
        cost = "unknown cost" if p.cost_usd is None else f"~${p.cost_usd * factor:.4f}"
        lines.append(terminal_text(f"{p.video.path}: {p.note}, {p.requests} request(s), {cost}"))
    how = " through the OpenAI Batch API (half price)" if factor != 1.0 else ""
    total_text = "unknown cost" if total is None else f"~${total:.4f}"
    lines.append(f"{len(planned)} video(s), {requests} request(s){how}, {total_text} at most (estimate; "
                 "nothing was sent)")
    write_out("\n".join(lines) + "\n")
    return 0


def _print_failures(failures, limit: int = defaults.BATCH_FAILURES_SHOWN) -> None:
    """One stderr line per failed video and why, the first ``limit``; then how many more."""
    from .console import terminal_text

    for path, reason in failures[:limit]:
        reason = reason.removeprefix(f"{path}: ")  # most messages name the file already
        print(terminal_text(f"failed: {path}: {reason}"), file=sys.stderr)
    if len(failures) > limit:
        print(f"… and {len(failures) - limit} more (see index.jsonl)", file=sys.stderr)


def _batch_api_round(args: argparse.Namespace, endpoint):
    """``--batch-api``: collect the replies of batches submitted before (into the reply cache); None
    while any is still running, else a collector for this run's requests the cache lacks."""
    from .batchapi import BatchCollector, load_jobs, poll
    from .cli import _read_cache

    if args.no_cache:
        raise ConfigError("--batch-api needs the cache (it keeps the submitted batches and their replies)")

    def collect(cache):
        jobs = load_jobs(cache)
        return poll(jobs, endpoint, cache) if jobs else None

    state = _read_cache(args, collect)
    if state is not None:
        for batch_id, status in state.statuses.items():
            print(f"batch {batch_id}: {status}", file=sys.stderr)
        if not state.done:
            print(f"{len(state.pending)} batch(es) still running: run the same command again later", file=sys.stderr)
            return None
        failed = f", {len(state.failures)} failed (asked again below)" if state.failures else ""
        print(f"collected {len(state.results)} replies at the batch price (~${state.cost_usd:.4f}){failed}",
              file=sys.stderr)
    return BatchCollector(endpoint.endpoint, tuple(s for s in (endpoint.api_key,) if s))


def _batch_api_submit(args: argparse.Namespace, endpoint, collector) -> None:
    from .batchapi import submit
    from .cli import _read_cache

    requests = collector.requests()
    if not requests:
        return
    jobs = _read_cache(args, lambda cache: submit(requests, endpoint, cache))
    print(f"submitted {len(requests)} requests in {len(jobs)} batch(es) to the OpenAI Batch API (half price, "
          f"within 24 h): {', '.join(j.batch_id for j in jobs)}; run the same command again to collect them",
          file=sys.stderr)


def cmd_search(args: argparse.Namespace) -> int:
    from .search import render_hit, search

    hits = search(args.index, args.query, args.limit)
    if args.json:
        write_out(json.dumps({"schema_version": 1, "hits": [h.to_json() for h in hits]}, indent=2,
                             ensure_ascii=False) + "\n", as_json=True)
    else:
        write_out("".join(render_hit(h) + "\n" for h in hits))
        if not hits:
            print(f"no match for {args.query!r}", file=sys.stderr)
    return 0


def add_library_parsers(sub) -> None:
    p = sub.add_parser("batch", help="run a task over many videos (folders, globs): resumable, with a search index",
                       parents=[_verbose_parent()],
                       description="Summarize (or chapter, transcribe, ask) every video found in the inputs: "
                                   "one result per video in --out, index.jsonl, and search.db for `videovision "
                                   "search`. A re-run skips what is done and retries failures.",
                       epilog=f"exit codes: 0 every video ok or skipped, {EXIT_PARTIAL} some videos failed, "
                              f"{EXIT_ALL_FAILED} every video failed, {EXIT_PENDING} none failed but some wait for "
                              "the Batch API; 2 bad options, 130 interrupted (finished videos are kept)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders (searched recursively) or globs")
    p.add_argument("--out", required=True, metavar="DIR", help="results, index.jsonl and search.db go here")
    p.add_argument("--task", choices=get_args(BatchTask), default="summarize")
    p.add_argument("--question", action="append", metavar="Q", help="--task ask: a question (repeatable)")
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                   help="worker processes (or Ray tasks in flight) decoding videos (default: the CPUs available)")
    p.add_argument("--executor", choices=EXECUTORS, default="process",
                   help="where plans are made: 'process' (local worker processes) or 'ray' (Ray tasks; "
                        "pip install 'videovision[ray]')")
    p.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="with --executor ray: the cluster to join ('auto', HOST:6379 or ray://HOST:10001); "
                        "default: a local Ray runtime of --jobs CPUs")
    p.add_argument("--total-max-cost", type=_positive_money, default=None, metavar="USD",
                   help="cap on the whole batch's estimated spend (--max-cost stays per video)")
    p.add_argument("--report", action="store_true", help="also write each video's HTML report (<stem>.html)")
    p.add_argument("--batch-api", action="store_true",
                   help="send the requests through the OpenAI Batch API (half price, replies within 24 h): the first "
                        "run submits them, a later run of the same command collects the replies and completes the "
                        "videos (map-reduce and refine steps take one more round each)")
    add_sampling_options(p, default_strategy=defaults.TASK_STRATEGY)
    add_pack_options(p)
    add_speech_options(p)
    add_request_options(p)
    p.set_defaults(func=cmd_batch, refine=None, refine_max=None, style=None, prompt=None)

    p = sub.add_parser("search", help="search what a batch produced (summaries, chapters, answers, speech)",
                       parents=[_verbose_parent()],
                       description="Full-text search (SQLite FTS5, ranked by bm25) over a batch's results and "
                                   "speech, each hit with its video and time.")
    p.add_argument("query", help='words, "a phrase", OR, NOT, prefix*')
    p.add_argument("--index", required=True, metavar="DIR", help="a batch's --out folder")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--limit", type=_positive_int, default=defaults.SEARCH_LIMIT, metavar="N",
                   help=f"hits shown (default {defaults.SEARCH_LIMIT})")
    p.set_defaults(func=cmd_search)
