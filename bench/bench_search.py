"""Search benchmark (issue 13): an index of 1,000 videos' transcripts answers in <= 50 ms.

    python bench/bench_search.py [--videos 1000] [--segments 200] [--repeat 7]

Builds ``search.db`` the way a batch does (``SearchIndex.replace`` per video: a summary, 5 moments
and ``segments`` spoken lines of synthetic text, words drawn from a Zipf-like vocabulary of 20,000
with a few planted rare terms), then times queries of different selectivity, all measured in this run:

  fts5 (warm)    SearchIndex.search on an open index: bm25-ranked top 10 with snippets    target <= 50 ms
  search()       the library call the CLI makes: open the index, check FTS5, query, close
  LIKE 10        baseline: SELECT ... WHERE text LIKE '%word%' LIMIT 10 on the same rows (the first 10,
                 unranked: stops early on a common word)
  LIKE all       baseline: every LIKE match (what any ranking without an index has to read)
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_MS = 50.0
VOCABULARY = 20_000
PLANTED = {"gradientclipping": 3, "eigendecomposition": 40, "backpropagation": 400}
"""Rare terms and in how many lines they appear."""


def words(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "da", "gu", "zo", "be", "fi"]
    seen: set[str] = set()
    out = ["the", "and", "model", "data", "we", "is", "learning", "rate"]
    seen.update(out)
    while len(out) < VOCABULARY:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def build(index_dir: Path, videos: int, segments: int, seed: int = 0) -> tuple[int, float]:
    from videovision.search import SearchIndex
    from videovision.speech.transcript import Segment

    rng = random.Random(seed)
    vocab = words(rng)
    cum = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(vocab))))  # Zipf, s = 1
    total = videos * segments
    plant = {term: set(rng.sample(range(total), count)) for term, count in PLANTED.items()}
    writing = 0.0
    rows = 0
    with SearchIndex(index_dir) as index:
        for v in range(videos):
            lines = []
            for s in range(segments):
                text = rng.choices(vocab, cum_weights=cum, k=rng.randint(6, 16))
                n = v * segments + s
                text += [term for term, where in plant.items() if n in where]
                lines.append(Segment(s * 4.0, s * 4.0 + 3.5, " ".join(text)))
            result = {"summary": " ".join(rng.choices(vocab, cum_weights=cum, k=120)),
                      "moments": [{"time": m * 60.0, "text": " ".join(rng.choices(vocab, cum_weights=cum, k=12))}
                                  for m in range(5)]}
            started = time.perf_counter()
            rows += index.replace(f"course/lecture{v:04d}.mp4", f"course__lecture{v:04d}.mp4", result, lines)
            writing += time.perf_counter() - started
    return rows, writing


def timed(fn, repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> int:
    from videovision.search import SearchIndex, search

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--segments", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp)
        rows, seconds = build(index_dir, args.videos, args.segments)
        size = (index_dir / "search.db").stat().st_size
        print(f"index: {args.videos} videos, {rows:,} rows, {size / 1e6:.0f} MB; writing took {seconds:.1f} s "
              f"({seconds / args.videos * 1000:.1f} ms per video, one transaction each)")
        queries = ["gradientclipping", "eigendecomposition", "backpropagation", "learning", "model data",
                   '"learning rate"', "eigen*"]
        worst = 0.0
        with SearchIndex(index_dir, create=False) as index:
            like = index.db
            print(f"{'query':22} {'hits':>5} {'fts5 ms':>8} {'search() ms':>12} {'LIKE 10 ms':>11} "
                  f"{'LIKE all ms':>12} {'all/fts5':>9}")
            for q in queries:
                hits = index.search(q, 10)
                fts = timed(lambda q=q: index.search(q, 10), args.repeat)
                call = timed(lambda q=q: search(index_dir, q, 10), args.repeat)
                word = q.strip('"*').split()[0]
                first = timed(lambda w=word: like.execute(
                    "SELECT video, kind, time, text FROM entries WHERE text LIKE ? LIMIT 10", (f"%{w}%",)).fetchall(),
                    args.repeat)
                scan = timed(lambda w=word: like.execute(
                    "SELECT video, kind, time, text FROM entries WHERE text LIKE ?", (f"%{w}%",)).fetchall(),
                    args.repeat)
                worst = max(worst, fts, call)
                print(f"{q:22} {len(hits):>5} {fts:>8.2f} {call:>12.2f} {first:>11.2f} {scan:>12.2f} "
                      f"{scan / fts:>8.1f}x")
        ok = worst <= TARGET_MS
        print(f"slowest query {worst:.2f} ms (target <= {TARGET_MS:g} ms): {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
