"""Probing and decoding: exact timestamps, rotation, SAR, offsets, and every kind of bad input."""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from media import (
    make_audio_only,
    make_clip,
    make_not_a_video,
    make_single_frame,
    mp4_box,
    read_frame_number,
    remux_faststart,
)

from videovision import VideoOpenError, open_video, probe


def test_probe_reports_display_geometry_and_exact_counts(cut_clip):
    path, gt = cut_clip
    info = probe(path)
    assert (info.width, info.height) == (160, 120)
    assert info.frame_count == gt["frame_count"]
    assert info.duration == pytest.approx(gt["duration"], abs=1e-3)
    assert info.fps == pytest.approx(25.0, rel=1e-3)
    assert info.codec == "h264" and info.rotation == 0 and not info.variable_frame_rate


def test_frame_times_come_from_presentation_timestamps_on_vfr(clips):
    path, gt = clips("vfr", duration=3.0, vfr_pattern="random", size=(160, 120))
    with open_video(path) as video:
        assert video.info.variable_frame_rate
        np.testing.assert_allclose(video.frame_times, gt["frame_times"], atol=1e-6)


@pytest.mark.parametrize("rotation, expected_cw", [(-90, 90), (90, 270), (180, 180)])
def test_rotated_clips_come_out_upright(clips, rotation, expected_cw):
    path, _ = clips(f"rot{rotation}", duration=1.0, size=(160, 96), rotation=rotation, cuts=[])
    with open_video(path) as video:
        info = video.info
        assert info.rotation == expected_cw
        frames = list(video.frames_at([0.0, 0.5]))
    assert (info.width, info.height) == (160, 96)  # display size, as recorded upright
    for frame in frames:
        assert frame.image.shape[:2] == (96, 160)
        assert read_frame_number(frame.image) == frame.index


def test_anamorphic_clip_comes_out_at_display_aspect(clips):
    path, gt = clips("sar", duration=1.0, size=(256, 144), sar=(16, 11), cuts=[])
    with open_video(path) as video:
        assert video.info.sample_aspect_ratio == (16, 11)
        assert video.info.coded_width == gt["stored_width"]
        assert abs(video.info.width - 256) <= 2 and video.info.height == 144
        (frame,) = list(video.frames_at([0.4]))
    assert abs(frame.image.shape[1] - 256) <= 2 and frame.image.shape[0] == 144
    assert read_frame_number(frame.image) == frame.index


def test_stream_with_late_start_is_timed_from_its_first_frame(clips):
    path, _ = clips("offset", duration=2.0, start_pts_seconds=1.075, cuts=[])
    with open_video(path) as video:
        assert video.info.start_time == pytest.approx(1.075, abs=1e-3)
        frames = list(video.frames_at([0.0, 1.0]))
    assert frames[0].time == 0.0 and frames[0].index == 0
    assert frames[1].time == pytest.approx(1.0, abs=1e-6)
    assert read_frame_number(frames[1].image) == 25


def test_max_side_downscales_but_never_upscales(cut_clip):
    path, _ = cut_clip
    with open_video(path) as video:
        (small,) = list(video.frames_at([1.0], max_side=80))
        (same,) = list(video.frames_at([1.0], max_side=4000))
    assert small.image.shape == (60, 80, 3)
    assert same.image.shape == (120, 160, 3)


def test_mkv_and_webm_containers(clips):
    for name, codec in (("c.mkv", "libx264"), ("c.webm", "libvpx-vp9")):
        path, gt = clips(name, duration=1.0, cuts=[], codec=codec)
        with open_video(path) as video:
            assert video.info.frame_count == gt["frame_count"]
            (frame,) = list(video.frames_at([0.6]))
        assert read_frame_number(frame.image) == frame.index == 15


# ------------------------------------------------------------------ bad input
def test_missing_file(tmp_path):
    with pytest.raises(VideoOpenError, match="no such file"):
        open_video(tmp_path / "nope.mp4")


def test_directory(tmp_path):
    with pytest.raises(VideoOpenError, match="directory"):
        open_video(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoOpenError, match="empty"):
        open_video(path)


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    make_not_a_video(path)
    with pytest.raises(VideoOpenError, match="not a video"):
        open_video(path)


