"""Sampling: every chosen frame is checked against the frame number burned into its pixels."""

from __future__ import annotations

import bisect

import numpy as np
import pytest
from media import make_clip, read_frame_number

from videovision import ConfigError, SamplingConfig, open_video, sample


def expected_index(frame_times, t):
    """The rule: the first frame whose timestamp is >= t."""
    return bisect.bisect_left(frame_times, t - 1e-6)


def run(path, **options):
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(**options))
        frames = list(stream)
    return frames, stream


@pytest.mark.parametrize("kind", ["cfr", "vfr"])
def test_interval_picks_first_frame_at_or_after_each_target(clips, kind):
    spec = {"vfr_pattern": "random"} if kind == "vfr" else {}
    path, gt = clips(f"interval-{kind}", duration=6.0, cuts=[2.0], **spec)
    times = gt["frame_times"]
    frames, _ = run(path, strategy="interval", every=0.7)
    targets = [i * 0.7 for i in range(len(frames))]
    assert len(frames) == len([t for t in np.arange(0, gt["duration"], 0.7) if expected_index(times, t) < len(times)])
    for frame, target in zip(frames, targets):
        number = read_frame_number(frame.image)
        assert number == expected_index(times, target), (target, frame.time)
        assert frame.time == pytest.approx(times[number], abs=1e-6)
        assert frame.index == number


@pytest.mark.parametrize("kind", ["cfr", "vfr"])
def test_uniform_spreads_count_frames_over_the_clipped_range(clips, kind):
    spec = {"vfr_pattern": "drops"} if kind == "vfr" else {}
    path, gt = clips(f"uniform-{kind}", duration=6.0, cuts=[], **spec)
    frames, _ = run(path, strategy="uniform", count=5, start=1.0, end=5.0)
    assert len(frames) == 5
    for i, frame in enumerate(frames):
        target = 1.0 + (i + 0.5) * 4.0 / 5
        assert read_frame_number(frame.image) == expected_index(gt["frame_times"], target)


def test_sparse_targets_seek_and_stay_exact(tmp_path):
    path = tmp_path / "gop.mp4"
    gt = make_clip(path, duration=12.0, cuts=[], gop=50, size=(160, 120))
    frames, _ = run(path, strategy="interval", every=3.3)
    assert [read_frame_number(f.image) for f in frames] == [expected_index(gt["frame_times"], t) for t in (0, 3.3, 6.6, 9.9)]


def test_scenes_finds_each_cut_and_one_frame_per_scene_away_from_cuts(cut_clip):
    path, gt = cut_clip
    frames, stream = run(path, strategy="scenes")
    cuts = [s.start for s in stream.scenes[1:]]
    assert len(cuts) == len(gt["cuts"])
    for found, truth in zip(cuts, gt["cuts"]):
        assert abs(found - truth) <= 0.04 + 1e-6  # within one frame at 25 fps
    assert len(frames) == len(stream.scenes)
    for frame, scene in zip(frames, stream.scenes):
        assert frame.scene == scene.index
        quarter = (scene.end - scene.start) / 4
        assert scene.start + quarter - 1e-6 <= frame.time <= scene.end - quarter + 1e-6
        assert read_frame_number(frame.image) == frame.index


@pytest.mark.parametrize("detector", ["content", "threshold", "hash", "histogram"])
def test_every_detector_can_be_selected(cut_clip, detector):
    path, gt = cut_clip
    frames, stream = run(path, strategy="scenes", detector=detector)
    assert len(frames) >= 1 and len(stream.scenes) >= 1
    if detector == "content":
        assert len(stream.scenes) == len(gt["cuts"]) + 1


def test_hybrid_bounds_gaps_and_keeps_opening_and_closing(cut_clip):
    path, gt = cut_clip
    frames, stream = run(path, strategy="hybrid", max_gap=1.0)
    times = [f.time for f in frames]
    assert times[0] == 0.0
    assert times[-1] == pytest.approx(gt["frame_times"][-1], abs=1e-6)
    assert max(np.diff(times)) <= 1.0 + 1e-6
    assert {f.scene for f in frames} == set(range(len(gt["cuts"]) + 1))
    for f in frames:
        assert read_frame_number(f.image) == f.index


