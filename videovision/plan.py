"""The values a plan is made of: the task's config, each request, what frame selection decided,
the speech sent, and the :class:`Plan` itself (everything that will be sent, and its cost, known
before sending). Built by :func:`videovision.pipeline.make_plan`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import defaults
from .errors import ConfigError
from .models import BATCH_PRICE_FACTOR, ModelSpec, estimate_cost
from .packing import Budget, PackConfig, Packing
from .prompts import PromptOptions
from .render.documents import document
from .render.documents import round_cost as _round_cost
from .request import Request
from .screentext import ScreenTextConfig
from .speech.estimate import SpeechEstimate
from .speech.transcript import Segment
from .timecode import time_label
from .types import (
    DroppedFrame,
    DuplicateDrop,
    PackedImage,
    RepeatNote,
    SamplingConfig,
    Scene,
    SpeechConfig,
    VideoInfo,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .parsing import TimeCheck
    from .refine import RefineEstimate
    from .screentext import ScreenText


@dataclass(frozen=True)
class TaskConfig:
    """Everything a summarize / ask / chapters run needs besides the video and the endpoint."""

    sampling: SamplingConfig = field(default_factory=lambda: SamplingConfig(strategy=defaults.TASK_STRATEGY))
    pack: PackConfig = field(default_factory=lambda: PackConfig(budget=Budget(max_frames=defaults.MAX_FRAMES)))
    prompt: PromptOptions = field(default_factory=PromptOptions)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    screen_text: ScreenTextConfig = field(default_factory=ScreenTextConfig)
    """Text read on screen by OCR, sent after its frame (:mod:`videovision.screentext`)."""
    concurrency: int = defaults.CONCURRENCY
    """Map-reduce chunk requests in flight at once."""
    tolerance: float = defaults.TOLERANCE
    """Seconds within which a cited time counts as supported by a frame sent."""
    auto_gap: bool = True
    """Hybrid sampling: choose ``max_gap`` from the frame budget and the duration."""
    refine: bool = defaults.REFINE
    """``ask``: a second, dense pass around each cited moment (see :mod:`videovision.refine`)."""
    refine_max: int = defaults.REFINE_MAX
    """``ask``: moments refined at most."""
    strict: bool = False
    """Stop the run (``UsageMismatchError``, exit 7) instead of warning when a reply's usage shows its
    images were not read (the CLI's ``--strict`` also exits 7 after printing a result with warnings)."""

    def __post_init__(self) -> None:
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise ConfigError("concurrency must be a whole number >= 1", field="concurrency")
        if not (isinstance(self.tolerance, (int, float)) and math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ConfigError("tolerance must be a finite number of seconds >= 0", field="tolerance")
        if isinstance(self.refine_max, bool) or not isinstance(self.refine_max, int) or self.refine_max < 0:
            raise ConfigError("refine_max must be a whole number >= 0", field="refine_max")


@dataclass(frozen=True)
class RequestPlan:
    """One request of a plan."""

    kind: str
    """``single``, ``map`` (one chunk of a long video) or ``reduce`` (merges the map results)."""
    time_range: tuple[float, float]
    images: tuple[int, ...]
    """Indices into ``Plan.packing.images``."""
    image_tokens: int
    text_tokens: int
    body: dict | None
    """The exact body the plan's wire sends (None for ``reduce``, which depends on the map replies)."""
    request: Request | None = None
    """The neutral request ``body`` encodes (None for ``reduce``)."""


@dataclass(frozen=True)
class Selection:
    """What frame selection decided besides the frames: the scene preset chosen and why, pictures
    sent as a "same picture" note instead of an image, frames ``dedup`` dropped, option notes."""

    preset: str | None = None
    """``screen``, ``film`` or ``detector`` (scene strategies), else None."""
    preset_reason: str = ""
    repeats: tuple[RepeatNote, ...] = ()
    duplicates: tuple[DuplicateDrop, ...] = ()
    notes: tuple[str, ...] = ()
    blank_only: bool = False
    """Every picture was blank (camera off, a black screen, one colour): with speech, none is sent."""

    def to_json(self) -> dict:
        return {"preset": self.preset, "preset_reason": self.preset_reason,
                "repeats": [[r.time, r.same_as] for r in self.repeats],
                "duplicates": [[d.time, d.same_as, d.change] for d in self.duplicates], "notes": list(self.notes),
                "blank_only": self.blank_only}

    @classmethod
    def from_json(cls, data: dict) -> Selection:
        return cls(data.get("preset"), data.get("preset_reason", ""),
                   tuple(RepeatNote(*r) for r in data.get("repeats", ())),
                   tuple(DuplicateDrop(*d) for d in data.get("duplicates", ())), tuple(data.get("notes", ())),
                   bool(data.get("blank_only", False)))


@dataclass(frozen=True)
class PlanSpeech:
    """The speech a plan sends beside its frames."""

    source: str | None = None
    """``subtitles``, ``sidecar``, ``transcription``, or None (no speech)."""
    segments: tuple[Segment, ...] = ()
    """The lines sent (after the token budget), in time order."""
    dropped: int = 0
    """Lines left out to fit ``max_speech_tokens`` (thinned evenly over the whole video)."""
    tokens: int = 0
    """Text tokens of the lines sent (an estimate while the transcription is pending)."""
    pending: SpeechEstimate | None = None
    """Transcription still to do (``plan``/``--dry-run``): its estimate; the requests carry no speech yet."""
    note: str = ""

    @property
    def heard(self) -> bool:
        """There is speech to send (lines, or a transcription still to do)."""
        return bool(self.segments) or self.pending is not None

    @property
    def transcription_cost_usd(self) -> float | None:
        return self.pending.cost if self.pending is not None else 0.0

    def to_json(self) -> dict:
        return {"source": self.source, "lines": len(self.segments), "lines_dropped": self.dropped,
                "tokens": self.tokens, "estimated": self.pending is not None,
                "audio_seconds": round(self.pending.audio_seconds, 3) if self.pending else None,
                "transcription_cost_usd": _round_cost(self.transcription_cost_usd), "note": self.note}


@dataclass(frozen=True)
class Plan:
    """Everything that will be sent, and what it will cost, known before sending."""

    video: VideoInfo
    config: TaskConfig
    """The task's config as planned: defaults settled (output-token limit, automatic hybrid gap)."""
    spec: ModelSpec
    """The model's parameters, resolved once."""
    packing: Packing
    scenes: tuple[Scene, ...]
    requests: tuple[RequestPlan, ...]
    text_tokens_exact: bool
    selection: Selection = Selection()
    speech: PlanSpeech = PlanSpeech()
    refine_estimate: RefineEstimate | None = None
    """``ask`` with the refine pass on: its worst case (:func:`videovision.refine.refine_estimate`)."""
    screen_text: ScreenText | None = None
    """What OCR read on the frames sent (None: the step did not run, e.g. a speech-only plan)."""
    source: str | None = None
    """The video file as given, for opening it again (``video.path`` is display text: a non-UTF-8
    name has ``\\xNN`` escapes there)."""

    @property
    def duplicates_dropped(self) -> int:
        return len(self.selection.duplicates)

    @property
    def model(self) -> str:
        return self.config.pack.model

    @property
    def api(self) -> str:
        """The wire the requests go over: ``PackConfig.api`` (``--api``, a profile's), or for ``auto``
        the model's (``videovision.wires.api_for``)."""
        from .wires import api_for

        return api_for(self.model, self.config.pack.api)

    @property
    def wire(self):
        """The wire the requests go over (see :attr:`api`)."""
        from .wires import wire_for

        return wire_for(self.api)

    @property
    def detail(self) -> str:
        return self.config.pack.detail

    @property
    def prompt(self) -> PromptOptions:
        return self.config.prompt

    @property
    def model_known(self) -> bool:
        return self.spec.known

    @property
    def images(self) -> tuple[PackedImage, ...]:
        return self.packing.images

    @property
    def image_tokens(self) -> int:
        return sum(r.image_tokens for r in self.requests)

    @property
    def text_tokens(self) -> int:
        return sum(r.text_tokens for r in self.requests)

    @property
    def dropped(self) -> tuple[DroppedFrame, ...]:
        """Every frame picked but not sent, and why (dedup while sampling, then the packer), by time."""
        dedup = tuple(DroppedFrame(d.time, f"same picture as {time_label(d.same_as)} ({d.change:.1f} % changed)")
                      for d in self.selection.duplicates)
        return tuple(sorted(dedup + self.packing.dropped, key=lambda d: d.time))

    @property
    def expected_output_tokens(self) -> int:
        return self.prompt.output_tokens(self.spec) * len(self.requests)

    @property
    def estimated_input_cost_usd(self) -> float | None:
        return estimate_cost(self.spec, self.image_tokens + self.text_tokens)

    @property
    def estimated_cost_usd(self) -> float | None:
        """Input cost (exact tokens; pending speech estimated) plus output at the output-token limit
        of every request (an upper bound), plus a pending transcription."""
        pending = self.speech.tokens if self.speech.pending is not None else 0
        chat = estimate_cost(self.spec, self.image_tokens + self.text_tokens + pending, self.expected_output_tokens)
        transcription = self.speech.transcription_cost_usd
        return None if chat is None or transcription is None else chat + transcription

    @property
    def sent_times(self) -> tuple[float, ...]:
        return tuple(t for image in self.images for t in image.frame_times)

    @property
    def seen_times(self) -> tuple[float, ...]:
        """Times the model was shown a picture for: the frames sent and the "same picture" notes."""
        return tuple(sorted(self.sent_times + tuple(r.time for r in self.selection.repeats)))

    def time_check(self, also_sent: Sequence[float] = ()) -> TimeCheck:
        """The check of the times a reply cites: against every picture the model was shown (plus
        ``also_sent``, the frames of a refine pass) and the spoken lines sent."""
        from .parsing import TimeCheck

        return TimeCheck(self.seen_times + tuple(also_sent), self.video.duration, self.config.tolerance,
                         spans=tuple((s.start, s.end) for s in self.speech.segments))

    def to_json(self) -> dict:
        return document(**{
            "model": self.model,
            "model_known": self.model_known,
            "image_rule": self.spec.image_rule if self.model_known else "unknown",
            "api": self.api,
            "price_source": self.spec.price_source or None,
            "detail": self.detail,
            "video": self.video.to_json(),
            "frames": [
                {"time": round(i.time, 3), "times": [round(t, 3) for t in i.frame_times], "scene": i.scene,
                 "width": i.width, "height": i.height, "tokens": i.tokens, "bytes": len(i.data)}
                for i in self.images
            ],
            "image_tokens": self.image_tokens,
            "text_tokens": self.text_tokens,
            "text_tokens_exact": self.text_tokens_exact,
            "estimated_input_cost_usd": _round_cost(self.estimated_input_cost_usd),
            "estimated_cost_usd": _round_cost(self.estimated_cost_usd),
            "estimated_batch_api_cost_usd": _round_cost(None if self.estimated_cost_usd is None
                                                        else self.estimated_cost_usd * BATCH_PRICE_FACTOR),
            "requests": len(self.requests),
            "request_plan": [
                {"kind": r.kind, "start": round(r.time_range[0], 3), "end": round(r.time_range[1], 3),
                 "images": len(r.images), "image_tokens": r.image_tokens, "text_tokens": r.text_tokens}
                for r in self.requests
            ],
            "scenes": len(self.scenes),
            "frames_considered": self.packing.frames_considered,
            "duplicates_dropped": self.duplicates_dropped,
            "dropped": [{"time": round(d.time, 3), "reason": d.reason} for d in self.dropped],
            "preset": self.selection.preset,
            "preset_reason": self.selection.preset_reason,
            "repeats": [{"time": round(r.time, 3), "same_as": round(r.same_as, 3)} for r in self.selection.repeats],
            "notes": list(self.selection.notes),
            "speech": self.speech.to_json(),
            "screen_text": self.screen_text.to_json() if self.screen_text is not None else None,
            "refine": self.refine_estimate.to_json() if self.refine_estimate is not None else None,
        })
