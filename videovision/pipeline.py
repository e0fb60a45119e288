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
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable

from . import __version__
from . import tokens as tok
from .cache import NullCache, frames_key, item_to_packed, new_run_id, packed_to_item, request_key
from .client import ChatClient
from .errors import ConfigError, RequestError, VideovisionError
from .export import ExportResult, export_frames
from .packing import LABEL_TEXT_TOKENS, Budget, PackConfig, Packing, balanced_split, pack
from .parsing import DEFAULT_TOLERANCE, TimeCheck, parse_answers, parse_chapters, parse_summary
from .prompts import PromptOptions, build_reduce_request, build_request
from .sampling import sample
from .source import open_video
from .types import (
    Answer,
    ChatResult,
    Chapters,
    DroppedFrame,
    PackedImage,
    SamplingConfig,
    Scene,
    Summary,
    Usage,
    VideoInfo,
)

log = logging.getLogger("videovision")

Progress = Callable[[float, float], None]

DEFAULT_MAX_FRAMES = 32
"""Default frame budget for summarize/ask/chapters: a 10-minute video in one request at low
detail (32 x 2833 tokens = 91k on gpt-4o-mini, within its 128k context)."""
DEFAULT_CONCURRENCY = 4
MIN_AUTO_GAP = 3.0
"""Seconds: the automatic hybrid gap never goes below this (short clips need few frames)."""
REDUCE_OVERHEAD_TOKENS = 250


def extract_frames(
    video: str | os.PathLike,
    config: SamplingConfig,
    out_dir: str | os.PathLike,
    *,
    progress: Progress | None = None,
) -> ExportResult:
    """Sample a video and write the frames, contact sheets and ``frames.json`` into ``out_dir``.

    Args:
        video: path of the video.
        config: sampling options.
        out_dir: destination folder.
        progress: optional ``progress(done_seconds, total_seconds)`` callback.

    Returns:
        What was written.

    Raises:
        VideoOpenError, ConfigError, SamplingError.
    """
    with open_video(video) as source:
        stream = sample(source, config, progress=progress)
        result = export_frames(stream, source.info, out_dir, scenes=stream.scenes, extra=lambda: {
            "sampling": _sampling_params(config), "duplicates_dropped": stream.duplicates_dropped})
    return replace(result, duplicates_dropped=stream.duplicates_dropped)


def _sampling_params(config: SamplingConfig) -> dict:
    return {
        "strategy": config.strategy,
        "every": config.every if config.strategy == "interval" else None,
        "count": config.count if config.strategy == "uniform" else None,
        "max_gap": config.max_gap if config.strategy == "hybrid" else None,
        "start": config.start,
        "end": config.end,
        "max_side": config.max_side,
        "dedup": config.dedup,
        "dedup_threshold": config.dedup_threshold if config.dedup else None,
        "detector": config.detector if config.strategy in ("scenes", "hybrid") else None,
        "threshold": config.threshold if config.strategy in ("scenes", "hybrid") else None,
        "min_scene_len": config.min_scene_len if config.strategy in ("scenes", "hybrid") else None,
    }


# --------------------------------------------------------------------------- plan
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
    """The exact body (None for ``reduce``, which depends on the map replies)."""


@dataclass(frozen=True)
class Plan:
    """Everything that will be sent, and what it will cost, known before sending."""

    video: VideoInfo
    model: str
    detail: str
    packing: Packing
    scenes: tuple[Scene, ...]
    requests: tuple[RequestPlan, ...]
    text_tokens_exact: bool
    model_known: bool
    duplicates_dropped: int
    prompt: PromptOptions
    pack_config: PackConfig
    input_price: float | None
    output_price: float | None

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
        return self.packing.dropped

    @property
    def expected_output_tokens(self) -> int:
        return self.prompt.max_output_tokens * len(self.requests)

    @property
    def estimated_input_cost_usd(self) -> float | None:
        if self.input_price is None:
            return None
        return (self.image_tokens + self.text_tokens) * self.input_price / 1e6

    @property
    def estimated_cost_usd(self) -> float | None:
        """Input cost (exact tokens) plus output at the output-token limit of every request (an upper bound)."""
        if self.input_price is None:
            return None
        return self.estimated_input_cost_usd + self.expected_output_tokens * (self.output_price or 0.0) / 1e6

    @property
    def sent_times(self) -> tuple[float, ...]:
        return tuple(t for image in self.images for t in image.frame_times)

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "model_known": self.model_known,
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
        }


