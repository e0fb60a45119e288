"""Images stored once, content-addressed by SHA-256, checked on every read, pruned by size.

Requests are stored *redacted*: each ``data:...;base64,...`` URL becomes ``"sha256:<hex>"``
pointing at an image row, so no base64 text lands in any other table and shared frames are
stored once.
"""

from __future__ import annotations

import base64
import binascii
import logging
import sqlite3
import time
from typing import Any

from ..models.headers import data_url, split_data_url
from .db import Database
from .keys import is_secret_key, sha256_hex

logger = logging.getLogger("videovision.cache")

IMAGE_REF_PREFIX = "sha256:"
"""What a data URL becomes in a stored request: ``"sha256:<hex of the image bytes>"``."""

Images = dict[str, tuple[str, bytes]]
"""sha256 -> (mime, bytes): images collected for one write."""


def redact(value: Any, images: Images) -> Any:
    """Copy of a request with secrets dropped and base64 data URLs replaced by image refs
    (the images collected into ``images``)."""
    if isinstance(value, dict):
        return {k: redact(v, images) for k, v in value.items() if not is_secret_key(k)}
    if isinstance(value, (list, tuple)):
        return [redact(v, images) for v in value]
    if isinstance(value, str):
        parts = split_data_url(value)
        if parts is not None:
            mime, payload = parts
            try:
                data = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                data = payload.encode("ascii", "replace")
            sha = sha256_hex(data)
            images.setdefault(sha, (mime, data))
            return IMAGE_REF_PREFIX + sha
    return value


def restore(value: Any, found: Images) -> Any:
    """Undo :func:`redact` for the images in ``found`` (other references stay as they are)."""
    if isinstance(value, dict):
        return {k: restore(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [restore(v, found) for v in value]
    if isinstance(value, str) and value.startswith(IMAGE_REF_PREFIX) and value[len(IMAGE_REF_PREFIX):] in found:
        mime, data = found[value[len(IMAGE_REF_PREFIX):]]
        return data_url(mime, data)
    return value


class ImageStore:
    """The ``images`` table."""

    def __init__(self, db: Database):
        self.db = db
        self._warned = False

    @staticmethod
    def put(conn: sqlite3.Connection, images: Images) -> None:
        """Insert images (inside the caller's write transaction); existing ones are kept."""
        now = time.time()
        conn.executemany(
            "INSERT OR IGNORE INTO images (sha256, mime, size, data, created_at) VALUES (?, ?, ?, ?, ?)",
            [(sha, mime, len(data), data, now) for sha, (mime, data) in images.items()],
        )

    def verified(self, conn: sqlite3.Connection, sha: str, data: bytes | None) -> bytes | None:
        """``data`` if its SHA-256 is ``sha``; else None, and the damaged row is deleted (warned once).

        A damaged image is treated as missing, so whatever holds it is rebuilt instead of sent.
        """
        if data is None:
            return None
        data = bytes(data)
        if sha256_hex(data) == sha:
            return data
        if not self._warned:
            self._warned = True
            logger.warning("the cache held a damaged image (its bytes no longer match their digest): "
                           "it is rebuilt, not sent")
        try:
            conn.execute("DELETE FROM images WHERE sha256 = ?", (sha,))
        except sqlite3.Error as err:  # inside a read snapshot the delete may be refused: next write cleans up
            logger.debug("could not delete a damaged image: %s", err)
        return None

    def total_bytes(self) -> int:
        """Total bytes of stored images."""
        with self.db.read("measuring the cache") as conn:
            return int(conn.execute("SELECT COALESCE(SUM(size), 0) FROM images").fetchone()[0])

    def prune(self, max_bytes: int) -> int:
        """Shrink stored images to at most ``max_bytes``, least recently used first.

        Images no longer referenced are deleted first. Then, oldest first by last use, frame sets
        are deleted and responses lose their image references (the answers themselves are kept:
        they are small and cost money), deleting images nothing else refers to, until the total
        fits. The run log is never pruned. Freed pages go back to the file system.

        Args:
            max_bytes: the cap on the total size of stored images.

        Returns:
            Bytes of image data deleted.

        Raises:
            CacheError: the cache database failed.
        """
        with self.db.write("pruning") as conn:
            freed = _drop_orphans(conn, None)
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
                    dropped = _drop_owner(conn, kind, key)
                    total -= dropped
                    freed += dropped
        if freed:
            try:
                self.db.connection().executescript("PRAGMA incremental_vacuum;")
            except sqlite3.Error as err:  # giving space back is best effort
                logger.debug("incremental_vacuum failed: %s", err)
        return freed


_ORPHAN = ("NOT EXISTS (SELECT 1 FROM frame_items fi WHERE fi.sha256 = images.sha256)"
           " AND NOT EXISTS (SELECT 1 FROM response_images ri WHERE ri.sha256 = images.sha256)")


def _drop_orphans(conn: sqlite3.Connection, shas: list[str] | None) -> int:
    """Delete unreferenced images (all, or among ``shas``); returns the bytes freed."""
    if shas is None:
        size = conn.execute(f"SELECT COALESCE(SUM(size), 0) FROM images WHERE {_ORPHAN}").fetchone()[0]
        conn.execute(f"DELETE FROM images WHERE {_ORPHAN}")
        return int(size)
    total = 0
    for sha in set(shas):
        row = conn.execute(f"SELECT size FROM images WHERE sha256 = ? AND {_ORPHAN}", (sha,)).fetchone()
        if row is not None:
            conn.execute("DELETE FROM images WHERE sha256 = ?", (sha,))
            total += int(row[0])
    return total


def _drop_owner(conn: sqlite3.Connection, kind: str, key: str) -> int:
    """Release a frame set (``f``) or a response's images (``r``); returns the bytes freed."""
    if kind == "f":
        shas = [r[0] for r in conn.execute("SELECT sha256 FROM frame_items WHERE set_key = ?", (key,))]
        conn.execute("DELETE FROM frame_items WHERE set_key = ?", (key,))
        conn.execute("DELETE FROM frame_sets WHERE key = ?", (key,))
    else:
        shas = [r[0] for r in conn.execute("SELECT sha256 FROM response_images WHERE response_key = ?", (key,))]
        conn.execute("DELETE FROM response_images WHERE response_key = ?", (key,))
    return _drop_orphans(conn, shas)
