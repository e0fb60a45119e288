"""Typed values passed between the pipeline stages (frozen dataclasses, never loose dicts).

    probe  -> VideoInfo
    sample -> Frame (streamed), Scene
    pack   -> PackedImage, DroppedFrame, Plan
    ask    -> Usage, ChatResult
    parse  -> Summary, Moment, Answer, Chapter, Chapters

Times are seconds (float) from the video's first frame, from presentation timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from . import defaults
from .usage import Usage

if TYPE_CHECKING:  # annotations only: importing videovision must not load NumPy
    import numpy as np

Strategy = Literal["interval", "uniform", "scenes", "hybrid"]
"""The built-in sampling strategies (``videovision.sampling.strategies``: every one, a new one being
one module there; ``SamplingConfig.strategy`` takes any of them)."""
Detail = Literal["low", "high", "auto", "original"]
ImageFormat = Literal["jpeg", "png", "webp"]
DetectorName = Literal["adaptive", "content", "threshold", "hash", "histogram"]
Preset = Literal["auto", "screen", "film"]
"""Scene detection for screen recordings (slides, documents, IDEs), for film/camera footage, or
chosen from the measured motion (``auto``)."""

SCHEMA_VERSION = 1
"""Version of every JSON document videovision writes (``--json`` output, ``frames.json``, transcripts):
raised only on an incompatible change; see docs/json.md."""

SpeechMode = Literal["auto", "subtitles", "transcribe", "off"]
ScreenTextMode = Literal["auto", "on", "off"]
Task = str
"""A task's name: a module of :mod:`videovision.tasks` defines each (``TASKS``: ``summarize``, ``ask``,
``chapters`` sent through a plan; ``transcript``), so the names are found there, not listed here."""
Style = Literal["brief", "detailed", "bullet"]
BatchTask = str
"""What ``videovision batch`` does to each video: any task's name (:data:`videovision.tasks.TASKS`)."""
ClipMode = Literal["auto", "copy", "encode"]
"""How a clip is cut: packets copied (the start on a keyframe), re-encoded, or chosen (``auto``)."""


@dataclass(frozen=True)
class VideoInfo:
    """What probing a video tells. Sizes are display sizes (rotation and SAR applied)."""

    path: str
    duration: float
    """Seconds from the first frame's timestamp to the end of the last frame."""
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    """Clockwise degrees (0, 90, 180, 270) applied to make frames upright."""
    sample_aspect_ratio: tuple[int, int]
    fps: float
    """Average frame rate (frames / duration)."""
    frame_count: int
    codec: str
    container: str
    has_audio: bool
    start_time: float
    """The first frame's presentation time in the container's timeline, seconds (times in
    videovision are relative to it)."""
    variable_frame_rate: bool
    size_bytes: int
    truncated: bool = False
    """The stream ended early (damaged or partial download); what could be read is used."""

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "duration": round(self.duration, 6),
            "width": self.width,
            "height": self.height,
            "coded_width": self.coded_width,
            "coded_height": self.coded_height,
            "fps": round(self.fps, 6),
            "rotation": self.rotation,
            "sample_aspect_ratio": f"{self.sample_aspect_ratio[0]}:{self.sample_aspect_ratio[1]}",
            "frame_count": self.frame_count,
            "codec": self.codec,
            "container": self.container,
            "has_audio": self.has_audio,
            "start_time": round(self.start_time, 6),
            "variable_frame_rate": self.variable_frame_rate,
            "size_bytes": self.size_bytes,
            "truncated": self.truncated,
        }


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame: upright, at display aspect ratio, RGB uint8 (H, W, 3)."""

    time: float
    """Seconds from the first frame, from the presentation timestamp."""
    index: int
    """Position of the frame in presentation order (0 = first frame)."""
    image: np.ndarray
    """RGB, uint8, shape (height, width, 3)."""
    scene: int | None = None
    """Index of the scene the frame belongs to (scene-aware strategies), else None."""

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True)
class Scene:
    """A shot between two cuts: [start, end) in seconds."""

    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class SamplingConfig:
    """How to choose frames. Checked when built: a bad value raises ``ConfigError`` naming the
    field (``.field``), before any video is opened; ``sampling.validate_config`` checks the range
    against the video's duration."""

    strategy: str = defaults.STRATEGY
    """A strategy's name (:func:`videovision.sampling.strategy_names`; the built-in ones: ``Strategy``)."""
    every: float = defaults.EVERY
    count: int = defaults.COUNT
    max_gap: float = defaults.MAX_GAP
    start: float | None = None
    end: float | None = None
    max_side: int | None = None
    """Downscale chosen frames so their long side is at most this (never upscale)."""
    dedup: bool = False
    dedup_threshold: float | None = None
    """Percent (0-100) of a small grey copy's pixels that must differ for two frames to show
    different pictures; at or below it a frame duplicates one already kept (None: the measured
    default, ``sampling.DEFAULT_DEDUP_CHANGE``)."""
    preset: Preset = defaults.PRESET
    """Scene detection for ``scenes``/``hybrid`` when no ``detector`` or ``threshold`` is given."""
    detector: DetectorName | None = None
    """A PySceneDetect detector, used exactly as ``scenedetect.detect`` would (None: the preset's)."""
    threshold: float | None = None
    """Detector threshold (detector's own default when None); alone it selects the adaptive detector."""
    min_scene_len: float = defaults.MIN_SCENE_LEN
    """Seconds; shorter "scenes" (flashes) are merged into their neighbour."""

    def __post_init__(self) -> None:
        from typing import get_args

        from .sampling.strategies import strategy_names

        for name, allowed in (("strategy", strategy_names()), ("preset", get_args(Preset)),
                              ("detector", get_args(DetectorName))):
            value = getattr(self, name)
            if not (value is None and name == "detector") and value not in allowed:
                _bad(name, f"must be one of {', '.join(allowed)} (got {value!r})")
        _number(self, "every", above=0)
        _number(self, "max_gap", above=0)
        _number(self, "min_scene_len", at_least=0)
        for name in ("start", "end", "threshold"):
            _number(self, name, at_least=0, optional=True)
        _number(self, "dedup_threshold", at_least=0, at_most=100, optional=True)
        _whole(self, "count", 1)
        _whole(self, "max_side", 16, optional=True)
        if not isinstance(self.dedup, bool):
            _bad("dedup", f"must be True or False (got {self.dedup!r})")
        if self.start is not None and self.end is not None and self.end <= self.start:
            _bad("end", f"({self.end:g} s) must be after start ({self.start:g} s)")


