"""Packer: exact sizes and tokens, budgets and limits never exceeded, scene coverage, grids."""

import random

import cv2
import numpy as np
import pytest

from videovision import models as tok
from videovision.errors import BudgetError, ConfigError
from videovision.packing import Budget, PackConfig, ProviderLimits, base64_size, load_provider, pack
from videovision.types import Frame


def noise_frame(t, scene=None, size=(1280, 720), seed=None):
    rng = np.random.default_rng(seed if seed is not None else int(t * 1000))
    small = rng.integers(0, 255, (size[1] // 40, size[0] // 40, 3), dtype=np.uint8)
    image = cv2.resize(small, size, interpolation=cv2.INTER_NEAREST)
    return Frame(time=t, index=int(t * 25), image=image, scene=scene)


def frames(n, step=5.0, size=(1280, 720), scenes_every=None):
    return [noise_frame(i * step, None if not scenes_every else i // scenes_every, size) for i in range(n)]


def test_low_detail_fits_512_box_and_counts_base_tokens():
    packing = pack(frames(3), PackConfig(model="gpt-4o", detail="low"))
    for image in packing.images:
        assert (image.width, image.height) == (512, 288)
        assert image.tokens == 85
        decoded = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape[:2] == (288, 512)
    assert packing.image_tokens == 3 * 85


@pytest.mark.parametrize("model, detail", [("gpt-4o", "high"), ("gpt-4.1-mini", "high"), ("gpt-5-mini", "low"), ("o3", "auto")])
def test_packed_size_is_never_resized_by_the_server(model, detail):
    (image,) = pack(frames(1, size=(1920, 1080)), PackConfig(model=model, detail=detail)).images
    # the server-side formula on the size we send must give the same tokens as the plan
    assert tok.target_size(image.width, image.height, model, detail) == (image.width, image.height)
    assert image.tokens == tok.image_tokens(image.width, image.height, model, detail)


def test_never_upscales_small_frames():
    (image,) = pack(frames(1, size=(320, 180)), PackConfig(model="gpt-4o", detail="high")).images
    assert (image.width, image.height) == (320, 180)


def test_budget_errors_when_not_even_one_frame_fits():
    with pytest.raises(BudgetError, match="max-image-tokens"):
        pack(frames(3), PackConfig(model="gpt-4o", detail="low", budget=Budget(max_image_tokens=50)))
    with pytest.raises(BudgetError, match="max-cost"):
        pack(frames(3), PackConfig(model="gpt-4o", budget=Budget(max_cost=0.0001)))


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError):
        Budget(max_frames=0)
    with pytest.raises(ConfigError):
        PackConfig(detail="ultra")
    with pytest.raises(ConfigError):
        PackConfig(quality=0)


def test_random_budgets_are_never_exceeded():
    rng = random.Random(7)
    for _ in range(25):
        w, h = rng.choice([(1920, 1080), (1080, 1920), (640, 480), (3840, 2160), (704, 576)])
        n = rng.randint(1, 30)
        model = rng.choice(["gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "gpt-5", "o4-mini"])
        detail = rng.choice(["low", "high"])
        budget = Budget(
            max_frames=rng.choice([None, rng.randint(1, 20)]),
            max_image_tokens=rng.choice([None, rng.randint(3000, 40000)]),
            max_cost=rng.choice([None, rng.uniform(0.01, 0.2)]),
        )
        limits = ProviderLimits(max_images_per_request=rng.randint(1, 10), max_payload_bytes=rng.randint(300_000, 2_000_000))
        config = PackConfig(model=model, detail=detail, budget=budget, limits=limits)
        try:
            packing = pack(frames(n, size=(w, h)), config)
        except BudgetError as err:
            one = tok.image_tokens(*tok.target_size(w, h, model, detail), model, detail)
            too_few_tokens = budget.max_image_tokens is not None and budget.max_image_tokens < one
            assert too_few_tokens or budget.max_cost is not None or "payload limit" in str(err), err
            continue
        if budget.max_frames:
            assert len(packing.images) <= budget.max_frames
        if budget.max_image_tokens:
            assert packing.image_tokens <= budget.max_image_tokens
        if budget.max_cost:
            price_in, price_out = tok.prices(model)
            cost = ((packing.image_tokens + config.text_overhead_tokens + 12 * len(packing.images)) * price_in
                    + config.expected_output_tokens * price_out) / 1e6
            assert cost <= budget.max_cost + 1e-9
        for chunk in packing.requests:
            assert 1 <= len(chunk) <= limits.max_images_per_request
            payload = sum(base64_size(len(packing.images[i].data)) for i in chunk)
            assert payload <= limits.max_payload_bytes or len(chunk) == 1
        assert sorted(i for c in packing.requests for i in c) == list(range(len(packing.images)))


def test_every_scene_keeps_a_frame_when_budget_allows():
    # 12 scenes of uneven length, 60 frames: budget 12 keeps one per scene
    scene_of = [0] * 15 + [1] * 2 + [2] * 2 + [3] * 10 + [4] * 2 + [5] * 3 + [6] * 10 + [7] * 2 + [8] * 4 + [9] * 3 + [10] * 5 + [11] * 2
    fr = [noise_frame(i * 2.0, scene=s) for i, s in enumerate(scene_of)]
    packing = pack(fr, PackConfig(model="gpt-4o", budget=Budget(max_frames=12)))
    assert sorted({i.scene for i in packing.images}) == list(range(12))
    assert len(packing.dropped) == len(fr) - 12
    assert all(d.reason for d in packing.dropped)


def test_near_duplicates_are_dropped_first():
    fr = [noise_frame(0.0, seed=1), noise_frame(5.0, seed=1), noise_frame(10.0, seed=2), noise_frame(15.0, seed=3)]
    packing = pack(fr, PackConfig(model="gpt-4o", budget=Budget(max_frames=3)))
    assert [i.time for i in packing.images] == [0.0, 10.0, 15.0]
    assert packing.dropped[0].time == 5.0 and "same picture as 00:00.0" in packing.dropped[0].reason


def slide(t: float, lines: list[str], scene: int) -> Frame:
    image = np.full((360, 640, 3), 245, np.uint8)
    cv2.rectangle(image, (0, 0), (640, 50), (30, 60, 140), -1)  # the template's title bar
    for n, text in enumerate(lines):
        cv2.putText(image, text, (40, 110 + 40 * n), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (20, 20, 20), 2)
    return Frame(time=t, index=int(t * 25), image=image, scene=scene)


def test_slides_of_one_template_are_not_dropped_as_repeats():
    # "Agenda" and "Risks" have the same 64-bit difference hash (a perceptual hash calls them alike);
    # over budget only the true repeat (Budget shown twice) may go
    fr = [slide(0.0, ["Agenda", "- goals", "- plan"], 0), slide(30.0, ["Risks", "- supply", "- legal"], 1),
          slide(60.0, ["Budget 2026", "- hiring", "- travel"], 2), slide(70.0, ["Budget 2026", "- hiring", "- travel"], 2),
          slide(90.0, ["Next steps", "- ship", "- measure"], 3)]
    packing = pack(fr, PackConfig(model="gpt-4o", budget=Budget(max_frames=4)), exact_cuts=lambda: True)
    assert [i.time for i in packing.images] == [0.0, 30.0, 60.0, 90.0]
    assert [d.time for d in packing.dropped] == [70.0]


def test_spread_over_time_when_no_scenes():
    packing = pack(frames(40, step=1.0), PackConfig(model="gpt-4o", budget=Budget(max_frames=5)))
    times = [i.time for i in packing.images]
    gaps = np.diff(times)
    assert len(times) == 5 and times[0] <= 39 / 5 and times[-1] >= 39 - 39 / 5  # the whole span is covered
    assert gaps.max() <= gaps.min() + 1


def test_grid_packs_four_frames_into_one_low_detail_image():
    packing = pack(frames(8), PackConfig(model="gpt-4o", detail="low", grid=(2, 2)))
    assert len(packing.images) == 2
    for image in packing.images:
        assert image.width <= 512 and image.height <= 512
        assert image.tokens == 85
        assert len(image.times) == 4
        assert image.label.count("[00:") == 4


def test_requests_split_by_image_limit_along_scene_cuts():
    fr = [noise_frame(i * 2.0, scene=i // 3) for i in range(12)]
    packing = pack(fr, PackConfig(model="gpt-4o", limits=ProviderLimits(max_images_per_request=5)))
    sizes = [len(c) for c in packing.requests]
    assert max(sizes) <= 5 and sum(sizes) == 12
    # boundaries fall on scene changes (every 3 frames) where possible
    firsts = [packing.images[c[0]].scene != packing.images[c[0] - 1].scene for c in packing.requests[1:]]
    assert all(firsts)


def test_provider_profile_from_file(tmp_path):
    path = tmp_path / "vllm.json"
    path.write_text('{"base": "local", "max_images_per_request": 4}')
    limits = load_provider(str(path))
    assert limits.max_images_per_request == 4 and limits.supports_detail is False
    path.write_text('{"max_images": 4}')
    with pytest.raises(ConfigError, match="unknown provider fields"):
        load_provider(str(path))
    with pytest.raises(ConfigError):
        load_provider("nonexistent-profile")


def test_look_alike_neighbour_scenes_are_dropped_before_distinct_shots():
    """A false cut inside one shot makes two scenes that look alike; with room for only the
    real shots, each real shot keeps a frame."""
    palettes = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200)]
    fr = []
    scene = 0
    for shot, colour in enumerate(palettes):
        parts = 2 if shot in (1, 3) else 1  # shots 1 and 3 were split by a false cut
        for _ in range(parts):
            for _k in range(3):
                base = noise_frame(len(fr) * 1.0, scene=scene, size=(320, 180))
                image = (base.image // 16 + np.array(colour, np.uint8) // 16 * 15).astype(np.uint8)
                fr.append(Frame(time=base.time, index=base.index, image=image, scene=scene))
            scene += 1
    packing = pack(fr, PackConfig(model="gpt-4o", budget=Budget(max_frames=5)))
    colours = [tuple(int(c) for c in cv2.imdecode(np.frombuffer(i.data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
                     .reshape(-1, 3).mean(axis=0) // 100) for i in packing.images]
    assert len(set(colours)) == 5  # one frame of each real shot


def test_burn_timestamps_draws_the_time_into_the_image():
    plain = pack(frames(1), PackConfig(model="gpt-4o"))
    burned = pack(frames(1), PackConfig(model="gpt-4o", burn_timestamps=True))
    a, b = (cv2.imdecode(np.frombuffer(p.images[0].data, np.uint8), cv2.IMREAD_COLOR).astype(int) for p in (plain, burned))
    h, w = a.shape[:2]
    corner = (slice(h - h // 6, h), slice(0, w // 3))
    assert np.abs(a[corner] - b[corner]).mean() > 20  # the label box is there
    assert np.abs(a[: h // 2, w // 2 :] - b[: h // 2, w // 2 :]).mean() < 3  # and nowhere else
    assert burned.images[0].tokens == plain.images[0].tokens


def test_tight_budget_spreads_over_the_whole_video_not_its_start():
    """More distinct scenes than room: the frames kept span the whole video."""
    fr = [noise_frame(i * 3.0, scene=i) for i in range(12)]  # 12 distinct scenes over 33 s
    for keep in (2, 4, 5):
        times = [i.time for i in pack(fr, PackConfig(model="gpt-4o", budget=Budget(max_frames=keep))).images]
        assert times[0] <= 33 / keep and times[-1] >= 33 - 33 / keep, (keep, times)


def test_provider_behaviour_comes_from_its_flags_not_its_name(tmp_path):
    """A profile file renamed (``"name": "my-vllm"``, base local) used to turn transcription and
    reasoning_effort back on, because the code compared the profile's name with "local"/"openai"."""
    from test_prompts import INFO as info

    from videovision.prompts import PromptOptions, build_request

    path = tmp_path / "vllm.json"
    path.write_text('{"base": "local", "name": "my-vllm"}')
    renamed = load_provider(str(path))
    assert renamed.name == "my-vllm" and renamed.transcription is False and renamed.reasoning_effort is False
    body = build_request("o4-mini", [], info, PromptOptions(), limits=renamed)
    assert "reasoning_effort" not in body
    assert "reasoning_effort" in build_request("o4-mini", [], info, PromptOptions(), limits=load_provider("openai"))
    path.write_text('{"base": "openai", "name": "proxy", "transcription": "no"}')
    with pytest.raises(ConfigError, match="transcription must be true or false"):
        load_provider(str(path))
