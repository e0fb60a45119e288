"""Clips of moments: short MP4 files that play in browsers (issue 12, point 3).

``cut_clip(video, start, end, out)`` writes the frames with ``start <= time < end`` (seconds from the
video's first frame, as everywhere in videovision) to an MP4, in one of two ways:

* **copy**: the compressed packets are remuxed unchanged (video and audio, timestamps rebased to 0).
  Only possible when the first frame wanted is a keyframe (known from the packet index that
  :func:`videovision.source.open_video` reads) and the codecs may go in MP4; in ``auto`` mode only
  H.264 video with AAC/MP3 audio is copied, because that is what every browser plays. The end is
  moved to the nearest point where the packets taken in decode order are exactly the frames shown
  (with B-frames that is a mini-GOP boundary, at most a few frames away), so no reference picture is
  missing: the clip decodes without errors.
* **encode**: every other cut. The frames are decoded one at a time (``VideoSource.iter_raw``),
  turned upright (rotation applied in the YUV planes) at display aspect (sample aspect ratio applied),
  and encoded as H.264 yuv420p, with the audio re-encoded as AAC. Nothing copied is ever spliced to
  anything encoded: mixing the two inside one stream plays badly in browsers.

Either way the MP4 has its index first (``movflags +faststart``) so a browser can start playing at
once, and it is written to a temporary file in the output folder, then renamed over ``out``: a
failure never leaves a half-written clip.

``clip_window`` and ``clips_for_moments`` put a window around a cited time (``before`` seconds
before, ``after`` after, clipped to the video). A window's start may move up to
:data:`KEYFRAME_SLACK` seconds earlier onto a keyframe so the clip can be copied (lossless, and an
order of magnitude faster than encoding: numbers in docs/facts.md).

Overlapping windows are NOT merged: every cited moment gets its own clip, centred on it, so a
moment's link opens a clip that shows it a few seconds in; moments with the same window share one file.
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from .. import defaults
from ..errors import ConfigError, VideoOpenError
from ..files import atomic_output
from ..media import ffmpeg_text
from ..paths import path_text
from ..source import VideoSource, open_video
from ..timecode import file_stamp
from ..types import ClipMode
from . import copy as _copying
from . import encode as _encoding
from .common import (
    TIME_EPSILON,
    ClipMethod,
    _CopyFailed,
    _Cut,
    _end_time,
    _is_keyframe,
    _keyframe_times,
    _open,
    _secs,
)

CLIP_BEFORE = defaults.CLIP_BEFORE
CLIP_AFTER = defaults.CLIP_AFTER
KEYFRAME_SLACK = 1.0
"""Seconds a window's start may move earlier onto a keyframe, so that the clip is copied, not encoded."""

COPY_VIDEO_CODECS_AUTO = frozenset({"h264"})
"""Video codecs ``auto`` copies: the ones every browser plays in MP4."""
COPY_VIDEO_CODECS = frozenset({"h264", "hevc", "av1", "vp9", "mpeg4"})
"""Video codecs ``copy`` accepts: MP4 can carry them (browsers may not play HEVC)."""
COPY_AUDIO_CODECS_AUTO = frozenset({"aac", "mp3"})
COPY_AUDIO_CODECS = COPY_AUDIO_CODECS_AUTO | {"opus", "ac3", "eac3", "alac", "flac"}

OUTPUT_SUFFIXES = (".mp4", ".m4v", ".mov")


@dataclass(frozen=True)
class ClipResult:
    """A clip written to ``path``.

    ``start`` and ``end`` are the times actually covered, in seconds from the source video's first
    frame: ``start`` is the first frame's time, ``end`` the end of the last frame.
    """

    path: Path
    start: float
    end: float
    method: ClipMethod
    duration: float
    has_audio: bool

    def to_json(self) -> dict:
        return {
            "path": path_text(self.path),
            "start": round(self.start, 6),
            "end": round(self.end, 6),
            "method": self.method,
            "duration": round(self.duration, 6),
            "has_audio": self.has_audio,
        }


class _Cited(Protocol):
    time: float
    end: float | None



