"""Batch throughput benchmark (issue 13): ``jobs 2`` vs ``jobs 1`` on 20 short videos, >= 1.7x on 2 cores.

    python bench/bench_batch.py [--videos 20] [--duration 12] [--rounds 1]

Generates ``videos`` clips (480x270, 25 fps, a hard cut every 3 s, textured so decoding costs what
real footage does), then runs ``run_batch`` (task summarize, default hybrid sampling with scene
detection) against the loopback server answering instantly, each time with a fresh cache and output
folder so every video is decoded. Both measured in this run, alternated per round (best of rounds):

  jobs 1     one worker process making plans                baseline
  jobs 2     two worker processes                           target >= 1.7x the videos/s of jobs 1

Worker start-up (spawn: a new interpreter importing videovision) is part of the time measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET = 1.7


def make_videos(folder: Path, count: int, duration: float) -> list[Path]:
    from media import make_clip

    paths = []
    for i in range(count):
        path = folder / f"course{i % 4}" / f"lecture{i:02d}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        cuts = [t for t in range(3, int(duration), 3)]
        make_clip(path, duration=duration, size=(480, 270), cuts=cuts, detail=0.6, seed=i)
        paths.append(path)
    return paths


def run(videos: Path, jobs: int, server_url: str) -> tuple[float, int]:
    from videovision.batch import run_batch
    from videovision.endpoint import ClientConfig
    from videovision.plan import TaskConfig

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = run_batch([videos], Path(tmp) / "out", TaskConfig(), task="summarize", jobs=jobs,
                            endpoint=ClientConfig(api_key="sk-bench", base_url=server_url),
                            cache_dir=Path(tmp) / "cache")
        seconds = time.perf_counter() - started
    if summary.failed:
        raise SystemExit(f"jobs {jobs}: {summary.failed} videos failed")
    return seconds, summary.ok


def main() -> int:
    from fakeserver import FakeOpenAIServer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--duration", type=float, default=12.0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer(api_key="sk-bench") as server:
        folder = Path(tmp) / "library"
        t = time.perf_counter()
        make_videos(folder, args.videos, args.duration)
        print(f"{args.videos} videos of {args.duration:g} s made in {time.perf_counter() - t:.1f} s; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
        best: dict[int, float] = {}
        for r in range(args.rounds):
            for jobs in (1, 2):
                seconds, ok = run(folder, jobs, server.base_url)
                best[jobs] = min(best.get(jobs, seconds), seconds)
                print(f"round {r + 1}  jobs {jobs}: {seconds:6.1f} s  {ok / seconds:5.2f} videos/s  "
                      f"({len(server.chat_requests)} requests so far)")
        ratio = best[1] / best[2]
        ok = ratio >= TARGET
        print(f"jobs 2 vs jobs 1: {ratio:.2f}x throughput (target >= {TARGET:g}x): {'PASS' if ok else 'FAIL'}; "
              f"load average now {os.getloadavg()[0]:.2f}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
