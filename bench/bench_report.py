"""HTML report benchmark (issue 12): generation time and file size for a 32-frame run.

    python bench/bench_report.py [VIDEO] [--frames 32] [--detail auto] [--repeat 7]

A real run (make_plan + run_plan against the loopback server, whose reply cites a time for every
frame sent), then ``render_report`` timed ``--repeat`` times (median). Baseline, measured in the
same run on the same images: base64-encoding the packed JPEGs alone, the least any self-contained
page embedding them must do. Targets: generation <= 1 s, file <= 2 MB.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET_SECONDS = 1.0
TARGET_BYTES = 2 * 1024 * 1024
KEY = "sk-bench"


def main() -> int:
    from fakeserver import FakeOpenAIServer, frame_labels

    from videovision.client import OpenAIChatClient
    from videovision.endpoint import ClientConfig
    from videovision.packing import Budget, PackConfig
    from videovision.pipeline import make_plan, run_plan
    from videovision.plan import TaskConfig
    from videovision.prompts import PromptOptions
    from videovision.report import render_report
    from videovision.types import SamplingConfig, SpeechConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", default=str(ROOT / "samples" / "demo.mp4"))
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--detail", default=None, choices=("low", "high", "auto"), help="default: the library's")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    def reply(body: dict) -> str:
        """A paragraph per frame, each citing its time (a reduce request: each time its chunks cited)."""
        labels = frame_labels(body) or list(dict.fromkeys(re.findall(r"\[\d\d:\d\d:\d\d\.\d\]", json.dumps(body))))
        return "\n\n".join(f"At {label} the card is **shown** <b>again</b>." for label in labels)

    config = TaskConfig(sampling=SamplingConfig(strategy="uniform", count=args.frames),
                        pack=PackConfig(budget=Budget(max_frames=args.frames),
                                        **({"detail": args.detail} if args.detail else {})),
                        prompt=PromptOptions(task="summarize"), speech=SpeechConfig(mode="off"))
    with FakeOpenAIServer(api_key=KEY, responder=reply) as server:
        plan = make_plan(args.video, config)
        with OpenAIChatClient(ClientConfig(api_key=KEY, base_url=server.base_url, max_retries=0)) as client:
            result = run_plan(plan, client)
    images = [i.data for i in plan.images]
    out = Path(tempfile.gettempdir()) / "bench_report.html"

    def timed(fn) -> float:
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    base = timed(lambda: [base64.b64encode(d) for d in images])
    page = render_report(result, video=args.video, out=out)
    spent = timed(lambda: render_report(result, video=args.video, out=out))
    size = len(page.encode("utf-8"))
    jpeg = sum(len(d) for d in images)
    b64 = sum(len(base64.b64encode(d)) for d in images)
    out.write_text(page, encoding="utf-8")

    print(f"video {args.video}: {len(plan.sent_times)} frames in {len(images)} images (detail {plan.detail}, {len(plan.requests)} requests), "
          f"{len(result.summary.moments) if result.summary else 0} cited times; median of {args.repeat}")
    print(f"{'':24}{'seconds':>10}{'bytes':>12}")
    print(f"{'baseline: base64 only':24}{base:>10.4f}{b64:>12,}")
    print(f"{'render_report':24}{spent:>10.4f}{size:>12,}")
    print(f"ratio report / baseline: time {spent / base if base else float('inf'):.1f}x, size {size / b64:.3f}x "
          f"(JPEG bytes {jpeg:,}; page beyond the images {size - b64:,} bytes)")
    ok_time, ok_size = spent <= TARGET_SECONDS, size <= TARGET_BYTES
    print(f"target time <= {TARGET_SECONDS:g} s: {'ok' if ok_time else 'MISSED'}; "
          f"size <= {TARGET_BYTES:,} bytes: {'ok' if ok_size else 'MISSED'}; page written to {out}")
    return 0 if ok_time and ok_size else 1


if __name__ == "__main__":
    raise SystemExit(main())
