"""Read the screen: text on slides, editors and screen shares, read locally by OCR and sent as text
right after its frame (``--screen-text auto|on|off``).

    chosen frames ──decode at full size──▶ OCR (Tesseract) ──▶ lines
                  ──what changed since the frame before──▶ ``[00:01:35.0] on screen: ...`` (budgeted)
    packed image  ──OCR at the size sent──▶ recall against the full frame: does the text survive?

At ``detail: low`` a 1280×720 slide is sent at 512×288, where 14 px code is under 4 px: the text is
read on the frame at its decoded size and sent as text, so the model gets it whatever the image
size. Each frame's "on screen" part holds only the lines the previous frame did not show, cut to
``SCREEN_TEXT_FRAME_MAX_TOKENS`` and, over the whole plan, to ``max_tokens``.

The engine is Tesseract (Debian's ``tesseract-ocr``, models in ``tesseract-ocr-eng``), run as a
process per frame (``OMP_THREAD_LIMIT=1``, frames in parallel): chosen over RapidOCR by the numbers
in ``bench/bench_screentext.py`` (README, "Screen text"). :class:`OcrEngine` is the one small
interface; any object with ``name`` and ``read(rgb) -> list[TextLine]`` can be passed instead.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from . import defaults
from .errors import ConfigError, SamplingError
from .timecode import time_label
from .types import PackedImage, ScreenTextMode

if TYPE_CHECKING:
    import numpy as np

    from .models.spec import ModelSpec
    from .packing import PackConfig
    from .source import VideoSource

log = logging.getLogger("videovision")

__all__ = ["SCREEN_NOTE", "FrameText", "OcrEngine", "ScreenText", "ScreenTextConfig", "TesseractEngine", "TextLine",
           "find_engine", "read_screen", "word_recall", "words"]

SCREEN_NOTE = ("Text read on screen by OCR follows some frames (\"on screen:\", with the frame's time label): only "
               "what changed since the frame before; cite the frame's label when you use it.")
ON_SCREEN = "on screen:"

_MODES = ("auto", "on", "off")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_BULLETS = frozenset("e@o•*·°©®«»-–—>")
"""Single-glyph words that open a line when Tesseract reads a bullet point as a character."""
_MIN_CONFIDENCE = 40.0
"""Tesseract word confidence (0-100) below which a word is taken for noise (icons, rules, glyph parts)."""


@dataclass(frozen=True)
class ScreenTextConfig:
    """What to read on screen and how much of it to send."""

    mode: ScreenTextMode = defaults.SCREEN_TEXT
    """``auto``: frames of screen recordings (the screen preset), when an engine is installed;
    ``on``: every frame (an error without an engine); ``off``: none."""
    max_tokens: int = defaults.SCREEN_TEXT_MAX_TOKENS
    """Text tokens all "on screen" parts may take together."""
    language: str = "eng"
    """Tesseract language(s), e.g. ``eng+deu``."""

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ConfigError(f"mode must be one of {', '.join(_MODES)}, not {self.mode!r}", field="screen_text")
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 0:
            raise ConfigError("max_tokens must be a whole number >= 0", field="screen_text_max_tokens")
        if not re.fullmatch(r"[A-Za-z_]+(\+[A-Za-z_]+)*", self.language or ""):
            raise ConfigError(f"language must be Tesseract language names like eng or eng+deu, not {self.language!r}",
                              field="screen_text_language")


@dataclass(frozen=True)
class TextLine:
    """One line of text read on a picture."""

    text: str
    box: tuple[int, int, int, int]
    """x, y, width, height in the picture's pixels."""
    confidence: float
    """Mean word confidence, 0-100."""


class OcrEngine(Protocol):
    """What reads text: ``read`` takes an RGB ``uint8`` picture and returns its lines, top to bottom."""

    name: str

    def read(self, rgb: np.ndarray) -> list[TextLine]: ...