def test_audio_only(tmp_path):
    path = tmp_path / "song.m4a"
    make_audio_only(path)
    with pytest.raises(VideoOpenError, match="no video stream"):
        open_video(path)


def test_truncated_mp4_says_so(tmp_path):
    path = tmp_path / "cut.mp4"
    make_clip(path, duration=2.0, truncate_fraction=0.5)
    with pytest.raises(VideoOpenError, match="truncated"):
        open_video(path)


def test_truncated_mkv_keeps_what_it_can(tmp_path):
    path = tmp_path / "cut.mkv"
    make_clip(path, duration=4.0, truncate_fraction=0.5, cuts=[])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with open_video(path) as video:
            assert 0.5 < video.info.duration < 4.0
            frames = list(video.frames_at([0.0, 1.0]))
    assert [read_frame_number(f.image) for f in frames] == [f.index for f in frames]


def test_single_frame_video_is_usable(tmp_path):
    path = tmp_path / "one.mp4"
    make_single_frame(path)
    with open_video(path) as video:
        assert video.info.frame_count == 1
        (frame,) = list(video.frames_at([0.0]))
        assert frame.time == 0.0


def test_zero_frame_video_is_an_error(tmp_path):
    path = tmp_path / "zero.mkv"
    import av

    with av.open(str(path), "w") as out:  # a video stream header and not one frame
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        out.start_encoding()
    with pytest.raises(VideoOpenError, match=r"zero.duration|no (readable )?video frames"):
        open_video(path)


