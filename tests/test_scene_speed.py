"""The fast scene pass gives PySceneDetect's cuts and pictures (issue 24): the detectors' frame is
converted only where PySceneDetect's downscale reads it, pixel for pixel the same; decoding runs in
a thread ahead of the analysis and stops cleanly. Speed itself is measured in bench/bench_speed.py."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from media import generate, make_clip

from videovision import SamplingConfig, open_video, sample
from videovision.sampling.detectors import pyscenedetect_size
from videovision.source import _linear_taps

scenedetect = pytest.importorskip("scenedetect")


@pytest.fixture(scope="module")
def film720(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "film720.mp4"
    make_clip(path, size=(1280, 720), duration=4.0, cuts=[1.2, 2.6], fps=25)
    return path


@pytest.fixture(scope="module")
def screen720(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "screen720.mp4"
    generate.generate_screen_clip(path, slides=4, slide_seconds=(2.0, 3.0), size=(1280, 720))
    return path


def cuts_of(path, **options):
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(strategy="scenes", **options))
        list(stream)
    return [round(s.start, 6) for s in stream.scenes[1:]]


def detect_cuts(path, detector):
    return [round(a.seconds, 6) for a, _ in scenedetect.detect(str(path), detector)[1:]]


def test_film_preset_gives_the_cuts_of_detect_on_720p(film720):
    ours = cuts_of(film720, preset="film")
    assert ours and ours == detect_cuts(film720, scenedetect.AdaptiveDetector())


def test_screen_recording_with_content_detector_gives_the_cuts_of_detect(screen720):
    ours = cuts_of(screen720, detector="content", threshold=1.5)
    assert ours and ours == detect_cuts(screen720, scenedetect.ContentDetector(threshold=1.5))


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (3840, 2160), (768, 576), (1366, 768), (640, 360)])
@pytest.mark.parametrize("fmt, space, colour_range", [("yuv420p", None, None), ("yuv420p", "ITU709", "MPEG"),
                                                      ("yuvj420p", None, "JPEG"), ("yuv420p", "ITU601", "JPEG")])
def test_downscaled_bgr_is_the_resize_of_the_full_conversion(film720, size, fmt, space, colour_range):
    rng = np.random.default_rng(sum(size))
    with open_video(film720) as source:
        for _ in range(3):
            rgb = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format=fmt, dst_colorspace=space, dst_color_range=colour_range)
            target = pyscenedetect_size(*size)
            expected = cv2.resize(frame.to_ndarray(format="bgr24"), target, interpolation=cv2.INTER_LINEAR)
            assert np.array_equal(source.downscaled_bgr(frame, *target), expected)


def test_linear_taps_are_the_pixels_the_resize_reads():
    rng = np.random.default_rng(5)
    for n_src, n_dst in ((1280, 256), (1920, 256), (720, 144), (1080, 144), (576, 192)):
        taps, _ = _linear_taps(n_src, n_dst)
        image = rng.integers(0, 256, (4, n_src), dtype=np.uint8)
        expected = cv2.resize(image, (n_dst, 4), interpolation=cv2.INTER_LINEAR)
        scrambled = rng.integers(0, 256, image.shape, dtype=np.uint8)
        scrambled[:, sorted(set(taps))] = image[:, sorted(set(taps))]
        assert np.array_equal(cv2.resize(scrambled, (n_dst, 4), interpolation=cv2.INTER_LINEAR), expected)


def test_decode_thread_gives_every_frame_in_order_and_stops_when_left(film720):
    with open_video(film720) as video:
        times = [raw.time for raw in video.iter_raw()]
        assert times == [float(t) for t in video.frame_times]
        for i, _ in enumerate(video.iter_raw(1.0)):
            if i == 3:
                break
        prefetch = video._prefetch
    assert prefetch is None or not prefetch._thread.is_alive()
