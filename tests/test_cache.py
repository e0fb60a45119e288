"""Tests for videovision.cache: round trips, keys, content addressing, concurrency, secrets."""

from __future__ import annotations

import base64
import hashlib
import itertools
import multiprocessing
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from videovision.defaults import CACHE_MAX_BYTES as DEFAULT_MAX_BYTES
from videovision.errors import CacheError, VideoOpenError
from videovision.store import (
    ENV_CACHE_DIR,
    MIGRATIONS,
    Cache,
    LogEntry,
    file_digest,
    frames_key,
    item_to_packed,
    new_run_id,
    open_cache,
    packed_to_item,
)
from videovision.store import request_key as _request_key
from videovision.store.keys import DIGEST_FULL_BELOW, digest_ranges
from videovision.types import ChatResult, PackedImage, Usage

MiB = 1024 * 1024
SENTINEL_KEY = "sk-SENTINEL-0123456789-do-not-store"

# Not a real JPEG, but distinctive bytes whose base64 is easy to search for.
IMAGE_A = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"frame-A"
IMAGE_B = b"\xff\xd8\xff\xe0" + bytes(range(255, -1, -1)) * 8 + b"frame-B"


def data_url(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def chat_body(*images: bytes, question: str = "What happens?", **params) -> dict:
    content: list[dict] = [{"type": "text", "text": question}]
    for i, img in enumerate(images):
        content.append({"type": "text", "text": f"[00:00:{i:02d}.000]"})
        content.append({"type": "image_url", "image_url": {"url": data_url(img), "detail": "low"}})
    body: dict = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], "max_tokens": 500}
    body.update(params)
    return body


EP = "https://api.openai.com/v1"


def request_key(body: dict, endpoint: str = EP) -> str:
    return _request_key(body, endpoint=endpoint)


def get_frames(c: Cache, key: str):
    found = c.frames.get(key)
    return None if found is None else found.items


def put_frames(c: Cache, key: str, items) -> None:
    c.frames.put(key, {}, items)


def result(text: str = "A cat sits.") -> ChatResult:
    return ChatResult(text=text, usage=Usage(120, 30), model="gpt-4o-mini-2024", finish_reason="stop", request_id="req_1")


def count(cache: Cache, table: str) -> int:
    with sqlite3.connect(cache.path) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def db_bytes(directory: Path) -> bytes:
    """Every byte SQLite keeps: the database and any WAL / shared-memory file."""
    return b"".join(p.read_bytes() for p in sorted(directory.glob("cache.db*")))


@pytest.fixture
def cache(tmp_path: Path):
    with Cache(tmp_path / "cache") as c:
        yield c


# --------------------------------------------------------------------------- location


def test_directory_from_argument_env_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path / "from-env"))
    with Cache() as c:
        assert c.path == tmp_path / "from-env" / "cache.db"
        assert c.path.exists()
    with Cache(tmp_path / "explicit") as c:
        assert c.path.parent == tmp_path / "explicit"


def test_wal_and_busy_timeout(cache):
    conn = sqlite3.connect(cache.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    own = cache.db.connection()
    assert own.execute("PRAGMA busy_timeout").fetchone()[0] > 0


# --------------------------------------------------------------------------- keys


def test_request_key_ignores_dict_order():
    a = {"model": "m", "temperature": 0, "messages": [{"role": "user", "content": "hi"}]}
    b = {"messages": [{"content": "hi", "role": "user"}], "temperature": 0, "model": "m"}
    assert request_key(a) == request_key(b)
    assert len(request_key(a)) == 64
    canonical = ('{"body":{"messages":[{"content":"hi","role":"user"}],"model":"m","temperature":0},'
                 '"endpoint":"https://api.openai.com/v1"}')
    assert request_key(a) == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(model="gpt-4o"),
        lambda b: b.update(temperature=0.2),
        lambda b: b.update(seed=1),
        lambda b: b["messages"][0]["content"][0].update(text="What happens next?"),
        lambda b: b["messages"][0]["content"][1].update(text="[00:00:00.500]"),
        lambda b: b["messages"][0]["content"][2]["image_url"].update(detail="high"),
        lambda b: b["messages"][0]["content"][2]["image_url"].update(url=data_url(IMAGE_B)),
        lambda b: b["messages"].insert(0, {"role": "system", "content": "Be brief."}),
        lambda b: b["messages"][0]["content"].reverse(),
    ],
)
def test_request_key_changes_with_any_message_or_parameter(change):
    body = chat_body(IMAGE_A)
    before = request_key(body)
    change(body)
    assert request_key(body) != before


