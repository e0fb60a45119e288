"""Videos given as ``http(s)://`` URLs: fetched once into the cache, then read like local files.

    fetch(url) ──HEAD (ETag, Last-Modified, size)──▶ <cache dir>/remote/<sha256>.<ext>

The file is downloaded in chunks (memory stays bounded), into a ``.part`` file that a later run
resumes with a ``Range`` request when the server allows it; a complete download is reused as long
as the server reports the same ``ETag`` / ``Last-Modified`` / size (the cache key). Why whole: the
packet index (exact timestamps, keyframes) reads every packet of the file, which over HTTP would
fetch it all anyway, and decoding at several places then costs no further traffic.
Only the standard library is used (``urllib``).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, VideoOpenError
from .redact import display_url, split_url

CHUNK = 1 << 20
"""Bytes read and written at a time."""
TIMEOUT = 60.0
"""Seconds a connection may stay silent."""
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


def checked(url: str) -> tuple[str, dict[str, str]]:
    """The URL to request and the headers it needs: user info (``http://user:pass@host/...``) is taken
    out of the URL and sent as HTTP Basic authentication, as curl does.

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
    headers: dict[str, str] = {}
    if parts.username is not None or parts.password is not None:
        user = urllib.parse.unquote(parts.username or "")
        password = urllib.parse.unquote(parts.password or "")
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        host = parts.netloc.rpartition("@")[2]
        url = urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url, headers


def _request(url: str, method: str = "GET", headers: dict[str, str] | None = None):
    target, auth = checked(url)
    request = urllib.request.Request(target, method=method,
                                     headers={"User-Agent": "videovision", **auth, **(headers or {})})
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as err:
        raise VideoOpenError(f"{_shown(url)}: the server answered {err.code} {err.reason}") from None
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


def _shown(url: str) -> str:
    """The URL without credentials or query (which may hold tokens), for messages."""
    return display_url(url)


def describe(url: str) -> Remote:
    """HEAD the URL: its size, validator and whether it serves byte ranges.

    Raises:
        VideoOpenError: the server cannot be reached or refuses.
    """
    with _request(url, "HEAD") as reply:
        headers = reply.headers
    size = headers.get("Content-Length")
    validator = headers.get("ETag") or headers.get("Last-Modified") or ""
    return Remote(url, int(size) if size and size.isdigit() else None, validator,
                  headers.get("Accept-Ranges", "").lower() == "bytes",
                  headers.get("Content-Type", "").split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml"))


def local_path(remote: Remote, cache_dir: Path) -> Path:
    """Where the download of ``remote`` lives: named by the URL, the validator and the size."""
    key = hashlib.sha256(f"{remote.url}\n{remote.validator}\n{remote.size}".encode()).hexdigest()[:32]
    suffix = Path(urllib.parse.urlsplit(remote.url).path).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".video"
    return cache_dir / "remote" / f"{key}{suffix}"


def fetch(url: str, cache_dir: str | os.PathLike) -> Path:
    """The video at ``url`` as a local file in the cache (downloaded, or resumed, when needed).

    Args:
        url: an ``http(s)://`` URL of a video file.
        cache_dir: the cache directory (downloads go to its ``remote/`` folder).

    Returns:
        The local file.

    Raises:
        ConfigError: the URL is malformed.
        VideoOpenError: the server cannot be reached, refuses, or the download ends short.
    """
    checked(url)
    remote = describe(url)
    if remote.page:
        return _from_page(remote, Path(cache_dir))
    target = local_path(remote, Path(cache_dir))
    if target.is_file() and (remote.size is None or target.stat().st_size == remote.size):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.is_file() and remote.ranges else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    if remote.validator and have:
        headers["If-Range"] = remote.validator
    with _request(url, headers=headers) as reply:
        resumed = have and reply.status == 206
        with open(part, "ab" if resumed else "wb") as out:
            try:
                while True:
                    chunk = reply.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
            except (http.client.HTTPException, OSError):
                pass  # a connection cut mid-body: what arrived is kept, the size check below says so
    got = part.stat().st_size
    if remote.size is not None and got != remote.size:
        raise VideoOpenError(f"{_shown(url)}: the download ended after {got:,} of {remote.size:,} bytes "
                             "(run again to resume)")
    os.replace(part, target)
    return target


def _from_page(remote: Remote, cache_dir: Path) -> Path:
    """A web page's video through yt-dlp (the optional extra ``videovision[yt-dlp]``), downloaded once
    into the cache. Kept thin on purpose: yt-dlp does the site-specific work (not testable offline)."""
    try:
        import yt_dlp  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise VideoOpenError(f"{_shown(remote.url)} is a web page, not a video file: pip install "
                             "'videovision[yt-dlp]' to read videos from sites such as YouTube, or give "
                             "the video file's own URL") from None
    folder = cache_dir / "remote" / hashlib.sha256(remote.url.encode()).hexdigest()[:32]
    done = sorted(p for p in folder.glob("video.*") if not p.name.endswith((".part", ".ytdl")))
    if done:
        return done[0]
    options = {"outtmpl": str(folder / "video.%(ext)s"), "format": "bv*[ext=mp4]+ba[ext=m4a]/b[ext=mp4]/bv*+ba/b",
               "quiet": True, "no_warnings": True, "noprogress": True}
    try:
        with yt_dlp.YoutubeDL(options) as downloader:
            downloader.download([remote.url])
    except Exception as err:  # yt-dlp's errors are many and site-specific: one line
        raise VideoOpenError(f"{_shown(remote.url)}: yt-dlp could not fetch the video ({err})") from None
    done = sorted(p for p in folder.glob("video.*") if not p.name.endswith((".part", ".ytdl")))
    if not done:
        raise VideoOpenError(f"{_shown(remote.url)}: yt-dlp wrote no video")
    return done[0]
