"""Cache keys for transcripts and transcribed chunks, and the segments' stored form (docs/speech.md).

    transcript_cache_key(audio_digest(path), options, audio_start=...)   a whole transcript
    chunk_cache_key(chunk, options)                                       one chunk's segments
    dump_segments / load_segments                                         what a store keeps per chunk

Keys are SHA-256 of a versioned JSON of everything that changes the result; concurrency is not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .audio import DEFAULT_AUDIO_FORMAT, DEFAULT_CHUNK_SECONDS, ENCODING_TAGS, AudioChunk, AudioFormat
from .transcript import Segment

if TYPE_CHECKING:
    from .transcribe import TranscribeOptions

__all__ = ["CACHE_KEY_VERSION", "chunk_cache_key", "dump_segments", "load_segments", "transcript_cache_key"]

CACHE_KEY_VERSION = 1
"""Bumped when what a key covers changes."""

def _key(fields: Mapping[str, Any]) -> str:
    text = json.dumps({"v": CACHE_KEY_VERSION, **fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def chunk_cache_key(chunk: AudioChunk, options: TranscribeOptions) -> str:
    """The key of one chunk's segments: the chunk's bytes, its place on the timeline, the options.

    Args:
        chunk: the encoded chunk.
        options: the transcription options.

    Returns:
        Hex digest.
    """
    return _key({"kind": "transcription-chunk", "audio": chunk.sha256, "start": round(chunk.start, 6), **options.cache_fields()})


def transcript_cache_key(
    audio_digest: str,
    options: TranscribeOptions,
    *,
    audio_start: float,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    audio_format: AudioFormat = DEFAULT_AUDIO_FORMAT,
) -> str:
    """The key of a whole transcript: the audio's content digest, where the audio starts on the
    video timeline, how it is chunked and encoded, and the transcription options.

    Args:
        audio_digest: ``audio_digest(path)``.
        options: the transcription options.
        audio_start: ``probe_audio(path).start`` (seconds from the first video frame).
        chunk_seconds: the chunk length used.
        audio_format: the chunk format used (the key records its encoder settings,
            ``ENCODING_TAGS``).

    Returns:
        Hex digest. Store ``Transcript.dumps()`` under it; read with ``Transcript.loads``.
    """
    return _key(
        {
            "kind": "transcript",
            "audio": audio_digest,
            "audio_start": round(audio_start, 6),
            "chunk_seconds": float(chunk_seconds),
            "audio_format": ENCODING_TAGS.get(audio_format, audio_format),
            **options.cache_fields(),
        }
    )


def dump_segments(segments: Sequence[Segment]) -> str:
    """Segments as compact JSON text (a list of ``Segment.to_json()``)."""
    return json.dumps([s.to_json() for s in segments], ensure_ascii=False, separators=(",", ":"))


def load_segments(text: str | bytes) -> tuple[Segment, ...]:
    """Parse ``dump_segments`` output.

    Raises:
        ConfigError: not a list of segments.
    """
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"stored segments are not JSON ({err})") from err
    if not isinstance(data, list):
        raise ConfigError("stored segments must be a JSON list")
    return tuple(Segment.from_json(item) for item in data)