def _bad(name: str, what: str) -> None:
    from .errors import ConfigError

    raise ConfigError(f"{name} {what}", field=name)


def _number(config: object, name: str, *, above: float | None = None, at_least: float | None = None,
            at_most: float | None = None, optional: bool = False) -> None:
    """A finite number (not a bool, not text) within the bounds given, else ConfigError naming it."""
    import math

    value = getattr(config, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _bad(name, f"must be a finite number (got {value!r})")
    if (above is not None and value <= above) or (at_least is not None and value < at_least) or (
            at_most is not None and value > at_most):
        bounds = " and ".join(b for b in (f"> {above:g}" if above is not None else "",
                                          f">= {at_least:g}" if at_least is not None else "",
                                          f"<= {at_most:g}" if at_most is not None else "") if b)
        _bad(name, f"must be {bounds} (got {value!r})")


def _whole(config: object, name: str, least: int, *, optional: bool = False) -> None:
    value = getattr(config, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        _bad(name, f"must be a whole number >= {least} (got {value!r})")


@dataclass(frozen=True)
class SpeechConfig:
    """Where the speech sent beside the frames comes from, and how much of it."""

    mode: SpeechMode = defaults.SPEECH
    subtitles: str | None = None
    """A speech file to use (SRT, WebVTT, ASS, or ``videovision transcript --format json``)."""
    subtitle_language: str | None = None
    """Preferred subtitle track / sidecar language (``en``, ``deu`` ...)."""
    transcribe_model: str = defaults.TRANSCRIBE_MODEL
    transcribe_base_url: str | None = None
    """The transcription endpoint (None: the chat endpoint)."""
    language: str | None = None
    """Language hint for transcription (ISO 639-1; ``"en,de"``: several, gpt-transcribe), None: detected."""
    keywords: tuple[str, ...] = ()
    """Words or phrases the speech contains (names, terms) to guide transcription."""
    chunk_seconds: float = defaults.TRANSCRIBE_CHUNK
    max_tokens: int | None = defaults.MAX_SPEECH_TOKENS

    def __post_init__(self) -> None:
        from .errors import ConfigError

        if self.mode not in ("auto", "subtitles", "transcribe", "off"):
            raise ConfigError(f"speech must be auto, subtitles, transcribe or off (got {self.mode!r})", field="speech")
        if not (isinstance(self.chunk_seconds, (int, float)) and 1 <= self.chunk_seconds < float("inf")):
            raise ConfigError("transcribe_chunk must be at least 1 second", field="transcribe_chunk")
        if self.max_tokens is not None and self.max_tokens < 0:
            raise ConfigError("max_speech_tokens must be >= 0", field="max_speech_tokens")


@dataclass(frozen=True)
class RepeatNote:
    """A picked frame that showed practically the same picture as the frame sent before it:
    sent as text (``[00:05.5] same picture as [00:02.6]``), not as an image."""

    time: float
    same_as: float
    """Time of the earlier frame it repeats."""


@dataclass(frozen=True)
class DuplicateDrop:
    """A frame ``dedup`` dropped: it shows the same picture as the kept frame at ``same_as``."""

    time: float
    same_as: float
    change: float
    """Percent of the small grey copy's pixels that differ (at or below the dedup threshold)."""


@dataclass(frozen=True)
class PackedImage:
    """A frame (or a grid of frames) encoded as the model will see it."""

    time: float
    """Time of the (first) frame, seconds."""
    index: int
    scene: int | None
    data: bytes
    mime: str
    width: int
    height: int
    tokens: int
    times: tuple[float, ...] = ()
    """For a grid image: the times of every frame in it, in reading order."""
    label: str = ""
    """Text part sent before the image, e.g. ``[00:01:05.2]``."""
    detail: str = ""
    """This image's own ``detail`` when it differs from the plan's (a frame whose text did not survive
    ``low``, sent at ``high`` within the budget: :mod:`videovision.screentext`), else empty."""
    screen_text: str = ""
    """Text part sent right after the image: what OCR read on screen that the frame before did not
    show (``[00:01:35.0] on screen: ...``; :mod:`videovision.screentext`), or empty."""

    @property
    def frame_times(self) -> tuple[float, ...]:
        return self.times or (self.time,)


@dataclass(frozen=True)
class DroppedFrame:
    time: float
    reason: str


@dataclass(frozen=True)
class ChatResult:
    """One Chat Completions reply."""

    text: str
    usage: Usage
    model: str
    finish_reason: str | None = None
    request_id: str | None = None
    cached: bool = False


@dataclass(frozen=True)
class Summary:
    text: str
    moments: tuple[Moment, ...] = ()
    """Times the summary cites, checked against the frames sent."""
    rejected: tuple[str, ...] = ()
    spans: tuple[tuple[int, int, bool | None], ...] = ()
    """``(start, stop, supported)`` of each time cited in ``text``, in order: ``supported`` is None for
    a time outside the video (renderers mark unsupported citations where they stand)."""
    warnings: tuple[str, ...] = ()
    """One-line messages on what was lost (an empty reply)."""


@dataclass(frozen=True)
class Moment:
    """A moment an answer cites, checked against the frames actually sent."""

    time: float
    end: float | None
    text: str
    frame_time: float | None
    """Time of the nearest frame sent, or None when none was within tolerance."""
    supported: bool
    refined: bool = False
    """Placed by the refine pass (a dense look at the window around the overview's time)."""


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    moments: tuple[Moment, ...] = ()
    rejected: tuple[str, ...] = ()
    """Cited times that were outside the video (kept for the record, not as moments)."""
    warnings: tuple[str, ...] = ()
    """One-line messages on what was lost (an unreadable reply, one text for several questions)."""
    answered_with: int | None = None
    """Index of the answer whose text also answers this question (a reply that did not answer each
    question separately); this answer's own text is then empty."""


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str
    summary: str = ""
    supported: bool = True
    """A frame sent lies near the start, or the start falls inside a spoken line sent."""


@dataclass(frozen=True)
class Chapters:
    chapters: tuple[Chapter, ...] = field(default_factory=tuple)
    rejected: tuple[str, ...] = ()
    """Chapter starts the reply gave outside the video (dropped)."""
    notes: tuple[str, ...] = ()
    """What parsing changed: chapters merged on one scene cut, a first start moved to 0."""
    warnings: tuple[str, ...] = ()
    """One-line messages on what was lost (no chapter could be read, a start that is not a time)."""
    raw: str = ""
    """The reply as received, kept when no chapter could be read from it (renderers show it)."""
