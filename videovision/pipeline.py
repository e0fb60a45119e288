"""Library entry points that run the stages end to end (the CLI calls exactly one of these).

    probe -> sample -> export                              extract_frames
    probe -> sample -> pack -> prompt (offline)            make_plan
    plan  -> ask -> parse                                  run_plan  (summarize / ask / chapters)

Long videos: when the images exceed one request (provider limits or ``frames_per_request``),
the plan splits them by time along scene cuts, asks each chunk with its time range
(``concurrency`` at a time), then one text-only request reduces the partial results into one
summary / answer / chapter list. Every reply is cached by the hash of its exact request, so a
re-run, or a map-reduce interrupted after some chunks, pays only for what is missing.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

from . import defaults
from ._version import __version__
from .asking import Asker, RunProgress, RunProgressCallback, ask_all, ask_each
from .client import ChatClient
from .endpoint import ClientConfig
from .errors import BudgetError, SamplingError, VideoOpenError, VideovisionError
from .export import ExportResult, export_frames
from .models import ModelSpec, count_text_tokens, resolve_model, target_size
from .packing import Packing, pack
from .paths import path_text
from .plan import Plan, PlanSpeech, RequestPlan, Selection, TaskConfig
from .prompts import make_reduce_request, make_request
from .refine import RefineOutcome, apply_refined, refinable, refine_estimate, refine_requests, refine_windows
from .request import Request
from .sampling import FrameStream, sample, strategy_for
from .sampling.scenes import BLANK_NOTE
from .screentext import ScreenText
from .screentext import apply as apply_screen_text
from .source import VideoSource, open_video
from .speech.audio import AudioInfo
from .speech.estimate import SpeechEstimate
from .speech.fusion import FrameSpeech, segments_between, speech_by_frame
from .speech.transcript import Segment, Transcript
from .store import Cache, frames_key, new_run_id
from .store.frames import frame_set_packing, packing_frame_set
from .tasks import task_named
from .types import (
    Answer,
    Chapters,
    DroppedFrame,
    PackedImage,
    SamplingConfig,
    Scene,
    SpeechConfig,
    Summary,
    Usage,
    VideoInfo,
)
from .wires import wire_of

log = logging.getLogger("videovision")

Progress = Callable[[float, float], None]
"""``sample``'s own callback: (done_seconds, total_seconds)."""


def _decoding(progress: RunProgressCallback | None) -> Progress | None:
    """``sample``'s progress as the one progress type (:class:`~videovision.asking.RunProgress`,
    stage ``sampling``)."""
    if progress is None:
        return None
    callback, started = progress, time.monotonic()

    def on(done: float, total: float) -> None:
        callback(RunProgress(done, total, 0, time.monotonic() - started, stage="sampling"))

    return on

REDUCE_OVERHEAD_TOKENS = 250
CACHE_FORMAT = 4
"""Version of what a cached frame set holds; part of its key."""


def extract_frames(
    video: str | os.PathLike,
    config: SamplingConfig,
    out_dir: str | os.PathLike,
    *,
    progress: RunProgressCallback | None = None,
    shown: str | None = None,
) -> ExportResult:
    """Sample a video and write the frames, contact sheets and ``frames.json`` into ``out_dir``.

    Args:
        video: path of the video.
        config: sampling options.
        out_dir: destination folder.
        progress: called with a :class:`~videovision.asking.RunProgress` (stage ``sampling``: seconds
            of video decoded) as decoding goes on; the same type ``run_plan`` reports.
        shown: the name ``frames.json`` records as the video's path (a URL input: the URL without
            credentials or query, not the downloaded file in the cache).

    Returns:
        What was written.

    Raises:
        VideoOpenError, ConfigError, SamplingError.
    """
    with open_video(video) as source:
        stream = sample(source, config, progress=_decoding(progress))
        info = source.info if shown is None else replace(source.info, path=shown)
        result = export_frames(stream, info, out_dir, scenes=stream.scenes, extra=lambda: {
            "sampling": _sampling_params(config), "duplicates_dropped": stream.duplicates_dropped,
            "preset": stream.preset_used, "preset_reason": stream.preset_reason,
            "repeats": [{"time": round(r.time, 6), "same_as": round(r.same_as, 6)} for r in stream.repeats],
            "duplicates": [{"time": round(d.time, 6), "same_as": round(d.same_as, 6), "change": round(d.change, 2)}
                           for d in stream.duplicates],
            "notes": list(stream.notes)})
    for note in stream.notes:
        log.warning("%s", note)
    return replace(result, duplicates_dropped=stream.duplicates_dropped)