def _round_cost(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


@dataclass(frozen=True)
class TaskConfig:
    """Everything a summarize / ask / chapters run needs besides the video."""

    sampling: SamplingConfig = field(default_factory=lambda: SamplingConfig(strategy="hybrid"))
    pack: PackConfig = field(default_factory=lambda: PackConfig(budget=Budget(max_frames=DEFAULT_MAX_FRAMES)))
    prompt: PromptOptions = field(default_factory=PromptOptions)
    frames_per_request: int | None = None
    """Split into map-reduce chunks of at most this many images (besides provider limits)."""
    concurrency: int = DEFAULT_CONCURRENCY
    tolerance: float = DEFAULT_TOLERANCE
    auto_gap: bool = True
    """Hybrid sampling: choose ``max_gap`` from the frame budget and the duration."""

    def __post_init__(self):
        if self.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if self.frames_per_request is not None and self.frames_per_request < 1:
            raise ConfigError("--frames-per-request must be at least 1")
        if self.tolerance < 0:
            raise ConfigError("--tolerance must be >= 0")


def auto_max_gap(duration: float, max_frames: int | None, start: float | None, end: float | None) -> float | None:
    """The hybrid gap that makes interval fill alone fit the frame budget (None: keep the default)."""
    if not max_frames:
        return None
    span = (min(end, duration) if end else duration) - (start or 0.0)
    return max(MIN_AUTO_GAP, span / max(1, max_frames - 2))


def _pack_params(config: TaskConfig, sampling: SamplingConfig) -> dict:
    p = config.pack
    return {
        "version": __version__, "cache_format": 2, "sampling": _sampling_params(sampling), "model": p.model, "model_spec": tok.resolve_model(p.model).to_dict(), "detail": p.detail,
        "format": p.image_format, "quality": p.quality, "burn": p.burn_timestamps, "grid": p.grid,
        "budget": [p.budget.max_frames, p.budget.max_image_tokens, p.budget.max_cost],
        "limits": [p.limits.max_images_per_request, p.limits.max_image_bytes, p.limits.max_payload_bytes],
        "overhead": [p.text_overhead_tokens, p.expected_output_tokens],
    }


def _packing_from_cache(items, model: str, detail: str):
    """(packing, scenes, duplicates dropped) from a cached frame set; the VideoInfo is always probed anew."""
    head, *rest = items
    meta = head[0]
    images = tuple(item_to_packed(m, d) for m, d in rest)
    packing = Packing(
        model=model, detail=detail, images=images,
        dropped=tuple(DroppedFrame(t, r) for t, r in meta["dropped"]),
        requests=tuple(tuple(r) for r in meta["requests"]),
        frames_considered=meta["frames_considered"], model_known=meta["model_known"],
    )
    scenes = tuple(Scene(*s) for s in meta["scenes"])
    return packing, scenes, meta["duplicates_dropped"]


def _packing_to_cache(packing: Packing, scenes, duplicates: int) -> list:
    head = {
        "kind": "plan-head", "scenes": [[s.index, s.start, s.end] for s in scenes],
        "dropped": [[d.time, d.reason] for d in packing.dropped], "requests": [list(r) for r in packing.requests],
        "frames_considered": packing.frames_considered, "model_known": packing.model_known,
        "duplicates_dropped": duplicates, "mime": "application/json",
    }
    return [(head, b"")] + [packed_to_item(i) for i in packing.images]


def make_plan(
    video: str | os.PathLike,
    config: TaskConfig,
    *,
    cache=None,
    progress: Progress | None = None,
) -> Plan:
    """Sample and pack a video and build the exact requests, offline.

    Args:
        video: path of the video.
        config: sampling, packing and prompt options.
        cache: a :class:`~videovision.cache.Cache` to reuse packed frames (None: no cache).
        progress: optional ``progress(done_seconds, total_seconds)`` callback.

    Returns:
        The :class:`Plan`.

    Raises:
        VideoOpenError, ConfigError, SamplingError, BudgetError.
    """
    cache = cache or NullCache()
    spec = tok.resolve_model(config.pack.model)
    sampling = config.sampling
    # Always open: probing validates the file and gives the duration the auto gap needs; it
    # reads the packet index only, which is cheap next to decoding.
    with open_video(video) as source:
        info = source.info
        if sampling.strategy == "hybrid" and config.auto_gap:
            gap = auto_max_gap(info.duration, config.pack.budget.max_frames, sampling.start, sampling.end)
            if gap is not None:
                sampling = replace(sampling, max_gap=gap)
        key = None
        cached = None
        if getattr(cache, "enabled", False):
            key = frames_key(cache.file_digest(video), _pack_params(config, sampling))
            cached = cache.get_frames(key)
        if cached:  # the info stays the freshly probed one (the same content may have moved)
            packing, scenes, duplicates = _packing_from_cache(cached, config.pack.model, config.pack.detail)
        else:
            stream = sample(source, sampling, progress=progress)
            packing = pack(stream, config.pack, scenes=())
            scenes = tuple(stream.scenes)
            duplicates = stream.duplicates_dropped
            if key is not None:
                cache.put_frames(key, _packing_to_cache(packing, scenes, duplicates))
    return _assemble(info, packing, scenes, duplicates, config, spec)


CONTEXT_SAFETY = 0.9
"""Share of the model's context window a request may fill (the rest absorbs estimate error)."""


def _per_request_cap(packing: Packing, config: TaskConfig) -> int | None:
    """Most images one request may carry: --frames-per-request and the model's context window."""
    caps = [config.frames_per_request] if config.frames_per_request else []
    windows = [w for w in (tok.resolve_model(config.pack.model).context_window, config.pack.limits.context_tokens) if w]
    if windows and packing.images:
        per_image = max(i.tokens for i in packing.images) + LABEL_TEXT_TOKENS
        room = min(windows) * CONTEXT_SAFETY - config.pack.text_overhead_tokens - config.prompt.max_output_tokens
        caps.append(max(1, int(room // per_image)))
    return min(caps) if caps else None


def _chunks(packing: Packing, config: TaskConfig) -> list[tuple[int, ...]]:
    chunks = [tuple(c) for c in packing.requests]
    cap = _per_request_cap(packing, config)
    if cap:
        out = []
        for c in chunks:
            parts = math.ceil(len(c) / cap)
            out += [tuple(c[i] for i in part) for part in balanced_split(len(c), parts)] if parts > 1 else [c]
        chunks = out
    return chunks


def _assemble(info, packing: Packing, scenes, duplicates, config: TaskConfig, spec) -> Plan:
    pc = config.pack
    chunks = _chunks(packing, config)
    images = packing.images
    requests: list[RequestPlan] = []
    exact = True
    first = config.sampling.start or 0.0
    last = min(config.sampling.end, info.duration) if config.sampling.end else info.duration
    clipped = (first, last) if first > 0 or last < info.duration else None
    if len(chunks) <= 1:
        body = build_request(pc.model, images, info, config.prompt, detail=pc.detail, limits=pc.limits,
                             time_range=clipped)
        count = tok.chat_tokens(body["messages"], pc.model)
        exact = exact and count.exact
        requests.append(RequestPlan("single", (first, last), tuple(range(len(images))), count.image_tokens,
                                    count.text_tokens, body))
    else:
        for n, chunk in enumerate(chunks):
            start = first if n == 0 else images[chunk[0]].time
            end = images[chunks[n + 1][0]].time if n + 1 < len(chunks) else last
            body = build_request(pc.model, [images[i] for i in chunk], info, config.prompt, detail=pc.detail,
                                 limits=pc.limits, time_range=(start, end), partial=True)
            count = tok.chat_tokens(body["messages"], pc.model)
            exact = exact and count.exact
            requests.append(RequestPlan("map", (start, end), chunk, count.image_tokens, count.text_tokens, body))
        reduce_text = REDUCE_OVERHEAD_TOKENS + len(chunks) * config.prompt.max_output_tokens
        requests.append(RequestPlan("reduce", (first, last), (), 0, reduce_text, None))
        exact = False
    in_price, out_price = tok.prices(pc.model)
    return Plan(
        video=info, model=pc.model, detail=pc.detail, packing=packing, scenes=tuple(scenes),
        requests=tuple(requests), text_tokens_exact=exact, model_known=spec.known,
        duplicates_dropped=duplicates, prompt=config.prompt, pack_config=pc,
        input_price=in_price, output_price=out_price,
    )


# --------------------------------------------------------------------------- run
@dataclass(frozen=True)
class TaskResult:
    """The outcome of a summarize / ask / chapters run."""

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

    def to_json(self) -> dict:
        from .render import chapters_json, moment_json

        data: dict = {"model": self.plan.model, "frames_sent": len(self.plan.sent_times)}
        if self.summary is not None:
            data["summary"] = self.summary.text
            data["moments"] = [moment_json(m) for m in self.summary.moments]
            data["rejected"] = list(self.summary.rejected)
        if self.answers:
            data["answer"] = self.answers[0].text if len(self.answers) == 1 else None
            data["moments"] = [moment_json(m) for m in self.answers[0].moments] if len(self.answers) == 1 else None
            data["answers"] = [
                {"question": a.question, "answer": a.text, "moments": [moment_json(m) for m in a.moments],
                 "rejected": list(a.rejected)}
                for a in self.answers
            ]
        if self.chapters is not None:
            data["chapters"] = chapters_json(self.chapters)
            data["rejected"] = list(self.chapters.rejected)
        data["usage"] = {
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "estimated_image_tokens": self.plan.image_tokens,
        }
        data["estimated_cost_usd"] = _round_cost(self.estimated_cost_usd)
        data["requests"] = self.requests_made
        data["cache_hits"] = self.cache_hits
        data["run_id"] = self.run_id
        return data


@dataclass
class _Asker:
    client: ChatClient | None
    cache: object
    plan: Plan
    run_id: str
    video: str
    base_url: str | None
    requests_made: int = 0
    cache_hits: int = 0
    usage: Usage = Usage()
    cost: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ask(self, body: dict, on_text=None) -> ChatResult:
        key = request_key(body, endpoint=self.base_url)
        started = time.monotonic()
        hit = self.cache.get_response(key)
        model = body["model"]
        if hit is not None:
            with self.lock:
                self.cache_hits += 1
                self.usage = self.usage + hit.usage  # tokens of the answer, though not paid again
            self._log(model, hit, key, started, cached=True)
            return hit
        if self.client is None:
            raise ConfigError("no client to send the request with")
        try:
            result = self.client.complete(body, on_text=on_text)
        except RequestError as err:
            self._log(model, None, key, started, cached=False, status=type(err).__name__)
            raise
        cost = tok.estimate_cost(model, result.usage.prompt_tokens, result.usage.completion_tokens)
        with self.lock:
            self.requests_made += 1
            self.usage = self.usage + result.usage
            self.cost += cost or 0.0
        self.cache.put_response(key, result, body=body)
        self._log(model, result, key, started, cached=False, cost=cost)
        return result

    def _log(self, model, result, key, started, *, cached, status="ok", cost=None):
        usage = result.usage if result is not None else Usage()
        self.cache.log_request(
            run_id=self.run_id, model=model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, estimated_cost_usd=0.0 if cached else cost,
            duration_s=time.monotonic() - started, cached=cached, request_key=key, task=self.plan.prompt.task,
            video=self.video, base_url_host=self.base_url, status=status,
        )


def run_plan(
    plan: Plan,
    client: ChatClient | None,
    *,
    cache=None,
    concurrency: int = DEFAULT_CONCURRENCY,
    tolerance: float = DEFAULT_TOLERANCE,
    base_url: str | None = None,
    on_text: Callable[[str], None] | None = None,
) -> TaskResult:
    """Send a plan's requests (map chunks concurrently, then reduce) and parse the answer.

    Args:
        plan: from :func:`make_plan`.
        client: a :class:`~videovision.client.ChatClient` (may be None when every reply is cached).
        cache: response cache and run log (None: nothing cached or logged).
        concurrency: map requests in flight at once.
        tolerance: seconds within which a cited time counts as supported by a frame sent.
        base_url: the endpoint (part of the cache key, logged as host only).
        on_text: streaming callback for a single-request summary.

    Returns:
        A :class:`TaskResult`.

    Raises:
        RequestError (and subclasses), ResponseFormatError, CacheError.
    """
    cache = cache or NullCache()
    asker = _Asker(client, cache, plan, new_run_id(), plan.video.path, base_url)
    maps = [r for r in plan.requests if r.kind in ("single", "map")]
    if len(maps) == 1 and plan.requests[0].kind == "single":
        final = asker.ask(maps[0].body, on_text=on_text if plan.prompt.task == "summarize" else None)
    else:
        pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
        try:
            futures = [pool.submit(asker.ask, r.body) for r in maps]
            results = []
            first_error: BaseException | None = None
            for f in futures:  # wait for all, so finished chunks are cached even if one fails
                try:
                    results.append(f.result())
                except VideovisionError as err:
                    first_error = first_error or err
        except BaseException:
            # interrupted (Ctrl-C): send nothing more; requests in flight finish and are cached
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        if first_error is not None:
            raise first_error
        partials = [(r.time_range, res.text) for r, res in zip(maps, results)]
        reduce_range = plan.requests[-1].time_range
        clipped = reduce_range if reduce_range != (0.0, plan.video.duration) else None
        body = build_reduce_request(plan.model, partials, plan.video, plan.prompt, limits=plan.pack_config.limits,
                                    time_range=clipped)
        final = asker.ask(body)
    check = TimeCheck(plan.sent_times, plan.video.duration, tolerance)
    result = TaskResult(
        task=plan.prompt.task, plan=plan, text=final.text, usage=asker.usage, requests_made=asker.requests_made,
        cache_hits=asker.cache_hits, estimated_cost_usd=asker.cost if asker.requests_made else 0.0,
        run_id=asker.run_id,
    )
    if plan.prompt.task == "summarize":
        return replace(result, summary=parse_summary(final.text, check))
    if plan.prompt.task == "ask":
        return replace(result, answers=tuple(parse_answers(final.text, plan.prompt.questions, check)))
    return replace(result, chapters=parse_chapters(final.text, check, plan.scenes))
