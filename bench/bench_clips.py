"""Clips benchmark (issue 12, point 3): an 8 s clip copied vs encoded, against the ffmpeg CLI in the same run.

    python bench/bench_clips.py [--seconds 8] [--repeat 3]

Generates (once, into bench/media/) a 60 s 1280x720 30 fps H.264 + AAC clip with a keyframe every
250 frames (8.33 s) and realistic texture (``detail=0.6``). Then, median of ``--repeat`` runs:

  open_video (the packet index a cut reuses)
  cut_clip at a keyframe (stream copy)       vs ffmpeg -ss K -i SRC -t 8 -c copy
  cut_clip between keyframes (H.264 encode)  vs ffmpeg -ss T -i SRC -t 8 -c:v libx264 -preset veryfast -crf 20
                                                -c:a aac (the same encoder settings; needs the ffmpeg CLI)
  clip_at with keyframe slack (a moment 3 s after a keyframe + 0.5 s, before=3): copied

and checks every output: the first frame's burned-in number is the one asked for, and the frame
count matches the clip's duration. Machines are noisy: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "bench" / "media"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import av  # noqa: E402
from media import generate_clip, read_frame_number, upright  # noqa: E402

from videovision.clips import clip_at, cut_clip  # noqa: E402
from videovision.source import open_video  # noqa: E402

SOURCE = MEDIA / "clips_720p30_60s.mp4"
FPS = 30
GOP = 250


def make_source() -> Path:
    if not SOURCE.exists():
        print(f"generating {SOURCE.name} (once) ...", file=sys.stderr)
        generate_clip(SOURCE, duration=60.0, fps=FPS, size=(1280, 720), cuts=[10.0, 25.0, 40.0], gop=GOP,
                      scenecut=False, detail=0.6, audio=True, write_json=True)
    return SOURCE


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def check(path: Path, first: int, seconds: float) -> str:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
        codecs = "+".join(s.codec_context.name for s in container.streams)
    number = read_frame_number(upright(frames[0]))
    ok = number == first and abs(len(frames) - seconds * FPS) <= 2
    return f"{codecs}, first frame {number} (want {first}), {len(frames)} frames {'ok' if ok else 'WRONG'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    src = make_source()
    ffmpeg = shutil.which("ffmpeg")
    keyframe = 2 * GOP / FPS  # 16.667 s
    between = 20.0
    n = args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t_open, _ = timed(lambda: open_video(src).close(), args.repeat)
        print(f"open_video (packet index)      {t_open:7.3f} s")
        with open_video(src) as video:
            t_copy, r_copy = timed(lambda: cut_clip(video, keyframe, keyframe + n, out / "copy.mp4"), args.repeat)
            t_enc, r_enc = timed(lambda: cut_clip(video, between, between + n, out / "enc.mp4"), args.repeat)
            t_snap, r_snap = timed(lambda: clip_at(video, keyframe + 3.5, out / "snap.mp4", before=3.0,
                                                   after=n - 3.0), args.repeat)
        print(f"cut_clip copy   ({r_copy.method}) {t_copy:7.3f} s  {check(r_copy.path, GOP * 2, r_copy.duration)}")
        print(f"cut_clip encode ({r_enc.method}) {t_enc:7.3f} s  {check(r_enc.path, round(between * FPS), n)}")
        print(f"clip_at snapped ({r_snap.method}) {t_snap:7.3f} s  start {r_snap.start:.3f} s, "
              f"{check(r_snap.path, GOP * 2, r_snap.duration)}")
        print(f"encode / copy                  {t_enc / t_copy:7.1f}x")
        if not ffmpeg:
            print("ffmpeg CLI not found: baselines skipped (apt-get install -y ffmpeg)")
            return
        base = [ffmpeg, "-v", "error", "-y"]
        f_copy, _ = timed(lambda: subprocess.run(
            [*base, "-ss", f"{keyframe}", "-i", str(src), "-t", f"{n}", "-c", "copy", str(out / "ff-copy.mp4")],
            check=True), args.repeat)
        f_enc, _ = timed(lambda: subprocess.run(
            [*base, "-ss", f"{between}", "-i", str(src), "-t", f"{n}", "-c:v", "libx264", "-preset", "veryfast",
             "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(out / "ff-enc.mp4")],
            check=True), args.repeat)
        print(f"ffmpeg -c copy                 {f_copy:7.3f} s  ours / ffmpeg {t_copy / f_copy:5.2f}x  "
              f"{check(out / 'ff-copy.mp4', GOP * 2, n)}")
        print(f"ffmpeg libx264 veryfast        {f_enc:7.3f} s  ours / ffmpeg {t_enc / f_enc:5.2f}x  "
              f"{check(out / 'ff-enc.mp4', round(between * FPS), n)}")
        for name in ("copy.mp4", "enc.mp4", "ff-enc.mp4"):
            print(f"  {name:12s} {(out / name).stat().st_size / 1e6:6.2f} MB")


if __name__ == "__main__":
    main()
