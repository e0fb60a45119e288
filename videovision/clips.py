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

import heapq
import math
import os
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal, Protocol, cast

import av
import numpy as np

from . import defaults
from .errors import ConfigError, VideoOpenError
from .files import atomic_output
from .paths import path_text
from .source import VideoSource, _rotation_cw, open_video
from .timecode import file_stamp, format_time
from .types import ClipMode

ClipMethod = Literal["copy", "encode"]

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

VIDEO_ENCODERS = ("libx264", "libopenh264")
"""H.264 encoders tried in order (software ones: hardware encoders may be listed but absent)."""
X264_OPTIONS = {"preset": "veryfast", "crf": "20"}
"""Short clips of moments: quick to make, visually transparent (x264's CRF scale: 18-23 is good)."""
MAX_ENCODE_PIXELS = 3840 * 2160
"""Re-encoded clips are at most this many pixels (4K UHD; aspect kept): the largest H.264 picture
browsers commonly play, and what keeps the encoder's memory bounded (an 8K clip took 2.5 GB in
libx264's frame buffers; 4K about a quarter). A copied clip keeps the source's size."""
OPENH264_BIT_RATE = 4_000_000
AUDIO_BIT_RATE = 128_000
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)
"""Sample rates AAC carries; other sources are resampled to 48 kHz."""
AUDIO_SEEK_MARGIN = 2.0
"""Seconds before the clip start the audio reader seeks to: containers interleave audio a little
ahead of or behind the video, and some (Matroska) index only video keyframes."""
MAX_GROUP_PACKETS = 512
"""Packets a copy may hold before its frames line up again; more means a damaged or odd stream (then encode)."""
DTS_LOOKAHEAD = 32
"""Packets read before decoding timestamps are made up for a stream that has none (Matroska after a seek)."""
OUTPUT_SUFFIXES = (".mp4", ".m4v", ".mov")
TIME_EPSILON = 1e-6


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


@dataclass(frozen=True)
class _Cut:
    """Frames ``first <= index < stop`` of the source, and how to write them."""

    first: int
    stop: int
    method: ClipMethod


class _CopyFailed(Exception):
    """The packets cannot be copied cleanly (damaged or unusual stream): encode instead."""


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


# The packet index lives in VideoSource (docs: videovision/source.py); these read it in one place.
def _pts(source: VideoSource) -> np.ndarray:
    return source.frame_pts


def _keyframe_times(source: VideoSource) -> np.ndarray:
    return (np.asarray(source.keyframe_pts, dtype=np.int64) - source.first_pts) * float(source.time_base)


def _is_keyframe(source: VideoSource, index: int) -> bool:
    keys = source.keyframe_pts
    pts = int(_pts(source)[index])
    i = int(np.searchsorted(keys, pts))
    return i < len(keys) and int(keys[i]) == pts


def _end_time(source: VideoSource, stop: int) -> float:
    """Time (from the first frame) where frame ``stop`` starts; the duration past the last frame."""
    times = source.frame_times
    return float(times[stop]) if stop < len(times) else source.info.duration


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
                stop, audio = _copy(source, cut, tmp)
                return float(source.frame_times[cut.first]), _end_time(source, stop), "copy", audio
            except _CopyFailed as err:
                if mode == "copy":
                    raise ConfigError(f"mode: the packets cannot be copied cleanly ({err}); use --mode auto",
                                      field="mode") from None
        audio = _encode(source, cut, tmp)
        return float(source.frame_times[cut.first]), _end_time(source, cut.stop), "encode", audio
    except OSError as err:  # before FFmpegError: PyAV's write errors (a full disk) are OSErrors too
        if isinstance(err, av.error.FFmpegError) and getattr(err, "filename", None) != str(tmp):
            raise VideoOpenError(f"{path_text(source.path)}: cannot make the clip ({_first_line(err)})") from err
        raise ConfigError(f"output: cannot write {path_text(tmp.parent)} ({err.strerror or err})",
                          field="output") from err
    except av.error.FFmpegError as err:
        raise VideoOpenError(f"{path_text(source.path)}: cannot make the clip ({_first_line(err)})") from err


