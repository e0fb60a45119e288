"""The SQLite layer: one file, a connection per thread and process, short write transactions,
errors classified by SQLite's own error codes, and a schema that grows by migrations.

Migrations are an append-only list of functions (as in simonw/llm's ``migrations.py``); each one
that has run is recorded by name in the ``_migrations`` table, so a database made by any earlier
version is brought up to date on open, and one made by a newer version is refused.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import CacheError

logger = logging.getLogger("videovision.cache")

ENV_CACHE_DIR = "VIDEOVISION_CACHE_DIR"
"""Environment variable naming the cache directory (overrides the platform default)."""
DB_FILENAME = "cache.db"
BUSY_TIMEOUT_S = 30.0
"""How long a connection waits for another writer before giving up."""

Migration = Callable[[sqlite3.Connection], None]


def _m001_initial(conn: sqlite3.Connection) -> None:
    # IF NOT EXISTS: databases made before migrations existed (PRAGMA user_version = 1) already
    # hold these tables and are adopted as they are.
    _run_script(conn, """
        CREATE TABLE IF NOT EXISTS images (
            sha256 TEXT PRIMARY KEY, mime TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL,
            created_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS responses (
            key TEXT PRIMARY KEY, model TEXT NOT NULL, text TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL, finish_reason TEXT, request_id TEXT,
            request_json TEXT NOT NULL, created_at REAL NOT NULL, used_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS response_images (
            response_key TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (response_key, sha256));
        CREATE INDEX IF NOT EXISTS response_images_sha256 ON response_images (sha256);
        CREATE TABLE IF NOT EXISTS frame_sets (
            key TEXT PRIMARY KEY, count INTEGER NOT NULL, created_at REAL NOT NULL, used_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS frame_items (
            set_key TEXT NOT NULL, position INTEGER NOT NULL, meta_json TEXT NOT NULL, sha256 TEXT NOT NULL,
            PRIMARY KEY (set_key, position));
        CREATE INDEX IF NOT EXISTS frame_items_sha256 ON frame_items (sha256);
        CREATE TABLE IF NOT EXISTS digests (
            path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,
            dev INTEGER NOT NULL, digest TEXT NOT NULL, created_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS log (
            id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, run_id TEXT NOT NULL, task TEXT NOT NULL,
            model TEXT NOT NULL, video TEXT, base_url_host TEXT, request_key TEXT,
            prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, estimated_cost_usd REAL,
            duration_s REAL NOT NULL, cached INTEGER NOT NULL, status TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS log_run_id ON log (run_id);
        """)


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements inside the current transaction (``executescript`` would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _m002_frame_set_meta(conn: sqlite3.Connection) -> None:
    # A frame set's own metadata (scenes, dropped frames, request split ...) as a column, instead of
    # a pseudo-frame at position 0. Sets stored the old way are dropped: they are only a cache.
    conn.execute("ALTER TABLE frame_sets ADD COLUMN meta_json TEXT NOT NULL DEFAULT '{}'")
    conn.execute("DELETE FROM frame_items")
    conn.execute("DELETE FROM frame_sets")


def _m003_log_cached_tokens(conn: sqlite3.Connection) -> None:
    # Prompt tokens the provider served from its prompt cache (billed at a lower rate).
    conn.execute("ALTER TABLE log ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0")


def _m004_transcripts(conn: sqlite3.Connection) -> None:
    # Transcripts (whole, by audio digest + options + endpoint) and the segments of each transcribed
    # chunk (so a failed transcription resumes uploading only the missing chunks).
    _run_script(conn, """
        CREATE TABLE transcripts (key TEXT PRIMARY KEY, kind TEXT NOT NULL, json TEXT NOT NULL,
            created_at REAL NOT NULL, used_at REAL NOT NULL)
        """)


def _m005_runs(conn: sqlite3.Connection) -> None:
    # One row per finished summarize/ask/chapters run: the command that made it, so `videovision
    # report` can rebuild its result from the cached frames and replies without a new request.
    conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, time TEXT NOT NULL, task TEXT NOT NULL, "
                 "video TEXT, endpoint TEXT NOT NULL, cwd TEXT NOT NULL, argv_json TEXT NOT NULL)")


def _m006_log_audio_seconds(conn: sqlite3.Connection) -> None:
    # Seconds of audio a transcription request sent (task "transcribe"; billed per minute).
    conn.execute("ALTER TABLE log ADD COLUMN audio_seconds REAL NOT NULL DEFAULT 0")


def _m007_runs_settings(conn: sqlite3.Connection) -> None:
    # A run is remembered as its configuration (the values of its command's options, paths absolute),
    # not as a command line to replay in its folder: argv_json and cwd go; stored command lines with them.
    conn.execute("DROP TABLE runs")
    conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, time TEXT NOT NULL, task TEXT NOT NULL, "
                 "video TEXT, endpoint TEXT NOT NULL, settings_json TEXT NOT NULL)")


def _m008_log_image_tokens(conn: sqlite3.Connection) -> None:
    # Prompt tokens written to the provider's prompt cache (billed apart on gpt-5.6 and later), and the
    # image tokens a reply reported next to those budgeted (NULL: not reported / not known).
    conn.execute("ALTER TABLE log ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE log ADD COLUMN image_tokens INTEGER")
    conn.execute("ALTER TABLE log ADD COLUMN planned_image_tokens INTEGER")


MIGRATIONS: tuple[Migration, ...] = (_m001_initial, _m002_frame_set_meta, _m003_log_cached_tokens,
                                     _m004_transcripts, _m005_runs, _m006_log_audio_seconds, _m007_runs_settings,
                                     _m008_log_image_tokens)
"""Append only: never edit or reorder a migration that has shipped."""


_CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_LOCKED = ("SQLITE_BUSY", "SQLITE_LOCKED")
_UNWRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_AUTH")


def _kind(err: BaseException) -> str:
    """``corrupt``, ``locked``, ``unwritable`` or ``other``, from SQLite's error name."""
    name = getattr(err, "sqlite_errorname", None)
    if name is None:  # Python 3.10 has no error codes on exceptions: fall back on the message
        low = str(err).lower()
        name = ("SQLITE_CORRUPT" if "malformed" in low or "not a database" in low
                else "SQLITE_BUSY" if "locked" in low
                else "SQLITE_READONLY" if "readonly" in low or "unable to open" in low else "")
    for kind, prefixes in (("corrupt", _CORRUPT), ("locked", _LOCKED), ("unwritable", _UNWRITABLE)):
        if name.startswith(prefixes):
            return kind
    return "other"


class Database:
    """One SQLite file shared by threads and processes (WAL, busy timeout, one connection per
    thread and per process: a connection is never reused across ``fork``).

    Every write is one short ``BEGIN IMMEDIATE`` transaction (:meth:`write`); reads take one
    consistent snapshot (:meth:`read`).
    """

    def __init__(self, path: Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S):
        """Open (creating if needed) the database and run pending migrations.

        Raises:
            CacheError: the directory cannot be created, or the database is corrupt, not a
                videovision cache, from a newer version, or not writable.
        """
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[int, sqlite3.Connection]] = []
        self._closed = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CacheError(
                f"cannot create the cache directory {path.parent} ({err.strerror or err}): "
                f"set {ENV_CACHE_DIR} to a writable directory or pass --no-cache"
            ) from err
        self._open()

    def error(self, err: BaseException, doing: str) -> CacheError:
        """Our error for a SQLite failure, saying what to do."""
        kind = _kind(err)
        if kind == "corrupt":
            return CacheError(f"the cache database {self.path} is corrupt ({err}): delete it or pass --no-cache")
        if kind == "locked":
            return CacheError(f"the cache database {self.path} stayed locked by another process while {doing} "
                              f"({err}): try again, or pass --no-cache")
        if kind == "unwritable":
            return CacheError(f"the cache database {self.path} cannot be written ({err}): fix its permissions or "
                              f"free space, delete it, set {ENV_CACHE_DIR} to a writable directory, or pass --no-cache")
        return CacheError(f"the cache database {self.path} failed while {doing} ({err}): delete it or pass --no-cache")

    # -- connections

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False only so close() can close every thread's connection;
        # each connection is otherwise used by the thread that opened it.
        conn = sqlite3.connect(str(self.path), timeout=self._busy_timeout_s, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        if self._closed:
            raise CacheError(f"the cache {self.path} was closed; open a new Cache")
        pid = os.getpid()
        entry = getattr(self._local, "entry", None)
        if entry is not None and entry[0] == pid:
            return entry[1]
        try:
            conn = self._connect()
        except sqlite3.Error as err:
            raise self.error(err, "opening") from err
        self._local.entry = (pid, conn)
        with self._lock:
            self._connections.append((pid, conn))
        return conn

    # -- opening and migrations

    def _open(self) -> None:
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                self._migrate()
                return
            except sqlite3.Error as err:
                if _kind(err) == "locked" and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                self._close_quietly()
                raise self.error(err, "opening") from err
            except CacheError:
                self._close_quietly()
                raise

    def _migrate(self) -> None:
        conn = self.connection()
        fresh = conn.execute("PRAGMA user_version").fetchone()[0] == 0 and not conn.execute(
            "SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
        if fresh:  # only takes effect on an empty database (lets prune() give space back)
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            logger.warning("cache database %s: WAL journal not available (mode %s)", self.path, mode)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
            known = {m.__name__ for m in MIGRATIONS}
            if done - known or conn.execute("PRAGMA user_version").fetchone()[0] > len(MIGRATIONS):
                raise CacheError(
                    f"the cache database {self.path} was made by a newer videovision: upgrade videovision, delete the file, or pass --no-cache"
                )
            for migration in MIGRATIONS:
                if migration.__name__ not in done:
                    migration(conn)
                    conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                                 (migration.__name__, time.time()))
            # Writing proves the file is writable now, not at the first put.
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise

    # -- transactions

    @contextmanager
    def write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE: waits for other writers up front)."""
        conn = self.connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise self.error(err, doing) from err
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as err:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(err, sqlite3.Error):
                raise self.error(err, doing) from err
            raise

    @contextmanager
    def read(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several SELECTs."""
        conn = self.connection()
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as err:
            raise self.error(err, doing) from err

    # -- closing

    def _close_quietly(self) -> None:
        pid = os.getpid()
        with self._lock:
            connections, self._connections = self._connections, []
        for owner, conn in connections:
            if owner == pid:  # a connection inherited across fork belongs to the parent
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
        self._local = threading.local()

    def close(self) -> None:
        """Close every connection opened in this process. Idempotent."""
        self._close_quietly()
        self._closed = True
