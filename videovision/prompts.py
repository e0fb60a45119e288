"""Build the request (stage 4: prompt).

The OpenAI cookbook's video approach, plus what it lacks: one user message with every image,
each preceded by a text part naming its time (``[00:01:05.2]``), ``detail`` set explicitly, and an
instruction to cite those labels. The task (the question) comes last, after the images and the
speech: requests about the same frames then share a byte-identical prefix, which providers with
prompt caching bill at a discount (a second question, a summary after an answer, chat turns).

:func:`make_request` returns the neutral request (:class:`videovision.request.Request`: system
text; the parts in order, labelled images, speech lines, on-screen notes, the task; output limit;
schema; cache hints), which a wire (``videovision.wires``) encodes into the body it sends. Long videos
use :func:`make_reduce_request` over the per-chunk results, conversations :func:`make_chat_request`.
:func:`build_request` and :func:`build_reduce_request` give the default wire's (Chat Completions) body.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, get_args

from . import defaults
from .errors import ConfigError
from .models import ModelSpec, data_url, resolve_model
from .packing import ProviderLimits
from .request import Image, Part, Request, Schema, Text, Turn, with_extra
from .tasks import task_named
from .timecode import format_time, time_label
from .types import PackedImage, RepeatNote, Style, Task, VideoInfo

if TYPE_CHECKING:
    from .speech.fusion import FrameSpeech

SYSTEM = (
    "You are a careful video analyst. You are shown frames sampled from a video, in time order. "
    "Each frame is preceded by a text label giving its timestamp from the start of the video, "
    "like [00:01:05.2] (hours:minutes:seconds). When you refer to a moment, cite the label of the "
    "frame that shows it, exactly as written. Never cite a time you were not shown a frame for. "
    "Describe only what the frames show; say so when something cannot be seen."
)

@dataclass(frozen=True)
class PromptOptions:
    """What to ask and how."""

    task: Task = "summarize"
    style: Style = defaults.STYLE
    language: str | None = None
    instruction: str | None = None
    """Replaces the task's instruction text (summaries)."""
    questions: tuple[str, ...] = ()
    max_output_tokens: int | None = None
    """Output-token limit per request; None: the model's default (:func:`default_output_tokens`)."""
    temperature: float | None = defaults.TEMPERATURE
    structured: bool = True
    """Ask for JSON-schema output (ask/chapters) where the provider supports it."""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        task = task_named(self.task, plans=True)  # ConfigError naming the tasks
        if self.style not in get_args(Style):
            raise ConfigError(f"style must be one of {', '.join(get_args(Style))}", field="style")
        if task.needs_questions and not self.questions:
            raise ConfigError(f"{task.name} needs at least one question")
        if any(not q.strip() for q in self.questions):
            raise ConfigError("a question is empty")
        if self.max_output_tokens is not None and self.max_output_tokens < 1:
            raise ConfigError("max_output_tokens must be at least 1", field="max_output_tokens")

    def output_tokens(self, spec: ModelSpec) -> int:
        """The output-token limit per request for this model."""
        return self.max_output_tokens or default_output_tokens(spec)


def _video_line(info: VideoInfo, time_range: tuple[float, float] | None, what: str = "these frames cover") -> str:
    total = format_time(info.duration, precision=1, always_hours=True)
    if time_range is None:
        return f"The video is {total} long."
    a, b = (format_time(t, precision=1, always_hours=True) for t in time_range)
    return f"The video is {total} long; {what} only the part from {a} to {b}."


def instruction(options: PromptOptions, info: VideoInfo, time_range=None, structured: bool = False,
                partial: bool = False) -> str:
    """The whole instruction of a request: the sentence about the video, then what to do (in a
    request the first goes before the images and the second after them).

    Args:
        time_range: the part of the video the frames cover, when not all of it.
        partial: the request is one chunk of a map-reduce (its answer is notes to be merged).
    """
    return f"{_video_line(info, time_range)} {task_text(options, partial, structured)}"


def task_text(options: PromptOptions, partial: bool, structured: bool) -> str:
    """What to do, without the sentence about the video's length (the task's :meth:`~videovision.tasks.base.Task.prompt`)."""
    return task_named(options.task).prompt(options, partial, structured)


def repeat_text(note: RepeatNote) -> str:
    """The text sent instead of a picture identical to the one before it."""
    return f"{time_label(note.time)} same picture as {time_label(note.same_as)}"


SPEECH_NOTE = ("Lines of speech from the video's audio follow the frames of the same moment, each with its own "
               "time label and, when known, its speaker; cite those labels too when you refer to what is said.")


