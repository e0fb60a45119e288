"""Screen text (videovision/screentext.py): what OCR reads at the size a frame is sent vs the full
frame, how long it takes, and what a slide talk costs with the text sent as text at detail low vs
``detail high`` alone.

1. Stills with known text, 1280×720, from samples/footage.py's templates: light and dark slides
   (title + bullets, title-only) and light and dark code (VS Code-like editors). Word recall of
   Tesseract on the full frame, at the packed size of ``detail: low`` (512×288) and seconds per frame.
   With ``BENCH_RAPIDOCR_PATH=DIR`` (a site-packages holding rapidocr and onnxruntime, e.g. a
   virtualenv's) RapidOCR is measured the same way beside it.
2. The generated 60 s slide talks (light and dark, 8 slides each): slide titles that reach the model
   (a) as text at detail low with --screen-text, (b) readable in the images alone at detail low and
   (c) at detail high (OCR on the image sent, a proxy for what a model can read), with each plan's tokens.

    python bench/bench_screentext.py
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from videovision.pipeline import TaskConfig, make_plan  # noqa: E402
from videovision.screentext import ScreenTextConfig, TextLine, find_engine, word_recall, words  # noqa: E402
from videovision.types import SpeechConfig  # noqa: E402


def _footage():
    spec = importlib.util.spec_from_file_location("_videovision_samples_footage", ROOT / "samples" / "footage.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def stills(f) -> dict[str, list[tuple[np.ndarray, list[str], list[str]]]]:
    """{kind: [(rgb, every word drawn, title words)]}."""
    out: dict[str, list] = {}
    for theme in ("light", "dark"):
        kinds = ["title", "bullets", "bullets", "titlesub", "bullets", "bullets"]
        deck = f._Deck(1280, 720, theme, kinds, seed=3 if theme == "light" else 4)
        for k, kind in enumerate(kinds):
            title, bullets = deck.texts[k]
            drawn = title.split() + ([] if kind == "title" else bullets[0].split() + ["2026"] if kind == "titlesub"
                                     else [w for b in bullets for w in b.split()])
            out.setdefault(f"slides {theme}", []).append((deck.picture(k), drawn, title.split()))
        ed = f._Editor(1280, 720, theme)
        for fname, lines, _ in f._FILES:
            img = ed.chrome(fname)
            shown = lines[: ed.max_lines()]
            for r, line in enumerate(shown):
                ed.draw_line(img, r, line, fname, r + 1)
            out.setdefault(f"code {theme}", []).append((img, [w for ln in shown for w in ln.split()], [fname]))
    return out


def _rapidocr():
    extra = os.environ.get("BENCH_RAPIDOCR_PATH")
    if not extra:
        return None
    sys.path.append(extra)  # after our own site-packages: our cv2 stays the one imported
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})

    class Rapid:
        name = "rapidocr"

        def read(self, rgb):
            r = engine(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            return [TextLine(t, (0, 0, 0, 0), 100.0) for t in (r.txts or ())]

    return Rapid()


def packed(rgb: np.ndarray, side: int = 512) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = side / max(w, h)
    return cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def bench_stills(engines, f) -> None:
    print("1. word recall (all words drawn / titles), full 1280x720 frame vs packed 512x288, seconds per frame")
    print(f"{'engine':12s} {'kind':12s} {'full':>6s} {'packed':>7s} {'title@512':>9s} {'s/frame':>8s}")
    for engine in engines:
        engine.read(np.full((64, 64, 3), 255, np.uint8))  # warm up
        for kind, items in stills(f).items():
            full, small, title, secs = [], [], [], []
            for rgb, drawn, title_words in items:
                ref = [w for d in drawn for w in words(d)]
                t0 = time.perf_counter()
                got = [w for ln in engine.read(rgb) for w in words(ln.text)]
                secs.append(time.perf_counter() - t0)
                got_small = [w for ln in engine.read(packed(rgb)) for w in words(ln.text)]
                full.append(word_recall(ref, got))
                small.append(word_recall(ref, got_small))
                title.append(word_recall([w for d in title_words for w in words(d)], got_small))
            print(f"{engine.name[:12]:12s} {kind:12s} {np.mean(full):6.1%} {np.mean(small):7.1%} {np.mean(title):9.1%} "
                  f"{np.median(secs):8.2f}")


def _titles_in(texts: list[str], titles: list[str]) -> int:
    joined = [" ".join(words(t)) for t in texts]
    return sum(1 for t in titles if any(" ".join(words(t)) in j for j in joined))


def bench_talks(engine, f, tmp: Path) -> None:
    print("\n2. slide talks, 60 s 1280x720, 8 slides: titles reaching the model and the plan's tokens (default model)")
    print(f"{'talk':6s} {'plan':34s} {'titles':>7s} {'image tok':>9s} {'text tok':>8s} {'OCR s':>6s}")
    for theme, make in (("light", f.make_slides_light), ("dark", f.make_slides_dark)):
        path = tmp / f"talk_{theme}.mp4"
        truth = make(path)
        titles = [s["title"] for s in truth["slides"]]
        for label, detail, mode in (("low + screen text (as text)", "low", "auto"), ("low alone (OCR of images sent)", "low", "off"),
                                    ("high alone (OCR of images sent)", "high", "off")):
            cfg = TaskConfig(speech=SpeechConfig(mode="off"), screen_text=ScreenTextConfig(mode=mode))
            from dataclasses import replace

            cfg = replace(cfg, pack=replace(cfg.pack, detail=detail))
            t0 = time.perf_counter()
            plan = make_plan(path, cfg)
            if mode == "auto":
                texts = [p["text"] for r in plan.requests if r.body for p in r.body["messages"][1]["content"]
                         if p["type"] == "text" and " on screen: " in p["text"]]
                ocr_s = plan.screen_text.seconds if plan.screen_text else 0.0
            else:
                t0 = time.perf_counter()
                texts = [" ".join(ln.text for ln in engine.read(cv2.cvtColor(cv2.imdecode(np.frombuffer(i.data, np.uint8),
                                                                                      cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)))
                         for i in plan.images]
                ocr_s = time.perf_counter() - t0
            n = _titles_in(texts, titles)
            print(f"{theme:6s} {label:34s} {n}/{len(titles):<5d} {plan.image_tokens:9d} {plan.text_tokens:8d} {ocr_s:6.1f}")
            if mode == "auto" and plan.screen_text is not None:
                print(f"{'':6s}   {plan.screen_text.summary_line()}")


def main() -> None:
    f = _footage()
    engine = find_engine()
    if engine is None:
        sys.exit("bench_screentext: Tesseract is not installed (apt-get install tesseract-ocr)")
    engines = [engine] + [e for e in (_rapidocr(),) if e is not None]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    bench_stills(engines, f)
    with tempfile.TemporaryDirectory() as tmp:
        bench_talks(engine, f, Path(tmp))


if __name__ == "__main__":
    main()