# ----------------------------------------------------------------------------- windows
def clip_window(t: float, before: float = CLIP_BEFORE, after: float = CLIP_AFTER, *, duration: float,
                end: float | None = None) -> tuple[float, float]:
    """The window ``(start, end)`` around time ``t`` (or the range ``t`` .. ``end``), clipped to the video.

    Raises:
        ConfigError: ``t`` outside the video (field ``at``), ``before``/``after`` negative or not finite.
    """
    for name, value in (("before", before), ("after", after)):
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name}: must be a number of seconds >= 0, got {value!r}", field=name)
    if not math.isfinite(t) or t < 0 or t > duration:  # the very end is a moment too (the last frame's end)
        raise ConfigError(f"at: {_secs(t)} is outside the video (0 to {_secs(duration)})", field="at")
    last = t if end is None else min(max(float(end), t), duration)
    start, stop = max(0.0, t - before), min(duration, last + after)
    if stop <= start:
        raise ConfigError("after: the window is empty; give --before or --after above 0", field="after")
    return start, stop


def keyframe_start(source: VideoSource, start: float, slack: float = KEYFRAME_SLACK) -> float:
    """The latest keyframe time in ``[start - slack, start]``, or ``start`` when there is none."""
    times = _keyframe_times(source)
    i = int(np.searchsorted(times, start + TIME_EPSILON, side="right")) - 1
    if i >= 0 and times[i] >= start - slack - TIME_EPSILON:
        return float(times[i])
    return start


# ----------------------------------------------------------------------------- public API
def cut_clip(video: str | os.PathLike | VideoSource, start: float, end: float, out: str | os.PathLike, *,
             mode: ClipMode = "auto") -> ClipResult:
    """Write the frames with ``start <= time < end`` of ``video`` to the MP4 file ``out``.

    Args:
        video: a path, or an opened :class:`VideoSource` (left open).
        start: seconds from the video's first frame.
        end: seconds from the video's first frame, after ``start``, at most the duration.
        out: the MP4 to write (``.mp4``, ``.m4v`` or ``.mov``); replaced if it exists.
        mode: ``auto`` copies when the first frame is a keyframe and the codecs play in browsers,
            else encodes; ``copy`` insists on copying; ``encode`` always encodes.

    Returns:
        A :class:`ClipResult` with the times actually covered.

    Raises:
        VideoOpenError: the video cannot be read.
        ConfigError: times outside the video or in the wrong order (fields ``start``, ``end``), an
            output that cannot be written (``output``), ``copy`` impossible (``mode``).
    """
    if mode not in ("auto", "copy", "encode"):
        raise ConfigError(f"mode: must be auto, copy or encode, got {mode!r}", field="mode")
    target = _check_output(Path(out), video)
    if isinstance(video, VideoSource):
        return _cut(video, start, end, target, mode)
    with open_video(video) as source:
        return _cut(source, start, end, target, mode)


def clip_at(video: str | os.PathLike | VideoSource, t: float, out: str | os.PathLike, *,
            before: float = CLIP_BEFORE, after: float = CLIP_AFTER, end: float | None = None,
            mode: ClipMode = "auto", keyframe_slack: float = KEYFRAME_SLACK) -> ClipResult:
    """The clip of a moment: ``before`` seconds before ``t`` to ``after`` seconds after it (or after
    ``end`` for a range), clipped to the video; the start may move up to ``keyframe_slack`` seconds
    earlier onto a keyframe so the clip is copied. ``videovision clip VIDEO --at T`` calls this.

    Raises:
        ConfigError: ``end`` not after ``t`` (field ``end``), a time outside the video, a bad output.
    """
    if end is not None and not end > t:
        raise ConfigError(f"end: must be after the moment ({_secs(t)}), got {_secs(end)}", field="end")
    if isinstance(video, VideoSource):
        return _clip_at(video, t, out, before, after, end, mode, keyframe_slack)
    target = _check_output(Path(out), video)
    with open_video(video) as source:
        return _clip_at(source, t, target, before, after, end, mode, keyframe_slack)


