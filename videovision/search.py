"""Full-text search over what a batch produced: ``videovision search QUERY --index DIR``.

One SQLite file, ``DIR/search.db`` (stdlib ``sqlite3`` with its FTS5 extension), one row per
searchable piece of a video's results:

    kind      what it is                                   time
    summary   the summary's text                           null
    moment    a moment cited in a summary or an answer     its start (seconds)
    answer    an answer's text                             null
    chapter   a chapter's title and summary                its start
    speech    one subtitle / transcript line               its start
    screen    text read on screen (OCR) new in one frame   the frame's time

The batch replaces a video's rows in one transaction each time it writes that video's result
(:meth:`SearchIndex.replace`), so the index follows the batch as it runs and a re-run never
duplicates rows. :func:`search` ranks matches by FTS5's bm25 (best first) and returns each with
a snippet; queries use the FTS5 query syntax (words, ``"a phrase"``, ``OR``, ``NOT``, ``prefix*``).

Rows live in a plain table (``entries``, indexed by the video's stem) with an external-content
FTS5 table over their text kept in step by triggers: removing a video is an index lookup, not a
scan of the full-text table.
"""

from __future__ import annotations

import functools
import math
import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from . import defaults
from .errors import ConfigError
from .speech.transcript import Segment
from .timecode import format_time

__all__ = ["DB_FILENAME", "Entry", "EntryKind", "Hit", "SearchIndex", "check_fts5", "entries_from_result",
           "render_hit", "search"]

