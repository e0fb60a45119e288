"""Clips of moments: stream copy at keyframes, H.264/AAC encode otherwise, checked by decoding the
output with PyAV and reading back the frame numbers the generated sources carry (tests/media.py)."""

from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from media import make_clip, make_not_a_video, mp4_box, read_frame_number, upright

from videovision import ConfigError, VideoOpenError, open_video
from videovision.clips import ClipResult, clip_at, clip_name, clip_window, clips_for_moments, cut_clip
from videovision.clips import encode as clip_encoding
from videovision.types import Moment

FPS = 25
FRAME = 1 / FPS


@dataclass
class Output:
    """What decoding a written clip shows."""

    container: str
    video_codec: str
    audio_codec: str | None
    width: int
    height: int
    rotation: float
    numbers: list[int | None]
    times: list[float]
    first_packet_pts: int | None
    first_packet_key: bool
    audio: np.ndarray
    """Mono float samples of the decoded audio (empty without audio)."""
    audio_rate: int
    audio_start: float
    images: list[np.ndarray]
    moov_first: bool
    decoder_errors: list[str]


def inspect(path: Path, *, keep_images: int = 1) -> Output:
    """Decode every frame and audio sample of a clip."""
    data = path.read_bytes()
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        first = next(p for p in container.demux(video) if p.size)
        first_pts, first_key = first.pts, first.is_keyframe
    numbers, times, images = [], [], []
    rotation = 0.0
    audio_codec, rate, start, samples = None, 0, 0.0, []
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs:
            with av.open(str(path)) as container:
                video = container.streams.video[0]
                for frame in container.decode(video):
                    image = upright(frame)
                    rotation = frame.rotation
                    numbers.append(read_frame_number(image))
                    times.append(float(frame.pts * frame.time_base))
                    if len(images) < keep_images:
                        images.append(image)
                width, height = images[0].shape[1], images[0].shape[0]
            with av.open(str(path)) as container:
                if container.streams.audio:
                    stream = container.streams.audio[0]
                    audio_codec = stream.codec_context.name
                    for frame in container.decode(stream):
                        if not samples:
                            rate, start = frame.sample_rate, float(frame.pts * frame.time_base)
                        channels = len(frame.layout.channels)
                        samples.append(frame.to_ndarray().astype(np.float32).reshape(channels, -1).mean(axis=0))
                name = container.format.name
    finally:
        av.logging.set_level(level)
    return Output(
        container=name, video_codec=video.codec_context.name, audio_codec=audio_codec, width=width, height=height,
        rotation=rotation, numbers=numbers, times=times, first_packet_pts=first_pts, first_packet_key=first_key,
        audio=np.concatenate(samples) if samples else np.zeros(0, np.float32), audio_rate=rate, audio_start=start,
        images=images, moov_first=mp4_box(data, b"moov")[0] < mp4_box(data, b"mdat")[0],
        decoder_errors=[f"{name}: {text.strip()}" for _, name, text in logs],
    )


def assert_playable(out: Output, *, audio: bool) -> None:
    """H.264 (+ AAC) in MP4, index first, starting on a keyframe at time 0, every frame readable."""
    assert "mp4" in out.container and out.video_codec == "h264"
    assert out.audio_codec == ("aac" if audio else None)
    assert out.moov_first, "the index (moov) must come before the media data (faststart)"
    assert out.first_packet_pts == 0 and out.first_packet_key
    assert out.times[0] == pytest.approx(0.0, abs=1e-6)
    assert None not in out.numbers, "a frame came out damaged or not upright"
    assert out.decoder_errors == [], "FFmpeg's decoders complained (a reference picture missing?)"


def assert_frames(out: Output, first: int, result: ClipResult, gt: dict) -> None:
    """Consecutive source frames from ``first``, covering the clip's reported times."""
    assert out.numbers == list(range(first, first + len(out.numbers)))
    assert result.start == pytest.approx(gt["frame_times"][first], abs=1e-6)
    last = first + len(out.numbers) - 1
    end = gt["frame_times"][last + 1] if last + 1 < gt["frame_count"] else gt["duration"]
    assert result.end == pytest.approx(end, abs=1e-6)
    assert result.duration == pytest.approx(result.end - result.start, abs=1e-9)