def image_parts(images: Sequence[PackedImage], detail: str, limits: ProviderLimits,
                repeats: Sequence[RepeatNote] = (), speech: FrameSpeech | None = None) -> list[Part]:
    """The label-then-image parts for ``images``, in time order. Between two images, one text part
    holds, by time, the lines spoken since the first of them and a short note for each picture that
    repeated it (time passed, nothing changed on screen); lines spoken before the first image come
    first. Text read on screen follows its frame."""
    gaps: list[list[tuple[float, str]]] = [[] for _ in images]
    leading: list[tuple[float, str]] = []
    if speech is not None:
        leading = [(line.time, line.text) for line in speech.before]
        for n, group in enumerate(speech.frames[: len(images)]):
            gaps[n] += [(line.time, line.text) for line in group]
    times = [image.time for image in images]
    for note in repeats:
        n = max(0, bisect.bisect_right(times, note.time) - 1)
        (gaps[n] if gaps else leading).append((note.time, repeat_text(note)))
    parts = _text_part(leading)
    for image, gap in zip(images, gaps):
        parts.append(Text(image.label or time_label(image.time), "label"))
        parts.append(Image(data_url(image.mime, image.data), (image.detail or detail) if limits.supports_detail else None))
        if image.screen_text:  # the text read on screen, right after its frame (videovision/screentext.py)
            parts.append(Text(image.screen_text, "screen"))
        parts += _text_part(gap)
    return parts


def _text_part(items: list[tuple[float, str]]) -> list[Part]:
    return [Text("\n".join(text for _, text in sorted(items, key=lambda i: i[0])), "speech")] if items else []


def _schema(options: PromptOptions) -> Schema | None:
    return task_named(options.task).schema


def default_output_tokens(model: str | ModelSpec) -> int:
    """The default output-token limit for a model (larger for reasoning models)."""
    reasoning = resolve_model(model).reasoning
    return defaults.REASONING_MAX_OUTPUT_TOKENS if reasoning else defaults.MAX_OUTPUT_TOKENS


def _request(model: str, system: str, turns: tuple[Turn, ...], options: PromptOptions, schema: Schema | None,
             limits: ProviderLimits, spec: ModelSpec | None) -> Request:
    spec = spec or resolve_model(model)
    temperature = effort = None
    if not spec.reasoning:  # reasoning models reject any temperature but the default
        temperature = options.temperature
    elif limits.reasoning_effort:
        effort = defaults.REASONING_EFFORT  # describing frames needs little reasoning
    request = Request(model=model, system=system, turns=turns, output_tokens=options.output_tokens(spec),
                      limit_name=limits.token_parameter, temperature=temperature, reasoning_effort=effort,
                      schema=schema)
    return with_extra(request, options.extra)


def uses_structured(options: PromptOptions, limits: ProviderLimits) -> bool:
    return options.structured and limits.supports_json_schema and _schema(options) is not None


def make_request(
    model: str,
    images: Sequence[PackedImage],
    info: VideoInfo,
    options: PromptOptions,
    *,
    detail: str = "low",
    limits: ProviderLimits | None = None,
    time_range: tuple[float, float] | None = None,
    partial: bool = False,
    spec: ModelSpec | None = None,
    repeats: Sequence[RepeatNote] = (),
    speech: FrameSpeech | None = None,
    extra_instruction: str = "",
) -> Request:
    """The neutral request for one question about these frames: the system text, then one user turn
    with the :func:`video_prefix` (video length, labelled images, speech, screen text) and the task last.

    Args:
        model: model name.
        images: packed images in time order.
        info: the video's info (its duration is stated in the prompt).
        options: task and wording.
        detail: ``detail`` for every image.
        limits: provider profile (whether to send ``detail`` and a schema, the limit's name).
        time_range: the part of the video these images cover, when not all of it.
        partial: one chunk of a map-reduce: ask for notes to be merged.
        spec: the model's resolved spec (resolved from ``model`` when None).
        repeats: pictures not sent again because they repeat the one before (a text note each).
        speech: the spoken lines grouped by the image they follow (``speech.speech_by_frame``).
        extra_instruction: text appended to the task (after the questions).
    """
    limits = limits or ProviderLimits()
    structured = uses_structured(options, limits)
    content = video_prefix(images, info, detail=detail, limits=limits, time_range=time_range, repeats=repeats,
                           speech=speech)
    task = task_text(options, partial, structured)
    content.append(Text(f"{task} {extra_instruction}" if extra_instruction else task, "task"))
    return _request(model, SYSTEM, (Turn("user", tuple(content)),), options,
                    _schema(options) if structured else None, limits, spec)