def _sampling_params(config: SamplingConfig) -> dict:
    """Every sampling option, with the ones the strategy does not use set to None (the frames.json
    record and part of the frames cache key: :meth:`~videovision.sampling.strategies.Strategy.params`)."""
    return strategy_for(config.strategy).params(config)


def _settle(config: TaskConfig, info: VideoInfo, spec: ModelSpec) -> TaskConfig:
    """The config with every "model default" and automatic choice made explicit."""
    output_tokens = config.prompt.output_tokens(spec)
    prompt = replace(config.prompt, max_output_tokens=output_tokens)
    pack_config = replace(config.pack, expected_output_tokens=output_tokens)
    sampling = config.sampling
    if sampling.max_side is None and pack_config.grid is None and info.width > 0 and info.height > 0:
        # decode no larger than the packer will send: an 8K frame is never held at full size
        sampling = replace(sampling, max_side=max(target_size(info.width, info.height, spec, pack_config.detail)))
    if config.auto_gap:  # the strategy's automatic choices (hybrid: its gap from the frame budget)
        sampling = strategy_for(sampling.strategy).settle(sampling, info, pack_config.budget.max_frames)
    return replace(config, prompt=prompt, pack=pack_config, sampling=sampling)


def _frames_key(cache: Cache, video: str | os.PathLike, config: TaskConfig, spec: ModelSpec) -> str:
    p = config.pack
    params = {
        "version": __version__, "format": CACHE_FORMAT, "sampling": _sampling_params(config.sampling),
        "model": p.model, "model_spec": spec.to_dict(), "detail": p.detail, "image_format": p.image_format,
        "quality": p.quality, "burn": p.burn_timestamps, "grid": p.grid, "budget": asdict(p.budget),
        "limits": asdict(p.limits), "overhead": [p.text_overhead_tokens, p.expected_output_tokens],
        "frames_per_request": p.frames_per_request,
    }
    return frames_key(cache.frames.file_digest(video), params)


def _cached_packing(cache: Cache, key: str, config: TaskConfig) -> tuple[Packing, tuple[Scene, ...], Selection] | None:
    """(packing, scenes, selection) from a cached frame set, or None."""
    stored = cache.frames.get(key)
    return None if stored is None else frame_set_packing(stored, config.pack.model, config.pack.detail)


def _store_packing(cache: Cache, key: str, packing: Packing, scenes: tuple[Scene, ...], selection: Selection) -> None:
    cache.frames.put(key, *packing_frame_set(packing, scenes, selection))


