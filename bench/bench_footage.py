"""Footage kinds the project was not tuned on (issue 17): one row per kind.

    python bench/bench_footage.py [--short] [--kinds slides_dark,real_vtest] [--no-real] [--no-wave2]

Kinds: every generated kind of ``samples/footage.py`` (full length; ``--short``: the ~10-20 s
unit-test variants) and every real clip ``samples/real.py`` can fetch (OpenCV's sample clips from
Debian's ``opencv-doc``: a film trailer, a static street camera, a single-shot tree, two handheld
clips; skipped with a note when apt is not available). Per kind:

  preset     ``stream.preset_used`` of ``sample(open_video(path), SamplingConfig(strategy="scenes"))``
             (the default preset, auto) against the kind's expected preset; its reason string is
             printed under the row
  scenes     scenes that pass found / true scenes. Truth: the generator's cuts for generated
             clips; for real clips ``scenedetect.detect(path, AdaptiveDetector())`` (PySceneDetect's
             defaults)
  cov        the CLI's plan (``python -m videovision plan PATH --json --max-frames B``, the defaults
             otherwise: hybrid, preset auto) at a budget B = true scenes + 2: share of the true scenes
             (slides, editor files) holding at least one sent frame ("n/a" on blank kinds: nothing to
             see; they are left out of the mean). Events (the person crossing the home camera) are
             reported under the row
  blank      sent frames that show nothing: decoded from the exact request body
             (``--request-json``), grey standard deviation < 3 on the sent JPEG (an independent check,
             not the project's own blank test)
  dup        sent frames nearly identical to an earlier sent one (<= 1 % of the pixels of a blurred
             128 px grey thumbnail differ by more than 12 levels)
  exit       exit code of ``videovision plan``; a failing kind shows the error's last line

``--save-frames DIR`` keeps every sent JPEG (``KIND_NN_TIME.jpg``) for looking at them.
A kind that fails is reported in its row and the bench goes on. The closing line totals the kinds
with the right preset and the mean coverage. ``--no-wave2`` skips the wave-2 checks printed after
the table (slide coverage at slides + 10 %, black frames on fade clips, ``detector="content"`` =
``scenedetect.detect(ContentDetector())`` cuts).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "bench" / "media"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

BLANK_STD = 3.0
CLI_TIMEOUT = 600


def _load(name: str, file: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


EPS = 1e-3
"""Seconds of slack on span bounds: a frame time printed/rounded at a cut (15.799999 for a slide
starting at 15.8) belongs to the span that starts there."""


def inside(t: float, a: float, b: float) -> bool:
    return a - EPS <= t < b - EPS


def coverage(times, spans) -> float | None:
    if not spans:
        return None
    hit = sum(1 for a, b in spans if any(inside(t, a, b) for t in times))
    return hit / len(spans)


def truth_spans(gt: dict) -> list[tuple[float, float]]:
    """What coverage counts: slides (or editor files) when the kind has them, else scenes."""
    if gt.get("slides"):
        spans = [(s["start"], s["end"]) for s in gt["slides"]]
        if gt.get("dark_intro"):
            spans.insert(0, (gt["dark_intro"]["start"], gt["dark_intro"]["end"]))
        return spans
    return [tuple(s) for s in gt["scenes"]]


def _secs(tc) -> float:
    """FrameTimecode seconds (``.seconds`` in PySceneDetect 0.7, ``get_seconds()`` before)."""
    s = getattr(type(tc), "seconds", None)
    return float(tc.seconds) if isinstance(s, property) else float(tc.get_seconds())


def real_truth(path: Path) -> dict:
    import scenedetect

    scenes = scenedetect.detect(str(path), scenedetect.AdaptiveDetector())
    from videovision import open_video

    with open_video(path) as video:
        duration = video.info.duration
    if scenes:
        spans = [(_secs(a), _secs(b)) for a, b in scenes]
        spans[-1] = (spans[-1][0], max(spans[-1][1], duration))
    else:
        spans = [(0.0, duration)]
    return {"cuts": [a for a, _ in spans[1:]], "scenes": [list(s) for s in spans], "duration": duration}


def request_images(path: Path) -> list[bytes]:
    """Every image (decoded bytes) in a ``--request-json`` file, in order."""
    text = path.read_text()
    try:
        docs = [json.loads(text)]
    except ValueError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    out: list[bytes] = []

    def walk(x):
        if isinstance(x, dict):
            url = x.get("url") if isinstance(x.get("url"), str) else None
            if url and url.startswith("data:image"):
                out.append(base64.b64decode(url.split(",", 1)[1]))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(docs)
    return out


def picture_stats(images: list[bytes]) -> tuple[int, int, list[float]]:
    """(blank frames, near-duplicates of an earlier sent frame, grey std per frame)."""
    import cv2
    import numpy as np

    blank = dup = 0
    stds: list[float] = []
    thumbs: list[np.ndarray] = []
    for data in images:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        if img is None:
            stds.append(float("nan"))
            continue
        sd = float(img.std())
        stds.append(sd)
        blank += sd < BLANK_STD
        th = cv2.GaussianBlur(cv2.resize(img, (128, max(1, round(128 * img.shape[0] / img.shape[1])))), (5, 5), 0)
        th = th.astype(np.int16)
        if any(t.shape == th.shape and float((np.abs(t - th) > 12).mean()) <= 0.01 for t in thumbs):
            dup += 1
        thumbs.append(th)
    return blank, dup, stds


def run_plan(path: Path, budget: int) -> dict:
    """``videovision plan PATH --json --max-frames budget`` as a user runs it."""
    with tempfile.TemporaryDirectory(prefix="bench-footage-") as tmp:
        req = Path(tmp) / "request.json"
        cmd = [sys.executable, "-m", "videovision", "plan", str(path), "--json", "--max-frames", str(budget),
               "--request-json", str(req)]
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        t0 = time.perf_counter()
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=CLI_TIMEOUT, env=env, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {"rc": "timeout", "error": f"no answer in {CLI_TIMEOUT} s", "seconds": CLI_TIMEOUT}
        res: dict = {"rc": r.returncode, "seconds": time.perf_counter() - t0}
        if r.returncode != 0:
            lines = [x for x in (r.stderr or r.stdout).strip().splitlines() if x.strip()]
            res["error"] = lines[-1] if lines else "(no output)"
            return res
        try:
            plan = json.loads(r.stdout)
        except ValueError as e:
            res["error"] = f"plan --json printed no JSON: {e}"
            return res
        res["plan"] = plan
        res["times"] = [t for f in plan.get("frames", []) for t in (f.get("times") or [f["time"]])]
        res["frame_times"] = [f["time"] for f in plan.get("frames", [])]
        res["images"] = request_images(req) if req.is_file() else []
    return res


def sample_scenes(path: Path) -> dict:
    from videovision import SamplingConfig, open_video, sample

    t0 = time.perf_counter()
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(strategy="scenes"))
        sent = [f.time for f in stream]
    return {"scenes": len(stream.scenes), "preset": stream.preset_used, "reason": stream.preset_reason,
            "frames": len(sent), "seconds": time.perf_counter() - t0}


def measure(name: str, path: Path, gt: dict, save: Path | None = None) -> dict:
    row: dict = {"kind": name, "expected": gt.get("expected_preset"), "any": bool(gt.get("preset_any")),
                 "blank_kind": bool(gt.get("blank")),
                 "truth_scenes": len(gt["scenes"]), "errors": []}
    try:
        row.update(sample_scenes(path))
    except Exception as e:
        row["errors"].append(f"sample: {type(e).__name__}: {e}")
    spans = truth_spans(gt)
    row["spans"] = len(spans)
    budget = len(gt["scenes"]) + 2
    row["budget"] = budget
    try:
        res = run_plan(path, budget)
    except Exception as e:
        res = {"rc": "crash", "error": f"{type(e).__name__}: {e}"}
    row["rc"] = res.get("rc")
    if res.get("error"):
        row["errors"].append(f"plan: {res['error']}")
    if "plan" in res:
        plan = res["plan"]
        row["sent"] = len(res["times"])
        row["coverage"] = None if gt.get("blank") else coverage(res["times"], spans)
        row["events"] = [(e["what"], any(inside(t, e["start"], e["end"]) for t in res["times"])) for e in gt.get("events", [])]
        row["blank"], row["dup"], row["stds"] = picture_stats(res["images"])
        row["images"] = len(res["images"])
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            for j, (data, t) in enumerate(zip(res["images"], res["frame_times"] + [None] * len(res["images"]))):
                (save / f"{name}_{j:02d}_{t if t is not None else 'x'}.jpg").write_bytes(data)
        row["plan_preset"] = plan.get("preset")
        row["plan_reason"] = plan.get("preset_reason")
        row["plan_scenes"] = plan.get("scenes")
        sp = plan.get("speech") or {}
        row["speech"] = sp.get("note") or (f"{sp.get('lines')} lines from {sp.get('source')}" if sp.get("source") else "")
        row["notes"] = plan.get("notes") or []
        row["times"] = res["times"]
    return row


def _fmt_row(r: dict) -> str:
    exp = "any" if r["any"] else (r["expected"] or "?")
    preset = r.get("preset") or "-"
    ok = r.get("preset") is not None and (r["any"] or r.get("preset") == r["expected"])
    mark = "ok" if ok else "WRONG" if r.get("preset") else "-"
    scenes = f"{r['scenes']}/{r['truth_scenes']}" if "scenes" in r else f"-/{r['truth_scenes']}"
    cov = "n/a" if r.get("blank_kind") else f"{r['coverage']:.0%}" if r.get("coverage") is not None else "-"
    sent = f"{r.get('sent', '-')}/{r['budget']}"
    blank = str(r.get("blank", "-"))
    dup = str(r.get("dup", "-"))
    return (f"{r['kind']:20s} {exp:6s} {preset:8s} {mark:5s} {scenes:>8s} {sent:>6s} {cov:>5s} {blank:>5s} "
            f"{dup:>4s} {r.get('rc')!s:>5s}")


HEADER = (f"{'kind':20s} {'expect':6s} {'preset':8s} {'':5s} {'scenes':>8s} {'sent':>6s} {'cov':>5s} {'blank':>5s} "
          f"{'dup':>4s} {'exit':>5s}")


def wave2(media: Path, short: bool, truths: dict[str, dict]) -> None:
    """The wave-2 targets, kept: slide coverage >= 95 % at slides + 10 %, 0 black frames on fade
    clips, detector="content" = scenedetect.detect(ContentDetector()) cuts."""
    import scenedetect
    from media import generate

    from videovision import Budget, PackConfig, SamplingConfig, TaskConfig, make_plan, open_video, sample

    print()
    print("wave-2 checks (issue 9/10 targets, on the new kinds):")
    for name in ("slides_light", "slides_dark", "slides_dark_titles", "code_light", "code_dark", "screen_webcam",
                 "dark_opening"):
        gt = truths.get(name)
        if not gt or "path" not in gt:
            continue
        spans = truth_spans(gt)
        budget = math.ceil(len(spans) * 1.1)
        try:
            config = TaskConfig(sampling=SamplingConfig(strategy="hybrid"),
                                pack=PackConfig(model="gpt-4o", detail="low", budget=Budget(max_frames=budget)))
            plan = make_plan(gt["path"], config)
            cov = coverage(list(plan.sent_times), spans) or 0.0
            print(f"  slide coverage {name:20s} budget {budget:>3} (slides + 10 %): {cov:6.1%}  "
                  f"(target >= 95 %: {'ok' if cov >= 0.95 else 'MISSED'})")
        except Exception as e:
            print(f"  slide coverage {name:20s} ERROR {type(e).__name__}: {e}")
    black_total = sent_total = 0
    for seed in range(1 if short else 3):
        fpath = media / f"wave2_fades_seed{seed}.mp4"
        try:
            if not fpath.exists():
                generate.generate_fade_clip(fpath, seed=seed, size=(480, 270))
            fgt = generate.load_ground_truth(fpath)
            config = TaskConfig(sampling=SamplingConfig(strategy="hybrid"),
                                pack=PackConfig(model="gpt-4o", detail="low", budget=Budget(max_frames=32)))
            ftimes = list(make_plan(fpath, config).sent_times)
            black = {round(fgt["frame_times"][i], 6) for i in fgt["black_frames"]}
            n_black = sum(1 for t in ftimes if round(t, 6) in black)
            black_total += n_black
            sent_total += len(ftimes)
        except Exception as e:
            print(f"  fades {fpath.name}: ERROR {type(e).__name__}: {e}")
    print(f"  black frames sent on generate_fade_clip clips: {black_total} of {sent_total} "
          f"(target 0: {'ok' if black_total == 0 else 'MISSED'})")
    for name in ("film_fades", "animation", "letterbox_film"):
        gt = truths.get(name)
        if not gt or "path" not in gt:
            continue
        try:
            psd = [_secs(a) for a, _ in scenedetect.detect(gt["path"], scenedetect.ContentDetector())][1:]
            with open_video(gt["path"]) as video:
                stream = sample(video, SamplingConfig(strategy="scenes", detector="content"))
                for _ in stream:
                    pass
            ours = [s.start for s in stream.scenes][1:]
            same = len(ours) == len(psd) and all(abs(a - b) < 1e-3 for a, b in zip(ours, psd))
            print(f"  detector=content on {name:14s}: {len(ours)} cuts, scenedetect.detect(ContentDetector()) "
                  f"{len(psd)} cuts: {'identical' if same else 'DIFFERENT'}")
        except Exception as e:
            print(f"  detector=content on {name}: ERROR {type(e).__name__}: {e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="the short (unit-test) variants of the generated kinds")
    parser.add_argument("--kinds", help="comma-separated kinds to run (generated and real_* names)")
    parser.add_argument("--no-real", action="store_true", help="skip the real clips")
    parser.add_argument("--no-wave2", action="store_true", help="skip the wave-2 checks")
    parser.add_argument("--media", help="where generated clips go (default bench/media/footage[_short])")
    parser.add_argument("--regenerate", action="store_true", help="regenerate clips that exist")
    parser.add_argument("--save-frames", metavar="DIR", help="write every sent JPEG there (KIND_NN_TIME.jpg)")
    args = parser.parse_args()
    footage = _load("_videovision_samples_footage", ROOT / "samples" / "footage.py")
    real = _load("_videovision_samples_real", ROOT / "samples" / "real.py")
    media = Path(args.media) if args.media else MEDIA / ("footage_short" if args.short else "footage")
    media.mkdir(parents=True, exist_ok=True)
    wanted = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else None
    known = list(footage.KINDS) + list(real.REAL)
    if wanted:
        unknown = [k for k in wanted if k not in known]
        if unknown:
            parser.error(f"unknown kinds: {', '.join(unknown)} (known: {', '.join(known)})")
    gen_names = [k for k in footage.KINDS if not wanted or k in wanted]
    real_names = [k for k in real.REAL if (not wanted or k in wanted) and not args.no_real]

    truths: dict[str, dict] = {}
    t0 = time.perf_counter()
    for name in gen_names:
        try:
            truths[name] = footage.make_kind(name, media, short=args.short, reuse=not args.regenerate)
        except Exception as e:
            truths[name] = {"error": f"generate: {type(e).__name__}: {e}"}
            traceback.print_exc()
    t_gen = time.perf_counter() - t0
    real_note = ""
    if real_names:
        import logging

        logging.basicConfig(level=logging.WARNING, format="  %(message)s")
        clips = real.real_clips()
        if not clips:
            real_note = "real clips: none available (see the warning above)"
        for name in real_names:
            if name not in clips:
                continue
            try:
                gt = real_truth(clips[name])
                gt.update(kind=name, expected_preset=real.REAL[name]["expected_preset"], preset_any=False,
                          path=str(clips[name]), truth="scenedetect.detect(AdaptiveDetector())")
                truths[name] = gt
            except Exception as e:
                truths[name] = {"error": f"truth: {type(e).__name__}: {e}"}

    import videovision

    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "videovision"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        rev = f"{head}{' + uncommitted changes in videovision/' if dirty else ''}" if head else "not a git checkout"
    except (OSError, subprocess.SubprocessError):
        rev = "unknown"
    print(f"footage kinds (issue 17): {'short' if args.short else 'full-length'} generated clips in {media} "
          f"({t_gen:.0f} s to generate or reuse); videovision {videovision.__version__} at {rev}")
    print("truth: generated clips = their ground-truth cuts/slides; real_* = scenedetect.detect(path, "
          "AdaptiveDetector()) cuts")
    print("preset/scenes: sample(open_video(p), SamplingConfig(strategy='scenes')); sent/cov/blank/dup/exit: "
          "`videovision plan P --json --max-frames <true scenes + 2>`")
    if real_note:
        print(real_note)
    print()
    print(HEADER)
    print("-" * len(HEADER))
    rows = []
    for name, gt in truths.items():
        if "error" in gt:
            print(f"{name:20s} ERROR {gt['error']}")
            rows.append({"kind": name, "error": gt["error"]})
            continue
        t1 = time.perf_counter()
        try:
            r = measure(name, Path(gt["path"]), gt, Path(args.save_frames) if args.save_frames else None)
        except Exception as e:
            print(f"{name:20s} ERROR {type(e).__name__}: {e}")
            rows.append({"kind": name, "error": str(e)})
            continue
        rows.append(r)
        print(_fmt_row(r), flush=True)
        detail = []
        if r.get("reason"):
            detail.append(f"reason: {r['reason']}")
        if r.get("plan_preset") and (r.get("plan_preset") != r.get("preset") or r.get("plan_reason") != r.get("reason")):
            detail.append(f"plan: {r['plan_preset']} ({r.get('plan_reason')}), {r.get('plan_scenes')} scenes")
        for e in r["errors"]:
            detail.append(f"error: {e}")
        for what, hit in r.get("events") or []:
            detail.append(f"event: {what}: {'a frame sent' if hit else 'NO frame sent'}")
        if gt.get("speech"):
            detail.append(f"speech: {len(gt['speech'])} lines in truth; plan: {r.get('speech') or '-'}")
        for note in r.get("notes") or []:
            detail.append(f"note: {note}")
        if r.get("times") is not None:
            detail.append("sent at " + ", ".join(f"{t:.1f}" for t in r["times"][:16]) +
                          (" ..." if len(r["times"]) > 16 else "") + f"  ({time.perf_counter() - t1:.0f} s)")
        for d in detail:
            print(f"    {d}")
    print("-" * len(HEADER))
    measured = [r for r in rows if "error" not in r]
    right = sum(1 for r in measured if r.get("preset") and (r["any"] or r["preset"] == r["expected"]))
    covs = [r["coverage"] for r in measured if r.get("coverage") is not None]
    cov_all = [r.get("coverage") or 0.0 for r in measured if not r.get("blank_kind")]  # a failed plan covers nothing
    blank = sum(r.get("blank", 0) for r in measured)
    sent = sum(r.get("images", 0) for r in measured)
    exit_bad = [r["kind"] for r in measured if r.get("rc") != 0]
    events = [hit for r in measured for _, hit in r.get("events") or []]
    wrong_scenes = [r["kind"] for r in measured if "scenes" in r and r["scenes"] != r["truth_scenes"]]
    print(f"TOTAL right preset {right}/{len(rows)}   mean coverage {sum(cov_all) / max(1, len(cov_all)):.1%} over "
          f"{len(cov_all)} kinds with something to see (failed plans count 0; {sum(covs) / max(1, len(covs)):.1%} over the {len(covs)} "
          f"planned)   blank frames sent {blank} of {sent}   plan exit != 0: {len(exit_bad)}"
          + (f" ({', '.join(exit_bad)})" if exit_bad else ""))
    print(f"      scenes count = truth on {len(measured) - len(wrong_scenes)}/{len(measured)}"
          + (f" (off: {', '.join(wrong_scenes)})" if wrong_scenes else "")
          + f"   events with a frame sent {sum(events)}/{len(events)}")
    if not args.no_wave2:
        wave2(media, args.short, truths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
