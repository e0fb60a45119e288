"""Frame sets: the encoded frames chosen for a video with given options, keyed by
:func:`~videovision.store.keys.frames_key`, plus the set's own metadata (scenes, dropped frames,
request split ...); and the remembered content digests of video files.

    packing_frame_set(packing, scenes, selection) -> (meta, items)      what FrameStore.put takes
    frame_set_packing(stored, model, detail)      -> (packing, scenes, selection)
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import CacheError, VideoOpenError
from ..paths import path_text
from ..types import DroppedFrame, PackedImage, Scene
from .db import Database
from .images import Images, ImageStore
from .keys import canonical_json, file_digest, sha256_hex, strip_secrets

if TYPE_CHECKING:
    from ..packing import Packing
    from ..plan import Selection

log = logging.getLogger("videovision")

FrameItem = tuple[dict, bytes]
"""One encoded frame: JSON-able metadata and the encoded image bytes."""

DIGEST_RACY_WINDOW_S = 2.0
"""A digest is not remembered while the file's mtime is this recent (it may still change within
the same timestamp tick, which the (size, mtime, inode) check could not see)."""


@dataclass(frozen=True)
class FrameSet:
    """A stored frame set: its metadata and its frames in order."""

    meta: dict
    items: list[FrameItem]


def packed_to_item(image: PackedImage) -> FrameItem:
    """A :class:`PackedImage` as ``(metadata, bytes)`` for :meth:`FrameStore.put`."""
    meta = {"time": image.time, "index": image.index, "scene": image.scene, "mime": image.mime,
            "width": image.width, "height": image.height, "tokens": image.tokens, "times": list(image.times),
            "label": image.label}
    return meta, image.data


def item_to_packed(meta: dict, data: bytes) -> PackedImage:
    """Rebuild a :class:`PackedImage` from :func:`packed_to_item`'s output.

    Raises:
        CacheError: the metadata lacks a field (the cache holds something else).
    """
    try:
        return PackedImage(
            time=float(meta["time"]), index=int(meta["index"]),
            scene=None if meta.get("scene") is None else int(meta["scene"]), data=data, mime=str(meta["mime"]),
            width=int(meta["width"]), height=int(meta["height"]), tokens=int(meta["tokens"]),
            times=tuple(float(t) for t in meta.get("times", ())), label=str(meta.get("label", "")),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise CacheError(f"cached frame metadata is incomplete ({err}); pass --no-cache or clear the cache") from err


def packing_frame_set(packing: Packing, scenes: tuple[Scene, ...], selection: Selection) -> tuple[dict, list[FrameItem]]:
    """A plan's packed frames as a frame set: ``(meta, items)`` for :meth:`FrameStore.put`."""
    meta = {
        "scenes": [[s.index, s.start, s.end] for s in scenes],
        "dropped": [[d.time, d.reason] for d in packing.dropped], "requests": [list(r) for r in packing.requests],
        "frames_considered": packing.frames_considered, "model_known": packing.model_known,
        "selection": selection.to_json(),
    }
    return meta, [packed_to_item(i) for i in packing.images]


def frame_set_packing(stored: FrameSet, model: str, detail: str) -> tuple[Packing, tuple[Scene, ...], Selection]:
    """(packing, scenes, selection) back from :func:`packing_frame_set`'s frame set, for ``model`` at ``detail``."""
    from ..packing import Packing
    from ..plan import Selection

    meta = stored.meta
    packing = Packing(
        model=model, detail=detail,
        images=tuple(item_to_packed(m, d) for m, d in stored.items),
        dropped=tuple(DroppedFrame(t, r) for t, r in meta["dropped"]),
        requests=tuple(tuple(r) for r in meta["requests"]),
        frames_considered=meta["frames_considered"], model_known=meta["model_known"],
    )
    return packing, tuple(Scene(*s) for s in meta["scenes"]), Selection.from_json(meta["selection"])


def _json_object(text: object) -> dict:
    """A stored JSON object (ValueError/TypeError when the row is damaged)."""
    value = json.loads(text)  # type: ignore[arg-type]
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


