#!/usr/bin/env python3
"""Footage kinds the project was not tuned on (issue 17): generated clips with ground truth.

Each kind has a generator ``make_<kind>(path, *, seconds=None, size=None, fps=None, short=False,
seed=0) -> dict`` that writes an H.264 MP4 (plus ``<file>.json`` with the ground truth) and returns
the ground truth:

    kind             the kind's name (a key of ``KINDS``)
    expected_preset  "screen" (slides, editors, screen shares, meeting recordings) or "film"
                     (camera footage, film, animation); ``preset_any`` True when nothing in the
                     picture can tell (a black or one-colour clip): either preset is right
    cuts             true scene changes (seconds); ``scenes`` the [start, end) spans between them
    slides           [{start, end, title}] for slide talks, editors (one per file) and screen shares
    speech           [{start, end, text, speaker}] when the clip has a speech track (espeak-ng)
    blank            True when the picture shows nothing at all (black / single-colour holds)
    events           [{start, end, what}] short things worth a frame inside a scene (the person
                     crossing the home camera's view)
    duration, fps, width, height (display, upright), rotation, has_audio, description

Screen kinds are screen-like (flat colours, bit-identical static regions, sharp anti-aliased
glyphs, a mouse pointer; libx264 crf 24, as a screen recorder writes them). Camera kinds are
camera-like: independent Gaussian sensor noise on every frame (sigma ~3 grey levels), smooth
gradients and lighting, soft edges, encoded at crf 23 so the noise partly survives.

    python samples/footage.py OUT_DIR              # every kind, full length
    python samples/footage.py OUT_DIR --short      # ~10-20 s small variants (unit tests)
    python samples/footage.py OUT_DIR --kinds slides_dark,meeting_camera_off

    from footage import KINDS, make_all
    truths = make_all(tmp_path, short=True)        # {kind: ground truth (with "path")}

Depends on PyAV, numpy, OpenCV and (for speech) the ``espeak-ng`` program; without espeak-ng the
speech track is a speech-like buzz with the same timing (``speech_synth`` says which). Reuses the
helpers of ``samples/generate.py`` (loaded by file path, like ``tests/media.py`` does).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

SAMPLES_DIR = Path(__file__).resolve().parent


def _load_generate():
    name = "_videovision_samples_generate"  # the same module object tests/media.py uses
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLES_DIR / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


generate = _load_generate()

__all__ = ["KINDS", "Kind", "make_all", "make_kind"]

FONT = cv2.FONT_HERSHEY_SIMPLEX
AUDIO_RATE = 22050
VERSION = 2
"""Bumped when a generator's output changes: ``make_kind`` regenerates clips of another version."""


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


