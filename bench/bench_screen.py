"""Slide talks and fades (issue 9).

    python bench/bench_screen.py [--minutes 30] [--slides 16]

On a generated screen recording of a slide talk (``generate_screen_clip``: slides of one
template, moving pointer, ticking clock, webcam thumbnail, progressive reveals; 960x540 15 fps):

  coverage   share of slides with at least one frame in the default plan (``make_plan`` with the
             task defaults: hybrid, preset auto) at a budget of slides + 10 %   (target >= 95 %)
  baseline   the same with ``detector="content"`` (PySceneDetect's film detector, its defaults)
  cost       wall time of our detection pass (``sample`` with the default hybrid/auto options)
             against ``scenedetect.detect(path, ContentDetector())`` on the same file   (<= 1.1x)

and on generated fade clips (fades through black, fade in/out at both ends): black frames in the
default plan (target 0).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "bench" / "media"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def slide_coverage(times, slides) -> float:
    hit = sum(1 for s in slides if any(s["start"] <= t < s["end"] for t in times))
    return hit / len(slides)


def plan_times(path, budget: int, **sampling) -> tuple[list[float], str]:
    from videovision import Budget, PackConfig, SamplingConfig, TaskConfig, make_plan

    config = TaskConfig(sampling=SamplingConfig(strategy="hybrid", **sampling),
                        pack=PackConfig(model="gpt-4o", detail="low", budget=Budget(max_frames=budget)))
    plan = make_plan(path, config)
    return list(plan.sent_times), ""


def timed_sample(path, **sampling) -> tuple[float, object]:
    from videovision import SamplingConfig, open_video, sample

    t0 = time.perf_counter()
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(strategy="hybrid", **sampling))
        for _ in stream:
            pass
    return time.perf_counter() - t0, stream


def main() -> int:
    import scenedetect
    from media import generate

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--slides", type=int, default=16)
    args = parser.parse_args()
    MEDIA.mkdir(parents=True, exist_ok=True)
    path = MEDIA / f"screen_{args.minutes:g}min_{args.slides}slides.mp4"
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        generate.generate_screen_clip(path, slides=args.slides, minutes=args.minutes, size=(960, 540),
                                      webcam=True, gop=250, progress=False)
    gt = generate.load_ground_truth(path)
    slides = gt["slides"]
    budget = math.ceil(len(slides) * 1.1)

    t0 = time.perf_counter()
    psd = scenedetect.detect(str(path), scenedetect.ContentDetector())
    t_psd = time.perf_counter() - t0
    t_ours, stream = timed_sample(path)
    print(f"{path.name}: {gt['duration'] / 60:.0f} min, {len(slides)} slides, {len(gt['reveals'])} reveals")
    print(f"  PySceneDetect detect(ContentDetector()): {len(psd)} scenes, {t_psd:.1f} s")
    print(f"  videovision sample (hybrid, preset {stream.preset_used}): {len(stream.scenes)} scenes, "
          f"{t_ours:.1f} s   cost ratio {t_ours / t_psd:.2f}x (target <= 1.1x)  [{stream.preset_reason}]")

    times, _ = plan_times(path, budget)
    base, _ = plan_times(path, budget, detector="content")
    cov, cov_base = slide_coverage(times, slides), slide_coverage(base, slides)
    print(f"  default plan at budget {budget} (slides + 10 %): {len(times)} frames, slide coverage {cov:.1%} "
          f"(target >= 95 %: {'ok' if cov >= 0.95 else 'MISSED'});  with detector=content: {cov_base:.1%}  "
          f"-> {cov / max(cov_base, 1e-9):.2f}x")

    black_total = sent_total = 0
    for seed in range(3):
        fpath = MEDIA / f"fades_seed{seed}.mp4"
        if not fpath.exists():
            generate.generate_fade_clip(fpath, seed=seed, size=(480, 270))
        fgt = generate.load_ground_truth(fpath)
        ftimes, _ = plan_times(fpath, 32)
        black = {round(fgt["frame_times"][i], 6) for i in fgt["black_frames"]}
        faded = {round(fgt["frame_times"][int(i)], 6) for i, a in fgt["fade_alpha"].items() if a < 0.85}
        n_black = sum(1 for t in ftimes if round(t, 6) in black)
        n_faded = sum(1 for t in ftimes if round(t, 6) in faded)
        black_total += n_black
        sent_total += len(ftimes)
        print(f"  {fpath.name}: {len(ftimes)} frames sent, {n_black} black, {n_faded} faded below 85 %")
    print(f"  black frames sent on fade clips: {black_total} of {sent_total} (target 0: "
          f"{'ok' if black_total == 0 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
