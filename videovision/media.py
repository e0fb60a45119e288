"""The one place input media is opened for reading (PyAV): probing, decoding, clips, speech and
subtitles, and the check of a finished download all come through :func:`open_input`, so a missing,
special, empty, garbage or truncated file gives the same :class:`~videovision.errors.VideoOpenError`
(exit code 3) with the same words whichever command met it. Writers (the clip muxer, the audio
chunks) open their outputs themselves.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import av

from .errors import VideoOpenError
from .paths import path_text

__all__ = ["check_file", "ffmpeg_text", "known_stream_types", "open_input"]

_SEEN: dict[tuple[str, int, int], frozenset[str]] = {}
"""The stream types of each file opened in this process, by (path, size, mtime): a later
question that needs only those (has it audio? subtitles?) is answered without opening it again
(on a 4K file every opening decodes several frames to probe the video: ~0.2 s)."""
_SEEN_MAX = 256

_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_file(path: str | os.PathLike) -> int:
    """Size of a readable regular file; anything else is refused before it is opened (opening
    a named pipe for reading blocks until a writer appears).

    Raises:
        VideoOpenError: missing, unreadable, a directory or another non-regular file, or empty.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError as err:
        raise VideoOpenError(f"{path_text(path)}: no such file") from err
    except OSError as err:
        raise VideoOpenError(f"{path_text(path)}: cannot read the file ({err.strerror or err})") from err
    if stat.S_ISDIR(info.st_mode):
        raise VideoOpenError(f"{path_text(path)}: is a directory, not a video file")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "a special file")
        raise VideoOpenError(f"{path_text(path)}: is {kind}, not a video file (save the stream to a file first)")
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        raise VideoOpenError(f"{path_text(path)}: cannot read the file ({err.strerror or err})") from err
    if info.st_size == 0:
        raise VideoOpenError(f"{path_text(path)}: the file is empty (0 bytes)")
    return info.st_size


def ffmpeg_text(err: Exception) -> str:
    """First line of an FFmpeg error, or its type when it has no text."""
    text = str(err)
    return text.splitlines()[0] if text else type(err).__name__


def open_input(path: str | os.PathLike) -> av.container.InputContainer:
    """Open a media file for reading, after :func:`check_file`.

    Metadata that is not valid UTF-8 is dropped rather than refused (a stray byte in a title tag
    does not make a video unreadable).

    Raises:
        VideoOpenError: see :func:`check_file`; or FFmpeg cannot open it (not a media file, a
            truncated download, an empty or zero-duration video).
    """
    file = Path(path)
    check_file(file)
    try:
        container = av.open(str(file), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as err:
        text = str(err)
        if "end of file" in text.lower() or isinstance(err, EOFError):
            hint = "the file ends before any video data (an empty, zero-duration or truncated video)"
        elif "moov atom not found" in text.lower() or "invalid data" in text.lower():
            hint = (
                "not a video file FFmpeg can read, or a truncated download "
                "(an MP4 whose index is missing): check the file or download it again"
            )
        else:
            hint = f"FFmpeg cannot open it ({ffmpeg_text(err)})"
        raise VideoOpenError(f"{path_text(file)}: {hint}") from err
    except OSError as err:  # the file went away or became unreadable after the check
        raise VideoOpenError(f"{path_text(file)}: cannot read the file ({err.strerror or err})") from err
    key = _identity(file)
    if key is not None:
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN[key] = frozenset(stream.type for stream in container.streams)
    return container


def _identity(file: Path) -> tuple[str, int, int] | None:
    try:
        info = os.stat(file)
    except OSError:
        return None
    return os.path.realpath(file), info.st_size, info.st_mtime_ns


def known_stream_types(path: str | os.PathLike) -> frozenset[str] | None:
    """The stream types ("video", "audio", "subtitle", ...) of ``path`` when this process has
    opened it as it is now (same size and modification time), else None (open it to know)."""
    key = _identity(Path(path))
    return _SEEN.get(key) if key is not None else None