def tone(samples: np.ndarray, rate: int, at: float, width: float = 0.06) -> float:
    """Dominant frequency (Hz) of the audio in ``[at, at + width)``."""
    chunk = samples[int(at * rate): int((at + width) * rate)]
    spectrum = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk)), n=1 << 16))
    return float(np.fft.rfftfreq(1 << 16, 1 / rate)[int(np.argmax(spectrum))])


def tone_change(out: Output, low: float, high: float) -> float:
    """Clip time where the generated tone moves from ``low`` Hz to ``high`` Hz (each scene has its own pitch)."""
    step, width = 0.005, 0.04
    t = 0.0
    while t + width < len(out.audio) / out.audio_rate:
        if abs(tone(out.audio, out.audio_rate, t, width) - high) < abs(tone(out.audio, out.audio_rate, t, width) - low):
            return out.audio_start + t + width / 2
        t += step
    raise AssertionError("no tone change in the clip's audio")


def scene_pitch(scene: int) -> float:
    return 220.0 * 2 ** (scene / 3.0)


# ----------------------------------------------------------------------------- sources
@pytest.fixture(scope="module")
def av_clip(tmp_path_factory):
    """6 s H.264 + AAC MP4, a keyframe every second (frames 0, 25, 50 ...), cuts at 2.4 s and 4.0 s."""
    path = tmp_path_factory.mktemp("src") / "av.mp4"
    return path, make_clip(path, duration=6.0, cuts=[2.4, 4.0], gop=FPS, scenecut=False, audio=True)


@pytest.fixture(scope="module")
def offset_clip(tmp_path_factory):
    """Video from 1.5 s in the container's timeline, audio from 0 s; a cut (and a new pitch) at 2.0 s."""
    path = tmp_path_factory.mktemp("src") / "offset.mp4"
    gt = make_clip(path, duration=4.0, cuts=[2.0], gop=FPS, scenecut=False, audio=True,
                   start_pts_seconds=1.5, audio_start_seconds=0.0)
    return path, gt


def keyframe_frames(gt: dict) -> list[int]:
    return [gt["frame_times"].index(t) for t in gt["keyframe_times"]]


# ----------------------------------------------------------------------------- copy / encode
def test_a_keyframe_start_is_copied_with_its_audio(av_clip, tmp_path):
    path, gt = av_clip
    assert 50 in keyframe_frames(gt)
    result = cut_clip(path, 2.0, 5.0, tmp_path / "copy.mp4")
    assert result.method == "copy" and result.has_audio and result.path == tmp_path / "copy.mp4"
    out = inspect(result.path)
    assert_playable(out, audio=True)
    assert_frames(out, 50, result, gt)
    # the end moves to where the packets taken are exactly the frames shown (B-frames): a frame or two
    assert abs(result.end - 5.0) <= 2 * FRAME + 1e-6
    assert len(out.audio) / out.audio_rate == pytest.approx(result.duration, abs=0.05)
    # the pitch changes at the cut (2.4 s in the source), 0.4 s into the clip: audio in sync
    assert tone_change(out, scene_pitch(0), scene_pitch(1)) == pytest.approx(0.4, abs=0.03)


def test_a_start_between_keyframes_is_encoded_frame_exact(av_clip, tmp_path):
    path, gt = av_clip
    result = cut_clip(path, 2.2, 4.2, tmp_path / "enc.mp4")
    assert result.method == "encode" and result.has_audio
    out = inspect(result.path)
    assert_playable(out, audio=True)
    assert_frames(out, 55, result, gt)
    assert len(out.numbers) == 50 and result.duration == pytest.approx(2.0, abs=1e-6)
    np.testing.assert_allclose(out.times, np.arange(50) * FRAME, atol=1e-4)
    assert len(out.audio) / out.audio_rate == pytest.approx(2.0, abs=0.03)
    assert tone_change(out, scene_pitch(0), scene_pitch(1)) == pytest.approx(0.2, abs=0.03)


def test_the_first_encoded_frame_looks_like_the_source_frame(av_clip, tmp_path):
    path, _ = av_clip
    result = cut_clip(path, 3.3, 3.9, tmp_path / "look.mp4")
    with open_video(path) as video:
        source = next(video.frames_at([3.3])).image
    clip = inspect(result.path).images[0]
    assert clip.shape == source.shape
    assert np.abs(clip.astype(int) - source.astype(int)).mean() < 4.0