def test_flash_shorter_than_min_scene_len_is_merged(tmp_path):
    path = tmp_path / "flash.mp4"
    make_clip(path, duration=4.0, cuts=[2.0, 2.12], size=(160, 120))  # a 3-frame flash
    _, stream = run(path, strategy="scenes", detector="content", min_scene_len=0.6)
    assert [s.start for s in stream.scenes] == [0.0, 2.0]
    _, stream = run(path, strategy="scenes", detector="content", min_scene_len=0.0)
    assert [s.start for s in stream.scenes] == [0.0, 2.0, 2.12]  # min_scene_len reaches the detector


def test_scene_frames_avoid_fades(tmp_path):
    path = tmp_path / "fade.mp4"
    make_clip(path, duration=6.0, cuts=[3.0], fade=1.2, size=(160, 120))
    frames, stream = run(path, strategy="scenes", detector="content")
    for frame in frames:
        assert frame.image.mean() > 40  # not a frame faded to black


def test_dedup_reports_what_it_dropped(tmp_path):
    path = tmp_path / "still.mp4"
    make_clip(path, duration=4.0, cuts=[], size=(160, 120), labels=False)
    frames, stream = run(path, strategy="interval", every=0.5, dedup=True, dedup_threshold=20)
    assert stream.duplicates_dropped >= 1
    assert len(frames) + stream.duplicates_dropped == 8


def test_bad_options_and_empty_ranges(cut_clip):
    path, _ = cut_clip
    with pytest.raises(ConfigError, match="past the end"):
        run(path, start=100.0)
    with pytest.raises(ConfigError, match="after start"):
        run(path, start=3.0, end=2.0)
    with pytest.raises(ConfigError):
        run(path, every=0)
    with pytest.raises(ConfigError):
        run(path, strategy="random")


def test_frames_stream_rather_than_accumulate(tmp_path):
    path = tmp_path / "long.mp4"
    make_clip(path, duration=20.0, cuts=[5.0, 10.0, 15.0], size=(320, 240))
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(strategy="interval", every=1.0))
        first = next(iter(stream))
        assert first.time == 0.0  # a frame is available before the rest are decoded
        rest = list(stream)
    assert len(rest) == 19


@pytest.mark.parametrize("codec, name", [("libx264", "h264.mp4"), ("libx265", "hevc.mp4"), ("libx264", "annexb.ts")])
def test_dense_interval_skips_unreferenced_pictures_and_stays_exact(tmp_path, codec, name):
    """Packets of pictures nothing references are not decoded on the way to a target; the
    frames returned are still exactly the ones the rule picks."""
    from videovision.source import _disposable_test

    path = tmp_path / name
    gt = make_clip(path, duration=4.0, cuts=[2.0], codec=codec, size=(160, 120))
    with open_video(path) as video:
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            test = _disposable_test(stream)
            flags = [test(p) for p in container.demux(stream) if p.size]
        assert any(flags) and not all(flags)  # B-pictures are skippable, the rest are not
        frames = list(video.frames_at([i * 0.33 for i in range(12)]))
    times = gt["frame_times"]
    assert [read_frame_number(f.image) for f in frames] == [expected_index(times, i * 0.33) for i in range(12)]


@pytest.mark.parametrize("duration, max_gap", [(60.0, 5.0), (60.0, 2.0), (2.0, 1.0)])
def test_hybrid_never_exceeds_max_gap_in_long_single_scenes(clips, duration, max_gap):
    path, gt = clips(f"single-{int(duration)}", duration=duration, cuts=[], size=(160, 120))
    frames, _ = run(path, strategy="hybrid", max_gap=max_gap)
    times = [f.time for f in frames]
    assert times[0] == 0.0 and times[-1] == pytest.approx(gt["frame_times"][-1])
    assert max(np.diff(times)) <= max_gap + 1e-6
    assert len(frames) <= duration / max_gap * 2 + 2  # no needless frames either


@pytest.mark.parametrize("max_gap", [0.3, 0.5, 1.0, 1.53, 1.56])
def test_hybrid_scene_labels_match_the_scene_each_frame_is_in(cut_clip, max_gap):
    """Detectors report some cuts a few frames late; labels are given once every cut is known."""
    path, gt = cut_clip
    frames, stream = run(path, strategy="hybrid", max_gap=max_gap)
    starts = [s.start for s in stream.scenes]
    for f in frames:
        assert f.scene == bisect.bisect_right(starts, f.time + 1e-9) - 1, (f.time, f.scene, starts)
    truth = [0.0] + gt["cuts"]
    for f in frames:  # and those scenes are the real shots
        assert f.scene == bisect.bisect_right(truth, f.time + 1e-9) - 1
