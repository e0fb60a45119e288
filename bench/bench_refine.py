"""Timestamp error of ``ask`` before and after the refine pass (issue 11), and what the pass costs.

    python bench/bench_refine.py [--seeds 2] [--durations 60 150 300]

On generated clips with coloured squares appearing at known, non-round times (three events per
clip, each lasting longer than the overview's frame gap so the overview can see it), ``ask`` asks
"When does the <colour> square appear?" once per event, with the default task config (hybrid
sampling, 32 frames). The model is the loopback server's IDEAL OBSERVER
(``tests/fakeserver.first_showing_responder``): it sees only the frames sent and cites the label of
the first one showing the square, never wrong, never inventing. So the errors printed are the
sampling-limited error: what the frames sent allow at best, not what a real model achieves.

Printed per clip and overall: the mean / max error in seconds of the overview's time (the
baseline, measured in the same run) and of the refined time, with their ratio; the refine pass's
extra input tokens (counted on the exact bodies) against the overview's, and its cost at the
model's list prices (input as sent, output at the limit = the plan's worst case).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "bench" / "media"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

COLOURS = ("red", "green", "blue")
KEY = "sk-bench"


def events_for(duration: float, seed: int) -> list[tuple[str, float, float]]:
    """Three events at non-round times, each 1.3-2x the overview's gap long (so it is seen)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    gap = duration / 30
    slot = duration / len(COLOURS)
    events = []
    for k, colour in enumerate(COLOURS):
        length = gap * rng.uniform(1.3, 2.0)
        start = k * slot + rng.uniform(0.1, max(0.2, slot - length - 0.1))
        events.append((colour, round(float(start), 3), round(float(start + length), 3)))
    return events


def clip(duration: float, seed: int) -> tuple[Path, dict]:
    from media import generate

    path = MEDIA / f"events_{int(duration)}s_seed{seed}.mp4"
    if path.exists():
        return path, generate.load_ground_truth(path)
    print(f"generating {path.name} ...", flush=True)
    return path, generate.generate_event_clip(path, duration=duration, events=events_for(duration, seed))


def measure(path: Path, gt: dict, client, strategy: str | None) -> dict:
    from videovision import TaskConfig
    from videovision.models import chat_tokens, estimate_cost
    from videovision.parsing import TimeCheck, parse_answers
    from videovision.pipeline import make_plan
    from videovision.prompts import PromptOptions
    from videovision.refine import apply_refined, refine_estimate, refine_requests, refine_windows

    questions = tuple(f"When does the {e['colour']} square appear?" for e in gt["events"])
    config = TaskConfig(prompt=PromptOptions(task="ask", questions=questions))
    if strategy:
        config = replace(config, sampling=replace(config.sampling, strategy=strategy, every=gt["duration"] / 32))
    plan = make_plan(path, config)
    reply = client.complete(plan.requests[0].body)
    answers = parse_answers(reply.text, questions, TimeCheck(plan.seen_times, plan.video.duration,
                                                             plan.config.tolerance))
    requests = refine_requests(plan, refine_windows(plan, answers), path)
    result = apply_refined(plan, answers, requests, [client.complete(r.body) for r in requests])
    coarse, fine, missed = [], [], 0
    for event, before, after in zip(gt["events"], answers, result.answers):
        if not before.moments:
            missed += 1
            continue
        coarse.append(abs(before.moments[0].time - event["first_time"]))
        fine.append(abs(after.moments[0].time - event["first_time"]))
    overview_tokens = plan.image_tokens + plan.text_tokens
    counts = [chat_tokens(r.body["messages"], plan.spec) for r in requests]
    refine_tokens = sum(c.image_tokens + c.text_tokens for c in counts)
    output = plan.prompt.output_tokens(plan.spec) * len(requests)
    estimate = refine_estimate(plan)
    return {"coarse": coarse, "fine": fine, "missed": missed, "overview_tokens": overview_tokens,
            "refine_tokens": refine_tokens, "refine_cost": estimate_cost(plan.spec, refine_tokens, output),
            "estimate": estimate, "requests": len(requests), "frames": [len(r.images) for r in requests]}


def row(name: str, coarse: list[float], fine: list[float]) -> str:
    if not coarse:
        return f"{name:<28} (no event placed)"
    mc, mf = statistics.mean(coarse), statistics.mean(fine)
    ratio = f"{mc / mf:6.1f}x" if mf > 0 else "   inf"
    return (f"{name:<28} {len(coarse):>3}  {mc:7.2f} {max(coarse):7.2f}   {mf:7.2f} {max(fine):7.2f}  {ratio}")


def main() -> int:
    from fakeserver import FakeOpenAIServer, first_showing_responder
    from media import generate

    from videovision.client import OpenAIChatClient
    from videovision.endpoint import ClientConfig

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--durations", type=float, nargs="+", default=[60.0, 150.0, 300.0])
    parser.add_argument("--strategy", choices=["interval", "uniform", "hybrid", "scenes"], default=None,
                        help="overview sampling (default: the task default, hybrid)")
    args = parser.parse_args()
    MEDIA.mkdir(parents=True, exist_ok=True)
    clips = [clip(d, s) for d in args.durations for s in range(args.seeds)]
    eyes = {f"When does the {c} square appear?": (lambda rgb, c=c: generate.colour_shown(rgb, generate.EVENT_COLOURS[c]))
            for c in COLOURS}
    print("ideal observer (sees only the frames sent): sampling-limited timestamp error, seconds\n")
    print(f"{'clip':<28} {'n':>3}  {'coarse mean':>7} {'max':>7}   {'refined mean':>7} {'max':>7}  better")
    all_coarse: list[float] = []
    all_fine: list[float] = []
    results = []
    with FakeOpenAIServer(api_key=KEY, responder=first_showing_responder(eyes)) as server, \
            OpenAIChatClient(ClientConfig(api_key=KEY, base_url=server.base_url, max_retries=0)) as client:
        for path, gt in clips:
            r = measure(path, gt, client, args.strategy)
            results.append((path, r))
            all_coarse += r["coarse"]
            all_fine += r["fine"]
            print(row(path.name, r["coarse"], r["fine"]) + (f"  ({r['missed']} not seen)" if r["missed"] else ""))
    print(row("all", all_coarse, all_fine))
    print(f"\nrefined within 1 s: {sum(e <= 1.0 for e in all_fine)}/{len(all_fine)}"
          f"   within 0.5 s: {sum(e <= 0.5 for e in all_fine)}/{len(all_fine)}"
          f"   (overview within 1 s: {sum(e <= 1.0 for e in all_coarse)}/{len(all_coarse)})")
    print(f"\n{'clip':<28} {'overview in':>11} {'refine in':>10} {'extra':>6} {'frames/req':>11} {'refine $':>9} "
          f"{'worst-case $':>12}")
    for path, r in results:
        est = r["estimate"]
        worst = "?" if est is None or est.cost_usd is None else f"{est.cost_usd:.5f}"
        cost = "?" if r["refine_cost"] is None else f"{r['refine_cost']:.5f}"
        print(f"{path.name:<28} {r['overview_tokens']:>11} {r['refine_tokens']:>10} "
              f"{r['refine_tokens'] / r['overview_tokens']:5.2f}x {'/'.join(map(str, r['frames'])):>11} "
              f"{cost:>9} {worst:>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