def make_plan(
    video: str | os.PathLike,
    config: TaskConfig,
    *,
    cache: Cache | None = None,
    progress: RunProgressCallback | None = None,
    endpoint: ClientConfig | None = None,
    transcribe: bool = False,
) -> Plan:
    """Sample and pack a video, find its speech, and build the exact requests.

    Offline unless ``transcribe``: then a video without subtitles (or cached transcript) has its
    audio sent to the transcription endpoint first (``config.speech``).

    Args:
        video: path of the video.
        config: sampling, packing, prompt and speech options.
        cache: a :class:`~videovision.store.Cache` to reuse packed frames and transcripts (None: no cache).
        progress: called with a :class:`~videovision.asking.RunProgress` (stage ``sampling``: seconds
            of video decoded) as decoding goes on; the same type ``run_plan`` reports.
        endpoint: the chat endpoint (default: from the environment); its URL is part of the
            transcript's cache key, its key and URL are used to transcribe.
        transcribe: allow uploading audio for transcription.

    Returns:
        The :class:`Plan`.

    Raises:
        VideoOpenError, ConfigError, SamplingError, BudgetError, CacheError.
    """
    spec = resolve_model(config.pack.model)
    # Always open: probing validates the file and gives the duration the auto gap needs; it reads
    # the packet index only, which is cheap next to decoding.
    try:
        opened = open_video(video)
    except VideoOpenError as err:
        audio = _audio_only(video, err)
        return _speech_only_plan(video, audio, config, spec, cache, endpoint or ClientConfig.from_env(), transcribe)
    with opened as source:
        info = source.info
        config = _settle(config, info, spec)
        speech = _speech(video, info, config, spec, cache, endpoint or ClientConfig.from_env(), transcribe)
        config = _with_speech_budget(config, speech)
        key = _frames_key(cache, video, config, spec) if cache is not None else None
        cached = _cached_packing(cache, key, config) if cache is not None and key is not None else None
        if cached is not None:  # the info stays the freshly probed one (the same content may have moved)
            packing, scenes, selection = cached
        else:
            stream = sample(source, config.sampling, progress=_decoding(progress))
            try:
                packing = pack(stream, config.pack, exact_cuts=lambda: stream.preset_used == "screen")
            except SamplingError as err:  # not one frame decoded: the speech may still be there
                if not speech.heard:
                    raise SamplingError(f"{info.path}: {err}, and no speech ({speech.note or 'none found'})") from err
                packing = _no_images(config, spec)
                stream.notes.append(f"{err}: the speech is sent alone")
            scenes = tuple(stream.scenes)
            selection = _selection(stream, packing)
            if cache is not None and key is not None and packing.images:
                _store_packing(cache, key, packing, scenes, selection)
        screen = _screen_text(source, packing, selection, config, spec)
    if selection.blank_only and speech.heard:
        # camera off, a black screen: the blank pictures say nothing the speech does not
        packing = _no_images(config, spec, dropped=tuple(
            DroppedFrame(t, "blank picture (the speech is sent alone)") for i in packing.images for t in i.frame_times))
        notes = tuple(n for n in selection.notes if n != BLANK_NOTE)
        selection = replace(selection, notes=(*notes, "every picture is blank (camera off, a black screen or "
                                                      "one colour): the speech is sent alone"))
    for note in selection.notes:
        log.warning("%s", note)
    if speech.note and speech.source is None:
        log.info("%s", speech.note)
    if screen.read:
        packing = replace(packing, images=apply_screen_text(packing.images, screen))
    plan = replace(_assemble(info, packing, scenes, selection, config, spec, speech), speech=speech,
                   screen_text=screen)
    return replace(plan, refine_estimate=refine_estimate(plan), source=os.fsdecode(video))


def _screen_text(source: VideoSource, packing: Packing, selection: Selection, config: TaskConfig,
                 spec: ModelSpec) -> ScreenText:
    """The text on screen in the frames sent (videovision/screentext.py), read after packing so the
    packed-frames cache stays valid whatever ``--screen-text`` says."""
    from .screentext import read_screen

    return read_screen(source, packing.images, config.screen_text, preset=selection.preset, spec=spec, pack=config.pack)


def _audio_only(video: str | os.PathLike, err: VideoOpenError) -> AudioInfo:
    """The audio of a file that has no video stream (a podcast, meeting audio), else ``err``."""
    from .speech.audio import probe_audio

    try:
        audio = probe_audio(video, origin=0.0)
    except VideovisionError:
        audio = None
    if audio is None:
        raise err
    return audio


def _speech_only_plan(video: str | os.PathLike, audio: AudioInfo, config: TaskConfig, spec: ModelSpec,
                      cache: Cache | None, endpoint: ClientConfig, transcribe: bool) -> Plan:
    """A plan for an audio-only file: one request carrying the timed speech, no images."""
    info = VideoInfo(path=path_text(video), duration=audio.duration, width=0, height=0, coded_width=0,
                     coded_height=0, rotation=0, sample_aspect_ratio=(1, 1), fps=0.0, frame_count=0,
                     codec=audio.codec, container=os.path.splitext(os.fsdecode(video))[1].lstrip("."),
                     has_audio=True, start_time=0.0, variable_frame_rate=False, size_bytes=os.path.getsize(video))
    config = _settle(config, info, spec)
    speech = _speech(video, info, config, spec, cache, endpoint, transcribe)
    if not speech.heard:
        raise SamplingError(f"{info.path}: no video stream and no speech ({speech.note or 'nothing heard'})")
    packing = _no_images(config, spec)
    return replace(_assemble(info, packing, (), Selection(), config, spec, speech), speech=speech)


