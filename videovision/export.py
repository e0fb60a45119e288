"""Write sampled frames to a folder: one JPEG per frame, contact sheets, and ``frames.json``.

``frames.json`` is a contract other tools read::

    {"video": {"path", "duration", "width", "height", "fps", "rotation", ...},
     "frames": [{"time", "index", "scene", "file", "width", "height"}, ...],   # time ascending
     "scenes": [{"index", "start", "end"}], "duplicates_dropped": N, "contact_sheets": [...]}

Frames are written as they arrive (nothing but small thumbnails is held) into a staging
folder; only a complete run moves them in, writes the JSON atomically and removes the files of
the previous run, so a failed or interrupted run leaves the folder as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import ConfigError
from .files import atomic_write_text, put_in_place
from .imagecodec import JPEG_QUALITY, draw_label, encode_image
from .timecode import file_stamp, format_time
from .types import SCHEMA_VERSION, Frame, Scene, VideoInfo

SHEET_COLUMNS = 6
SHEET_ROWS = 10
SHEET_THUMB_WIDTH = 256
MANIFEST = "frames.json"


@dataclass(frozen=True)
class ExportedFrame:
    time: float
    index: int
    scene: int | None
    file: str
    width: int
    height: int


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    frames: tuple[ExportedFrame, ...]
    contact_sheets: tuple[str, ...]
    manifest: Path
    duplicates_dropped: int = 0


class ContactSheet:
    """Grid pages of labelled thumbnails, written as each page fills."""

    def __init__(self, out_dir: Path, aspect: float):
        self.out_dir = out_dir
        self.thumb_w = SHEET_THUMB_WIDTH
        self.thumb_h = max(16, round(SHEET_THUMB_WIDTH / max(aspect, 0.1)))
        self.pending: list[np.ndarray] = []
        self.files: list[str] = []

    def add(self, frame: Frame) -> None:
        thumb = cv2.resize(frame.image, (self.thumb_w, self.thumb_h), interpolation=cv2.INTER_AREA)
        label = format_time(frame.time, precision=1)
        if frame.scene is not None:
            label += f"  #{frame.scene}"
        self.pending.append(draw_label(thumb, label, scale=0.5))
        if len(self.pending) == SHEET_COLUMNS * SHEET_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        cols = min(SHEET_COLUMNS, len(self.pending))
        rows = -(-len(self.pending) // cols)
        gap = 4
        sheet = np.full((rows * (self.thumb_h + gap) + gap, cols * (self.thumb_w + gap) + gap, 3), 32, np.uint8)
        for i, thumb in enumerate(self.pending):
            r, c = divmod(i, cols)
            y, x = gap + r * (self.thumb_h + gap), gap + c * (self.thumb_w + gap)
            sheet[y : y + self.thumb_h, x : x + self.thumb_w] = thumb
        name = "contact_sheet.jpg" if not self.files else f"contact_sheet_{len(self.files) + 1}.jpg"
        (self.out_dir / name).write_bytes(encode_image(sheet, "jpeg", 85))
        self.files.append(name)
        self.pending = []


def _prepare_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"--out {out_dir}: cannot create the directory ({err.strerror})") from err


def _previous_files(out_dir: Path) -> list[str]:
    """The files a previous run's manifest lists (removed once the new manifest is in place)."""
    try:
        previous = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        names = [f["file"] for f in previous.get("frames", [])] + list(previous.get("contact_sheets", []))
        return [Path(str(n)).name for n in names]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def export_frames(
    frames: Iterable[Frame],
    info: VideoInfo,
    out_dir: str | os.PathLike,
    *,
    scenes: Iterable[Scene] | None = None,
    extra: dict | Callable[[], dict] | None = None,
    quality: int = JPEG_QUALITY,
) -> ExportResult:
    """Write frames as JPEGs named by timestamp, contact sheets and ``frames.json``.

    Args:
        frames: frames in ascending time (consumed once, streamed).
        info: the video's info (written under ``"video"``).
        out_dir: destination folder (created if missing).
        scenes: a callable-free iterable of scenes read *after* the frames are consumed.
        extra: more top-level keys for the manifest (e.g. sampling options), or a callable
            returning them, called once the frames are consumed.
        quality: JPEG quality (1-100).

    Returns:
        An :class:`ExportResult`.

    Raises:
        ConfigError: the folder cannot be created or written.
    """
    out = Path(out_dir)
    _prepare_dir(out)
    previous = _previous_files(out)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".frames-", dir=out))
    except OSError as err:
        raise ConfigError(f"--out {out}: cannot write there ({err.strerror})") from err
    try:
        # Everything is written into a staging folder first; only a complete run replaces the
        # previous one, so a failed or interrupted run leaves the folder as it was.
        sheet = ContactSheet(staging, info.width / max(1, info.height))
        written: list[ExportedFrame] = []
        for frame in frames:
            name = f"frame_{file_stamp(frame.time)}.jpg"
            if (staging / name).exists():  # two frames with one time (damaged timestamps): keep both
                name = f"frame_{file_stamp(frame.time)}_{frame.index}.jpg"
            (staging / name).write_bytes(encode_image(frame.image, "jpeg", quality))
            written.append(ExportedFrame(frame.time, frame.index, frame.scene, name, frame.width, frame.height))
            sheet.add(frame)
        sheet.flush()
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "video": info.to_json(),
            "frames": [
                {"time": round(f.time, 6), "index": f.index, "scene": f.scene, "file": f.file, "width": f.width,
                 "height": f.height}
                for f in written
            ],
            "scenes": [{"index": s.index, "start": round(s.start, 6), "end": round(s.end, 6)} for s in (scenes or [])],
            "contact_sheets": sheet.files,
            **((extra() if callable(extra) else extra) or {}),
        }
        new_names = [f.file for f in written] + sheet.files
        for name in new_names:
            put_in_place(staging / name, out / name)
        path = out / MANIFEST
        atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")
        keep = set(new_names)
        for name in previous:
            old = out / name
            if name not in keep and old.is_file():
                old.unlink()
    except OSError as err:
        raise ConfigError(f"--out {out}: cannot write the frames ({err.strerror or err})") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(out, tuple(written), tuple(sheet.files), path)
