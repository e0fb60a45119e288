"""PySceneDetect parity: ``detector=X`` gives the cuts ``scenedetect.detect(path, XDetector(...))``
gives with the same parameters; thresholds and min_scene_len reach the detector; PySceneDetect's
own defaults; options validated against the video (bounded work, no nan/inf)."""

from __future__ import annotations

import math

import pytest
from media import DEMO, generate

from videovision import ConfigError, SamplingConfig, open_video, sample
from videovision.sampling import DETECTORS, make_detector, pyscenedetect_defaults
from videovision.sampling.detectors import DETECTOR_CLASSES, THRESHOLD_ARGUMENT, min_scene_frames

scenedetect = pytest.importorskip("scenedetect")


@pytest.fixture(scope="module")
def fades(tmp_path_factory):
    path = tmp_path_factory.mktemp("det") / "fades.mp4"
    return path, generate.generate_fade_clip(path)


def ours(path, **options):
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(strategy="scenes", **options))
        list(stream)
    return [round(s.start, 6) for s in stream.scenes[1:]]


def theirs(path, detector, threshold=None, min_scene_len=0.6, fps=25.0):
    kwargs = {"min_scene_len": min_scene_frames(min_scene_len, fps)}
    if threshold is not None:
        kwargs[THRESHOLD_ARGUMENT.get(detector, "threshold")] = threshold
    scenes = scenedetect.detect(str(path), DETECTOR_CLASSES[detector](**kwargs))
    return [round(start.seconds, 6) for start, _ in scenes[1:]]


@pytest.mark.parametrize("detector", DETECTORS)
def test_same_cuts_as_pyscenedetect_detect(fades, detector):
    path, _ = fades
    assert ours(path, detector=detector) == theirs(path, detector)


@pytest.mark.parametrize("detector", ["adaptive", "content", "histogram"])
def test_same_cuts_on_the_demo(detector):
    assert ours(DEMO, detector=detector) == theirs(DEMO, detector)


def test_detectors_differ_so_the_choice_must_reach_pyscenedetect(fades):
    path, _ = fades
    results = {d: tuple(ours(path, detector=d)) for d in DETECTORS}
    assert len(set(results.values())) >= 4, results


@pytest.mark.parametrize("detector, low, high", [("content", 12.0, 60.0), ("histogram", 0.05, 0.5),
                                                 ("threshold", 5.0, 50.0), ("adaptive", 3.0, 15.0)])
def test_threshold_reaches_the_detector(fades, detector, low, high):
    path, _ = fades
    a, b = ours(path, detector=detector, threshold=low), ours(path, detector=detector, threshold=high)
    assert a != b
    assert a == theirs(path, detector, low) and b == theirs(path, detector, high)


def test_threshold_alone_means_the_adaptive_detector(fades):
    path, _ = fades
    assert ours(path, threshold=15.0) == theirs(path, "adaptive", 15.0) != ours(path)


def test_min_scene_len_reaches_the_detector(fades):
    path, _ = fades
    short, long = ours(path, detector="histogram", min_scene_len=0.2), ours(path, detector="histogram", min_scene_len=2.0)
    assert len(short) > len(long)
    assert short == theirs(path, "histogram", min_scene_len=0.2)


def test_defaults_are_pyscenedetects():
    assert pyscenedetect_defaults("hash")["threshold"] == 0.35
    assert pyscenedetect_defaults("histogram")["threshold"] == 0.20
    assert pyscenedetect_defaults("content")["threshold"] == 27.0
    assert pyscenedetect_defaults("adaptive")["adaptive_threshold"] == 3.0
    for name in DETECTORS:
        detector = make_detector(SamplingConfig(detector=name), 25.0)
        assert type(detector) is DETECTOR_CLASSES[name]


@pytest.mark.parametrize("seconds, fps, frames", [(0.6, 25, 15), (0.5, 25, 13), (0.02, 25, 1), (0.0, 30, 0),
                                                  (0.6, 29.97, 18), (1 / 60, 30, 1)])
def test_min_scene_len_rounds_to_the_nearest_frame(seconds, fps, frames):
    assert min_scene_frames(seconds, fps) == frames


@pytest.mark.parametrize("field, value", [("threshold", math.nan), ("threshold", math.inf), ("threshold", -1.0),
                                          ("min_scene_len", math.inf), ("min_scene_len", math.nan),
                                          ("every", math.nan), ("max_gap", math.inf), ("start", math.nan),
                                          ("end", math.inf), ("dedup_threshold", math.nan), ("dedup_threshold", 101.0)])
def test_non_finite_and_out_of_range_options_are_refused_by_name(cut_clip, field, value):
    with open_video(cut_clip[0]) as video, pytest.raises(ConfigError, match=field):
        sample(video, SamplingConfig(strategy="scenes", **{field: value}))


def test_screen_preset_with_a_detector_is_refused(cut_clip):
    with open_video(cut_clip[0]) as video, pytest.raises(ConfigError, match="preset"):
        list(sample(video, SamplingConfig(strategy="scenes", preset="screen", detector="content")))


@pytest.mark.parametrize("options", [{"strategy": "interval", "every": 1e-9},
                                     {"strategy": "uniform", "count": 100_000_000}])
def test_more_targets_than_frames_are_bounded_and_noted(cut_clip, options):
    path, gt = cut_clip
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(**options))
        frames = list(stream)
    assert gt["frame_count"] - 2 <= len(frames) <= gt["frame_count"]  # each frame at most once
    assert len({f.index for f in frames}) == len(frames)
    assert stream.notes and ("every" in stream.notes[0] or "count" in stream.notes[0])


@pytest.mark.parametrize("name, reference", [("adaptive", "AdaptiveDetector"), ("content", "ContentDetector")])
def test_our_frame_score_is_pyscenedetects_float_for_float(name, reference):
    """The faster score (one absdiff and one sum of the HSV pictures) gives PySceneDetect's number
    exactly on real frames (demo.mp4, PySceneDetect's downscale) and on noise, flat and repeated
    pictures; with a stats manager attached PySceneDetect's own code runs."""
    import cv2
    import numpy as np

    from videovision.sampling.detectors import pyscenedetect_frame

    with open_video(DEMO) as video:
        pictures = [pyscenedetect_frame(cv2.cvtColor(f.image, cv2.COLOR_RGB2BGR))
                    for f in video.frames_at([i * 0.2 for i in range(60)])]
    rng = np.random.default_rng(7)
    shape = pictures[0].shape
    pictures += [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(10)]
    pictures += [np.full(shape, v, np.uint8) for v in (0, 0, 255, 128)] + pictures[:5]
    ours_d, theirs = DETECTOR_CLASSES[name](), getattr(scenedetect, reference)()
    assert type(ours_d) is not getattr(scenedetect, reference)
    scores = []
    for i, picture in enumerate(pictures):
        tc = scenedetect.FrameTimecode(i, fps=25.0)
        assert ours_d.process_frame(tc, picture) == theirs.process_frame(tc, picture)
        assert ours_d._frame_score == theirs._frame_score
        scores.append(ours_d._frame_score)
    assert len(set(scores)) > 40  # the pictures differ: the scores compared are not all one value
