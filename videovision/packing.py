"""Turn sampled frames into the images a model will see, under a budget (stage 3: pack).

:func:`pack` consumes a frame stream and returns a :class:`Packing`: the encoded images to
send (each resized so the server never resizes it, so its token count is exact), the frames
dropped and why, and how the images split into requests under the provider's limits.

Choosing what to keep when the frames exceed the budget:

1. repeats go first: neighbours showing the same picture (at most ``defaults.DEDUP_CHANGE`` percent
   of a small grey copy's pixels changed; a perceptual hash would call slides of one template alike);
2. then one frame per scene is guaranteed, as far as the budget reaches (when there are more
   scenes than room, scenes that look like their neighbour go first: a false cut inside one
   shot makes look-alike scenes; not when the cuts are exact slide changes);
3. the remaining room is filled by spreading over time: repeatedly the frame farthest from
   every frame already kept.

Only encoded images (a few tens of KB each) are held, never decoded frames.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import get_args

import cv2
import numpy as np

from . import defaults
from .errors import BudgetError, ConfigError
from .imagecodec import draw_label, encode_image
from .models import DEFAULT_MODEL, ModelSpec, image_tokens, resolve_model, target_size
from .sampling.pictures import THUMB_WIDTH, changed_percent, grey, same_content, structure
from .timecode import format_time, time_label
from .types import Detail, DroppedFrame, Frame, ImageFormat, PackedImage

MB = 1024 * 1024
DEFAULT_MAX_IMAGES_PER_REQUEST = 500
DEFAULT_MAX_IMAGE_BYTES = 20 * MB
DEFAULT_MAX_PAYLOAD_BYTES = 50 * MB
LABEL_TEXT_TOKENS = 12
"""Allowance per image for its time-label text part (``[00:01:05.2]`` is 10 o200k tokens)."""
CONTEXT_SAFETY = 0.9
"""Share of the model's context window a request may fill (the rest absorbs estimate error)."""


@dataclass(frozen=True)
class ProviderLimits:
    """What one request to a provider may carry. Overridable per provider, from a file."""

    name: str = "openai"
    max_images_per_request: int = DEFAULT_MAX_IMAGES_PER_REQUEST
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    supports_detail: bool = True
    """False for servers that ignore ``detail`` (images are still resized client-side)."""
    supports_json_schema: bool = True
    """Structured output via ``response_format: json_schema``."""
    context_tokens: int | None = None
    """The model's context window when the provider sets one (local servers)."""
    token_parameter: str = "max_completion_tokens"
    """Name of the output-token limit: ``max_tokens`` for servers that only know the older name."""
    bills_images: bool = True
    """The provider counts image tokens in ``usage.prompt_tokens``: a reply counting far fewer than
    the images sent cost means they were dropped (checked after each reply). Local servers often
    count images differently, or not at all."""
    transcription: bool = True
    """The endpoint serves ``/v1/audio/transcriptions`` (local chat servers mostly do not: speech then
    comes from subtitles only, unless a transcription endpoint is given)."""
    reasoning_effort: bool = True
    """Reasoning models take ``reasoning_effort`` (OpenAI); local servers may refuse the field."""


PROVIDERS: dict[str, ProviderLimits] = {
    "openai": ProviderLimits(),
    # Local OpenAI-compatible servers (vLLM --limit-mm-per-prompt, Ollama, llama.cpp, LM Studio):
    # few images per request, detail ignored, structured output not guaranteed.
    "local": ProviderLimits(
        name="local", max_images_per_request=8, max_payload_bytes=20 * MB,
        supports_detail=False, supports_json_schema=False, token_parameter="max_tokens", bills_images=False,
        transcription=False, reasoning_effort=False,
    ),
}


