"""``transcript``: a video's speech with exact times, from its subtitles, a sidecar file or its audio
transcribed. No frames are sent: it runs without a plan (``pipeline.transcribe_video``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..render.exports import transcript_lines
from .base import Task


class TranscriptTask(Task):
    name = "transcript"
    order = 4
    plans = False
    help = "the speech of a video, timed (subtitles or transcription)"
    description = ("Print a video's speech with exact times: from its subtitles, a sidecar file, or its audio sent "
                   "to an OpenAI-compatible transcription endpoint.")
    example = "videovision transcript talk.mp4 --format srt -o talk.srt"
    command = "tasks:cmd_transcript"
    errors = "transcript"
    video_help = "video or audio file, or an http(s) URL"
    what = "the transcript"

    def text(self, value: Any, markdown: bool = False, *, notes: bool = True) -> str:
        return transcript_lines(value)

    def document(self, value: Any, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {**value.to_json(), **(extra or {})}

    def written(self, value: Any) -> str:
        return f"{len(value.segments)} lines ({value.source})"


TASK = TranscriptTask()
