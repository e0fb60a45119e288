"""Test media: synthetic clips with ground truth, and reading back the frame numbers they carry.

Thin layer over ``samples/generate.py`` (loaded by file path, so ``samples/`` needs no package and
no sys.path entry):

    from media import make_clip, read_frame_number

    gt = make_clip(tmp_path / "a.mp4", duration=2, cuts=[1.0], rotation=-90)
    gt["frame_times"], gt["cuts"], gt["rotation_cw"], ...

Every generated frame carries its 0-based presentation-order frame number in a stripe at the top
of the upright picture; ``read_frame_number(rgb)`` returns it (None if the picture is not upright,
e.g. rotation metadata was ignored).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
DEMO = SAMPLES_DIR / "demo.mp4"
"""Committed: 24 s 640×360 25 fps H.264 + AAC, 6 hard cuts (7 scenes). Ground truth in demo.mp4.json."""
PHONE_VFR = SAMPLES_DIR / "phone_vfr.mp4"
"""Committed: 8 s portrait phone clip, stored 568×320 with rotation −90 (displays 320×568), VFR,
first pts 0.7 s, AAC audio from 0 s, 2 cuts. Ground truth in phone_vfr.mp4.json."""


def _load_generate():
    name = "_videovision_samples_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLES_DIR / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


generate = _load_generate()

read_frame_number = generate.read_frame_number
draw_frame_code = generate.draw_frame_code
generate_clip = generate.generate_clip
make_audio_only = generate.make_audio_only
make_not_a_video = generate.make_not_a_video
load_ground_truth = generate.load_ground_truth
ground_truth_path = generate.ground_truth_path
verify_clip = generate.verify_clip


def make_clip(path: str | Path, **spec: Any) -> dict:
    """Generate a clip (see ``generate.generate_clip`` for every option) and return its ground
    truth. Defaults suit unit tests: 160×120, 25 fps, 2 s, one cut at 1 s, no JSON file written
    (pass ``write_json=True`` for one)."""
    spec.setdefault("size", (160, 120))
    spec.setdefault("duration", 2.0)
    spec.setdefault("cuts", [1.0])
    spec.setdefault("write_json", False)
    return generate.generate_clip(path, **spec)


def make_single_frame(path: str | Path, **spec: Any) -> dict:
    """A one-frame video (160×120 unless ``size`` is given)."""
    spec.setdefault("size", (160, 120))
    return generate.make_single_frame(path, **spec)


def sample(name: str) -> tuple[Path, dict]:
    """A committed sample (``"demo"`` or ``"phone_vfr"``) and its ground truth."""
    path = SAMPLES_DIR / f"{name}.mp4"
    return path, load_ground_truth(path)


def upright(frame) -> np.ndarray:
    """RGB array of a PyAV ``VideoFrame`` with its display rotation applied (no SAR scaling)."""
    img = frame.to_ndarray(format="rgb24")
    if frame.rotation:
        img = np.ascontiguousarray(np.rot90(img, k=frame.rotation // 90))
    return img


def frame_numbers(images) -> list[int | None]:
    """``read_frame_number`` over RGB arrays (or anything with an ``.image`` attribute)."""
    return [read_frame_number(getattr(im, "image", im)) for im in images]


def remux_faststart(src: str | Path, dst: str | Path) -> Path:
    """Copy an MP4's packets into ``dst`` with the index (``moov``) before the data, as web
    servers and ``ffmpeg -movflags faststart`` write them."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "faststart"}) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    return Path(dst)


_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


def mp4_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """Every MP4 box as (type, offset, end), descending into the index's container boxes."""
    end = len(data) if end is None else end
    boxes: list[tuple[bytes, int, int]] = []
    i = start
    while i + 8 <= end:
        size, kind = int.from_bytes(data[i : i + 4], "big"), data[i + 4 : i + 8]
        if size < 8:
            break
        boxes.append((kind, i, min(i + size, end)))
        if kind in _MP4_CONTAINERS:
            boxes.extend(mp4_boxes(data, i + 8, min(i + size, end)))
        i += size
    return boxes


def mp4_box(data: bytes, kind: bytes) -> tuple[int, int]:
    """(offset, end) of the first box of ``kind`` (e.g. ``b"moov"``, ``b"stco"``)."""
    return next((a, b) for k, a, b in mp4_boxes(data) if k == kind)
