"""Damaged files through the command line: seeded bit flips in the index and in the packet data,
and truncations, of small generated MP4 (index first and index last) and MKV clips.

Each damaged file goes through ``python -m videovision frames`` and ``plan`` in a subprocess
with a timeout. Whatever the damage, the run must end, exit 0 (what could be read was used),
3 (unreadable video) or 4 (nothing to sample), print no traceback and no internal error, and on
failure say why in one error line (one-line warnings may precede it).

``VIDEOVISION_FUZZ_ROUNDS=N`` runs N seeded rounds of every case (CI runs one).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from media import make_clip, mp4_box, remux_faststart

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 60.0
"""Seconds one command may take on a 2 s clip before it counts as hung."""
ALLOWED_EXIT_CODES = {0, 3, 4}
ROUNDS = int(os.environ.get("VIDEOVISION_FUZZ_ROUNDS", "1"))
FIRST_ROUND = 1
"""CI runs round 1: before the fixes of issue 8 its damaged index-last MP4 exited 1 with
'internal error: PermissionError' and its damaged MKV packet timestamp wrote frames out of order."""
WORKERS = 2
PROG = "videovision"
FRAMES_EVERY = "0.4"
"""Seconds between frames for ``frames``: several targets per GOP and across GOPs (seeks)."""

MKV_CLUSTER = bytes.fromhex("1F43B675")
MKV_CUES = bytes.fromhex("1C53BB6B")

Region = tuple[int, int]


# --------------------------------------------------------------------------- where to damage
def mp4_index(data: bytes) -> list[Region]:
    start, end = mp4_box(data, b"moov")
    return [(start + 8, end)]


def mp4_packets(data: bytes) -> list[Region]:
    start, end = mp4_box(data, b"mdat")
    return [(start + 8, end)]


def mkv_index(data: bytes) -> list[Region]:
    """The headers before the first cluster (tracks, codec setup) and the cues after the last."""
    first_cluster = data.index(MKV_CLUSTER)
    cues = data.rfind(MKV_CUES)
    return [(0, first_cluster)] + ([(cues, len(data))] if cues > first_cluster else [])


def mkv_packets(data: bytes) -> list[Region]:
    first_cluster = data.index(MKV_CLUSTER)
    cues = data.rfind(MKV_CUES)
    return [(first_cluster, cues if cues > first_cluster else len(data))]


# --------------------------------------------------------------------------- how to damage
def flip_bits(data: bytes, regions: list[Region], count: int, rng: random.Random) -> bytes:
    """``count`` single-bit flips at seeded positions inside ``regions``."""
    damaged = bytearray(data)
    for _ in range(count):
        lo, hi = rng.choice(regions)
        at = rng.randrange(lo, hi)
        damaged[at] ^= 1 << rng.randrange(8)
    return bytes(damaged)


def truncate(data: bytes, rng: random.Random) -> bytes:
    """The first 5 % to 95 % of the file (an interrupted download)."""
    return data[: int(len(data) * rng.uniform(0.05, 0.95))]


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    """Key of the clean clip in the ``clean`` fixture."""
    damage: Callable[[bytes, random.Random], bytes]


def _flips(regions: Callable[[bytes], list[Region]], count: int) -> Callable[[bytes, random.Random], bytes]:
    return lambda data, rng: flip_bits(data, regions(data), count, rng)


CASES = (
    Case("faststart-index-flips", "fast.mp4", _flips(mp4_index, 4)),
    Case("faststart-packet-flips", "fast.mp4", _flips(mp4_packets, 40)),
    Case("faststart-truncated", "fast.mp4", truncate),
    Case("index-last-flips", "plain.mp4", _flips(mp4_index, 4)),
    Case("index-last-truncated", "plain.mp4", truncate),
    Case("mkv-index-flips", "clip.mkv", _flips(mkv_index, 4)),
    Case("mkv-packet-flips", "clip.mkv", _flips(mkv_packets, 40)),
    Case("mkv-truncated", "clip.mkv", truncate),
)
COMMANDS = ("frames", "plan")


# --------------------------------------------------------------------------- running the CLI
@dataclass(frozen=True)
class Outcome:
    command: str
    path: Path
    exit_code: int | None
    """None: killed at the timeout."""
    stderr: str

    def problems(self) -> list[str]:
        """What is wrong with this run (empty when it behaved)."""
        if self.exit_code is None:
            return [f"no exit within {RUN_TIMEOUT:g} s (hang)"]
        found = []
        if self.exit_code not in ALLOWED_EXIT_CODES:
            found.append(f"exit code {self.exit_code}")
        if "Traceback" in self.stderr:
            found.append("a traceback")
        if "internal error" in self.stderr:
            found.append("an internal error")
        if self.exit_code != 0:
            found += self._failure_message_problems()
        return found

    def _failure_message_problems(self) -> list[str]:
        """A failed run's stderr: one-line warnings, then exactly one error line."""
        lines = self.stderr.splitlines()
        if not lines or not lines[-1].startswith(f"{PROG}: error: "):
            return ["no error line at the end"]
        stray = [line for line in lines[:-1] if not line.startswith(f"{PROG}: warning: ")]
        return [f"stray stderr lines {stray[:2]}"] if stray else []

    def __str__(self) -> str:
        return f"{self.command} {self.path.name}: exit {self.exit_code}: {self.stderr.strip()[-300:]!r}"


