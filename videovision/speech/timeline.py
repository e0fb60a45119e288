"""Where zero is: every speech time is seconds from the video's first frame (files are opened by
:func:`videovision.media.open_input`, here also ``open_media``).

A container's streams each start somewhere on the container's timeline (audio may begin before or
after the first video frame; an MP4 edit list or a transport stream may start far from 0). The
origin of the videovision timeline is the first video frame's presentation time, the same origin
``VideoInfo.start_time`` records; for an audio-only file it is the first audio sample.
"""

from __future__ import annotations

import av

from ..media import open_input as open_media  # the one opener, by the name audio.py knows it

__all__ = ["container_start", "open_media", "stream_start", "timeline_origin"]

_ORIGIN_PROBE_PACKETS = 64
"""Video packets read to find the smallest timestamp when the stream declares no start time."""


def stream_start(stream: av.stream.Stream) -> float | None:
    """A stream's declared first timestamp in seconds on the container timeline (None if unknown)."""
    if stream.start_time is None or stream.time_base is None:
        return None
    return float(stream.start_time * stream.time_base)


def container_start(container: av.container.InputContainer) -> float:
    """The container's start time (the earliest stream start), seconds; 0 when unknown.

    Players show external subtitles relative to this time.
    """
    start = container.start_time
    return float(start) / av.time_base if start is not None else 0.0


def timeline_origin(container: av.container.InputContainer) -> float:
    """Container time (seconds) of the first video frame, or of the first audio sample when there
    is no video; 0 when neither says.

    Args:
        container: an open input container (its read position is restored to the start).

    Returns:
        Seconds to subtract from a container time to get a videovision time.
    """
    streams = container.streams.video or container.streams.audio
    if not streams:
        return container_start(container)
    stream = streams[0]
    declared = stream_start(stream)
    if declared is not None:
        return declared
    smallest: int | None = None
    try:
        for count, packet in enumerate(container.demux(stream)):
            if packet.pts is not None and (smallest is None or packet.pts < smallest):
                smallest = packet.pts
            if count >= _ORIGIN_PROBE_PACKETS:
                break
    except av.error.FFmpegError:
        pass
    finally:
        container.seek(0, backward=True, any_frame=False)
    if smallest is None or stream.time_base is None:
        return container_start(container)
    return float(smallest * stream.time_base)
