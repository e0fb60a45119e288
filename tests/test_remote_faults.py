"""Videos by URL against a lying HTTP file server: nothing broken is kept, nothing hangs or fills the disk.

Each fault gives one line on stderr and its exit code (3 the download failed, 6 no room on the cache
disk), leaves no final file that is not the whole video, and a later run against an honest server
downloads (or resumes) and succeeds.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from videovision import remote
from videovision.cli import main
from videovision.errors import CacheError, VideoOpenError
from videovision.remote import fetch, parse_size

DEMO = Path(__file__).resolve().parents[1] / "samples" / "demo.mp4"
USER, PASSWORD = "ann", "PASS-s3cr3t"


class Liar:
    """A loopback HTTP server of one video that lies as told by ``mode``:

    ``good`` (honest: ETag, HEAD, byte ranges), ``cut`` (a 200 without Content-Length cut halfway),
    ``short`` (a 200 with its Content-Length, cut halfway),
    ``chunked`` (a whole chunked body), ``chunked-cut`` (a chunked body cut without its last chunk),
    ``restart-206`` (a Range request answered 206 from byte 0), ``elsewhere-206`` (206 from another
    byte), ``ignore-range`` (200 to a Range request), ``trickle`` (100 bytes every 50 ms), ``silent``
    (headers, then nothing), ``endless`` (a body without end), ``huge`` (a declared length of 10 TB).
    ``head_refused`` answers HEAD with that status; ``auth`` requires Basic credentials;
    ``head_length`` False leaves Content-Length out of HEAD (as with a chunked server).
    """

    def __init__(self, data: bytes):
        self.data = data
        self.mode = "good"
        self.head_refused: int | None = None
        self.head_length = True
        self.auth = False
        self.gets: list[str | None] = []  # the Range header of each GET
        self.heads = 0
        self.seen_auth: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _authorized(self) -> bool:
                got = self.headers.get("Authorization")
                owner.seen_auth.append(got)
                if not owner.auth or got == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode():
                    return True
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="videos"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False

            def _headers(self, status: int, extra: dict[str, str], length: int | None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("ETag", owner.etag)
                self.send_header("Accept-Ranges", "bytes")
                if length is not None:
                    self.send_header("Content-Length", str(length))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()

            def do_HEAD(self):
                owner.heads += 1
                if not self._authorized():
                    return
                if owner.head_refused:
                    self.send_response(owner.head_refused)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                size = 10 * 1000**4 if owner.mode == "huge" else len(owner.data)
                self._headers(200, {}, size if owner.head_length else None)

            def do_GET(self):
                rng = self.headers.get("Range")
                owner.gets.append(rng)
                if not self._authorized():
                    return
                try:
                    self._body(rng)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading
                self.close_connection = True

            def _body(self, rng: str | None) -> None:
                data, mode, n = owner.data, owner.mode, len(owner.data)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if mode == "restart-206" and rng:
                    self._headers(206, {"Content-Range": f"bytes 0-{n - 1}/{n}"}, n)
                    self.wfile.write(data)
                elif mode == "elsewhere-206" and rng:
                    self._headers(206, {"Content-Range": f"bytes {start + 1000}-{n - 1}/{n}"}, n - start - 1000)
                    self.wfile.write(data[start + 1000:])
                elif rng and mode in ("good", "chunked", "cut", "short", "chunked-cut"):
                    self._headers(206, {"Content-Range": f"bytes {start}-{n - 1}/{n}"}, n - start)
                    self.wfile.write(data[start:])
                elif mode == "short":  # the whole length declared, the connection closed halfway
                    self._headers(200, {}, n)
                    self.wfile.write(data[: n // 2])
                elif mode == "cut":  # no length, the connection closed halfway
                    self._headers(200, {"Connection": "close"}, None)
                    self.wfile.write(data[: n // 2])
                elif mode in ("chunked", "chunked-cut"):
                    self._headers(200, {"Transfer-Encoding": "chunked"}, None)
                    end = n if mode == "chunked" else n // 2
                    for i in range(0, end, 64 * 1024):
                        piece = data[i:min(i + 64 * 1024, end)]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    if mode == "chunked":
                        self.wfile.write(b"0\r\n\r\n")
                elif mode == "trickle":
                    self._headers(200, {}, n)
                    for i in range(0, n, 100):
                        self.wfile.write(data[i:i + 100])
                        self.wfile.flush()
                        time.sleep(0.05)
                elif mode == "silent":
                    self._headers(200, {}, n)
                    self.wfile.write(data[:1000])
                    self.wfile.flush()
                    time.sleep(3)
                elif mode == "endless":
                    self._headers(200, {"Connection": "close"}, None)
                    block = data[: 256 * 1024]
                    for _ in range(10_000):
                        self.wfile.write(block)
                elif mode == "huge":
                    self._headers(200, {}, 10 * 1000**4)
                    self.wfile.write(data)
                else:  # good, ignore-range
                    self._headers(200, {}, n)
                    self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.data).hexdigest()[:16] + '"'

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/talks/demo.mp4"

    @property
    def auth_url(self) -> str:
        return self.url.replace("http://", f"http://{USER}:{PASSWORD}@")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def liar():
    server = Liar(DEMO.read_bytes())
    yield server
    server.close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(folder))
    monkeypatch.setenv("VIDEOVISION_DOWNLOAD_STALL", "0.5")
    monkeypatch.delenv("VIDEOVISION_MAX_DOWNLOAD", raising=False)
    return folder


def fails(capsys, *argv, code: int) -> str:
    """Run ``videovision plan ...``: it fails with ``code`` and one clean line; that line."""
    started = time.monotonic()
    got = main(["plan", *[str(a) for a in argv]])
    _, err = capsys.readouterr()
    assert got == code, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    assert time.monotonic() - started < 5
    return err


def finals(cache: Path) -> list[Path]:
    """Downloads under their final name (each must be the whole video)."""
    return [p for p in (cache / "remote").glob("*/*") if not p.name.endswith(".part")]


def parts(cache: Path) -> list[Path]:
    return list((cache / "remote").glob("*/*.part"))


def good_again(liar: Liar, cache: Path) -> None:
    """No broken final file was kept, and an honest server now gives the whole video."""
    assert all(p.read_bytes() == liar.data for p in finals(cache))
    liar.mode = "good"
    assert fetch(liar.url, cache).read_bytes() == liar.data
    assert parts(cache) == []


def test_a_body_cut_short_without_a_length_stays_a_part_and_resumes(liar, cache, capsys):
    liar.mode, liar.head_length = "cut", False
    err = fails(capsys, liar.url, code=3)
    assert "without a length given" in err and "run again to resume" in err
    assert finals(cache) == [] and parts(cache)[0].stat().st_size == len(liar.data) // 2
    good_again(liar, cache)
    assert liar.gets[-1] == f"bytes={len(liar.data) // 2}-"  # resumed where the part ended


def test_a_chunked_body_cut_stays_a_part(liar, cache, capsys):
    liar.mode, liar.head_length = "chunked-cut", False
    err = fails(capsys, liar.url, code=3)
    assert "was cut after" in err and finals(cache) == []
    good_again(liar, cache)


def test_a_whole_chunked_body_is_checked_to_open_then_kept(liar, cache):
    liar.mode, liar.head_length = "chunked", False
    path = fetch(liar.url, cache)
    assert path.read_bytes() == liar.data and parts(cache) == []
    assert fetch(liar.url, cache) == path and len(liar.gets) == 1


def test_a_lying_length_check_is_backed_by_heads_size(liar, cache, capsys):
    liar.mode = "chunked-cut"  # HEAD tells the size, the GET body has none and stops halfway
    err = fails(capsys, liar.url, code=3)
    assert f"of {len(liar.data):,} bytes" in err and finals(cache) == []
    good_again(liar, cache)


@pytest.mark.parametrize("mode", ["restart-206", "elsewhere-206", "ignore-range"])
def test_a_resume_is_taken_only_from_a_206_starting_where_the_part_ends(liar, cache, mode):
    liar.mode, liar.head_length = "cut", False
    with pytest.raises(VideoOpenError):
        fetch(liar.url, cache)
    liar.mode = mode
    path = fetch(liar.url, cache)
    assert path.read_bytes() == liar.data and parts(cache) == []
    if mode == "elsewhere-206":  # asked again for the whole file
        assert liar.gets[-2:] == [f"bytes={len(liar.data) // 2}-", None]


def test_a_trickling_server_is_stopped_by_the_stall_timeout(liar, cache, capsys):
    liar.mode = "trickle"
    err = fails(capsys, liar.url, code=3)
    assert "stalled" in err and "KiB" in err and finals(cache) == []
    good_again(liar, cache)


def test_a_silent_server_is_stopped_by_the_stall_timeout(liar, cache, capsys):
    liar.mode = "silent"
    err = fails(capsys, liar.url, code=3)
    assert "stalled after 1,000 bytes (no data for 0.5 s" in err and finals(cache) == []
    good_again(liar, cache)
    assert liar.gets[-1] == "bytes=1000-"


def test_the_stall_timeout_is_a_parameter_too(liar, tmp_path):
    liar.mode = "silent"
    started = time.monotonic()
    with pytest.raises(VideoOpenError, match=r"no data for 0\.2 s"):
        fetch(liar.url, tmp_path, stall=0.2)
    assert time.monotonic() - started < 2


def test_an_endless_body_stops_at_max_download_and_is_removed(liar, cache, capsys):
    liar.mode, liar.head_length = "endless", False
    err = fails(capsys, liar.url, "--max-download", "2M", code=3)
    assert "passed the cap of 2.0 MB (--max-download)" in err
    assert finals(cache) == [] and parts(cache) == []
    good_again(liar, cache)


def test_an_endless_body_stops_at_the_disks_free_space(liar, cache, capsys, monkeypatch):
    real = remote.shutil.disk_usage
    spare = remote.defaults.DOWNLOAD_SPARE

    def small(path):  # a disk with 3 MB free above the spare
        usage = real(path)
        return usage._replace(free=spare + 3_000_000)

    monkeypatch.setattr(remote.shutil, "disk_usage", small)
    liar.mode, liar.head_length = "endless", False
    err = fails(capsys, liar.url, code=6)
    assert "passed the cache disk's free space" in err and finals(cache) == [] and parts(cache) == []
    good_again(liar, cache)


def test_a_huge_declared_length_is_refused_before_downloading(liar, cache, capsys):
    liar.mode = "huge"
    err = fails(capsys, liar.url, code=6)
    assert "10.0 TB" in err and "--cache-dir" in err and liar.gets == []
    err = fails(capsys, liar.url, "--max-download", "1G", code=3)
    assert "over the download cap of 1.0 GB" in err and liar.gets == []
    with pytest.raises(VideoOpenError, match="over the download cap"):
        fetch(liar.url, cache, max_download=500_000)
    liar.head_refused = 403  # declared only by the GET: refused before its body is read
    with pytest.raises(CacheError, match=r"10\.0 TB"):
        fetch(liar.url, cache)
    assert finals(cache) == [] and parts(cache) == []
    liar.head_refused = None
    good_again(liar, cache)


def test_a_disk_filling_mid_download_removes_the_part(liar, cache, capsys, monkeypatch):
    class Full:
        def __init__(self, path, mode):
            self.file = open(path, mode)  # noqa: SIM115
            self.written = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def seek(self, n):
            self.file.seek(n)

        def truncate(self):
            self.file.truncate()

        def write(self, data):  # the disk holds 300 kB more
            room = 300_000 - self.written
            self.written += self.file.write(data[:room])
            if len(data) > room:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return len(data)

    real = remote._open_part
    monkeypatch.setattr(remote, "_open_part", Full)
    liar.head_length = False
    err = fails(capsys, liar.url, code=6)
    assert os.strerror(errno.ENOSPC) in err and "partial file is removed" in err
    assert finals(cache) == [] and parts(cache) == []
    monkeypatch.setattr(remote, "_open_part", real)
    good_again(liar, cache)


def test_a_broken_final_file_is_removed_and_downloaded_again(liar, cache, caplog):
    liar.head_length = False  # so the size cannot tell: the file must open
    path = fetch(liar.url, cache)
    path.write_bytes(liar.data[: len(liar.data) // 2])  # as an older version left a cut download
    with caplog.at_level("WARNING", logger="videovision"):
        assert fetch(liar.url, cache) == path
    assert [r.getMessage() for r in caplog.records] == [
        f"{liar.url}: the downloaded copy is broken; downloading it again"]
    assert path.read_bytes() == liar.data and len(liar.gets) == 2


@pytest.mark.parametrize("status", [403, 405, 501])
def test_a_refused_head_falls_back_to_one_get(liar, cache, status):
    liar.head_refused = status
    path = fetch(liar.url, cache)
    assert path.read_bytes() == liar.data and liar.gets == [None]
    assert fetch(liar.url, cache) == path and len(liar.gets) == 2  # reused: the GET only read the headers


def test_a_refused_head_and_a_cut_get_resume_with_a_range(liar, cache, capsys):
    liar.head_refused, liar.mode = 403, "short"
    err = fails(capsys, liar.url, code=3)
    assert f"ended after {len(liar.data) // 2:,} of {len(liar.data):,} bytes (run again to resume)" in err
    liar.mode = "good"
    assert fetch(liar.url, cache).read_bytes() == liar.data
    assert liar.gets[-1] == f"bytes={len(liar.data) // 2}-"


def test_url_credentials_are_sent_as_basic_auth_and_shown_nowhere(liar, cache, capsys, caplog):
    liar.auth = True
    signed = liar.auth_url + "?X-Amz-Signature=SIGNED"
    with caplog.at_level("DEBUG", logger="videovision"):
        assert fetch(signed, cache).read_bytes() == liar.data
    assert liar.seen_auth[-1] and liar.seen_auth[-1].startswith("Basic ")
    liar.mode, liar.head_refused = "trickle", 403
    assert main(["plan", "-v", signed.replace("demo.mp4", "other.mp4")]) == 3  # logged, then one line
    err = capsys.readouterr().err
    assert "HEAD refused (403); asking with GET" in err and "stalled" in err.splitlines()[-1]
    for secret in (PASSWORD, "SIGNED"):
        assert secret not in err and secret not in caplog.text
        assert not any(secret in p.name for p in cache.rglob("*"))
    liar.mode, liar.head_refused = "good", None
    err = fails(capsys, liar.auth_url.replace(PASSWORD, "WRONG-pw"), code=3)
    assert "401" in err and "WRONG-pw" not in err and USER not in err


def test_a_signed_query_is_never_printed(liar, cache, capsys):
    liar.mode = "trickle"
    err = fails(capsys, liar.url + "?X-Amz-Signature=SIGNED&X-Amz-Credential=KEYID", code=3)
    assert "SIGNED" not in err and "KEYID" not in err


def test_sizes_and_settings():
    assert [parse_size(t) for t in ("800000", "500M", "2GB", "1.5GiB", "10k")] == [
        800_000, 500_000_000, 2_000_000_000, 3 * 1024**3 // 2, 10_000]
    for bad in ("", "0", "-1", "12Q", "M"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_a_malformed_setting_is_exit_2(liar, cache, capsys, monkeypatch):
    monkeypatch.setenv("VIDEOVISION_DOWNLOAD_STALL", "soon")
    err = fails(capsys, liar.url, code=2)
    assert "VIDEOVISION_DOWNLOAD_STALL" in err
    monkeypatch.setenv("VIDEOVISION_DOWNLOAD_STALL", "1")
    monkeypatch.setenv("VIDEOVISION_MAX_DOWNLOAD", "lots")
    fails(capsys, liar.url, code=2)
    with pytest.raises(SystemExit) as exit_:
        main(["plan", liar.url, "--max-download", "12Q"])
    assert exit_.value.code == 2
    assert "not a size" in capsys.readouterr().err
