"""What a transcription reply says, as segments on the video's timeline (:mod:`videovision.speech.transcribe`
sends the chunks). Timed formats give exact segments; a text-only reply gets its sentences spread over
the chunk in proportion to their length, marked ``approximate``; a plain-text or HTML answer where a
JSON transcript was asked for is refused (:class:`~videovision.errors.ResponseFormatError`), never
taken for speech.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import ResponseFormatError
from ..timecode import format_time
from .audio import AudioChunk
from .transcript import Segment, place_on_timeline

TIMED_FORMATS = frozenset({"verbose_json", "diarized_json"})
JSON_FORMATS = frozenset({"json", *TIMED_FORMATS})
"""Formats whose reply must be a JSON object (a plain-text or HTML answer is refused, never a transcript)."""
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+")


def chunk_span(chunk: AudioChunk) -> str:
    return f"{format_time(max(0.0, chunk.start), precision=0)}-{format_time(max(0.0, chunk.end), precision=0)}"


def _as_data(reply: Any) -> tuple[Mapping[str, Any] | None, str | None]:
    """(the JSON object of a reply, or the text of a plain-text reply)."""
    if isinstance(reply, str):
        return None, reply
    if isinstance(reply, Mapping):
        return reply, None
    dump = getattr(reply, "model_dump", None)
    if callable(dump):
        data = dump()
        return (data, None) if isinstance(data, Mapping) else (None, None)
    return None, None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


_HTML = re.compile(r"\A\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.IGNORECASE)


def segments_from_reply(reply: Any, chunk: AudioChunk, fmt: str, host: str) -> tuple[Segment, ...]:
    data, text = _as_data(reply)
    if text is not None and (fmt in JSON_FORMATS or _HTML.match(text)):
        what = "a web page (HTML)" if _HTML.match(text) else "plain text"
        raise ResponseFormatError(
            f"transcribing audio {chunk_span(chunk)}: {host} answered with {what}, not a {fmt} transcript: "
            "check the transcription endpoint (--transcribe-base-url) and its key"
        )
    raw = data.get("segments") if data is not None else None
    if fmt in TIMED_FORMATS and isinstance(raw, list) and raw:
        return _timed_segments(raw, chunk)
    if data is not None:
        text = data.get("text") if isinstance(data.get("text"), str) else None
    if text is None:
        raise ResponseFormatError(
            f"transcribing audio {chunk_span(chunk)}: the reply from {host} has neither segments nor text: "
            "check that the transcription endpoint is OpenAI-compatible"
        )
    return _approximate_segments(text, chunk)


def _timed_segments(raw: list[Any], chunk: AudioChunk) -> tuple[Segment, ...]:
    segments = []
    length = chunk.duration
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        start, end = _number(item.get("start")), _number(item.get("end"))
        if start is None or end is None or not isinstance(item.get("text"), str):
            continue
        start = min(max(0.0, start), length)
        end = min(max(start, end), length)  # models sometimes run the last segment past the audio
        speaker = item.get("speaker")
        segment = place_on_timeline(
            start, end, item["text"], shift=chunk.start, speaker=speaker if isinstance(speaker, str) else None
        )
        if segment is not None:
            segments.append(segment)
    return tuple(segments)


def _approximate_segments(text: str, chunk: AudioChunk) -> tuple[Segment, ...]:
    """Sentences spread over the chunk in proportion to their length, marked approximate."""
    sentences = [s for s in (" ".join(part.split()) for part in _SENTENCE_END.split(text)) if s]
    total = sum(len(s) for s in sentences)
    segments = []
    done = 0
    for sentence in sentences:
        begin = chunk.duration * done / total
        done += len(sentence)
        end = chunk.duration * done / total
        segment = place_on_timeline(begin, end, sentence, shift=chunk.start, approximate=True)
        if segment is not None:
            segments.append(segment)
    return tuple(segments)
