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


# ---- the auto preset measured on the pass's own frames (issue 24, part 3)
def _auto_run(path, monkeypatch, *, in_pass: bool, held_bytes: int | None = None, **options):
    """Everything a scene pass gives, with the auto preset's probe taken apart or from the pass."""
    from videovision.sampling import detectors as detectors_module
    from videovision.sampling import scenes as scenes_module

    calls: list[int] = []
    measure = detectors_module.measure_footage

    def counted(*args, **kwargs):
        calls.append(1)
        return measure(*args, **kwargs)

    monkeypatch.setattr(scenes_module, "measure_footage", counted)
    monkeypatch.setattr(detectors_module, "measure_footage", counted)
    monkeypatch.setattr(scenes_module, "SECOND_LANE_PIXELS", 0 if in_pass else 10**12)
    if held_bytes is not None:
        monkeypatch.setattr(scenes_module, "HELD_BYTES", held_bytes)
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(preset="auto", **options))
        frames = [(f.time, f.index, f.scene, f.image.tobytes()) for f in stream]
    monkeypatch.undo()
    return {"frames": frames, "scenes": [(s.start, s.end) for s in stream.scenes], "preset": stream.preset_used,
            "reason": stream.preset_reason, "repeats": list(stream.repeats), "notes": list(stream.notes)}, len(calls)


@pytest.mark.parametrize("clip, preset", [("film720", "film"), ("screen720", "screen")])
@pytest.mark.parametrize("strategy", ["hybrid", "scenes"])
def test_auto_probe_from_the_pass_gives_the_same_choice_and_frames(clip, preset, strategy, monkeypatch, request):
    path = request.getfixturevalue(clip)
    options = {"strategy": strategy, "max_side": 512, "max_gap": 1.5}
    apart, apart_calls = _auto_run(path, monkeypatch, in_pass=False, **options)
    in_pass, in_pass_calls = _auto_run(path, monkeypatch, in_pass=True, **options)
    assert (apart_calls, in_pass_calls) == (1, 0)  # each path really taken
    assert apart["preset"] == preset and apart["frames"]
    assert in_pass == apart


def test_auto_probe_falls_back_to_decoding_apart_when_the_held_frames_grow(screen720, monkeypatch):
    options = {"strategy": "hybrid", "max_side": 512, "max_gap": 1.0}
    apart, _ = _auto_run(screen720, monkeypatch, in_pass=False, **options)
    bounded, calls = _auto_run(screen720, monkeypatch, in_pass=True, held_bytes=0, **options)
    assert calls == 1 and bounded == apart


def test_snapshots_are_the_pictures_frames_at_gives(film720):
    with open_video(film720) as video:
        wanted = [3, 4, 40, 99]
        snaps = {raw.index: raw.snapshot for raw in video.iter_raw(max_side=320, snapshots=wanted, snapshot_side=200)
                 if raw.snapshot is not None}
        exact = {f.index: f.image for f in video.frames_at([float(video.frame_times[i]) for i in wanted], max_side=200)}
    assert sorted(snaps) == wanted and all(np.array_equal(snaps[i], exact[i]) for i in wanted)


def test_the_probe_is_taken_from_the_pass_only_where_decoding_it_apart_costs_more(film720, tmp_path):
    from videovision.sampling.detectors import FootageProbe
    from videovision.sampling.scenes import _auto_probe

    long_small = tmp_path / "long_small.mp4"
    make_clip(long_small, size=(320, 180), duration=40.0, cuts=[10.0, 25.0], fps=25, gop=25)
    with open_video(film720) as short_large, open_video(long_small) as small:
        probe = FootageProbe.of(short_large, 0.0, short_large.info.duration)
        assert probe.decode_cost(short_large) > 0.5 * short_large.info.frame_count  # most of the clip again
        assert _auto_probe(short_large, SamplingConfig(preset="auto"), 0.0, short_large.info.duration) is not None
        assert _auto_probe(short_large, SamplingConfig(preset="film"), 0.0, short_large.info.duration) is None
        assert _auto_probe(small, SamplingConfig(preset="auto"), 0.0, small.info.duration) is None


# ---- the default plan's CPU beyond decoding (issue 24: one decoding thread, one scaler thread)
def _planes(frame) -> bytes:
    return b"".join(bytes(memoryview(p)) for p in frame.planes)


def test_the_pass_decodes_small_pictures_with_one_thread_and_gets_the_frames_of_frame_threads(film720, monkeypatch):
    from videovision import source as source_module

    monkeypatch.setattr(source_module, "PASS_SINGLE_THREAD_PIXELS", 1280 * 720)  # this clip: one thread

    container = av.open(str(film720))
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    threaded = [_planes(f) for f in container.decode(stream)]
    container.close()
    with open_video(film720) as video:
        single = []
        for raw in video.iter_raw():
            assert video._container is not None and video._container.streams.video[0].thread_type.name == "NONE"
            single.append(_planes(raw.frame))
    assert single == threaded


