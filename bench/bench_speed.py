"""Scene sampling and the default plan against their baselines, before and after a change (issue 24).

    python bench/bench_speed.py [--clip PATH ...] [--repeat 3] [--before REF] [--json FILE]

Every measurement runs as its own process (wall time, start-up included, as a user sees it, and
the CPU time of all its threads, which a loaded machine disturbs less, and its peak RSS);
each is repeated ``--repeat`` times, interleaved (before, after, baselines, then again), and
the median is reported with the machine's load average at the time. Printed per clip:

  frames --strategy scenes --preset film    vs  scenedetect.detect(path, AdaptiveDetector())
  plan (the default plan, --no-cache)       vs  the decode floor: OpenCV grab() on every frame,
                                                and PyAV decoding every frame (thread_type AUTO)
  each of the two, after vs before          and whether the outputs are identical (frames.json
                                                and every JPEG; the plan's request bodies)

"before" is the tree of ``--before`` (default: the merge base with ``main``) exported with
``git archive`` into a temporary folder; "after" is this checkout. ``--before none`` skips it.
Clips default to bench/media/long720_3min.mp4 (1280x720 30 fps, 8 cuts) and
bench/media/long360_5min.mp4 (640x360, 14 cuts), generated on first run (under a minute);
``--clip bench/media/k4_20s.mp4`` (20 s 4K), ``--clip bench/media/screen720_3min.mp4`` (a 3-min
720p screen recording with a webcam thumbnail) and ``--clip bench/media/long360_60min.mp4`` (60 min,
the 5-min clip twelve times, needs the ffmpeg CLI) are made when named. The machine's load
(os.getloadavg) is printed beside every round and ratio.

Two cores, other people's tests running: compare the ratios, read the load beside them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "bench" / "media"
DEFAULT_CLIPS = {"long720_3min.mp4": {"minutes": 3}, "long360_5min.mp4": {"minutes": 5, "size": (640, 360)}}
EXTRA_CLIPS = {"k4_20s.mp4": {"minutes": 1 / 3, "size": (3840, 2160), "n_cuts": 2}}
"""Made on demand when named with --clip (bench/media/k4_20s.mp4: 20 s 3840x2160, 2 cuts)."""
SCREEN_CLIPS = {"screen720_3min.mp4": {"slides": 24, "minutes": 3, "size": (1280, 720), "fps": 30, "webcam": True}}
"""--clip bench/media/screen720_3min.mp4: a 3-min 1280x720 30 fps screen recording (24 slides, reveals,
a moving pointer, a ticking clock, a presenter webcam thumbnail)."""
LONG_CLIP = "long360_60min.mp4"
"""--clip bench/media/long360_60min.mp4: long360_5min.mp4 twelve times over (ffmpeg CLI concat, stream copy)."""

SCENEDETECT = "from scenedetect import AdaptiveDetector, detect; print(len(detect({path!r}, AdaptiveDetector())))"
GRAB = ("import cv2\ncap = cv2.VideoCapture({path!r}); n = 0\nwhile cap.grab():\n    n += 1\nprint(n)")
PYAV = ("import av\nc = av.open({path!r}); s = c.streams.video[0]; s.thread_type = 'AUTO'\n"
        "print(sum(1 for _ in c.decode(s)))")


def ensure_clip(path: Path) -> Path:
    if path.exists():
        return path
    if path.name == LONG_CLIP:
        part = ensure_clip(path.with_name("long360_5min.mp4"))
        listing = path.with_suffix(".txt")
        listing.write_text("".join(f"file '{part}'\n" for _ in range(12)))
        subprocess.run(["ffmpeg", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                        str(path)], check=True)
        listing.unlink()
        return path
    spec = DEFAULT_CLIPS.get(path.name) or EXTRA_CLIPS.get(path.name) or SCREEN_CLIPS.get(path.name)
    if spec is None:
        raise SystemExit(f"{path}: no such clip")
    sys.path.insert(0, str(ROOT / "tests"))
    from media import generate

    print(f"generating {path} ...", flush=True)
    make = generate.generate_screen_clip if path.name in SCREEN_CLIPS else generate.generate_long_clip
    make(path, progress=False, **spec)
    return path


def export_tree(ref: str, into: Path) -> Path:
    """The tree of a git commit, exported (an importable copy of the package as it was)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "videovision"], check=True,
                             capture_output=True).stdout
    tar_path = into / "tree.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


NEUTRAL_DIR = Path(tempfile.gettempdir())
"""Where the measured processes run: ``python -m``/``-c`` put the working directory first on
sys.path, so from inside a checkout they would import its package whatever PYTHONPATH says."""