def run_cli(command: str, video: Path, work: Path) -> Outcome:
    """One CLI run on ``video`` in a subprocess (offline, private cache and output dirs)."""
    args = [sys.executable, "-m", "videovision", command, str(video)]
    if command == "frames":
        args += ["--out", str(work / f"{video.stem}-frames"), "--every", FRAMES_EVERY]
    else:
        args += ["--no-cache"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "VIDEOVISION_"))}
    env["VIDEOVISION_CACHE_DIR"] = str(work / "cache")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="backslashreplace", timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as err:
        stderr = err.stderr.decode(errors="backslashreplace") if isinstance(err.stderr, bytes) else ""
        return Outcome(command, video, None, stderr)
    return Outcome(command, video, done.returncode, done.stderr)


def run_all(videos: list[Path], work: Path) -> list[Outcome]:
    """Every command on every video, two at a time."""
    jobs = [(command, video) for video in videos for command in COMMANDS]
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(lambda job: run_cli(job[0], job[1], work), jobs))


def damaged_files(clean: dict[str, bytes], out: Path, rounds: int) -> list[Path]:
    """One damaged copy per case and round, seeded by the case name and the round."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for round_ in range(FIRST_ROUND, FIRST_ROUND + rounds):
        for case in CASES:
            rng = random.Random(f"{case.name}/{round_}")
            path = out / f"{case.name}-{round_}{Path(case.source).suffix}"
            path.write_bytes(case.damage(clean[case.source], rng))
            paths.append(path)
    return paths


# --------------------------------------------------------------------------- fixtures and tests
def make_clean_clips(root: Path) -> dict[str, bytes]:
    """2 s clips with a cut, audio and short GOPs (so sampling seeks), as MP4 with the index
    last, MP4 with the index first, and MKV."""
    spec = {"duration": 2.0, "cuts": [1.0], "audio": True, "gop": 12}
    make_clip(root / "plain.mp4", **spec)
    make_clip(root / "clip.mkv", **spec)
    remux_faststart(root / "plain.mp4", root / "fast.mp4")
    return {name: (root / name).read_bytes() for name in ("plain.mp4", "fast.mp4", "clip.mkv")}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, bytes]:
    return make_clean_clips(tmp_path_factory.mktemp("clean"))


def test_damage_lands_where_intended(clean):
    fast, plain = clean["fast.mp4"], clean["plain.mp4"]
    assert mp4_box(fast, b"moov")[0] < mp4_box(fast, b"mdat")[0]  # index first
    assert mp4_box(plain, b"moov")[0] > mp4_box(plain, b"mdat")[0]  # index last
    for case in CASES:
        data = clean[case.source]
        damaged = case.damage(data, random.Random(case.name))
        assert damaged != data and damaged == case.damage(data, random.Random(case.name))  # seeded


def test_damaged_files_end_cleanly(clean, tmp_path):
    videos = damaged_files(clean, tmp_path / "damaged", ROUNDS)
    outcomes = run_all(videos, tmp_path)
    bad = [f"{outcome}: {', '.join(outcome.problems())}" for outcome in outcomes if outcome.problems()]
    assert not bad, "\n".join(bad)


def test_named_pipe_exits_3_at_once(tmp_path):
    fifo = tmp_path / "live.mp4"
    os.mkfifo(fifo)
    outcome = run_cli("plan", fifo, tmp_path)
    assert outcome.exit_code == 3, outcome
    assert outcome.stderr.count("\n") == 1 and "named pipe" in outcome.stderr, outcome
