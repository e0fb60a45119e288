"""The sample generator itself: ground truth matches what PyAV and OpenCV decode."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from media import (
    DEMO,
    PHONE_VFR,
    draw_frame_code,
    load_ground_truth,
    make_audio_only,
    make_clip,
    make_not_a_video,
    make_single_frame,
    read_frame_number,
    upright,
)


def pyav_frames(path):
    """[(seconds from the first frame, frame number read from the upright picture)]"""
    out = []
    with av.open(str(path)) as c:
        first = None
        for fr in c.decode(video=0):
            t = float(fr.pts * fr.time_base)
            first = t if first is None else first
            out.append((t - first, read_frame_number(upright(fr))))
    return out


def cv_frames(path):
    """[(CAP_PROP_POS_MSEC / 1000, frame number, RGB shape)] (OpenCV applies rotation itself)."""
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened()
    out = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        out.append((cap.get(cv2.CAP_PROP_POS_MSEC) / 1000, read_frame_number(bgr[:, :, ::-1]), bgr.shape))
    cap.release()
    return out


def assert_matches(frames, gt, complete=True):
    times = [t for t, *_ in frames]
    nums = [n for _, n, *_ in frames]
    if complete:
        assert len(frames) == gt["frame_count"]
    assert nums == list(range(len(frames)))
    assert np.allclose(times, gt["frame_times"][: len(times)], atol=1e-3)


def test_cfr_clip_ground_truth(tmp_path):
    gt = make_clip(tmp_path / "a.mp4", duration=2.0, cuts=[0.5, 1.3], write_json=True)
    assert (tmp_path / "a.mp4.json").exists()
    assert gt["frame_count"] == 50 == len(gt["frame_times"])
    assert gt["cuts"] == [0.52, 1.32]  # first frame at or after each requested time
    assert gt["cut_frames"] == [13, 33]
    assert gt["scenes"] == [[0.0, 0.52], [0.52, 1.32], [1.32, 2.0]]
    assert gt["keyframe_times"][0] == 0.0
    assert_matches(pyav_frames(tmp_path / "a.mp4"), gt)
    assert_matches(cv_frames(tmp_path / "a.mp4"), gt)


def test_vfr_and_start_offset(tmp_path):
    gt = make_clip(
        tmp_path / "v.mp4", vfr_pattern=[0.04, 0.04, 0.12, 0.013], start_pts_seconds=1.075,
        audio=True, audio_start_seconds=0.0,
    )
    assert gt["frame_times"][:5] == [0.0, 0.04, 0.08, 0.2, 0.213]
    with av.open(str(tmp_path / "v.mp4")) as c:
        assert c.streams.video[0].start_time * c.streams.video[0].time_base == Fraction(1075, 1000)
        assert len(c.streams.audio) == 1
    assert_matches(pyav_frames(tmp_path / "v.mp4"), gt)
    assert_matches(cv_frames(tmp_path / "v.mp4"), gt)  # POS_MSEC is relative to the first frame


@pytest.mark.parametrize("rotation,cw", [(-90, 90), (90, 270), (180, 180)])
def test_rotation(tmp_path, rotation, cw):
    gt = make_clip(tmp_path / "r.mp4", size=(120, 160), duration=0.4, rotation=rotation)
    assert gt["rotation_cw"] == cw
    stored = (gt["stored_width"], gt["stored_height"])
    assert stored == ((160, 120) if cw % 180 else (120, 160))
    with av.open(str(tmp_path / "r.mp4")) as c:
        fr = next(c.decode(video=0))
        assert (fr.width, fr.height) == stored
        assert fr.rotation % 360 == rotation % 360  # PyAV reports 180 as -180
        assert read_frame_number(fr.to_ndarray(format="rgb24")) is None  # stored = not upright
        assert read_frame_number(upright(fr)) == 0
    frames = cv_frames(tmp_path / "r.mp4")
    assert frames[0][2][:2] == (160, 120)  # OpenCV: display-upright, 120 wide × 160 high
    assert_matches(frames, gt)


def test_sar(tmp_path):
    gt = make_clip(tmp_path / "s.mp4", size=(256, 144), duration=0.4, sar=(16, 11))
    assert (gt["stored_width"], gt["stored_height"]) == (176, 144)
    with av.open(str(tmp_path / "s.mp4")) as c:
        assert c.streams.video[0].codec_context.sample_aspect_ratio == Fraction(16, 11)
    cap = cv2.VideoCapture(str(tmp_path / "s.mp4"))
    assert (cap.get(cv2.CAP_PROP_SAR_NUM), cap.get(cv2.CAP_PROP_SAR_DEN)) == (16, 11)
    ok, bgr = cap.read()
    assert bgr.shape[:2] == (144, 176)  # OpenCV does not apply SAR
    assert read_frame_number(cv2.resize(bgr, (256, 144))[:, :, ::-1]) == 0
    assert_matches(pyav_frames(tmp_path / "s.mp4"), gt)


def test_truncated_mkv_decodes_partially(tmp_path):
    gt = make_clip(tmp_path / "t.mkv", duration=3.0, gop=25, truncate_fraction=0.5)
    assert gt["truncated"] and gt["container"] == "matroska"
    assert 0 < gt["decodable_frame_count"] < gt["frame_count"]
    frames = pyav_frames(tmp_path / "t.mkv")
    assert len(frames) == gt["decodable_frame_count"]
    assert_matches(frames, gt, complete=False)


def test_truncated_mp4_is_unreadable(tmp_path):
    gt = make_clip(tmp_path / "t.mp4", truncate_fraction=0.5)
    assert gt["decodable_frame_count"] == 0
    with pytest.raises(av.FFmpegError):
        av.open(str(tmp_path / "t.mp4"))


def test_fade_keeps_frame_code(tmp_path):
    gt = make_clip(tmp_path / "f.mp4", cuts=[1.0], fade=0.4)
    assert gt["fade"]["cut"] == 1.0
    assert gt["fade"]["out"][0] == pytest.approx(0.6) and gt["fade"]["in"][1] == pytest.approx(1.4)
    assert len(gt["faded_frames"]) == 20
    assert_matches(pyav_frames(tmp_path / "f.mp4"), gt)


def test_other_containers_and_codecs(tmp_path):
    for name, kw in [("a.ts", {}), ("b.webm", {"codec": "libvpx-vp9"}), ("c.avi", {"codec": "mpeg4"}),
                     ("d.mov", {"fps": Fraction(30000, 1001)})]:
        gt = make_clip(tmp_path / name, duration=0.5, cuts=[], **kw)
        assert_matches(pyav_frames(tmp_path / name), gt)


def test_odd_files(tmp_path):
    make_audio_only(tmp_path / "a.m4a", duration=1.0)
    make_audio_only(tmp_path / "a.wav", duration=1.0)
    for p in ("a.m4a", "a.wav"):
        with av.open(str(tmp_path / p)) as c:
            assert not c.streams.video and len(c.streams.audio) == 1
    gt = make_single_frame(tmp_path / "one.mp4")
    assert gt["frame_count"] == 1 and gt["duration"] == 0.04
    assert pyav_frames(tmp_path / "one.mp4") == [(0.0, 0)]
    make_not_a_video(tmp_path / "x.mp4")
    with pytest.raises(av.FFmpegError):
        av.open(str(tmp_path / "x.mp4"))


def test_read_frame_number_robust():
    rng = np.random.default_rng(1)
    img = rng.integers(60, 200, (360, 640, 3), dtype=np.uint8)
    draw_frame_code(img, 123456)
    assert read_frame_number(img) == 123456
    for w in (64, 100, 333, 1280):
        small = cv2.resize(img, (w, w * 9 // 16), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 30])
        assert read_frame_number(cv2.imdecode(buf, cv2.IMREAD_COLOR)) == 123456
    for bad in (np.rot90(img), np.rot90(img, 2), np.rot90(img, -1), img[:, ::-1], img[::-1]):
        assert read_frame_number(np.ascontiguousarray(bad)) is None
    assert read_frame_number(np.zeros((100, 100, 3), np.uint8)) is None
    assert read_frame_number(np.full((100, 100), 255, np.uint8)) is None


@pytest.mark.parametrize("path", [DEMO, PHONE_VFR], ids=["demo", "phone_vfr"])
def test_committed_samples(path):
    gt = load_ground_truth(path)
    assert path.stat().st_size == gt["size_bytes"]
    assert len(gt["frame_times"]) == gt["frame_count"]
    assert DEMO.stat().st_size + PHONE_VFR.stat().st_size <= 2_000_000
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        st.thread_type = "AUTO"
        assert (st.codec_context.width, st.codec_context.height) == (gt["stored_width"], gt["stored_height"])
        times, nums = [], []
        for i, fr in enumerate(c.decode(st)):
            times.append(float(fr.pts * fr.time_base))
            if i % 10 == 0 or i in gt["cut_frames"] or i + 1 in gt["cut_frames"]:
                nums.append((i, read_frame_number(upright(fr))))
    assert times[0] == pytest.approx(gt["start_pts_seconds"], abs=1e-6)
    assert np.allclose(np.array(times) - times[0], gt["frame_times"], atol=1e-6)
    assert all(i == n for i, n in nums)


def test_demo_cuts_found_by_pyscenedetect():
    scenedetect = pytest.importorskip("scenedetect")
    gt = load_ground_truth(DEMO)
    for detector in (scenedetect.AdaptiveDetector(), scenedetect.ContentDetector()):
        scenes = scenedetect.detect(str(DEMO), detector)
        found = [start.seconds for start, _ in scenes[1:]]
        assert len(found) == len(gt["cuts"])
        assert np.allclose(found, gt["cuts"], atol=1 / gt["fps_nominal"] + 1e-6)