def load_provider(spec: str | os.PathLike | None) -> ProviderLimits:
    """A provider profile by name (``openai``, ``local``) or from a JSON file of the fields.

    Args:
        spec: a profile name, a path to a ``.json`` file, or None for ``openai``.

    Returns:
        The limits.

    Raises:
        ConfigError: unknown name, unreadable file, or bad values.
    """
    if spec is None:
        return PROVIDERS["openai"]
    text = str(spec)
    if text in PROVIDERS:
        return PROVIDERS[text]
    path = Path(text)
    if not path.is_file():
        raise ConfigError(f"unknown provider profile {text!r}: use one of {', '.join(PROVIDERS)} or a JSON file")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read the provider profile ({err})") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a provider profile must be a JSON object")
    base_name = data.pop("base", "openai")
    base = PROVIDERS.get(base_name) if isinstance(base_name, str) else None
    if base is None:
        raise ConfigError(f"{path}: unknown base profile {base_name!r}: use one of {', '.join(PROVIDERS)}")
    known = set(ProviderLimits.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown provider fields {sorted(unknown)}; known: {sorted(known)}")
    limits = replace(base, **data)
    if limits.token_parameter not in ("max_tokens", "max_completion_tokens"):
        raise ConfigError(f"{path}: token_parameter must be max_tokens or max_completion_tokens")
    for name in ("supports_detail", "supports_json_schema", "bills_images", "transcription", "reasoning_effort"):
        if not isinstance(getattr(limits, name), bool):
            raise ConfigError(f"{path}: {name} must be true or false")
    for name in ("max_images_per_request", "max_image_bytes", "max_payload_bytes"):
        if not isinstance(getattr(limits, name), int) or getattr(limits, name) < 1:
            raise ConfigError(f"{path}: {name} must be a positive integer")
    return limits


@dataclass(frozen=True)
class Budget:
    """Upper bounds for what is sent (any combination; None = no bound)."""

    max_frames: int | None = None
    max_image_tokens: int | None = None
    max_cost: float | None = None
    """USD for the whole input (images + text) plus the expected output."""

    def __post_init__(self):
        if self.max_frames is not None and self.max_frames < 1:
            raise ConfigError("max_frames must be at least 1", field="max_frames")
        if self.max_image_tokens is not None and self.max_image_tokens < 1:
            raise ConfigError("max_image_tokens must be at least 1", field="max_image_tokens")
        if self.max_cost is not None and not (self.max_cost > 0 and math.isfinite(self.max_cost)):
            raise ConfigError("max_cost must be a positive amount of USD", field="max_cost")


@dataclass(frozen=True)
class PackConfig:
    model: str = DEFAULT_MODEL
    detail: Detail = defaults.DETAIL
    image_format: ImageFormat = defaults.IMAGE_FORMAT
    quality: int = defaults.QUALITY
    burn_timestamps: bool = False
    grid: tuple[int, int] | None = None
    """(rows, cols): tile that many consecutive frames into one image, times burned in."""
    limits: ProviderLimits = field(default_factory=ProviderLimits)
    budget: Budget = field(default_factory=Budget)
    text_overhead_tokens: int = 300
    """Prompt text outside the labels (system + instruction), for cost budgeting."""
    expected_output_tokens: int = defaults.MAX_OUTPUT_TOKENS
    """Output tokens per request, for budgeting by cost and fitting the context window (a plan sets
    it to the prompt's output-token limit)."""
    frames_per_request: int | None = None
    """Split into map-reduce requests of at most this many images (besides provider limits)."""
    api: str = "auto"
    """The wire the requests are encoded for (``videovision.wires``: ``chat``, ``responses`` ..., or
    ``auto``: the model's); the client sends over the same one (``ClientConfig.api``)."""

    def __post_init__(self):
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigError("model must be a model name such as gpt-4o-mini (got an empty one)", field="model")
        _one_of("detail", self.detail, get_args(Detail))
        _one_of("image_format", self.image_format, get_args(ImageFormat))
        if not 1 <= self.quality <= 100:
            raise ConfigError("quality must be between 1 and 100", field="quality")
        if self.grid is not None and (self.grid[0] < 1 or self.grid[1] < 1 or self.grid[0] * self.grid[1] < 2):
            raise ConfigError("grid must be RxC with at least two cells, e.g. 2x2", field="grid")
        if self.frames_per_request is not None and self.frames_per_request < 1:
            raise ConfigError("frames_per_request must be at least 1", field="frames_per_request")
        from .wires import api_choices

        if self.api not in api_choices():
            raise ConfigError(f"invalid api {self.api!r}: choose {', '.join(api_choices())}", field="api")


def _one_of(name: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, allowed))} (got {value!r})", field=name)