def _no_images(config: TaskConfig, spec: ModelSpec, dropped: tuple[DroppedFrame, ...] = ()) -> Packing:
    """A packing that sends no image: one request carrying the speech."""
    return Packing(model=config.pack.model, detail=config.pack.detail, images=(), dropped=dropped, requests=((),),
                   frames_considered=len(dropped), model_known=spec.known)


def _speech(video: str | os.PathLike, info: VideoInfo, config: TaskConfig, spec: ModelSpec, cache: Cache | None,
            endpoint: ClientConfig, transcribe: bool) -> PlanSpeech:
    """The speech to send: found (subtitles, files, cache, transcription) and fitted to its budget."""
    from .speech.fusion import fit_speech
    from .speech.hear import hear

    heard = hear(video, config.speech, origin=info.start_time, endpoint=endpoint, upload=transcribe,
                 transcribe_allowed=config.pack.limits.transcription,
                 store=cache.transcripts if cache is not None else None, concurrency=config.concurrency)
    if heard.estimate is not None:
        tokens = heard.estimate.tokens if config.speech.max_tokens is None else min(heard.estimate.tokens,
                                                                                      config.speech.max_tokens)
        return PlanSpeech(pending=heard.estimate, tokens=tokens, note=heard.note)
    if heard.transcript is None or not heard.transcript.segments:
        return PlanSpeech(note=heard.note or "no speech found")
    clip = segments_between(heard.transcript.segments, config.sampling.start or 0.0, config.sampling.end)
    fitted = fit_speech(clip, config.speech.max_tokens, lambda text: count_text_tokens(text, spec)[0])
    return PlanSpeech(source=heard.transcript.source, segments=fitted.segments, dropped=fitted.dropped,
                      tokens=fitted.tokens, note=heard.note)


def _with_speech_budget(config: TaskConfig, speech: PlanSpeech) -> TaskConfig:
    """Speech shares the request with the frames: its tokens count as prompt text, and a pending
    transcription's cost comes out of ``max_cost``."""
    pack_config = replace(config.pack, text_overhead_tokens=config.pack.text_overhead_tokens + speech.tokens)
    cost = speech.transcription_cost_usd
    budget = pack_config.budget
    if budget.max_cost is not None and cost:
        if cost >= budget.max_cost:
            raise BudgetError(f"--max-cost ${budget.max_cost:g} does not cover transcribing the audio "
                              f"(~${cost:.4f}): raise it, or pass --speech off / --subtitles FILE")
        pack_config = replace(pack_config, budget=replace(budget, max_cost=budget.max_cost - cost))
    return replace(config, pack=pack_config)


def _selection(stream: FrameStream, packing: Packing) -> Selection:
    """The stream's report; a repeat note is kept only when the picture it points at was sent."""
    sent = {round(t, 6) for image in packing.images for t in image.frame_times}
    repeats = tuple(r for r in stream.repeats if round(r.same_as, 6) in sent)
    return Selection(stream.preset_used, stream.preset_reason, repeats, tuple(stream.duplicates),
                     tuple(stream.notes), stream.blank_only)


def _lines(images: Sequence[PackedImage], segments: Sequence[Segment]) -> FrameSpeech | None:
    """The spoken lines grouped after the image they follow (None: no speech)."""
    if not segments:
        return None
    return speech_by_frame([image.time for image in images], segments)


