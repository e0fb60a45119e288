"""The run log: one row per model call (cached or not), like ``llm logs``: chat requests, and
each transcription chunk (task ``transcribe``, its audio seconds).

Time (UTC ISO 8601), run id, task, model, tokens (cached prompt tokens too) or audio seconds,
estimated cost, duration, status. The endpoint's host is logged; an API key never is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .. import defaults
from ..paths import path_text
from ..redact import url_host
from .db import Database
from .keys import now_iso


@dataclass(frozen=True)
class LogEntry:
    """One logged model call (newest first from :meth:`RunLog.recent`)."""

    id: int
    time: str
    """UTC, ISO 8601 with milliseconds, e.g. ``2024-05-01T12:00:00.123+00:00``."""
    run_id: str
    task: str
    model: str
    video: str | None
    base_url_host: str | None
    request_key: str | None
    prompt_tokens: int
    completion_tokens: int
    estimated_cost_usd: float | None
    duration_s: float
    cached: bool
    status: str
    """``"ok"`` or the name of the error class."""
    cached_tokens: int = 0
    """Prompt tokens the provider served from its prompt cache."""
    audio_seconds: float = 0.0
    """Seconds of audio sent (a transcription request, task ``transcribe``); 0 for chat requests."""
    cache_write_tokens: int = 0
    """Prompt tokens written to the provider's prompt cache."""
    image_tokens: int | None = None
    """Image tokens the reply reported; None when it did not say."""
    planned_image_tokens: int | None = None
    """Image tokens videovision budgeted for the request; None when not known (a transcription)."""

    def to_json(self) -> dict:
        return asdict(self)



_COLUMNS = ("id, time, run_id, task, model, video, base_url_host, request_key, prompt_tokens, completion_tokens, "
            "estimated_cost_usd, duration_s, cached, status, cached_tokens, audio_seconds, cache_write_tokens, image_tokens, "
            "planned_image_tokens")


class RunLog:
    """The ``log`` table."""

    def __init__(self, db: Database):
        self.db = db

    def add(self, *, run_id: str, model: str, prompt_tokens: int, completion_tokens: int,
            estimated_cost_usd: float | None, duration_s: float, cached: bool, request_key: str | None,
            task: str, video: str | Path | None, endpoint: str | None, status: str = "ok",
            cached_tokens: int = 0, audio_seconds: float = 0.0, cache_write_tokens: int = 0,
            image_tokens: int | None = None, planned_image_tokens: int | None = None) -> int:
        """Append one model call.

        Args:
            run_id: the run's id (one run may make several calls).
            model: the model name.
            prompt_tokens: input tokens (as billed, or the stored reply's for a cache hit).
            completion_tokens: output tokens.
            estimated_cost_usd: the estimated cost, or None when the price is unknown.
            duration_s: wall time of the call, seconds.
            cached: the reply came from our cache (nothing was paid).
            request_key: the request's cache key.
            task: ``"summarize"``, ``"ask"``, ``"chapters"`` ...
            video: the video's path.
            endpoint: the endpoint's base URL (logged as ``host[:port]`` only).
            status: ``"ok"`` or the error class name.
            cached_tokens: prompt tokens the provider's prompt cache served.
            audio_seconds: seconds of audio a transcription request sent.
            cache_write_tokens: prompt tokens written to the provider's prompt cache.
            image_tokens: image tokens the reply reported (None: not reported).
            planned_image_tokens: image tokens budgeted for the request.

        Returns:
            The log row id.

        Raises:
            CacheError: the cache database failed.
        """
        values = (now_iso(), str(run_id), str(task), str(model), None if video is None else path_text(video),
                  url_host(endpoint), request_key, int(prompt_tokens), int(completion_tokens),
                  None if estimated_cost_usd is None else float(estimated_cost_usd), float(duration_s),
                  1 if cached else 0, str(status), int(cached_tokens), float(audio_seconds), int(cache_write_tokens),
                  None if image_tokens is None else int(image_tokens),
                  None if planned_image_tokens is None else int(planned_image_tokens))
        with self.db.write("logging a request") as conn:
            cursor = conn.execute(f"INSERT INTO log ({_COLUMNS.removeprefix('id, ')})"
                                  f" VALUES ({', '.join('?' * len(values))})", values)
            return int(cursor.lastrowid or 0)

    def recent(self, limit: int = defaults.LOG_LIMIT, *, run_id: str | None = None) -> list[LogEntry]:
        """The latest logged calls, newest first (at most ``limit``; only ``run_id``'s when given).

        Raises:
            CacheError: the cache database failed.
        """
        if limit <= 0:
            return []
        where, params = ("WHERE run_id = ?", (run_id, limit)) if run_id is not None else ("", (limit,))
        with self.db.read("reading the log") as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM log {where} ORDER BY id DESC LIMIT ?", params).fetchall()
        return [LogEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], bool(r[12]), r[13],
                         r[14], r[15], r[16], r[17], r[18]) for r in rows]