@dataclass(frozen=True)
class Packing:
    """The images to send, what was dropped, and how they split into requests."""

    model: str
    detail: str
    images: tuple[PackedImage, ...]
    dropped: tuple[DroppedFrame, ...]
    requests: tuple[tuple[int, ...], ...]
    """Indices into ``images``, one tuple per request (time order, split along scene cuts)."""
    frames_considered: int
    model_known: bool

    @property
    def image_tokens(self) -> int:
        return sum(i.tokens for i in self.images)


def base64_size(n: int) -> int:
    return 4 * math.ceil(n / 3)


MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (rgb.shape[1], rgb.shape[0]) == size:
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


@dataclass
class _Prepared:
    time: float
    index: int
    scene: int | None
    thumb: np.ndarray
    """Grey copy ``THUMB_WIDTH`` wide: what "the same picture" is measured on."""
    data: bytes
    width: int
    height: int
    colours: np.ndarray | None = None
    """An 8x8 colour thumbnail (float32): what a shot looks like, robust to motion within it."""


def colour_signature(rgb: np.ndarray) -> np.ndarray:
    """An 8x8 RGB thumbnail as float32 (compared with mean absolute difference)."""
    return cv2.resize(rgb, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32)


def _cell_size(frame_w: int, frame_h: int, image_box: tuple[int, int], grid: tuple[int, int]) -> tuple[int, int]:
    rows, cols = grid
    box_w, box_h = image_box
    scale = min(box_w / (cols * frame_w), box_h / (rows * frame_h), 1.0)
    return max(8, int(frame_w * scale)), max(8, int(frame_h * scale))


def _prepare(frames: Iterable[Frame], config: PackConfig, spec: ModelSpec) -> tuple[list[_Prepared], tuple[int, int] | None]:
    """Encode each frame at the size it will be sent (or at grid-cell size)."""
    prepared: list[_Prepared] = []
    cell: tuple[int, int] | None = None
    for frame in frames:
        h, w = frame.image.shape[:2]
        if config.grid is not None:
            if cell is None:
                box = target_size(w * config.grid[1], h * config.grid[0], spec, config.detail)
                cell = _cell_size(w, h, box, config.grid)
            size = cell
        else:
            size = target_size(w, h, spec, config.detail)
        small = _resize(frame.image, size)
        if config.burn_timestamps or config.grid is not None:
            small = draw_label(small, format_time(frame.time, precision=1))
        data = encode_image(small, config.image_format if config.grid is None else "png", config.quality)
        prepared.append(_Prepared(frame.time, frame.index, frame.scene, grey(small, THUMB_WIDTH), data, size[0], size[1],
                                  colour_signature(small)))
    return prepared, cell


