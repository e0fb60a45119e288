"""Videos given as ``http(s)://`` URLs: fetched once into the cache, then read like local files.

    fetch(url) ──HEAD (ETag, Last-Modified, size)──▶ <cache dir>/remote/<sha256>.<ext>

The file is downloaded in chunks (memory stays bounded), into a ``.part`` file that a later run
resumes with a ``Range`` request when the server allows it (only from a ``206`` whose
``Content-Range`` starts where the file ends; anything else starts again from byte 0); a complete
download is reused as long as the server reports the same ``ETag`` / ``Last-Modified`` / size (the
cache key). A download is complete only when its length is known and matched, or, with no length
given (a chunked body), when the body ended cleanly and the file opens as a video with all its
packets; nothing else is renamed to the final name. Reads stall out after ``DOWNLOAD_STALL``
seconds; a download is capped by ``max_download`` and by the cache disk's free space. A server
refusing ``HEAD`` (presigned S3 URLs) is asked with ``GET`` instead; ``user:password@`` in a URL is
sent as ``Authorization: Basic`` and shown nowhere. Why whole: the
packet index (exact timestamps, keyframes) reads every packet of the file, which over HTTP would
fetch it all anyway, and decoding at several places then costs no further traffic.
Only the standard library is used (``urllib``).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import logging
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import defaults
from .errors import CacheError, ConfigError, VideoOpenError
from .files import put_in_place
from .redact import display_url, split_url

log = logging.getLogger(__name__)

CHUNK = 1 << 20
"""Bytes read and written at a time."""
TIMEOUT = 60.0
"""Seconds a connection may stay silent (the HEAD request; downloads use ``DOWNLOAD_STALL``)."""
STALL_BYTES = 64 * 1024
"""A download that receives fewer bytes than this in ``DOWNLOAD_STALL`` seconds is stalled (a trickle)."""
_REFUSED_HEAD = (403, 405, 501)
"""HEAD answers that mean "ask with GET" (presigned S3 URLs are signed for GET only)."""
_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_url(text: object) -> bool:
    """True for an ``http://`` or ``https://`` URL (anything else is a local path)."""
    return isinstance(text, str) and bool(_URL.match(text))


@dataclass(frozen=True)
class Remote:
    """What the server says about a URL before it is downloaded."""

    url: str
    size: int | None
    validator: str
    """``ETag``, else ``Last-Modified``, else "" (then the URL alone is the key)."""
    ranges: bool
    page: bool = False
    """The URL serves a web page (``text/html``), not a video file: a site such as YouTube."""


def checked(url: str) -> tuple[str, str | None]:
    """The URL to request, without its user info, and the ``Authorization: Basic`` value that user
    info makes (``http://user:pass@host/...``, as curl sends it; None without).

    Raises:
        ConfigError: the URL is malformed (a port above 65535 or not a number, an unclosed ``[``
            IPv6 host, no host); the message never shows its user info or query.
    """
    parts = split_url(url)
    if parts is None or not parts.hostname:
        scheme = url.split(":", 1)[0].lower()
        netloc = url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[2]
        why = ("an IPv6 host is written in brackets, both of them: [::1]" if "[" in netloc or "]" in netloc
               else "no host" if parts is not None or not netloc
               else "the port must be a number from 0 to 65535")
        raise ConfigError(f"VIDEO {scheme}://…: not a valid URL ({why}); give http(s)://host[:port]/path")
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    token = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}".encode()
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), "Basic " + base64.b64encode(token).decode("ascii")


def _request(url: str, method: str = "GET", headers: dict[str, str] | None = None, timeout: float = TIMEOUT):
    target, auth = checked(url)
    request = urllib.request.Request(target, method=method, headers={"User-Agent": "videovision", **(headers or {})})
    if auth:  # not carried over a redirect to another server
        request.add_unredirected_header("Authorization", auth)
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        raise _Refused(f"{_shown(url)}: the server answered {err.code} {err.reason}", err.code) from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise VideoOpenError(f"{_shown(url)}: cannot be reached ({_no_secrets(str(reason), url)})") from None
    except (http.client.HTTPException, ValueError) as err:  # InvalidURL and the like: still one line
        raise VideoOpenError(f"{_shown(url)}: cannot be read ({_no_secrets(str(err), url)})") from None


def _no_secrets(text: str, url: str) -> str:
    """``text`` without the URL's password or query (an error message may quote them)."""
    parts = split_url(url)
    for secret in ((parts.password, parts.query) if parts is not None else ()):
        if secret:
            text = text.replace(secret, "***").replace(urllib.parse.unquote(secret), "***")
    return text


