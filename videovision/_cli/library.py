"""Commands over whole libraries: ``batch`` (a task over folders of videos, resumable, in worker
processes) and ``search`` (what a batch produced, by SQLite FTS5). Part of the thin command line
in :mod:`videovision.cli`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from .. import defaults
from ..console import write_out
from ..errors import EXIT_PENDING, ConfigError
from .configs import client_config, task_config
from .outputs import answer_out, check_writable, open_cache, read_cache, same_file

if TYPE_CHECKING:
    from ..batch import BatchOptions


def _batch_progress():
    """A line over the library on a terminal: videos done/total, outcomes, spend, ETA (tqdm)."""
    from ..console import _bar

    bar = _bar(sys.stderr, "{desc}") if sys.stderr.isatty() else None

    def show(p) -> None:
        if bar is None:
            return
        eta = "" if p.eta_seconds is None else f" · ETA {p.eta_seconds:.0f} s"
        bar.set_description_str(f"videos {p.done}/{p.total} · {p.ok} ok, {p.failed} failed, {p.skipped} skipped"
                                f" · ${p.cost_usd:.4f}{eta}", refresh=True)

    return show, (bar.close if bar is not None else (lambda: None))


def batch_options(args: argparse.Namespace, endpoint) -> BatchOptions:
    """The batch flags as one :class:`BatchOptions` (checked: a bad value is a one-line error)."""
    from ..batch import BatchOptions

    return BatchOptions(task=args.task, endpoint=endpoint, cache_dir=args.cache_dir, use_cache=not args.no_cache,
                        jobs=args.jobs, total_max_cost=args.total_max_cost, report=args.report,
                        executor=args.executor, ray_address=args.ray_address,
                        **({"concurrency": args.concurrency} if args.concurrency else {}))


def cmd_batch(args: argparse.Namespace) -> int:
    from ..batch import run_batch
    from ..client import OpenAIChatClient
    from ..redact import display_url
    from ..remote import is_url

    questions = tuple(args.question or ())
    if (args.task == "ask") != bool(questions):
        raise ConfigError("--question is needed with --task ask, and only there")
    for given in args.inputs:
        if is_url(given):  # shown without its user info or query: they may hold credentials
            raise ConfigError(f"{display_url(given)}: batch reads files, folders and globs, not URLs; run "
                              "`videovision summarize URL` (it downloads the video), or download it first")
        if same_file(args.out, given):
            raise ConfigError(f"--out {args.out}: is the input {given} itself; give a folder for the results")
    config = task_config(args, args.task if args.task != "transcript" else "summarize", questions)
    endpoint = client_config(args)
    if args.dry_run:
        return _batch_dry_run(args, config, endpoint)
    options = batch_options(args, endpoint)  # checked before any Batch API round
    collector = _batch_api_round(args, endpoint) if args.batch_api else None
    if args.batch_api and collector is None:
        return EXIT_PENDING  # the batches submitted before are still running
    show, close = _batch_progress()
    try:
        summary = run_batch(args.inputs, args.out, config, lambda: OpenAIChatClient(endpoint),
                            options=options, progress=show, collector=collector)
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
    from ..batch import plan_batch
    from ..batchapi import BATCH_PRICE_FACTOR
    from ..console import terminal_text
    from ..render import dumps
    from ..types import SCHEMA_VERSION

    cache = open_cache(args)
    try:
        planned = plan_batch(args.inputs, config, options=batch_options(args, endpoint), cache=cache)
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
    from ..console import terminal_text

    for path, reason in failures[:limit]:
        reason = reason.removeprefix(f"{path}: ")  # most messages name the file already
        print(terminal_text(f"failed: {path}: {reason}"), file=sys.stderr)
    if len(failures) > limit:
        print(f"… and {len(failures) - limit} more (see index.jsonl)", file=sys.stderr)


def _batch_api_round(args: argparse.Namespace, endpoint):
    """``--batch-api``: collect the replies of batches submitted before (into the reply cache); None
    while any is still running, else a collector for this run's requests the cache lacks."""
    from ..batchapi import BatchCollector, load_jobs, poll

    if args.no_cache:
        raise ConfigError("--batch-api needs the cache (it keeps the submitted batches and their replies)")

    def collect(cache):
        jobs = load_jobs(cache)
        return poll(jobs, endpoint, cache) if jobs else None

    state = read_cache(args, collect)
    if state is not None:
        for batch_id, status in state.statuses.items():
            print(f"batch {batch_id}: {status}", file=sys.stderr)
        if not state.done:
            print(f"{len(state.pending)} batch(es) still running: run the same command again later", file=sys.stderr)
            return None
        failed = f", {len(state.failures)} failed (asked again below)" if state.failures else ""
        print(f"collected {len(state.results)} replies at the batch price (~${state.cost_usd:.4f}){failed}",
              file=sys.stderr)
    return BatchCollector(endpoint.endpoint, tuple(s for s in (endpoint.api_key,) if s), endpoint.api)


def _batch_api_submit(args: argparse.Namespace, endpoint, collector) -> None:
    from ..batchapi import submit

    requests = collector.requests()
    if not requests:
        return
    jobs = read_cache(args, lambda cache: submit(requests, endpoint, cache))
    print(f"submitted {len(requests)} requests in {len(jobs)} batch(es) to the OpenAI Batch API (half price, "
          f"within 24 h): {', '.join(j.batch_id for j in jobs)}; run the same command again to collect them",
          file=sys.stderr)


def cmd_search(args: argparse.Namespace) -> int:
    from ..search import render_hit, search

    if args.output:
        check_writable(args.output, "--output")
    hits = search(args.index, args.query, args.limit)
    if args.json:
        answer_out(args, json.dumps({"schema_version": 1, "hits": [h.to_json() for h in hits]}, indent=2,
                                    ensure_ascii=False) + "\n", "hits", as_json=True)
    else:
        answer_out(args, "".join(render_hit(h) + "\n" for h in hits), "hits")
        if not hits:
            print(f"no match for {args.query!r}", file=sys.stderr)
    return 0