def test_a_time_between_frames_starts_at_the_next_frame(av_clip, tmp_path):
    path, gt = av_clip
    result = cut_clip(path, 2.01, 2.5, tmp_path / "between.mp4")
    assert result.start == pytest.approx(2.04) and inspect(result.path).numbers[0] == 51


def test_modes_force_encode_or_refuse_a_copy_that_cannot_be_made(av_clip, tmp_path):
    path, _ = av_clip
    forced = cut_clip(path, 2.0, 3.0, tmp_path / "forced.mp4", mode="encode")
    assert forced.method == "encode" and inspect(forced.path).numbers[0] == 50
    assert cut_clip(path, 1.0, 2.0, tmp_path / "copied.mp4", mode="copy").method == "copy"
    with pytest.raises(ConfigError) as err:
        cut_clip(path, 2.2, 3.0, tmp_path / "no.mp4", mode="copy")
    assert err.value.field == "mode" and "keyframe" in str(err.value) and "00:02.000" in str(err.value)
    assert not (tmp_path / "no.mp4").exists()
    with pytest.raises(ConfigError) as err:
        cut_clip(path, 2.2, 3.0, tmp_path / "no.mp4", mode="fast")  # type: ignore[arg-type]
    assert err.value.field == "mode"


def test_a_clip_to_the_end_of_the_video(av_clip, tmp_path):
    path, gt = av_clip
    result = cut_clip(path, 5.0, gt["duration"], tmp_path / "tail.mp4")
    out = inspect(result.path)
    assert result.method == "copy" and out.numbers == list(range(125, 150))
    assert result.end == pytest.approx(gt["duration"])


# ----------------------------------------------------------------------------- odd sources
def test_rotation_comes_out_upright(tmp_path):
    path = tmp_path / "phone.mp4"
    gt = make_clip(path, duration=3.0, size=(120, 160), rotation=-90, gop=FPS, scenecut=False, audio=True)
    assert gt["stored_width"] == 160
    encoded = cut_clip(path, 1.3, 2.3, tmp_path / "enc.mp4")
    out = inspect(encoded.path)
    assert encoded.method == "encode" and out.rotation == 0  # rotated pixels, no display matrix needed
    assert (out.width, out.height) == (120, 160)
    assert_frames(out, 33, encoded, gt)
    copied = cut_clip(path, 1.0, 2.0, tmp_path / "copy.mp4")
    out = inspect(copied.path)
    assert copied.method == "copy" and out.rotation != 0  # the display matrix travels with the packets
    assert (out.width, out.height) == (120, 160)
    assert out.numbers[0] == 25 and None not in out.numbers


def test_sample_aspect_ratio_is_applied_when_encoding(tmp_path):
    path = tmp_path / "anamorphic.mp4"
    gt = make_clip(path, duration=2.0, size=(160, 120), sar=(4, 3))
    assert gt["stored_width"] == 120
    result = cut_clip(path, 0.5, 1.5, tmp_path / "sar.mp4")
    with av.open(str(result.path)) as container:
        sar = container.streams.video[0].codec_context.sample_aspect_ratio
    out = inspect(result.path)
    assert (out.width, out.height) == (160, 120) and sar in (None, 0, 1)
    assert_frames(out, 13, result, gt)


def test_a_re_encoded_clip_is_at_most_4k(tmp_path, monkeypatch):
    """Above 3840x2160 pixels an encoded clip is scaled down, aspect kept (browsers play it; the
    encoder's memory stays bounded). Shown with the cap lowered, on a small clip."""
    monkeypatch.setattr(clip_encoding, "MAX_ENCODE_PIXELS", 160 * 90)
    path = tmp_path / "wide.mp4"
    make_clip(path, duration=1.0, size=(320, 180))
    result = cut_clip(path, 0.2, 0.8, tmp_path / "small.mp4", mode="encode")
    out = inspect(result.path)
    assert (out.width, out.height) == (160, 90)


@pytest.mark.filterwarnings("error:.*looks truncated")  # audio from 0 s, video from 1.5 s: complete, not truncated
def test_a_non_zero_start_time_keeps_times_and_audio_in_step(offset_clip, tmp_path):
    path, gt = offset_clip
    with open_video(path) as video:
        assert video.info.start_time == pytest.approx(1.5) and not video.info.truncated
    # the cut (a new picture and a new pitch) is at 2.0 s from the first frame
    for start, method in ((1.0, "copy"), (1.3, "encode")):
        result = cut_clip(path, start, start + 1.5, tmp_path / f"{method}.mp4")
        out = inspect(result.path)
        assert result.method == method and result.has_audio
        assert_playable(out, audio=True)
        assert_frames(out, math.ceil(start * FPS - 1e-9), result, gt)
        assert tone_change(out, scene_pitch(0), scene_pitch(1)) == pytest.approx(2.0 - start, abs=0.03)


