"""The frames folder: JPEGs named by time, contact sheets, a versioned manifest, atomic replacement."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from videovision.errors import ConfigError
from videovision.export import MANIFEST, SHEET_COLUMNS, SHEET_ROWS, export_frames
from videovision.types import SCHEMA_VERSION, Frame, Scene, VideoInfo

INFO = VideoInfo(path="v.mp4", duration=120.0, width=64, height=36, coded_width=64, coded_height=36, rotation=0,
                 sample_aspect_ratio=(1, 1), fps=25.0, frame_count=3000, codec="h264",
                 container="mov", has_audio=False, start_time=0.0, variable_frame_rate=False, size_bytes=1)


def frames(n: int, step: float = 1.5):
    for i in range(n):
        image = np.full((36, 64, 3), (i * 37) % 256, np.uint8)
        image[:, :, 0] = 200  # a red cast: RGB order must survive the round trip
        yield Frame(time=i * step, index=i * 10, image=image, scene=i // 3)


def test_writes_frames_sheets_and_a_versioned_manifest(tmp_path):
    result = export_frames(frames(4), INFO, tmp_path / "out", scenes=[Scene(0, 0.0, 4.5), Scene(1, 4.5, 6.0)],
                           extra={"sampling": {"strategy": "interval"}})
    names = [f.file for f in result.frames]
    assert names == ["frame_00h00m00.000s.jpg", "frame_00h00m01.500s.jpg", "frame_00h00m03.000s.jpg",
                     "frame_00h00m04.500s.jpg"]
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert [f["time"] for f in manifest["frames"]] == [0.0, 1.5, 3.0, 4.5]
    assert manifest["scenes"][1] == {"index": 1, "start": 4.5, "end": 6.0}
    assert manifest["sampling"] == {"strategy": "interval"} and manifest["video"]["path"] == "v.mp4"
    bgr = cv2.imread(str(tmp_path / "out" / names[0]))
    assert bgr.shape == (36, 64, 3) and bgr[..., 2].mean() > 180  # red stayed red
    assert result.contact_sheets and all((tmp_path / "out" / s).is_file() for s in result.contact_sheets)


def test_contact_sheets_page_by_their_capacity(tmp_path):
    per_page = SHEET_COLUMNS * SHEET_ROWS
    result = export_frames(frames(per_page + 1, step=0.5), INFO, tmp_path / "out")
    assert len(result.contact_sheets) == 2


def test_a_failed_run_leaves_the_previous_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    export_frames(frames(3), INFO, out)
    before = sorted(p.name for p in out.iterdir())

    def broken():
        yield from frames(2, step=7.0)
        raise RuntimeError("decoder died")

    with pytest.raises(RuntimeError):
        export_frames(broken(), INFO, out)
    assert sorted(p.name for p in out.iterdir()) == before
    rerun = export_frames(frames(2, step=7.0), INFO, out)  # a complete run replaces the old frames
    assert sorted(f.file for f in rerun.frames) == sorted(p.name for p in out.glob("frame_*.jpg"))


def test_an_unusable_folder_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError):
        export_frames(frames(1), INFO, blocker / "out")