class _Encoder:
    """libx264 yuv420p CFR writer for upright RGB frames, optional display rotation and an AAC
    track (mono float samples at ``AUDIO_RATE``) interleaved with the video."""

    def __init__(self, path: Path, width: int, height: int, fps: float, *, crf: int, preset: str = "veryfast",
                 rotation: int = 0, audio: np.ndarray | None = None, noise: float = 0.0, seed: int = 0,
                 tune: str | None = None):
        if width % 2 or height % 2:
            raise ValueError(f"size must be even, got {width}x{height}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.w, self.h = path, width, height
        self.k = (-rotation // 90) % 4  # np.rot90(upright, k) is the stored picture
        sw, sh = (height, width) if self.k % 2 else (width, height)
        self.fps = Fraction(fps).limit_denominator(1001)
        self.out = av.open(str(path), "w")
        vs = self.out.add_stream("libx264", rate=self.fps)
        vs.width, vs.height, vs.pix_fmt = sw, sh, "yuv420p"
        cc = vs.codec_context
        cc.thread_type = "FRAME"
        cc.thread_count = 2
        opts = {"crf": str(crf), "preset": preset}
        if tune:
            opts["tune"] = tune
        vs.options = opts
        if rotation % 360:
            vs.set_display_rotation(rotation)
        self.vs = vs
        self.noise = float(noise)
        self.rng = np.random.default_rng(seed + 1234)
        self.i = 0
        self._last: tuple[Any, Any, Any] = (None, None, None)
        self.audio = audio
        self.apos = 0
        self.astream = None
        if audio is not None:
            a = self.out.add_stream("aac", rate=AUDIO_RATE)
            a.layout = "mono"
            a.bit_rate = 48000
            self.astream = a

    def _write_audio_until(self, t: float | None) -> None:
        if self.astream is None or self.audio is None:
            return
        end = len(self.audio) if t is None else min(len(self.audio), int(t * AUDIO_RATE))
        fs = self.astream.codec_context.frame_size or 1024
        while self.apos < end and (t is None or self.apos + fs <= end):
            n = min(fs, len(self.audio) - self.apos)
            chunk = np.ascontiguousarray(self.audio[self.apos : self.apos + n], np.float32)[None, :]
            fr = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            fr.sample_rate = AUDIO_RATE
            fr.pts = self.apos
            fr.time_base = Fraction(1, AUDIO_RATE)
            self.apos += n
            for p in self.astream.encode(fr):
                self.out.mux(p)

    def write(self, rgb: np.ndarray, *, noise: float | None = None, noise_mask: np.ndarray | None = None) -> None:
        """One upright RGB uint8 frame; ``noise`` (sigma, grey levels; default the encoder's) is
        added independently to every frame, in luma and (weaker) chroma; ``noise_mask`` (H, W)
        bool limits it to part of the picture (letterbox bars stay clean)."""
        sigma = self.noise if noise is None else noise
        probe = rgb[::7, ::5]
        last_rgb, last_probe, last_buf = self._last
        if sigma <= 0 and noise_mask is None and rgb is last_rgb and np.array_equal(probe, last_probe):
            buf = last_buf  # the same picture again (a static screen): no conversion
        else:
            buf = self._convert(rgb, sigma, noise_mask)
            self._last = (rgb, probe.copy(), buf) if sigma <= 0 else (None, None, None)
        frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
        frame.pts = self.i
        frame.time_base = 1 / self.fps
        for p in self.vs.encode(frame):
            self.out.mux(p)
        self.i += 1
        self._write_audio_until(self.i / float(self.fps))

    def _convert(self, rgb: np.ndarray, sigma: float, noise_mask: np.ndarray | None) -> np.ndarray:
        img = rgb
        if self.k:
            img = np.rot90(img, self.k)
            if noise_mask is not None:
                noise_mask = np.rot90(noise_mask, self.k)
        img = np.ascontiguousarray(img)
        buf = cv2.cvtColor(img, cv2.COLOR_RGB2YUV_I420)
        if sigma > 0:
            hh, ww = img.shape[:2]
            n = self.rng.standard_normal(buf.shape, dtype=np.float32)
            n[:hh] *= sigma
            n[hh:] *= sigma * 0.5
            if noise_mask is not None:
                n[:hh][~noise_mask] = 0
                cm = cv2.resize(noise_mask.astype(np.uint8), (ww // 2, hh // 2), interpolation=cv2.INTER_NEAREST)
                q = hh // 4
                if hh % 4 == 0:
                    cmask = cm.reshape(q, ww).astype(bool)
                    n[hh : hh + q][~cmask] = 0
                    n[hh + q :][~cmask] = 0
            buf = np.clip(buf.astype(np.float32) + n, 0, 255).astype(np.uint8)
        return buf

    def close(self) -> None:
        for p in self.vs.encode():
            self.out.mux(p)
        self._write_audio_until(None)
        if self.astream is not None:
            for p in self.astream.encode():
                self.out.mux(p)
        self.out.close()


# --------------------------------------------------------------------------------------------
# Speech (espeak-ng)
# --------------------------------------------------------------------------------------------

_MEETING = [
    ("Dana", "Good morning everyone, this is the weekly platform sync for the billing migration."),
    ("Dana", "First item: the launch date moves from March the seventh to March the fourteenth."),
    ("Omar", "The reason is the security audit, which is not finished yet."),
    ("Omar", "The auditors need two more days for the payment service."),
    ("Dana", "Second item: the budget. We have spent thirty one thousand euros of forty thousand."),
    ("Dana", "That leaves nine thousand euros for the load tests and the training sessions."),
    ("Omar", "I would like to move two thousand euros from training to load tests."),
    ("Dana", "Agreed. Omar will update the spreadsheet by Friday."),
    ("Omar", "Third item: the search latency is down to one hundred and twenty milliseconds."),
    ("Omar", "The target was one hundred and fifty, so we are ahead of plan."),
    ("Dana", "Great news. Please share the dashboard link in the channel."),
    ("Dana", "Fourth item: hiring. We have two open roles, one backend and one data engineer."),
    ("Omar", "The backend interviews finish next Tuesday."),
    ("Dana", "Then the last item: the incident on Monday night."),
    ("Omar", "The storage cluster ran out of disk space at two in the morning."),
    ("Omar", "We added an alert at eighty percent and doubled the volume size."),
    ("Dana", "Thank you. Action items: Omar updates the budget, I send the new launch date to the partners."),
    ("Dana", "We meet again next Wednesday at ten. Thanks everyone, bye."),
    ("Omar", "One more thing: the mobile release is blocked on the app store review."),
    ("Omar", "Apple asked for a new privacy statement, legal is writing it this week."),
    ("Dana", "Noted. If it slips past Friday, we ship the web version first."),
    ("Omar", "And the retention numbers for January are in: churn fell to three point two percent."),
    ("Dana", "That is the lowest churn since the pricing change. Well done to the support team."),
    ("Dana", "Okay, that really is everything. See you next week."),
]

_VLOG = [
    ("Sam", "Hi, welcome back to the channel. Today I review a small mechanical keyboard."),
    ("Sam", "It has brown switches, a metal case, and it weighs almost one kilogram."),
    ("Sam", "The battery lasts about three weeks with the backlight switched off."),
    ("Sam", "My only complaint is the price, one hundred and sixty dollars."),
    ("Sam", "Overall I give it eight out of ten. Thanks for watching."),
]

_VOICES = {"Dana": "en-us+f3", "Omar": "en-gb", "Sam": "en-us"}


def _espeak(text: str, voice: str) -> np.ndarray | None:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="footage-tts-") as tmp:
        wav = Path(tmp) / "s.wav"
        r = subprocess.run([exe, "-v", voice, "-s", "165", "-w", str(wav), text], capture_output=True, timeout=60)
        if r.returncode != 0 or not wav.is_file():
            r = subprocess.run([exe, "-s", "165", "-w", str(wav), text], capture_output=True, timeout=60)
            if r.returncode != 0 or not wav.is_file():
                return None
        with wave.open(str(wav)) as w:
            rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            data = np.frombuffer(w.readframes(w.getnframes()), np.int16 if width == 2 else np.uint8)
    x = data.astype(np.float32)
    x = (x - 128.0) / 128.0 if width == 1 else x / 32768.0
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    if rate != AUDIO_RATE:
        n = int(round(len(x) * AUDIO_RATE / rate))
        x = np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)
    # trim the silence espeak puts around the words
    loud = np.flatnonzero(np.abs(x) > 0.01)
    if len(loud):
        x = x[max(0, loud[0] - 200) : loud[-1] + 200]
    return x


def _buzz(text: str, rng: np.random.Generator) -> np.ndarray:
    """Speech-like stand-in when espeak-ng is missing: syllable bursts of a voiced buzz."""
    n = int(AUDIO_RATE * max(0.8, 0.065 * len(text)))
    t = np.arange(n) / AUDIO_RATE
    f0 = 120 + 20 * np.sin(2 * math.pi * 0.7 * t)
    voiced = np.sign(np.sin(2 * math.pi * np.cumsum(f0) / AUDIO_RATE)) * 0.3
    env = np.clip(np.sin(2 * math.pi * 4.0 * t + rng.random() * 6), 0, 1) ** 0.5
    return (voiced * env * 0.4).astype(np.float32)


def _speech_track(lines: Sequence[tuple[str, str]], *, start: float, max_seconds: float, gap: float = 0.45,
                  seed: int = 0) -> tuple[np.ndarray, list[dict], str]:
    """Speech lines one after the other from ``start`` until ``max_seconds`` is reached (at least
    one line). Returns (samples, [{start, end, text, speaker}], "espeak-ng" | "buzz")."""
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    segs: list[dict] = []
    pos = int(start * AUDIO_RATE)
    synth = "espeak-ng"
    parts.append(np.zeros(pos, np.float32))
    for speaker, text in lines:
        x = _espeak(text, _VOICES.get(speaker, "en-us"))
        if x is None:
            synth = "buzz"
            x = _buzz(text, rng)
        if segs and (pos + len(x)) / AUDIO_RATE > max_seconds:
            break
        segs.append({"start": round(pos / AUDIO_RATE, 3), "end": round((pos + len(x)) / AUDIO_RATE, 3),
                     "text": text, "speaker": speaker})
        parts.append(0.8 * x / max(1e-6, float(np.abs(x).max())))
        g = int((gap + 0.3 * rng.random()) * AUDIO_RATE)
        parts.append(np.zeros(g, np.float32))
        pos += len(x) + g
    return np.concatenate(parts).astype(np.float32), segs, synth


# --------------------------------------------------------------------------------------------
# Ground truth
# --------------------------------------------------------------------------------------------


def _scenes(cuts: Sequence[float], duration: float) -> list[list[float]]:
    b = [0.0, *cuts, duration]
    return [[round(b[i], 4), round(b[i + 1], 4)] for i in range(len(b) - 1)]


def _truth(path: Path, kind: str, *, duration: float, fps: float, size: tuple[int, int], cuts: Sequence[float],
           write_json: bool = True, **extra: Any) -> dict:
    spec = KINDS.get(kind)
    gt: dict[str, Any] = {
        "kind": kind,
        "file": path.name,
        "expected_preset": spec.expected_preset if spec else None,
        "preset_any": bool(spec.preset_any) if spec else False,
        "description": spec.description if spec else "",
        "duration": round(duration, 4),
        "fps": float(fps),
        "width": int(size[0]),
        "height": int(size[1]),
        "rotation": 0,
        "has_audio": False,
        "blank": False,
        "cuts": [round(c, 4) for c in cuts],
        "scenes": _scenes(cuts, duration),
    }
    gt.update(extra)
    gt["size_bytes"] = path.stat().st_size
    if write_json:
        generate.ground_truth_path(path).write_text(json.dumps(gt, indent=1) + "\n")
    return gt


def _pick(short: bool, seconds, size, fps, full: tuple[float, tuple[int, int], float],
          small: tuple[float, tuple[int, int], float]) -> tuple[float, tuple[int, int], float]:
    d = small if short else full
    return (float(seconds) if seconds is not None else d[0], tuple(size) if size is not None else d[1],  # type: ignore[return-value]
            float(fps) if fps is not None else d[2])


def _frames(seconds: float, fps: float) -> int:
    return max(1, int(round(seconds * fps)))


def _snap(t: float, fps: float) -> float:
    """A time rounded up to the next frame boundary (a cut starts on a frame)."""
    return math.ceil(t * fps - 1e-6) / fps


# --------------------------------------------------------------------------------------------
# Slides
# --------------------------------------------------------------------------------------------

_THEMES = {
    "light": dict(bg=(250, 250, 250), title=(24, 52, 110), text=(45, 45, 45), accent=(30, 110, 200),
                  footer=(130, 130, 130), sub=(90, 90, 90)),
    "dark": dict(bg=(30, 30, 30), title=(245, 245, 245), text=(200, 200, 200), accent=(86, 156, 214),
                 footer=(120, 120, 120), sub=(150, 150, 150)),
}


class _Deck:
    """Slides of one template; ``kinds[k]`` is "title" (a big title alone), "titlesub" (title and
    a small subtitle) or "bullets"."""

    def __init__(self, w: int, h: int, theme: str, kinds: Sequence[str], seed: int):
        self.w, self.h, self.t = w, h, _THEMES[theme]
        self.sc = w / 1280.0
        rng = np.random.default_rng(seed)
        self.kinds = list(kinds)
        self.texts = [generate._slide_texts(rng, int(rng.integers(3, 6))) for _ in kinds]
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def title(self, k: int) -> str:
        return self.texts[k][0]

    def picture(self, k: int, revealed: int | None = None) -> np.ndarray:
        key = (k, -1 if revealed is None else revealed)
        if key not in self._cache:
            self._cache = {key: self._draw(k, revealed)}
        return self._cache[key]

    def _draw(self, k: int, revealed: int | None) -> np.ndarray:
        w, h, sc, t = self.w, self.h, self.sc, self.t
        img = np.empty((h, w, 3), np.uint8)
        img[:] = t["bg"]
        title, bullets = self.texts[k]
        kind = self.kinds[k]
        if kind in ("title", "titlesub"):
            scale = 2.4 * sc
            thick = max(2, int(round(5 * sc)))
            (tw, th), _ = cv2.getTextSize(title, FONT, scale, thick)
            while tw > 0.9 * w and scale > 0.5:
                scale *= 0.9
                (tw, th), _ = cv2.getTextSize(title, FONT, scale, thick)
            y = h // 2 + th // 2 - (int(30 * sc) if kind == "titlesub" else 0)
            cv2.putText(img, title, ((w - tw) // 2, y), FONT, scale, t["title"], thick, cv2.LINE_AA)
            if kind == "titlesub":
                sub = f"{bullets[0].capitalize()} - {2026 - k}"
                (sw, _), _ = cv2.getTextSize(sub, FONT, 0.9 * sc, max(1, int(round(2 * sc))))
                cv2.putText(img, sub, ((w - sw) // 2, y + int(75 * sc)), FONT, 0.9 * sc, t["sub"],
                            max(1, int(round(2 * sc))), cv2.LINE_AA)
            return img
        cv2.putText(img, title, (int(60 * sc), int(95 * sc)), FONT, 1.6 * sc, t["title"],
                    max(1, int(round(3 * sc))), cv2.LINE_AA)
        cv2.rectangle(img, (int(60 * sc), int(120 * sc)), (int(360 * sc), int(126 * sc)), t["accent"], -1)
        y = int(210 * sc)
        for b in bullets[: len(bullets) if revealed is None else revealed]:
            cv2.circle(img, (int(80 * sc), y - int(10 * sc)), max(2, int(7 * sc)), t["accent"], -1, cv2.LINE_AA)
            cv2.putText(img, b, (int(110 * sc), y), FONT, 1.05 * sc, t["text"], max(1, int(round(2 * sc))),
                        cv2.LINE_AA)
            y += int(70 * sc)
        cv2.putText(img, f"{k + 1} / {len(self.kinds)}", (w - int(110 * sc), h - int(25 * sc)), FONT, 0.6 * sc,
                    t["footer"], 1, cv2.LINE_AA)
        return img


def _slide_schedule(n: int, seconds: float, fps: float, rng: np.random.Generator) -> list[float]:
    """Start times of ``n`` slides over ``seconds`` (irregular lengths, on frame boundaries)."""
    lengths = rng.uniform(0.7, 1.3, n)
    lengths *= seconds / lengths.sum()
    starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    return [0.0] + [_snap(float(s), fps) for s in starts[1:]]


def _slides_clip(path: Path, kind: str, theme: str, kinds: list[str], seconds: float, size: tuple[int, int],
                 fps: float, seed: int, *, pointer: bool = True, reveal_slide: int | None = None,
                 intro: float = 0.0, write_json: bool = True) -> dict:
    """A slide talk (optionally after a deep-blue dark intro of ``intro`` seconds)."""
    w, h = size
    rng = np.random.default_rng(seed)
    deck = _Deck(w, h, theme, kinds, seed)
    total = seconds
    starts = _slide_schedule(len(kinds), seconds - intro, fps, rng)
    starts = [_snap(s + intro, fps) if intro else s for s in starts]
    if intro:
        starts[0] = _snap(intro, fps)
    n = _frames(total, fps)
    reveal_times: list[float] = []
    if reveal_slide is not None and reveal_slide < len(kinds) and kinds[reveal_slide] == "bullets":
        a = starts[reveal_slide]
        b = starts[reveal_slide + 1] if reveal_slide + 1 < len(starts) else total
        nb = len(deck.texts[reveal_slide][1])
        reveal_times = [_snap(a + (b - a) * 0.6 * j / nb, fps) for j in range(1, nb)]
    enc = _Encoder(path, w, h, fps, crf=24, seed=seed)
    dark = _DarkIntro(w, h) if intro else None
    try:
        for i in range(n):
            t = i / fps
            if intro and t < starts[0]:
                img = dark.frame(t)  # type: ignore[union-attr]
            else:
                k = max(j for j, s in enumerate(starts) if s <= t + 1e-9)
                revealed = None
                if reveal_times and k == reveal_slide:
                    revealed = 1 + sum(1 for r in reveal_times if r <= t + 1e-9)
                img = deck.picture(k, revealed)
                if pointer:
                    img = img.copy()
                    generate._draw_pointer(img, *generate._pointer_path(t, w, h, seed), deck.sc)
            enc.write(img)
    finally:
        enc.close()
    cuts = list(starts) if intro else list(starts[1:])
    bounds = [*starts, total]
    slides = [{"start": round(bounds[k], 4), "end": round(bounds[k + 1], 4), "title": deck.title(k),
               "layout": kinds[k]} for k in range(len(kinds))]
    extra: dict[str, Any] = {"slides": slides, "theme": theme, "reveals": [round(r, 4) for r in reveal_times]}
    if intro:
        extra["dark_intro"] = {"start": 0.0, "end": round(starts[0], 4), "grey_mean": round(dark.grey_mean, 2)}  # type: ignore[union-attr]
    return _truth(path, kind, duration=n / fps, fps=fps, size=size, cuts=cuts, write_json=write_json, **extra)


class _DarkIntro:
    """A deep-blue keynote opener: dark gradient, a dim logo and title, slowly drifting dim dots.
    Grey mean ~7 but real structure (edges, text)."""

    def __init__(self, w: int, h: int):
        self.w, self.h = w, h
        sc = w / 1280.0
        y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        x = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
        top, bottom = np.array([4, 8, 46], np.float32), np.array([3, 6, 32], np.float32)
        base = top + (bottom - top) * y + 5 * np.exp(-((x - 0.5) ** 2 + (y - 0.45) ** 2) / 0.05) * np.array([0.2, 0.4, 1.0], np.float32)
        img = np.clip(base, 0, 255).astype(np.uint8)
        cx, cy = w // 2, int(h * 0.38)
        cv2.circle(img, (cx, cy), int(70 * sc), (18, 30, 95), max(2, int(6 * sc)), cv2.LINE_AA)
        cv2.circle(img, (cx, cy), int(30 * sc), (14, 24, 76), -1, cv2.LINE_AA)
        for text, yy, s, col in (("OPENING KEYNOTE", 0.62, 1.5, (34, 46, 110)), ("platform summit 2026", 0.72, 0.8, (22, 32, 80))):
            (tw, _), _ = cv2.getTextSize(text, FONT, s * sc, max(1, int(round(3 * sc))))
            cv2.putText(img, text, ((w - tw) // 2, int(h * yy)), FONT, s * sc, col, max(1, int(round(3 * sc))), cv2.LINE_AA)
        self.base = img
        rng = np.random.default_rng(5)
        self.dots = rng.random((40, 4))
        self.r = max(1, int(round(2 * sc)))
        self.grey_mean = float(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).mean())

    def frame(self, t: float) -> np.ndarray:
        img = self.base.copy()
        for x0, y0, vx, ph in self.dots:
            x = int(((x0 + 0.01 * vx * t) % 1.0) * self.w)
            y = int(((y0 + 0.004 * t) % 1.0) * self.h)
            b = 14 + 10 * math.sin(t * 1.3 + ph * 6)
            cv2.circle(img, (x, y), self.r, (int(b * 0.6), int(b * 0.8), int(b * 2.2)), -1, cv2.LINE_AA)
        return img


def make_slides_light(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Light slide template (white background, dark text), two title-only slides."""
    seconds, size, fps = _pick(short, seconds, size, fps, (60.0, (1280, 720), 15), (15.0, (640, 360), 15))
    kinds = (["title", "bullets", "bullets", "bullets", "titlesub", "bullets", "bullets", "title"] if not short
             else ["title", "bullets", "bullets", "titlesub", "bullets"])
    return _slides_clip(Path(path), "slides_light", "light", kinds, seconds, size, fps, seed,
                        reveal_slide=None if short else 2, write_json=write_json)


def make_slides_dark(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Dark slide template (white/grey text on #1e1e1e), three title-only slides."""
    seconds, size, fps = _pick(short, seconds, size, fps, (60.0, (1280, 720), 15), (15.0, (640, 360), 15))
    kinds = (["title", "bullets", "title", "bullets", "bullets", "titlesub", "bullets", "title"] if not short
             else ["title", "bullets", "title", "bullets", "titlesub"])
    return _slides_clip(Path(path), "slides_dark", "dark", kinds, seconds, size, fps, seed + 1,
                        reveal_slide=None if short else 3, write_json=write_json)


def make_slides_dark_titles(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Dark title slides only: a big title alone on #1e1e1e, no pointer."""
    seconds, size, fps = _pick(short, seconds, size, fps, (40.0, (1280, 720), 15), (12.0, (640, 360), 15))
    kinds = ["title"] * (8 if not short else 4)
    return _slides_clip(Path(path), "slides_dark_titles", "dark", kinds, seconds, size, fps, seed + 2,
                        pointer=False, write_json=write_json)


def make_dark_opening(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """A deep-blue dark opener (grey mean ~7, dim logo and title, drifting dots) for 20 s, then
    light slides."""
    seconds, size, fps = _pick(short, seconds, size, fps, (55.0, (1280, 720), 15), (14.0, (640, 360), 15))
    intro = 20.0 if not short else 5.0
    kinds = ["bullets", "titlesub", "bullets", "bullets", "bullets"] if not short else ["bullets", "titlesub", "bullets"]
    return _slides_clip(Path(path), "dark_opening", "light", kinds, seconds, size, fps, seed + 3, intro=intro,
                        write_json=write_json)


# --------------------------------------------------------------------------------------------
# Code editors
# --------------------------------------------------------------------------------------------

_EDITOR = {
    "dark": dict(bg=(30, 30, 30), side=(37, 37, 38), act=(51, 51, 51), tabs=(45, 45, 45), tab=(30, 30, 30),
                 status=(0, 122, 204), title=(60, 60, 60), text=(212, 212, 212), kw=(86, 156, 214),
                 str=(206, 145, 120), com=(106, 153, 85), num=(181, 206, 168), ln=(133, 133, 133),
                 sel=(55, 55, 61), side_text=(204, 204, 204), cursor=(174, 175, 173), status_text=(255, 255, 255)),
    "light": dict(bg=(255, 255, 255), side=(243, 243, 243), act=(44, 44, 44), tabs=(236, 236, 236), tab=(255, 255, 255),
                  status=(0, 122, 204), title=(221, 221, 221), text=(0, 0, 0), kw=(0, 0, 255),
                  str=(163, 21, 21), com=(0, 128, 0), num=(9, 134, 88), ln=(35, 120, 147),
                  sel=(228, 230, 241), side_text=(60, 60, 60), cursor=(0, 0, 0), status_text=(255, 255, 255)),
}

_FILES = [
    ("sampler.py", [
        "import math", "from dataclasses import dataclass", "", "", "@dataclass", "class Window:",
        "    start: float", "    end: float", "", "    def length(self) -> float:",
        "        return self.end - self.start", "", "",
        "def windows(duration, size=10.0):", "    # split a video into windows of `size` seconds",
        "    n = math.ceil(duration / size)", "    return [Window(i * size, min(duration, (i + 1) * size))",
        "            for i in range(n)]", "", "", "def total(ws):", "    return sum(w.length() for w in ws)",
    ], 14),
    ("config.toml", [
        "[model]", 'name = "gpt-4o-mini"', 'detail = "low"', "max_frames = 32", "", "[sampling]",
        'strategy = "hybrid"', "max_gap = 10.0", "min_scene_len = 0.6", "", "[speech]", 'source = "auto"',
        'language = "en"', "max_tokens = 20000",
    ], 9),
    ("test_sampler.py", [
        "from sampler import Window, total, windows", "", "", "def test_windows_cover_the_video():",
        "    ws = windows(25.0, size=10.0)", "    assert len(ws) == 3", "    assert ws[-1].end == 25.0", "", "",
        "def test_total():", "    assert total(windows(7.5)) == 7.5", "", "",
        "def test_empty():", '    assert windows(0.0) == []',
    ], 9),
    ("README.md", [
        "# sampler", "", "Split a video into windows and sample frames.", "", "## Usage", "",
        "    from sampler import windows", "    ws = windows(120.0)", "", "## Tests", "", "    pytest -q",
    ], 6),
]

_KEYWORDS = {"import", "from", "def", "class", "return", "for", "in", "if", "else", "assert", "with", "as",
             "None", "True", "False", "lambda", "and", "or", "not"}
_TOKEN = re.compile(r"(#.*$)|(\"[^\"]*\"?|'[^']*'?)|(\b\d+(?:\.\d+)?\b)|(\b[A-Za-z_]\w*\b)|(\s+)|(.)")


def _tokens(line: str, fname: str) -> list[tuple[str, str]]:
    if fname.endswith(".md"):
        return [(line, "kw" if line.startswith("#") else "text")]
    out = []
    for m in _TOKEN.finditer(line):
        com, s, num, ident, _ws, _other = m.groups()
        tok = m.group(0)
        if com:
            out.append((tok, "com"))
        elif s:
            out.append((tok, "str"))
        elif num:
            out.append((tok, "num"))
        elif (ident and ident in _KEYWORDS) or (fname.endswith(".toml") and tok.startswith("[")):
            out.append((tok, "kw"))
        else:
            out.append((tok, "text"))
    return out


class _Editor:
    """A VS Code-like editor window; text drawn one glyph per monospace cell."""

    def __init__(self, w: int, h: int, theme: str):
        self.w, self.h, self.c = w, h, _EDITOR[theme]
        sc = w / 1280.0
        self.sc = sc
        self.title_h, self.act_w, self.side_w = int(30 * sc), int(48 * sc), int(220 * sc)
        self.tab_h, self.status_h = int(35 * sc), int(22 * sc)
        self.fs = 0.55 * sc
        self.cw = max(4, int(round(10.5 * sc)))
        self.lh = max(8, int(round(21 * sc)))
        self.x0 = self.act_w + self.side_w
        self.gutter = int(55 * sc)
        self.y0 = self.title_h + self.tab_h + int(8 * sc)

    def chrome(self, fname: str) -> np.ndarray:
        c, w, h, sc = self.c, self.w, self.h, self.sc
        img = np.empty((h, w, 3), np.uint8)
        img[:] = c["bg"]
        img[: self.title_h] = c["title"]
        img[:, : self.act_w] = c["act"]
        img[self.title_h :, self.act_w : self.x0] = c["side"]
        img[self.title_h : self.title_h + self.tab_h, self.x0 :] = c["tabs"]
        img[h - self.status_h :] = c["status"]
        f = 0.45 * sc
        cv2.putText(img, f"{fname} - sampler - Visual Studio Code", (w // 2 - int(170 * sc), int(20 * sc)), FONT, f,
                    c["side_text"], 1, cv2.LINE_AA)
        for j in range(4):  # activity bar icons
            y = self.title_h + int((20 + 48 * j) * sc)
            cv2.rectangle(img, (int(14 * sc), y), (int(34 * sc), y + int(20 * sc)), (140, 140, 140), max(1, int(2 * sc)))
        cv2.putText(img, "EXPLORER", (self.act_w + int(16 * sc), self.title_h + int(24 * sc)), FONT, 0.4 * sc,
                    c["side_text"], 1, cv2.LINE_AA)
        for j, (name, _, _) in enumerate(_FILES):
            y = self.title_h + int((56 + 24 * j) * sc)
            if name == fname:
                img[y - int(17 * sc) : y + int(7 * sc), self.act_w : self.x0] = c["sel"]
            cv2.putText(img, name, (self.act_w + int(30 * sc), y), FONT, 0.45 * sc, c["side_text"], 1, cv2.LINE_AA)
        tx = self.x0
        img[self.title_h : self.title_h + self.tab_h, tx : tx + int(170 * sc)] = c["tab"]
        cv2.putText(img, fname, (tx + int(14 * sc), self.title_h + int(23 * sc)), FONT, 0.45 * sc, c["text"], 1,
                    cv2.LINE_AA)
        cv2.putText(img, "main  0 errors  0 warnings", (int(10 * sc), h - int(6 * sc)), FONT, 0.4 * sc,
                    c["status_text"], 1, cv2.LINE_AA)
        return img

    def max_lines(self) -> int:
        return (self.h - self.status_h - self.y0) // self.lh - 1

    def draw_line(self, img: np.ndarray, row: int, text: str, fname: str, number: int) -> None:
        c = self.c
        y = self.y0 + (row + 1) * self.lh
        if y > self.h - self.status_h - 4:
            return
        ln = str(number)
        cv2.putText(img, ln, (self.x0 + self.gutter - int(12 * self.sc) - self.cw * len(ln), y), FONT, self.fs,
                    c["ln"], 1, cv2.LINE_AA)
        col = 0
        for tok, style in _tokens(text, fname):
            colour = c[style]
            for ch in tok:
                if ch != " ":
                    cv2.putText(img, ch, (self.x0 + self.gutter + col * self.cw, y), FONT, self.fs, colour, 1,
                                cv2.LINE_AA)
                col += 1

    def cursor(self, img: np.ndarray, row: int, col: int) -> None:
        x = self.x0 + self.gutter + col * self.cw
        y = self.y0 + (row + 1) * self.lh
        cv2.rectangle(img, (x, y - self.lh + int(5 * self.sc)), (x + max(1, int(2 * self.sc)), y + int(4 * self.sc)),
                      self.c["cursor"], -1)

    def status(self, img: np.ndarray, row: int, col: int) -> None:
        cv2.putText(img, f"Ln {row + 1}, Col {col + 1}    Spaces: 4    UTF-8    Python",
                    (self.w - int(420 * self.sc), self.h - int(6 * self.sc)), FONT, 0.4 * self.sc,
                    self.c["status_text"], 1, cv2.LINE_AA)


def _code_clip(path: Path, kind: str, theme: str, seconds: float, size: tuple[int, int], fps: float, n_files: int,
               seed: int, write_json: bool) -> dict:
    w, h = size
    rng = np.random.default_rng(seed)
    ed = _Editor(w, h, theme)
    files = _FILES[:n_files]
    starts = _slide_schedule(len(files), seconds, fps, rng)
    n = _frames(seconds, fps)
    bounds = [*starts, n / fps]
    cps = 11.0  # typed characters per second
    cache: dict[tuple[int, int], np.ndarray] = {}
    enc = _Encoder(path, w, h, fps, crf=24, seed=seed)
    typing: list[dict] = []
    try:
        for i in range(n):
            t = i / fps
            k = max(j for j, s in enumerate(starts) if s <= t + 1e-9)
            fname, lines, shown = files[k]
            a = starts[k]
            typed_chars = max(0, int((t - a - 0.8) * cps))  # starts typing 0.8 s after the switch
            # lines [shown:] get typed one after the other (a newline costs one keystroke)
            full, partial_len = shown, 0
            left = typed_chars
            while full < len(lines) and left > len(lines[full]):
                left -= len(lines[full]) + 1
                full += 1
            if full < len(lines):
                partial_len = min(left, len(lines[full]))
            top = max(0, full + 1 - ed.max_lines())
            key = (k, full)
            if key not in cache:
                cache.clear()
                img0 = ed.chrome(fname)
                for r, line in enumerate(lines[top:full]):
                    ed.draw_line(img0, r, line, fname, top + r + 1)
                cache[key] = img0
            img = cache[key].copy()
            row = full - top
            if full < len(lines):
                ed.draw_line(img, row, lines[full][:partial_len], fname, full + 1)
            col = partial_len if full < len(lines) else 0
            if (t * 2) % 2 < 1.2 or partial_len:  # blinking cursor, solid while typing
                ed.cursor(img, row, col)
            ed.status(img, full, col)
            enc.write(img)
    finally:
        enc.close()
    for fname, lines, shown in files:
        typing.append({"file": fname, "lines_at_switch": shown, "lines_total": len(lines)})
    slides = [{"start": round(bounds[k], 4), "end": round(bounds[k + 1], 4), "title": files[k][0]}
              for k in range(len(files))]
    return _truth(path, kind, duration=n / fps, fps=fps, size=size, cuts=starts[1:], slides=slides, theme=theme,
                  typing=typing, write_json=write_json)


def make_code_dark(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Dark code editor (VS Code Dark+ colours): typing, file switches are the cuts."""
    seconds, size, fps = _pick(short, seconds, size, fps, (56.0, (1280, 720), 15), (13.0, (640, 360), 15))
    return _code_clip(Path(path), "code_dark", "dark", seconds, size, fps, 4 if not short else 3, seed + 10,
                      write_json)


def make_code_light(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Light code editor (VS Code Light+ colours): typing, file switches are the cuts."""
    seconds, size, fps = _pick(short, seconds, size, fps, (56.0, (1280, 720), 15), (13.0, (640, 360), 15))
    return _code_clip(Path(path), "code_light", "light", seconds, size, fps, 4 if not short else 3, seed + 11,
                      write_json)


# --------------------------------------------------------------------------------------------
# Black pictures with speech
# --------------------------------------------------------------------------------------------


def _badge(img: np.ndarray, name: str) -> tuple[int, int, int, int]:
    h, w = img.shape[:2]
    sc = w / 1280.0
    scale, thick = 0.75 * sc, max(1, int(round(2 * sc)))
    (tw, th), _ = cv2.getTextSize(name, FONT, scale, thick)
    pad = max(4, int(10 * sc))
    mic = int(18 * sc)
    x0, y1 = int(14 * sc), h - int(14 * sc)
    x1, y0 = x0 + tw + 3 * pad + mic, y1 - th - 2 * pad - int(4 * sc)
    cv2.rectangle(img, (x0, y0), (x1, y1), (38, 38, 38), -1)
    # a microphone: capsule + stand, in white
    mx, my = x0 + pad + mic // 2, (y0 + y1) // 2
    cv2.ellipse(img, (mx, my - int(2 * sc)), (max(2, mic // 4), max(3, mic // 2 - 1)), 0, 0, 360, (235, 235, 235), -1,
                cv2.LINE_AA)
    cv2.line(img, (mx, my + mic // 2 - 1), (mx, my + mic // 2 + int(3 * sc)), (235, 235, 235), max(1, int(2 * sc)))
    cv2.putText(img, name, (x0 + 2 * pad + mic, y1 - pad - int(2 * sc)), FONT, scale, (245, 245, 245), thick,
                cv2.LINE_AA)
    return x0, y0, x1, y1


def _speech_clip(path: Path, kind: str, lines, seconds: float, size: tuple[int, int], fps: float, seed: int,
                 badge: str | None, write_json: bool) -> dict:
    w, h = size
    audio, segs, synth = _speech_track(lines, start=1.0, max_seconds=seconds - 1.0, seed=seed)
    total = max(seconds, len(audio) / AUDIO_RATE + 1.0)
    n = _frames(total, fps)
    audio = np.concatenate([audio, np.zeros(max(0, int(n / fps * AUDIO_RATE) - len(audio)), np.float32)])
    img = np.zeros((h, w, 3), np.uint8)
    box = _badge(img, badge) if badge else None
    enc = _Encoder(path, w, h, fps, crf=24, audio=audio, seed=seed)
    try:
        for _ in range(n):
            enc.write(img)
    finally:
        enc.close()
    extra: dict[str, Any] = {"has_audio": True, "speech": segs, "speech_synth": synth,
                             "speech_seconds": round(sum(s["end"] - s["start"] for s in segs), 2)}
    if badge:
        extra["badge"] = {"text": badge, "box": list(box)}  # type: ignore[arg-type]
    else:
        extra["blank"] = True
    return _truth(path, kind, duration=n / fps, fps=fps, size=size, cuts=[], write_json=write_json, **extra)


def make_meeting_camera_off(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Camera-off meeting: black picture, a small name badge bottom-left, two voices (espeak-ng)
    as an AAC track, no cuts."""
    seconds, size, fps = _pick(short, seconds, size, fps, (110.0, (1280, 720), 15), (16.0, (640, 360), 15))
    return _speech_clip(Path(path), "meeting_camera_off", _MEETING, seconds, size, fps, seed, "Dana Whitfield",
                        write_json)


def make_black_speech(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Pure black picture with speech (a black-screen podcast, OBS with no video source)."""
    seconds, size, fps = _pick(short, seconds, size, fps, (75.0, (1280, 720), 15), (12.0, (640, 360), 15))
    return _speech_clip(Path(path), "black_speech", _MEETING[::-1], seconds, size, fps, seed + 1, None, write_json)


# --------------------------------------------------------------------------------------------
# Camera footage
# --------------------------------------------------------------------------------------------


def _gradient(h: int, w: int, c_tl, c_br, *, light: tuple[float, float, float] | None = None) -> np.ndarray:
    """A smooth diagonal gradient (float32 RGB), optionally with a soft light spot (x, y, strength)."""
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    a = np.array(c_tl, np.float32)
    b = np.array(c_br, np.float32)
    g = a + (b - a) * (0.6 * y + 0.4 * x)
    if light:
        lx, ly, s = light
        g = g + s * np.exp(-(((x - lx) * w / h) ** 2 + (y - ly) ** 2) / 0.08)
    return g


def _soft(img: np.ndarray, k: int) -> np.ndarray:
    k = max(1, k) | 1
    return cv2.GaussianBlur(img, (k, k), 0)


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img, 0, 255).astype(np.uint8)


def _person(img: np.ndarray, cx: float, base_y: float, height: float, shirt, *, walk: float = 0.0) -> None:
    """A standing figure (head, torso, legs) drawn with filled shapes, feet at ``base_y``."""
    hh = height
    head_r = max(2, int(hh * 0.075))
    cxi = int(cx)
    top = base_y - hh
    skin = (196, 160, 136)
    legs = (40, 42, 55)
    stride = int(hh * 0.08 * math.sin(walk))
    hip_y = int(top + hh * 0.55)
    cv2.line(img, (cxi, hip_y), (cxi - stride, int(base_y)), legs, max(2, int(hh * 0.07)), cv2.LINE_AA)
    cv2.line(img, (cxi, hip_y), (cxi + stride, int(base_y)), legs, max(2, int(hh * 0.07)), cv2.LINE_AA)
    cv2.ellipse(img, (cxi, int(top + hh * 0.38)), (max(2, int(hh * 0.12)), max(3, int(hh * 0.2))), 0, 0, 360, shirt, -1,
                cv2.LINE_AA)
    cv2.circle(img, (cxi, int(top + head_r * 1.1)), head_r, skin, -1, cv2.LINE_AA)
    cv2.ellipse(img, (cxi, int(top + head_r * 0.8)), (head_r, int(head_r * 0.7)), 0, 180, 360, (45, 32, 25), -1,
                cv2.LINE_AA)


def make_webcam_head(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Webcam talking head: a lit wall with a shelf, a head and shoulders that sway and nod, the
    mouth moving with the speech (espeak-ng), sensor noise on every frame, slow exposure drift."""
    seconds, size, fps = _pick(short, seconds, size, fps, (40.0, (640, 360), 25), (12.0, (320, 180), 25))
    path = Path(path)
    w, h = size
    sc = w / 640.0
    audio, segs, synth = _speech_track(_VLOG, start=0.8, max_seconds=seconds - 0.5, seed=seed)
    n = _frames(seconds, fps)
    audio = np.concatenate([audio, np.zeros(max(0, int(n / fps * AUDIO_RATE) - len(audio)), np.float32)])[
        : int(n / fps * AUDIO_RATE)]
    wall = _gradient(h, w, (168, 150, 128), (96, 86, 78), light=(0.25, 0.2, 40))
    bg = _u8(wall)
    # a shelf with books, top right
    x0, y0 = int(w * 0.66), int(h * 0.18)
    cv2.rectangle(bg, (x0, y0), (int(w * 0.97), int(h * 0.2) + int(8 * sc)), (92, 64, 44), -1)
    rng = np.random.default_rng(seed + 7)
    bx = x0 + int(4 * sc)
    while bx < int(w * 0.95):
        bw = int(rng.integers(6, 14) * sc) + 1
        bh = int(rng.integers(30, 48) * sc)
        col = tuple(int(c) for c in rng.integers(40, 200, 3))
        cv2.rectangle(bg, (bx, y0 - bh), (bx + bw, y0), col, -1)
        bx += bw + 1
    cv2.rectangle(bg, (int(w * 0.05), int(h * 0.55)), (int(w * 0.2), int(h * 1.0)), (70, 80, 60), -1)  # a plant pot
    cv2.circle(bg, (int(w * 0.125), int(h * 0.5)), int(48 * sc), (50, 110, 60), -1)
    bg = _soft(bg, int(7 * sc))
    env = np.zeros(n)
    for s in segs:
        a, b = int(s["start"] * fps), int(s["end"] * fps)
        env[a:b] = 1.0
    enc = _Encoder(path, w, h, fps, crf=23, audio=audio, noise=3.0, seed=seed)
    try:
        for i in range(n):
            t = i / fps
            img = bg.copy()
            cx = w * 0.46 + 14 * sc * math.sin(2 * math.pi * t / 5.3) + 4 * sc * math.sin(2 * math.pi * t / 1.7)
            cy = h * 0.42 + 5 * sc * math.sin(2 * math.pi * t / 2.9)
            cxi, cyi = int(cx), int(cy)
            hw, hh = int(62 * sc), int(82 * sc)
            cv2.ellipse(img, (cxi, int(h * 0.98)), (int(175 * sc), int(110 * sc)), 0, 180, 360, (52, 66, 104), -1, cv2.LINE_AA)
            cv2.rectangle(img, (cxi - int(24 * sc), cyi + int(60 * sc)), (cxi + int(24 * sc), int(h * 0.82)), (178, 140, 118), -1)
            cv2.ellipse(img, (cxi, cyi), (hw, hh), 0, 0, 360, (200, 162, 138), -1, cv2.LINE_AA)
            cv2.ellipse(img, (cxi, cyi - int(30 * sc)), (int(66 * sc), int(58 * sc)), 0, 180, 360, (48, 34, 26), -1, cv2.LINE_AA)
            blink = (t % 4.1) < 0.12
            for ex in (-24, 24):
                cv2.ellipse(img, (cxi + int(ex * sc), cyi - int(6 * sc)), (int(9 * sc), max(1, int((1 if blink else 5) * sc))),
                            0, 0, 360, (40, 30, 30), -1, cv2.LINE_AA)
            talk = env[i] * (0.5 + 0.5 * math.sin(2 * math.pi * t * 4.3) * math.sin(2 * math.pi * t * 1.7))
            cv2.ellipse(img, (cxi, cyi + int(40 * sc)), (int(20 * sc), max(1, int((2 + 9 * talk) * sc))), 0, 0, 360,
                        (110, 50, 50), -1, cv2.LINE_AA)
            r0, r1 = max(0, cyi - int(140 * sc)), h
            c0, c1 = max(0, cxi - int(200 * sc)), min(w, cxi + int(200 * sc))
            img[r0:r1, c0:c1] = _soft(img[r0:r1, c0:c1], int(5 * sc))
            gain = 1.0 + 0.03 * math.sin(2 * math.pi * t / 9.0)
            if abs(gain - 1) > 0.005:
                img = cv2.convertScaleAbs(img, alpha=gain)
            enc.write(img)
    finally:
        enc.close()
    return _truth(path, "webcam_head", duration=n / fps, fps=fps, size=size, cuts=[], has_audio=True, speech=segs,
                  speech_synth=synth, write_json=write_json)


def make_home_camera(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Static home camera: a living room, almost nothing moves, one person crosses once; sensor
    noise, a burnt-in date/time overlay like consumer cameras write."""
    seconds, size, fps = _pick(short, seconds, size, fps, (60.0, (640, 360), 15), (15.0, (320, 180), 15))
    path = Path(path)
    w, h = size
    sc = w / 640.0
    rng = np.random.default_rng(seed + 3)
    wall = _gradient(h, w, (150, 146, 132), (110, 104, 94), light=(0.8, 0.3, 30))
    floor_y = int(h * 0.62)
    tex = generate._texture("bands", h - floor_y, w, rng, 0.2)[..., None]
    wall[floor_y:] = np.array((120, 84, 56), np.float32) + tex * np.array((50, 36, 20), np.float32)
    room = _u8(wall)
    cv2.rectangle(room, (int(w * 0.08), int(h * 0.18)), (int(w * 0.2), floor_y), (96, 72, 50), -1)  # door
    cv2.circle(room, (int(w * 0.18), int(h * 0.42)), max(1, int(3 * sc)), (200, 180, 90), -1)
    cv2.rectangle(room, (int(w * 0.4), int(h * 0.5)), (int(w * 0.78), int(h * 0.72)), (128, 40, 42), -1)  # sofa
    cv2.rectangle(room, (int(w * 0.38), int(h * 0.44)), (int(w * 0.8), int(h * 0.52)), (112, 34, 36), -1)
    cv2.rectangle(room, (int(w * 0.5), int(h * 0.78)), (int(w * 0.68), int(h * 0.82)), (70, 50, 36), -1)  # table
    cv2.rectangle(room, (int(w * 0.86), int(h * 0.2)), (int(w * 0.88), floor_y), (60, 60, 60), -1)  # lamp
    cv2.ellipse(room, (int(w * 0.87), int(h * 0.2)), (int(22 * sc), int(14 * sc)), 0, 180, 360, (236, 222, 170), -1)
    cv2.rectangle(room, (int(w * 0.27), int(h * 0.2)), (int(w * 0.35), int(h * 0.34)), (70, 90, 120), -1)  # picture
    room = _soft(room, int(5 * sc))
    n = _frames(seconds, fps)
    cross_a, cross_b = 0.42 * seconds, 0.42 * seconds + min(5.0, 0.3 * seconds)
    enc = _Encoder(path, w, h, fps, crf=23, noise=3.5, seed=seed)
    scale_t = max(0.3, 0.5 * sc)
    try:
        for i in range(n):
            t = i / fps
            img = room.copy()
            if cross_a <= t <= cross_b:
                u = (t - cross_a) / (cross_b - cross_a)
                layer = img.copy()
                _person(layer, -0.08 * w + 1.16 * w * u, h * 0.9, h * 0.62, (60, 90, 140), walk=t * 9)
                img = _soft(layer, int(3 * sc))
            secs = int(t) + 2 * 3600 + 13 * 60 + 7
            stamp = f"2026-03-14  {secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
            org = (int(10 * sc), int(22 * sc))
            for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)):  # a dark outline, then the white text
                cv2.putText(img, stamp, (org[0] + dx, org[1] + dy), FONT, scale_t, (0, 0, 0), 1, cv2.LINE_AA)
            cv2.putText(img, stamp, org, FONT, scale_t, (240, 240, 240), 1, cv2.LINE_AA)
            enc.write(img)
    finally:
        enc.close()
    return _truth(path, "home_camera", duration=n / fps, fps=fps, size=size, cuts=[],
                  events=[{"start": round(cross_a, 3), "end": round(cross_b, 3), "what": "a person crosses the room"}],
                  write_json=write_json)


def make_night_camera(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Night street camera: dark (grey mean ~20-25, ~87 % of pixels under grey 40) but a real picture (building silhouettes, a few lit
    windows, lamp glows, a road), heavy sensor noise, one car driving through with its lights on."""
    seconds, size, fps = _pick(short, seconds, size, fps, (40.0, (640, 360), 25), (12.0, (320, 180), 25))
    path = Path(path)
    w, h = size
    sc = w / 640.0
    rng = np.random.default_rng(seed + 70)
    pic = _gradient(h, w, (6, 8, 16), (12, 12, 14))
    road_y = int(h * 0.72)
    x = 0
    while x < w:
        bw = int(rng.integers(w // 9, w // 5))
        top = int(h * rng.uniform(0.2, 0.45))
        pic[top:road_y, x : x + bw] = (16, 16, 22)
        for wy in range(top + int(10 * sc), road_y - int(12 * sc), max(8, int(18 * sc))):
            for wx in range(x + int(6 * sc), x + bw - int(10 * sc), max(8, int(16 * sc))):
                if rng.random() < 0.15:
                    pic[wy : wy + max(3, int(7 * sc)), wx : wx + max(3, int(6 * sc))] = (130, 96, 44)
        x += bw + int(rng.integers(2, 10) * sc)
    pic[road_y:] = (20, 20, 22)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for lx in (0.18, 0.52, 0.86):
        cx, cy = lx * w, h * 0.5
        glow = np.exp(-(((xx - cx) ** 2 + ((yy - cy) * 0.8) ** 2) / (2 * (40 * sc) ** 2)))
        pic += glow[..., None] * np.array((70, 56, 28), np.float32)
        cv2.line(pic, (int(cx), int(cy)), (int(cx), road_y + int(10 * sc)), (28, 28, 30), max(1, int(3 * sc)))
        cv2.circle(pic, (int(cx), int(cy)), max(2, int(5 * sc)), (240, 210, 140), -1, cv2.LINE_AA)
    for j in range(0, w, max(12, int(40 * sc))):  # lane markings
        cv2.line(pic, (j, int(h * 0.86)), (j + int(18 * sc), int(h * 0.86)), (60, 60, 58), max(1, int(2 * sc)))
    street = _soft(_u8(pic), 3)
    n = _frames(seconds, fps)
    car_a, car_b = 0.35 * seconds, 0.35 * seconds + min(4.0, 0.3 * seconds)
    enc = _Encoder(path, w, h, fps, crf=23, noise=4.0, seed=seed)
    try:
        for i in range(n):
            t = i / fps
            img = street
            if car_a <= t <= car_b:
                u = (t - car_a) / (car_b - car_a)
                img = street.copy()
                cx = int(-0.25 * w + 1.5 * w * u)
                cy = int(h * 0.8)
                cw, chh = int(110 * sc), int(30 * sc)
                cv2.rectangle(img, (cx - cw // 2, cy - chh), (cx + cw // 2, cy), (26, 26, 34), -1)
                cv2.rectangle(img, (cx - cw // 3, cy - chh - int(16 * sc)), (cx + cw // 4, cy - chh), (22, 22, 30), -1)
                beam = np.zeros_like(img)
                cv2.ellipse(beam, (cx + cw // 2 + int(60 * sc), cy - int(8 * sc)), (int(80 * sc), int(18 * sc)), 0, 0, 360,
                            (90, 90, 70), -1)
                img = cv2.add(img, _soft(beam, int(21 * sc)))
                cv2.circle(img, (cx + cw // 2 - int(4 * sc), cy - int(10 * sc)), max(2, int(5 * sc)), (255, 250, 220), -1, cv2.LINE_AA)
                cv2.circle(img, (cx - cw // 2 + int(3 * sc), cy - int(10 * sc)), max(2, int(4 * sc)), (200, 20, 20), -1, cv2.LINE_AA)
            enc.write(img)
    finally:
        enc.close()
    return _truth(path, "night_camera", duration=n / fps, fps=fps, size=size, cuts=[],
                  grey_mean=round(float(cv2.cvtColor(street, cv2.COLOR_RGB2GRAY).mean()), 2),
                  events=[{"start": round(car_a, 3), "end": round(car_b, 3), "what": "a car drives through"}],
                  write_json=write_json)


_BOARD = ["f(x) = a x^2 + b x + c", "f'(x) = 2 a x + b", "f'(x) = 0  =>  x = -b / 2a",
          "a > 0 : minimum", "example: a=1, b=-4, c=3", "x = 2,  f(2) = -1"]


def make_lecture_fixed(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Fixed camera at the back of a lecture hall: a chalkboard that fills with writing, the
    lecturer walking in front of it, audience heads at the bottom; sensor noise."""
    seconds, size, fps = _pick(short, seconds, size, fps, (60.0, (640, 360), 25), (15.0, (320, 180), 25))
    path = Path(path)
    w, h = size
    sc = w / 640.0
    wall = _gradient(h, w, (178, 168, 150), (128, 120, 106), light=(0.5, 0.1, 25))
    hall = _u8(wall)
    bx0, by0, bx1, by1 = int(w * 0.12), int(h * 0.1), int(w * 0.88), int(h * 0.58)
    cv2.rectangle(hall, (bx0 - int(6 * sc), by0 - int(6 * sc)), (bx1 + int(6 * sc), by1 + int(6 * sc)), (110, 86, 60), -1)
    board = _gradient(by1 - by0, bx1 - bx0, (44, 74, 58), (36, 62, 50), light=(0.3, 0.3, 8))
    hall[by0:by1, bx0:bx1] = _u8(board)
    hall[int(h * 0.8) :] = (86, 70, 58)  # desks
    hall = _soft(hall, 3)
    n = _frames(seconds, fps)
    per_line = seconds * 0.8 / len(_BOARD)
    heads = [(int(w * x), int(h * (0.9 + 0.03 * (j % 2)))) for j, x in enumerate((0.1, 0.26, 0.42, 0.6, 0.77, 0.93))]
    enc = _Encoder(path, w, h, fps, crf=23, noise=3.0, seed=seed)
    written_cache: dict[int, np.ndarray] = {}
    try:
        for i in range(n):
            t = i / fps
            lines_done = min(len(_BOARD), int(t / per_line))
            chars = int((t - lines_done * per_line) / per_line * 1.6 * 24) if lines_done < len(_BOARD) else 0
            if lines_done not in written_cache:
                written_cache.clear()
                im = hall.copy()
                for j in range(lines_done):
                    cv2.putText(im, _BOARD[j], (bx0 + int(20 * sc), by0 + int((34 + 34 * j) * sc)), FONT, 0.62 * sc,
                                (226, 230, 222), max(1, int(round(1.6 * sc))), cv2.LINE_AA)
                written_cache[lines_done] = im
            img = written_cache[lines_done].copy()
            wx = bx0 + int(20 * sc)
            if lines_done < len(_BOARD) and chars:
                txt = _BOARD[lines_done][: min(chars, len(_BOARD[lines_done]))]
                cv2.putText(img, txt, (wx, by0 + int((34 + 34 * lines_done) * sc)), FONT, 0.62 * sc, (226, 230, 222),
                            max(1, int(round(1.6 * sc))), cv2.LINE_AA)
                (tw, _), _ = cv2.getTextSize(txt, FONT, 0.62 * sc, 1)
                px = wx + tw + int(30 * sc)  # writing: stands right of the text end
            else:
                px = w * (0.5 + 0.32 * math.sin(2 * math.pi * t / 17.0))
            px = min(w * 0.9, max(w * 0.1, px + 6 * sc * math.sin(2 * math.pi * t / 2.3)))
            _person(img, px, h * 0.86, h * 0.6, (150, 60, 50), walk=t * 3)
            for j, (hx, hy) in enumerate(heads):
                dx = int(2 * sc * math.sin(t * 0.7 + j))
                cv2.circle(img, (hx + dx, hy), int(24 * sc), (40 + 12 * j, 32 + 5 * j, 28), -1, cv2.LINE_AA)
            img = _soft(img, 3)
            enc.write(img)
    finally:
        enc.close()
    return _truth(path, "lecture_fixed", duration=n / fps, fps=fps, size=size, cuts=[],
                  board_lines=[{"time": round((j + 1) * per_line, 3), "text": s} for j, s in enumerate(_BOARD)],
                  write_json=write_json)


def _street_scene(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A large textured outdoor picture (sky, buildings with windows, trees, pavement), RGB uint8."""
    img = _gradient(h, w, (110, 160, 225), (190, 215, 240))
    sky_h = int(h * 0.35)
    ground = generate._texture("clouds", h - int(h * 0.78), w, rng, 0.6)[..., None]
    img = _u8(img)
    x = 0
    while x < w:
        bw = int(rng.integers(w // 10, w // 5))
        top = int(rng.integers(int(h * 0.12), sky_h + h // 8))
        col = np.array(rng.integers(90, 200, 3))
        cv2.rectangle(img, (x, top), (x + bw, int(h * 0.78)), tuple(int(c) for c in col), -1)
        for wy in range(top + 8, int(h * 0.74), max(10, h // 40)):
            for wx in range(x + 6, x + bw - 8, max(10, w // 50)):
                lit = rng.random() < 0.3
                cv2.rectangle(img, (wx, wy), (wx + max(3, w // 120), wy + max(4, h // 90)),
                              (230, 220, 150) if lit else (50, 60, 80), -1)
        x += bw + int(rng.integers(0, 8))
    pave = np.array((120, 118, 112), np.float32) + (ground - 0.5) * np.array((70, 70, 66), np.float32)
    img[int(h * 0.78) :] = _u8(pave)
    for _ in range(6):
        tx = int(rng.integers(0, w))
        ty = int(h * rng.uniform(0.62, 0.74))
        r = int(h * rng.uniform(0.05, 0.09))
        cv2.rectangle(img, (tx - r // 8, ty), (tx + r // 8, int(h * 0.8)), (80, 60, 40), -1)
        cv2.circle(img, (tx, ty), r, tuple(int(c) for c in rng.integers([30, 90, 30], [70, 150, 70])), -1)
    return _soft(img, 3)


def make_phone_handheld(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Handheld portrait phone footage: stored landscape with display rotation 90 (so it shows
    upright portrait), hand shake (small smooth translations and tilt of a textured street scene),
    a slow pan, sensor noise. ``size`` is the upright (display) size."""
    seconds, size, fps = _pick(short, seconds, size, fps, (20.0, (360, 640), 30), (10.0, (180, 320), 30))
    path = Path(path)
    w, h = size
    rng = np.random.default_rng(seed + 21)
    margin = int(0.12 * max(w, h))
    big = _street_scene(h + 2 * margin, int(w * 2.2) + 2 * margin, rng)
    n = _frames(seconds, fps)
    ph = rng.random(6) * 6.28
    enc = _Encoder(path, w, h, fps, crf=23, rotation=90, noise=3.0, seed=seed)
    try:
        for i in range(n):
            t = i / fps
            s = max(w, h) / 640.0
            dx = margin + (big.shape[1] - w - 2 * margin) * (0.5 - 0.5 * math.cos(math.pi * min(1.0, t / seconds)))
            dx += s * (6 * math.sin(2 * math.pi * 1.3 * t + ph[0]) + 3 * math.sin(2 * math.pi * 3.1 * t + ph[1]))
            dy = margin + s * (7 * math.sin(2 * math.pi * 0.9 * t + ph[2]) + 3 * math.sin(2 * math.pi * 2.7 * t + ph[3]))
            ang = 0.6 * math.sin(2 * math.pi * 0.7 * t + ph[4])
            # warp the big picture so that (dx, dy) lands at the output origin
            m2 = cv2.getRotationMatrix2D((dx + w / 2, dy + h / 2), ang, 1.0)
            m2[0, 2] -= dx
            m2[1, 2] -= dy
            img = cv2.warpAffine(big, m2, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            enc.write(img)
    finally:
        enc.close()
    return _truth(path, "phone_handheld", duration=n / fps, fps=fps, size=size, cuts=[], rotation=90,
                  rotation_display_matrix=90, rotation_cw=270, write_json=write_json)


# --------------------------------------------------------------------------------------------
# Film and animation
# --------------------------------------------------------------------------------------------


class _Shot:
    """A film shot: a large textured, graded picture the camera pans across, a soft object moving
    through it, a vignette."""

    def __init__(self, index: int, w: int, h: int, seed: int):
        rng = np.random.default_rng([seed, index])
        style = generate.scene_style(index, seed)
        self.w, self.h = w, h
        bw, bh = int(w * 1.5), int(h * 1.3)
        tex = generate._texture(style["tex"], bh, bw, rng, 0.35)[..., None]
        c0, c1 = np.array(style["c0"], np.float32), np.array(style["c1"], np.float32)
        pic = c0 + (c1 - c0) * tex
        y = np.linspace(-1, 1, bh, dtype=np.float32)[:, None, None]
        x = np.linspace(-1, 1, bw, dtype=np.float32)[None, :, None]
        pic *= 1.0 - 0.25 * (x**2 + y**2)
        self.big = _soft(_u8(pic), 5)
        self.obj = tuple(int(c) for c in style["obj"])
        self.pan = (rng.uniform(-1, 1) * (bw - w) * 0.45, rng.uniform(-1, 1) * (bh - h) * 0.45)
        self.phase = rng.random(3) * 6.28
        self.bw, self.bh = bw, bh

    def frame(self, u: float, t: float) -> np.ndarray:
        """``u`` in [0, 1]: progress through the shot."""
        cx = (self.bw - self.w) / 2 + self.pan[0] * (2 * u - 1)
        cy = (self.bh - self.h) / 2 + self.pan[1] * (2 * u - 1)
        x, y = int(cx), int(cy)
        img = self.big[y : y + self.h, x : x + self.w].copy()
        ox = int(self.w * (0.5 + 0.35 * math.sin(2 * math.pi * t / 3.7 + self.phase[0])))
        oy = int(self.h * (0.55 + 0.25 * math.sin(2 * math.pi * t / 2.3 + self.phase[1])))
        r = max(3, int(self.h * 0.12))
        layer = img.copy()
        cv2.circle(layer, (ox, oy), r, self.obj, -1, cv2.LINE_AA)
        cv2.circle(layer, (ox - r // 3, oy - r // 3), max(1, r // 3), tuple(min(255, c + 50) for c in self.obj), -1,
                   cv2.LINE_AA)
        x0, y0 = max(0, ox - 2 * r), max(0, oy - 2 * r)
        img[y0 : oy + 2 * r, x0 : ox + 2 * r] = _soft(layer[y0 : oy + 2 * r, x0 : ox + 2 * r], 5)
        return img


def _film_clip(path: Path, kind: str, seconds: float, size: tuple[int, int], fps: float, n_shots: int, seed: int,
               *, fades: bool, letterbox: float | None, write_json: bool) -> dict:
    """Shots joined by hard cuts (and, with ``fades``, every other join a fade through black:
    0.5 s out, 0.3 s black, 0.5 s in; plus a fade in at the start). ``letterbox``: the picture's
    aspect ratio inside black bars top and bottom."""
    w, h = size
    rng = np.random.default_rng(seed)
    ch = h if letterbox is None else min(h, 2 * int(round(w / letterbox / 2)))
    top = (h - ch) // 2
    shots = [_Shot(k, w, ch, seed) for k in range(n_shots)]
    starts = _slide_schedule(n_shots, seconds, fps, rng)
    n = _frames(seconds, fps)
    total = n / fps
    bounds = [*starts, total]
    fade_out, hold, fade_in = 0.5, 0.3, 0.5
    joins = []  # (kind, time the new shot starts)
    for k in range(1, n_shots):
        joins.append("fade" if fades and k % 2 == 1 else "cut")
    fade_list = []
    cuts = []
    for k, jk in enumerate(joins, start=1):
        if jk == "fade":
            b0 = starts[k] - hold / 2
            fade_list.append({"out_start": round(b0 - fade_out, 4), "black_start": round(b0, 4),
                              "black_end": round(b0 + hold, 4), "in_end": round(b0 + hold + fade_in, 4)})
        cuts.append(starts[k])
    opening = 0.6 if fades else 0.0
    mask = None
    if letterbox is not None:
        mask = np.zeros((h, w), bool)
        mask[top : top + ch] = True
    enc = _Encoder(path, w, h, fps, crf=23, noise=3.5, seed=seed)
    black_frames = []
    try:
        for i in range(n):
            t = i / fps
            k = max(j for j, s in enumerate(starts) if s <= t + 1e-9)
            a, b = bounds[k], bounds[k + 1]
            pic = shots[k].frame((t - a) / max(b - a, 1e-6), t)
            alpha = 1.0
            if opening and t < opening:
                alpha = t / opening
            for f in fade_list:
                if f["out_start"] <= t < f["black_start"]:
                    alpha = (f["black_start"] - t) / fade_out
                elif f["black_start"] <= t < f["black_end"]:
                    alpha = 0.0
                elif f["black_end"] <= t < f["in_end"]:
                    alpha = (t - f["black_end"]) / fade_in
            if letterbox is not None:
                img = np.zeros((h, w, 3), np.uint8)
                img[top : top + ch] = pic
            else:
                img = pic
            if alpha < 1.0:
                # grain is part of the graded footage, the fade darkens both
                img = _u8(img.astype(np.float32) * alpha + np.random.default_rng(i).normal(0, 3.5, img.shape) * alpha)
                if alpha < 0.03:
                    black_frames.append(i)
                enc.write(img, noise=0.0)
            else:
                enc.write(img, noise_mask=mask)
    finally:
        enc.close()
    extra: dict[str, Any] = {"fades": fade_list, "joins": joins, "black_frames": black_frames}
    if opening:
        extra["fade_in_start"] = [0.0, opening]
    if letterbox is not None:
        extra["letterbox"] = {"aspect": letterbox, "top": top, "content_height": ch}
    return _truth(path, kind, duration=total, fps=fps, size=size, cuts=cuts, write_json=write_json, **extra)


def make_film_fades(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Film: graded textured shots with camera pans and grain, joined by hard cuts and fades
    through black; fade in from black at the start."""
    seconds, size, fps = _pick(short, seconds, size, fps, (36.0, (640, 360), 24), (14.0, (320, 180), 24))
    return _film_clip(Path(path), "film_fades", seconds, size, fps, 7 if not short else 4, seed + 30, fades=True,
                      letterbox=None, write_json=write_json)


def make_letterbox_film(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Letterboxed 2.39:1 film in a 16:9 frame: clean black bars top and bottom, noisy textured
    shots, hard cuts."""
    seconds, size, fps = _pick(short, seconds, size, fps, (30.0, (640, 360), 24), (12.0, (320, 180), 24))
    return _film_clip(Path(path), "letterbox_film", seconds, size, fps, 6 if not short else 4, seed + 40, fades=False,
                      letterbox=2.39, write_json=write_json)


def make_animation(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Flat-colour animation: a plain background per shot, shapes flying, bouncing and turning,
    a hopping character; hard cuts; no noise."""
    seconds, size, fps = _pick(short, seconds, size, fps, (30.0, (640, 360), 24), (12.0, (320, 180), 24))
    path = Path(path)
    w, h = size
    rng = np.random.default_rng(seed + 50)
    n_shots = 10 if not short else 4
    starts = _slide_schedule(n_shots, seconds, fps, rng)
    n = _frames(seconds, fps)
    palettes = [((255, 214, 102), (239, 71, 111)), ((6, 214, 160), (17, 138, 178)), ((7, 59, 76), (255, 209, 102)),
                ((131, 56, 236), (255, 190, 11)), ((58, 134, 255), (251, 86, 7)), ((255, 255, 255), (230, 57, 70))]
    shots = []
    for k in range(n_shots):
        bg, fg = palettes[k % len(palettes)]
        srng = np.random.default_rng([seed, k])
        shapes = [(srng.integers(0, 3), srng.random(2), (srng.random(2) - 0.5) * 1.2, srng.uniform(0.05, 0.12),
                   tuple(int(c) for c in srng.integers(0, 256, 3))) for _ in range(6)]
        shots.append((bg, fg, shapes))
    enc = _Encoder(path, w, h, fps, crf=23, seed=seed)
    try:
        for i in range(n):
            t = i / fps
            k = max(j for j, s in enumerate(starts) if s <= t + 1e-9)
            bg, fg, shapes = shots[k]
            img = np.empty((h, w, 3), np.uint8)
            img[:] = bg
            ground = int(h * 0.82)
            img[ground:] = tuple(int(c * 0.7) for c in bg)
            lt = t - starts[k]
            for typ, p0, v, r, col in shapes:
                # bounce inside the frame
                px = abs(((p0[0] + v[0] * lt) % 2.0) - 1.0)
                py = abs(((p0[1] + v[1] * lt) % 2.0) - 1.0)
                cx, cy, rr = int(px * w), int(py * ground), int(r * h)
                if typ == 0:
                    cv2.circle(img, (cx, cy), rr, col, -1, cv2.LINE_AA)
                else:
                    ang = lt * 2.5 + p0[0] * 6
                    m = 3 if typ == 1 else 4
                    pts = np.array([[cx + rr * math.cos(ang + 2 * math.pi * j / m), cy + rr * math.sin(ang + 2 * math.pi * j / m)]
                                    for j in range(m)], np.int32)
                    cv2.fillPoly(img, [pts], col, cv2.LINE_AA)
            hop = abs(math.sin(2 * math.pi * lt / 0.9))
            cx = int(w * (0.2 + 0.6 * ((lt / 4.0) % 1.0)))
            cy = int(ground - h * 0.12 - h * 0.18 * hop)
            cv2.ellipse(img, (cx, cy), (int(h * 0.09), int(h * 0.12)), 0, 0, 360, fg, -1, cv2.LINE_AA)
            for ex in (-1, 1):
                cv2.circle(img, (cx + ex * int(h * 0.035), cy - int(h * 0.03)), max(2, int(h * 0.022)), (255, 255, 255), -1, cv2.LINE_AA)
                cv2.circle(img, (cx + ex * int(h * 0.035), cy - int(h * 0.03)), max(1, int(h * 0.01)), (20, 20, 20), -1, cv2.LINE_AA)
            enc.write(img)
    finally:
        enc.close()
    return _truth(path, "animation", duration=n / fps, fps=fps, size=size, cuts=starts[1:], write_json=write_json)


def make_blank_fades(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """Nothing to see: black and single-colour holds fading into each other (like PySceneDetect's
    fades.mp4), no structure, no audio. ``cuts`` are the middles of the transitions."""
    seconds, size, fps = _pick(short, seconds, size, fps, (20.0, (640, 360), 25), (10.0, (320, 180), 25))
    path = Path(path)
    w, h = size
    # (colour, hold seconds) then a transition of 1 s to the next
    holds = [((0, 0, 0), 1.5), ((200, 30, 30), 2.0), ((0, 0, 0), 1.0), ((235, 235, 235), 2.0), ((30, 60, 200), 2.0),
             ((0, 0, 0), 1.5)]
    trans = 1.0
    base = sum(d for _, d in holds) + trans * (len(holds) - 1)
    k = seconds / base
    seq = []
    t = 0.0
    for j, (col, d) in enumerate(holds):
        seq.append(("hold", t, t + d * k, col, col))
        t += d * k
        if j + 1 < len(holds):
            seq.append(("fade", t, t + trans * k, col, holds[j + 1][0]))
            t += trans * k
    n = _frames(seconds, fps)
    enc = _Encoder(path, w, h, fps, crf=23, seed=seed)
    img = np.empty((h, w, 3), np.uint8)
    try:
        for i in range(n):
            tt = i / fps
            seg = next((s for s in seq if s[1] <= tt < s[2]), seq[-1])
            u = 0.0 if seg[0] == "hold" else (tt - seg[1]) / (seg[2] - seg[1])
            col = [int(round(a + (b - a) * u)) for a, b in zip(seg[3], seg[4])]
            img[:] = col
            enc.write(img)
    finally:
        enc.close()
    cuts = [round((s[1] + s[2]) / 2, 4) for s in seq if s[0] == "fade"]
    holds_gt = [{"start": round(s[1], 4), "end": round(s[2], 4), "colour": list(s[3])} for s in seq if s[0] == "hold"]
    return _truth(path, "blank_fades", duration=n / fps, fps=fps, size=size, cuts=cuts, blank=True, holds=holds_gt,
                  write_json=write_json)


def make_screen_webcam(path, *, seconds=None, size=None, fps=None, short=False, seed=0, write_json=True) -> dict:
    """A screen share of a slide talk with a presenter webcam thumbnail (``generate_screen_clip``
    with ``webcam=True``: pointer, clock, progressive reveals)."""
    seconds, size, fps = _pick(short, seconds, size, fps, (60.0, (960, 540), 15), (14.0, (640, 360), 15))
    path = Path(path)
    slides = 9 if not short else 4
    g = generate.generate_screen_clip(path, slides=slides, minutes=seconds / 60.0, size=size, fps=fps, webcam=True,
                                      seed=seed + 60, crf=24, write_json=False)
    sl = [{"start": s["start"], "end": s["end"], "title": s["title"], "reveals": s["reveals"]} for s in g["slides"]]
    return _truth(path, "screen_webcam", duration=g["duration"], fps=fps, size=size, cuts=g["slide_changes"],
                  slides=sl, reveals=g["reveals"], write_json=write_json)


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    make: Callable[..., dict]
    expected_preset: str
    description: str
    preset_any: bool = False


KINDS: dict[str, Kind] = {
    "slides_light": Kind(make_slides_light, "screen", "light slide template, title-only slides included"),
    "slides_dark": Kind(make_slides_dark, "screen", "dark slide template (#1e1e1e), title-only slides included"),
    "slides_dark_titles": Kind(make_slides_dark_titles, "screen", "dark title slides only (big title alone)"),
    "code_light": Kind(make_code_light, "screen", "light code editor, typing, file switches"),
    "code_dark": Kind(make_code_dark, "screen", "dark code editor, typing, file switches"),
    "screen_webcam": Kind(make_screen_webcam, "screen", "screen share of slides with a webcam thumbnail"),
    "dark_opening": Kind(make_dark_opening, "screen", "deep-blue dark opener (grey mean ~7) then slides"),
    "meeting_camera_off": Kind(make_meeting_camera_off, "screen", "camera-off meeting: black + name badge, speech"),
    "black_speech": Kind(make_black_speech, "screen", "pure black picture with speech (no badge)", True),
    "webcam_head": Kind(make_webcam_head, "film", "webcam talking head, speech"),
    "home_camera": Kind(make_home_camera, "film", "static home camera, one person crossing once"),
    "night_camera": Kind(make_night_camera, "film", "night street camera: dark but a picture, noise, a car"),
    "lecture_fixed": Kind(make_lecture_fixed, "film", "fixed camera lecture: board with writing, person moving"),
    "phone_handheld": Kind(make_phone_handheld, "film", "handheld phone, portrait via rotation 90, shake"),
    "film_fades": Kind(make_film_fades, "film", "film with grain, hard cuts and fades through black"),
    "letterbox_film": Kind(make_letterbox_film, "film", "letterboxed 2.39:1 film, grain, hard cuts"),
    "animation": Kind(make_animation, "film", "flat-colour animation, moving shapes, hard cuts"),
    "blank_fades": Kind(make_blank_fades, "film", "black and one-colour holds fading into each other", True),
}
"""Kind name -> generator, expected preset, description (``preset_any``: either preset is right)."""


def make_kind(name: str, out_dir: str | os.PathLike, *, short: bool = False, reuse: bool = True, **kw: Any) -> dict:
    """Generate kind ``name`` as ``out_dir/<name>.mp4`` (reusing an existing clip whose ground truth
    says it was made with the same options); returns its ground truth with ``path``."""
    out = Path(out_dir)
    path = out / f"{name}.mp4"
    gt_path = generate.ground_truth_path(path)
    params = {"version": VERSION, "short": short, **{k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}}
    if reuse and path.is_file() and gt_path.is_file():
        try:
            gt = json.loads(gt_path.read_text())
            if gt.get("params") == params and gt.get("size_bytes") == path.stat().st_size:
                gt["path"] = str(path)
                return gt
        except (OSError, ValueError):
            pass
    t0 = time.perf_counter()
    gt = KINDS[name].make(path, short=short, write_json=False, **kw)
    gt["params"] = params
    gt["generate_seconds"] = round(time.perf_counter() - t0, 2)
    gt_path.write_text(json.dumps(gt, indent=1) + "\n")
    gt["path"] = str(path)
    return gt


def make_all(out_dir: str | os.PathLike, short: bool = False, *, kinds: Sequence[str] | None = None,
             reuse: bool = True) -> dict[str, dict]:
    """Every kind (or ``kinds``) into ``out_dir``; {kind: ground truth (with ``path``)}."""
    names = list(kinds) if kinds else list(KINDS)
    unknown = [k for k in names if k not in KINDS]
    if unknown:
        raise KeyError(f"unknown footage kinds: {', '.join(unknown)} (known: {', '.join(KINDS)})")
    return {name: make_kind(name, out_dir, short=short, reuse=reuse) for name in names}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default=str(SAMPLES_DIR / "generated" / "footage"))
    ap.add_argument("--short", action="store_true", help="~10-20 s small variants")
    ap.add_argument("--kinds", help="comma-separated kinds (default all): " + ", ".join(KINDS))
    ap.add_argument("--force", action="store_true", help="regenerate existing clips")
    args = ap.parse_args(argv)
    names = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else None
    t0 = time.perf_counter()
    for name in names or list(KINDS):
        t1 = time.perf_counter()
        gt = make_all(args.out, args.short, kinds=[name], reuse=not args.force)[name]
        print(f"{name:20s} {gt['duration']:6.1f} s  {gt['width']}x{gt['height']}  {len(gt['cuts']):2d} cuts  "
              f"{gt['size_bytes'] / 1e6:6.2f} MB  {time.perf_counter() - t1:5.1f} s  {gt['path']}", flush=True)
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