def test_corrupt_packets_mid_stream_are_skipped(tmp_path):
    path = tmp_path / "damaged.ts"
    gt = make_clip(path, duration=4.0, cuts=[2.0], gop=25)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    start = len(data) // 2
    data[start : start + 6000] = rng.integers(0, 255, 6000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_video(path) as video:
            frames = list(video.frames_at([0.0, 1.0, 3.5]))
    assert frames[0].time == 0.0
    assert frames[-1].time >= 3.5 - 1e-6  # decoding carried on past the damage
    for f in frames:  # the time is still that frame's own (indices past the damage count surviving frames)
        assert gt["frame_times"][read_frame_number(f.image)] == pytest.approx(f.time, abs=1e-6)


# ------------------------------------------------------------------ decode-time downscaling
@pytest.mark.parametrize("name, spec", [
    ("plain", {"size": (320, 240)}),
    ("rotated", {"size": (320, 176), "rotation": -90}),
    ("anamorphic", {"size": (320, 180), "sar": (16, 11)}),
])
def test_iter_raw_scales_frames_down_at_decode_time(clips, name, spec):
    path, _ = clips(f"raw_{name}", duration=1.0, cuts=[], **spec)
    with open_video(path) as video:
        full = list(video.iter_raw(0.2, 0.6))
        small = list(video.iter_raw(0.2, 0.6, max_side=120))
        expected = [video.to_image(raw.frame, 120) for raw in full]
        got = [video.to_image(raw, 120) for raw in small]
        exact = list(video.frames_at([raw.time for raw in full], max_side=120))
    assert [(r.time, r.index) for r in small] == [(r.time, r.index) for r in full]  # same frames, same times
    assert all(max(r.frame.width, r.frame.height) <= 120 for r in small)  # held small, not at full size
    assert [im.shape for im in got] == [im.shape for im in expected] == [f.image.shape for f in exact]
    assert max(got[0].shape[:2]) == 120
    assert [read_frame_number(im) for im in got] == [r.index for r in small]  # upright, the right frames


def test_iter_raw_keeps_frames_that_already_fit(cut_clip):
    path, _ = cut_clip
    with open_video(path) as video:
        (raw,) = list(video.iter_raw(1.0, 1.01, max_side=4000))
        image = video.to_image(raw)
    assert (raw.frame.width, raw.frame.height) == (160, 120) and not raw.display_ready
    assert image.shape == (120, 160, 3)


# ------------------------------------------------------------------ files that are not regular files
def test_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "live.mp4"
    os.mkfifo(fifo)
    errors: list[Exception] = []

    def attempt() -> None:
        try:
            open_video(fifo)
        except Exception as err:
            errors.append(err)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    blocked = thread.is_alive()
    if blocked:  # a reader waits in open(): a writer releases it so the thread can end
        with open(fifo, "wb"):
            pass
        thread.join(5)
    assert not blocked, "opening a named pipe blocked"
    assert len(errors) == 1 and isinstance(errors[0], VideoOpenError)
    assert "named pipe" in str(errors[0])


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_character_device_is_refused():
    with pytest.raises(VideoOpenError, match="character device"):
        open_video("/dev/null")


# ------------------------------------------------------------------ damaged indexes
@pytest.fixture(scope="module")
def faststart_mp4(tmp_path_factory) -> bytes:
    """A 2 s MP4 with audio whose index (moov) comes before its data."""
    root = tmp_path_factory.mktemp("faststart")
    make_clip(root / "plain.mp4", duration=2.0, audio=True)
    return remux_faststart(root / "plain.mp4", root / "fast.mp4").read_bytes()


def _write_damaged(data: bytes, at: int, new: bytes, path: Path) -> Path:
    damaged = bytearray(data)
    damaged[at : at + len(new)] = new
    path.write_bytes(bytes(damaged))
    return path


def test_faststart_index_without_chunk_offsets_is_an_open_error(faststart_mp4, tmp_path):
    # a flipped bit in a box name: the video's chunk offset table (stco) is gone
    start, _ = mp4_box(faststart_mp4, b"stco")
    path = _write_damaged(faststart_mp4, start + 4, b"stcx", tmp_path / "nostco.mp4")
    with pytest.raises(VideoOpenError, match="damaged index"):
        open_video(path)


def test_damaged_sample_description_is_an_open_error(faststart_mp4, tmp_path):
    # a flipped bit in the codec tag (avc1 -> a6c1): FFmpeg gives the stream no decoder
    start, end = mp4_box(faststart_mp4, b"moov")
    at = faststart_mp4.index(b"avc1", start, end)
    path = _write_damaged(faststart_mp4, at, b"a6c1", tmp_path / "nocodec.mp4")
    with pytest.raises(VideoOpenError, match="codec"):
        open_video(path)


def _remux_with_pts_shift(src: Path, dst: Path, frame: int, seconds: float) -> None:
    """Copy a clip, moving one frame's timestamp ``seconds`` later (a damaged block timestamp)."""
    import av

    with av.open(str(src)) as inp:
        frame_pts = sorted(p.pts for p in inp.demux(inp.streams.video[0]) if p.size)[frame]

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        video = out.add_stream_from_template(inp.streams.video[0])
        packets = (p for p in inp.demux(inp.streams.video[0]) if p.size)
        for packet in packets:
            if packet.pts == frame_pts:
                packet.pts += round(seconds / packet.time_base)
            packet.stream = video
            out.mux(packet)


def test_frame_with_a_damaged_timestamp_is_skipped(tmp_path):
    clean = tmp_path / "clean.mkv"
    gt = make_clip(clean, duration=1.0, cuts=[], gop=12)
    damaged = tmp_path / "damaged.mkv"
    _remux_with_pts_shift(clean, damaged, frame=5, seconds=15.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_video(damaged) as video:
            raws = list(video.iter_raw(0.0, 1.0))
            images = [video.to_image(raw.frame) for raw in raws]
            exact = list(video.frames_at([0.0, 0.2, 0.4]))
    numbers = [read_frame_number(image) for image in images]
    assert numbers == [n for n in range(gt["frame_count"]) if n != 5]  # the range did not end at the bad time
    assert [raw.time for raw in raws] == pytest.approx([gt["frame_times"][n] for n in numbers], abs=1e-6)
    assert [read_frame_number(f.image) for f in exact] == [0, 6, 10]  # 0.2 s fell on the damaged frame 5
    assert [f.time for f in exact] == pytest.approx([0.0, 0.24, 0.4], abs=1e-6)
    assert any("damaged timestamp" in str(w.message) for w in caught)
