"""Ray overhead benchmark (issue 13): ``executor ray`` (local runtime) vs the process pool, <= 1.3x wall time.

    python bench/bench_ray.py [--videos 20] [--duration 12] [--jobs 2] [--rounds 1]

The same library as bench/bench_batch.py (``videos`` clips, 480x270, 25 fps, a hard cut every 3 s,
textured), run with ``run_batch`` (task summarize, default sampling) against the loopback server
answering instantly, each run with a fresh cache and output folder so every video is decoded. Both
measured in this run, alternated per round (best of rounds):

  process    jobs worker processes (forkserver)                        baseline
  ray        executor ray: a local Ray runtime of jobs CPUs, started    target <= 1.3x the baseline's wall time
             and shut down by the batch, one Ray task per video

Start-up is part of what is measured on both sides (worker processes; ``ray.init`` and Ray's
workers). The statuses and the requests sent must be the same, or the run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

TARGET = 1.3
EXECUTORS = ("process", "ray")


def run(videos: Path, executor: str, jobs: int, server) -> tuple[float, int, list[str]]:
    """Wall seconds, videos ok, and the chat request bodies sent (sorted) for one batch."""
    from videovision.batch import run_batch
    from videovision.endpoint import ClientConfig
    from videovision.plan import TaskConfig

    before = len(server.chat_requests)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = run_batch([videos], Path(tmp) / "out", TaskConfig(), task="summarize", jobs=jobs,
                            endpoint=ClientConfig(api_key="sk-bench", base_url=server.base_url),
                            cache_dir=Path(tmp) / "cache", executor=executor)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
    if summary.failed:
        raise SystemExit(f"{executor}: {summary.failed} videos failed")
    bodies = sorted(json.dumps(r.body, sort_keys=True) for r in server.chat_requests[before:])
    return seconds, summary.ok, bodies


def main() -> int:
    from bench_batch import make_videos
    from fakeserver import FakeOpenAIServer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--duration", type=float, default=12.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer(api_key="sk-bench") as server:
        server.prompt_caching = False  # both executors' identical prompts billed alike
        folder = Path(tmp) / "library"
        t = time.perf_counter()
        make_videos(folder, args.videos, args.duration)
        print(f"{args.videos} videos of {args.duration:g} s made in {time.perf_counter() - t:.1f} s; "
              f"{os.cpu_count()} CPUs, jobs {args.jobs}, load average {os.getloadavg()[0]:.2f}")
        best: dict[str, float] = {}
        sent: dict[str, list[str]] = {}
        for r in range(args.rounds):
            for executor in EXECUTORS:
                seconds, ok, bodies = run(folder, executor, args.jobs, server)
                best[executor] = min(best.get(executor, seconds), seconds)
                sent.setdefault(executor, bodies)
                print(f"round {r + 1}  {executor:7s}: {seconds:6.1f} s  {ok / seconds:5.2f} videos/s  "
                      f"{len(bodies)} requests")
        same = sent["ray"] == sent["process"]
        ratio = best["ray"] / best["process"]
        ok = ratio <= TARGET and same
        print(f"requests identical: {same}")
        print(f"ray vs process pool: {ratio:.2f}x wall time (target <= {TARGET:g}x): {'PASS' if ok else 'FAIL'}; "
              f"load average now {os.getloadavg()[0]:.2f}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