def build_request(model: str, images: Sequence[PackedImage], info: VideoInfo, options: PromptOptions,
                  **kwargs) -> dict:
    """The Chat Completions body of :func:`make_request` (the same arguments)."""
    from .wires import DEFAULT, wire_for

    return wire_for(DEFAULT).encode(make_request(model, images, info, options, **kwargs))


def video_prefix(
    images: Sequence[PackedImage],
    info: VideoInfo,
    *,
    detail: str = "low",
    limits: ProviderLimits | None = None,
    time_range: tuple[float, float] | None = None,
    repeats: Sequence[RepeatNote] = (),
    speech: FrameSpeech | None = None,
) -> list[Part]:
    """The parts every request about these frames starts with: the video's length (and the part
    shown), then the labelled images with the speech between them. The task comes after them, so
    requests about the same frames (other questions, a summary, the turns of a chat) share this
    prefix byte for byte, which OpenAI's automatic prompt caching bills at the cached rate
    (docs/tokens.md)."""
    limits = limits or ProviderLimits()
    text = _video_line(info, time_range)
    if speech is not None and speech.lines:
        text += " " + SPEECH_NOTE
    if any(image.screen_text for image in images):
        from .screentext import SCREEN_NOTE

        text += " " + SCREEN_NOTE
    return [Text(text, "video"), *image_parts(images, detail, limits, repeats, speech)]


def make_reduce_request(
    model: str,
    partials: Sequence[tuple[tuple[float, float], str]],
    info: VideoInfo,
    options: PromptOptions,
    *,
    limits: ProviderLimits | None = None,
    time_range: tuple[float, float] | None = None,
    spec: ModelSpec | None = None,
) -> Request:
    """A text-only request that merges per-chunk results into one (map-reduce's reduce step).

    Args:
        model: model name.
        partials: ((start, end), text) per chunk, in time order.
        info: the video's info.
        options: the original task options.
        limits: provider profile.
    """
    limits = limits or ProviderLimits()
    structured = uses_structured(options, limits)
    notes = "\n\n".join(
        f"Part {format_time(a, precision=1, always_hours=True)} to {format_time(b, precision=1, always_hours=True)}:\n{text.strip()}"
        for (a, b), text in partials
    )
    task = task_text(options, False, structured)
    text = (
        f"{_video_line(info, time_range, 'the notes cover')} Notes were written on consecutive parts of the video, citing timestamp labels "
        f"of frames that were shown. Using only these notes, do this for the whole video: {task}\n"
        "Keep cited timestamps exactly as they appear in the notes; do not invent new ones.\n\n" + notes
    )
    system = SYSTEM.replace("You are shown frames sampled from a video", "You are given notes on frames sampled from a video")
    return _request(model, system, (Turn("user", text),), options, _schema(options) if structured else None,
                    limits, spec)


def build_reduce_request(model: str, partials: Sequence[tuple[tuple[float, float], str]], info: VideoInfo,
                         options: PromptOptions, **kwargs) -> dict:
    """The Chat Completions body of :func:`make_reduce_request` (the same arguments)."""
    from .wires import DEFAULT, wire_for

    return wire_for(DEFAULT).encode(make_reduce_request(model, partials, info, options, **kwargs))


CHAT_TASK = ("Answer the questions about the video that follow, one at a time, briefly. Cite the timestamp labels "
             "of the frames (and speech lines) that support each answer, in square brackets, e.g. [00:01:05.2]; "
             "say so when the frames do not show the answer.")


def make_chat_request(first: Request, turns: Sequence[tuple[str, str]], question: str,
                      language: str | None = None) -> Request:
    """A conversation's next request: the frames of ``first`` (a :func:`make_request`) as its
    prefix, then every earlier question and answer, then ``question``.

    Each turn's request starts with the previous one byte for byte (system text, frames, speech,
    then the turns in order), so a provider's prompt cache serves all but the new question.

    Args:
        first: a request about the frames; its task part (last) is replaced by the chat instruction.
        turns: (question, answer) of the earlier turns, in order.
        question: the new question.
        language: answer in this language.

    Returns:
        The request (free text: no schema).
    """
    task = CHAT_TASK + (f" Write in {language}." if language else "")
    asked = [*(q for q, _ in turns), question]
    frames = first.turns[0].parts[:-1]
    conversation: list[Turn] = [Turn("user", (*frames, Text(f"{task}\n\n{asked[0]}", "task")))]
    for (_, answer), next_question in zip(turns, asked[1:]):
        conversation += [Turn("assistant", answer), Turn("user", next_question)]
    return first.with_turns(tuple(conversation))