class FrameStore:
    """The ``frame_sets`` / ``frame_items`` tables and the ``digests`` memo."""

    def __init__(self, db: Database, images: ImageStore):
        self.db = db
        self.images = images

    def get(self, key: str) -> FrameSet | None:
        """The stored frame set for a key; None when not stored, or when any of its images was
        pruned or is damaged (the caller then rebuilds it).

        Raises:
            CacheError: the cache database failed.
        """
        with self.db.read("reading frames") as conn:
            row = conn.execute("SELECT count, meta_json FROM frame_sets WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            rows = conn.execute(
                "SELECT fi.meta_json, fi.sha256, im.data FROM frame_items fi"
                " LEFT JOIN images im ON im.sha256 = fi.sha256 WHERE fi.set_key = ? ORDER BY fi.position",
                (key,)).fetchall()
            if len(rows) != row[0]:
                return None
            items = []
            try:
                for meta, sha, data in rows:
                    good = self.images.verified(conn, sha, data)
                    if good is None:
                        return None
                    items.append((_json_object(meta), good))
                set_meta = _json_object(row[1])
            except (TypeError, ValueError):
                log.warning("the cached frame set %s… is damaged: it is built again", key[:12])
                return None
        with self.db.write("touching frames") as conn:
            conn.execute("UPDATE frame_sets SET used_at = ? WHERE key = ?", (time.time(), key))
        return FrameSet(set_meta, items)

    def put(self, key: str, meta: dict, items: list[FrameItem]) -> None:
        """Store a frame set (replacing any set with the same key) in one transaction.

        Args:
            key: the frames key of the video and options.
            meta: the set's JSON-able metadata.
            items: ``(metadata, image bytes)`` pairs (``mime`` in the metadata types the image row).

        Raises:
            CacheError: the cache database failed.
            TypeError: an item is not ``(dict, bytes)`` or its metadata is not JSON-able.
        """
        images: Images = {}
        rows = []
        for position, (item_meta, data) in enumerate(items):
            if not isinstance(item_meta, dict) or not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"frame item {position} must be (dict, bytes), "
                                f"got ({type(item_meta).__name__}, {type(data).__name__})")
            data = bytes(data)
            sha = sha256_hex(data)
            images.setdefault(sha, (str(item_meta.get("mime") or "application/octet-stream"), data))
            rows.append((key, position, canonical_json(strip_secrets(item_meta)), sha))
        meta_json = canonical_json(strip_secrets(meta))
        now = time.time()
        with self.db.write("storing frames") as conn:
            ImageStore.put(conn, images)
            conn.execute("DELETE FROM frame_items WHERE set_key = ?", (key,))
            conn.execute("INSERT OR REPLACE INTO frame_sets (key, count, meta_json, created_at, used_at)"
                         " VALUES (?, ?, ?, ?, ?)", (key, len(rows), meta_json, now, now))
            conn.executemany("INSERT INTO frame_items (set_key, position, meta_json, sha256) VALUES (?, ?, ?, ?)",
                             rows)

    def file_digest(self, path: str | os.PathLike) -> str:
        """:func:`~videovision.store.keys.file_digest`, remembered per (path, size, mtime, inode, device).

        A file whose mtime is within :data:`DIGEST_RACY_WINDOW_S` of now is hashed but not remembered.

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
        with self.db.read("looking up a file digest") as conn:
            row = conn.execute("SELECT size, mtime_ns, inode, dev, digest FROM digests WHERE path = ?",
                               (key,)).fetchone()
        if row is not None and tuple(row[:4]) == ident:
            return str(row[4])
        digest = file_digest(real)
        try:
            after = os.stat(real)
        except OSError as err:
            raise VideoOpenError(f"cannot read {path}: {err.strerror or err}") from err
        racy = time.time_ns() - st.st_mtime_ns < DIGEST_RACY_WINDOW_S * 1e9
        if not racy and (after.st_size, after.st_mtime_ns, after.st_ino, after.st_dev) == ident:
            with self.db.write("remembering a file digest") as conn:
                conn.execute("INSERT OR REPLACE INTO digests (path, size, mtime_ns, inode, dev, digest, created_at)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?)", (key, *ident, digest, time.time()))
        return digest
