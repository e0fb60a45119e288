"""Videos by URL: downloaded once into the cache (by URL + ETag), resumed with Range, one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from videovision.cli import main
from videovision.remote import fetch

DEMO = Path(__file__).resolve().parents[1] / "samples" / "demo.mp4"


class Files:
    """A loopback HTTP server of one file with ETag, HEAD and byte ranges; it counts body bytes sent."""

    def __init__(self, data: bytes):
        self.data = data
        self.gets: list[str | None] = []  # the Range header of each GET
        self.cut_after: int | None = None  # end the next GET's body after this many bytes
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _head(self, status: int, length: int, extra: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(length))
                self.send_header("ETag", owner.etag)
                self.send_header("Accept-Ranges", "bytes")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()

            def do_HEAD(self):
                if self.path != "/talks/demo.mp4":
                    self.send_error(404)
                    return
                self._head(200, len(owner.data), {})

            def do_GET(self):
                if self.path != "/talks/demo.mp4":
                    self.send_error(404)
                    return
                rng = self.headers.get("Range")
                owner.gets.append(rng)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                body = owner.data[start:]
                self._head(206 if rng else 200, len(body),
                           {"Content-Range": f"bytes {start}-{len(owner.data) - 1}/{len(owner.data)}"} if rng else {})
                if owner.cut_after is not None:
                    body, owner.cut_after = body[: owner.cut_after], None
                    self.wfile.write(body)
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.data).hexdigest()[:16] + '"'

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/talks/demo.mp4"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def files():
    server = Files(DEMO.read_bytes())
    yield server
    server.close()


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_url_is_read_like_a_file_and_downloaded_once(files, api_env, capsys, tmp_path):
    code, out, err = cli(capsys, "plan", files.url, "--json")
    assert code == 0, err
    local = json.loads(out)
    code, out, _ = cli(capsys, "plan", DEMO, "--json")
    assert [f["time"] for f in json.loads(out)["frames"]] == [f["time"] for f in local["frames"]]
    assert len(files.gets) == 1
    code, _, err = cli(capsys, "frames", files.url, "--out", tmp_path / "frames")
    assert code == 0 and len(files.gets) == 1  # the download is reused (same URL, same ETag)


def test_a_changed_file_is_downloaded_again(files, tmp_path):
    first = fetch(files.url, tmp_path)
    files.data = files.data[:-1000] + b"\x00" * 1000  # a new version: a new ETag
    second = fetch(files.url, tmp_path)
    assert first != second and second.read_bytes() == files.data and len(files.gets) == 2


def test_a_cut_download_is_one_line_and_resumes_with_a_range(files, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
    files.cut_after = 100_000
    code, _, err = cli(capsys, "plan", files.url)
    assert code == 3 and "run again to resume" in err and len(err.strip().splitlines()) == 1
    path = fetch(files.url, tmp_path / "cache")
    assert files.gets[-1] == "bytes=100000-" and path.read_bytes() == files.data


def test_a_missing_url_is_one_line(files, capsys):
    code, _, err = cli(capsys, "plan", files.url.replace("demo.mp4", "nothing.mp4") + "?token=SECRET")
    assert code == 3 and "404" in err and "SECRET" not in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, "plan", "http://127.0.0.1:9/x.mp4")
    assert code == 3 and "cannot be reached" in err


def test_a_web_page_url_asks_for_the_yt_dlp_extra(capsys, monkeypatch):
    import builtins

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_HEAD(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "10")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    real_import = builtins.__import__

    def no_yt_dlp(name, *args, **kwargs):  # as on a machine without the extra
        if name == "yt_dlp":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_yt_dlp)
    try:
        code, _, err = cli(capsys, "plan", f"http://127.0.0.1:{httpd.server_address[1]}/watch?v=abc")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert code == 3 and "videovision[yt-dlp]" in err and len(err.strip().splitlines()) == 1


def test_the_run_log_keeps_no_url_credentials_and_report_still_works(files, api_env, capsys, tmp_path):
    """A VIDEO URL's password and a --base-url's credentials never reach the cache's runs table;
    the run is remembered with the downloaded file, so ``report`` rebuilds it offline."""
    import sqlite3

    video = files.url.replace("http://", "http://alice:VIDEOPASS@")
    code, _, err = cli(capsys, "summarize", video, "--speech", "off", "--max-frames", "4")
    assert code == 0, err
    db = Path(os.environ["VIDEOVISION_CACHE_DIR"]) / "cache.db"
    with sqlite3.connect(db) as conn:
        stored = json.dumps(conn.execute("SELECT * FROM runs").fetchall())
    assert "VIDEOPASS" not in stored and "alice" not in stored
    code, out, err = cli(capsys, "report", "-o", tmp_path / "r.html")
    assert code == 0, err
    assert "<video" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_urls_in_a_stored_run_lose_their_credentials_and_query():
    from videovision._cli import build_parser
    from videovision._cli.runs import stored_settings

    args = build_parser().parse_args(["summarize", "/cache/remote/k/x.mp4", "--base-url",
                                      "http://bob:BASEPASS@127.0.0.1:8000/v1?key=K", "--max-frames", "4"])
    args.video_url = "https://u:p@h/x.mp4?sig=S"
    stored = stored_settings(args)
    assert stored["base_url"] == "http://127.0.0.1:8000/v1" and stored["video_url"] == "https://h/x.mp4"
    assert stored["max_frames"] == 4 and "dry_run" not in stored and "BASEPASS" not in str(stored)


def test_a_url_video_keeps_its_name_and_the_report_plays_the_url(files, api_env, capsys, tmp_path):
    """Plans, JSON, the run log and the report name a URL video by its URL (without credentials)
    and its file name, never the downloaded file in the cache; the report's player uses the URL."""
    video = files.url.replace("http://", "http://alice:VIDEOPASS@")
    code, out, err = cli(capsys, "plan", video, "--speech", "off", "--max-frames", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["video"]["path"] == files.url
    code, out, err = cli(capsys, "summarize", video, "--speech", "off", "--max-frames", "2", "--json",
                         "--report", tmp_path / "r.html")
    assert code == 0, err
    assert json.loads(out)["video"] == files.url and "VIDEOPASS" not in out + err
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<title>summarize: demo.mp4 — videovision</title>" in page
    assert f'src="{files.url}"' in page and "/remote/" not in page and "VIDEOPASS" not in page
    code, out, _ = cli(capsys, "log")
    assert code == 0 and "demo.mp4" in out and "VIDEOPASS" not in out
    assert [e["video"] for e in json.loads(cli(capsys, "log", "--json")[1])["entries"]] == [files.url]
    code, _, err = cli(capsys, "report", "-o", tmp_path / "again.html")
    assert code == 0, err
    again = (tmp_path / "again.html").read_text(encoding="utf-8")
    assert f'src="{files.url}"' in again and "demo.mp4" in again
    downloads = [p for p in (Path(os.environ["VIDEOVISION_CACHE_DIR"]) / "remote").rglob("*") if p.is_file()]
    assert [p.name for p in downloads] == ["demo.mp4"]
    code, _, err = cli(capsys, "frames", video, "--out", tmp_path / "frames", "--strategy", "uniform", "--count", "2")
    assert code == 0, err
    manifest = (tmp_path / "frames" / "frames.json").read_text(encoding="utf-8")
    assert json.loads(manifest)["video"]["path"] == files.url and "VIDEOPASS" not in manifest