def clips_for_moments(video: str | os.PathLike | VideoSource, moments: Iterable[_Cited | float], out_dir: str | os.PathLike,
                      *, before: float = CLIP_BEFORE, after: float = CLIP_AFTER, mode: ClipMode = "auto",
                      keyframe_slack: float = KEYFRAME_SLACK) -> list[ClipResult]:
    """One clip per moment (a number, or anything with ``time`` and ``end``, e.g. ``Moment``), in ``out_dir``.

    Files are named by the cited time: ``clip-00h01m05.200s.mp4`` (``clip-<time>-<end>.mp4`` for a
    range). Overlapping windows are not merged; moments with the same window share one file.

    Returns:
        The clips in the order of ``moments`` (``result[i]`` is the clip of ``moments[i]``).

    Raises:
        ConfigError: a moment outside the video (field ``at``), ``out_dir`` not a writable folder
            (field ``clips``); see :func:`cut_clip` for the rest.
    """
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"clips: cannot create the folder {path_text(folder)} ({err.strerror or err})",
                          field="clips") from err
    cited = [(float(m), None) if isinstance(m, (int, float)) else (float(m.time), m.end) for m in moments]
    if isinstance(video, VideoSource):
        return _clips(video, cited, folder, before, after, mode, keyframe_slack)
    with open_video(video) as source:
        return _clips(source, cited, folder, before, after, mode, keyframe_slack)


def clip_name(t: float, end: float | None = None) -> str:
    """File name of a moment's clip: ``clip-00h01m05.200s.mp4`` (sortable, safe on every file system)."""
    tail = f"-{file_stamp(end)}" if end is not None and end > t else ""
    return f"clip-{file_stamp(t)}{tail}.mp4"


# ----------------------------------------------------------------------------- planning
def _clips(source: VideoSource, cited: Sequence[tuple[float, float | None]], folder: Path, before: float,
           after: float, mode: ClipMode, slack: float) -> list[ClipResult]:
    done: dict[tuple[float, float], ClipResult] = {}
    results: list[ClipResult] = []
    for t, end in cited:
        start, stop = _window(source, t, before, after, end, mode, slack)
        key = (round(start, 6), round(stop, 6))
        if key not in done:
            target = _check_output(folder / clip_name(t, end), source)
            done[key] = _cut(source, start, stop, target, mode)
        results.append(done[key])
    return results


def _clip_at(source: VideoSource, t: float, out: str | os.PathLike, before: float, after: float,
             end: float | None, mode: ClipMode, slack: float) -> ClipResult:
    target = _check_output(Path(out), source)
    start, stop = _window(source, t, before, after, end, mode, slack)
    return _cut(source, start, stop, target, mode)


def _window(source: VideoSource, t: float, before: float, after: float, end: float | None, mode: ClipMode,
            slack: float) -> tuple[float, float]:
    start, stop = clip_window(t, before, after, duration=source.info.duration, end=end)
    if mode != "encode" and slack > 0 and _copy_codecs_ok(source, mode):
        start = keyframe_start(source, start, slack)
    return start, stop


def _plan(source: VideoSource, start: float, end: float, mode: ClipMode) -> _Cut:
    duration = source.info.duration
    if not math.isfinite(start) or start < 0 or start >= duration:
        raise ConfigError(f"start: {_secs(start)} is outside the video (0 to {_secs(duration)})", field="start")
    if not math.isfinite(end) or end <= start:
        raise ConfigError(f"end: must be after the start ({_secs(start)}), got {_secs(end)}", field="end")
    if end > duration + TIME_EPSILON:
        raise ConfigError(f"end: {_secs(end)} is past the end of the video ({_secs(duration)})", field="end")
    first = source.index_at(start)
    count = len(source.frame_times)
    stop_at = source.index_at(end)
    stop = count if stop_at is None else stop_at
    if first is None or stop <= first:
        raise ConfigError(f"end: no frame starts between {_secs(start)} and {_secs(end)}", field="end")
    if mode == "encode":
        return _Cut(first, stop, "encode")
    keyframe = _is_keyframe(source, first)
    codecs_ok = _copy_codecs_ok(source, mode)
    if mode == "copy" and not codecs_ok:
        raise ConfigError(f"mode: cannot copy {source.info.codec} video{_audio_note(source)} into MP4; "
                          "use --mode encode", field="mode")
    if mode == "copy" and not keyframe:
        before = keyframe_start(source, start, slack=math.inf)
        raise ConfigError(f"mode: the frame at {_secs(source.frame_times[first])} is not a keyframe, so the clip "
                          f"cannot be copied (the keyframe before it is at {_secs(before)}); use --mode auto",
                          field="mode")
    return _Cut(first, stop, "copy" if keyframe and codecs_ok else "encode")