def test_request_key_ignores_secrets_and_includes_endpoint():
    body = chat_body(IMAGE_A)
    assert request_key({**body, "api_key": SENTINEL_KEY}) == request_key(body)
    assert request_key(body, endpoint="http://localhost:11434/v1") != request_key(body)


def test_request_key_ignores_the_output_cap():
    # a reply that finished under a lower cap is the same reply under a higher one (issue 8.5)
    body = chat_body(IMAGE_A)
    for name in ("max_tokens", "max_completion_tokens"):
        assert request_key({**body, name: 4000}) == request_key(body)


def test_frames_key_depends_on_digest_and_params():
    params = {"strategy": "interval", "every": 5.0, "max_side": 512, "format": "jpeg"}
    k = frames_key("a" * 64, params)
    assert k == frames_key("a" * 64, dict(reversed(params.items())))
    assert k != frames_key("b" * 64, params)
    assert k != frames_key("a" * 64, {**params, "every": 2.0})


def test_new_run_id_is_unique_and_sortable():
    ids = [new_run_id() for _ in range(100)]
    assert len(set(ids)) == 100
    assert ids[0][:8].isdigit() and "T" in ids[0]


# --------------------------------------------------------------------------- responses


def test_response_round_trip(cache):
    body = chat_body(IMAGE_A)
    key = request_key(body)
    assert cache.responses.get(key) is None
    cache.responses.put(key, result(), body=body)
    got = cache.responses.get(key)
    assert got == ChatResult(
        text="A cat sits.", usage=Usage(120, 30), model="gpt-4o-mini-2024", finish_reason="stop",
        request_id="req_1", cached=True,
    )
    # Replacing is allowed (same key, new answer).
    cache.responses.put(key, result("Two cats."), body=body)
    assert cache.responses.get(key).text == "Two cats."
    assert count(cache, "responses") == 1


def test_stored_request_is_redacted_and_restorable(cache):
    body = chat_body(IMAGE_A, api_key=SENTINEL_KEY)
    key = request_key(body)
    cache.responses.put(key, result(), body=body)
    stored = cache.responses.get_request(key)
    assert "api_key" not in stored
    url = stored["messages"][0]["content"][2]["image_url"]["url"]
    assert url == "sha256:" + hashlib.sha256(IMAGE_A).hexdigest()
    restored = cache.responses.get_request(key, restore_images=True)
    body.pop("api_key")
    assert restored == body


def test_images_shared_by_responses_and_frames_are_stored_once(cache):
    cache.responses.put(request_key(chat_body(IMAGE_A)), result(), body=chat_body(IMAGE_A))
    cache.responses.put(request_key(chat_body(IMAGE_A, IMAGE_B)), result(), body=chat_body(IMAGE_A, IMAGE_B))
    cache.responses.put(request_key(chat_body(IMAGE_A, IMAGE_A)), result(), body=chat_body(IMAGE_A, IMAGE_A))
    meta = {"time": 0.0, "mime": "image/jpeg"}
    put_frames(cache, "set1", [(meta, IMAGE_A), (meta, IMAGE_B)])
    put_frames(cache, "set2", [(meta, IMAGE_B), (meta, IMAGE_A), (meta, IMAGE_A)])
    assert count(cache, "responses") == 3
    assert count(cache, "frame_sets") == 2
    assert count(cache, "images") == 2
    assert cache.images.total_bytes() == len(IMAGE_A) + len(IMAGE_B)