class _Refused(VideoOpenError):
    """The server answered an HTTP error status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def _keyed(url: str) -> str:
    """The URL as part of the cache key: its password left out (a hash of it could be guessed back)."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=userinfo.partition(":")[0] + "@" + host))


def _shown(url: str) -> str:
    """The URL without credentials or query (which may hold tokens), for messages."""
    return display_url(url)


def _remote(url: str, headers) -> Remote:
    size = headers.get("Content-Length")
    validator = headers.get("ETag") or headers.get("Last-Modified") or ""
    return Remote(url, int(size) if size and size.isdigit() else None, validator,
                  headers.get("Accept-Ranges", "").lower() == "bytes",
                  headers.get("Content-Type", "").split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml"))


def describe(url: str) -> Remote:
    """HEAD the URL: its size, validator and whether it serves byte ranges.

    Raises:
        VideoOpenError: the server cannot be reached or refuses.
    """
    with _request(url, "HEAD") as reply:
        return _remote(url, reply.headers)


def local_path(remote: Remote, cache_dir: Path) -> Path:
    """Where the download of ``remote`` lives: a folder named by the URL, the validator and the size,
    holding the file under the URL's own name (``remote/<key>/talk.mp4``), so the video keeps its
    name wherever a file name is shown (plans, the run log, reports)."""
    from .paths import safe_name
    from .redact import url_name

    key = hashlib.sha256(f"{_keyed(remote.url)}\n{remote.validator}\n{remote.size}".encode()).hexdigest()[:32]
    suffix = Path(urllib.parse.urlsplit(remote.url).path).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".video"
    name = safe_name(url_name(remote.url), max_bytes=120)
    name = name if name.lower().endswith(suffix) else name + suffix
    return cache_dir / "remote" / key / name


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4, "tib": 1024**4}


