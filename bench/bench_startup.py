"""Startup cost: ``videovision --version`` and ``import videovision`` against baselines in the same run.

    baseline A   python -c pass                         (the interpreter alone)
    baseline B   import every public name eagerly        (what wave 1's __init__ did: PyAV, OpenCV,
                                                          NumPy, the openai SDK, PySceneDetect)
    measured     python -m videovision --version;  python -c "import videovision"

Target (issue 7): ``--version`` <= 0.3 s; it should sit near baseline A, far below B.
Median of N runs each (these machines are noisy: read the ratios).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

EAGER = "import videovision as vv; [getattr(vv, n) for n in vv.__all__]"


def timed(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    py = sys.executable
    bare = timed([py, "-c", "pass"], args.runs)
    eager = timed([py, "-c", EAGER], args.runs)
    version = timed([py, "-m", "videovision", "--version"], args.runs)
    imported = timed([py, "-c", "import videovision"], args.runs)
    print(f"python -c pass                 {bare:6.3f} s   baseline A")
    print(f"eager import of every name     {eager:6.3f} s   baseline B ({eager / bare:.1f}x A)")
    print(f"import videovision             {imported:6.3f} s   {imported / bare:.2f}x A, {imported / eager:.2f}x B")
    ok = "ok" if version <= 0.3 else "MISSED"
    print(f"videovision --version          {version:6.3f} s   {version / bare:.2f}x A, {version / eager:.2f}x B"
          f"   target <= 0.3 s  {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
