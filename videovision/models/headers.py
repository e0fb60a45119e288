"""Image headers and data URLs: sizes read from PNG/JPEG/WEBP/GIF headers (no pixel decoding), and
the one place that builds and parses ``data:...;base64,...`` URLs.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

# ---------------------------------------------------------------------------------------------------
# Image sizes from headers (never decode pixels, never count base64 as text)
# ---------------------------------------------------------------------------------------------------

_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:                       # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker in (0xD9, 0xDA):               # end of image / start of scan before any frame header
            return None
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in _JPEG_SOF:
            if i + 9 > n:
                return None
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return (width, height) if width and height else None
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        w = int.from_bytes(data[26:28], "little") & 0x3FFF
        h = int.from_bytes(data[28:30], "little") & 0x3FFF
        return w, h
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG, JPEG, WEBP or GIF header, or None if not recognised or cut short.

    Only the header is read (for JPEG, the markers up to the frame header). Pixels are stored sizes:
    an EXIF orientation is not applied.

    Args:
        data: the file's bytes (a prefix is enough).

    Returns:
        (width, height), or None.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    return None


_DATA_URL_PREFIXES = (1 << 12, 1 << 16, 1 << 20)


def data_url_image_size(url: str) -> tuple[int, int] | None:
    """(width, height) of the image in a ``data:`` URL, decoding only as much base64 as the header needs.

    Args:
        url: a ``data:image/...;base64,...`` URL.

    Returns:
        (width, height), or None when it is not a data URL or the image header is not recognised.
    """
    comma = url.find(",", 0, 256)
    if not url.startswith("data:") or comma < 0:
        return None
    if not url[5:comma].endswith(";base64"):
        return image_size(unquote_to_bytes(url[comma + 1:]))
    start, length = comma + 1, len(url) - comma - 1
    for limit in (*_DATA_URL_PREFIXES, None):      # the header is near the start: decode a prefix first
        whole = limit is None or limit >= length
        try:
            data = binascii.a2b_base64(url[start:] if limit is None or whole else url[start:start + limit])  # limits: multiples of 4
        except binascii.Error:
            return None
        size = image_size(data)
        if size is not None or whole:
            return size
    return None



_DATA_URL_HEAD = re.compile(r"^data:(?P<mime>[^;,]*)(?:;[^;,]*)*;base64,", re.IGNORECASE)
DATA_URL_IN_TEXT = re.compile(r"data:[^\s'\"<>,]*,[^\s'\"<>)\]}]*", re.IGNORECASE)
"""A data URL anywhere inside free text (server messages, logs): what to elide."""


def data_url(mime: str, data: bytes) -> str:
    """A ``data:<mime>;base64,...`` URL of some bytes (how images travel in a request)."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def split_data_url(value: str) -> tuple[str, str] | None:
    """``(mime, base64 payload)`` of a base64 data URL, or None when ``value`` is not one.

    Args:
        value: any string.

    Returns:
        The MIME type (``application/octet-stream`` when empty) and the payload text, or None.
    """
    match = _DATA_URL_HEAD.match(value)
    if match is None:
        return None
    return match.group("mime") or "application/octet-stream", value[match.end():]
