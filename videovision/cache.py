"""Cache and run log: one SQLite database, like ``llm logs``.

Everything videovision remembers between runs lives in one SQLite file,
``<cache dir>/cache.db``. The cache dir is, first match wins: the ``directory`` argument,
the ``VIDEOVISION_CACHE_DIR`` environment variable, ``platformdirs.user_cache_dir("videovision")``.

What it keeps:

* **responses** — model replies keyed by :func:`request_key` (SHA-256 of the exact request),
  so the same question about the same frames is never paid for twice;
* **frame sets** — the encoded frames chosen for a video with given sampling/packing options,
  keyed by :func:`frames_key` (the video's :func:`file_digest` + the options);
* **images** — every image's bytes once, content-addressed by SHA-256. Requests are stored
  *redacted*: each ``data:...;base64,...`` URL is replaced by ``"sha256:<hex>"`` pointing at
  an image row, so no base64 text lands in the responses or log tables and shared frames
  are stored once;
* **log** — one row per model call (cached or not): time (UTC ISO 8601), run id, task, model,
  tokens, estimated cost, duration, status. The endpoint's host is logged; an API key never is
  (keys named like ``api_key``/``Authorization`` are stripped from anything stored).

Schema (``PRAGMA user_version`` = :data:`SCHEMA_VERSION`)::

    images          (sha256 PK, mime, size, data BLOB, created_at)
    responses       (key PK, model, text, prompt_tokens, completion_tokens, finish_reason,
                     request_id, request_json, created_at, used_at)
    response_images (response_key, sha256)            -- images a stored request refers to
    frame_sets      (key PK, count, created_at, used_at)
    frame_items     (set_key, position, meta_json, sha256)
    digests         (path PK, size, mtime_ns, inode, dev, digest, created_at)
    log             (id PK, time, run_id, task, model, video, base_url_host, request_key,
                     prompt_tokens, completion_tokens, estimated_cost_usd, duration_s,
                     cached, status)

Concurrency: WAL journal, a busy timeout, one connection per thread (and per process:
a connection is never reused across ``fork``), and every write is one short
``BEGIN IMMEDIATE`` transaction, so several threads and processes can share the file.

:class:`NullCache` has the same interface and stores nothing (``--no-cache``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import platformdirs

from .errors import CacheError, VideoOpenError
from .source import path_text
from .types import ChatResult, PackedImage, Usage

__all__ = [
    "APP_NAME",
    "DB_FILENAME",
    "DEFAULT_BUSY_TIMEOUT_S",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_RECENT_LIMIT",
    "ENV_CACHE_DIR",
    "SCHEMA_VERSION",
    "AnyCache",
    "Cache",
    "CacheLike",
    "FrameItem",
    "LogEntry",
    "NullCache",
    "default_cache_dir",
    "digest_ranges",
    "file_digest",
    "frames_key",
    "item_to_packed",
    "new_run_id",
    "open_cache",
    "packed_to_item",
    "request_key",
    "strip_secrets",
]

logger = logging.getLogger("videovision.cache")

APP_NAME = "videovision"
ENV_CACHE_DIR = "VIDEOVISION_CACHE_DIR"
"""Environment variable naming the cache directory (overrides the platform default)."""
DB_FILENAME = "cache.db"
SCHEMA_VERSION = 1
DEFAULT_MAX_BYTES = 2 * 1024**3
"""Default cap for :meth:`Cache.prune`: total bytes of stored images (2 GiB)."""
DEFAULT_BUSY_TIMEOUT_S = 30.0
"""How long a connection waits for another writer before giving up."""
DEFAULT_RECENT_LIMIT = 20

_MIB = 1024 * 1024
DIGEST_FULL_BELOW = 64 * _MIB
"""Files smaller than this are hashed completely (every byte)."""
DIGEST_EDGE_BYTES = 4 * _MIB
"""A sampled digest hashes this many bytes at the start and at the end of the file."""
DIGEST_BLOCK_BYTES = 64 * 1024
DIGEST_SAMPLE_BLOCKS = 64
"""A sampled digest also hashes this many evenly spaced blocks of DIGEST_BLOCK_BYTES."""
DIGEST_RACY_WINDOW_S = 2.0
"""A digest is not remembered while the file's mtime is this recent (it may still change
within the same timestamp tick, which the (size, mtime, inode) check could not see)."""

IMAGE_REF_PREFIX = "sha256:"
"""What a data URL becomes in a stored request: ``"sha256:<hex of the image bytes>"``."""

_READ_CHUNK = _MIB
_SAMPLED_TAG = b"videovision-sampled-digest-v1\0"

FrameItem = tuple[dict, bytes]
"""One encoded frame: JSON-able metadata and the encoded image bytes."""

# ----------------------------------------------------------------------------- secrets

_SECRET_KEY_NAMES = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "bearer",
        "password",
        "passwd",
        "secret",
        "clientsecret",
        "apisecret",
        "secretkey",
        "accesstoken",
        "refreshtoken",
        "authtoken",
        "sessiontoken",
        "cookie",
        "setcookie",
    }
)


def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return norm.endswith("apikey") or norm in _SECRET_KEY_NAMES


def strip_secrets(value: Any) -> Any:
    """Return a copy of a JSON-like value without API-key-like entries, at any depth.

    Keys such as ``api_key``, ``apiKey``, ``x-api-key``, ``Authorization`` and
    ``Proxy-Authorization`` (compared case- and punctuation-insensitively) are dropped.
    Token *counts* (``max_tokens`` ...) are kept.

    Args:
        value: a dict / list / scalar tree.

    Returns:
        The same tree without secret-named keys (tuples become lists).
    """
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items() if not _is_secret_key(k)}
    if isinstance(value, (list, tuple)):
        return [strip_secrets(v) for v in value]
    return value


# ----------------------------------------------------------------------------- keys


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def request_key(body: dict, *, endpoint: str | None = None) -> str:
    """The cache key of a chat request: SHA-256 of its canonical JSON.

    Canonical JSON sorts keys at every depth and uses no spaces, so the key does not depend on
    dict ordering but changes with any model, message, image or parameter change. Only
    secret-named keys (see :func:`strip_secrets`) are left out: they never change the answer.

    Args:
        body: the exact request body (model, messages, parameters).
        endpoint: the endpoint (base URL or host) the request goes to; pass it so two servers
            offering a model of the same name do not share answers. ``None`` hashes the body alone.

    Returns:
        64 lowercase hex digits.

    Raises:
        TypeError: the body holds a value JSON cannot encode.
        ValueError: the body holds NaN or infinity.
    """
    clean = strip_secrets(body)
    payload = clean if endpoint is None else {"endpoint": endpoint, "body": clean}
    return _sha256_hex(_canonical_json(payload).encode("utf-8"))


def frames_key(video_digest: str, params: dict) -> str:
    """The cache key of a frame set: the video's content digest + the sampling/packing options.

    Args:
        video_digest: :func:`file_digest` of the video.
        params: every option that changes which frames are taken or how they are encoded
            (strategy, interval, count, start/end, max side, format, quality, detail, model ...).

    Returns:
        64 lowercase hex digits.

    Raises:
        TypeError: ``params`` holds a value JSON cannot encode.
    """
    payload = {"kind": "frames", "v": 1, "video": video_digest, "params": params}
    return _sha256_hex(_canonical_json(payload).encode("utf-8"))


def new_run_id() -> str:
    """A new run id: UTC time (sortable) + 8 random hex digits, e.g. ``20240501T120000Z-1a2b3c4d``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# ----------------------------------------------------------------------------- file digests


