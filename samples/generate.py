#!/usr/bin/env python3
"""Synthetic test videos with known ground truth.

Every frame carries its frame number (0-based, presentation order) in a barcode stripe at the top
of the *display-upright* picture, so a test can read it back after decoding, rotation, SAR scaling,
resizing and JPEG compression (``read_frame_number``). Below the stripe each scene has its own
palette, a scrolling texture and a moving object, plus a red orientation marker (top-left of the
content area) and the frame number in big digits (bottom-right) for humans looking at frames.

Next to each clip a JSON file ``<clip file name>.json`` (``demo.mp4`` -> ``demo.mp4.json``) records
the ground truth: every frame's presentation time, the exact cut times, rotation, SAR, sizes...

    python samples/generate.py                 # demo.mp4 + phone_vfr.mp4 into samples/
    python samples/generate.py --all          # also every variant into samples/generated/
    python samples/generate.py --out DIR cfr vfr rotated90
    python samples/generate.py --long bench/media/long.mp4 --minutes 10

Depends only on PyAV, numpy and OpenCV (not on videovision), so it can be imported by tests and
benchmarks: ``generate_clip``, ``generate_long_clip``, ``generate_cut_heavy_clip``,
``make_audio_only``, ``make_single_frame``, ``make_not_a_video``, ``read_frame_number``.
"""

from __future__ import annotations

import argparse
import bisect
import colorsys
import json
import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

__all__ = [
    "COMMITTED",
    "NAMES",
    "STRIPE_BITS",
    "STRIPE_CELLS",
    "colour_shown",
    "draw_frame_code",
    "generate_clip",
    "generate_cut_heavy_clip",
    "generate_event_clip",
    "generate_fade_clip",
    "generate_long_clip",
    "generate_named",
    "generate_screen_clip",
    "ground_truth_path",
    "load_ground_truth",
    "make_audio_only",
    "make_not_a_video",
    "make_single_frame",
    "read_frame_number",
    "verify_clip",
]

SAMPLES_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = SAMPLES_DIR / "generated"

# --------------------------------------------------------------------------------------------
# Frame-number code
# --------------------------------------------------------------------------------------------

STRIPE_CELLS = 24
"""Cells across the full width: cell 0 white (guard), cells 1..22 the number MSB first, 23 black."""
STRIPE_BITS = STRIPE_CELLS - 2
STRIPE_HEIGHT_FRACTION = 1 / 8
MAX_FRAME_NUMBER = (1 << STRIPE_BITS) - 1

# Limited-range (BT.601, "TV range") luma of white and black: what decoders map to 255 and 0.
_Y_WHITE, _Y_BLACK = 235, 16


def stripe_height(height: int) -> int:
    """Stripe height in pixels for a display picture ``height`` high (even, ≈ 1/8)."""
    return max(2, 2 * int(round(height * STRIPE_HEIGHT_FRACTION / 2)))


def frame_code_bits(number: int) -> list[int]:
    """The 24 cell values (1 = white) encoding ``number``."""
    if not 0 <= number <= MAX_FRAME_NUMBER:
        raise ValueError(f"frame number {number} does not fit in {STRIPE_BITS} bits")
    bits = [(number >> (STRIPE_BITS - 1 - i)) & 1 for i in range(STRIPE_BITS)]
    return [1] + bits + [0]


def _cell_bounds(width: int) -> list[int]:
    return [int(round(i * width / STRIPE_CELLS)) for i in range(STRIPE_CELLS + 1)]


def draw_frame_code(image: np.ndarray, number: int) -> np.ndarray:
    """Draw the stripe for ``number`` into an upright RGB/BGR/grey uint8 image (in place) and
    return it. (The encoder draws the same stripe directly in its YUV planes.)"""
    h, w = image.shape[:2]
    sh = stripe_height(h)
    xs = _cell_bounds(w)
    for i, bit in enumerate(frame_code_bits(number)):
        image[:sh, xs[i] : xs[i + 1]] = 255 if bit else 0
    return image


