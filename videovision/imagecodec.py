"""Pictures to bytes and labels burnt into pictures: shared by the packer (images sent to the model) and the
frames-folder writer (``export.py``), so the packer does not depend on the folder writer."""

from __future__ import annotations

import cv2
import numpy as np

from .errors import ConfigError

__all__ = ["JPEG_QUALITY", "draw_label", "encode_image"]

JPEG_QUALITY = 90


def encode_image(rgb: np.ndarray, fmt: str = "jpeg", quality: int = JPEG_QUALITY) -> bytes:
    """Encode an RGB array as JPEG, PNG or WEBP bytes."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if fmt == "jpeg":
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    elif fmt == "webp":
        ok, buf = cv2.imencode(".webp", bgr, [cv2.IMWRITE_WEBP_QUALITY, quality])
    else:
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:  # pragma: no cover - OpenCV only fails on empty images or missing codecs
        raise ConfigError(f"cannot encode {fmt} images with this OpenCV build")
    return buf.tobytes()


def draw_label(image_rgb: np.ndarray, text: str, *, scale: float | None = None) -> np.ndarray:
    """Burn ``text`` into the bottom-left corner of an RGB image (white on a dark box)."""
    out = image_rgb.copy()
    h, w = out.shape[:2]
    scale = scale or max(0.35, min(w, h) / 400)
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(2, int(th * 0.3))
    y1 = h - 1
    y0 = max(0, y1 - th - base - 2 * pad)
    cv2.rectangle(out, (0, y0), (min(w - 1, tw + 2 * pad), y1), (0, 0, 0), thickness=-1)
    cv2.putText(out, text, (pad, y1 - base - pad + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    return out