def tree_env(pythonpath: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def imported_from(pythonpath: Path) -> Path:
    out = subprocess.run(python_code("import videovision; print(videovision.__file__)"), cwd=NEUTRAL_DIR,
                         env=tree_env(pythonpath), check=True, capture_output=True, text=True).stdout
    return Path(out.strip()).parent.parent


def run(argv: list[str], pythonpath: Path | None = None) -> tuple[float, float, float]:
    """Wall and CPU (user + system, every thread) seconds of one process, and its peak RSS in MB."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=tree_env(pythonpath), cwd=NEUTRAL_DIR, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    stderr = child.stderr.read() if child.stderr is not None else b""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, argv, stderr=stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def python_code(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def digest_dir(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, action="append", help="a clip (repeatable; default: two generated)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", default="auto", help="git ref to compare with (default: merge base with main)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    clips = [ensure_clip(p.resolve()) for p in (args.clip or [MEDIA / name for name in DEFAULT_CLIPS])]
    before_ref = args.before
    if before_ref == "auto":
        before_ref = subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], check=True,
                                    capture_output=True, text=True).stdout.strip()
    results: dict = {"cpus": os.cpu_count(), "repeat": args.repeat, "before": before_ref, "clips": {}}
    with tempfile.TemporaryDirectory(prefix="vv-bench-") as tmp_name:
        tmp = Path(tmp_name)
        trees = {"after": ROOT}
        if before_ref and before_ref != "none":
            trees["before"] = export_tree(before_ref, tmp)
        for name, tree in trees.items():
            if imported_from(tree).resolve() != tree.resolve():
                raise SystemExit(f"{name}: videovision is imported from {imported_from(tree)}, not {tree}")
        print(f"before = {before_ref[:12] if 'before' in trees else '-'}, after = {ROOT} ; "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} at start", flush=True)
        for clip in clips:
            results["clips"][clip.name] = measure_clip(clip, trees, tmp, args.repeat)
    print(f"load at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def measure_clip(clip: Path, trees: dict[str, Path], tmp: Path, repeat: int) -> dict:
    path = str(clip)
    vv = [sys.executable, "-m", "videovision"]
    jobs: dict[str, tuple[list[str], Path | None]] = {
        "scenedetect detect() adaptive": (python_code(SCENEDETECT.format(path=path)), None),
        "opencv grab() every frame": (python_code(GRAB.format(path=path)), None),
        "pyav decode every frame": (python_code(PYAV.format(path=path)), None),
    }
    outputs: dict[str, dict[str, Path]] = {"frames": {}, "plan": {}}
    for name, tree in trees.items():
        frames_out, plan_out = tmp / f"{clip.stem}-{name}-frames", tmp / f"{clip.stem}-{name}-plan.json"
        outputs["frames"][name], outputs["plan"][name] = frames_out, plan_out
        jobs[f"frames scenes film ({name})"] = (
            vv + ["frames", path, "--strategy", "scenes", "--preset", "film", "--out", str(frames_out)], tree)
        jobs[f"plan ({name})"] = (vv + ["plan", path, "--no-cache", "--speech", "off",
                                        "--request-json", str(plan_out)], tree)
    times: dict[str, list[float]] = {name: [] for name in jobs}
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    peak: dict[str, float] = {}
    loads: list[float] = []
    info = subprocess.run(python_code(GRAB.format(path=path)), capture_output=True, text=True, check=True,
                          cwd=NEUTRAL_DIR).stdout
    print(f"\n{clip.name}: {clip.stat().st_size / 1e6:.0f} MB, {info.strip()} frames", flush=True)
    for i in range(repeat):
        for name, (argv, tree) in jobs.items():
            loads.append(os.getloadavg()[0])
            wall, used, rss = run(argv, tree)
            times[name].append(wall)
            cpu[name].append(used)
            peak[name] = max(peak.get(name, 0.0), rss)
        print(f"  round {i + 1}/{repeat} done, load {os.getloadavg()[0]:.2f}", flush=True)
    med = {name: statistics.median(values) for name, values in times.items()}
    med_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    for name, value in med.items():
        spread = f"{min(times[name]):.1f}-{max(times[name]):.1f}"
        print(f"  {name:<36} {value:7.2f} s wall (runs {spread} s), {med_cpu[name]:6.2f} s CPU, "
              f"peak RSS {peak[name]:4.0f} MB")
    ratios: dict[str, tuple[float, float]] = {}

    def ratio(label: str, a: str, b: str) -> None:
        if a in med and b in med:
            ratios[label] = (med[a] / med[b], med_cpu[a] / med_cpu[b])
            print(f"  {label:<58} {ratios[label][0]:.2f}x wall  {ratios[label][1]:.2f}x CPU")

    print("  ratios (medians):")
    for name in trees:
        ratio(f"frames scenes film ({name}) / scenedetect detect()", f"frames scenes film ({name})",
              "scenedetect detect() adaptive")
        ratio(f"plan ({name}) / opencv grab() every frame", f"plan ({name})", "opencv grab() every frame")
        ratio(f"plan ({name}) / pyav decode every frame", f"plan ({name})", "pyav decode every frame")
    ratio("frames scenes film: after / before", "frames scenes film (after)", "frames scenes film (before)")
    ratio("plan: after / before", "plan (after)", "plan (before)")
    identical = {}
    if "before" in trees:
        identical["frames (frames.json + JPEGs)"] = (digest_dir(outputs["frames"]["before"])
                                                     == digest_dir(outputs["frames"]["after"]))
        identical["plan request bodies"] = (outputs["plan"]["before"].read_bytes()
                                            == outputs["plan"]["after"].read_bytes())
        for what, same in identical.items():
            print(f"  {what} before vs after: {'identical' if same else 'DIFFERENT'}")
    print(f"  load average during the runs: median {statistics.median(loads):.2f}, "
          f"max {max(loads):.2f}", flush=True)
    return {"seconds": times, "cpu_seconds": cpu, "peak_rss_mb": peak, "median": med, "median_cpu": med_cpu, "ratios": ratios, "identical": identical,
            "load_median": statistics.median(loads), "load_max": max(loads)}


if __name__ == "__main__":
    sys.exit(main())