def parse_size(text: str) -> int:
    """``"800000"``, ``"500M"``, ``"2GB"``, ``"1.5GiB"`` as bytes (K/M/G/T are powers of 1000, KiB... of 1024).

    Raises:
        ValueError: not a positive size.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*", text)
    unit = match and _UNITS.get(match[2].lower())
    size = int(float(match[1]) * unit) if match and unit else 0
    if size < 1:
        raise ValueError(f"not a size: {text!r} (examples: 800000, 500M, 2G, 1.5GiB)")
    return size


def _setting(value, env: str, default, parse, what: str):
    """A download setting: the argument, else the environment variable ``env``, else the default."""
    if value is not None:
        return value
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    try:
        return parse(text)
    except ValueError:
        raise ConfigError(f"{env}={text!r} is not {what}") from None


def _seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(text)
    return seconds


def _amount(n: float) -> str:
    for unit, scale in (("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def fetch(url: str, cache_dir: str | os.PathLike, *, max_download: int | None = None,
          stall: float | None = None) -> Path:
    """The video at ``url`` as a local file in the cache (downloaded, or resumed, when needed).

    Args:
        url: an ``http(s)://`` URL of a video file (``user:password@`` is sent as Basic auth).
        cache_dir: the cache directory (downloads go to its ``remote/`` folder).
        max_download: most bytes one download may have (default ``VIDEOVISION_MAX_DOWNLOAD``, else no
            fixed cap); whatever the cap, a download must fit the cache disk's free space minus
            ``defaults.DOWNLOAD_SPARE``.
        stall: seconds a read may bring nothing, or under 64 KiB (default ``VIDEOVISION_DOWNLOAD_STALL``,
            else ``defaults.DOWNLOAD_STALL``).

    Returns:
        The local file, complete (its length matched, or it opens as a video with all its packets).

    Raises:
        VideoOpenError: the server cannot be reached, refuses, stalls, sends too much, or the download
            ends short or broken (what arrived stays a ``.part`` file the next run resumes).
        CacheError: the cache disk has no room for the download.
        ConfigError: the URL is malformed, or a malformed ``VIDEOVISION_MAX_DOWNLOAD`` /
            ``VIDEOVISION_DOWNLOAD_STALL``.
    """
    checked(url)
    cap = _setting(max_download, "VIDEOVISION_MAX_DOWNLOAD", defaults.MAX_DOWNLOAD, parse_size, "a size")
    wait = _setting(stall, "VIDEOVISION_DOWNLOAD_STALL", defaults.DOWNLOAD_STALL, _seconds, "a number of seconds")
    reply = None
    try:
        try:
            with _request(url, "HEAD", timeout=wait) as head:
                remote = _remote(url, head.headers)
        except _Refused as err:
            if err.status not in _REFUSED_HEAD:
                raise
            log.info("%s: HEAD refused (%s); asking with GET", _shown(url), err.status)
            reply = _request(url, timeout=wait)  # the headers now, the body below on the same request
            remote = _remote(url, reply.headers)
        if remote.page:
            if reply is not None:
                reply.close()
            return _from_page(remote, Path(cache_dir))
        target = local_path(remote, Path(cache_dir))
        if target.is_file():
            if (remote.size is None or target.stat().st_size == remote.size) and _opens(target):
                return target
            target.unlink(missing_ok=True)
            log.warning("%s: the downloaded copy is broken; downloading it again", _shown(url))
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        have = part.stat().st_size if part.is_file() and remote.ranges else 0
        if remote.size is not None and have >= remote.size:
            have = 0  # complete but never verified, or longer than the file: start again
        _check_room(url, remote.size, have, cap, target.parent)
        if have and reply is not None:
            reply.close()  # resume with a Range request instead
            reply = None
        if reply is None:
            headers = {"Range": f"bytes={have}-"} if have else {}
            if remote.validator and have:
                headers["If-Range"] = remote.validator
            reply = _request(url, headers=headers, timeout=wait)
        start, total = _answered(reply)
        if start not in (0, have):  # a 206 starting elsewhere: ask for the whole file
            reply.close()
            reply = _request(url, timeout=wait)
            start, total = _answered(reply)
            if start:
                raise VideoOpenError(f"{_shown(url)}: the server sends part of the file when asked for all of it")
        if start == 0 and have:
            log.info("%s: the server did not resume; downloading from the start", _shown(url))
        total = total if total is not None else remote.size
        _check_room(url, total, start, cap, target.parent)
        clean = _download(reply, part, start, total, cap, wait, url)
    finally:
        if reply is not None:
            reply.close()
    got = part.stat().st_size
    if total is not None:
        if got != total:
            if got > total:
                part.unlink(missing_ok=True)
            raise VideoOpenError(f"{_shown(url)}: the download ended after {got:,} of {total:,} bytes "
                                 "(run again to resume)")
    elif not clean:
        raise VideoOpenError(f"{_shown(url)}: the download was cut after {got:,} bytes, its length unknown "
                             "(run again to resume)")
    elif not _opens(part, every_packet=True):
        raise VideoOpenError(f"{_shown(url)}: the download ended after {got:,} bytes without a length given, "
                             "and what arrived is not a whole video (run again to resume)")
    put_in_place(part, target)
    return target


def _answered(reply) -> tuple[int, int | None]:
    """Where the reply's body starts in the file, and the file's whole length when it says."""
    length = reply.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if reply.status != 206:
        return 0, length
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", reply.headers.get("Content-Range", ""))
    if not match:
        return -1, None  # a part, but not saying which: not usable
    return int(match[1]), None if match[3] == "*" else int(match[3])


def _check_room(url: str, total: int | None, have: int, cap: int | None, folder: Path) -> None:
    """Refuse a declared length over the cap or over the cache disk's free space (minus the spare)."""
    if total is None:
        return
    if cap is not None and total > cap:
        raise VideoOpenError(f"{_shown(url)}: the video is {_amount(total)} ({total:,} bytes), over the download "
                             f"cap of {_amount(cap)} (--max-download)")
    room = _room(folder)
    if total - have > room:
        raise CacheError(f"{_shown(url)}: the video is {_amount(total)} ({total:,} bytes) but the cache disk has room "
                         f"for {_amount(max(room, 0))} (keeping {_amount(defaults.DOWNLOAD_SPARE)} free): free some "
                         "space or use --cache-dir on another disk")


def _room(folder: Path) -> int:
    """Bytes a download may still write in ``folder``: the disk's free space minus the spare."""
    folder.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(folder).free - defaults.DOWNLOAD_SPARE


def _open_part(path: Path, mode: str) -> IO[bytes]:
    return open(path, mode)  # closed by the caller


