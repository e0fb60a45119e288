"""What videovision remembers between runs: one SQLite file, ``<cache dir>/cache.db``.

    db.py         the SQLite layer: connections, transactions, errors, migrations
    keys.py       request keys, frame-set keys, file digests (no database)
    images.py     images once by SHA-256, verified on read, pruned by size
    responses.py  replies by request key, with their redacted requests
    frames.py     packed frame sets by video digest + options; remembered file digests
    runlog.py     one row per model call
    runs.py       one row per finished run: its command line (``videovision report`` replays it from the cache)
    transcripts.py  transcripts and transcribed chunks by audio digest + options + endpoint

The cache dir is, first match wins: the ``directory`` argument, ``$VIDEOVISION_CACHE_DIR``,
``platformdirs.user_cache_dir("videovision")``. "No cache" is ``None`` wherever a cache is taken.

Concurrency: WAL, a busy timeout, one connection per thread and process, every write one short
``BEGIN IMMEDIATE`` transaction: several threads and processes can share the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import defaults
from .db import BUSY_TIMEOUT_S, DB_FILENAME, ENV_CACHE_DIR, MIGRATIONS, Database
from .frames import FrameItem, FrameSet, FrameStore, item_to_packed, packed_to_item
from .images import IMAGE_REF_PREFIX, ImageStore
from .keys import file_digest, frames_key, new_run_id, request_key, strip_secrets
from .responses import ResponseStore
from .runlog import LogEntry, RunLog
from .runs import RunRecord, RunStore

__all__ = [
    "DB_FILENAME", "ENV_CACHE_DIR", "IMAGE_REF_PREFIX", "MIGRATIONS", "Cache", "FrameItem", "FrameSet",
    "LogEntry", "RunRecord", "default_cache_dir", "file_digest", "frames_key", "item_to_packed", "new_run_id",
    "open_cache", "packed_to_item", "request_key", "strip_secrets",
]

APP_NAME = "videovision"


def default_cache_dir() -> Path:
    """``$VIDEOVISION_CACHE_DIR`` or the platform's user cache directory (not created)."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


class Cache:
    """The cache and run log: ``responses``, ``frames``, ``log`` and ``images`` stores over one database.

    Closing prunes stored images down to ``max_bytes`` (least recently used first) when this
    process wrote anything. Use as a context manager, or call :meth:`close` once, from one thread.
    """

    def __init__(self, directory: str | Path | None = None, *, max_bytes: int = defaults.CACHE_MAX_BYTES,
                 busy_timeout_s: float = BUSY_TIMEOUT_S):
        """Open (creating if needed) the cache.

        Args:
            directory: where ``cache.db`` lives; default :func:`default_cache_dir`.
            max_bytes: cap on stored image bytes, enforced by :meth:`prune` (run by :meth:`close`).
            busy_timeout_s: how long to wait for another process's write before failing.

        Raises:
            CacheError: the directory cannot be created, or the database is corrupt, not a
                videovision cache, from a newer version, or not writable.
        """
        if max_bytes < 0:
            from ..errors import ConfigError

            raise ConfigError("max_bytes must be >= 0", field="max_bytes")
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self.path = self.directory / DB_FILENAME
        self.max_bytes = max_bytes
        self.db = Database(self.path, busy_timeout_s=busy_timeout_s)
        self.images = ImageStore(self.db)
        self.responses = ResponseStore(self.db, self.images)
        self.frames = FrameStore(self.db, self.images)
        self.log = RunLog(self.db)
        self.runs = RunStore(self.db)
        from .transcripts import TranscriptStore  # imports the speech values (PyAV, pysubs2) only here

        self.transcripts = TranscriptStore(self.db, self.log)

    def prune(self, max_bytes: int | None = None) -> int:
        """Shrink stored images to ``max_bytes`` (default: the cache's cap); returns bytes freed.

        Raises:
            CacheError: the cache database failed.
        """
        return self.images.prune(self.max_bytes if max_bytes is None else max_bytes)

    def close(self) -> None:
        """Prune to the size cap, then close every connection. Idempotent; pruning is best effort."""
        if not self.db._closed:
            try:
                self.prune()
            except Exception:  # a full disk or a lock must not turn a finished run into a failure
                pass
        self.db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cache({str(self.directory)!r})"


def open_cache(directory: str | Path | None = None, *, enabled: bool = True,
               max_bytes: int = defaults.CACHE_MAX_BYTES) -> Cache | None:
    """Open the cache, or return None when disabled (``--no-cache``).

    Args:
        directory: the cache directory (default :func:`default_cache_dir`).
        enabled: False returns None without touching the disk.
        max_bytes: cap on stored image bytes.

    Returns:
        The cache, or None.

    Raises:
        CacheError: the database cannot be used (see :class:`Cache`).
    """
    return Cache(directory, max_bytes=max_bytes) if enabled else None
