"""Parsing benchmark (issue 20): reading a reply is linear in its size; a 1 MB reply parses in < 1 s.

    python bench/bench_parsing.py [--mb 1.0] [--repeat 3]

Builds replies of different shapes at 1/10 of the size and at the full size, parses each the way a run
does (``parse_summary``, the report's ``cited_spans``, ``parse_answers``, ``parse_chapters``), and prints the best time of ``--repeat`` runs, the full size's time over the tenth's
(a linear parser gives ~10x; the quadratic one this replaced gave ~100x: 4,000 citations took
~54 s) and whether the full size is under the target:

  cited prose     "At [HH:MM:SS.s] the slide shows item N." sentences: a citation every ~45 bytes
  one sentence    the same citations separated by commas: one sentence holding all of them
  plain prose     no citation at all
  spaces          a citation inside half a megabyte of white space on each side (regex backtracking)
  report spans    the cited prose, read again by the HTML report (``cited_spans``, the text unstripped)
  answers         three numbered answers to three questions, each a block of cited prose
  answers spaces  blank lines, then numbered answers with a run of spaces
  chapters        "[HH:MM:SS] Title - summary" lines
  chapters spaces one chapter line with a megabyte of spaces before its summary
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 1.0
DURATION = 36_000.0  # a 10-hour video: every cited time is inside it


def _stamp(i: int) -> str:
    t = i % int(DURATION)
    return f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"


def _repeat(unit: Callable[[int], str], size: int, sep: str = " ") -> str:
    parts, total, i = [], 0, 0
    while total < size:
        piece = unit(i)
        parts.append(piece)
        total += len(piece) + len(sep)
        i += 1
    return sep.join(parts)[:size]


def shapes(size: int) -> dict[str, str]:
    prose = _repeat(lambda i: f"At [{_stamp(i)}.0] the slide shows item {i}.", size)
    third = size // 3
    return {
        "cited prose": prose,
        "one sentence": _repeat(lambda i: f"[{_stamp(i)}.0] item {i}", size, sep=", "),
        "plain prose": _repeat(lambda i: f"The speaker explains point {i} in some detail.", size),
        "spaces": (" " * (size // 2)) + " at [00:01:05.0] " + (" " * (size // 2)),
        "report spans": prose,
        "answers": "\n".join(f"{k}. " + _repeat(lambda i: f"At [{_stamp(i)}.0] item {i} shows.", third)
                             for k in (1, 2, 3)),
        "answers spaces": "\n" * (size // 2) + "1. at [00:01:05.0]" + " " * (size // 2) + "\n2. no",
        "chapters": _repeat(lambda i: f"[{_stamp(i * 7)}] Part {i} - what happens in part {i}", size, sep="\n"),
        "chapters spaces": "[00:00:00] Intro" + " " * size + "- x\n```",
    }


def parser(shape: str):
    """What a run does with such a reply: the summary's parse (the report's ``cited_spans`` for
    "report spans"), the answers' or the chapters'."""
    from videovision.parsing import TimeCheck, cited_spans, parse_answers, parse_chapters, parse_summary

    check = TimeCheck(sent_times=tuple(float(t) for t in range(0, int(DURATION), 5)), duration=DURATION)
    if shape.startswith("answers"):
        return lambda text: parse_answers(text, ("What?", "Where?", "When?"), check)
    if shape.startswith("chapters"):
        return lambda text: parse_chapters(text, check)
    if shape == "report spans":
        return lambda text: cited_spans(text, check)
    return lambda text: parse_summary(text, check)


def best(fn, text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=1.0, help="full reply size in MB (default 1)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    size = int(args.mb * 1_000_000)
    small, full = shapes(size // 10), shapes(size)
    print(f"{'reply':<14} {'size':>9} {'1/10 size':>10} {'full size':>10} {'ratio':>7}  target < {TARGET_SECONDS:g} s")
    worst = 0.0
    for shape in full:
        fn = parser(shape)
        a, b = best(fn, small[shape], args.repeat), best(fn, full[shape], args.repeat)
        worst = max(worst, b)
        print(f"{shape:<14} {len(full[shape]):>9,} {a:>9.3f}s {b:>9.3f}s {b / max(a, 1e-9):>6.1f}x  "
              f"{'ok' if b < TARGET_SECONDS else 'SLOW'}")
    print(f"slowest full-size reply: {worst:.3f} s ({'within' if worst < TARGET_SECONDS else 'over'} the target)")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