def _download(reply, part: Path, start: int, total: int | None, cap: int | None, wait: float, url: str) -> bool:
    """Stream the body into ``part`` from byte ``start``; True when it ended cleanly (False: cut).

    Raises on a stall, on passing the cap or the disk's room (the partial file is then removed), and
    on a write error (the disk filled up: the partial file is removed).
    """
    room = _room(part.parent)
    got = start
    window, window_bytes = time.monotonic(), 0
    try:
        with _open_part(part, "r+b" if start and part.is_file() else "wb") as out:
            out.seek(start)
            out.truncate()
            while True:
                try:
                    chunk = reply.read1(CHUNK)
                except TimeoutError:
                    raise _stalled(url, got, f"no data for {wait:g} s") from None
                except (http.client.HTTPException, OSError):
                    return False  # a connection cut mid-body: what arrived is kept for the next run
                if not chunk:
                    return True
                got += len(chunk)
                if cap is not None and got > cap:
                    raise _over(part, VideoOpenError(
                        f"{_shown(url)}: the download passed the cap of {_amount(cap)} (--max-download) and was "
                        "stopped"))
                if got - start > room:
                    raise _over(part, CacheError(
                        f"{_shown(url)}: the download passed the cache disk's free space (keeping "
                        f"{_amount(defaults.DOWNLOAD_SPARE)} free) after {got:,} bytes and was stopped"))
                out.write(chunk)
                window_bytes += len(chunk)
                now = time.monotonic()
                if now - window >= wait:
                    if window_bytes < STALL_BYTES and got != total:
                        raise _stalled(url, got, f"under {STALL_BYTES // 1024} KiB in {now - window:.3g} s")
                    window, window_bytes = now, 0
    except OSError as err:  # writing: the disk filled up, or the cache is not writable
        part.unlink(missing_ok=True)
        raise CacheError(f"{_shown(url)}: cannot write the download into {part.parent} "
                         f"({err.strerror or err}); the partial file is removed") from None


def _stalled(url: str, got: int, how: str) -> VideoOpenError:
    return VideoOpenError(f"{_shown(url)}: the download stalled after {got:,} bytes ({how}; run again to resume; "
                          "VIDEOVISION_DOWNLOAD_STALL sets the seconds)")


def _over(part: Path, err: Exception) -> Exception:
    part.unlink(missing_ok=True)
    return err


def _opens(path: Path, every_packet: bool = False) -> bool:
    """True when ``path`` opens as a video (or audio) file; ``every_packet``: and its packets are all there
    (as many as the container's index counts, when it counts them)."""
    from .media import open_input  # PyAV loads only when a download is checked

    try:
        with open_input(path) as container:
            streams = container.streams
            stream = streams.video[0] if streams.video else streams.audio[0] if streams.audio else None
            if stream is None:
                return False
            if not every_packet:
                return True
            count = sum(1 for packet in container.demux(stream) if packet.size)
            return not stream.frames or count >= stream.frames
    except Exception:  # any FFmpeg error (or an odd file PyAV rejects): not a video
        return False


def _from_page(remote: Remote, cache_dir: Path) -> Path:
    """A web page's video through yt-dlp (the optional extra ``videovision[yt-dlp]``), downloaded once
    into the cache. Kept thin on purpose: yt-dlp does the site-specific work (not testable offline)."""
    try:
        import yt_dlp  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise VideoOpenError(f"{_shown(remote.url)} is a web page, not a video file: pip install "
                             "'videovision[yt-dlp]' to read videos from sites such as YouTube, or give "
                             "the video file's own URL") from None
    folder = cache_dir / "remote" / hashlib.sha256(_keyed(remote.url).encode()).hexdigest()[:32]
    done = sorted(p for p in folder.glob("video.*") if not p.name.endswith((".part", ".ytdl")))
    if done:
        return done[0]
    options = {"outtmpl": str(folder / "video.%(ext)s"), "format": "bv*[ext=mp4]+ba[ext=m4a]/b[ext=mp4]/bv*+ba/b",
               "quiet": True, "no_warnings": True, "noprogress": True}
    try:
        with yt_dlp.YoutubeDL(options) as downloader:
            downloader.download([remote.url])
    except Exception as err:  # yt-dlp's errors are many and site-specific: one line
        said = str(err).replace(remote.url, _shown(remote.url))  # its messages may quote the URL, tokens and all
        raise VideoOpenError(f"{_shown(remote.url)}: yt-dlp could not fetch the video ({said})") from None
    done = sorted(p for p in folder.glob("video.*") if not p.name.endswith((".part", ".ytdl")))
    if not done:
        raise VideoOpenError(f"{_shown(remote.url)}: yt-dlp wrote no video")
    return done[0]