def _assemble(info: VideoInfo, packing: Packing, scenes: tuple[Scene, ...], selection: Selection,
              config: TaskConfig, spec: ModelSpec, speech: PlanSpeech) -> Plan:
    pc = config.pack
    chunks = packing.requests
    images = packing.images
    requests: list[RequestPlan] = []
    exact = True
    first = config.sampling.start or 0.0
    last = min(config.sampling.end, info.duration) if config.sampling.end else info.duration
    clipped = (first, last) if first > 0 or last < info.duration else None

    wire = wire_of(pc.model, pc.api)

    def add(kind: str, chunk: tuple[int, ...], time_range: tuple[float, float], request: Request) -> None:
        nonlocal exact
        body = wire.encode(request)
        count = wire.count(body, spec)  # the tokens of the exact body the wire sends
        exact = exact and count.exact
        requests.append(RequestPlan(kind, time_range, chunk, count.image_tokens, count.text_tokens, body, request))

    if len(chunks) <= 1:
        request = make_request(pc.model, images, info, config.prompt, detail=pc.detail, limits=pc.limits,
                               time_range=clipped, spec=spec, repeats=selection.repeats,
                               speech=_lines(images, segments_between(speech.segments, first,
                                                                      last if clipped else None)))
        add("single", tuple(range(len(images))), (first, last), request)
    else:
        for n, chunk in enumerate(chunks):
            start = first if n == 0 else images[chunk[0]].time
            end = images[chunks[n + 1][0]].time if n + 1 < len(chunks) else last
            request = make_request(pc.model, [images[i] for i in chunk], info, config.prompt, detail=pc.detail,
                                   limits=pc.limits, time_range=(start, end), partial=True, spec=spec,
                                   repeats=[r for r in selection.repeats if start <= r.time < end],
                                   speech=_lines([images[i] for i in chunk], segments_between(
                                       speech.segments, start, end if n + 1 < len(chunks) else None)))
            add("map", chunk, (start, end), request)
        reduce_text = REDUCE_OVERHEAD_TOKENS + len(chunks) * config.prompt.output_tokens(spec)
        requests.append(RequestPlan("reduce", (first, last), (), 0, reduce_text, None))
        exact = False
    return Plan(video=info, config=config, spec=spec, packing=packing, scenes=scenes, requests=tuple(requests),
                text_tokens_exact=exact, selection=selection)


# --------------------------------------------------------------------------- run
@dataclass(frozen=True)
class TaskResult:
    """The outcome of a run of a task sent through a plan (summarize / ask / chapters ...)."""

    task: str
    plan: Plan
    text: str
    """The final reply's text (after the reduce step for long videos)."""
    summary: Summary | None = None
    answers: tuple[Answer, ...] = ()
    chapters: Chapters | None = None
    usage: Usage = Usage()
    requests_made: int = 0
    cache_hits: int = 0
    estimated_cost_usd: float | None = None
    run_id: str = ""
    warnings: tuple[str, ...] = ()
    """What was noticed but not fatal: usage showing the images were not read, a reply that could
    not be read as the task asked (``config.strict`` makes these errors)."""
    refine_times: tuple[float, ...] = ()
    """``ask``: times of the frames the refine pass sent (cited times were checked against these too)."""
    refine_outcomes: tuple[RefineOutcome, ...] = ()
    """``ask``: what each refine window did (refined, not shown, failed ...)."""
    refine_images: tuple[PackedImage, ...] = ()
    """``ask``: the images the refine pass sent, in window order (their times are ``refine_times``)."""
    parsed: object = None
    """What a task other than these three read from the reply (its :meth:`~videovision.tasks.base.Task.parse`)."""

    @property
    def parse_warnings(self) -> tuple[str, ...]:
        """Warnings from reading the reply (summary, answers or chapters)."""
        found: list[str] = []
        parts: list = [self.summary, self.chapters, *self.answers, self.parsed]
        for part in parts:
            for w in getattr(part, "warnings", ()) if part is not None else ():
                if w not in found:
                    found.append(w)
        return tuple(found)

    def to_json(self) -> dict:
        """The result's JSON document (its task's: :meth:`~videovision.tasks.base.Task.document`)."""
        return task_named(self.task).document(self)