def test_mkv_input_is_copied_or_encoded_into_mp4(tmp_path):
    path = tmp_path / "in.mkv"
    gt = make_clip(path, duration=4.0, cuts=[2.4], gop=FPS, scenecut=False, audio=True)
    copied = cut_clip(path, 2.0, 3.0, tmp_path / "copy.mp4")
    out = inspect(copied.path)
    assert copied.method == "copy" and copied.has_audio
    assert_playable(out, audio=True)
    assert_frames(out, 50, copied, gt)
    assert tone_change(out, scene_pitch(0), scene_pitch(1)) == pytest.approx(0.4, abs=0.03)
    encoded = cut_clip(path, 2.2, 3.2, tmp_path / "enc.mp4")
    out = inspect(encoded.path)
    assert encoded.method == "encode"
    assert_playable(out, audio=True)
    assert_frames(out, 55, encoded, gt)


def test_variable_frame_rate_keeps_every_frame_time(tmp_path):
    path = tmp_path / "vfr.mp4"
    gt = make_clip(path, duration=4.0, vfr_pattern="random", audio=True)
    times = gt["frame_times"]
    first = next(i for i, t in enumerate(times) if t >= 1.234)
    result = cut_clip(path, 1.234, 3.0, tmp_path / "vfr-clip.mp4", mode="encode")
    out = inspect(result.path)
    assert_playable(out, audio=True)
    assert_frames(out, first, result, gt)
    expected = np.array(times[first: first + len(out.times)]) - times[first]
    np.testing.assert_allclose(out.times, expected, atol=2e-3)


def test_codecs_browsers_may_not_play_are_encoded_to_h264(tmp_path):
    path = tmp_path / "hevc.mp4"
    gt = make_clip(path, duration=2.0, codec="libx265", gop=FPS, scenecut=False)
    result = cut_clip(path, 1.0, 2.0, tmp_path / "h264.mp4")  # a keyframe, but HEVC
    out = inspect(result.path)
    assert result.method == "encode" and not result.has_audio
    assert_playable(out, audio=False)
    assert_frames(out, 25, result, gt)
    assert cut_clip(path, 1.0, 2.0, tmp_path / "hevc-copy.mp4", mode="copy").method == "copy"


# ----------------------------------------------------------------------------- errors and files
@pytest.mark.parametrize(("start", "end", "field"), [
    (-1.0, 2.0, "start"), (6.0, 7.0, "start"), (float("nan"), 2.0, "start"),
    (2.0, 2.0, "end"), (3.0, 2.0, "end"), (2.0, 6.5, "end"), (2.01, 2.03, "end"),
])
def test_times_outside_the_video_are_refused(av_clip, tmp_path, start, end, field):
    path, _ = av_clip
    with pytest.raises(ConfigError) as err:
        cut_clip(path, start, end, tmp_path / "x.mp4")
    assert err.value.field == field and str(err.value).startswith(field + ":")
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_bad_outputs_are_refused_with_the_output_field(av_clip, tmp_path):
    path, _ = av_clip
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "clip.mkv", tmp_path / "missing" / "clip.mp4", tmp_path / "file" / "clip.mp4", path):
        with pytest.raises(ConfigError) as err:
            cut_clip(path, 1.0, 2.0, out)
        assert err.value.field == "output", out
    (tmp_path / "dir.mp4").mkdir()
    with pytest.raises(ConfigError):
        cut_clip(path, 1.0, 2.0, tmp_path / "dir.mp4")


def test_an_unwritable_folder_is_one_clear_error(av_clip, tmp_path, monkeypatch):
    path, _ = av_clip

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    from videovision import files

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(ConfigError) as err:
        cut_clip(path, 1.0, 2.0, tmp_path / "x.mp4")
    assert err.value.field == "output" and "Permission denied" in str(err.value)