class TesseractEngine:
    """Tesseract through its command line (TSV output), one process per picture.

    Args:
        command: the ``tesseract`` executable.
        language: language(s) to read (``eng``, ``eng+deu``).
        timeout: seconds one picture may take.
    """

    def __init__(self, command: str = "tesseract", language: str = "eng", timeout: float = defaults.OCR_TIMEOUT):
        self.command, self.language, self.timeout = command, language, timeout
        self.version = _tesseract_version(command)
        self.name = f"tesseract {self.version}"

    def read(self, rgb: np.ndarray) -> list[TextLine]:
        import cv2

        ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise SamplingError("could not encode a frame for OCR")
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # frames run in parallel: one thread each
        try:
            done = subprocess.run([self.command, "stdin", "stdout", "-l", self.language, "--psm", "3", "tsv"],
                                  input=png.tobytes(), capture_output=True, timeout=self.timeout, env=env, check=False)
        except subprocess.TimeoutExpired as err:
            raise SamplingError(f"Tesseract took over {self.timeout:g} s on one frame") from err
        except OSError as err:
            raise SamplingError(f"could not run Tesseract ({err})") from err
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SamplingError(f"Tesseract failed: {message[-1] if message else f'exit {done.returncode}'}")
        return parse_tsv(done.stdout.decode("utf-8", "replace"))


