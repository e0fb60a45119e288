"""Frame-extraction benchmark (issue 2): ratios against baselines measured in the same run.

    python bench/bench_sampling.py [--clip PATH] [--short PATH] [--repeat 1]

Generates (once, into bench/media/) a 10-minute 1280x720 30 fps H.264 clip with GOP 250 and 28
hard cuts, plus a 1-minute one, unless given. Prints each measurement and its ratio:

  interval 1/5 s (exact frames)     vs OpenCV grab() on every frame   target <= 0.8x
                                    vs ffmpeg CLI -vf fps=1/5 -> JPEG target <= 0.7x (if ffmpeg is installed)
                                    vs cookbook read+JPEG every frame target <= 0.4x
  interval 1/60 s                   vs OpenCV grab() on every frame   target <= 0.2x
  scenes incl. frame extraction     vs PySceneDetect detect() alone   target <= 1.1x (stretch 0.9x)
  peak RSS, hybrid on 10 min vs 1 min                                 target < 50 MB difference

Machines are noisy: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "bench" / "media"
sys.path.insert(0, str(ROOT))


def ensure_clip(path: Path, minutes: float) -> Path:
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT / "tests"))
    from media import generate

    print(f"generating {path} ({minutes} min, takes a few minutes) ...", flush=True)
    generate.generate_long_clip(path, minutes=minutes, n_cuts=max(1, round(2.8 * minutes)), progress=False)
    return path


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def opencv_grab_all(path: Path) -> int:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.grab():
        n += 1
    cap.release()
    return n


def cookbook_loop(path: Path) -> int:
    """The OpenAI cookbook's loop: read, convert and JPEG+base64-encode every frame (kept every 50th
    here to bound memory; the encoding work per frame is the same)."""
    import base64

    import cv2

    cap = cv2.VideoCapture(str(path))
    kept = []
    n = 0
    while cap.isOpened():
        ok, frame = cap.read()
        if not ok:
            break
        _, buffer = cv2.imencode(".jpg", frame)
        encoded = base64.b64encode(buffer).decode("utf-8")
        if n % 50 == 0:
            kept.append(encoded)
        n += 1
    cap.release()
    return n


def ffmpeg_fps(path: Path, every: float) -> int | None:
    exe = shutil.which("ffmpeg")
    if not exe:
        return None
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([exe, "-loglevel", "error", "-i", str(path), "-vf", f"fps=1/{every:g}", "-q:v", "2",
                        f"{out}/frame_%05d.jpg"], check=True)
        return len(list(Path(out).glob("*.jpg")))


def vv_sample(path: Path, **options) -> int:
    from videovision import SamplingConfig, open_video, sample

    with open_video(path) as video:
        return sum(1 for _ in sample(video, SamplingConfig(**options)))


def scenedetect_alone(path: Path) -> int:
    from scenedetect import AdaptiveDetector, detect

    return len(detect(str(path), AdaptiveDetector()))


def peak_rss_mb(path: Path, strategy: str) -> float:
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a child would report this
    # (larger) benchmark process's peak.
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from videovision import SamplingConfig, open_video, sample\n"
        "with open_video(%r) as v:\n"
        "    n = sum(1 for _ in sample(v, SamplingConfig(strategy=%r, max_gap=10)))\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(int(hwm) / 1024)\n"
    ) % (str(ROOT), str(path), strategy)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=MEDIA / "long720_10min.mp4")
    parser.add_argument("--short", type=Path, default=MEDIA / "long720_1min.mp4")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    clip = ensure_clip(args.clip, 10)
    short = ensure_clip(args.short, 1)
    r = args.repeat
    results: dict[str, float | None] = {}

    def report(name, seconds, base_name, target):
        base = results[base_name]
        ratio = seconds / base if base else None
        results[name] = seconds
        verdict = "" if ratio is None else ("ok" if ratio <= target else "MISSED")
        text = "n/a" if ratio is None else f"{ratio:.2f}x"
        print(f"  {name:<38} {seconds:7.1f} s   {text:>6} of {base_name:<24} target <= {target}x  {verdict}", flush=True)

    print(f"clip: {clip} ({clip.stat().st_size / 1e6:.0f} MB)")
    results["opencv grab() all"], n = timed(lambda: opencv_grab_all(clip), r)
    print(f"  {'opencv grab() all':<38} {results['opencv grab() all']:7.1f} s   ({n} frames)  baseline", flush=True)
    results["cookbook read+jpeg all"], _ = timed(lambda: cookbook_loop(clip), r)
    print(f"  {'cookbook read+jpeg all':<38} {results['cookbook read+jpeg all']:7.1f} s   baseline", flush=True)
    t_ff, n_ff = timed(lambda: ffmpeg_fps(clip, 5), r)
    results["ffmpeg fps=1/5 jpeg"] = t_ff if n_ff is not None else None
    print(f"  {'ffmpeg fps=1/5 jpeg':<38} " + (f"{t_ff:7.1f} s   baseline" if n_ff is not None else "   (ffmpeg CLI not installed)"), flush=True)
    t_int, n_int = timed(lambda: vv_sample(clip, strategy="interval", every=5.0), r)
    print(f"  videovision interval 1/5 s: {n_int} frames", flush=True)
    report("videovision interval 1/5 s", t_int, "opencv grab() all", 0.8)
    if results["ffmpeg fps=1/5 jpeg"]:
        report("videovision interval 1/5 s (vs ffmpeg)", t_int, "ffmpeg fps=1/5 jpeg", 0.7)
    report("videovision interval 1/5 s (vs cookbook)", t_int, "cookbook read+jpeg all", 0.4)
    t_sparse, _ = timed(lambda: vv_sample(clip, strategy="interval", every=60.0), r)
    report("videovision interval 1/60 s", t_sparse, "opencv grab() all", 0.2)
    results["scenedetect detect()"], n_sc = timed(lambda: scenedetect_alone(clip), r)
    print(f"  {'scenedetect detect() (adaptive)':<38} {results['scenedetect detect()']:7.1f} s   ({n_sc} scenes)  baseline", flush=True)
    t_scenes, n_frames = timed(lambda: vv_sample(clip, strategy="scenes"), r)
    report("videovision scenes + extraction", t_scenes, "scenedetect detect()", 1.1)
    rss_short = peak_rss_mb(short, "hybrid")
    rss_long = peak_rss_mb(clip, "hybrid")
    diff = rss_long - rss_short
    print(f"  peak RSS hybrid: 1 min {rss_short:.0f} MB, 10 min {rss_long:.0f} MB, difference {diff:.0f} MB "
          f"(target < 50 MB) {'ok' if diff < 50 else 'MISSED'}", flush=True)
    results.update({"rss_1min_mb": rss_short, "rss_10min_mb": rss_long})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