def _compose_grid(cells: Sequence[_Prepared], grid: tuple[int, int], cell: tuple[int, int], config: PackConfig,
                  spec: ModelSpec) -> PackedImage:
    rows, cols = grid
    used_rows = math.ceil(len(cells) / cols)
    cw, ch = cell
    canvas = np.zeros((used_rows * ch, cols * cw, 3), np.uint8)
    for i, item in enumerate(cells):
        r, c = divmod(i, cols)
        decoded = cv2.imdecode(np.frombuffer(item.data, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None  # we encoded it a moment ago
        img = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
        canvas[r * ch : (r + 1) * ch, c * cw : (c + 1) * cw] = img
    data = encode_image(canvas, config.image_format, config.quality)
    w, h = canvas.shape[1], canvas.shape[0]
    times = tuple(c.time for c in cells)
    label = " ".join(time_label(t) for t in times) + f" ({rows}x{cols} grid, left to right, top to bottom)"
    return PackedImage(
        time=times[0], index=cells[0].index, scene=cells[0].scene, data=data, mime=MIME[config.image_format],
        width=w, height=h, tokens=image_tokens(w, h, spec, config.detail), times=times, label=label,
    )


def _to_packed(item: _Prepared, config: PackConfig, spec: ModelSpec) -> PackedImage:
    return PackedImage(
        time=item.time, index=item.index, scene=item.scene, data=item.data, mime=MIME[config.image_format],
        width=item.width, height=item.height,
        tokens=image_tokens(item.width, item.height, spec, config.detail),
        label=time_label(item.time),
    )


def capacity(config: PackConfig, tokens_per_image: int, spec: ModelSpec | None = None) -> int | None:
    """How many images the budget allows (None = unbounded)."""
    caps: list[int] = []
    b = config.budget
    if b.max_frames is not None:
        per_image = config.grid[0] * config.grid[1] if config.grid else 1
        caps.append(max(0, b.max_frames // per_image) if config.grid else b.max_frames)
    per_image_tokens = tokens_per_image + LABEL_TEXT_TOKENS
    if b.max_image_tokens is not None:
        caps.append(b.max_image_tokens // max(1, tokens_per_image))
    if b.max_cost is not None:
        spec = spec or resolve_model(config.model)
        in_price, out_price = spec.input_price_per_m, spec.output_price_per_m
        if in_price is None:
            raise BudgetError(
                f"no price is known for model {config.model!r}: register one (--models-file) or budget with "
                "--max-frames / --max-image-tokens"
            )
        fixed = (config.text_overhead_tokens * in_price + config.expected_output_tokens * (out_price or 0)) / 1e6
        room = b.max_cost - fixed
        caps.append(max(0, math.floor(room / (per_image_tokens * in_price / 1e6) + 1e-9)) if room > 0 else 0)
    return min(caps) if caps else None


def choose(items: Sequence[_Prepared], keep: int, *, merge_look_alikes: bool = True,
           same_change: float = defaults.DEDUP_CHANGE) -> tuple[list[int], dict[int, str]]:
    """Pick ``keep`` of ``items`` (indices, ascending): repeats out first, one per scene, then spread.

    Args:
        merge_look_alikes: with more scenes than room, drop look-alike neighbouring scenes first
            (false cuts); False when the cuts are known to be real (slide changes).
        same_change: percent of changed pixels at or below which neighbours show the same picture.

    Returns:
        (kept indices, {dropped index: reason}).
    """
    n = len(items)
    if keep >= n:
        return list(range(n)), {}
    reasons: dict[int, str] = {}
    alive = list(range(n))
    # 1. near-duplicates of their predecessor, closest first
    pairs = []
    for a, b in itertools.pairwise(alive):
        ta, tb = items[a].thumb, items[b].thumb
        d = changed_percent(ta, tb) if ta.shape == tb.shape else 100.0
        if same_content(d, max(structure(ta), structure(tb)), same_change):
            pairs.append((d, b, a))
    for _, b, a in sorted(pairs):
        if len(alive) <= keep:
            break
        if b in alive and a in alive:
            alive.remove(b)
            reasons[b] = f"same picture as {format_time(items[a].time, precision=1)}"
    if len(alive) <= keep:
        return alive, reasons
    # 2. one per scene, 3. spread over time (farthest point first)
    times = np.array([items[i].time for i in alive])
    chosen: list[int] = []
    scenes: dict[int, list[int]] = {}
    for pos, i in enumerate(alive):
        scene = items[i].scene
        if scene is not None:
            scenes.setdefault(scene, []).append(pos)
    reps = []
    for members in scenes.values():
        mid = (times[members[0]] + times[members[-1]]) / 2
        reps.append(min(members, key=lambda p: abs(times[p] - mid)))
    reps = sorted(reps)
    if merge_look_alikes:
        reps = _merge_similar_neighbours(reps, [items[i] for i in alive], keep)
    if len(reps) > keep:
        chosen = _even(times, reps, keep)
    elif reps:
        chosen = list(reps)
    else:
        chosen = _even(times, list(range(len(alive))), keep)
    chosen = _spread(times, list(range(len(alive))), keep, chosen)
    kept = sorted(alive[p] for p in chosen)
    kept_set = set(kept)
    for i in alive:
        if i not in kept_set:
            reasons[i] = "budget"
    return kept, reasons


LOOK_ALIKE = 20.0
"""Mean absolute difference (0-255) of 8x8 colour thumbnails below which two neighbouring
scenes count as one shot split by a false cut."""


def _even(times: np.ndarray, pool: list[int], keep: int) -> list[int]:
    """``keep`` of ``pool`` (positions), the ones nearest the centres of ``keep`` equal slices
    of the pool's time span: spread over the whole span, start to end."""
    pool_t = times[pool]
    lo, hi = float(pool_t.min()), float(pool_t.max())
    chosen: list[int] = []
    free = list(pool)
    for k in range(keep):
        if not free:
            break
        target = lo + (k + 0.5) * (hi - lo) / keep
        j = min(range(len(free)), key=lambda n: abs(times[free[n]] - target))
        chosen.append(free.pop(j))
    return sorted(chosen)


def _merge_similar_neighbours(reps: list[int], items: Sequence[_Prepared], keep: int) -> list[int]:
    """With more scene representatives than room, drop first those that look like their
    neighbour (closer than :data:`LOOK_ALIKE`): a cut detected inside one shot (camera motion,
    a flash) splits it into scenes that look alike, while real shots differ. Returns positions."""
    reps = list(reps)
    if len(reps) <= keep or any(items[p].colours is None for p in reps):
        return reps

    colours = [items[p].colours for p in range(len(items))]

    def distance(a: int, b: int) -> float:
        ca, cb = colours[a], colours[b]
        assert ca is not None and cb is not None
        return float(np.mean(np.abs(ca - cb)))

    gaps = [distance(reps[i], reps[i + 1]) for i in range(len(reps) - 1)]
    while len(reps) > keep and gaps and min(gaps) < LOOK_ALIKE:
        i = int(np.argmin(gaps))
        del reps[i + 1]  # keep the earlier of the two look-alikes
        del gaps[i]
        if i < len(gaps):
            gaps[i] = distance(reps[i], reps[i + 1])
    return reps


def _spread(times: np.ndarray, pool: list[int], keep: int, chosen: list[int]) -> list[int]:
    """Add from ``pool`` the point farthest from ``chosen`` until ``keep`` are chosen."""
    chosen = list(chosen)
    if len(chosen) >= keep:
        return chosen[:keep]
    pool = [p for p in pool if p not in set(chosen)]
    if not pool:
        return chosen
    pool_t = times[pool]
    if chosen:
        dist = np.min(np.abs(pool_t[:, None] - times[chosen][None, :]), axis=1)
    else:
        # start from the middle of the pool so an odd budget of one lands in the middle
        dist = np.full(len(pool), np.inf)
        first = int(np.argmin(np.abs(pool_t - (pool_t[0] + pool_t[-1]) / 2)))
        chosen.append(pool[first])
        dist = np.abs(pool_t - pool_t[first])
        dist[first] = -1
    while len(chosen) < keep:
        j = int(np.argmax(dist))
        if dist[j] < 0:
            break
        chosen.append(pool[j])
        dist = np.minimum(dist, np.abs(pool_t - pool_t[j]))
        dist[j] = -1
    return chosen


def per_request_cap(images: Sequence[PackedImage], config: PackConfig, spec: ModelSpec) -> int | None:
    """Most images one request may carry besides the provider limits: ``frames_per_request`` and
    the model's context window (None: no such cap)."""
    caps = [config.frames_per_request] if config.frames_per_request else []
    windows = [w for w in (spec.context_window, config.limits.context_tokens) if w]
    if windows and images:
        per_image = max(i.tokens for i in images) + LABEL_TEXT_TOKENS
        room = min(windows) * CONTEXT_SAFETY - config.text_overhead_tokens - config.expected_output_tokens
        caps.append(max(1, int(room // per_image)))
    return min(caps) if caps else None


def split_requests(images: Sequence[PackedImage], limits: ProviderLimits,
                   cap: int | None = None) -> tuple[tuple[int, ...], ...]:
    """Split images (time order) into requests: the provider's per-request limits first (each
    boundary moved back to a scene change when one lies in the second half of a chunk), then any
    chunk over ``cap`` images into near-equal parts.

    Returns:
        Indices into ``images``, one tuple per request.
    """
    if not images:
        return ()
    chunks: list[tuple[int, ...]] = []
    start = 0
    n = len(images)
    while start < n:
        end, payload = start, 0
        while end < n and end - start < limits.max_images_per_request:
            size = base64_size(len(images[end].data))
            if end > start and payload + size > limits.max_payload_bytes:
                break
            payload += size
            end += 1
        if end < n:
            floor = start + max(1, (end - start) // 2)
            for cut in range(end, floor - 1, -1):
                if images[cut].scene != images[cut - 1].scene and images[cut].scene is not None:
                    end = cut
                    break
        chunks.append(tuple(range(start, end)))
        start = end
    if cap:
        chunks = [tuple(c[i] for i in part) for c in chunks for part in balanced_split(len(c), math.ceil(len(c) / cap))]
    return tuple(chunks)


def balanced_split(n: int, parts: int) -> list[tuple[int, ...]]:
    """``n`` items in ``parts`` contiguous near-equal chunks."""
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [tuple(range(bounds[i], bounds[i + 1])) for i in range(parts) if bounds[i + 1] > bounds[i]]


def pack(frames: Iterable[Frame], config: PackConfig, *, exact_cuts: Callable[[], bool] | None = None) -> Packing:
    """Encode frames for the model and fit them to the budget and the provider's limits.

    Args:
        frames: frames in ascending time (streamed; each is encoded then released).
        config: model, detail, format, budget and limits.
        exact_cuts: asked once the frames are consumed: True when the scene cuts are real changes
            (the screen preset's slide changes), so look-alike scenes are not merged.

    Returns:
        A :class:`Packing`.

    Raises:
        BudgetError: the budget or limits cannot fit even one image.
        ConfigError: invalid options.
    """
    spec = resolve_model(config.model)
    prepared, cell = _prepare(frames, config, spec)
    if not prepared:
        raise BudgetError("no frames to pack")
    per = config.grid[0] * config.grid[1] if config.grid else 1
    if config.grid is not None:
        assert cell is not None  # set with the first frame of a grid
        probe_w, probe_h = cell[0] * config.grid[1], cell[1] * config.grid[0]
    else:
        probe_w, probe_h = prepared[0].width, prepared[0].height
    tokens_each = image_tokens(probe_w, probe_h, spec, config.detail)
    cap_images = capacity(config, tokens_each, spec)
    biggest = max(base64_size(len(p.data)) for p in prepared)
    if len(prepared[0].data) > config.limits.max_image_bytes and config.grid is None:
        raise BudgetError(
            f"a {config.image_format.upper()} frame is {len(prepared[0].data) / MB:.1f} MB, over the provider's "
            f"{config.limits.max_image_bytes / MB:.0f} MB per-image limit: use --detail low or --image-format jpeg"
        )
    if cap_images is not None and cap_images < 1:
        raise BudgetError(_too_small(config, tokens_each))
    if biggest > config.limits.max_payload_bytes:
        raise BudgetError("even one image exceeds the provider's payload limit: lower --quality or use --detail low")
    keep_frames = len(prepared) if cap_images is None else min(len(prepared), cap_images * per)
    kept, reasons = choose(prepared, keep_frames, merge_look_alikes=not (exact_cuts and exact_cuts()))
    dropped = tuple(DroppedFrame(prepared[i].time, r) for i, r in sorted(reasons.items(), key=lambda kv: prepared[kv[0]].time))
    kept_items = [prepared[i] for i in kept]
    if config.grid is None or cell is None:
        images = tuple(_to_packed(p, config, spec) for p in kept_items)
    else:
        grid, size = config.grid, cell
        images = tuple(_compose_grid(kept_items[i : i + per], grid, size, config, spec)
                       for i in range(0, len(kept_items), per))
    requests = split_requests(images, config.limits, per_request_cap(images, config, spec))
    return Packing(
        model=config.model, detail=config.detail, images=images, dropped=dropped, requests=requests,
        frames_considered=len(prepared), model_known=spec.known,
    )


def _too_small(config: PackConfig, tokens_each: int) -> str:
    b = config.budget
    parts = []
    if b.max_frames is not None and config.grid:
        parts.append(f"--max-frames {b.max_frames} is below one {config.grid[0]}x{config.grid[1]} grid")
    if b.max_image_tokens is not None and b.max_image_tokens < tokens_each:
        parts.append(f"--max-image-tokens {b.max_image_tokens} is below one image ({tokens_each} tokens at detail {config.detail} on {config.model})")
    if b.max_cost is not None:
        parts.append(f"--max-cost ${b.max_cost:g} does not cover the prompt and one image on {config.model}")
    return "the budget cannot fit even one frame: " + ("; ".join(parts) or "raise the budget")