def run_plan(
    plan: Plan,
    client: ChatClient | None,
    *,
    cache: Cache | None = None,
    on_text: Callable[[str], None] | None = None,
    progress: RunProgressCallback | None = None,
) -> TaskResult:
    """Send a plan's requests (map chunks concurrently, then reduce) and parse the answer.

    Everything else comes from ``plan.config``: concurrency, the tolerance for checking cited
    times, the refine pass, ``strict``; the endpoint (part of every reply's cache key) from the client.

    Args:
        plan: from :func:`make_plan`.
        client: a :class:`~videovision.client.ChatClient`.
        cache: response cache and run log (None: nothing cached or logged).
        on_text: streaming callback for a single-request summary.
        progress: called with a :class:`~videovision.asking.RunProgress` when a request starts or
            ends (from the threads that send them).

    Returns:
        A :class:`TaskResult`; its ``warnings`` say what was noticed but not fatal (usage showing
        the images were not read, a reply that could not be read as the task asked).

    Raises:
        RequestError (and subclasses), ResponseFormatError, CacheError, ConfigError (no client),
        UsageMismatchError (``plan.config.strict``: a reply's usage shows its images were not read;
        no further request is sent).
    """
    plan, speech_warning = _with_speech(plan, client, cache)
    task = task_named(plan.prompt.task)
    asker = Asker(client, cache, plan, new_run_id(), progress=progress, total=len(plan.requests))
    maps = [r for r in plan.requests if r.kind in ("single", "map")]
    if len(maps) == 1 and plan.requests[0].kind == "single":
        assert maps[0].body is not None
        final = asker.ask(maps[0].body, on_text=on_text if task.streams else None,
                          image_tokens=maps[0].image_tokens)
    else:
        results = ask_all(asker, [(r.body, r.image_tokens) for r in maps if r.body is not None],
                          plan.config.concurrency)
        partials = [(r.time_range, res.text) for r, res in zip(maps, results)]
        reduce_range = plan.requests[-1].time_range
        clipped = reduce_range if reduce_range != (0.0, plan.video.duration) else None
        final = asker.ask(plan.wire.encode(make_reduce_request(
            plan.model, partials, plan.video, plan.prompt, limits=plan.config.pack.limits, time_range=clipped,
            spec=plan.spec)))
    check = plan.time_check()
    result = TaskResult(task=task.name, plan=plan, text=final.text, run_id=asker.run_id)
    result = replace(result, **task.parse(final.text, check, plan))
    if refinable(plan):
        result = _refine(plan, asker, result)
    warnings = ((speech_warning,) if speech_warning else ()) + tuple(asker.warnings) + result.parse_warnings \
        + result.warnings
    return replace(result, usage=asker.usage, requests_made=asker.requests_made, cache_hits=asker.cache_hits,
                   estimated_cost_usd=asker.cost if asker.requests_made else 0.0, warnings=warnings)


def _with_speech(plan: Plan, client: ChatClient | None, cache: Cache | None) -> tuple[Plan, str | None]:
    """A plan whose speech is pending (made without ``transcribe=True``) planned again with its audio
    transcribed through the client's endpoint; a client without one (a fake, a cache replay) cannot,
    and the run goes on without the speech, saying so: speech is never dropped silently."""
    if plan.speech.pending is None:
        return plan, None
    endpoint = getattr(client, "config", None)
    if isinstance(endpoint, ClientConfig):
        log.info("the plan's speech is pending: transcribing it through %s", endpoint.endpoint)
        again = make_plan(plan.source or plan.video.path, plan.config, cache=cache, endpoint=endpoint, transcribe=True)
        return replace(again, video=replace(again.video, path=plan.video.path), source=plan.source or again.source), None
    return plan, ("the speech was not sent: the plan's transcription is pending (make_plan(..., transcribe=True) "
                  "transcribes it) and this client has no endpoint to transcribe with")