def test_unreadable_videos_raise_video_open_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    make_not_a_video(bad)
    with pytest.raises(VideoOpenError):
        cut_clip(bad, 0.0, 1.0, tmp_path / "out.mp4")
    with pytest.raises(VideoOpenError):
        cut_clip(tmp_path / "missing.mp4", 0.0, 1.0, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_a_failure_while_writing_leaves_no_file_and_keeps_the_old_one(av_clip, tmp_path, monkeypatch):
    path, _ = av_clip
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"previous clip")

    def broken(source, cut, tmp):
        Path(tmp).write_bytes(b"half a clip")
        raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")

    monkeypatch.setattr(clip_encoding, "encode", broken)
    with pytest.raises(VideoOpenError) as err:
        cut_clip(path, 2.2, 3.0, target)
    assert "Invalid data" in str(err.value)
    assert target.read_bytes() == b"previous clip"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


# ----------------------------------------------------------------------------- windows and moments
def test_clip_window_is_clipped_to_the_video():
    assert clip_window(10.0, duration=60.0) == (7.0, 15.0)
    assert clip_window(1.0, 3.0, 5.0, duration=60.0) == (0.0, 6.0)
    assert clip_window(58.0, duration=60.0) == (55.0, 60.0)
    assert clip_window(10.0, 1.0, 2.0, duration=60.0, end=20.0) == (9.0, 22.0)
    for kwargs, field in (({"before": -1.0}, "before"), ({"after": math.inf}, "after"),
                          ({"before": 0.0, "after": 0.0}, "after")):
        with pytest.raises(ConfigError) as err:
            clip_window(10.0, duration=60.0, **kwargs)
        assert err.value.field == field
    assert clip_window(60.0, duration=60.0) == (57.0, 60.0)  # a moment at the very end (parsing clamps to it)
    for t in (-0.5, 60.01, math.nan):
        with pytest.raises(ConfigError) as err:
            clip_window(t, duration=60.0)
        assert err.value.field == "at"


def test_clip_name_is_sortable_and_file_system_safe():
    assert clip_name(65.2) == "clip-00h01m05.200s.mp4"
    assert clip_name(3725.0, 3730.5) == "clip-01h02m05.000s-01h02m10.500s.mp4"
    assert all(c.isalnum() or c in "-._" for c in clip_name(12.345, 20.0))


def test_clip_at_moves_the_start_onto_a_keyframe_it_can_copy(av_clip, tmp_path):
    path, _ = av_clip
    snapped = clip_at(path, 2.3, tmp_path / "snap.mp4", before=0.2, after=0.7)
    assert snapped.method == "copy" and snapped.start == pytest.approx(2.0)
    exact = clip_at(path, 2.3, tmp_path / "exact.mp4", before=0.2, after=0.7, keyframe_slack=0.0)
    assert exact.method == "encode" and exact.start == pytest.approx(2.12)  # first frame at or after 2.1
    assert exact.end == pytest.approx(3.0)


