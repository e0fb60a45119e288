"""What the clip writers share: the cut, the packet index read in one place, opening files, and
the wording of times and errors (:mod:`videovision.clips`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import numpy as np

from ..media import open_input
from ..source import TIME_EPSILON as TIME_EPSILON  # the clip planner's slack is the source's
from ..source import VideoSource
from ..timecode import format_time

ClipMethod = Literal["copy", "encode"]
AUDIO_SEEK_MARGIN = 2.0
"""Seconds before the clip start the audio reader seeks to: containers interleave audio a little
ahead of or behind the video, and some (Matroska) index only video keyframes."""


@dataclass(frozen=True)
class _Cut:
    """Frames ``first <= index < stop`` of the source, and how to write them."""

    first: int
    stop: int
    method: ClipMethod


class _CopyFailed(Exception):
    """The packets cannot be copied cleanly (damaged or unusual stream): encode instead."""



# The packet index lives in VideoSource (docs: videovision/source/); these read it in one place.
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



def _open_output(tmp: Path) -> av.container.OutputContainer:
    return av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})


def _open(source: VideoSource) -> av.container.InputContainer:
    return open_input(source.path)


def _secs(value: float) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return repr(value)
    return f"{format_time(value)} ({value:.3f} s)"


def _seek_before(container, abs_start: float) -> None:
    target = max(0.0, abs_start - AUDIO_SEEK_MARGIN)
    try:
        container.seek(int(target * av.time_base), backward=True, any_frame=False)
    except av.error.FFmpegError:
        container.seek(0, backward=True, any_frame=False)
