"""Transcripts: whole ones by audio digest + options + endpoint, and each transcribed chunk's
segments, so a re-run transcribes nothing and an interrupted transcription uploads only what is
missing."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..speech.keys import dump_segments, load_segments
from ..speech.transcript import Segment, Transcript
from .db import Database


class TranscriptStore:
    """The ``transcripts`` table (kind ``transcript`` or ``chunk``)."""

    def __init__(self, db: Database):
        self.db = db

    def _get(self, key: str, kind: str) -> str | None:
        with self.db.read("reading a transcript") as conn:
            row = conn.execute("SELECT json FROM transcripts WHERE key = ? AND kind = ?", (key, kind)).fetchone()
        if row is None:
            return None
        with self.db.write("touching a transcript") as conn:
            conn.execute("UPDATE transcripts SET used_at = ? WHERE key = ?", (time.time(), key))
        return str(row[0])

    def _put(self, key: str, kind: str, text: str) -> None:
        now = time.time()
        with self.db.write("storing a transcript") as conn:
            conn.execute("INSERT OR REPLACE INTO transcripts (key, kind, json, created_at, used_at)"
                         " VALUES (?, ?, ?, ?, ?)", (key, kind, text, now, now))

    def get(self, key: str) -> Transcript | None:
        """The stored transcript, or None (also when what is stored no longer parses)."""
        text = self._get(key, "transcript")
        if text is None:
            return None
        try:
            return Transcript.loads(text)
        except Exception:  # an older or damaged entry is a miss, not a failure
            return None

    def put(self, key: str, transcript: Transcript) -> None:
        self._put(key, "transcript", transcript.dumps())

    def chunks(self) -> ChunkSegments:
        """The per-chunk view (what :func:`videovision.speech.transcribe_media` takes as ``store``)."""
        return ChunkSegments(self)


class ChunkSegments:
    """``SegmentStore`` over the transcripts table: one chunk's segments by its chunk key."""

    def __init__(self, store: TranscriptStore):
        self.store = store

    def get(self, key: str) -> Sequence[Segment] | None:
        text = self.store._get(key, "chunk")
        if text is None:
            return None
        try:
            return load_segments(text)
        except Exception:
            return None

    def put(self, key: str, segments: Sequence[Segment]) -> None:
        self.store._put(key, "chunk", dump_segments(segments))