def test_one_scaler_thread_gives_the_pixels_of_pyav_defaults(film720):
    from av.video.reformatter import VideoReformatter

    from videovision.source import conversion

    assert conversion.SCALER_THREADS == 1 and conversion.SCALER_THREADS_MAX_PIXELS >= 1280 * 720
    with open_video(film720) as video:
        for raw in list(video.iter_raw())[::20]:
            frame = raw.frame
            assert np.array_equal(video.to_image(raw, 512), frame.reformat(
                width=512, height=288, format="rgb24", interpolation="AREA").to_ndarray())
            assert np.array_equal(video.bgr(frame), frame.to_ndarray(format="bgr24"))
            fresh = VideoReformatter().reformat(frame, width=640, height=360, interpolation="AREA", threads=0)
            assert _planes(video._convert("shrink", frame, width=640, height=360, interpolation="AREA")) == _planes(fresh)


def test_a_4k_picture_scaled_with_one_thread_has_the_pixels_of_pyav_defaults(film720):
    """Up to 4K one scaler thread (PyAV's default starts one per core, which on 2 busy cores cost
    6.1 ms of CPU where one thread takes 3.9 ms a 4K frame): the same pixels as PyAV's default."""
    from av.video.reformatter import VideoReformatter

    from videovision.source import conversion

    assert conversion.SCALER_THREADS_MAX_PIXELS >= 3840 * 2160
    rng = np.random.default_rng(7)
    with open_video(film720) as video:
        small = next(iter(video.iter_raw())).frame.to_ndarray(format="rgb24")
        picture = np.ascontiguousarray(cv2.resize(small, (3840, 2160), interpolation=cv2.INTER_CUBIC))
        picture[::7, ::5] = rng.integers(0, 256, picture[::7, ::5].shape, dtype=np.uint8)  # fine detail
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        for options in ({"width": 2048, "height": 1152, "interpolation": "AREA"},
                        {"width": 2048, "height": 1152, "format": "rgb24", "interpolation": "AREA"},
                        {"format": "bgr24"}):
            fresh = VideoReformatter().reformat(frame, threads=0, **options).to_ndarray()
            assert np.array_equal(video._convert(f"4k{len(options)}", frame, **options).to_ndarray(), fresh)


def test_the_picked_shrink_is_the_resize_of_the_full_conversion_on_decoded_frames(film720):
    with open_video(film720) as video:
        for raw in video.iter_raw():
            w, h = pyscenedetect_size(raw.frame.width, raw.frame.height)
            expected = cv2.resize(raw.frame.to_ndarray(format="bgr24"), (w, h), interpolation=cv2.INTER_LINEAR)
            assert np.array_equal(video.downscaled_bgr(raw.frame, w, h), expected)
            plans = [p for p in video._sparse.values() if p is not None]
            assert len(plans) == 1 and plans[0].picks is not None  # 1280x720 to 256x144: one source pixel each


def test_a_small_max_side_leaves_the_cuts_of_detect_and_sends_frames_within_it(film720):
    """The pass decodes at full size and scales only the frames it keeps: the detectors still see
    PySceneDetect's picture of the original (before, a pass with ``max_side`` under the picture fed
    them the scaled frame), and every frame sent fits ``max_side`` at display aspect."""
    with open_video(film720) as video:
        stream = sample(video, SamplingConfig(strategy="scenes", preset="film", max_side=320))
        frames = list(stream)
    assert [round(s.start, 6) for s in stream.scenes[1:]] == detect_cuts(film720, scenedetect.AdaptiveDetector())
    assert frames and all(f.image.shape[:2] == (180, 320) for f in frames)


def test_kept_frames_are_the_pictures_of_a_pass_scaled_at_decode_time(film720):
    """``shrunk`` gives, for a frame decoded at full size, the pixels ``iter_raw(max_side=...)``
    gives (so the frames sent are those of scaling every frame in the decode thread)."""
    with open_video(film720) as video:
        scaled = {raw.index: video.to_image(raw, 320) for raw in video.iter_raw(1.0, 1.4, max_side=320)}
    with open_video(film720) as video:
        kept = {raw.index: video.to_image(video.shrunk(raw, 320), 320) for raw in video.iter_raw(1.0, 1.4)}
    assert scaled.keys() == kept.keys() and len(kept) >= 9
    assert all(np.array_equal(scaled[i], kept[i]) for i in kept)