def _refine(plan: Plan, asker: Asker, result: TaskResult) -> TaskResult:
    """The refine pass: a dense look at the window around each cited moment (see :mod:`videovision.refine`).
    A window whose request fails keeps its overview moment, with a warning; an error every request
    would repeat (a wrong key, spent quota) still stops the run."""
    windows = refine_windows(plan, result.answers)
    budget, estimate = plan.config.pack.budget.max_cost, plan.refine_estimate
    if windows and budget is not None and estimate is not None and estimate.cost_usd:
        each = estimate.cost_usd / max(1, estimate.requests)  # worst case per window
        affordable = max(0, int((budget - asker.cost) // each))
        if affordable < len(windows):
            result = replace(result, warnings=result.warnings + (
                f"refine pass: --max-cost ${budget:g} leaves room for {affordable} of {len(windows)} windows "
                f"(worst case ~${each:.4f} each); the other moments keep the overview's time",))
            windows = windows[:affordable]
    if not windows:
        return result
    requests = refine_requests(plan, windows, plan.source)
    asker.expect(len(requests))
    replies = ask_each(asker, [(r.body, r.image_tokens) for r in requests], plan.config.concurrency)
    failed = [r for r in replies if isinstance(r, VideovisionError)]
    refined = apply_refined(plan, result.answers, requests,
                            [None if isinstance(r, VideovisionError) else r for r in replies])
    warnings = result.warnings
    if failed:
        reason = " ".join(str(failed[0]).split()) or type(failed[0]).__name__
        warnings += (f"refine pass: {len(failed)} of {len(requests)} requests failed ({reason}); "
                     "their moments keep the overview's time",)
    return replace(result, answers=refined.answers, refine_times=refined.sent_times,
                   refine_outcomes=refined.outcomes, refine_images=tuple(i for r in requests for i in r.images),
                   warnings=warnings)


def transcribe_video(
    video: str | os.PathLike,
    config: SpeechConfig,
    *,
    endpoint: ClientConfig | None = None,
    cache: Cache | None = None,
    concurrency: int = defaults.CONCURRENCY,
) -> Transcript:
    """The speech of a video (or an audio file) alone: subtitles, a sidecar or speech file, a cached
    transcript, or the audio sent to the transcription endpoint, as ``config`` says.

    Args:
        video: the file.
        config: where speech may come from (``auto``: subtitles first).
        endpoint: the chat endpoint (the transcription one unless ``config.transcribe_base_url``).
        cache: transcripts and transcribed chunks are reused and stored here.
        concurrency: chunks transcribed at once.

    Returns:
        The transcript, times in seconds from the first video frame (from the audio's start for an
        audio-only file), with the video's facts for its JSON form.

    Raises:
        SamplingError: there is no speech (no subtitles and no audio, or ``--speech off``).
        VideoOpenError, ConfigError, RequestError, CacheError.
    """
    found = _find_speech(video, config, endpoint=endpoint, cache=cache, concurrency=concurrency, upload=True)
    assert isinstance(found, Transcript)
    return found


def estimate_transcript(
    video: str | os.PathLike,
    config: SpeechConfig,
    *,
    endpoint: ClientConfig | None = None,
    cache: Cache | None = None,
) -> Transcript | SpeechEstimate:
    """What :func:`transcribe_video` would do, offline (``transcript --dry-run``): nothing is sent.

    Returns:
        The transcript when no upload is needed (subtitles, a speech file, a cached transcript),
        else the estimate of the transcription (audio minutes, requests, cost).

    Raises:
        SamplingError, VideoOpenError, ConfigError, CacheError: as :func:`transcribe_video`.
    """
    return _find_speech(video, config, endpoint=endpoint, cache=cache, concurrency=defaults.CONCURRENCY,
                        upload=False)


def _find_speech(video: str | os.PathLike, config: SpeechConfig, *, endpoint: ClientConfig | None,
                 cache: Cache | None, concurrency: int, upload: bool) -> Transcript | SpeechEstimate:
    from .speech.audio import probe_audio
    from .speech.hear import hear

    try:
        with open_video(video) as source:
            info: VideoInfo | None = source.info
    except VideoOpenError:
        if probe_audio(video) is None:
            raise
        info = None  # an audio-only file: its audio's own timeline
    origin = info.start_time if info is not None else 0.0
    heard = hear(video, config, origin=origin, endpoint=endpoint or ClientConfig.from_env(), upload=upload,
                 store=cache.transcripts if cache is not None else None, concurrency=concurrency, strict=True)
    if heard.transcript is None and heard.estimate is not None and not upload:
        return heard.estimate
    if heard.transcript is None:
        raise SamplingError(f"{path_text(video)}: no speech ({heard.note or 'nothing found'})")
    return replace(heard.transcript, video=info.to_json() if info is not None else {"path": path_text(video)})