# --------------------------------------------------------------------------- frames


def test_frames_round_trip_with_bytes(cache):
    items = [
        ({"time": 0.0, "index": 0, "scene": 0, "width": 512, "height": 288, "mime": "image/jpeg", "tokens": 85}, IMAGE_A),
        ({"time": 5.005, "index": 150, "scene": None, "width": 512, "height": 288, "mime": "image/jpeg", "tokens": 85}, IMAGE_B),
    ]
    key = frames_key("d" * 64, {"strategy": "interval", "every": 5.0})
    assert get_frames(cache, key) is None
    put_frames(cache, key, items)
    assert get_frames(cache, key) == items
    put_frames(cache, key, items[:1])  # replaced atomically, not appended
    assert get_frames(cache, key) == items[:1]
    put_frames(cache, "empty", [])
    assert get_frames(cache, "empty") == []


def test_packed_image_helpers_round_trip(cache):
    packed = [
        PackedImage(time=1.5, index=45, scene=2, data=IMAGE_A, mime="image/jpeg", width=512, height=288, tokens=85,
                    label="[00:00:01.500]"),
        PackedImage(time=3.0, index=90, scene=None, data=IMAGE_B, mime="image/png", width=1024, height=576, tokens=255,
                    times=(3.0, 3.5, 4.0, 4.5)),
    ]
    put_frames(cache, "k", [packed_to_item(p) for p in packed])
    assert [item_to_packed(m, d) for m, d in get_frames(cache, "k")] == packed


def test_put_frames_is_atomic(cache):
    put_frames(cache, "k", [({"time": 0.0}, IMAGE_A)])
    with pytest.raises(TypeError):
        put_frames(cache, "k", [({"time": 1.0}, IMAGE_B), ({"time": 2.0}, "not bytes")])  # type: ignore[list-item]
    assert get_frames(cache, "k") == [({"time": 0.0}, IMAGE_A)]
    with pytest.raises(TypeError):
        put_frames(cache, "k", [({"time": object()}, IMAGE_B)])
    assert get_frames(cache, "k") == [({"time": 0.0}, IMAGE_A)]
    assert count(cache, "images") == 1


# --------------------------------------------------------------------------- secrets and base64


def test_api_key_and_base64_never_reach_the_database_file(tmp_path):
    directory = tmp_path / "c"
    body = chat_body(IMAGE_A, IMAGE_B, api_key=SENTINEL_KEY)
    body["extra_headers"] = {"Authorization": f"Bearer {SENTINEL_KEY}", "X-Api-Key": SENTINEL_KEY}
    body["metadata"] = {"OPENAI_API_KEY": SENTINEL_KEY, "note": "keep me"}
    with Cache(directory) as c:
        key = request_key(body)
        c.responses.put(key, result(), body=body)
        put_frames(c, "f", [({"time": 0.0, "api_key": SENTINEL_KEY}, IMAGE_A)])
        c.log.add(
            run_id=new_run_id(), model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1,
            estimated_cost_usd=0.001, duration_s=0.5, cached=False, request_key=key, task="ask",
            video="/v.mp4", endpoint=f"https://user:{SENTINEL_KEY}@api.example.com:8443/v1?key={SENTINEL_KEY}",
        )
        assert c.log.recent()[0].base_url_host == "api.example.com:8443"
        assert c.responses.get_request(key)["metadata"] == {"note": "keep me"}
    raw = db_bytes(directory)
    assert b"keep me" in raw  # the scan does see stored text
    assert SENTINEL_KEY.encode() not in raw
    assert b"SENTINEL" not in raw
    for image in (IMAGE_A, IMAGE_B):
        b64 = base64.b64encode(image)
        assert b64[:40] not in raw
        assert image in raw  # stored as raw bytes, once


# --------------------------------------------------------------------------- run log


