#!/usr/bin/env python3
"""Real footage for the footage-kinds evaluation (issue 17), fetched, never committed.

Debian's ``opencv-doc`` package ships a few real clips (film trailer, static street camera,
single-shot tree, handheld camera). Their licences do not let this repository carry them, so they
are fetched on demand into a cache folder (default ``samples/real/``, gitignored; the environment
variable ``VIDEOVISION_REAL_FOOTAGE`` names another folder):

    python samples/real.py            # fetch (apt-get download opencv-doc + dpkg-deb -x) and list
    python samples/real.py --dest DIR

    from real import real_clips, REAL
    clips = real_clips()              # {"real_megamind": Path(...), ...}; {} when apt is missing

Where the files come from, first that works: the cache folder itself, an installed package
(``/usr/share/doc/opencv-doc``), or ``apt-get download opencv-doc`` unpacked with ``dpkg-deb -x``
in a temporary folder (no root needed, nothing installed). Without apt-get/dpkg-deb (or without a
network) ``real_clips`` logs why and returns ``{}``; callers treat real footage as optional.

Depends only on the standard library.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["DEFAULT_DEST", "REAL", "real_clips", "real_dest"]

log = logging.getLogger("videovision.samples.real")

SAMPLES_DIR = Path(__file__).resolve().parent
DEFAULT_DEST = SAMPLES_DIR / "real"
ENV = "VIDEOVISION_REAL_FOOTAGE"
PACKAGE = "opencv-doc"
DOC = Path("usr/share/doc/opencv-doc")

REAL: dict[str, dict] = {
    "real_megamind": {
        "file": "Megamind.avi", "member": DOC / "examples/data/Megamind.avi", "expected_preset": "film",
        "description": "film trailer, 11 s, hard cuts (OpenCV sample)",
    },
    "real_tree": {
        "file": "tree.avi", "member": DOC / "examples/data/tree.avi", "expected_preset": "film",
        "description": "a tree filmed in one shot, 30 s, camera (OpenCV sample)",
    },
    "real_vtest": {
        "file": "vtest.avi", "member": DOC / "examples/data/vtest.avi", "expected_preset": "film",
        "description": "static street camera, 80 s, one shot, people walking (OpenCV sample)",
    },
    "real_box": {
        "file": "box.mp4", "member": DOC / "opencv4/html/box.mp4.gz", "expected_preset": "film",
        "description": "handheld camera around a box (OpenCV tutorial clip)",
    },
    "real_cup": {
        "file": "cup.mp4", "member": DOC / "opencv4/html/cup.mp4.gz", "expected_preset": "film",
        "description": "handheld camera around a cup (OpenCV tutorial clip)",
    },
}
"""Real clips by name: file name in the cache, path inside the package, expected preset."""


def real_dest(dest_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``dest_dir``, else ``$VIDEOVISION_REAL_FOOTAGE``, else ``samples/real``."""
    if dest_dir is not None:
        return Path(dest_dir)
    env = os.environ.get(ENV)
    return Path(env) if env else DEFAULT_DEST


def _cached(dest: Path) -> dict[str, Path]:
    return {name: dest / spec["file"] for name, spec in REAL.items()
            if (dest / spec["file"]).is_file() and (dest / spec["file"]).stat().st_size > 0}


def _copy_from_root(root: Path, dest: Path) -> int:
    """Copy (and gunzip) every clip found under an unpacked package ``root``; returns how many."""
    n = 0
    for spec in REAL.values():
        target = dest / spec["file"]
        if target.is_file() and target.stat().st_size > 0:
            continue
        member = Path(spec["member"])
        candidates = [root / member, root / member.with_suffix("")] if member.suffix == ".gz" else [root / member]
        for src in candidates:
            if not src.is_file():
                continue
            tmp = target.with_name(target.name + ".part")
            if src.suffix == ".gz":
                with gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
            else:
                shutil.copyfile(src, tmp)
            tmp.replace(target)
            n += 1
            break
    return n


def _download(dest: Path) -> str | None:
    """apt-get download + dpkg-deb -x into a temporary folder; the clips go to ``dest``.
    Returns None on success, else the reason."""
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            return f"{tool} not found (not a Debian-like system)"
    with tempfile.TemporaryDirectory(prefix="videovision-real-") as tmp:
        try:
            r = subprocess.run(["apt-get", "download", PACKAGE], cwd=tmp, capture_output=True, text=True,
                               timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"apt-get download {PACKAGE} failed: {e}"
        debs = sorted(Path(tmp).glob(f"{PACKAGE}_*.deb"))
        if r.returncode != 0 or not debs:
            msg = (r.stderr or r.stdout).strip().splitlines()
            return f"apt-get download {PACKAGE} failed (exit {r.returncode}): {msg[-1] if msg else 'no output'}" \
                   " (try apt-get update)"
        root = Path(tmp) / "x"
        try:
            r = subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], capture_output=True, text=True,
                               timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"dpkg-deb -x failed: {e}"
        if r.returncode != 0:
            return f"dpkg-deb -x failed (exit {r.returncode}): {r.stderr.strip()}"
        if _copy_from_root(root, dest) == 0 and not _cached(dest):
            return f"{debs[0].name} holds none of the expected clips"
    return None


def real_clips(dest_dir: str | os.PathLike | None = None, *, download: bool = True) -> dict[str, Path]:
    """Real clips by name (see ``REAL``), fetched into the cache folder when missing.

    Returns only the clips that are there; ``{}`` (with the reason logged at WARNING) when they
    cannot be had (no apt-get / dpkg-deb, no network, package not found)."""
    dest = real_dest(dest_dir)
    have = _cached(dest)
    if len(have) == len(REAL):
        return have
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        log.warning("real footage: cannot create %s: %s", dest, e)
        return have
    installed = Path("/") / DOC
    if installed.is_dir():
        _copy_from_root(Path("/"), dest)
        have = _cached(dest)
        if len(have) == len(REAL):
            return have
    if not download:
        if not have:
            log.warning("real footage: none in %s and downloading is off", dest)
        return have
    reason = _download(dest)
    have = _cached(dest)
    if reason:
        log.warning("real footage: %s; %d of %d clips available in %s", reason, len(have), len(REAL), dest)
    return have


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dest", help=f"cache folder (default ${ENV} or samples/real)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    clips = real_clips(args.dest)
    for name, path in clips.items():
        print(f"{name:14s} {path}  {path.stat().st_size / 1e6:6.1f} MB  {REAL[name]['description']}")
    if not clips:
        print("no real footage available (see the warning above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