DB_FILENAME = "search.db"
EntryKind = Literal["summary", "chapter", "answer", "moment", "speech", "screen"]
HIGHLIGHT = ("**", "**")
"""What the snippet puts around each matched term (Markdown bold: readable as plain text too)."""
ELLIPSIS = "…"
SNIPPET_TOKENS = 16
"""Words a snippet shows around the match (FTS5 snippet()'s limit is 64)."""
DEFAULT_LIMIT = defaults.SEARCH_LIMIT
INDEX_FORMAT = 1
"""``PRAGMA user_version`` of search.db."""
TOKENIZER = "porter unicode61 remove_diacritics 2"
"""Words match across endings (``clipping`` finds ``clip``) and accents (``resume`` finds ``résumé``)."""
BUSY_TIMEOUT_S = 30.0

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS entries(
    id INTEGER PRIMARY KEY, stem TEXT NOT NULL, video TEXT NOT NULL, kind TEXT NOT NULL, time REAL,
    text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entries_stem ON entries(stem);
CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(
    text, content='entries', content_rowid='id', tokenize='{TOKENIZER}');
CREATE TRIGGER IF NOT EXISTS entries_ai AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS entries_ad AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts(entries_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
PRAGMA user_version = {INDEX_FORMAT};
"""

_TOP = "SELECT rowid, bm25(entries_fts) AS score FROM entries_fts WHERE entries_fts MATCH ? ORDER BY score LIMIT ?"
_HIT = f"""
SELECT e.video, e.stem, e.kind, e.time, snippet(entries_fts, 0, ?, ?, '{ELLIPSIS}', {SNIPPET_TOKENS})
FROM entries_fts JOIN entries AS e ON e.id = entries_fts.rowid
WHERE entries_fts MATCH ? AND entries_fts.rowid = ?
"""
# Two steps, measured in bench/bench_search.py on 206,000 lines: ranking alone with bm25() is about
# twice as fast as ORDER BY the ``rank`` column or as joining every match to its row, and snippets
# are then made for the hits shown only.

QUERY_HINT = ('put words with punctuation in double quotes (e.g. \'"gradient-clipping"\'); '
              'operators are AND, OR, NOT, "a phrase", prefix*')


@dataclass(frozen=True)
class Entry:
    """One searchable piece of a video's results."""

    kind: EntryKind
    time: float | None
    text: str


@dataclass(frozen=True)
class Hit:
    """One match, best first."""

    video: str
    """The video's path as the batch was given it."""
    stem: str
    """Its output name in the index folder (``<stem>.json``)."""
    kind: EntryKind
    time: float | None
    """Seconds from the video's first frame (None for a summary or an answer)."""
    snippet: str
    """The matching text around the match, terms between :data:`HIGHLIGHT` markers."""
    score: float
    """bm25 relevance, higher is better (FTS5's bm25() negated)."""

    def to_json(self) -> dict:
        return {"video": self.video, "stem": self.stem, "kind": self.kind,
                "time": None if self.time is None else round(self.time, 3), "snippet": self.snippet,
                "score": round(self.score, 6)}


@functools.cache  # a success is remembered for the process; a failure is raised every time
def check_fts5() -> None:
    """Raise ConfigError when this Python's SQLite was built without FTS5."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
    except sqlite3.OperationalError as err:
        raise ConfigError(f"this Python's SQLite ({sqlite3.sqlite_version}) has no FTS5 full-text search "
                          f"({err}): use a Python build whose sqlite3 includes FTS5") from err
    finally:
        probe.close()


def entries_from_result(data: Mapping[str, Any]) -> list[Entry]:
    """The searchable pieces of a result JSON (``TaskResult.to_json()``): summary, moments, answers, chapters."""
    out: list[Entry] = []
    if isinstance(data.get("summary"), str) and data["summary"].strip():
        out.append(Entry("summary", None, data["summary"]))
    answers = data.get("answers") or []
    for answer in answers:
        if isinstance(answer.get("answer"), str) and answer["answer"].strip():
            out.append(Entry("answer", None, answer["answer"]))
        out.extend(_moments(answer.get("moments")))
    if not answers:
        out.extend(_moments(data.get("moments")))
    for item in data.get("screen_text") or []:
        if isinstance(item, Mapping) and isinstance(item.get("text"), str) and item["text"].strip():
            out.append(Entry("screen", _time(item.get("time")), item["text"]))
    for chapter in data.get("chapters") or []:
        text = " — ".join(t for t in (chapter.get("title"), chapter.get("summary")) if isinstance(t, str) and t)
        if text:
            out.append(Entry("chapter", _time(chapter.get("start")), text))
    return out


def _moments(moments: Any) -> list[Entry]:
    return [Entry("moment", _time(m.get("time")), m["text"]) for m in moments or ()
            if isinstance(m.get("text"), str) and m["text"].strip()]


def _time(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def entries_from_segments(segments: Sequence[Segment]) -> list[Entry]:
    """One ``speech`` entry per spoken line (with its speaker, when known, so speakers are searchable)."""
    return [Entry("speech", s.start, f"{s.speaker}: {s.text}" if s.speaker else s.text)
            for s in segments if s.text.strip()]


class SearchIndex:
    """``search.db`` in a batch's output folder: written by the batch, read by :func:`search`.

    One connection, used from one thread (the batch writes from its main thread).
    """

    def __init__(self, index_dir: str | os.PathLike, *, create: bool = True):
        """Open the index (creating it unless ``create`` is False).

        Raises:
            ConfigError: no FTS5 in this SQLite, no index (``create=False``), or the file cannot be used.
        """
        check_fts5()
        self.path = Path(index_dir) / DB_FILENAME
        if not create and not self.path.is_file():
            raise ConfigError(f"{index_dir}: no search index ({DB_FILENAME}) there; run a batch with this "
                              "output folder first")
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            if create:
                self.db.execute("PRAGMA journal_mode=WAL")  # kept in the file: readers never set it
                self.db.executescript(_SCHEMA)
            elif self.db.execute("PRAGMA user_version").fetchone()[0] != INDEX_FORMAT:
                raise ConfigError(f"{self.path} is not a videovision search index (or from another version); "
                                  "delete it and run the batch again")
        except BaseException as err:
            if hasattr(self, "db"):
                self.db.close()
            if isinstance(err, sqlite3.Error):
                raise ConfigError(f"cannot use the search index {self.path}: {err}") from err
            raise

    def replace(self, video: str, stem: str, data: Mapping[str, Any], segments: Sequence[Segment] = ()) -> int:
        """Replace a video's rows with those of its result JSON and its speech, in one transaction.

        Returns:
            The number of rows indexed.
        """
        entries = entries_from_result(data) + entries_from_segments(segments)
        rows = [(stem, video, e.kind, e.time, e.text) for e in entries]
        self._write(stem, rows)
        return len(rows)

    def remove(self, stem: str) -> None:
        """Forget a video (a failed re-run: its old results no longer stand)."""
        self._write(stem, [])

    def _write(self, stem: str, rows: list[tuple]) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("DELETE FROM entries WHERE stem = ?", (stem,))
                self.db.executemany("INSERT INTO entries(stem, video, kind, time, text) VALUES (?, ?, ?, ?, ?)", rows)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as err:
            raise ConfigError(f"cannot write the search index {self.path}: {err}") from err

    def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
        """The best ``limit`` matches of an FTS5 query, best first.

        Raises:
            ConfigError: an empty query, a query FTS5 cannot parse (with a hint), a bad limit.
        """
        if not query.strip():
            raise ConfigError("the search query is empty")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigError("limit must be a whole number >= 1", field="limit")
        try:
            self.db.execute("BEGIN")  # one snapshot while a batch may be writing
            try:
                top = self.db.execute(_TOP, (query, limit)).fetchall()
                rows = [(self.db.execute(_HIT, (*HIGHLIGHT, query, rowid)).fetchone(), score) for rowid, score in top]
            finally:
                self.db.execute("COMMIT")
        except sqlite3.OperationalError as err:
            message = str(err)
            if _is_query_error(message):
                raise ConfigError(f"cannot read the search query {query!r} ({message}): {QUERY_HINT}") from None
            raise ConfigError(f"cannot read the search index {self.path}: {message}") from err
        return [Hit(video, stem, kind, time, snip, -score)
                for (video, stem, kind, time, snip), score in (r for r in rows if r[0] is not None)]

    def count(self) -> int:
        """Rows in the index."""
        return int(self.db.execute("SELECT count(*) FROM entries").fetchone()[0])

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_query_error(message: str) -> bool:
    return message.startswith(("fts5:", "no such column", "unterminated string", "unknown special query"))


def search(index_dir: str | os.PathLike, query: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """Search a batch's output folder.

    Args:
        index_dir: the folder a batch wrote (it holds ``search.db``).
        query: FTS5 query syntax: words (all must match), ``"a phrase"``, ``OR``, ``NOT``, ``prefix*``.
        limit: most hits returned.

    Returns:
        Hits ranked by bm25, best first.

    Raises:
        ConfigError: no index in ``index_dir``, no FTS5 in SQLite, a query that cannot be parsed.
    """
    with SearchIndex(index_dir, create=False) as index:
        return index.search(query, limit)


def render_hit(hit: Hit) -> str:
    """``talk.mp4 [01:40] …we spent **forty** thousand…`` (``[summary]``/``[answer]`` when untimed; text read
    on screen: ``talk.mp4 [00:09] on screen: **Dataset** Audit``)."""
    # whole seconds, rounded down: seeking there starts just before the match, never after it
    where = format_time(math.floor(hit.time), precision=0) if hit.time is not None else hit.kind
    said = "on screen: " if hit.kind == "screen" else ""
    return f"{hit.video} [{where}] {said}{' '.join(hit.snippet.split())}"