def log(c, run_id: str, n: int, **overrides) -> int | None:
    fields = {
        "run_id": run_id, "model": "gpt-4o-mini", "prompt_tokens": 100 + n, "completion_tokens": n,
        "estimated_cost_usd": 0.0001 * n, "duration_s": 0.1 * n, "cached": n % 2 == 0, "request_key": f"{n:064x}",
        "task": "summarize", "video": "/videos/a.mp4", "endpoint": "https://api.openai.com/v1",
    }
    fields.update(overrides)
    return c.log.add(**fields)


def test_recent_is_newest_first_with_utc_time(cache):
    run = new_run_id()
    for n in range(5):
        log(cache, run, n)
    log(cache, "other-run", 99, status="RateLimitError", estimated_cost_usd=None)
    entries = cache.log.recent()
    assert all(isinstance(e, LogEntry) for e in entries)
    assert [e.prompt_tokens for e in entries] == [199, 104, 103, 102, 101, 100]
    assert entries[0].status == "RateLimitError" and entries[0].estimated_cost_usd is None
    assert entries[1].cached is True and entries[2].cached is False
    assert entries[0].time.endswith("+00:00") and "T" in entries[0].time
    assert [e.prompt_tokens for e in cache.log.recent(2)] == [199, 104]
    assert len(cache.log.recent(run_id=run)) == 5
    assert cache.log.recent(0) == []
    assert entries[1].to_json()["request_key"] == f"{4:064x}"


# --------------------------------------------------------------------------- errors


def test_corrupt_database_raises_cache_error(tmp_path):
    directory = tmp_path / "c"
    directory.mkdir()
    (directory / "cache.db").write_bytes(b"this is not a sqlite database at all" * 100)
    with pytest.raises(CacheError) as info:
        Cache(directory)
    message = str(info.value)
    assert "\n" not in message
    assert str(directory / "cache.db") in message and "--no-cache" in message and "delete" in message


def test_unwritable_directory_raises_cache_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(CacheError) as info:
        Cache(blocker / "sub")
    assert "--no-cache" in str(info.value) and "\n" not in str(info.value)


def test_read_only_database_raises_cache_error(tmp_path):
    directory = tmp_path / "c"
    Cache(directory).close()
    db = directory / "cache.db"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # root ignores permission bits; the immutable attribute still binds it (where supported).
        if subprocess.run(["chattr", "+i", str(db)], capture_output=True, check=False).returncode != 0:
            pytest.skip("running as root without chattr +i")
        undo = ["chattr", "-i", str(db)]
    else:
        os.chmod(db, 0o444)
        undo = None
    try:
        with pytest.raises(CacheError) as info:
            Cache(directory)
        assert "--no-cache" in str(info.value) and "\n" not in str(info.value)
    finally:
        if undo:
            subprocess.run(undo, check=True)


def test_newer_schema_raises_cache_error(tmp_path):
    Cache(tmp_path).close()
    with sqlite3.connect(tmp_path / "cache.db") as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(CacheError, match="newer"):
        Cache(tmp_path)


def test_closed_cache_raises_cache_error(tmp_path):
    c = Cache(tmp_path)
    c.close()
    c.close()
    with pytest.raises(CacheError):
        c.responses.get("k")


# --------------------------------------------------------------------------- concurrency


def _worker(directory: str, worker: int, writes: int, barrier) -> None:
    with Cache(directory) as c:
        barrier.wait()
        for n in range(writes):
            body = chat_body(IMAGE_A, question=f"worker {worker} question {n}")
            key = request_key(body)
            c.responses.put(key, result(f"answer {worker}/{n}"), body=body)
            put_frames(c, f"frames-{worker}-{n}", [({"n": n}, IMAGE_B), ({"n": n}, bytes([worker, n]) * 10)])
            log(c, f"run-{worker}", n)