def _open_output(tmp: Path) -> av.container.OutputContainer:
    return av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})


def _open(source: VideoSource) -> av.container.InputContainer:
    try:
        return av.open(str(source.path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as err:
        raise VideoOpenError(f"{path_text(source.path)}: cannot read the video ({_first_line(err)})") from err


# ----------------------------------------------------------------------------- copy
def _copy(source: VideoSource, cut: _Cut, tmp: Path) -> tuple[int, bool]:
    """Remux the packets of frames ``cut.first`` .. (a clean end near ``cut.stop``); returns the
    end frame index used and whether audio was written."""
    start_pts = int(_pts(source)[cut.first])
    abs_start = start_pts * float(source.time_base)
    with _open(source) as vin, _open(source) as ain, _open_output(tmp) as out:
        vstream = vin.streams.video[0]
        ovideo = out.add_stream_from_template(vstream)  # carries the display matrix (docs/facts.md)
        audio_in = ain.streams.audio[0] if ain.streams.audio else None
        oaudio = out.add_stream_from_template(audio_in) if audio_in is not None else None
        audio = _audio_packets(ain, audio_in, abs_start) if audio_in is not None else iter(())
        pending_audio: av.Packet | None = None
        wrote_audio = False
        stop = cut.first
        vin.seek(start_pts, stream=vstream, backward=True, any_frame=False)
        for packets, stop in _clean_groups(source, vin, vstream, cut):
            end_abs = abs_start + _end_time(source, stop) - float(source.frame_times[cut.first])
            pending_audio, n = _mux_audio_until(out, oaudio, audio, pending_audio, end_abs, abs_start)
            wrote_audio |= n > 0
            for packet in packets:
                packet.pts = int(packet.pts or 0) - start_pts
                packet.dts = int(packet.dts) - start_pts if packet.dts is not None else packet.pts
                packet.stream = ovideo
                out.mux(packet)
        if stop == cut.first:
            raise _CopyFailed("no video packet at the start")
    return stop, wrote_audio


def _clean_groups(source: VideoSource, container, stream, cut: _Cut) -> Iterator[tuple[list[av.Packet], int]]:
    """Video packets from the keyframe at ``cut.first`` in decode order, in groups that end where
    the packets taken so far are exactly the frames ``cut.first .. stop - 1``; stops at the clean
    end nearest ``cut.stop``. Yields ``(packets, stop)``.

    Packets without a decoding timestamp (Matroska right after a seek) get one: the k-th packet's
    is the (k - delay)-th frame's presentation time, ``delay`` being the deepest reordering seen in
    the first :data:`DTS_LOOKAHEAD` packets (B-frames), so timestamps increase and never pass the
    presentation time.
    """
    pts_index = _pts(source)
    frames = pts_index[cut.first:]
    start_pts = int(pts_index[cut.first])
    started = retime = False
    group: list[tuple[av.Packet, int, int]] = []  # (packet, decode number, presentation number)
    ready: list[tuple[list[tuple[av.Packet, int, int]], int]] = []
    taken, high, previous = 0, -1, cut.first
    delay: int | None = None
    for packet in container.demux(stream):
        if packet.size == 0 or packet.is_discard:
            continue
        if packet.pts is None:
            raise _CopyFailed("a packet without a timestamp")
        pts = int(packet.pts)
        if not started:
            if pts != start_pts or not packet.is_keyframe:
                if pts > start_pts and packet.is_keyframe:
                    raise _CopyFailed("seeking missed the keyframe")
                continue
            started, retime = True, packet.dts is None
        if pts < start_pts:  # a leading picture of an open GOP: shown before the cut
            continue
        rank = int(np.searchsorted(pts_index, pts, side="left"))
        if rank >= len(pts_index) or int(pts_index[rank]) != pts:
            raise _CopyFailed("a packet the index does not know")
        group.append((packet, taken, rank - cut.first))
        taken += 1
        high = max(high, pts)
        stop = int(np.searchsorted(pts_index, high, side="left")) + 1
        if taken != stop - cut.first:
            if len(group) > MAX_GROUP_PACKETS:
                raise _CopyFailed("frames do not line up")
            continue
        done = stop >= cut.stop
        if not (done and previous > cut.first and cut.stop - previous < stop - cut.stop):
            ready.append((group, stop))  # else the previous clean end is nearer: this group is dropped
            previous = stop
        group = []
        if retime and delay is None and taken < DTS_LOOKAHEAD and not done:
            continue
        if retime:
            delay = _set_dts(ready, frames, delay)
        for packets, end in ready:
            yield [p for p, _, _ in packets], end
        ready = []
        if done:
            return
    if group:
        raise _CopyFailed("the stream ends with frames missing")
    if retime:
        _set_dts(ready, frames, delay)
    for packets, end in ready:
        yield [p for p, _, _ in packets], end


def _set_dts(groups: list[tuple[list[tuple[av.Packet, int, int]], int]], frames: np.ndarray, delay: int | None) -> int:
    """Decoding timestamps for packets ``(packet, decode number, presentation number)``; returns the delay used."""
    entries = [entry for packets, _ in groups for entry in packets]
    needed = max((k - r for _, k, r in entries), default=0)
    if delay is None:
        delay = max(0, needed)
    elif needed > delay:
        raise _CopyFailed("the B-frame reordering deepens mid-stream")
    step = int(frames[1] - frames[0]) if len(frames) > 1 else 1
    for packet, k, _ in entries:
        j = k - delay
        packet.dts = int(frames[j]) if j >= 0 else int(frames[0]) + j * step
    return delay


def _audio_packets(container, stream, abs_start: float) -> Iterator[tuple[float, av.Packet]]:
    """Audio packets starting at or after ``abs_start`` (container seconds), with their start time."""
    _seek_before(container, abs_start)
    tb = float(stream.time_base)
    for packet in container.demux(stream):
        if packet.pts is None or packet.size == 0:
            continue
        t = int(packet.pts) * tb
        if t >= abs_start - TIME_EPSILON:
            yield t, packet


def _mux_audio_until(out, ostream, packets: Iterator[tuple[float, av.Packet]], held: av.Packet | None,
                     end_abs: float, abs_start: float) -> tuple[av.Packet | None, int]:
    """Copy audio packets that start before ``end_abs``; returns the first one held back and the count."""
    if ostream is None:
        return None, 0
    written = 0
    while True:
        if held is None:
            nxt = next(packets, None)
            if nxt is None:
                return None, written
            held = nxt[1]
        tb = float(held.time_base)
        if int(held.pts or 0) * tb >= end_abs - TIME_EPSILON:
            return held, written
        offset = round(abs_start / tb)
        held.pts = int(held.pts or 0) - offset
        held.dts = int(held.dts) - offset if held.dts is not None else held.pts
        if held.pts >= 0:
            held.stream = ostream
            out.mux(held)
            written += 1
        held = None


def _seek_before(container, abs_start: float) -> None:
    target = max(0.0, abs_start - AUDIO_SEEK_MARGIN)
    try:
        container.seek(int(target * av.time_base), backward=True, any_frame=False)
    except av.error.FFmpegError:
        container.seek(0, backward=True, any_frame=False)


# ----------------------------------------------------------------------------- encode
def _encoder_name() -> str:
    for name in VIDEO_ENCODERS:
        try:
            av.codec.Codec(name, "w")
        except (ValueError, av.error.FFmpegError):
            continue
        return name
    raise ConfigError("mode: this PyAV build has no H.264 encoder (libx264); clips can only be copied "
                      "(a start on a keyframe, --mode copy)", field="mode")


def _even_display_size(source: VideoSource) -> tuple[int, int]:
    """The size a re-encoded clip is written at: the display size, even, scaled down (aspect kept)
    to at most ``MAX_ENCODE_PIXELS``."""
    info = source.info
    width, height = info.width, info.height
    if width * height > MAX_ENCODE_PIXELS:
        scale = math.sqrt(MAX_ENCODE_PIXELS / (width * height))
        width, height = math.floor(width * scale), math.floor(height * scale)
    return max(2, width - width % 2), max(2, height - height % 2)


def _encode(source: VideoSource, cut: _Cut, tmp: Path) -> bool:
    """Encode frames ``cut.first .. cut.stop - 1`` as H.264 (+ AAC); returns whether audio was written."""
    times = source.frame_times
    t0 = float(times[cut.first])
    t1 = _end_time(source, cut.stop)
    abs_start = int(_pts(source)[cut.first]) * float(source.time_base)
    width, height = _even_display_size(source)
    tb = source.time_base
    with _open_output(tmp) as out:
        encoder = _encoder_name()
        rate = Fraction(source.info.fps).limit_denominator(1001)
        vstream = cast(av.VideoStream, out.add_stream(encoder, rate=rate))
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = "yuv420p"
        vstream.time_base = tb
        vstream.codec_context.time_base = tb
        if encoder == "libx264":
            vstream.options = dict(X264_OPTIONS)
        else:
            vstream.codec_context.bit_rate = OPENH264_BIT_RATE
        astream = _audio_stream(out, source)
        items: list[Iterator[tuple[float, int, av.frame.Frame]]] = [_video_frames(source, t0, t1, width, height)]
        if astream is not None:
            items.append(_audio_frames(source, abs_start, abs_start + (t1 - t0), astream))
        wrote_audio = False
        for _, _, frame in heapq.merge(*items, key=lambda item: item[0]):
            if isinstance(frame, av.VideoFrame):
                out.mux(vstream.encode(frame))
            elif astream is not None and isinstance(frame, av.AudioFrame):
                wrote_audio = True
                out.mux(astream.encode(frame))
        out.mux(vstream.encode(None))
        if astream is not None:
            out.mux(astream.encode(None))
    return wrote_audio


def _video_frames(source: VideoSource, t0: float, t1: float, width: int, height: int
                  ) -> Iterator[tuple[float, int, av.VideoFrame]]:
    tb = float(source.time_base)
    last = -1
    for raw in source.iter_raw(t0, t1):
        frame = _upright(raw.frame, _rotation_cw(raw.frame.rotation) or source.info.rotation,
                         (source.sample_aspect_ratio.numerator, source.sample_aspect_ratio.denominator), width, height)
        pts = round((raw.time - t0) / tb)
        if pts <= last:
            continue
        last = pts
        frame.pts = pts
        frame.time_base = source.time_base
        frame.pict_type = av.video.frame.PictureType.NONE  # a decoded frame's type would force the encoder's
        yield pts * tb, 0, frame


def _upright(frame: av.VideoFrame, rotation: int, sar: tuple[int, int], width: int, height: int) -> av.VideoFrame:
    """``frame`` as 8-bit yuv420p, at display aspect, turned upright, ``width`` x ``height``.

    Scaling happens before rotation (in the stored orientation), rotation on the YUV planes (as
    :meth:`VideoSource.to_image` does on RGB): no round trip through RGB.
    """
    turned = rotation in (90, 270)
    pre_w, pre_h = (height, width) if turned else (width, height)
    if frame.format.name != "yuv420p" or (frame.width, frame.height) != (pre_w, pre_h):
        frame = frame.reformat(width=pre_w, height=pre_h, format="yuv420p", interpolation="BICUBIC")
    if not rotation:
        return frame
    planes = frame.to_ndarray()
    luma = planes[:pre_h]
    chroma = planes[pre_h:].ravel()
    quarter = (pre_h // 2) * (pre_w // 2)
    u = chroma[:quarter].reshape(pre_h // 2, pre_w // 2)
    v = chroma[quarter: 2 * quarter].reshape(pre_h // 2, pre_w // 2)
    k = -rotation // 90  # np.rot90 turns counter-clockwise; rotation is clockwise
    stacked = np.concatenate([np.rot90(p, k).ravel() for p in (luma, u, v)]).reshape(-1, width)
    return av.VideoFrame.from_ndarray(stacked, format="yuv420p")


def _audio_stream(out: av.container.OutputContainer, source: VideoSource) -> av.AudioStream | None:
    """An AAC stream for the source's first audio stream (mono or stereo), or None without audio."""
    if not source.info.has_audio:
        return None
    with _open(source) as container:
        cc = container.streams.audio[0].codec_context
        if cc is None or not cc.sample_rate:
            return None
        rate = cc.sample_rate if cc.sample_rate in AAC_RATES else 48000
        layout = "mono" if cc.layout.nb_channels == 1 else "stereo"
    stream = out.add_stream("aac", rate=rate)
    stream.layout = layout
    stream.codec_context.bit_rate = AUDIO_BIT_RATE
    return stream


def _audio_frames(source: VideoSource, abs_start: float, abs_end: float, ostream
                  ) -> Iterator[tuple[float, int, av.AudioFrame]]:
    """Decoded audio cut to ``[abs_start, abs_end)`` (container seconds), resampled for ``ostream``,
    with timestamps from 0 at ``abs_start``; a damaged packet is skipped."""
    rate = ostream.codec_context.sample_rate
    layout = ostream.layout.name
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    position = 0
    with _open(source) as container:
        stream = container.streams.audio[0]
        _seek_before(container, abs_start)
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                continue
            for frame in decoded:
                if frame.pts is None:
                    continue
                begin = float(frame.pts * (frame.time_base or Fraction(1, frame.sample_rate)))
                if begin >= abs_end:
                    return
                if begin + frame.samples / frame.sample_rate <= abs_start:
                    continue
                for resampled in resampler.resample(frame):
                    trimmed = _trim(resampled, abs_start, abs_end, rate, position)
                    if trimmed is not None:
                        position = int(trimmed.pts or 0) + trimmed.samples
                        yield (position - trimmed.samples) / rate, 1, trimmed
        for resampled in resampler.resample(None):  # the resampler's last samples
            trimmed = _trim(resampled, abs_start, abs_end, rate, position)
            if trimmed is not None:
                position = int(trimmed.pts or 0) + trimmed.samples
                yield (position - trimmed.samples) / rate, 1, trimmed


def _trim(frame: av.AudioFrame, abs_start: float, abs_end: float, rate: int, position: int) -> av.AudioFrame | None:
    """The samples of ``frame`` inside ``[abs_start, abs_end)``, as a frame timed from ``abs_start``
    (never overlapping ``position``, the end of the previous frame)."""
    if frame.pts is None:
        return None
    begin = float(frame.pts * (frame.time_base or Fraction(1, rate)))
    offset = round((begin - abs_start) * rate)
    first = max(0, -offset, position - offset)
    last = min(frame.samples, round((abs_end - abs_start) * rate) - offset)
    if last <= first:
        return None
    samples = frame.to_ndarray()[:, first:last]
    trimmed = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=frame.layout.name)
    trimmed.sample_rate = rate
    trimmed.pts = offset + first
    trimmed.time_base = Fraction(1, rate)
    return trimmed


# ----------------------------------------------------------------------------- text
def _secs(value: float) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return repr(value)
    return f"{format_time(value)} ({value:.3f} s)"


def _first_line(err: Exception) -> str:
    text = str(err)
    return text.splitlines()[0] if text else type(err).__name__


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