def digest_ranges(size: int) -> list[tuple[int, int]]:
    """The (offset, length) byte ranges a sampled :func:`file_digest` reads.

    Files below :data:`DIGEST_FULL_BELOW` are read whole (one range). Larger files: the first
    and last :data:`DIGEST_EDGE_BYTES` and :data:`DIGEST_SAMPLE_BLOCKS` evenly spaced
    blocks of :data:`DIGEST_BLOCK_BYTES` in between (about 12 MiB whatever the size).

    Args:
        size: the file size in bytes.

    Returns:
        Non-overlapping ranges in file order.
    """
    if size < DIGEST_FULL_BELOW:
        return [(0, size)]
    ranges = [(0, DIGEST_EDGE_BYTES)]
    first = DIGEST_EDGE_BYTES
    last = size - DIGEST_EDGE_BYTES - DIGEST_BLOCK_BYTES
    steps = DIGEST_SAMPLE_BLOCKS - 1
    for i in range(DIGEST_SAMPLE_BLOCKS):
        ranges.append((first + (last - first) * i // steps, DIGEST_BLOCK_BYTES))
    ranges.append((size - DIGEST_EDGE_BYTES, DIGEST_EDGE_BYTES))
    return ranges


def file_digest(path: str | Path) -> str:
    """A SHA-256 content digest of a (video) file, fast for big files.

    Files below :data:`DIGEST_FULL_BELOW` (64 MiB): the plain SHA-256 of every byte (same as
    ``sha256sum``). Larger files: a *sampled* content hash — SHA-256 over a tag, the file size,
    and the ranges of :func:`digest_ranges` (first/last 4 MiB and 64 evenly spaced 64 KiB
    blocks). It changes with the size, the container header and trailer and any sampled
    block, but it **can miss an edit that keeps the size and touches only bytes between the
    sampled blocks** — acceptable for a cache of video files, which are not edited in place.

    Args:
        path: the file.

    Returns:
        64 lowercase hex digits.

    Raises:
        VideoOpenError: the file cannot be read.
    """
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < DIGEST_FULL_BELOW:
                h = hashlib.sha256()
                while chunk := f.read(_READ_CHUNK):
                    h.update(chunk)
                return h.hexdigest()
            h = hashlib.sha256(_SAMPLED_TAG)
            h.update(size.to_bytes(8, "big"))
            for offset, length in digest_ranges(size):
                f.seek(offset)
                h.update(offset.to_bytes(8, "big"))
                h.update(f.read(length))
            return h.hexdigest()
    except OSError as err:
        raise VideoOpenError(f"cannot read {path}: {err.strerror or err}") from err


# ----------------------------------------------------------------------------- frames helpers


def packed_to_item(image: PackedImage) -> FrameItem:
    """Turn a :class:`PackedImage` into a ``(metadata, bytes)`` item for :meth:`Cache.put_frames`.

    Args:
        image: the encoded frame.

    Returns:
        JSON-able metadata and the image bytes.
    """
    meta = {
        "time": image.time,
        "index": image.index,
        "scene": image.scene,
        "mime": image.mime,
        "width": image.width,
        "height": image.height,
        "tokens": image.tokens,
        "times": list(image.times),
        "label": image.label,
    }
    return meta, image.data


def item_to_packed(meta: dict, data: bytes) -> PackedImage:
    """Rebuild a :class:`PackedImage` from an item made by :func:`packed_to_item`.

    Args:
        meta: the metadata.
        data: the image bytes.

    Returns:
        The packed image.

    Raises:
        CacheError: the metadata lacks a field (the cache holds something else).
    """
    try:
        return PackedImage(
            time=float(meta["time"]),
            index=int(meta["index"]),
            scene=None if meta.get("scene") is None else int(meta["scene"]),
            data=data,
            mime=str(meta["mime"]),
            width=int(meta["width"]),
            height=int(meta["height"]),
            tokens=int(meta["tokens"]),
            times=tuple(float(t) for t in meta.get("times", ())),
            label=str(meta.get("label", "")),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise CacheError(f"cached frame metadata is incomplete ({err}); pass --no-cache or clear the cache") from err


# ----------------------------------------------------------------------------- log entries


@dataclass(frozen=True)
class LogEntry:
    """One logged model call (newest first from :meth:`Cache.recent`)."""

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

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "time": self.time,
            "run_id": self.run_id,
            "task": self.task,
            "model": self.model,
            "video": self.video,
            "base_url_host": self.base_url_host,
            "request_key": self.request_key,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "estimated_cost_usd": self.estimated_cost_usd,
            "duration_s": self.duration_s,
            "cached": self.cached,
            "status": self.status,
        }


def _host_only(value: str | None) -> str | None:
    """Keep only ``host[:port]`` of a base URL (never user info, path or query)."""
    if not value:
        return None
    text = value if "://" in value else "//" + value
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    return f"{host}:{port}" if port else host


# ----------------------------------------------------------------------------- schema

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    sha256      TEXT PRIMARY KEY,
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    data        BLOB NOT NULL,
    created_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS responses (
    key               TEXT PRIMARY KEY,
    model             TEXT NOT NULL,
    text              TEXT NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    finish_reason     TEXT,
    request_id        TEXT,
    request_json      TEXT NOT NULL,
    created_at        REAL NOT NULL,
    used_at           REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS response_images (
    response_key TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    PRIMARY KEY (response_key, sha256)
);
CREATE INDEX IF NOT EXISTS response_images_sha256 ON response_images (sha256);
CREATE TABLE IF NOT EXISTS frame_sets (
    key         TEXT PRIMARY KEY,
    count       INTEGER NOT NULL,
    created_at  REAL NOT NULL,
    used_at     REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS frame_items (
    set_key    TEXT NOT NULL,
    position   INTEGER NOT NULL,
    meta_json  TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    PRIMARY KEY (set_key, position)
);
CREATE INDEX IF NOT EXISTS frame_items_sha256 ON frame_items (sha256);
CREATE TABLE IF NOT EXISTS digests (
    path        TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    dev         INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    created_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS log (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    time               TEXT NOT NULL,
    run_id             TEXT NOT NULL,
    task               TEXT NOT NULL,
    model              TEXT NOT NULL,
    video              TEXT,
    base_url_host      TEXT,
    request_key        TEXT,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    estimated_cost_usd REAL,
    duration_s         REAL NOT NULL,
    cached             INTEGER NOT NULL,
    status             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_run_id ON log (run_id);
"""

_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]*)(?:;[^;,]*)*;base64,", re.IGNORECASE)

_LOG_COLUMNS = (
    "id, time, run_id, task, model, video, base_url_host, request_key, prompt_tokens, "
    "completion_tokens, estimated_cost_usd, duration_s, cached, status"
)


def default_cache_dir() -> Path:
    """The cache directory when none is given: ``$VIDEOVISION_CACHE_DIR`` or the platform's.

    Returns:
        The directory (not created).
    """
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME))


# ----------------------------------------------------------------------------- the cache


class Cache:
    """The response/frame cache and run log in one SQLite file. Safe across threads and processes.

    Use as a context manager, or call :meth:`close` when done (from one thread, once no
    other thread is using the cache).
    """

    enabled = True
    """False for :class:`NullCache`: nothing is stored or logged."""

    def __init__(self, directory: str | Path | None = None, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S):
        """Open (creating if needed) the cache database.

        Args:
            directory: where ``cache.db`` lives; default :func:`default_cache_dir`.
            busy_timeout_s: how long to wait for another process's write before failing.

        Raises:
            CacheError: the directory cannot be created, or the database is corrupt,
                not a videovision cache, from a newer version, or not writable.
        """
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self.path = self.directory / DB_FILENAME
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[int, sqlite3.Connection]] = []
        self._closed = False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CacheError(
                f"cannot create the cache directory {self.directory} ({err.strerror or err}): "
                f"set {ENV_CACHE_DIR} to a writable directory or pass --no-cache"
            ) from err
        self._initialize()

    # -- connections and errors

    def _error(self, err: BaseException, doing: str) -> CacheError:
        text = str(err)
        low = text.lower()
        if any(s in low for s in ("not a database", "malformed", "corrupt", "file is encrypted")):
            return CacheError(f"the cache database {self.path} is corrupt ({text}): delete it or pass --no-cache")
        if "locked" in low or "busy" in low:
            return CacheError(
                f"the cache database {self.path} stayed locked by another process while {doing} ({text}): "
                "try again, or pass --no-cache"
            )
        if any(s in low for s in ("readonly", "read-only", "unable to open", "permission", "disk i/o", "full")):
            return CacheError(
                f"the cache database {self.path} cannot be written ({text}): fix its permissions or free space, "
                f"delete it, set {ENV_CACHE_DIR} to a writable directory, or pass --no-cache"
            )
        return CacheError(f"the cache database {self.path} failed while {doing} ({text}): delete it or pass --no-cache")

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False only so close() can close every thread's connection;
        # each connection is otherwise used by the thread that opened it.
        conn = sqlite3.connect(
            str(self.path), timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise CacheError(f"the cache {self.path} was closed; open a new Cache")
        pid = os.getpid()
        entry = getattr(self._local, "entry", None)
        if entry is not None and entry[0] == pid:
            return entry[1]
        # New thread, or a forked child: never reuse a connection across fork.
        try:
            conn = self._connect()
        except sqlite3.Error as err:
            raise self._error(err, "opening") from err
        self._local.entry = (pid, conn)
        with self._lock:
            self._connections.append((pid, conn))
        return conn

    def _initialize(self) -> None:
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                self._initialize_once()
                return
            except sqlite3.OperationalError as err:
                low = str(err).lower()
                if ("locked" in low or "busy" in low) and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                self._close_quietly()
                raise self._error(err, "opening") from err
            except sqlite3.Error as err:
                self._close_quietly()
                raise self._error(err, "opening") from err
            except CacheError:
                self._close_quietly()
                raise

    def _initialize_once(self) -> None:
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise CacheError(
                f"the cache database {self.path} was made by a newer videovision (schema {version}): "
                "upgrade videovision, delete the file, or pass --no-cache"
            )
        if version == 0:
            # Only takes effect on a fresh, empty database (lets prune() give space back).
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            logger.warning("cache database %s: WAL journal not available (mode %s)", self.path, mode)
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            # Rewriting the version proves the file is writable now, not at the first put.
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE: waits for other writers up front)."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise self._error(err, doing) from err
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as err:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(err, sqlite3.Error):
                raise self._error(err, doing) from err
            raise

    @contextmanager
    def _read(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several SELECTs."""
        conn = self._conn()
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as err:
            raise self._error(err, doing) from err

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
        """Close every connection this cache opened in this process. Idempotent."""
        self._close_quietly()
        self._closed = True

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cache({str(self.directory)!r})"

    # -- keys (also available as module functions)

    request_key = staticmethod(request_key)
    frames_key = staticmethod(frames_key)
    new_run_id = staticmethod(new_run_id)

    # -- file digests

    def file_digest(self, path: str | Path) -> str:
        """:func:`file_digest`, remembered per (path, size, mtime_ns, inode, device).

        A file whose mtime is within :data:`DIGEST_RACY_WINDOW_S` of now is hashed but not
        remembered (it could change again within the same timestamp tick).

        Args:
            path: the video file.

        Returns:
            64 lowercase hex digits.

        Raises:
            VideoOpenError: the file cannot be read.
            CacheError: the cache database failed.
        """
        try:
            real = os.path.realpath(path)
            st = os.stat(real)
        except OSError as err:
            raise VideoOpenError(f"cannot read {path}: {err.strerror or err}") from err
        ident = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        key = path_text(real)
        with self._read("looking up a file digest") as conn:
            row = conn.execute(
                "SELECT size, mtime_ns, inode, dev, digest FROM digests WHERE path = ?", (key,)
            ).fetchone()
        if row is not None and tuple(row[:4]) == ident:
            return row[4]
        digest = file_digest(real)
        try:
            after = os.stat(real)
        except OSError as err:
            raise VideoOpenError(f"cannot read {path}: {err.strerror or err}") from err
        racy = time.time_ns() - st.st_mtime_ns < DIGEST_RACY_WINDOW_S * 1e9
        if not racy and (after.st_size, after.st_mtime_ns, after.st_ino, after.st_dev) == ident:
            with self._write("remembering a file digest") as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO digests (path, size, mtime_ns, inode, dev, digest, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key, *ident, digest, time.time()),
                )
        return digest

    # -- images

    @staticmethod
    def _put_images(conn: sqlite3.Connection, images: dict[str, tuple[str, bytes]]) -> None:
        now = time.time()
        conn.executemany(
            "INSERT OR IGNORE INTO images (sha256, mime, size, data, created_at) VALUES (?, ?, ?, ?, ?)",
            [(sha, mime, len(data), data, now) for sha, (mime, data) in images.items()],
        )

    @staticmethod
    def _redact(value: Any, images: dict[str, tuple[str, bytes]]) -> Any:
        """Copy of a request with secrets dropped and base64 data URLs replaced by image refs."""
        if isinstance(value, dict):
            return {k: Cache._redact(v, images) for k, v in value.items() if not _is_secret_key(k)}
        if isinstance(value, (list, tuple)):
            return [Cache._redact(v, images) for v in value]
        if isinstance(value, str):
            match = _DATA_URL.match(value)
            if match:
                payload = value[match.end():]
                try:
                    data = base64.b64decode(payload, validate=True)
                except (binascii.Error, ValueError):
                    try:
                        data = base64.b64decode(payload)
                    except (binascii.Error, ValueError):
                        data = payload.encode("ascii", "replace")
                sha = _sha256_hex(data)
                images.setdefault(sha, (match.group("mime") or "application/octet-stream", data))
                return IMAGE_REF_PREFIX + sha
        return value

    # -- responses

    def get_response(self, key: str) -> ChatResult | None:
        """The stored reply for a request key.

        Args:
            key: :func:`request_key` of the request.

        Returns:
            The reply with ``cached=True``, or None when not stored.

        Raises:
            CacheError: the cache database failed.
        """
        with self._read("reading a response") as conn:
            row = conn.execute(
                "SELECT text, prompt_tokens, completion_tokens, model, finish_reason, request_id"
                " FROM responses WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        with self._write("touching a response") as conn:
            conn.execute("UPDATE responses SET used_at = ? WHERE key = ?", (time.time(), key))
        text, prompt_tokens, completion_tokens, model, finish_reason, request_id = row
        return ChatResult(
            text=text,
            usage=Usage(prompt_tokens, completion_tokens),
            model=model,
            finish_reason=finish_reason,
            request_id=request_id,
            cached=True,
        )

    def put_response(self, key: str, result: ChatResult, *, body: dict) -> None:
        """Store a reply and its (redacted) request, in one transaction.

        The request is stored with API-key-like entries dropped and every base64 data URL
        replaced by ``"sha256:<hex>"``; the image bytes go to the images table once.

        Args:
            key: :func:`request_key` of ``body``.
            result: the reply.
            body: the request body that was sent.

        Raises:
            CacheError: the cache database failed.
            TypeError: the body holds a value JSON cannot encode.
        """
        images: dict[str, tuple[str, bytes]] = {}
        request_json = _canonical_json(self._redact(body, images))
        now = time.time()
        with self._write("storing a response") as conn:
            self._put_images(conn, images)
            conn.execute(
                "INSERT OR REPLACE INTO responses (key, model, text, prompt_tokens, completion_tokens,"
                " finish_reason, request_id, request_json, created_at, used_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    result.model,
                    result.text,
                    int(result.usage.prompt_tokens),
                    int(result.usage.completion_tokens),
                    result.finish_reason,
                    result.request_id,
                    request_json,
                    now,
                    now,
                ),
            )
            conn.execute("DELETE FROM response_images WHERE response_key = ?", (key,))
            conn.executemany(
                "INSERT OR IGNORE INTO response_images (response_key, sha256) VALUES (?, ?)",
                [(key, sha) for sha in images],
            )

    def get_request(self, key: str, *, restore_images: bool = False) -> dict | None:
        """The stored (redacted) request of a response, for inspection.

        Args:
            key: the request key.
            restore_images: turn ``"sha256:<hex>"`` references back into data URLs
                (references to pruned images stay as they are).

        Returns:
            The request body without secrets, or None when not stored.

        Raises:
            CacheError: the cache database failed.
        """
        with self._read("reading a request") as conn:
            row = conn.execute("SELECT request_json FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            body = json.loads(row[0])
            if not restore_images:
                return body
            shas = [r[0] for r in conn.execute("SELECT sha256 FROM response_images WHERE response_key = ?", (key,))]
            found = {
                sha: (mime, data)
                for sha in shas
                for mime, data in conn.execute("SELECT mime, data FROM images WHERE sha256 = ?", (sha,))
            }

        def restore(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: restore(v) for k, v in value.items()}
            if isinstance(value, list):
                return [restore(v) for v in value]
            if isinstance(value, str) and value.startswith(IMAGE_REF_PREFIX) and value[len(IMAGE_REF_PREFIX):] in found:
                mime, data = found[value[len(IMAGE_REF_PREFIX):]]
                return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
            return value

        return restore(body)

    # -- frames

    def get_frames(self, key: str) -> list[FrameItem] | None:
        """The stored frame set for a key.

        Args:
            key: :func:`frames_key` of the video and options.

        Returns:
            ``[(metadata, image bytes), ...]`` in the stored order, or None when not stored
            (or when any of its images was pruned).

        Raises:
            CacheError: the cache database failed.
        """
        with self._read("reading frames") as conn:
            row = conn.execute("SELECT count FROM frame_sets WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            rows = conn.execute(
                "SELECT fi.meta_json, im.data FROM frame_items fi LEFT JOIN images im ON im.sha256 = fi.sha256"
                " WHERE fi.set_key = ? ORDER BY fi.position",
                (key,),
            ).fetchall()
        if len(rows) != row[0] or any(data is None for _, data in rows):
            return None
        with self._write("touching frames") as conn:
            conn.execute("UPDATE frame_sets SET used_at = ? WHERE key = ?", (time.time(), key))
        return [(json.loads(meta), bytes(data)) for meta, data in rows]

    def put_frames(self, key: str, items: list[FrameItem]) -> None:
        """Store a frame set (replacing any set with the same key) in one transaction.

        Args:
            key: :func:`frames_key` of the video and options.
            items: ``(metadata, image bytes)`` pairs; metadata is JSON-able (``mime`` is used
                for the image row when present).

        Raises:
            CacheError: the cache database failed.
            TypeError: an item is not ``(dict, bytes)`` or its metadata is not JSON-able.
        """
        images: dict[str, tuple[str, bytes]] = {}
        rows = []
        for position, item in enumerate(items):
            meta, data = item
            if not isinstance(meta, dict) or not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"frame item {position} must be (dict, bytes), got ({type(meta).__name__}, {type(data).__name__})")
            data = bytes(data)
            sha = _sha256_hex(data)
            images.setdefault(sha, (str(meta.get("mime") or "application/octet-stream"), data))
            rows.append((key, position, _canonical_json(strip_secrets(meta)), sha))
        now = time.time()
        with self._write("storing frames") as conn:
            self._put_images(conn, images)
            conn.execute("DELETE FROM frame_items WHERE set_key = ?", (key,))
            conn.execute(
                "INSERT OR REPLACE INTO frame_sets (key, count, created_at, used_at) VALUES (?, ?, ?, ?)",
                (key, len(rows), now, now),
            )
            conn.executemany(
                "INSERT INTO frame_items (set_key, position, meta_json, sha256) VALUES (?, ?, ?, ?)", rows
            )

    # -- run log

    def log_request(
        self,
        *,
        run_id: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        estimated_cost_usd: float | None,
        duration_s: float,
        cached: bool,
        request_key: str | None,
        task: str,
        video: str | Path | None,
        base_url_host: str | None,
        status: str = "ok",
    ) -> int | None:
        """Append one model call to the run log.

        Args:
            run_id: :func:`new_run_id` of the run (one run may make several calls).
            model: the model name.
            prompt_tokens: input tokens (as reported, or estimated for a cached reply).
            completion_tokens: output tokens.
            estimated_cost_usd: the estimated cost, or None when the price is unknown.
            duration_s: wall time of the call, seconds.
            cached: the reply came from the cache.
            request_key: the request's cache key.
            task: ``"summarize"``, ``"ask"``, ``"chapters"`` ...
            video: the video's path.
            base_url_host: the endpoint's host (a full URL is reduced to ``host[:port]``).
            status: ``"ok"`` or the error class name.

        Returns:
            The log row id (None only from :class:`NullCache`).

        Raises:
            CacheError: the cache database failed.
        """
        values = (
            _now_iso(),
            str(run_id),
            str(task),
            str(model),
            None if video is None else path_text(video),
            _host_only(base_url_host),
            request_key,
            int(prompt_tokens),
            int(completion_tokens),
            None if estimated_cost_usd is None else float(estimated_cost_usd),
            float(duration_s),
            1 if cached else 0,
            str(status),
        )
        with self._write("logging a request") as conn:
            cursor = conn.execute(
                "INSERT INTO log (time, run_id, task, model, video, base_url_host, request_key, prompt_tokens,"
                " completion_tokens, estimated_cost_usd, duration_s, cached, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return cursor.lastrowid

    def recent(self, limit: int = DEFAULT_RECENT_LIMIT, *, run_id: str | None = None) -> list[LogEntry]:
        """The latest logged calls, newest first.

        Args:
            limit: at most this many entries.
            run_id: only the calls of this run.

        Returns:
            Log entries, newest first.

        Raises:
            CacheError: the cache database failed.
        """
        if limit <= 0:
            return []
        where, params = ("WHERE run_id = ?", (run_id, limit)) if run_id is not None else ("", (limit,))
        with self._read("reading the log") as conn:
            rows = conn.execute(f"SELECT {_LOG_COLUMNS} FROM log {where} ORDER BY id DESC LIMIT ?", params).fetchall()
        return [
            LogEntry(
                id=r[0],
                time=r[1],
                run_id=r[2],
                task=r[3],
                model=r[4],
                video=r[5],
                base_url_host=r[6],
                request_key=r[7],
                prompt_tokens=r[8],
                completion_tokens=r[9],
                estimated_cost_usd=r[10],
                duration_s=r[11],
                cached=bool(r[12]),
                status=r[13],
            )
            for r in rows
        ]

    # -- size

    def image_bytes(self) -> int:
        """Total bytes of stored images.

        Raises:
            CacheError: the cache database failed.
        """
        with self._read("measuring the cache") as conn:
            return int(conn.execute("SELECT COALESCE(SUM(size), 0) FROM images").fetchone()[0])

    def prune(self, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
        """Shrink stored images to at most ``max_bytes``, least recently used first.

        Images no longer referenced are deleted first. Then, oldest first by last use, frame
        sets are deleted and responses lose their image references (the answers themselves
        are kept: they are small and cost money), deleting images nothing else refers to,
        until the total fits. The run log is never pruned. Freed pages are given back to the
        file system (incremental vacuum).

        Args:
            max_bytes: the cap on the total size of stored images.

        Returns:
            Bytes of image data deleted.

        Raises:
            CacheError: the cache database failed.
        """
        freed = 0

        def drop_orphans(conn: sqlite3.Connection, shas: list[str] | None) -> int:
            cond = (
                "NOT EXISTS (SELECT 1 FROM frame_items fi WHERE fi.sha256 = images.sha256)"
                " AND NOT EXISTS (SELECT 1 FROM response_images ri WHERE ri.sha256 = images.sha256)"
            )
            if shas is None:
                size = conn.execute(f"SELECT COALESCE(SUM(size), 0) FROM images WHERE {cond}").fetchone()[0]
                conn.execute(f"DELETE FROM images WHERE {cond}")
                return int(size)
            total = 0
            for sha in set(shas):
                row = conn.execute(f"SELECT size FROM images WHERE sha256 = ? AND {cond}", (sha,)).fetchone()
                if row is not None:
                    conn.execute("DELETE FROM images WHERE sha256 = ?", (sha,))
                    total += int(row[0])
            return total

        with self._write("pruning") as conn:
            freed += drop_orphans(conn, None)
            total = int(conn.execute("SELECT COALESCE(SUM(size), 0) FROM images").fetchone()[0])
            if total > max_bytes:
                entries = conn.execute(
                    "SELECT 'f', key, used_at FROM frame_sets"
                    " UNION ALL SELECT DISTINCT 'r', r.key, r.used_at FROM responses r"
                    " JOIN response_images ri ON ri.response_key = r.key"
                    " ORDER BY used_at ASC"
                ).fetchall()
                for kind, key, _ in entries:
                    if total <= max_bytes:
                        break
                    if kind == "f":
                        shas = [r[0] for r in conn.execute("SELECT sha256 FROM frame_items WHERE set_key = ?", (key,))]
                        conn.execute("DELETE FROM frame_items WHERE set_key = ?", (key,))
                        conn.execute("DELETE FROM frame_sets WHERE key = ?", (key,))
                    else:
                        shas = [
                            r[0] for r in conn.execute("SELECT sha256 FROM response_images WHERE response_key = ?", (key,))
                        ]
                        conn.execute("DELETE FROM response_images WHERE response_key = ?", (key,))
                    dropped = drop_orphans(conn, shas)
                    total -= dropped
                    freed += dropped
        if freed:
            try:
                self._conn().executescript("PRAGMA incremental_vacuum;")  # steps until every free page is gone
            except sqlite3.Error as err:  # giving space back is best effort
                logger.debug("incremental_vacuum failed: %s", err)
        return freed


class NullCache:
    """The :class:`Cache` interface storing nothing (``--no-cache``): every get misses,
    every put and log is a no-op (``log_request`` returns None), digests are computed each time."""

    enabled = False
    path: Path | None = None
    directory: Path | None = None

    request_key = staticmethod(request_key)
    frames_key = staticmethod(frames_key)
    new_run_id = staticmethod(new_run_id)

    def file_digest(self, path: str | Path) -> str:
        """:func:`file_digest`, not remembered."""
        return file_digest(path)

    def get_response(self, key: str) -> ChatResult | None:
        """Always None."""
        return None

    def put_response(self, key: str, result: ChatResult, *, body: dict) -> None:
        """Does nothing."""

    def get_request(self, key: str, *, restore_images: bool = False) -> dict | None:
        """Always None."""
        return None

    def get_frames(self, key: str) -> list[FrameItem] | None:
        """Always None."""
        return None

    def put_frames(self, key: str, items: list[FrameItem]) -> None:
        """Does nothing."""

    def log_request(
        self,
        *,
        run_id: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        estimated_cost_usd: float | None,
        duration_s: float,
        cached: bool,
        request_key: str | None,
        task: str,
        video: str | Path | None,
        base_url_host: str | None,
        status: str = "ok",
    ) -> int | None:
        """Does nothing; returns None (nothing was logged)."""
        return None

    def recent(self, limit: int = DEFAULT_RECENT_LIMIT, *, run_id: str | None = None) -> list[LogEntry]:
        """Always empty."""
        return []

    def image_bytes(self) -> int:
        """Always 0."""
        return 0

    def prune(self, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
        """Nothing to prune; returns 0."""
        return 0

    def close(self) -> None:
        """Does nothing."""

    def __enter__(self) -> NullCache:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __repr__(self) -> str:
        return "NullCache()"


class CacheLike(Protocol):
    """What the pipeline needs from a cache: :class:`Cache`, :class:`NullCache` or a test fake."""

    enabled: bool

    def file_digest(self, path: str | Path) -> str: ...

    def get_response(self, key: str) -> ChatResult | None: ...

    def put_response(self, key: str, result: ChatResult, *, body: dict) -> None: ...

    def get_frames(self, key: str) -> list[FrameItem] | None: ...

    def put_frames(self, key: str, items: list[FrameItem]) -> None: ...

    def log_request(
        self,
        *,
        run_id: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        estimated_cost_usd: float | None,
        duration_s: float,
        cached: bool,
        request_key: str | None,
        task: str,
        video: str | Path | None,
        base_url_host: str | None,
        status: str = "ok",
    ) -> int | None: ...

    def recent(self, limit: int = DEFAULT_RECENT_LIMIT, *, run_id: str | None = None) -> list[LogEntry]: ...

    def close(self) -> None: ...


AnyCache = Cache | NullCache
"""A real cache or the no-op one."""


def open_cache(directory: str | Path | None = None, *, enabled: bool = True) -> AnyCache:
    """Open the cache, or a :class:`NullCache` when disabled (``--no-cache``).

    Args:
        directory: the cache directory (default :func:`default_cache_dir`).
        enabled: False returns a :class:`NullCache` without touching the disk.

    Returns:
        The cache.

    Raises:
        CacheError: the database cannot be used (see :class:`Cache`).
    """
    return Cache(directory) if enabled else NullCache()