def test_two_processes_write_concurrently(tmp_path):
    directory = str(tmp_path / "shared")
    Cache(directory).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_worker, args=(directory, w, 50, barrier)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    with Cache(directory) as c:
        assert count(c, "responses") == 100
        assert count(c, "frame_sets") == 100
        assert count(c, "log") == 100
        assert count(c, "images") == 2 + 100  # IMAGE_A, IMAGE_B shared; one unique image per frame set
        for w in range(2):
            for n in range(50):
                body = chat_body(IMAGE_A, question=f"worker {w} question {n}")
                assert c.responses.get(request_key(body)).text == f"answer {w}/{n}"
            assert len(c.log.recent(1000, run_id=f"run-{w}")) == 50


def test_threads_share_one_cache(cache):
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for n in range(30):
                put_frames(cache, f"t{t}-{n}", [({"n": n}, IMAGE_A)])
                log(cache, f"thread-{t}", n)
                assert get_frames(cache, f"t{t}-{n}") == [({"n": n}, IMAGE_A)]
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(cache, "log") == 120 and count(cache, "images") == 1


# --------------------------------------------------------------------------- file digests


def test_file_digest_small_file_is_full_sha256(tmp_path):
    path = tmp_path / "v.mp4"
    data = os.urandom(300_000)
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()
    assert file_digest(path) == file_digest(str(path))
    # Every byte counts below the threshold, wherever it is.
    changed = bytearray(data)
    changed[150_001] ^= 1
    path.write_bytes(bytes(changed))
    assert file_digest(path) != hashlib.sha256(data).hexdigest()


def test_file_digest_missing_file(tmp_path, cache):
    with pytest.raises(VideoOpenError):
        file_digest(tmp_path / "nope.mp4")
    with pytest.raises(VideoOpenError):
        cache.frames.file_digest(tmp_path / "nope.mp4")


