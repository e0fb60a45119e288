"""Screen recordings and fades: slide changes found (pointer, clock and webcam ignored), the last
state of each slide picked, repeats sent as notes, duplicates only of the same picture, and no
black or mid-fade frame picked."""

from __future__ import annotations

import bisect
import itertools

import pytest
from media import generate

from videovision import SamplingConfig, open_video, sample
from videovision.sampling import dhash, hamming
from videovision.sampling.pictures import look, same_picture

FRAME = 1 / 15 + 1e-6


@pytest.fixture(scope="module")
def screen(tmp_path_factory):
    """48 s 640x360 15 fps slide talk: 8 slides of one template, pointer, clock, webcam, reveals."""
    path = tmp_path_factory.mktemp("screen") / "talk.mp4"
    return path, generate.generate_screen_clip(path, webcam=True)


@pytest.fixture(scope="module")
def fades(tmp_path_factory):
    path = tmp_path_factory.mktemp("fades") / "fades.mp4"
    return path, generate.generate_fade_clip(path)


def run(path, **options):
    with open_video(path) as video:
        stream = sample(video, SamplingConfig(**options))
        frames = list(stream)
    return frames, stream


def slide_state(gt, t):
    """(slide index, bullets revealed so far) at time t."""
    k = bisect.bisect_right([s["start"] for s in gt["slides"]], t + 1e-9) - 1
    return k, sum(1 for r in gt["slides"][k]["reveals"] if r <= t + 1e-9)


def test_auto_preset_chooses_screen_and_says_why(screen, cut_clip):
    _, stream = run(screen[0], strategy="scenes")
    assert stream.preset_used == "screen" and stream.preset_reason.startswith("auto:")
    _, stream = run(cut_clip[0], strategy="scenes")
    assert stream.preset_used == "film" and "film" in stream.preset_reason


def test_every_slide_change_found_and_nothing_else(screen):
    path, gt = screen
    _, stream = run(path, strategy="scenes")
    cuts = [s.start for s in stream.scenes[1:]]
    assert len(cuts) == len(gt["slide_changes"])  # no cut on the pointer, the clock, the webcam or a reveal
    for found, truth in zip(cuts, gt["slide_changes"]):
        assert truth - 1e-6 <= found <= truth + FRAME


def test_pyscenedetect_defaults_miss_the_slides_the_screen_preset_finds(screen):
    """Why the screen preset exists: the film detectors with their defaults see one scene."""
    path, gt = screen
    for detector in ("adaptive", "content"):
        _, stream = run(path, strategy="scenes", detector=detector)
        assert stream.preset_used == "detector" and len(stream.scenes) < len(gt["slides"]) / 2


def test_one_frame_per_slide_showing_its_last_state(screen):
    path, gt = screen
    frames, _stream = run(path, strategy="scenes")
    assert [slide_state(gt, f.time)[0] for f in frames] == list(range(len(gt["slides"])))
    for f in frames:
        k, shown = slide_state(gt, f.time)
        reveals = gt["slides"][k]["reveals"]
        assert shown == len(reveals)  # every bullet of the slide is on the picture
        assert f.scene == k


def test_hybrid_sends_repeats_as_notes_and_covers_every_state(screen):
    path, gt = screen
    frames, stream = run(path, strategy="hybrid", max_gap=4.0)
    assert stream.repeats, "a slide longer than the gap repeats its picture"
    for note in stream.repeats:
        assert note.same_as < note.time
        assert slide_state(gt, note.time) == slide_state(gt, note.same_as)
    sent = {f.time for f in frames}
    assert all(n.same_as in sent and n.time not in sent for n in stream.repeats)
    assert {slide_state(gt, f.time)[0] for f in frames} == set(range(len(gt["slides"])))
    with open_video(path) as video:  # consecutive frames sent always differ
        looks = [look(video.small_bgr(raw.frame, 320)) for raw in video.iter_raw() if raw.time in sent]
    assert not any(same_picture(a, b) for a, b in itertools.pairwise(looks))


def test_dedup_drops_repeats_only_and_says_of_what(screen):
    path, gt = screen
    frames, stream = run(path, strategy="interval", every=1.0, dedup=True)
    states = [slide_state(gt, f.time) for f in frames]
    every_state = {slide_state(gt, t) for t in gt["frame_times"][::15]}
    assert set(states) == every_state  # every slide and every reveal kept
    assert len(states) == len(set(states))  # and each once
    for drop in stream.duplicates:
        assert slide_state(gt, drop.time) == slide_state(gt, drop.same_as)
        assert drop.same_as in {f.time for f in frames}
    assert stream.duplicates_dropped == len(stream.duplicates) > 0
    # the old rule (64-bit difference hash against the last kept frame) cannot tell these slides apart
    hashes = [dhash(f.image) for f in frames]
    assert any(hamming(a, b) <= 6 for a, b in itertools.pairwise(hashes))


def test_dedup_threshold_reaches_the_check(screen):
    path, _ = screen
    strict, _ = run(path, strategy="interval", every=1.0, dedup=True, dedup_threshold=0.0)
    loose, _ = run(path, strategy="interval", every=1.0, dedup=True, dedup_threshold=50.0)
    assert len(loose) == 1 < len(strict)


@pytest.mark.parametrize("strategy, max_gap", [("scenes", 10.0), ("hybrid", 2.0), ("hybrid", 0.5)])
def test_no_black_or_mid_fade_frames(fades, strategy, max_gap):
    path, gt = fades
    frames, _stream = run(path, strategy=strategy, max_gap=max_gap)
    alpha = {int(k): v for k, v in gt["fade_alpha"].items()}
    assert frames
    for f in frames:
        assert f.index not in gt["black_frames"]
        assert alpha.get(f.index, 1.0) >= 0.85, (f.time, alpha.get(f.index))
    if strategy == "hybrid":  # opening and closing frames are the nearest clean ones
        assert frames[0].time <= gt["fades"][0]["open"][1] + 0.2
        assert frames[-1].time >= gt["fades"][-1]["close"][0] - max_gap


def test_interval_still_returns_the_exact_frame_even_when_black(fades):
    path, gt = fades
    frames, _ = run(path, strategy="interval", every=0.4)
    assert [f.index for f in frames] == [bisect.bisect_left(gt["frame_times"], i * 0.4 - 1e-6) for i in range(30)]
    assert any(f.index in gt["black_frames"] for f in frames)
