"""Finished runs: the configuration that made each one (its settings), so ``videovision report``
can rebuild a run's result from the cached frames and replies (the same requests, answered from
the cache) without sending anything."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import CacheError
from .db import Database
from .keys import now_iso


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    time: str
    """UTC, ISO 8601."""
    task: str
    video: str | None
    endpoint: str
    """The endpoint the replies came from (part of their cache keys), without credentials."""
    settings: dict = field(default_factory=dict)
    """The values of the options the run's command honoured ({option: value}, paths absolute, URLs
    without credentials or query; never a key)."""


class RunStore:
    """The ``runs`` table."""

    def __init__(self, db: Database):
        self.db = db

    def add(self, record: RunRecord) -> None:
        """Remember a finished run.

        Raises:
            CacheError: the cache database failed.
        """
        with self.db.write("remembering a run") as conn:
            conn.execute("INSERT OR REPLACE INTO runs (run_id, time, task, video, endpoint, settings_json)"
                         " VALUES (?, ?, ?, ?, ?, ?)", (record.run_id, record.time or now_iso(), record.task,
                                                       record.video, record.endpoint,
                                                       json.dumps(record.settings, ensure_ascii=False)))

    def get(self, run_id: str | None = None) -> RunRecord | None:
        """The run with this id (or whose id ends with it, as ``log`` shows them), else the latest run;
        None when there is none.

        Raises:
            CacheError: the cache database failed.
        """
        query = "SELECT run_id, time, task, video, endpoint, settings_json FROM runs"
        params: tuple = ()
        if run_id:
            query += " WHERE substr(run_id, -length(?)) = ?"  # the whole id, or its end
            params = (run_id, run_id)
        query += " ORDER BY time DESC, rowid DESC LIMIT 1"
        with self.db.read("reading a run") as conn:
            row = conn.execute(query, params).fetchone()
        if row is None:
            return None
        try:
            settings = json.loads(row[5])
            if not isinstance(settings, dict):
                raise ValueError("not an object")
        except (TypeError, ValueError) as err:
            raise CacheError(f"the run {row[0]} in the cache is damaged ({err}): run the command again") from err
        return RunRecord(row[0], row[1], row[2], row[3], row[4], settings)
