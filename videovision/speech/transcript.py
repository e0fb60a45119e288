"""The values the hear stage produces: ``Segment`` (one timed line) and ``Transcript``.

Times are seconds from the video's first frame (the same timeline as every frame time in
videovision). The JSON form is what ``videovision transcript --format json`` writes and what an
explicit speech file may be (docs/speech.md):

    {"schema_version": 1, "video": {...}, "source": "subtitles" | "sidecar" | "transcription",
     "model": "whisper-1" | null, "language": "en" | null, "track": "...",
     "segments": [{"start": 1.2, "end": 3.4, "text": "...", "speaker": "A", "approximate": true}]}

``speaker`` appears only when known, ``approximate`` only when true (text placed by chunk time
because the model gave no timestamps).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ..errors import ConfigError
from ..types import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "SPEECH_SOURCES", "Segment", "SpeechSource", "Transcript", "place_on_timeline"]

SpeechSource = Literal["subtitles", "sidecar", "transcription"]
"""Where a transcript came from: an embedded subtitle track, a subtitle file, or the audio."""
SPEECH_SOURCES: tuple[str, ...] = get_args(SpeechSource)
TIME_DECIMALS = 3
"""Times are written to JSON rounded to milliseconds."""


@dataclass(frozen=True)
class Segment:
    """One spoken line.

    Attributes:
        start: seconds from the first video frame when the line begins (>= 0).
        end: seconds from the first video frame when it ends (>= start).
        text: the words, one line, styling removed.
        speaker: who speaks, when the source says (subtitle speaker tags, diarized transcription).
        approximate: True when the time is estimated (a model that returned text without timestamps).
    """

    start: float
    end: float
    text: str
    speaker: str | None = None
    approximate: bool = False

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"segment {name} must be a finite number of seconds, not {value!r}")
        if self.start < 0 or self.end < self.start:
            raise ConfigError(f"segment times must satisfy 0 <= start <= end, got {self.start!r}..{self.end!r}")
        if not isinstance(self.text, str):
            raise ConfigError(f"segment text must be a string, not {type(self.text).__name__}")
        if self.speaker is not None and not isinstance(self.speaker, str):
            raise ConfigError(f"segment speaker must be a string or null, not {type(self.speaker).__name__}")

    def to_json(self) -> dict[str, Any]:
        """The segment as a JSON object (``speaker``/``approximate`` only when set)."""
        data: dict[str, Any] = {
            "start": round(self.start, TIME_DECIMALS),
            "end": round(self.end, TIME_DECIMALS),
            "text": self.text,
        }
        if self.speaker is not None:
            data["speaker"] = self.speaker
        if self.approximate:
            data["approximate"] = True
        return data

    @classmethod
    def from_json(cls, data: Any) -> Segment:
        """Read a segment written by ``to_json``.

        Raises:
            ConfigError: not an object, or a field is missing or of the wrong type.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"a transcript segment must be an object, not {type(data).__name__}")
        missing = [k for k in ("start", "end", "text") if k not in data]
        if missing:
            raise ConfigError(f"a transcript segment lacks {', '.join(missing)}")
        approximate = data.get("approximate", False)
        if not isinstance(approximate, bool):
            raise ConfigError("a transcript segment's 'approximate' must be true or false")
        return cls(data["start"], data["end"], data["text"], data.get("speaker"), approximate)


@dataclass(frozen=True)
class Transcript:
    """Timed speech of one video, segments in time order.

    Attributes:
        segments: the lines, sorted by start time.
        source: ``"subtitles"`` (embedded track), ``"sidecar"`` (a subtitle or transcript file) or
            ``"transcription"`` (the audio sent to a transcription endpoint).
        model: the transcription model (None for subtitles).
        language: the language when known (track metadata, the hint given, or what the endpoint said).
        track: where exactly the text came from (``"stream #2 mov_text (eng)"``, a file name ...).
        video: facts about the video for the JSON form (``VideoInfo.to_json()``); may be empty.
    """

    segments: tuple[Segment, ...]
    source: SpeechSource
    model: str | None = None
    language: str | None = None
    track: str | None = None
    video: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in SPEECH_SOURCES:
            raise ConfigError(f"unknown transcript source {self.source!r}: use one of {', '.join(SPEECH_SOURCES)}")
        segments = tuple(self.segments)
        if any(not isinstance(s, Segment) for s in segments):
            raise ConfigError("transcript segments must be Segment values")
        object.__setattr__(self, "segments", tuple(sorted(segments, key=lambda s: (s.start, s.end))))

    @property
    def text(self) -> str:
        """All the words, one line per segment."""
        return "\n".join(s.text for s in self.segments)

    @property
    def approximate(self) -> bool:
        """True when any segment's time is estimated."""
        return any(s.approximate for s in self.segments)

    def to_json(self) -> dict[str, Any]:
        """The transcript as a JSON object (see the module docstring)."""
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "video": dict(self.video),
            "source": self.source,
            "model": self.model,
            "language": self.language,
        }
        if self.track is not None:
            data["track"] = self.track
        data["segments"] = [s.to_json() for s in self.segments]
        return data

    @classmethod
    def from_json(cls, data: Any) -> Transcript:
        """Read a transcript written by ``to_json``.

        Raises:
            ConfigError: not a transcript, or a newer schema version.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("segments"), list):
            raise ConfigError("not a videovision transcript: expected an object with a 'segments' list")
        version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
            raise ConfigError(
                f"transcript schema_version {version!r} is not supported (this videovision reads up to {SCHEMA_VERSION})"
            )
        video = data.get("video") or {}
        if not isinstance(video, Mapping):
            raise ConfigError("a transcript's 'video' must be an object")
        for name in ("model", "language", "track"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ConfigError(f"a transcript's {name!r} must be a string or null")
        return cls(
            segments=tuple(Segment.from_json(s) for s in data["segments"]),
            source=data.get("source", "sidecar"),
            model=data.get("model"),
            language=data.get("language"),
            track=data.get("track"),
            video=dict(video),
        )

    def dumps(self) -> str:
        """The JSON text (UTF-8 safe, compact), e.g. to cache."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | bytes) -> Transcript:
        """Parse the JSON text written by ``dumps`` (or any ``to_json`` output).

        Raises:
            ConfigError: not JSON, or not a transcript.
        """
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ConfigError(f"not a videovision transcript: invalid JSON ({err})") from err
        return cls.from_json(data)


def place_on_timeline(
    start: float, end: float, text: str, *, shift: float = 0.0, speaker: str | None = None, approximate: bool = False
) -> Segment | None:
    """A segment moved by ``shift`` seconds onto the video timeline; None when it is empty or ends
    before the first frame. A line that begins before the first frame starts at 0.

    Args:
        start, end: seconds on the source's own timeline.
        text: the words (surrounding whitespace removed, inner runs of whitespace made one space).
        shift: seconds to add (source timeline -> video timeline).
        speaker: who speaks, if known (empty strings count as unknown).
        approximate: the time is an estimate.

    Returns:
        The segment, or None.
    """
    words = " ".join(str(text).split())
    begin, finish = start + shift, max(start, end) + shift
    if not words or finish <= 0 or not (math.isfinite(begin) and math.isfinite(finish)):
        return None
    name = " ".join(speaker.split()) if isinstance(speaker, str) else None
    return Segment(max(0.0, begin), finish, words, name or None, approximate)

