"""Cache keys and content digests: what identifies a request, a frame set and a video file.

Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from datetime import datetime, timezone
from typing import Any

from ..errors import VideoOpenError

_MIB = 1024 * 1024
DIGEST_FULL_BELOW = 64 * _MIB
"""Files smaller than this are hashed completely (every byte)."""
DIGEST_EDGE_BYTES = 4 * _MIB
"""A sampled digest hashes this many bytes at the start and at the end of the file."""
DIGEST_BLOCK_BYTES = 64 * 1024
DIGEST_SAMPLE_BLOCKS = 64
"""A sampled digest also hashes this many evenly spaced blocks of DIGEST_BLOCK_BYTES."""

_READ_CHUNK = _MIB
_SAMPLED_TAG = b"videovision-sampled-digest-v1\0"

_SECRET_KEY_NAMES = frozenset(
    {
        "authorization", "proxyauthorization", "bearer", "password", "passwd", "secret", "clientsecret",
        "apisecret", "secretkey", "accesstoken", "refreshtoken", "authtoken", "sessiontoken", "cookie",
        "setcookie",
    }
)


def is_secret_key(key: object) -> bool:
    """True for dict keys that name a credential (``api_key``, ``Authorization`` ...)."""
    if not isinstance(key, str):
        return False
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return norm.endswith("apikey") or norm in _SECRET_KEY_NAMES


def strip_secrets(value: Any) -> Any:
    """Return a copy of a JSON-like value without API-key-like entries, at any depth.

    Keys such as ``api_key``, ``apiKey``, ``x-api-key``, ``Authorization`` and
    ``Proxy-Authorization`` (compared case- and punctuation-insensitively) are dropped.
    Token *counts* (``max_tokens`` ...) are kept.

    Args:
        value: a dict / list / scalar tree.

    Returns:
        The same tree without secret-named keys (tuples become lists).
    """
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items() if not is_secret_key(k)}
    if isinstance(value, (list, tuple)):
        return [strip_secrets(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, no NaN: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


OUTPUT_CAP_KEYS = frozenset({"max_completion_tokens", "max_tokens", "max_output_tokens"})
"""Request fields that only cap the reply's length: not part of a request's identity (a complete
reply stays valid when the cap rises; see :func:`request_key`)."""


def request_key(body: dict, *, endpoint: str) -> str:
    """The cache key of a chat request: SHA-256 of the endpoint and the body's canonical JSON.

    Canonical JSON sorts keys at every depth, so the key does not depend on dict ordering but
    changes with any model, message, image or parameter change. Left out: secret-named keys (they
    never change the answer) and the output-token cap (a reply that *finished* under a lower cap is
    the same reply under a higher one; a reply cut off by the cap is never stored).

    Args:
        body: the exact request body (model, messages, parameters).
        endpoint: the endpoint the request goes to (its base URL), so two servers offering a model
            of the same name never share answers.

    Returns:
        64 lowercase hex digits.

    Raises:
        TypeError: the body holds a value JSON cannot encode.
        ValueError: the body holds NaN or infinity.
    """
    clean = {k: v for k, v in strip_secrets(body).items() if k not in OUTPUT_CAP_KEYS}
    return sha256_hex(canonical_json({"endpoint": endpoint, "body": clean}).encode("utf-8"))


def frames_key(video_digest: str, params: dict) -> str:
    """The cache key of a frame set: the video's content digest + the sampling/packing options.

    Args:
        video_digest: :func:`file_digest` of the video.
        params: every option that changes which frames are taken or how they are encoded.

    Returns:
        64 lowercase hex digits.

    Raises:
        TypeError: ``params`` holds a value JSON cannot encode.
    """
    payload = {"kind": "frames", "v": 1, "video": video_digest, "params": params}
    return sha256_hex(canonical_json(payload).encode("utf-8"))


def new_run_id() -> str:
    """A new run id: UTC time (sortable) + 8 random hex digits, e.g. ``20240501T120000Z-1a2b3c4d``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def digest_ranges(size: int) -> list[tuple[int, int]]:
    """The (offset, length) byte ranges a sampled :func:`file_digest` reads.

    Files below :data:`DIGEST_FULL_BELOW` are read whole (one range). Larger files: the first
    and last :data:`DIGEST_EDGE_BYTES` and :data:`DIGEST_SAMPLE_BLOCKS` evenly spaced
    blocks of :data:`DIGEST_BLOCK_BYTES` in between (about 12 MiB whatever the size).

    Args:
        size: the file size in bytes.

    Returns:
        Non-overlapping ranges in file order.
    """
    if size < DIGEST_FULL_BELOW:
        return [(0, size)]
    ranges = [(0, DIGEST_EDGE_BYTES)]
    first = DIGEST_EDGE_BYTES
    last = size - DIGEST_EDGE_BYTES - DIGEST_BLOCK_BYTES
    steps = DIGEST_SAMPLE_BLOCKS - 1
    for i in range(DIGEST_SAMPLE_BLOCKS):
        ranges.append((first + (last - first) * i // steps, DIGEST_BLOCK_BYTES))
    ranges.append((size - DIGEST_EDGE_BYTES, DIGEST_EDGE_BYTES))
    return ranges


def file_digest(path: str | os.PathLike) -> str:
    """A SHA-256 content digest of a (video) file, fast for big files.

    Files below :data:`DIGEST_FULL_BELOW` (64 MiB): the plain SHA-256 of every byte (same as
    ``sha256sum``). Larger files: a *sampled* content hash — SHA-256 over a tag, the file size,
    and the ranges of :func:`digest_ranges`. It changes with the size, the container header and
    trailer and any sampled block, but it **can miss an edit that keeps the size and touches only
    bytes between the sampled blocks** — acceptable for video files, which are not edited in place.

    Args:
        path: the file.

    Returns:
        64 lowercase hex digits.

    Raises:
        VideoOpenError: the file cannot be read.
    """
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < DIGEST_FULL_BELOW:
                h = hashlib.sha256()
                while chunk := f.read(_READ_CHUNK):
                    h.update(chunk)
                return h.hexdigest()
            h = hashlib.sha256(_SAMPLED_TAG)
            h.update(size.to_bytes(8, "big"))
            for offset, length in digest_ranges(size):
                f.seek(offset)
                h.update(offset.to_bytes(8, "big"))
                h.update(f.read(length))
            return h.hexdigest()
    except OSError as err:
        raise VideoOpenError(f"cannot read {path}: {err.strerror or err}") from err
