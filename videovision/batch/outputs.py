"""What a batch writes into its output folder, and its bookkeeping: ``<stem>.json`` results, ``<stem>.html``
reports, ``index.jsonl`` (one row per video, rewritten atomically after each) and ``search.db``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import EXIT_ALL_FAILED, EXIT_PARTIAL, EXIT_PENDING, ConfigError
from ..files import atomic_write_text
from ..paths import path_text
from ..speech.transcript import Segment
from .inputs import VideoInput

__all__ = ["EXIT_ALL_FAILED", "EXIT_OK", "EXIT_PARTIAL", "INDEX_FILENAME", "BatchProgress", "BatchProgressCallback", "BatchSummary", "Outputs",
           "Status", "index_row", "read_index", "write_atomic"]

INDEX_FILENAME = "index.jsonl"
RESULT_SUFFIX = ".json"
REPORT_SUFFIX = ".html"
EXIT_OK = 0

Status = Literal["ok", "failed", "skipped", "pending"]
"""``pending``: the video's requests wait in an OpenAI Batch API batch (``--batch-api``); a later run
completes it."""


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands (passed to ``run_batch``'s ``progress`` callback after each video)."""

    done: int
    total: int
    cost_usd: float
    """Spent so far in this batch (estimated from the usage billed)."""
    eta_seconds: float | None
    """Time left at the pace of the videos processed so far (None before the first one)."""
    ok: int = 0
    failed: int = 0
    skipped: int = 0


BatchProgressCallback = Callable[[BatchProgress], None]


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did."""

    ok: int
    failed: int
    skipped: int
    cost_usd: float
    seconds: float
    pending: int = 0
    """Videos waiting for the OpenAI Batch API (run the batch again to complete them)."""
    failures: tuple[tuple[str, str], ...] = ()
    """(video path, reason) of each video that failed in this run, in input order."""
    failed_cost_usd: float = 0.0
    """What the failed videos' answered requests cost (paid, no result); included in ``cost_usd``."""

    @property
    def exit_code(self) -> int:
        """0: nothing failed; 8: some videos failed; 7: every video failed; 9: none failed, some wait
        for the Batch API."""
        if self.failed == 0:
            return EXIT_PENDING if self.pending else EXIT_OK
        return EXIT_ALL_FAILED if self.ok == 0 and self.skipped == 0 else EXIT_PARTIAL


def read_index(out_dir: str | os.PathLike) -> list[dict]:
    """The rows of ``out_dir/index.jsonl`` (none when there is no index yet; unreadable lines skipped)."""
    path = Path(out_dir) / INDEX_FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from err
    rows = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("stem"), str):
            rows.append(row)
    return rows


def index_row(video: VideoInput, status: Status, *, result: str | None = None, error: str | None = None,
         tokens: int = 0, cost: float = 0.0, seconds: float = 0.0, key: str | None = None) -> dict:
    return {"video": path_text(video.path), "stem": video.stem, "status": status, "result": result, "error": error,
            "tokens": tokens, "cost_usd": round(cost, 6), "seconds": round(seconds, 3), "key": key}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically (:func:`videovision.export.atomic_write_text`); a failure
    is a one-line ConfigError."""
    try:
        atomic_write_text(path, text)
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror or err}") from err


class Outputs:
    """The parent's bookkeeping: rows, spend, outputs, index, search index (main thread only)."""

    def __init__(self, videos: Sequence[VideoInput], out_dir: Path, progress: BatchProgressCallback | None,
                 report: bool = False):
        from ..search import SearchIndex

        self.out_dir = out_dir
        self.report = report
        self.videos = videos
        self.previous = {row["stem"]: row for row in read_index(out_dir)}
        self.rows: dict[str, dict] = {}
        self.progress = progress
        self.spent = 0.0
        self.reserved = 0.0
        self.started = time.monotonic()
        self.worked = 0
        self.search = SearchIndex(out_dir)

    def unchanged(self, video: VideoInput, key: str) -> bool:
        row = self.previous.get(video.stem)
        wanted = [video.stem + RESULT_SUFFIX] + ([video.stem + REPORT_SUFFIX] if self.report else [])
        return (row is not None and row.get("key") == key and row.get("status") in ("ok", "skipped")
                and not row.get("error") and all((self.out_dir / name).is_file() for name in wanted))

    def record(self, row: dict, *, worked: bool = False, write: bool = True) -> None:
        """Keep a video's row, write the index (unless ``write`` is False: the caller writes it soon), report."""
        self.rows[row["stem"]] = row
        if worked:
            self.worked += 1
        self.spent += row["cost_usd"]
        if row["status"] == "failed":
            self.search.remove(row["stem"])
        if write:
            self.write_index()
        if self.progress is not None:
            self.progress(self._progress())

    def _progress(self) -> BatchProgress:
        counts = {s: sum(r["status"] == s for r in self.rows.values()) for s in ("ok", "failed", "skipped")}
        done = len(self.rows)
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.worked * (len(self.videos) - done) if self.worked else None
        return BatchProgress(done, len(self.videos), round(self.spent, 6), eta, counts["ok"], counts["failed"],
                             counts["skipped"])

    def write_index(self) -> None:
        current = {v.stem for v in self.videos}
        rows = [self.rows[v.stem] for v in self.videos if v.stem in self.rows]
        rows += [self.previous[v.stem] for v in self.videos if v.stem not in self.rows and v.stem in self.previous]
        rows += [r for s, r in self.previous.items() if s not in current]  # earlier batches' videos stay listed
        write_atomic(self.out_dir / INDEX_FILENAME, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))

    def write_result(self, video: VideoInput, data: dict, segments: Sequence[Segment]) -> str:
        name = video.stem + RESULT_SUFFIX
        write_atomic(self.out_dir / name, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        self.search.replace(path_text(video.path), video.stem, data, segments)
        return name

    def write_report(self, video: VideoInput, result: Any) -> None:
        """``<stem>.html``: the run's HTML report (:func:`videovision.report.render_report`)."""
        from ..report import render_report

        path = self.out_dir / (video.stem + REPORT_SUFFIX)
        write_atomic(path, render_report(result, video=result.plan.source or video.path, out=path))

    def summary(self) -> BatchSummary:
        p = self._progress()
        pending = sum(r["status"] == "pending" for r in self.rows.values())
        failed = [self.rows[v.stem] for v in self.videos if self.rows.get(v.stem, {}).get("status") == "failed"]
        return BatchSummary(p.ok, p.failed, p.skipped, round(self.spent, 6), time.monotonic() - self.started, pending,
                            tuple((r["video"], r["error"] or "failed") for r in failed),
                            round(sum(r["cost_usd"] for r in failed), 6))

    def close(self) -> None:
        self.search.close()
