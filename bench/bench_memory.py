"""Peak memory on 8K input (issue 8): decode-time downscaling against full-size decoding, measured
in the same run.

    python bench/bench_memory.py [--clip PATH] [--seconds 3] [--max-side 512]

Generates (into a temporary folder, unless ``--clip`` is given) a 7680x4320 10 fps H.264 clip
with three scenes, then runs each case in a fresh child process and reads the child's peak
resident memory (VmHWM from /proc/self/status; not ru_maxrss, which Linux keeps across execve):

  libraries imported                       the floor every case pays
  hybrid sampling, full-size frames        baseline: candidates held as decoded 8K pictures
  hybrid sampling, max_side N              frames scaled down at decode time   target < 400 MB
  interval sampling, full-size / max_side N
  CLI plan / plan --max-side N             what a user runs                     target < 400 MB

Machines are noisy: compare the ratios, not the megabytes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 7680, 4320
FPS = 10
TARGET_MB = 400.0

PEAK = (
    "\nhwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0].split()[1]"
    "\nprint('PEAK', int(hwm) / 1024)\n"
)


def make_8k_clip(path: Path, seconds: int) -> Path:
    """A synthetic 8K clip: a moving pattern whose look changes every second (three scenes)."""
    import av
    import numpy as np

    block = 8
    yy, xx = np.mgrid[0 : HEIGHT // block, 0 : WIDTH // block]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        for i in range(FPS * seconds):
            scene = i // FPS
            luma = np.kron(((xx + yy * (scene + 1) + i * 40) % 256).astype(np.uint8), np.ones((block, block), np.uint8))
            u = np.full((HEIGHT // 4, WIDTH), 60 + 60 * scene % 256, np.uint8)
            v = np.full((HEIGHT // 4, WIDTH), (200 - 50 * scene) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(np.concatenate([luma, u, v]), format="yuv420p")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def peak_mb(code: str) -> tuple[float, float]:
    """(peak resident MB, seconds) of a fresh interpreter running ``code``."""
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{code}{PEAK}"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peaks = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("PEAK ")]
    if done.returncode != 0 or not peaks:
        raise SystemExit(f"case failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return float(peaks[-1]), seconds


def sampling_code(clip: Path, strategy: str, max_side: int | None) -> str:
    return (
        "from videovision import SamplingConfig, open_video, sample\n"
        f"with open_video({str(clip)!r}) as video:\n"
        f"    n = sum(1 for _ in sample(video, SamplingConfig(strategy={strategy!r}, every=1.0, max_side={max_side!r})))\n"
    )


def cli_code(clip: Path, *extra: str) -> str:
    argv = ["plan", str(clip), "--no-cache", *extra]
    return f"from videovision.cli import main\nmain({argv!r})\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, help="an 8K (or any) video; default: generate one")
    parser.add_argument("--seconds", type=int, default=3, help="length of the generated clip")
    parser.add_argument("--max-side", type=int, default=512, help="the size asked for (512: detail low)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vv-bench-memory-") as tmp:
        clip = args.clip
        if clip is None:
            start = time.perf_counter()
            clip = make_8k_clip(Path(tmp) / "8k.mp4", args.seconds)
            print(f"generated {WIDTH}x{HEIGHT} {args.seconds} s clip in {time.perf_counter() - start:.0f} s", flush=True)
        n = args.max_side
        cases = [
            ("libraries imported", "import av, cv2, scenedetect, videovision, videovision.cli\n", None),
            ("hybrid, full-size frames", sampling_code(clip, "hybrid", None), None),
            (f"hybrid, max_side {n}", sampling_code(clip, "hybrid", n), "hybrid, full-size frames"),
            ("interval 1 s, full-size frames", sampling_code(clip, "interval", None), None),
            (f"interval 1 s, max_side {n}", sampling_code(clip, "interval", n), "interval 1 s, full-size frames"),
            ("CLI plan", cli_code(clip), "hybrid, full-size frames"),
            (f"CLI plan --max-side {n}", cli_code(clip, "--max-side", str(n)), "hybrid, full-size frames"),
        ]
        peaks: dict[str, float] = {}
        for name, code, base in cases:
            mb, seconds = peak_mb(code)
            peaks[name] = mb
            ratio = f"{mb / peaks[base]:.2f}x of {base}" if base else "baseline"
            verdict = ("ok" if mb < TARGET_MB else "MISSED") if base else ""
            print(f"  {name:<32} {mb:7.0f} MB  {seconds:5.1f} s   {ratio:<40} {verdict}", flush=True)
    print(f"target: every reduced case < {TARGET_MB:.0f} MB peak")
    return 0


if __name__ == "__main__":
    sys.exit(main())
