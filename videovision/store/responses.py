"""Model replies keyed by :func:`~videovision.store.keys.request_key`, with their redacted requests,
so the same question about the same frames is never paid for twice."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from ..errors import CacheError
from ..types import ChatResult, Usage
from .db import Database
from .images import Images, ImageStore, redact, restore
from .keys import canonical_json

Scrub = Callable[[str], str]

log = logging.getLogger("videovision")


class ResponseStore:
    """The ``responses`` and ``response_images`` tables."""

    def __init__(self, db: Database, images: ImageStore):
        self.db = db
        self.images = images

    def get(self, key: str) -> ChatResult | None:
        """The stored reply for a request key, with ``cached=True``; None when not stored.

        Raises:
            CacheError: the cache database failed.
        """
        with self.db.read("reading a response") as conn:
            row = conn.execute(
                "SELECT text, prompt_tokens, completion_tokens, model, finish_reason, request_id"
                " FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        with self.db.write("touching a response") as conn:
            conn.execute("UPDATE responses SET used_at = ? WHERE key = ?", (time.time(), key))
        text, prompt_tokens, completion_tokens, model, finish_reason, request_id = row
        if isinstance(text, bytes):  # written by another tool: usable when it is UTF-8
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if not isinstance(text, str) or not all(isinstance(n, int) for n in (prompt_tokens, completion_tokens)):
            log.warning("the cached reply %s… is damaged: it is asked again", key[:12])
            return None
        return ChatResult(text=text, usage=Usage(prompt_tokens, completion_tokens), model=model,
                          finish_reason=finish_reason, request_id=request_id, cached=True)

    def put(self, key: str, result: ChatResult, *, body: dict, scrub: Scrub | None = None) -> None:
        """Store a reply and its redacted request in one transaction.

        The request is stored with API-key-like entries dropped and every base64 data URL replaced
        by ``"sha256:<hex>"`` (the image bytes go to the images table once).

        Args:
            key: the request key of ``body``.
            result: the reply.
            body: the request body that was sent.
            scrub: applied to the reply text before storing (removes an API key a server echoed).

        Raises:
            CacheError: the cache database failed.
            TypeError: the body holds a value JSON cannot encode.
        """
        images: Images = {}
        request_json = canonical_json(redact(body, images))
        text = scrub(result.text) if scrub is not None else result.text
        now = time.time()
        with self.db.write("storing a response") as conn:
            ImageStore.put(conn, images)
            conn.execute(
                "INSERT OR REPLACE INTO responses (key, model, text, prompt_tokens, completion_tokens,"
                " finish_reason, request_id, request_json, created_at, used_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, result.model, text, int(result.usage.prompt_tokens), int(result.usage.completion_tokens),
                 result.finish_reason, result.request_id, request_json, now, now),
            )
            conn.execute("DELETE FROM response_images WHERE response_key = ?", (key,))
            conn.executemany("INSERT OR IGNORE INTO response_images (response_key, sha256) VALUES (?, ?)",
                             [(key, sha) for sha in images])

    def get_request(self, key: str, *, restore_images: bool = False) -> dict | None:
        """The stored (redacted) request of a response, for inspection.

        Args:
            key: the request key.
            restore_images: turn ``"sha256:<hex>"`` references back into data URLs (references to
                pruned or damaged images stay as they are).

        Returns:
            The request body without secrets, or None when not stored.

        Raises:
            CacheError: the cache database failed.
        """
        with self.db.read("reading a request") as conn:
            row = conn.execute("SELECT request_json FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            try:
                body = json.loads(row[0])
            except (TypeError, ValueError) as err:
                raise CacheError(f"the cached request {key[:12]}… is damaged ({err}): clear the cache "
                                 "(videovision log shows where it is)") from err
            if not restore_images:
                return body
            found: Images = {}
            for (sha,) in conn.execute("SELECT sha256 FROM response_images WHERE response_key = ?", (key,)).fetchall():
                image = conn.execute("SELECT mime, data FROM images WHERE sha256 = ?", (sha,)).fetchone()
                data = self.images.verified(conn, sha, image[1]) if image is not None else None
                if image is not None and data is not None:
                    found[sha] = (image[0], data)
        return restore(body, found)
