"""Map-reduce concurrency and cache benchmark (issue 4), against the loopback test server.

    python bench/bench_mapreduce.py [--delay 1.0] [--chunks 8] [--concurrency 4]

The server answers every request after a fixed delay. One plan with `chunks` map requests
(+1 reduce) is run three ways, all measured in this run:

  serial      concurrency 1, no cache                      baseline
  concurrent  concurrency 4 (default), fresh cache         target <= 0.35x of serial
  re-run      the same command again, same cache           target: zero requests, <= 0.1x of concurrent
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    from fakeserver import FakeOpenAIServer, default_responder

    from videovision import (
        ClientConfig,
        OpenAIChatClient,
        PackConfig,
        SamplingConfig,
        TaskConfig,
        make_plan,
        open_cache,
        run_plan,
    )

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--video", type=Path, default=ROOT / "samples" / "demo.mp4")
    args = parser.parse_args()

    def slow(body):
        time.sleep(args.delay)
        return default_responder(body)

    frames = args.chunks * 3
    config = TaskConfig(
        sampling=SamplingConfig(strategy="uniform", count=frames),
        pack=PackConfig(model="gpt-4o", frames_per_request=3),
    )
    plan = make_plan(args.video, config)
    maps = sum(1 for r in plan.requests if r.kind == "map")
    print(f"plan: {len(plan.images)} images, {maps} map requests + 1 reduce, server delay {args.delay:g} s")
    with FakeOpenAIServer(responder=slow) as server, tempfile.TemporaryDirectory() as tmp:
        client = OpenAIChatClient(ClientConfig(api_key="sk-bench", base_url=server.base_url))

        def run(concurrency, cache):
            start = time.perf_counter()
            before = server.request_count
            run_plan(replace(plan, config=replace(plan.config, concurrency=concurrency)), client, cache=cache)
            return time.perf_counter() - start, server.request_count - before

        serial, n_serial = run(1, None)
        cache = open_cache(Path(tmp) / "cache")
        concurrent, n_conc = run(args.concurrency, cache)
        again, n_again = run(args.concurrency, cache)
        cache.close()
    r1, r2 = concurrent / serial, again / concurrent
    print(f"  serial (concurrency 1)      {serial:6.2f} s  {n_serial} requests   baseline")
    print(f"  concurrent (concurrency {args.concurrency})  {concurrent:6.2f} s  {n_conc} requests   "
          f"{r1:.2f}x of serial   target <= 0.35x  {'ok' if r1 <= 0.35 else 'MISSED'}")
    print(f"  identical re-run            {again:6.3f} s  {n_again} requests   "
          f"{r2:.3f}x of first run  target 0 requests, <= 0.1x  {'ok' if n_again == 0 and r2 <= 0.1 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
