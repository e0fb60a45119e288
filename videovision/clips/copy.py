"""Clips by stream copy: the compressed packets remuxed unchanged, ending where the packets taken in
decode order are exactly the frames shown (:mod:`videovision.clips` chooses when)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from ..source import VideoSource
from .common import TIME_EPSILON, _CopyFailed, _Cut, _end_time, _open, _open_output, _pts, _seek_before

MAX_GROUP_PACKETS = 512
"""Packets a copy may hold before its frames line up again; more means a damaged or odd stream (then encode)."""
DTS_LOOKAHEAD = 32
"""Packets read before decoding timestamps are made up for a stream that has none (Matroska after a seek)."""


def copy(source: VideoSource, cut: _Cut, tmp: Path) -> tuple[int, bool]:
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



