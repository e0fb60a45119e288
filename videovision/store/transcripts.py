"""Transcripts: whole ones by audio digest + options + endpoint, and each transcribed chunk's
segments, so a re-run transcribes nothing and an interrupted transcription uploads only what is
missing."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..speech.keys import dump_segments, load_segments
from ..speech.transcript import Segment, Transcript
from .db import Database
from .runlog import RunLog


class TranscriptStore:
    """The ``transcripts`` table (kind ``transcript`` or ``chunk``); each upload is logged in ``log``."""

    def __init__(self, db: Database, log: RunLog | None = None):
        self.db = db
        self.log = log

    def log_upload(self, *, run_id: str, model: str, audio_seconds: float, cost_usd: float | None,
                   duration_s: float, status: str, video: str | None, endpoint: str | None) -> None:
        """One transcription request in the run log (task ``transcribe``), when there is one."""
        if self.log is not None:
            self.log.add(run_id=run_id, model=model, prompt_tokens=0, completion_tokens=0,
                         estimated_cost_usd=cost_usd, duration_s=duration_s, cached=False, request_key=None,
                         task="transcribe", video=video, endpoint=endpoint, status=status,
                         audio_seconds=audio_seconds)

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