def test_clips_for_moments_one_clip_per_moment(av_clip, tmp_path):
    path, _ = av_clip
    moments = [
        Moment(time=2.5, end=None, text="a", frame_time=2.5, supported=True),
        3.0,
        Moment(time=2.5, end=None, text="same moment again", frame_time=None, supported=False),
        SimpleNamespace(time=4.1, end=4.6),
    ]
    folder = tmp_path / "clips" / "nested"
    results = clips_for_moments(path, moments, folder, before=1.0, after=1.0)
    assert len(results) == 4 and results[0] is results[2]
    assert [r.path.name for r in results] == [
        "clip-00h00m02.500s.mp4", "clip-00h00m03.000s.mp4", "clip-00h00m02.500s.mp4",
        "clip-00h00m04.100s-00h00m04.600s.mp4",
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted({r.path.name for r in results})
    # overlapping windows are not merged: each clip shows its own moment
    assert results[0].start <= 2.5 < results[0].end and results[1].start <= 3.0 < results[1].end
    assert results[3].start <= 4.1 and results[3].end == pytest.approx(5.6)
    for r in results:
        out = inspect(r.path)
        assert_playable(out, audio=True)
        assert len(out.numbers) == pytest.approx(r.duration * FPS, abs=1)
    with pytest.raises(ConfigError) as err:
        clips_for_moments(path, [7.0], folder)
    assert err.value.field == "at"


def test_an_opened_source_is_reused_and_left_open(av_clip, tmp_path):
    path, _ = av_clip
    with open_video(path) as video:
        first = cut_clip(video, 1.0, 1.5, tmp_path / "a.mp4")
        second = clips_for_moments(video, [3.0], tmp_path, before=0.5, after=0.5)[0]
        assert next(video.frames_at([0.0])).index == 0
    assert first.method == "copy" and os.path.getsize(second.path) > 0
    assert result_json_ok(first)


def result_json_ok(result: ClipResult) -> bool:
    data = result.to_json()
    return data["method"] == result.method and data["path"].endswith("a.mp4") and data["has_audio"] is True


# ----------------------------------------------------------------------------- a real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def play_in_chromium(clips: list[Path]) -> list[dict]:
    """Play each clip to its end at 4x in headless Chromium; what the <video> element reports."""
    if not (CHROMIUM and CHROMEDRIVER):
        if IN_CI:
            pytest.fail("chromium and chromedriver are required in CI (.ci/run installs them)", pytrace=False)
        pytest.skip("chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    state = ("const v = document.querySelector('video'); const q = v.getVideoPlaybackQuality();"
             "return {ready: v.readyState, ended: v.ended, error: v.error && v.error.message, duration: v.duration,"
             " width: v.videoWidth, height: v.videoHeight, frames: q.totalVideoFrames};")
    seen = []
    try:
        for clip in clips:
            page = clip.with_suffix(".html")
            page.write_text(f'<video src="{clip.name}" muted></video>', encoding="utf-8")
            driver.get(page.as_uri())
            driver.execute_script("const v = document.querySelector('video'); v.playbackRate = 4; v.play();")
            deadline = time.monotonic() + 30
            while not (driver.execute_script(state)["ended"] or driver.execute_script(state)["error"]):
                assert time.monotonic() < deadline, f"{clip.name} did not play to its end"
                time.sleep(0.05)
            seen.append(driver.execute_script(state))
    finally:
        driver.quit()
    return seen


def test_clips_play_to_the_end_in_chromium(av_clip, tmp_path):
    path, _ = av_clip
    mkv = tmp_path / "src.mkv"
    make_clip(mkv, duration=3.0, gop=FPS, scenecut=False, audio=True)
    phone = tmp_path / "phone.mp4"
    make_clip(phone, duration=3.0, size=(120, 160), rotation=-90, gop=FPS, scenecut=False, audio=True)
    results = [
        cut_clip(path, 2.0, 5.0, tmp_path / "copy-bframes.mp4"),  # negative first dts: an edit list
        cut_clip(path, 2.2, 4.2, tmp_path / "encoded.mp4"),
        cut_clip(mkv, 1.0, 2.0, tmp_path / "copy-mkv.mp4"),  # decoding timestamps made up
        cut_clip(phone, 1.0, 2.0, tmp_path / "copy-rotated.mp4"),  # display matrix carried
        cut_clip(phone, 1.3, 2.3, tmp_path / "encoded-rotated.mp4"),
    ]
    assert [r.method for r in results] == ["copy", "encode", "copy", "copy", "encode"]
    for result, seen in zip(results, play_in_chromium([r.path for r in results])):
        out = inspect(result.path)
        assert seen["error"] is None and seen["ready"] == 4 and seen["ended"], result.path.name
        assert (seen["width"], seen["height"]) == (out.width, out.height), result.path.name
        assert seen["frames"] == len(out.numbers), result.path.name
        assert seen["duration"] == pytest.approx(result.duration, abs=0.05), result.path.name


def test_clips_get_the_mode_of_every_other_output_and_leave_no_part_file(av_clip, tmp_path):
    """Clips used to be written 0600 (mkstemp's mode) where frames, JSON and reports are 0666 less the umask."""
    from videovision.files import atomic_write_text

    path, _ = av_clip
    copied = cut_clip(path, 2.0, 3.0, tmp_path / "copy.mp4").path
    encoded = cut_clip(path, 2.3, 3.0, tmp_path / "encoded.mp4", mode="encode").path
    atomic_write_text(tmp_path / "notes.txt", "x")
    mask = os.umask(0o022)
    os.umask(mask)
    expected = 0o666 & ~mask
    assert {(tmp_path / n).stat().st_mode & 0o777 for n in ("copy.mp4", "encoded.mp4", "notes.txt")} == {expected}
    assert copied.exists() and encoded.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.mp4", "encoded.mp4", "notes.txt"]