def _copy_codecs_ok(source: VideoSource, mode: ClipMode) -> bool:
    video_ok = COPY_VIDEO_CODECS if mode == "copy" else COPY_VIDEO_CODECS_AUTO
    audio_ok = COPY_AUDIO_CODECS if mode == "copy" else COPY_AUDIO_CODECS_AUTO
    audio = _audio_codec(source)
    return source.info.codec in video_ok and (audio is None or audio in audio_ok)


def _audio_note(source: VideoSource) -> str:
    audio = _audio_codec(source)
    return f" with {audio} audio" if audio else ""


_AUDIO_CODECS: weakref.WeakKeyDictionary[VideoSource, str | None] = weakref.WeakKeyDictionary()
"""Each opened source's audio codec (asked per clip; opening a long MP4 parses its whole index)."""


def _audio_codec(source: VideoSource) -> str | None:
    if not source.info.has_audio:
        return None
    if source not in _AUDIO_CODECS:
        with _open(source) as container:
            cc = container.streams.audio[0].codec_context
            _AUDIO_CODECS[source] = cc.name if cc is not None else "unknown"
    return _AUDIO_CODECS[source]


# ----------------------------------------------------------------------------- output file
def _check_output(out: Path, video: str | os.PathLike | VideoSource) -> Path:
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"output: {path_text(out)} must end in .mp4 (clips are MP4 files)", field="output")
    if out.is_dir():
        raise ConfigError(f"output: {path_text(out)} is a folder; give a file name ending in .mp4", field="output")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"output: the folder {path_text(folder)} does not exist", field="output")
    source_path = video.path if isinstance(video, VideoSource) else Path(os.fspath(video))
    try:
        same = out.exists() and os.path.samefile(out, source_path)
    except OSError:
        same = False
    if same:
        raise ConfigError(f"output: {path_text(out)} is the video itself; choose another file", field="output")
    return out


def _cut(source: VideoSource, start: float, end: float, out: Path, mode: ClipMode) -> ClipResult:
    cut = _plan(source, start, end, mode)
    started = False
    try:
        with atomic_output(out, suffix=".part") as tmp:  # the clip gets the mode of every other output
            started = True
            result = _write(source, cut, tmp, mode)
    except OSError as err:
        if started:
            raise
        raise ConfigError(f"output: cannot write in {path_text(out.parent)} ({err.strerror or err})",
                          field="output") from err
    return ClipResult(path=out, start=result[0], end=result[1], method=result[2],
                      duration=result[1] - result[0], has_audio=result[3])


def _write(source: VideoSource, cut: _Cut, tmp: Path, mode: ClipMode) -> tuple[float, float, ClipMethod, bool]:
    try:
        if cut.method == "copy":
            try:
                stop, audio = _copying.copy(source, cut, tmp)
                return float(source.frame_times[cut.first]), _end_time(source, stop), "copy", audio
            except _CopyFailed as err:
                if mode == "copy":
                    raise ConfigError(f"mode: the packets cannot be copied cleanly ({err}); use --mode auto",
                                      field="mode") from None
        audio = _encoding.encode(source, cut, tmp)
        return float(source.frame_times[cut.first]), _end_time(source, cut.stop), "encode", audio
    except OSError as err:  # before FFmpegError: PyAV's write errors (a full disk) are OSErrors too
        if isinstance(err, av.error.FFmpegError) and getattr(err, "filename", None) != str(tmp):
            raise VideoOpenError(f"{path_text(source.path)}: cannot make the clip ({ffmpeg_text(err)})") from err
        raise ConfigError(f"output: cannot write {path_text(tmp.parent)} ({err.strerror or err})",
                          field="output") from err
    except av.error.FFmpegError as err:
        raise VideoOpenError(f"{path_text(source.path)}: cannot make the clip ({ffmpeg_text(err)})") from err




__all__ = [
    "CLIP_AFTER",
    "CLIP_BEFORE",
    "KEYFRAME_SLACK",
    "ClipMode",
    "ClipResult",
    "clip_at",
    "clip_name",
    "clip_window",
    "clips_for_moments",
    "cut_clip",
    "keyframe_start",
]
