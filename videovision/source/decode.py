"""What decoding leans on: the decode-ahead thread of :meth:`~videovision.source.VideoSource.iter_raw`
and the test for packets no other picture references (skipped, not decoded, when seeking forward).
"""

from __future__ import annotations

import queue
import threading
import warnings
from collections.abc import Callable, Iterator

import av

from .index import DecodeWarning


def _nal_length_size(extradata: bytes | None, codec: str) -> int | None:
    """NAL length-prefix size from avcC/hvcC extradata; None for Annex-B (start codes)."""
    if not extradata or extradata[0] != 1:
        return None
    if codec == "hevc":
        return (extradata[21] & 3) + 1 if len(extradata) > 22 else None
    return (extradata[4] & 3) + 1 if len(extradata) > 4 else None


def _nal_headers(data: bytes, length_size: int | None) -> Iterator[int]:
    """First byte(s) of each NAL unit in a packet, as an int of the first two bytes."""
    n = len(data)
    if length_size:
        i = 0
        while i + length_size < n:
            size = int.from_bytes(data[i : i + length_size], "big")
            start = i + length_size
            if size <= 0 or start + 1 >= n:
                return
            yield (data[start] << 8) | data[start + 1]
            i = start + size
    else:
        i = data.find(b"\x00\x00\x01")
        while i != -1 and i + 4 < n:
            yield (data[i + 3] << 8) | data[i + 4]
            i = data.find(b"\x00\x00\x01", i + 3)


def _disposable_test(stream) -> Callable[[av.Packet], bool] | None:
    """A test for packets no other picture references (H.264 nal_ref_idc 0, HEVC sub-layer
    non-reference), or None for codecs where it is unknown."""
    name = stream.codec_context.name
    length_size = _nal_length_size(stream.codec_context.extradata, name)
    if name == "h264":
        def test(packet) -> bool:
            refs = [(h >> 13) & 3 for h in _nal_headers(bytes(packet), length_size) if ((h >> 8) & 31) in (1, 5)]
            return bool(refs) and max(refs) == 0
        return test
    if name == "hevc":
        def test(packet) -> bool:
            kinds = [(h >> 9) & 63 for h in _nal_headers(bytes(packet), length_size)]
            vcl = [k for k in kinds if k < 32]
            return bool(vcl) and all(k <= 14 and k % 2 == 0 for k in vcl)
        return test
    return None


class _Prefetch:
    """Runs a frame iterator in a thread, ``depth`` items ahead, and hands its items over in order.

    FFmpeg's decoding and scaling release the GIL, so decoding the next frames overlaps the
    caller's work on the last one (2 cores: decode threads and analysis side by side). Warnings
    raised by the iterator travel with the items and are raised in the caller's thread.
    """

    _END = object()

    def __init__(self, produce: Callable[[Callable[[str], None]], Iterator], depth: int):
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._produce = produce
        self._thread = threading.Thread(target=self._run, name="videovision-decode", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _warn(self, message: str) -> None:
        self._put(("warn", message))

    def _run(self) -> None:
        try:
            for item in self._produce(self._warn):
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as err:  # handed to the caller, raised there
            self._put(("error", err))

    def __iter__(self) -> Iterator:
        while True:
            kind, value = self._queue.get()
            if kind == "item":
                yield value
            elif kind == "warn":
                warnings.warn(value, DecodeWarning, stacklevel=3)
            elif kind == "error":
                raise value
            else:
                return

    def close(self) -> None:
        """Stop the thread and wait for it (before the decoder it uses is closed)."""
        self._stop.set()
        if threading.current_thread() is self._thread:
            return
        while self._thread.is_alive():
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=0.05)