def test_file_digest_big_sparse_file_is_fast_and_sampled(tmp_path):
    path = tmp_path / "big.mp4"
    size = 200 * MiB
    with open(path, "wb") as f:
        f.truncate(size)
    ranges = digest_ranges(size)
    assert sum(length for _, length in ranges) <= 13 * MiB
    start = time.perf_counter()
    base = file_digest(path)
    assert time.perf_counter() - start < 2.0
    assert base != hashlib.sha256(b"").hexdigest() and file_digest(path) == base

    def flip(offset: int) -> None:
        with open(path, "r+b") as f:
            f.seek(offset)
            old = f.read(1)
            f.seek(offset)
            f.write(bytes([old[0] ^ 0xFF]))

    # A byte inside a sampled block in the middle of the file changes the digest.
    middle_offset, length = ranges[len(ranges) // 2]
    flip(middle_offset + length // 2)
    assert file_digest(path) != base
    flip(middle_offset + length // 2)
    assert file_digest(path) == base
    # So do the first and last bytes and the size.
    flip(0)
    assert file_digest(path) != base
    flip(0)
    flip(size - 1)
    assert file_digest(path) != base
    flip(size - 1)
    with open(path, "r+b") as f:
        f.truncate(size + 1)
    assert file_digest(path) != base
    with open(path, "r+b") as f:
        f.truncate(size)
    assert file_digest(path) == base
    # Documented limitation: a same-size edit between sampled blocks is not seen.
    gap_offset = ranges[len(ranges) // 2][0] + ranges[len(ranges) // 2][1] + 1000
    assert gap_offset < ranges[len(ranges) // 2 + 1][0]
    flip(gap_offset)
    assert file_digest(path) == base


def test_file_digest_threshold_boundary(tmp_path):
    assert digest_ranges(DIGEST_FULL_BELOW - 1) == [(0, DIGEST_FULL_BELOW - 1)]
    ranges = digest_ranges(DIGEST_FULL_BELOW)
    assert len(ranges) > 2
    assert all(a + la <= b for (a, la), (b, _) in itertools.pairwise(ranges))
    assert ranges[-1][0] + ranges[-1][1] == DIGEST_FULL_BELOW


def test_cached_file_digest_is_remembered_per_stat(tmp_path, cache):
    path = tmp_path / "v.mp4"
    path.write_bytes(b"a" * 10_000)
    old = time.time() - 3600
    os.utime(path, (old, old))
    first = cache.frames.file_digest(path)
    assert first == file_digest(path)
    assert count(cache, "digests") == 1
    # Same size and mtime restored: the remembered digest is used (the file is not read again).
    st = os.stat(path)
    path.write_bytes(b"b" * 10_000)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cache.frames.file_digest(path) == first
    # Any stat change (here mtime) and the file is hashed again.
    os.utime(path, (old + 1, old + 1))
    assert cache.frames.file_digest(path) == hashlib.sha256(b"b" * 10_000).hexdigest()


def test_recently_modified_file_digest_is_not_remembered(tmp_path, cache):
    path = tmp_path / "v.mp4"
    path.write_bytes(b"fresh")
    assert cache.frames.file_digest(path) == hashlib.sha256(b"fresh").hexdigest()
    assert count(cache, "digests") == 0
    path.write_bytes(b"fresH")  # same size, maybe same mtime tick: must still be seen
    assert cache.frames.file_digest(path) == hashlib.sha256(b"fresH").hexdigest()


# --------------------------------------------------------------------------- prune


def test_prune_drops_least_recently_used_images(cache):
    big = [bytes([i]) * 100_000 for i in range(5)]
    body = chat_body(big[4])
    cache.responses.put(request_key(body), result(), body=body)  # the oldest entry
    for i, img in enumerate(big):
        put_frames(cache, f"set{i}", [({"i": i}, img)])
    assert get_frames(cache, "set0") is not None  # touching set0 makes it the newest entry
    assert cache.prune(max_bytes=DEFAULT_MAX_BYTES) == 0
    freed = cache.prune(max_bytes=250_000)
    assert freed == 300_000 and cache.images.total_bytes() == 200_000
    assert get_frames(cache, "set0") is not None and get_frames(cache, "set4") is not None
    assert all(get_frames(cache, f"set{i}") is None for i in (1, 2, 3))
    # The answer is kept; only its request's image reference was let go.
    assert cache.responses.get(request_key(body)).text == "A cat sits."
    assert cache.prune(max_bytes=0) == 200_000 and count(cache, "images") == 0
    with sqlite3.connect(cache.path) as conn:  # the freed pages were given back to the file system
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0


# --------------------------------------------------------------------------- no cache, pruning on close, damage, migrations


def test_no_cache_is_none_and_touches_nothing(tmp_path):
    assert open_cache(tmp_path / "never", enabled=False) is None
    assert not (tmp_path / "never").exists()


def test_open_cache_enabled_returns_cache(tmp_path):
    with open_cache(tmp_path) as c:
        assert isinstance(c, Cache)
        assert isinstance(log(c, "r", 1), int)


def test_close_prunes_to_the_size_cap(tmp_path):
    # the documented cap applies without anyone calling prune() (wave-1 bug: it never ran)
    with Cache(tmp_path, max_bytes=150_000) as c:
        for i in range(4):
            put_frames(c, f"set{i}", [({"i": i}, bytes([i]) * 100_000)])
        assert c.images.total_bytes() == 400_000
    with Cache(tmp_path) as c:
        assert c.images.total_bytes() <= 150_000
        assert get_frames(c, "set3") is not None and get_frames(c, "set0") is None


def test_damaged_cached_image_is_never_returned(tmp_path):
    with Cache(tmp_path) as c:
        put_frames(c, "k", [({"i": 0}, IMAGE_A), ({"i": 1}, IMAGE_B)])
        body = chat_body(IMAGE_A)
        c.responses.put(request_key(body), result(), body=body)
    with sqlite3.connect(tmp_path / "cache.db") as conn:  # flip bytes: SQLite's integrity is still "ok"
        conn.execute("UPDATE images SET data = ? WHERE sha256 = ?",
                     (IMAGE_A[:-3] + b"XYZ", hashlib.sha256(IMAGE_A).hexdigest()))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Cache(tmp_path) as c:
        assert get_frames(c, "k") is None  # rebuilt by the caller, not sent
        restored = c.responses.get_request(request_key(chat_body(IMAGE_A)), restore_images=True)
        assert restored["messages"][0]["content"][2]["image_url"]["url"].startswith("sha256:")


def test_migrations_adopt_a_wave1_database_and_are_recorded(tmp_path):
    # a database as wave 1 left it: its tables, PRAGMA user_version = 1, no _migrations table
    conn = sqlite3.connect(tmp_path / "cache.db")
    MIGRATIONS[0](conn)
    conn.execute("INSERT INTO frame_sets (key, count, created_at, used_at) VALUES ('old', 0, 0, 0)")
    conn.execute("INSERT INTO log (time, run_id, task, model, prompt_tokens, completion_tokens, duration_s, cached,"
                 " status) VALUES ('t', 'r', 'ask', 'm', 1, 2, 0.1, 0, 'ok')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Cache(tmp_path) as c:
        assert [e.prompt_tokens for e in c.log.recent(5)] == [1]  # the log survives
        assert get_frames(c, "old") is None  # old-format frame sets are dropped (only a cache)
    with sqlite3.connect(tmp_path / "cache.db") as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [m.__name__ for m in MIGRATIONS]


def test_damaged_rows_are_rebuilt_or_asked_again_never_a_crash(tmp_path):
    """Rows written by something else (non-JSON metadata, a BLOB where the reply text belongs):
    a frame set is built again, a reply asked again, a stored request is a CacheError (exit 6)."""
    body = chat_body(IMAGE_A)
    key = request_key(body)
    with Cache(tmp_path) as c:
        put_frames(c, "k", [({"i": 0}, IMAGE_A)])
        put_frames(c, "k2", [({"i": 0}, IMAGE_B)])
        c.responses.put(key, result(), body=body)
        other = chat_body(IMAGE_B)
        c.responses.put(request_key(other), result("utf-8 blob"), body=other)
    with sqlite3.connect(tmp_path / "cache.db") as conn:
        conn.execute("UPDATE frame_sets SET meta_json = ? WHERE key = 'k'", ("{not json",))
        conn.execute("UPDATE frame_items SET meta_json = ? WHERE set_key = 'k2'", ("[1, 2]",))
        conn.execute("UPDATE responses SET text = ?, request_json = ? WHERE key = ?", (b"\xff\xfe", "{cut", key))
        conn.execute("UPDATE responses SET text = ? WHERE key = ?", (b"utf-8 blob", request_key(other)))
    with Cache(tmp_path) as c:
        assert get_frames(c, "k") is None and get_frames(c, "k2") is None
        assert c.responses.get(key) is None
        assert c.responses.get(request_key(other)).text == "utf-8 blob"
        with pytest.raises(CacheError, match="damaged"):
            c.responses.get_request(key)


def test_a_plan_s_packed_frames_come_back_from_their_frame_set_as_they_went_in(cache):
    from videovision.pipeline import make_plan
    from videovision.plan import TaskConfig
    from videovision.store.frames import FrameSet, frame_set_packing, packing_frame_set
    from videovision.types import SpeechConfig

    plan = make_plan(Path(__file__).resolve().parents[1] / "samples" / "demo.mp4",
                     TaskConfig(speech=SpeechConfig(mode="off")))
    meta, items = packing_frame_set(plan.packing, plan.scenes, plan.selection)
    assert len(items) == len(plan.images) and [m["time"] for m, _ in items] == [i.time for i in plan.images]
    cache.frames.put("k" * 64, meta, items)
    stored = cache.frames.get("k" * 64)
    assert isinstance(stored, FrameSet)
    packing, scenes, selection = frame_set_packing(stored, plan.packing.model, plan.packing.detail)
    assert (packing, scenes, selection) == (plan.packing, plan.scenes, plan.selection)