def parse_tsv(tsv: str) -> list[TextLine]:
    """Lines from Tesseract's TSV output: the words of each (block, paragraph, line), in reading order,
    without words under the confidence floor."""
    lines: dict[tuple[int, int, int], list[tuple[str, float, int, int, int, int]]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        try:
            conf = float(cols[10])
            x, y, w, h = (int(c) for c in cols[6:10])
            key = (int(cols[2]), int(cols[3]), int(cols[4]))
        except ValueError:
            continue
        text = cols[11].strip()
        if not text or conf < _MIN_CONFIDENCE:
            continue
        lines.setdefault(key, []).append((text, conf, x, y, w, h))
    out = []
    for ws in lines.values():
        if len(ws) > 1 and ws[0][0] in _BULLETS:  # a bullet point read as a letter
            ws = ws[1:]
        text = " ".join(w[0] for w in ws)
        if not _WORD.search(text):
            continue
        x0, y0 = min(w[2] for w in ws), min(w[3] for w in ws)
        x1, y1 = max(w[2] + w[4] for w in ws), max(w[3] + w[5] for w in ws)
        out.append(TextLine(text, (x0, y0, x1 - x0, y1 - y0), round(sum(w[1] for w in ws) / len(ws), 1)))
    return out


@functools.lru_cache(maxsize=8)
def _tesseract_version(command: str) -> str:
    try:
        done = subprocess.run([command, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SamplingError(f"could not run Tesseract ({err})") from err
    text = (done.stdout or done.stderr).decode("utf-8", "replace")
    found = re.search(r"tesseract\s+v?(\d[\w.\-]*)", text)
    if done.returncode != 0 or not found:
        raise SamplingError(f"{command} --version did not answer as Tesseract does")
    return found.group(1)


def _languages(command: str) -> set[str]:
    try:
        done = subprocess.run([command, "--list-langs"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {ln.strip() for ln in done.stdout.decode("utf-8", "replace").splitlines()[1:] if ln.strip()}


def find_engine(language: str = "eng") -> TesseractEngine | None:
    """The installed OCR engine for ``language``, or None (no ``tesseract`` on PATH, or it lacks the language).
    ``VIDEOVISION_TESSERACT`` names another executable."""
    command = os.environ.get("VIDEOVISION_TESSERACT") or shutil.which("tesseract")
    if not command:
        return None
    if not set(language.split("+")) <= _languages(command):
        return None
    try:
        return TesseractEngine(command, language)
    except SamplingError:
        return None


# --------------------------------------------------------------------------- words and recall
def words(text: str) -> list[str]:
    """The words of ``text`` as recall counts them: letters and digits, lower case, two or more characters."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1]


def word_recall(reference: Sequence[str], found: Sequence[str]) -> float:
    """Share of the ``reference`` words (with repeats) that ``found`` holds; 1.0 for an empty reference."""
    ref, got = Counter(reference), Counter(found)
    total = sum(ref.values())
    return sum(min(n, got[w]) for w, n in ref.items()) / total if total else 1.0


def _key(line: str) -> str:
    return " ".join(words(line))


# --------------------------------------------------------------------------- per frame and per plan
@dataclass(frozen=True)
class FrameText:
    """What was read on one frame sent."""

    time: float
    lines: tuple[str, ...]
    """Every line read on the frame at its decoded size."""
    new_lines: tuple[str, ...]
    """The lines sent: those the frame before did not show (cut to the budget)."""
    tokens: int
    """Text tokens of the frame's "on screen" part (0 when nothing new)."""
    packed_recall: float | None
    """Share of the full frame's words OCR still finds in the image as sent; None when too few words to judge."""
    legible: bool | None
    """``packed_recall >= SCREEN_TEXT_LEGIBLE_RECALL``; None when not judged."""
    packed_size: tuple[int, int] = (0, 0)
    full_size: tuple[int, int] = (0, 0)
    cut: bool = False
    """Lines were left out at the budget."""
    sent_high: bool = False
    """The frame's text did not survive the packed size and the image is sent at ``detail: high`` instead
    (within ``--max-image-tokens``)."""

    @property
    def text(self) -> str:
        """The "on screen" part sent after the frame, or empty."""
        return f"{time_label(self.time)} {ON_SCREEN} " + "\n".join(self.new_lines) if self.new_lines else ""

    def to_json(self) -> dict:
        return {"time": round(self.time, 3), "lines": list(self.lines), "sent": list(self.new_lines),
                "tokens": self.tokens, "packed_recall": None if self.packed_recall is None else round(self.packed_recall, 3),
                "legible": self.legible, "packed_size": list(self.packed_size), "full_size": list(self.full_size),
                "cut": self.cut, "sent_high": self.sent_high}


@dataclass(frozen=True)
class ScreenText:
    """What the screen-text step decided and read for a plan."""

    mode: str = "off"
    engine: str | None = None
    reason: str = ""
    """Why frames were read or not (``plan`` prints it)."""
    frames: tuple[FrameText, ...] = ()
    seconds: float = 0.0
    """Wall time of decoding and OCR."""
    notes: tuple[str, ...] = field(default=())
    high: tuple[PackedImage, ...] = ()
    """Frames whose text did not survive the packed size, re-encoded for ``detail: high`` (they replace
    their packed image)."""

    @property
    def read(self) -> bool:
        return bool(self.frames)

    @property
    def tokens(self) -> int:
        return sum(f.tokens for f in self.frames)

    @property
    def illegible(self) -> tuple[FrameText, ...]:
        return tuple(f for f in self.frames if f.legible is False)

    def to_json(self) -> dict:
        return {"mode": self.mode, "engine": self.engine, "reason": self.reason, "tokens": self.tokens,
                "seconds": round(self.seconds, 3), "notes": list(self.notes),
                "frames": [f.to_json() for f in self.frames]}

    def summary_line(self) -> str:
        """One line for ``plan``: what was read, its tokens, and how legible the frames are as sent."""
        if not self.read:
            return f"not read ({self.reason})"
        with_text = [f for f in self.frames if f.lines]
        judged = [f for f in self.frames if f.legible is not None]
        line = (f"{self.engine} read {len(self.frames)} frames ({self.reason}), {len(with_text)} with "
                f"text, {sum(1 for f in self.frames if f.new_lines)} sent as text after their frame, "
                f"{self.tokens} tokens, {self.seconds:.1f} s")
        if judged:
            bad = self.illegible
            line += (f"; legible at the size sent: {len(judged) - len(bad)}/{len(judged)}"
                     + (f" — {len(bad)} too small to read there (word recall "
                        f"{min(f.packed_recall or 0.0 for f in bad):.0%}–{max(f.packed_recall or 0.0 for f in bad):.0%} "
                        f"at {bad[0].packed_size[0]}×{bad[0].packed_size[1]} vs the full frame): their text goes as text"
                        if bad else ""))
            high = [f for f in bad if f.sent_high]
            if high:
                line += f"; {len(high)} of them sent at detail high, within --max-image-tokens"
            elif bad:
                line += " (--max-image-tokens with room sends them at detail high)"
        return line


def decide(config: ScreenTextConfig, preset: str | None, engine: OcrEngine | None) -> tuple[bool, str]:
    """Whether to read the frames, and why (``plan`` says it)."""
    if config.mode == "off":
        return False, "--screen-text off"
    if engine is None:
        if config.mode == "on":
            raise ConfigError(f"screen_text 'on' needs Tesseract with the '{config.language}' language: "
                              "apt-get install tesseract-ocr (or set VIDEOVISION_TESSERACT)", field="screen_text")
        return False, "auto: no OCR engine installed (apt-get install tesseract-ocr)"
    if config.mode == "on":
        return True, "--screen-text on"
    if preset == "screen":
        return True, "auto: screen recording"
    return False, f"auto: not a screen recording ({preset or 'no scene preset'}); --screen-text on reads any video"


def read_screen(
    source: VideoSource,
    images: Sequence[PackedImage],
    config: ScreenTextConfig,
    *,
    preset: str | None,
    spec: ModelSpec | str,
    engine: OcrEngine | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    pack: PackConfig | None = None,
) -> ScreenText:
    """Read the text of the frames behind ``images`` (grid images are skipped).

    Args:
        source: the open video (frames are decoded again at their full size).
        images: the packed images, in time order.
        config: mode and budget.
        preset: the scene preset sampling used (``screen`` lets ``auto`` read).
        spec: the model, for counting text tokens.
        engine: the OCR engine (default: :func:`find_engine`).
        workers: frames read at once (default: the CPUs available).
        progress: optional ``progress(done, total)``.
        pack: the packing options: with ``budget.max_image_tokens``, frames whose text does not survive
            the packed size are sent at ``detail: high`` while the budget has room (lowest recall first).

    Returns:
        :class:`ScreenText`; its frames in the order of ``images`` that were read.

    Raises:
        ConfigError: ``mode`` is ``on`` and no engine is installed.
        SamplingError: the engine failed on a frame.
    """
    if engine is None and config.mode != "off":
        engine = find_engine(config.language)
    on, reason = decide(config, preset, engine)
    if not on or engine is None:
        return ScreenText(mode=config.mode, engine=engine.name if engine else None, reason=reason)
    started = time.monotonic()
    single = [img for img in images if not img.times or len(img.times) == 1]
    if not single:
        return ScreenText(mode=config.mode, engine=engine.name, reason=f"{reason}; no single-frame image to read")
    workers = workers or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    results, full = _read_frames(source, single, engine, workers, progress)
    frames, notes = _budget(single, results, config, spec)
    high: list[PackedImage] = []
    if pack is not None:
        high = _sharpen(images, single, frames, full, pack, spec)
        sharp = {img.time for img in high}
        frames = [replace(f, sent_high=True) if f.time in sharp else f for f in frames]
    return ScreenText(mode=config.mode, engine=engine.name, reason=reason, frames=tuple(frames),
                      seconds=time.monotonic() - started, notes=tuple(notes), high=tuple(high))


def _sharpen(images: Sequence[PackedImage], single: Sequence[PackedImage], frames: Sequence[FrameText],
             full: dict[float, np.ndarray], pack: PackConfig, spec: ModelSpec | str) -> list[PackedImage]:
    """High-detail versions of the frames whose text did not survive, lowest recall first, while the
    image-token budget has room; none without such a budget (a frame budget alone says nothing of tokens)."""
    from .export import draw_label, encode_image
    from .models import image_tokens, target_size
    from .packing import MIME
    from .timecode import format_time

    cap = pack.budget.max_image_tokens
    if cap is None or pack.detail != "low" or pack.grid is not None or not pack.limits.supports_detail:
        return []
    import cv2

    left = cap - sum(img.tokens for img in images)
    by_time = {img.time: img for img in single}
    out = []
    for f in sorted((f for f in frames if f.legible is False and f.time in full), key=lambda f: f.packed_recall or 0.0):
        picture = full[f.time]
        w, h = target_size(picture.shape[1], picture.shape[0], spec, "high")
        tokens = image_tokens(w, h, spec, "high")
        old = by_time[f.time]
        if tokens - old.tokens > left or (w, h) == (old.width, old.height):
            continue
        sized = picture if (w, h) == (picture.shape[1], picture.shape[0]) else cv2.resize(
            picture, (w, h), interpolation=cv2.INTER_AREA)
        if pack.burn_timestamps:
            sized = draw_label(sized, format_time(f.time, precision=1))
        left -= tokens - old.tokens
        out.append(replace(old, data=encode_image(sized, pack.image_format, pack.quality), width=w, height=h,
                           tokens=tokens, detail="high", mime=MIME[pack.image_format]))
    return out


def _read_frames(source: VideoSource, single: Sequence[PackedImage], engine: OcrEngine, workers: int,
                 progress: Callable[[int, int], None] | None,
                 ) -> tuple[list[tuple[list[TextLine], list[TextLine], tuple[int, int]]], dict[float, np.ndarray]]:
    """OCR of each image's frame at its full size and as packed, in the order of ``single``.

    The full-size frames stream: decoded once, in time order, read ``workers`` at a time, and dropped once
    read, except those whose text does not survive the packed size (the high-detail pass re-encodes them).
    """
    from concurrent.futures import Future

    order = {img.time: i for i, img in enumerate(single)}
    wanted = sorted(order)
    results: list[tuple[list[TextLine], list[TextLine], tuple[int, int]] | None] = [None] * len(single)
    kept: dict[float, np.ndarray] = {}

    def one(img: PackedImage, picture: np.ndarray | None) -> tuple[list[TextLine], list[TextLine], tuple[int, int]]:
        packed = _decode(img)
        if picture is None:
            picture = packed
        return engine.read(picture), engine.read(packed), (picture.shape[1], picture.shape[0])

    def settle(time: float, future: Future, picture: np.ndarray | None) -> None:
        result = future.result()
        results[order[time]] = result
        lines, packed_lines, _ = result
        full_words = [w for ln in lines for w in words(ln.text)]
        if picture is not None and len(full_words) >= defaults.SCREEN_TEXT_MIN_WORDS and word_recall(
                full_words, [w for ln in packed_lines for w in words(ln.text)]) < defaults.SCREEN_TEXT_LEGIBLE_RECALL:
            kept[time] = picture
        if progress is not None:
            progress(sum(r is not None for r in results), len(single))

    pending: list[tuple[float, Future, np.ndarray | None]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for frame in source.frames_at(wanted):
            near = min(wanted, key=lambda t: abs(t - frame.time))
            if abs(near - frame.time) >= 1e-3 or results[order[near]] is not None:
                continue
            if any(t == near for t, _, _ in pending):
                continue
            pending.append((near, pool.submit(one, single[order[near]], frame.image), frame.image))
            while len(pending) >= workers:  # at most ``workers`` full-size frames held while reading
                settle(*pending.pop(0))
        for item in pending:
            settle(*item)
        for i, img in enumerate(single):  # a frame that did not decode again: read as packed
            if results[i] is None:
                settle(img.time, pool.submit(one, img, None), None)
    return [r for r in results if r is not None], kept


def _decode(image: PackedImage) -> np.ndarray:
    import cv2
    import numpy as np

    bgr = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SamplingError(f"could not decode the packed image at {time_label(image.time)} for OCR")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _budget(images: Sequence[PackedImage], results: Sequence[tuple[list[TextLine], list[TextLine], tuple[int, int]]],
            config: ScreenTextConfig, spec: ModelSpec | str) -> tuple[list[FrameText], list[str]]:
    """Per frame: the lines new since the frame before, within the per-frame and the plan's token budget."""
    from .models.text import count_text_tokens

    frames: list[FrameText] = []
    before: set[str] = set()
    left = config.max_tokens
    cut_frames = 0
    for img, (lines, packed_lines, size) in zip(images, results):
        texts = tuple(ln.text for ln in lines)
        keys = {_key(t) for t in texts} - {""}
        new = [t for t in texts if _key(t) and _key(t) not in before]
        before = keys if keys else before  # a frame with no text (a blank moment) does not reset what was shown
        full_words = [w for t in texts for w in words(t)]
        recall = (word_recall(full_words, [w for ln in packed_lines for w in words(ln.text)])
                  if len(full_words) >= defaults.SCREEN_TEXT_MIN_WORDS else None)
        sent: list[str] = []
        tokens = 0
        cut = False
        if new:
            head = f"{time_label(img.time)} {ON_SCREEN} "
            cap = min(defaults.SCREEN_TEXT_FRAME_MAX_TOKENS, left)
            for line in new:
                n, _ = count_text_tokens(head + "\n".join([*sent, line]), spec)
                if n > cap:
                    cut = True
                    break
                sent.append(line)
                tokens = n
            left -= tokens
            cut_frames += cut
        frames.append(FrameText(img.time, texts, tuple(sent), tokens, recall,
                                None if recall is None else recall >= defaults.SCREEN_TEXT_LEGIBLE_RECALL,
                                (img.width, img.height), size, cut))
    notes = []
    if cut_frames:
        notes.append(f"screen text: {cut_frames} frames' text cut at the budget ({config.max_tokens} tokens in all, "
                     f"{defaults.SCREEN_TEXT_FRAME_MAX_TOKENS} per frame)")
    return frames, notes


def apply(images: Sequence[PackedImage], screen: ScreenText) -> tuple[PackedImage, ...]:
    """``images`` with each read frame's "on screen" part set (the request puts it right after the image)."""
    by_time = {f.time: f.text for f in screen.frames}
    sharp = {img.time: img for img in screen.high}
    return tuple(replace(sharp.get(img.time, img), screen_text=by_time.get(img.time, "")) if img.time in by_time else img
                 for img in images)