def _patch_mean(luma: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> float:
    xa, xb = int(math.floor(x0)), int(math.ceil(x1))
    ya, yb = int(math.floor(y0)), int(math.ceil(y1))
    if xb <= xa:
        xb = xa + 1
    if yb <= ya:
        yb = ya + 1
    return float(luma[ya:yb, xa:xb].mean())


def read_frame_number(image: np.ndarray, *, strict: bool = True) -> int | None:
    """Read the frame number from an upright picture (RGB or BGR uint8 (H, W, 3), or grey (H, W)).

    Samples the centre of each of the 24 cells in the top 1/8 of the picture (two small patches per
    cell, at 1/3 and 2/3 of the stripe height), thresholds the luma at 128 and checks the guards
    (cell 0 white, cell 23 black). Returns None when the guards fail, so a frame that came out
    rotated, mirrored or upside down reads as None. With ``strict`` (default) it also returns None
    unless every patch is clearly black or white and both rows agree, which makes false reads on
    ordinary picture content practically impossible while surviving H.264/JPEG compression and any
    resize down to about 64 pixels wide (96 at JPEG quality 15).
    """
    img = np.asarray(image)
    if img.ndim == 3:
        if img.shape[2] == 4:
            img = img[:, :, :3]
        h, w = img.shape[:2]
        sh = h * STRIPE_HEIGHT_FRACTION
        band = img[: int(math.ceil(sh)) + 1].astype(np.float32)
        # Channel order does not matter much: the stripe is grey. Use the mean of the channels.
        luma = band.mean(axis=2)
    elif img.ndim == 2:
        h, w = img.shape
        sh = h * STRIPE_HEIGHT_FRACTION
        luma = img[: int(math.ceil(sh)) + 1].astype(np.float32)
    else:
        raise ValueError(f"expected an (H, W, 3) or (H, W) image, got shape {img.shape}")
    if h < 8 or w < STRIPE_CELLS:
        return None
    cw = w / STRIPE_CELLS
    half = max(0.5, 0.2 * cw)
    rows = [(0.2 * sh, 0.45 * sh), (0.55 * sh, 0.8 * sh)]
    bits: list[int] = []
    for i in range(STRIPE_CELLS):
        cx = (i + 0.5) * cw
        vals = [_patch_mean(luma, cx - half, cx + half, y0, y1) for y0, y1 in rows]
        b = [1 if v >= 128 else 0 for v in vals]
        if strict:
            if b[0] != b[1]:
                return None
            if any(48 < v < 207 for v in vals):
                return None
        bits.append(b[0])
    if bits[0] != 1 or bits[-1] != 0:
        return None
    number = 0
    for bit in bits[1:-1]:
        number = (number << 1) | bit
    return number


# --------------------------------------------------------------------------------------------
# Drawing in YUV 4:2:0 planes (cheap: no colour conversion per frame)
# --------------------------------------------------------------------------------------------


def rgb_to_yuv(rgb: Sequence[float]) -> tuple[int, int, int]:
    """BT.601 limited range, as decoders assume for untagged yuv420p."""
    r, g, b = (float(c) / 255.0 for c in rgb)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return tuple(int(round(min(255, max(0, c)))) for c in (y, u, v))  # type: ignore[return-value]


def _rgb_image_to_planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, w = rgb.shape[:2]
    flat = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420).reshape(-1)
    n = (h // 2) * (w // 2)
    y = flat[: h * w].reshape(h, w).copy()
    u = flat[h * w : h * w + n].reshape(h // 2, w // 2).copy()
    v = flat[h * w + n :].reshape(h // 2, w // 2).copy()
    return y, u, v


def _periodic_noise(h: int, w: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise that tiles seamlessly (so np.roll has no seams), unit variance."""
    spec = rng.standard_normal((h, w)) + 1j * rng.standard_normal((h, w))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    spec *= np.exp(-(fx**2 + fy**2) / (2 * sigma**2))
    n = np.fft.ifft2(spec).real
    n -= n.mean()
    sd = n.std()
    return n / sd if sd > 0 else n


TEXTURES = ("clouds", "bands", "waves", "cells", "checker", "rings", "marble")

# Hand-picked looks for the first scenes (and the demo): adjacent ones differ in hue, brightness,
# saturation and texture so both PySceneDetect detectors see every cut.
_STYLES: list[dict[str, Any]] = [
    dict(tex="clouds", c0=(40, 90, 200), c1=(150, 200, 245), obj=(250, 215, 40), vel=(40, -8)),
    dict(tex="checker", c0=(30, 120, 40), c1=(120, 200, 80), obj=(220, 40, 40), vel=(-60, 0)),
    dict(tex="rings", c0=(90, 30, 110), c1=(200, 120, 210), obj=(60, 230, 200), vel=(20, 30)),
    dict(tex="bands", c0=(210, 90, 20), c1=(250, 200, 90), obj=(30, 60, 160), vel=(70, 0)),
    dict(tex="cells", c0=(70, 70, 75), c1=(170, 170, 160), obj=(240, 120, 20), vel=(-30, -20)),
    dict(tex="waves", c0=(20, 110, 130), c1=(110, 210, 210), obj=(230, 60, 140), vel=(0, 40)),
    dict(tex="marble", c0=(180, 30, 80), c1=(245, 150, 170), obj=(40, 200, 60), vel=(-50, 10)),
    dict(tex="checker", c0=(120, 100, 30), c1=(220, 200, 110), obj=(90, 40, 200), vel=(30, -30)),
]


def scene_style(index: int, seed: int = 0) -> dict[str, Any]:
    """Look of scene ``index``: hand-picked for the first 8, then generated with hues spaced by
    the golden ratio (neighbours always far apart in hue and alternating in brightness)."""
    if index < len(_STYLES) and seed == 0:
        return dict(_STYLES[index])
    rng = np.random.default_rng([seed, index])
    hue = (index * 0.618034 + seed * 0.1337) % 1.0
    dark = index % 2 == 0
    lo_v, hi_v = (0.30, 0.70) if dark else (0.60, 0.97)
    sat = 0.55 + 0.4 * rng.random()
    c0 = tuple(int(255 * c) for c in colorsys.hsv_to_rgb(hue, sat, lo_v))
    c1 = tuple(int(255 * c) for c in colorsys.hsv_to_rgb((hue + 0.06) % 1, sat * 0.6, hi_v))
    obj = tuple(int(255 * c) for c in colorsys.hsv_to_rgb((hue + 0.5) % 1, 0.9, 0.9))
    ang = rng.random() * 2 * math.pi
    speed = 25 + 50 * rng.random()
    return dict(
        tex=TEXTURES[(index * 3 + seed) % len(TEXTURES)],
        c0=c0,
        c1=c1,
        obj=obj,
        vel=(speed * math.cos(ang), speed * math.sin(ang)),
    )


def _texture(kind: str, h: int, w: int, rng: np.random.Generator, detail: float) -> np.ndarray:
    """A tileable pattern in [0, 1], shape (h, w)."""
    y = np.arange(h, dtype=np.float64)[:, None] / h
    x = np.arange(w, dtype=np.float64)[None, :] / w
    n = _periodic_noise(h, w, 0.012, rng)
    if kind == "clouds":
        t = n + 0.5 * _periodic_noise(h, w, 0.03, rng)
    elif kind == "bands":
        t = np.sin(2 * math.pi * 6 * x + 1.6 * n) + 0 * y
    elif kind == "waves":
        t = np.sin(2 * math.pi * 4 * y + 0.8 * np.sin(2 * math.pi * 2 * x) + 0.8 * n)
    elif kind == "cells":
        t = np.floor((n - n.min()) / (np.ptp(n) + 1e-9) * 4.0)
    elif kind == "checker":
        nx = max(2, int(round(8 * w / max(w, h))))
        ny = max(2, int(round(8 * h / max(w, h))))
        t = np.sign(np.sin(2 * math.pi * nx * x + 1e-3) * np.sin(2 * math.pi * ny * y + 1e-3))
        t = t + 0.35 * n
    elif kind == "rings":
        d = np.sqrt(np.sin(math.pi * x) ** 2 + np.sin(math.pi * y) ** 2)
        t = np.sin(2 * math.pi * 5 * d + 0.7 * n)
    elif kind == "marble":
        t = np.sin(2 * math.pi * (3 * x + 2 * y) + 3.0 * n)
    else:
        raise ValueError(f"unknown texture {kind!r}")
    t = t.astype(np.float64)
    t = (t - t.min()) / (np.ptp(t) + 1e-9)
    if detail > 0:
        fine = _periodic_noise(h, w, 0.1, rng) + 0.5 * _periodic_noise(h, w, 0.3, rng)
        t = t + detail * fine
    return np.clip(t, 0.0, 1.0)


class _Canvas:
    """Display-upright I420 planes."""

    def __init__(self, width: int, height: int):
        if width % 2 or height % 2:
            raise ValueError(f"display size must be even, got {width}x{height}")
        self.w, self.h = width, height
        self.sh = stripe_height(height)
        self.Y = np.zeros((height, width), np.uint8)
        self.U = np.full((height // 2, width // 2), 128, np.uint8)
        self.V = np.full((height // 2, width // 2), 128, np.uint8)
        self._xs = _cell_bounds(width)

    def content(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = self.sh
        return self.Y[s:], self.U[s // 2 :], self.V[s // 2 :]

    def draw_code(self, number: int) -> None:
        s, xs = self.sh, self._xs
        self.U[: s // 2] = 128
        self.V[: s // 2] = 128
        for i, bit in enumerate(frame_code_bits(number)):
            self.Y[:s, xs[i] : xs[i + 1]] = _Y_WHITE if bit else _Y_BLACK

    def fade(self, alpha: float) -> None:
        if alpha >= 1.0:
            return
        a = max(0.0, alpha)
        for plane, base in zip(self.content(), (_Y_BLACK, 128, 128)):
            cv2.convertScaleAbs(plane, dst=plane, alpha=a, beta=base * (1 - a))


class _ScenePainter:
    """Draws one scene's content (texture scrolled with time + moving object + labels)."""

    def __init__(self, style: dict[str, Any], width: int, content_h: int, seed: int, detail: float):
        self.w, self.ch = width, content_h
        rng = np.random.default_rng(seed)
        t = _texture(style["tex"], content_h, width, rng, detail)[..., None]
        c0 = np.array(style["c0"], np.float64)
        c1 = np.array(style["c1"], np.float64)
        rgb = np.clip(c0 + (c1 - c0) * t, 0, 255).astype(np.uint8)
        self.tY, self.tU, self.tV = _rgb_image_to_planes(rgb)
        # Keep the content's luma well inside (48, 207) so that, seen sideways, it never looks
        # like a stripe of pure black/white cells.
        np.clip(self.tY, 50, 205, out=self.tY)
        scale = width / 640.0
        self.vel = (style["vel"][0] * scale, style["vel"][1] * scale)  # px / s
        self.obj = rgb_to_yuv(style["obj"])
        self.red = rgb_to_yuv((230, 20, 20))
        self.r = max(3, int(round(min(width, content_h) * 0.12)))
        ph = rng.random(2) * 2 * math.pi
        per = 3.0 + 3.0 * rng.random(2)
        self.path = (ph, per)
        self.marker = max(4, 2 * int(round(min(width, content_h) / 20)))

    def paint(self, canvas: _Canvas, t: float, number: int, label: str | None) -> None:
        Y, U, V = canvas.content()
        # scroll (even offsets keep luma and chroma aligned)
        dx = 2 * int(round(self.vel[0] * t / 2))
        dy = 2 * int(round(self.vel[1] * t / 2))
        _roll_into(Y, self.tY, dy, dx)
        _roll_into(U, self.tU, dy // 2, dx // 2)
        _roll_into(V, self.tV, dy // 2, dx // 2)
        # moving object
        (px, py), (tx, ty) = self.path
        r = self.r
        cx = int(round(self.w / 2 + (self.w / 2 - r - 2) * math.sin(2 * math.pi * t / tx + px)))
        cy = int(round(self.ch / 2 + (self.ch / 2 - r - 2) * math.sin(2 * math.pi * t / ty + py)))
        cv2.circle(Y, (cx, cy), r, int(self.obj[0]), -1)
        cv2.circle(U, (cx // 2, cy // 2), r // 2, int(self.obj[1]), -1)
        cv2.circle(V, (cx // 2, cy // 2), r // 2, int(self.obj[2]), -1)
        # orientation marker: red square, top-left of the content area
        m = self.marker
        x0 = y0 = m // 2 if m >= 4 else 2
        x0 -= x0 % 2
        y0 -= y0 % 2
        _fill(Y, U, V, x0, y0, x0 + m, y0 + m, self.red)
        # frame number in big digits, bottom-right, white on black
        _label(Y, U, V, str(number), label, self.w, self.ch)


def _roll_into(dst: np.ndarray, src: np.ndarray, dy: int, dx: int) -> None:
    h, w = src.shape
    dy %= h
    dx %= w
    if dy == 0 and dx == 0:
        dst[...] = src
        return
    dst[...] = np.roll(src, (dy, dx), axis=(0, 1))


def _fill(Y, U, V, x0: int, y0: int, x1: int, y1: int, yuv) -> None:
    Y[y0:y1, x0:x1] = yuv[0]
    U[y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2] = yuv[1]
    V[y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2] = yuv[2]


def _label(Y, U, V, text: str, sub: str | None, w: int, ch: int) -> None:
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.35, min(ch, 0.75 * w) / 220.0)
    thick = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    sub_scale = scale * 0.4
    sub_th = 0
    if sub:
        (sw, sub_th), _ = cv2.getTextSize(sub, font, sub_scale, 1)
        tw = max(tw, sw)
    pad = max(2, int(th * 0.25))
    bw = tw + 2 * pad
    bh = th + base + 2 * pad + (sub_th + pad if sub else 0)
    x1, y1 = w - pad, ch - pad
    x0, y0 = max(0, x1 - bw), max(0, y1 - bh)
    x0 -= x0 % 2
    y0 -= y0 % 2
    _fill(Y, U, V, x0, y0, x1, y1, (_Y_BLACK, 128, 128))
    cv2.putText(Y, text, (x0 + pad, y0 + pad + th), font, scale, _Y_WHITE, thick, cv2.LINE_AA)
    if sub:
        cv2.putText(Y, sub, (x0 + pad, y1 - pad), font, sub_scale, 200, 1, cv2.LINE_AA)


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------

_CONTAINERS = {
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".webm": "webm",
    ".ts": "mpegts",
    ".avi": "avi",
}


def _vfr_durations(pattern: Any, fps: float, seed: int) -> Iterable[float]:
    """Per-frame durations (seconds) for a VFR pattern."""
    if isinstance(pattern, str):
        rng = np.random.default_rng(seed)
        base = 1.0 / fps
        if pattern == "random":
            while True:
                yield float(base * rng.choice([0.5, 1, 1, 1, 1.5, 2, 3]))
        elif pattern == "drops":  # every third frame dropped
            while True:
                yield base
                yield 2 * base
        elif pattern == "phone":
            # a phone camera: nominal rate with jitter, an occasional dropped frame, and a stretch
            # at half rate (low light)
            i = 0
            while True:
                slow = (i // int(fps * 2)) % 3 == 2
                d = base * (2 if slow else 1)
                d *= 1 + rng.normal(0, 0.04)
                if not slow and rng.random() < 0.05:
                    d += base
                yield float(max(base * 0.5, d))
                i += 1
        else:
            raise ValueError(f"unknown vfr_pattern {pattern!r}")
    else:
        seq = [float(d) for d in pattern]
        if not seq or min(seq) <= 0:
            raise ValueError("vfr_pattern durations must be positive")
        i = 0
        while True:
            yield seq[i % len(seq)]
            i += 1


def _schedule(
    duration: float, fps: Fraction, vfr_pattern: Any, start: float, tb: Fraction, seed: int,
    frame_count: int | None,
) -> tuple[list[int], float]:
    """Ticks (in ``tb``) of every frame in presentation order, and the last frame's duration."""
    ticks: list[int] = []
    t0 = int(round(Fraction(start) / tb)) if start else 0
    if vfr_pattern is None:
        n = frame_count if frame_count is not None else max(1, int(round(duration * fps)))
        for i in range(n):
            ticks.append(t0 + int(round(Fraction(i) / fps / tb)))
        return ticks, float(1 / fps)
    durs = _vfr_durations(vfr_pattern, float(fps), seed)
    t = 0.0
    last = 1 / float(fps)
    while (frame_count is None and t < duration - 1e-9) or (
        frame_count is not None and len(ticks) < frame_count
    ):
        tick = t0 + int(round(Fraction(t) / tb))
        if ticks and tick <= ticks[-1]:
            tick = ticks[-1] + 1
        ticks.append(tick)
        last = next(durs)
        t += last
    return ticks, last


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


def ground_truth_path(clip: str | os.PathLike) -> Path:
    """``demo.mp4`` -> ``demo.mp4.json``."""
    p = Path(clip)
    return p.with_name(p.name + ".json")


def load_ground_truth(clip: str | os.PathLike) -> dict:
    return json.loads(ground_truth_path(clip).read_text())


def _even(x: float) -> int:
    return max(2, 2 * int(round(x / 2)))


def _codec_setup(stream, codec: str, crf: int | None, preset: str | None, scenecut: bool,
                 bitrate: int | None, w: int, h: int, fps: float, extra: dict | None) -> None:
    opts: dict[str, str] = {}
    cc = stream.codec_context
    if codec in ("libx264", "libx265"):
        # PyAV defaults to slice threading, which keeps x264 on about one core; frame threads
        # make a 720p encode ~1.6x faster on 2 cores.
        cc.thread_type = "FRAME"
        cc.thread_count = max(2, os.cpu_count() or 2)  # 0 ("auto") stays on one thread here
        opts["preset"] = preset or "veryfast"
        opts["crf"] = str(23 if crf is None else crf)
        if not scenecut:
            key = "x264-params" if codec == "libx264" else "x265-params"
            opts[key] = "scenecut=0" if codec == "libx264" else "scenecut=0:log-level=error"
        elif codec == "libx265":
            opts["x265-params"] = "log-level=error"
    elif codec == "libvpx-vp9":
        opts.update({"crf": str(34 if crf is None else crf), "b": "0", "deadline": "realtime",
                     "cpu-used": "8", "row-mt": "1"})
    elif codec in ("mpeg4", "mpeg2video", "mjpeg"):
        cc.bit_rate = bitrate or int(w * h * fps * 0.15)
    if bitrate and codec not in ("mpeg4", "mpeg2video", "mjpeg"):
        cc.bit_rate = bitrate
    if extra:
        opts.update({k: str(v) for k, v in extra.items()})
    stream.options = opts


_DECODER_NAMES = {"libx264": "h264", "libx265": "hevc", "libvpx-vp9": "vp9", "libvpx": "vp8",
                  "libaom-av1": "av1", "libsvtav1": "av1"}


def _pick_time_base(fmt: str, codec: str, fps: Fraction, vfr: bool) -> Fraction:
    if fmt in ("matroska", "webm"):
        return Fraction(1, 1000)  # the muxer's own time base: keep what it stores
    if fmt == "avi":
        if vfr:
            raise ValueError("AVI cannot carry variable frame rate")
        return 1 / fps
    if codec in ("mpeg4", "mpeg2video", "mjpeg"):
        # MPEG-4 part 2 allows time base denominators up to 65535
        return Fraction(1, 30000) if (30000 * fps.denominator) % fps.numerator == 0 else 1 / fps
    return Fraction(1, 90000)


def generate_clip(
    path: str | os.PathLike,
    *,
    duration: float = 4.0,
    fps: float | Fraction = 25,
    size: tuple[int, int] = (320, 240),
    cuts: Sequence[float] = (),
    cut_frames: Sequence[int] | None = None,
    codec: str = "libx264",
    gop: int | None = None,
    scenecut: bool = True,
    crf: int | None = None,
    preset: str | None = None,
    bitrate: int | None = None,
    codec_options: dict | None = None,
    rotation: int = 0,
    sar: tuple[int, int] = (1, 1),
    start_pts_seconds: float = 0.0,
    vfr_pattern: Any = None,
    frame_count: int | None = None,
    audio: bool = False,
    audio_start_seconds: float | None = None,
    audio_rate: int = 48000,
    audio_bitrate: int = 48000,
    container: str | None = None,
    time_base: Fraction | None = None,
    truncate_fraction: float | None = None,
    fade: Any = None,
    detail: float = 0.0,
    styles: Sequence[dict] | None = None,
    seed: int = 0,
    name: str | None = None,
    write_json: bool = True,
    labels: bool = True,
    progress: bool = False,
) -> dict:
    """Encode a synthetic clip and return (and by default write beside it) its ground truth.

    size        display size (width, height) of the upright picture, both even.
    cuts        seconds from the first frame; each snaps to the first frame at or after it
                (or give ``cut_frames``, frame indices). Ground truth has the exact frame times.
    rotation    value passed to ``stream.set_display_rotation`` (counter-clockwise degrees, the
                display-matrix convention): -90 is a portrait phone clip (players rotate the stored
                picture 90° clockwise; OpenCV reports orientation 90). Stored = inverse-rotated.
    sar         sample aspect ratio; stored width = display width / sar (even).
    start_pts_seconds  the first frame's presentation time (streams that don't start at 0).
    vfr_pattern list of per-frame durations (repeated), or "random" / "drops" / "phone" (seeded).
    fade        seconds (fade out and in around the first cut), or a dict
                {"cut": index into the cuts, "out": seconds, "in": seconds}.
    truncate_fraction  cut the finished file to this fraction of its bytes (partial download).
    detail      0..1, fine texture (raises bitrate and decode cost; 0.6 looks like real video).
    container   muxer format name; default from the extension (.mp4 .mov .mkv .webm .ts .avi).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fps = Fraction(fps).limit_denominator(1001) if not isinstance(fps, Fraction) else fps
    W, H = int(size[0]), int(size[1])
    if W % 2 or H % 2:
        raise ValueError(f"size must be even, got {W}x{H}")
    if rotation % 90:
        raise ValueError("rotation must be a multiple of 90")
    ext = path.suffix.lower()
    fmt = container or _CONTAINERS.get(ext)
    if fmt is None:
        raise ValueError(f"cannot tell the container from {path.name!r}; pass container=")
    fmt = {"mkv": "matroska", "ts": "mpegts"}.get(fmt, fmt)
    tb = time_base or _pick_time_base(fmt, codec, fps, vfr_pattern is not None)
    if fmt == "avi" and start_pts_seconds:
        raise ValueError("AVI cannot carry a start offset")

    ticks, last_dur = _schedule(duration, fps, vfr_pattern, start_pts_seconds, tb, seed, frame_count)
    n = len(ticks)
    if n - 1 > MAX_FRAME_NUMBER:
        raise ValueError("too many frames for the frame-number code")
    t_rel = [float((tk - ticks[0]) * tb) for tk in ticks]
    first_time = float(ticks[0] * tb)
    total = t_rel[-1] + last_dur

    # cuts -> first frame index of each new scene
    if cut_frames is not None:
        starts = sorted({int(i) for i in cut_frames if 0 < int(i) < n})
    else:
        starts = sorted({bisect.bisect_left(t_rel, float(c) - 1e-9) for c in cuts})
        starts = [i for i in starts if 0 < i < n]
    scene_first = [0] + starts
    scene_of = np.zeros(n, np.int64)
    for s, i0 in enumerate(scene_first):
        scene_of[i0:] = s
    cut_times = [t_rel[i] for i in starts]
    scenes = [
        [t_rel[i0], t_rel[scene_first[s + 1]] if s + 1 < len(scene_first) else total]
        for s, i0 in enumerate(scene_first)
    ]

    # fades
    alpha = np.ones(n)
    fade_info = None
    fades_info: list[dict] = []
    specs = _fade_specs(fade) if starts else [s for s in _fade_specs(fade) if "cut" not in s]
    for spec in specs:
        info_one = _apply_fade(alpha, spec, t_rel, cut_times, total, float(fps))
        fades_info.append(info_one)
        if fade_info is None and "cut" in spec:
            fade_info = info_one
    alpha = np.clip(alpha, 0, 1)

    # stored geometry
    k = (-rotation // 90) % 4  # np.rot90(upright, k) gives the stored picture
    rW, rH = (H, W) if k % 2 else (W, H)
    sar_f = Fraction(int(sar[0]), int(sar[1]))
    sW = _even(rW / sar_f) if sar_f != 1 else rW
    sH = rH
    # painters
    canvas = _Canvas(W, H)
    ch = H - canvas.sh
    painters = []
    for s in range(len(scene_first)):
        st = dict(styles[s % len(styles)]) if styles else scene_style(s, seed)
        painters.append(_ScenePainter(st, W, ch, seed * 1000 + s, detail))

    # audio plan
    a_start = start_pts_seconds if audio_start_seconds is None else audio_start_seconds
    a_end = first_time + total

    out = av.open(str(path), "w", format=fmt)
    vs = out.add_stream(codec, rate=fps)
    vs.width, vs.height = sW, sH
    vs.pix_fmt = "yuv420p"
    vs.time_base = tb
    vs.codec_context.time_base = tb
    if gop is not None:
        vs.codec_context.gop_size = int(gop)
    if sar_f != 1:
        vs.codec_context.sample_aspect_ratio = sar_f
    _codec_setup(vs, codec, crf, preset, scenecut, bitrate, sW, sH, float(fps), codec_options)
    if rotation % 360:
        vs.set_display_rotation(rotation)
    aud = None
    if audio:
        acodec = {"webm": "libopus", "avi": "libmp3lame"}.get(fmt, "aac")
        arate = 48000 if acodec == "libopus" else audio_rate
        astream = out.add_stream(acodec, rate=arate)
        astream.layout = "mono"
        astream.codec_context.bit_rate = audio_bitrate
        aud = _AudioWriter(astream, arate, a_start, a_end, [first_time + c for c in cut_times])

    keyframes: list[float] = []
    t_start = time.time()
    try:
        for i in range(n):
            s = int(scene_of[i])
            t_scene = t_rel[i] - t_rel[scene_first[s]]
            sub = f"scene {s}  {t_rel[i]:.3f}s" if labels else None
            painters[s].paint(canvas, t_scene, i, sub)
            canvas.fade(float(alpha[i]))
            canvas.draw_code(i)
            frame = av.VideoFrame.from_ndarray(_stored_i420(canvas, k, sW, sH), format="yuv420p")
            frame.pts = ticks[i]
            frame.time_base = tb
            for pkt in vs.encode(frame):
                _note_key(pkt, keyframes)
                out.mux(pkt)
            if aud is not None:
                aud.write_until(out, first_time + t_rel[i])
            if progress and i % 500 == 0:
                el = time.time() - t_start
                print(f"  {path.name}: frame {i}/{n} ({i / max(el, 1e-9):.0f} fps)",
                      file=sys.stderr, flush=True)
        for pkt in vs.encode():
            _note_key(pkt, keyframes)
            out.mux(pkt)
        if aud is not None:
            aud.finish(out)
    finally:
        out.close()

    size_full = path.stat().st_size
    gt: dict[str, Any] = {
        "name": name or path.stem,
        "file": path.name,
        "fps_nominal": float(fps),
        "fps_nominal_fraction": [fps.numerator, fps.denominator],
        "display_width": W,
        "display_height": H,
        "stored_width": sW,
        "stored_height": sH,
        "rotation_display_matrix": int(rotation),
        "rotation_cw": int((-rotation) % 360),
        "sar": [sar_f.numerator, sar_f.denominator],
        "start_pts_seconds": first_time,
        "time_base": [tb.numerator, tb.denominator],
        "duration": round(total, 9),
        "frame_count": n,
        "frame_times": [round(t, 9) for t in t_rel],
        "variable_frame_rate": vfr_pattern is not None,
        "cuts": [round(t, 9) for t in cut_times],
        "cut_frames": starts,
        "scenes": [[round(a, 9), round(b, 9)] for a, b in scenes],
        "keyframe_times": sorted(round(t - first_time, 9) for t in keyframes),
        "codec": codec,
        "codec_name": _DECODER_NAMES.get(codec, codec),
        "container": fmt,
        "gop": gop,
        "has_audio": bool(audio),
        "audio_start_seconds": a_start if audio else None,
        "fade": fade_info,
        "fades": fades_info,
        "faded_frames": [i for i in range(n) if alpha[i] < 1],
        "black_frames": [i for i in range(n) if alpha[i] < BLACK_ALPHA],
        "fade_alpha": {str(i): round(float(alpha[i]), 4) for i in range(n) if alpha[i] < 1},
        "truncated": False,
        "truncate_fraction": None,
        "size_bytes": size_full,
        "size_bytes_full": size_full,
    }
    if truncate_fraction is not None:
        keep = int(size_full * float(truncate_fraction))
        os.truncate(path, keep)
        gt.update(truncated=True, truncate_fraction=float(truncate_fraction), size_bytes=keep)
        gt["decodable_frame_count"] = _count_decodable(path)
    if write_json:
        ground_truth_path(path).write_text(json.dumps(gt, indent=1) + "\n")
    return gt


BLACK_ALPHA = 0.1
"""Frames faded below this share of their content count as black in the ground truth."""


def _fade_specs(fade: Any) -> list[dict]:
    """``fade`` as a list of dicts: a number (out and in around the first cut), a dict, or a list of
    dicts. Keys: ``cut`` (index into the cuts) with ``out``/``in``/``hold`` seconds (``hold``: fully
    black seconds on each side of the cut), or ``open`` (fade in from black at the start, seconds)
    or ``close`` (fade out to black at the end, seconds)."""
    if not fade:
        return []
    if isinstance(fade, (int, float)):
        return [{"cut": 0, "out": float(fade), "in": float(fade)}]
    if isinstance(fade, dict):
        return [dict(fade)]
    return [dict(f) for f in fade]


def _apply_fade(alpha: np.ndarray, spec: dict, t_rel: list[float], cut_times: list[float], total: float,
                fps: float) -> dict:
    """Lower ``alpha`` (per-frame share of the content, 1 = unfaded) for one fade; its ground truth."""
    step = 1.0 / fps
    if "open" in spec:
        d = float(spec["open"])
        for i, t in enumerate(t_rel):
            if t < d:
                alpha[i] = min(alpha[i], t / d)
        return {"open": [0.0, d]}
    if "close" in spec:
        d = float(spec["close"])
        for i, t in enumerate(t_rel):
            if t > total - d - 1e-9:
                alpha[i] = min(alpha[i], max(0.0, (total - step - t) / d))
        return {"close": [total - d, total]}
    tc = cut_times[int(spec.get("cut", 0))]
    d_out, d_in = float(spec.get("out", 0.5)), float(spec.get("in", 0.5))
    hold = float(spec.get("hold", 0.0))
    for i, t in enumerate(t_rel):
        if tc - hold - 1e-9 <= t < tc + hold - 1e-9:
            a = 0.0
        elif tc - hold - d_out <= t < tc - hold and d_out > 0:
            a = (tc - hold - t) / d_out - step / d_out  # reaches ~0 before the hold/cut
        elif tc + hold <= t < tc + hold + d_in and d_in > 0:
            a = (t - tc - hold) / d_in
        else:
            continue
        alpha[i] = min(alpha[i], a)
    out_frames = [t for i, t in enumerate(t_rel) if alpha[i] < 1 and tc - hold - d_out - 1e-9 <= t < tc]
    in_frames = [t for i, t in enumerate(t_rel) if alpha[i] < 1 and tc <= t < tc + hold + d_in]
    return {
        "cut": tc,
        "out": [out_frames[0], tc] if out_frames else None,
        "in": [tc, _next_time(t_rel, in_frames[-1], total)] if in_frames else None,
        "hold": hold,
        "faded_frame_count": len(out_frames) + len(in_frames),
    }


def _next_time(times: list[float], t: float, total: float) -> float:
    i = bisect.bisect_right(times, t + 1e-12)
    return times[i] if i < len(times) else total


def _note_key(pkt, keyframes: list[float]) -> None:
    if pkt.is_keyframe and pkt.pts is not None:
        keyframes.append(float(pkt.pts * pkt.time_base))


def _stored_i420(c: _Canvas, k: int, sW: int, sH: int) -> np.ndarray:
    planes = [c.Y, c.U, c.V]
    if k:
        planes = [np.rot90(p, k) for p in planes]
    y, u, v = planes
    if y.shape != (sH, sW):
        y = cv2.resize(np.ascontiguousarray(y), (sW, sH), interpolation=cv2.INTER_AREA)
        u = cv2.resize(np.ascontiguousarray(u), (sW // 2, sH // 2), interpolation=cv2.INTER_AREA)
        v = cv2.resize(np.ascontiguousarray(v), (sW // 2, sH // 2), interpolation=cv2.INTER_AREA)
    buf = np.empty((sH * 3 // 2, sW), np.uint8)
    buf[:sH] = y
    q = sH // 4 if sH % 4 == 0 else None
    if q is not None:
        buf[sH : sH + q] = np.ascontiguousarray(u).reshape(q, sW)
        buf[sH + q :] = np.ascontiguousarray(v).reshape(q, sW)
    else:  # chroma rows do not pack into whole luma-width rows: use the flat layout
        flat = buf.reshape(-1)
        n = (sH // 2) * (sW // 2)
        flat[sH * sW : sH * sW + n] = np.ascontiguousarray(u).reshape(-1)
        flat[sH * sW + n :] = np.ascontiguousarray(v).reshape(-1)
    return buf


class _AudioWriter:
    """A sine tone whose pitch changes at every cut, written in step with the video."""

    def __init__(self, stream, rate: int, start: float, end: float, cut_times: list[float]):
        self.s = stream
        self.rate = rate
        self.frame_size = stream.codec_context.frame_size or 1024
        self.pos = int(round(start * rate))  # samples, container timeline
        self.end = int(round(end * rate))
        self.cuts = cut_times
        self.phase = 0.0

    def _chunk(self, n: int) -> np.ndarray:
        t = (self.pos + np.arange(n)) / self.rate
        scene = np.searchsorted(np.array(self.cuts), t, side="right")
        f = 220.0 * 2 ** (scene / 3.0)
        ph = self.phase + 2 * math.pi * np.cumsum(f) / self.rate
        self.phase = float(ph[-1] % (2 * math.pi))
        return (0.2 * np.sin(ph)).astype(np.float32)[None, :]

    def _write(self, out, n: int) -> None:
        fr = av.AudioFrame.from_ndarray(self._chunk(n), format="fltp", layout="mono")
        fr.sample_rate = self.rate
        fr.pts = self.pos
        fr.time_base = Fraction(1, self.rate)
        self.pos += n
        for pkt in self.s.encode(fr):
            out.mux(pkt)

    def write_until(self, out, t: float) -> None:
        target = min(self.end, int(t * self.rate))
        while self.pos + self.frame_size <= target:
            self._write(out, self.frame_size)

    def finish(self, out) -> None:
        while self.pos < self.end:
            self._write(out, min(self.frame_size, self.end - self.pos))
        for pkt in self.s.encode():
            out.mux(pkt)


def _count_decodable(path: Path) -> int:
    """Frames PyAV can decode from a (damaged) file before it gives up."""
    n = 0
    try:
        with av.open(str(path)) as c:
            for _ in c.decode(video=0):
                n += 1
    except (av.FFmpegError, OSError, ValueError, IndexError):
        pass
    return n


# --------------------------------------------------------------------------------------------
# Long clips for benchmarks
# --------------------------------------------------------------------------------------------


def _irregular_cuts(total: float, n_cuts: int, rng: np.random.Generator, min_gap: float) -> list[float]:
    if n_cuts <= 0:
        return []
    if (n_cuts + 1) * min_gap >= total:
        raise ValueError("too many cuts for the duration")
    w = rng.gamma(2.0, 1.0, n_cuts + 1)
    lengths = min_gap + (total - (n_cuts + 1) * min_gap) * w / w.sum()
    return [round(float(x), 3) for x in np.cumsum(lengths)[:-1]]


def generate_long_clip(
    path: str | os.PathLike,
    *,
    minutes: float = 10,
    size: tuple[int, int] = (1280, 720),
    fps: float = 30,
    gop: int | None = 250,
    n_cuts: int | None = None,
    cuts: Sequence[float] | None = None,
    seed: int = 0,
    preset: str = "veryfast",
    crf: int = 23,
    detail: float = 0.6,
    audio: bool = False,
    progress: bool = True,
    **kw: Any,
) -> dict:
    """A long clip for benchmarks (default 10 min 1280×720 30 fps, GOP 250, 28 hard cuts at
    irregular times, ~2.5 Mbit/s). Drawing is cheap (textures precomputed per scene and scrolled),
    so the time goes to x264 (2–4 min for 10 min on 2 cores with preset "veryfast").
    ``n_cuts`` defaults to 2.8 per minute (28 for 10 min); or give ``cuts`` (seconds)."""
    total = float(minutes) * 60
    if cuts is None:
        if n_cuts is None:
            n_cuts = int(round(2.8 * float(minutes)))
        min_gap = min(4.0, total / (n_cuts + 1) / 2)
        cuts = _irregular_cuts(total, n_cuts, np.random.default_rng(seed), min_gap=min_gap)
    return generate_clip(
        path, duration=total, fps=fps, size=size, cuts=cuts, gop=gop, seed=seed, preset=preset,
        crf=crf, detail=detail, audio=audio, progress=progress, **kw,
    )


def generate_cut_heavy_clip(
    path: str | os.PathLike,
    *,
    minutes: float = 10,
    shots: int = 40,
    seed: int = 0,
    size: tuple[int, int] = (480, 270),
    fps: float = 25,
    min_shot: float = 2.0,
    max_shot: float = 40.0,
    preset: str = "veryfast",
    progress: bool = True,
    **kw: Any,
) -> dict:
    """Many shots of very different lengths (some ~2 s, some ~40 s), for a scene-coverage
    benchmark. Shot lengths are log-uniform, rescaled to fill ``minutes``; the ground truth's
    ``scenes`` lists them."""
    total = float(minutes) * 60
    cuts = [round(float(x), 3) for x in np.cumsum(_shot_lengths(total, shots, seed, min_shot, max_shot))[:-1]]
    gt = generate_clip(
        path, duration=total, fps=fps, size=size, cuts=cuts, seed=seed + 1, preset=preset,
        progress=progress, write_json=False, detail=kw.pop("detail", 0.3), **kw,
    )
    gt["shot_lengths"] = [round(b - a, 6) for a, b in gt["scenes"]]
    ground_truth_path(path).write_text(json.dumps(gt, indent=1) + "\n")
    return gt


def _shot_lengths(total: float, shots: int, seed: int, min_shot: float, max_shot: float) -> np.ndarray:
    if shots * min_shot > total or shots * max_shot < total:
        raise ValueError("shots × [min_shot, max_shot] cannot fill the duration")
    rng = np.random.default_rng(seed)
    lengths = np.exp(rng.uniform(math.log(min_shot), math.log(max_shot), shots))
    lengths[rng.choice(shots, size=min(3, shots), replace=False)] = min_shot  # guarantee short
    lengths[rng.choice(shots, size=min(2, shots), replace=False)] = max_shot  # and long shots
    for _ in range(200):  # rescale into the total while respecting the bounds
        free = (lengths > min_shot + 1e-9) & (lengths < max_shot - 1e-9)
        gap = total - lengths.sum()
        if abs(gap) < 1e-6 or not free.any():
            break
        lengths[free] += gap * lengths[free] / lengths[free].sum()
        np.clip(lengths, min_shot, max_shot, out=lengths)
    lengths *= total / lengths.sum()
    return lengths


# --------------------------------------------------------------------------------------------
# Screen recordings and fades
# --------------------------------------------------------------------------------------------

_WORDS = ["budget", "latency", "revenue", "cluster", "pipeline", "roadmap", "metrics", "quarterly", "churn", "adoption", "cohort", "inference", "training", "dataset", "billing", "regional", "rollout", "feedback", "hiring", "platform", "security", "audit", "migration", "storage", "network", "edge", "mobile", "search", "ranking", "retention", "pricing", "partner", "support", "onboarding", "analytics", "forecast", "backlog", "incident", "review", "launch", "design", "survey", "growth", "margin", "capacity"]


def _slide_texts(rng: np.random.Generator, n_bullets: int) -> tuple[str, list[str]]:
    title = " ".join(rng.choice(_WORDS, size=int(rng.integers(2, 4)))).title()
    bullets = [" ".join(rng.choice(_WORDS, size=int(rng.integers(3, 7)))) for _ in range(n_bullets)]
    return title, bullets


class _SlideDeck:
    """One template (header bar, bullets, footer); draws slide ``k`` with ``r`` bullets revealed."""

    def __init__(self, width: int, height: int, texts: list[tuple[str, list[str]]]):
        self.w, self.h, self.texts = width, height, texts
        self.scale = width / 1280.0
        self.header = int(round(0.14 * height))
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def picture(self, k: int, revealed: int) -> np.ndarray:
        key = (k, revealed)
        if key not in self._cache:
            self._cache = {key: self._draw(k, revealed)}  # one at a time: slides never come back
        return self._cache[key]

    def _draw(self, k: int, revealed: int) -> np.ndarray:
        w, h, sc = self.w, self.h, self.scale
        img = np.full((h, w, 3), 246, np.uint8)
        img[: self.header] = (32, 64, 140)
        img[h - int(0.06 * h) :] = (225, 228, 235)
        font = cv2.FONT_HERSHEY_SIMPLEX
        title, bullets = self.texts[k]
        cv2.putText(img, title, (int(40 * sc), int(self.header * 0.68)), font, 1.4 * sc, (255, 255, 255),
                    max(1, int(round(3 * sc))), cv2.LINE_AA)
        y = self.header + int(70 * sc)
        for b in bullets[:revealed]:
            cv2.circle(img, (int(60 * sc), y - int(9 * sc)), max(2, int(7 * sc)), (32, 64, 140), -1)
            cv2.putText(img, b, (int(85 * sc), y), font, 1.0 * sc, (40, 40, 40), max(1, int(round(2 * sc))),
                        cv2.LINE_AA)
            y += int(62 * sc)
        cv2.putText(img, f"videovision quarterly review - {k + 1}/{len(self.texts)}",
                    (int(40 * sc), h - int(0.018 * h)), font, 0.6 * sc, (90, 90, 110), 1, cv2.LINE_AA)
        return img


def _pointer_path(t: float, w: int, h: int, seed: int) -> tuple[int, int] | None:
    """Where the mouse pointer is at ``t`` (moving in some stretches, resting in others)."""
    period = 7.0
    phase = (t + seed) % period
    k = math.floor((t + seed) / period)
    rng = np.random.default_rng([seed, k])
    x0, y0 = rng.uniform(0.1, 0.8) * w, rng.uniform(0.25, 0.85) * h
    x1, y1 = rng.uniform(0.1, 0.8) * w, rng.uniform(0.25, 0.85) * h
    a = min(1.0, phase / 3.0)  # moves for 3 s, rests for 4 s
    a = 0.5 - 0.5 * math.cos(math.pi * a)
    return int(x0 + (x1 - x0) * a), int(y0 + (y1 - y0) * a)


def _draw_pointer(img: np.ndarray, x: int, y: int, scale: float) -> None:
    s = max(6, int(22 * scale))
    pts = np.array([[x, y], [x, y + s], [x + s * 0.3, y + s * 0.75], [x + s * 0.7, y + s * 0.7]], np.int32)
    cv2.fillPoly(img, [pts], (0, 0, 0))
    cv2.polylines(img, [pts], True, (255, 255, 255), 1, cv2.LINE_AA)


def _draw_clock(img: np.ndarray, t: float, header: int, scale: float) -> None:
    secs = 10 * 3600 + 5 * 60 + int(t)
    text = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    w = img.shape[1]
    cv2.putText(img, text, (w - int(190 * scale), int(header * 0.62)), cv2.FONT_HERSHEY_SIMPLEX, 0.9 * scale,
                (220, 230, 255), max(1, int(round(2 * scale))), cv2.LINE_AA)


def _draw_webcam(img: np.ndarray, t: float, rng: np.random.Generator) -> None:
    """A presenter thumbnail bottom-right: a face that sways and nods, and sensor noise."""
    h, w = img.shape[:2]
    tw, th = w // 6, h // 6
    x0, y0 = w - tw - w // 60, h - th - h // 12
    cam = np.empty((th, tw, 3), np.uint8)
    cam[:] = (70, 90, 80)
    cx = int(tw / 2 + tw * 0.12 * math.sin(2 * math.pi * t / 2.3))
    cy = int(th * 0.55 + th * 0.05 * math.sin(2 * math.pi * t / 1.1))
    cv2.ellipse(cam, (cx, cy), (tw // 6, th // 4), 0, 0, 360, (170, 185, 215), -1)
    cv2.ellipse(cam, (cx, cy + th // 2), (tw // 3, th // 4), 0, 180, 360, (60, 60, 140), -1)
    noise = rng.integers(-6, 7, cam.shape, dtype=np.int16)
    img[y0 : y0 + th, x0 : x0 + tw] = np.clip(cam.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def generate_screen_clip(
    path: str | os.PathLike,
    *,
    slides: int = 8,
    slide_seconds: tuple[float, float] = (4.0, 8.0),
    minutes: float | None = None,
    size: tuple[int, int] = (640, 360),
    fps: float = 15,
    reveal_every: int = 3,
    pointer: bool = True,
    clock: bool = True,
    webcam: bool = False,
    seed: int = 0,
    crf: int = 26,
    preset: str = "veryfast",
    gop: int | None = None,
    write_json: bool = True,
    progress: bool = False,
) -> dict:
    """A screen recording of a slide talk: ``slides`` slides of one template (blue header, bullets,
    footer with the slide number), hard changes between slides, a mouse pointer that moves for 3 s
    and rests for 4 s, a ticking clock in the header, optionally a presenter webcam thumbnail, and on
    every ``reveal_every``-th slide bullets revealed one by one (progressive reveals).

    Slide lengths are drawn from ``slide_seconds`` (uniform); with ``minutes`` they are rescaled to
    fill that duration. Ground truth (``<file>.json``): ``slide_changes`` (the first frame of each new
    slide), ``slides`` ([start, end) and reveal times per slide), ``reveals`` (every reveal time)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    W, H = int(size[0]), int(size[1])
    rng = np.random.default_rng(seed)
    lengths = rng.uniform(slide_seconds[0], slide_seconds[1], slides)
    if minutes is not None:
        lengths *= minutes * 60 / lengths.sum()
    fps_f = Fraction(fps).limit_denominator(1001)
    n = int(round(float(lengths.sum()) * fps_f))
    t_rel = [float(Fraction(i) / fps_f) for i in range(n)]
    bounds = np.concatenate([[0.0], np.cumsum(lengths)])
    starts = [bisect.bisect_left(t_rel, float(b) - 1e-9) for b in bounds[:-1]]
    starts[0] = 0
    total = n / float(fps_f)
    texts = [_slide_texts(rng, int(rng.integers(3, 6))) for _ in range(slides)]
    reveal_plan: list[list[float]] = []
    slides_gt = []
    for k in range(slides):
        a = t_rel[starts[k]]
        b = t_rel[starts[k + 1]] if k + 1 < slides else total
        n_bul = len(texts[k][1])
        times: list[float] = []
        if reveal_every and k % reveal_every == reveal_every - 1 and n_bul > 1:
            # first bullet with the slide, the others one by one over the first 70 % of the slide
            for j in range(1, n_bul):
                tr = a + (b - a) * 0.7 * j / n_bul
                times.append(t_rel[bisect.bisect_left(t_rel, tr - 1e-9)])
        reveal_plan.append(times)
        slides_gt.append({"index": k, "start": round(a, 9), "end": round(b, 9), "title": texts[k][0],
                          "bullets": n_bul, "reveals": [round(x, 9) for x in times]})
    deck = _SlideDeck(W, H, texts)
    cam_rng = np.random.default_rng(seed + 99)
    out = av.open(str(path), "w")
    vs = out.add_stream("libx264", rate=fps_f)
    vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
    tb = Fraction(1, 90000)
    vs.time_base = tb
    vs.codec_context.time_base = tb
    if gop is not None:
        vs.codec_context.gop_size = int(gop)
    _codec_setup(vs, "libx264", crf, preset, True, None, W, H, float(fps_f), None)
    keyframes: list[float] = []
    slide = 0
    t0 = time.time()
    try:
        for i, t in enumerate(t_rel):
            while slide + 1 < slides and i >= starts[slide + 1]:
                slide += 1
            n_bul = len(texts[slide][1])
            revealed = n_bul - len(reveal_plan[slide]) + sum(1 for x in reveal_plan[slide] if x <= t + 1e-9)
            img = deck.picture(slide, revealed).copy()
            if clock:
                _draw_clock(img, t, deck.header, deck.scale)
            if webcam:
                _draw_webcam(img, t, cam_rng)
            if pointer:
                _draw_pointer(img, *_pointer_path(t, W, H, seed), deck.scale)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
            frame.pts = int(round(Fraction(t).limit_denominator(10**6) / tb))
            frame.time_base = tb
            for pkt in vs.encode(frame):
                _note_key(pkt, keyframes)
                out.mux(pkt)
            if progress and i % 2000 == 0:
                print(f"  {path.name}: frame {i}/{n} ({i / max(time.time() - t0, 1e-9):.0f} fps)",
                      file=sys.stderr, flush=True)
        for pkt in vs.encode():
            _note_key(pkt, keyframes)
            out.mux(pkt)
    finally:
        out.close()
    gt: dict[str, Any] = {
        "name": path.stem,
        "file": path.name,
        "kind": "screen",
        "fps_nominal": float(fps_f),
        "display_width": W,
        "display_height": H,
        "duration": round(total, 9),
        "frame_count": n,
        "frame_times": [round(t, 9) for t in t_rel],
        "slide_changes": [round(t_rel[s], 9) for s in starts[1:]],
        "slides": slides_gt,
        "reveals": [round(x, 9) for times in reveal_plan for x in times],
        "pointer": pointer,
        "clock": clock,
        "webcam": webcam,
        "keyframe_times": sorted(round(t, 9) for t in keyframes),
        "size_bytes": path.stat().st_size,
    }
    if write_json:
        ground_truth_path(path).write_text(json.dumps(gt, indent=1) + "\n")
    return gt


def generate_fade_clip(path: str | os.PathLike, *, size: tuple[int, int] = (320, 180), fps: float = 25,
                       write_json: bool = True, **kw: Any) -> dict:
    """Film-like shots joined by fades through black (with a black hold), one hard cut, a fade in
    from black at the start and a fade out to black at the end: 12 s, cuts at 3, 6 and 9 s (the one
    at 6 s hard). Ground truth: ``black_frames`` (content below 10 %), ``faded_frames``, ``fades``."""
    fades = [{"open": 0.8}, {"cut": 0, "out": 0.6, "in": 0.6, "hold": 0.24},
             {"cut": 2, "out": 0.5, "in": 0.5, "hold": 0.2}, {"close": 0.8}]
    return generate_clip(path, duration=12.0, fps=fps, size=size, cuts=[3.0, 6.0, 9.0], fade=fades,
                         write_json=write_json, **kw)


# --------------------------------------------------------------------------------------------
# Events at known times (the refine pass: "when does X happen?")
# --------------------------------------------------------------------------------------------

EVENT_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 30, 30), "green": (30, 200, 60), "blue": (40, 80, 235), "yellow": (240, 220, 30),
    "magenta": (220, 40, 220), "cyan": (30, 220, 230),
}
"""Square colours of ``generate_event_clip`` (the background is grey: never close to any of them)."""
EVENT_SQUARE_FRACTION = 1 / 4
"""Side of an event's square, as a fraction of the picture's height."""


def colour_shown(image: np.ndarray, rgb: Sequence[int], *, min_fraction: float = 0.01,
                 max_distance: float = 70.0) -> bool:
    """True when at least ``min_fraction`` of an RGB picture's pixels lie within ``max_distance``
    (Euclidean, 0-255 units) of ``rgb``: is an event's square in view (after resizing and JPEG)?"""
    diff = image.reshape(-1, 3).astype(np.int32) - np.asarray(rgb, np.int32)
    close = (diff * diff).sum(axis=1) <= max_distance * max_distance
    return bool(close.mean() >= min_fraction)


def generate_event_clip(
    path: str | os.PathLike,
    *,
    duration: float = 60.0,
    events: Sequence[tuple[str, float, float]] = (("red", 23.37, 31.9),),
    size: tuple[int, int] = (320, 180),
    fps: float = 25,
    write_json: bool = True,
) -> dict:
    """A grey clip where coloured squares appear and disappear at known times (no cuts).

    Each event ``(colour, start, end)`` (a key of ``EVENT_COLOURS``, seconds) shows a square of that
    colour on every frame whose time lies in ``[start, end)``, at a place of its own; a soft grey
    gradient drifts behind it and every frame carries its number (``read_frame_number``). The
    ground truth adds ``events``: per event its colour, rgb, start, end and ``first_time`` /
    ``first_frame`` (the first frame that shows it), besides ``frame_times``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    W, H = int(size[0]), int(size[1])
    if W % 2 or H % 2:
        raise ValueError(f"size must be even, got {W}x{H}")
    for colour, start, end in events:
        if colour not in EVENT_COLOURS or not 0 <= start < end:
            raise ValueError(f"bad event {(colour, start, end)!r}: colour in {sorted(EVENT_COLOURS)}, 0 <= start < end")
    rate = Fraction(fps).limit_denominator(1001)
    count = int(math.floor(duration * rate))
    times = [float(i / rate) for i in range(count)]
    side = _even(H * EVENT_SQUARE_FRACTION)
    top = stripe_height(H) + 4
    spots = [(int(x), int(y)) for x, y in zip(np.linspace(8, W - side - 8, max(2, len(events))),
                                              np.linspace(top, H - side - 4, max(2, len(events))))]
    ramp = np.linspace(70, 150, W, dtype=np.float32)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        _codec_setup(stream, "libx264", 23, "veryfast", True, None, W, H, float(rate), None)
        for i, t in enumerate(times):
            shift = int(t * 3) % W  # a slow drift: neighbouring frames are not identical
            grey = np.roll(ramp, shift)[None, :, None]
            img = np.broadcast_to(grey, (H, W, 3)).astype(np.uint8).copy()
            for k, (colour, start, end) in enumerate(events):
                if start <= t < end:
                    x, y = spots[k]
                    img[y : y + side, x : x + side] = EVENT_COLOURS[colour]
            draw_frame_code(img, i)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = 1 / rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    found = []
    for colour, start, end in events:
        first = next((i for i, t in enumerate(times) if start <= t < end), None)
        found.append({"colour": colour, "rgb": list(EVENT_COLOURS[colour]), "start": start, "end": end,
                      "first_frame": first, "first_time": times[first] if first is not None else None})
    gt = {"name": path.stem, "file": path.name, "kind": "events", "duration": float(count / rate), "fps": float(rate),
          "width": W, "height": H, "frame_count": count, "frame_times": times, "events": found,
          "size_bytes": path.stat().st_size}
    if write_json:
        ground_truth_path(path).write_text(json.dumps(gt, indent=1) + "\n")
    return gt


# --------------------------------------------------------------------------------------------
# Odd files
# --------------------------------------------------------------------------------------------


def make_audio_only(
    path: str | os.PathLike, *, duration: float = 3.0, freq: float = 440.0, rate: int = 44100,
    write_json: bool = False,
) -> dict:
    """An audio-only file with a sine tone: .m4a/.mp4 (AAC), .mp3, .wav (PCM), .ogg/.opus."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ext = path.suffix.lower()
    codec, fmt, sfmt = {
        ".m4a": ("aac", "ipod", "fltp"),
        ".mp4": ("aac", "mp4", "fltp"),
        ".aac": ("aac", "adts", "fltp"),
        ".mp3": ("libmp3lame", "mp3", "fltp"),
        ".wav": ("pcm_s16le", "wav", "s16"),
        ".ogg": ("libopus", "ogg", "flt"),
        ".opus": ("libopus", "opus", "flt"),
    }.get(ext, (None, None, None))
    if codec is None:
        raise ValueError(f"unsupported audio extension {ext!r}")
    if codec == "libopus":
        rate = 48000
    with av.open(str(path), "w", format=fmt) as out:
        s = out.add_stream(codec, rate=rate)
        s.layout = "mono"
        fs = s.codec_context.frame_size or 1024
        total = int(round(duration * rate))
        pos = 0
        while pos < total:
            n = min(fs, total - pos)
            t = (pos + np.arange(n)) / rate
            x = 0.3 * np.sin(2 * math.pi * freq * t)
            arr = (x * 32767).astype(np.int16)[None, :] if sfmt == "s16" else x.astype(np.float32)[None, :]
            fr = av.AudioFrame.from_ndarray(arr, format=sfmt, layout="mono")
            fr.sample_rate = rate
            fr.pts = pos
            fr.time_base = Fraction(1, rate)
            pos += n
            for p in s.encode(fr):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    gt = {"name": path.stem, "file": path.name, "kind": "audio_only", "duration": duration,
          "codec": codec, "container": fmt, "frame_count": 0, "has_audio": True,
          "size_bytes": path.stat().st_size}
    if write_json:
        ground_truth_path(path).write_text(json.dumps(gt, indent=1) + "\n")
    return gt


def make_single_frame(path: str | os.PathLike, *, size: tuple[int, int] = (320, 240), **kw: Any) -> dict:
    """A one-frame video (duration 1/fps)."""
    kw.setdefault("write_json", False)
    return generate_clip(path, size=size, frame_count=1, cuts=(), **kw)


def make_not_a_video(path: str | os.PathLike, *, content: bytes | None = None) -> dict:
    """A file with a video extension that is not a video (text bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content if content is not None else b"This is not a video file.\n" * 40
    path.write_bytes(data)
    return {"name": path.stem, "file": path.name, "kind": "not_a_video", "size_bytes": len(data)}


# --------------------------------------------------------------------------------------------
# Verification (used by tests and by --verify)
# --------------------------------------------------------------------------------------------


def verify_clip(path: str | os.PathLike, gt: dict | None = None, *, tol: float = 0.001) -> dict:
    """Decode with PyAV; compare every frame's time with the ground truth and read each frame's
    number after applying the rotation. Returns a report dict (``ok`` True when all match)."""
    path = Path(path)
    gt = gt or load_ground_truth(path)
    times: list[float] = []
    numbers: list[int | None] = []
    sar = None
    rotations = set()
    error = None
    first = None
    try:
        with av.open(str(path)) as c:
            st = c.streams.video[0]
            sar = st.codec_context.sample_aspect_ratio
            for fr in c.decode(st):
                t = float(fr.pts * fr.time_base)
                if first is None:
                    first = t
                times.append(t - first)
                rotations.add(fr.rotation)
                img = fr.to_ndarray(format="rgb24")
                if fr.rotation:
                    img = np.rot90(img, k=fr.rotation // 90)
                numbers.append(read_frame_number(img))
    except av.FFmpegError as e:  # truncated files
        error = f"{type(e).__name__}: {e}"
    n = len(times)
    exp = gt["frame_times"][:n]
    max_err = max((abs(a - b) for a, b in zip(times, exp)), default=0.0)
    numbers_ok = numbers == list(range(n))
    complete = n == gt["frame_count"]
    ok = max_err <= tol and numbers_ok and (complete or gt.get("truncated", False))
    return {
        "file": path.name,
        "ok": bool(ok),
        "decoded": n,
        "expected": gt["frame_count"],
        "max_time_error": max_err,
        "numbers_ok": numbers_ok,
        "unreadable_numbers": sum(1 for x in numbers if x is None),
        "first_pts_seconds": first,
        "rotations": sorted(rotations),
        "sar": str(sar) if sar is not None else None,
        "error": error,
    }


# --------------------------------------------------------------------------------------------
# Named clips
# --------------------------------------------------------------------------------------------

DEMO_CUTS = [3.16, 6.84, 9.32, 13.6, 16.12, 20.44]  # irregular, 7 scenes


def _spec(name: str) -> tuple[str, dict]:
    """File name and generate_clip keyword arguments for a named clip."""
    small = dict(size=(320, 240), fps=25, duration=4.0, cuts=[1.0, 2.52])
    specs: dict[str, tuple[str, dict]] = {
        "demo": ("demo.mp4", dict(size=(640, 360), fps=25, duration=24.0, cuts=DEMO_CUTS,
                                  audio=True, audio_bitrate=32000, crf=30, preset="slow",
                                  detail=0.15)),
        "phone_vfr": ("phone_vfr.mp4", dict(size=(320, 568), fps=30, duration=8.0,
                                            cuts=[3.4, 5.9], rotation=-90, vfr_pattern="phone",
                                            start_pts_seconds=0.7, audio=True,
                                            audio_start_seconds=0.0, audio_bitrate=32000,
                                            crf=30, preset="slow", seed=7, detail=0.1)),
        "cfr": ("cfr.mp4", dict(small)),
        "vfr": ("vfr.mp4", dict(small, vfr_pattern=[0.04, 0.04, 0.12, 0.02, 0.06])),
        "rotated90": ("rotated90.mp4", dict(small, size=(240, 320), rotation=-90)),
        "rotated180": ("rotated180.mp4", dict(small, rotation=180)),
        "rotated270": ("rotated270.mp4", dict(small, size=(240, 320), rotation=90)),
        "sar": ("sar.mp4", dict(small, size=(512, 288), sar=(16, 11))),
        "offset_start": ("offset_start.mp4", dict(small, start_pts_seconds=1.075, audio=True,
                                                  audio_start_seconds=0.0)),
        "mkv": ("mkv.mkv", dict(small)),
        "truncated_mkv": ("truncated_mkv.mkv", dict(small, duration=6.0, cuts=[1.0, 2.52, 4.2],
                                                    truncate_fraction=0.6, gop=25)),
        "truncated_ts": ("truncated_ts.ts", dict(small, duration=6.0, cuts=[1.0, 2.52, 4.2],
                                                 truncate_fraction=0.6, gop=25)),
        "truncated_mp4": ("truncated_mp4.mp4", dict(small, truncate_fraction=0.6)),
        "long_gop": ("long_gop.mp4", dict(small, duration=12.0, cuts=[2.0, 5.04, 9.0], gop=250,
                                          scenecut=False)),
        "fade": ("fade.mp4", dict(small, duration=6.0, cuts=[2.0, 4.0],
                                  fade={"cut": 0, "out": 0.6, "in": 0.6})),
        "ts": ("ts.ts", dict(small)),
        "webm_vp9": ("webm_vp9.webm", dict(small, codec="libvpx-vp9")),
        "mpeg4_avi": ("mpeg4_avi.avi", dict(small, codec="mpeg4")),
        "fractional_fps": ("fractional_fps.mp4", dict(small, fps=Fraction(30000, 1001))),
    }
    if name not in specs:
        raise KeyError(name)
    return specs[name]


COMMITTED = ["demo", "phone_vfr"]
NAMES = [
    "demo", "phone_vfr", "cfr", "vfr", "rotated90", "rotated180", "rotated270", "sar",
    "offset_start", "mkv", "truncated_mkv", "long_gop", "fade",
]
EXTRA_NAMES = ["truncated_ts", "truncated_mp4", "ts", "webm_vp9", "mpeg4_avi", "fractional_fps",
               "audio_only", "single_frame", "not_a_video"]


def generate_named(name: str, out_dir: str | os.PathLike = DEFAULT_OUT) -> dict:
    out_dir = Path(out_dir)
    if name == "audio_only":
        return make_audio_only(out_dir / "audio_only.m4a", write_json=True)
    if name == "single_frame":
        return make_single_frame(out_dir / "single_frame.mp4", write_json=True)
    if name == "not_a_video":
        return make_not_a_video(out_dir / "not_a_video.mp4")
    fname, kw = _spec(name)
    return generate_clip(out_dir / fname, name=name, **kw)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help=f"clips to make: {', '.join(NAMES + EXTRA_NAMES)}")
    ap.add_argument("--out", help="output directory (default: samples/ for demo and phone_vfr "
                    "when no other names are given, else samples/generated/)")
    ap.add_argument("--all", action="store_true", help="every named clip (incl. extras)")
    ap.add_argument("--verify", action="store_true", help="decode each clip and check it")
    ap.add_argument("--long", metavar="PATH", help="write a long benchmark clip to PATH")
    ap.add_argument("--cut-heavy", metavar="PATH", help="write a cut-heavy benchmark clip to PATH")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    if args.long or args.cut_heavy:
        t0 = time.time()
        if args.long:
            gt = generate_long_clip(args.long, minutes=args.minutes, seed=args.seed)
            print(f"{args.long}: {gt['frame_count']} frames, {len(gt['cuts'])} cuts, "
                  f"{gt['size_bytes'] / 1e6:.1f} MB, {time.time() - t0:.0f} s")
        if args.cut_heavy:
            gt = generate_cut_heavy_clip(args.cut_heavy, minutes=args.minutes, seed=args.seed)
            print(f"{args.cut_heavy}: {gt['frame_count']} frames, {len(gt['scenes'])} shots, "
                  f"{gt['size_bytes'] / 1e6:.1f} MB, {time.time() - t0:.0f} s")
        return 0

    names = list(NAMES + EXTRA_NAMES) if args.all else list(args.names)
    if not names:
        names = list(COMMITTED)
        out = Path(args.out) if args.out else SAMPLES_DIR
    else:
        out = Path(args.out) if args.out else DEFAULT_OUT
    ok = True
    for nm in names:
        t0 = time.time()
        gt = generate_named(nm, out)
        line = f"{nm:15s} {gt['file']:22s} {gt.get('size_bytes', 0) / 1024:8.1f} KiB  " \
               f"{gt.get('frame_count', 0):5d} frames  {time.time() - t0:5.1f} s"
        if args.verify and gt.get("frame_times"):
            rep = verify_clip(out / gt["file"], gt)
            ok &= rep["ok"]
            line += f"  verify: {'ok' if rep['ok'] else 'FAILED'} ({rep['decoded']} decoded, " \
                    f"max err {rep['max_time_error'] * 1000:.3f} ms)"
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
