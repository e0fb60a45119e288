"""The library's side of issue 19: configs validate when built (ConfigError naming the field),
``sample()`` takes a path, ``run_plan`` never drops a plan's pending speech silently, result and
output files keep their names and modes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_pipeline import FakeClient

import videovision as vv
from videovision.client import OpenAIChatClient
from videovision.endpoint import ClientConfig
from videovision.errors import ConfigError
from videovision.files import file_mode
from videovision.paths import safe_name
from videovision.pipeline import make_plan, run_plan
from videovision.plan import TaskConfig
from videovision.types import SpeechConfig

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.mark.parametrize("options, field", [
    ({"strategy": "scene"}, "strategy"), ({"every": -1}, "every"), ({"every": "5"}, "every"),
    ({"every": float("nan")}, "every"), ({"count": 0}, "count"), ({"count": 2.5}, "count"),
    ({"max_gap": 0}, "max_gap"), ({"preset": "slides"}, "preset"), ({"detector": "fast"}, "detector"),
    ({"dedup_threshold": 101}, "dedup_threshold"), ({"start": -1}, "start"), ({"start": 5, "end": 2}, "end"),
    ({"max_side": 8}, "max_side"), ({"min_scene_len": "1"}, "min_scene_len"), ({"dedup": "yes"}, "dedup"),
    ({"every": True}, "every"),
])
def test_a_sampling_config_is_checked_when_built_and_names_the_field(options, field):
    with pytest.raises(ConfigError) as err:
        vv.SamplingConfig(**options)
    assert err.value.field == field and str(err.value).startswith(field)


def test_sample_takes_a_path():
    stream = vv.sample(str(SAMPLES / "demo.mp4"), vv.SamplingConfig(strategy="uniform", count=3))
    assert len(list(stream)) == 3
    assert len(list(vv.sample(SAMPLES / "demo.mp4"))) >= 1  # the default config, a Path


@pytest.fixture
def talk_without_subtitles(tmp_path):
    video = tmp_path / "talk.mp4"  # no talk.srt beside it: its speech must be transcribed
    shutil.copy(SAMPLES / "talk.mp4", video)
    return video


def test_run_plan_warns_when_the_pending_speech_cannot_be_transcribed(talk_without_subtitles):
    plan = make_plan(talk_without_subtitles, TaskConfig(speech=SpeechConfig(mode="transcribe")))
    assert plan.speech.pending is not None
    result = run_plan(plan, FakeClient())
    assert any("speech was not sent" in w for w in result.warnings)


def test_run_plan_transcribes_pending_speech_with_the_client_it_is_given(talk_without_subtitles, server):
    from conftest import KEY
    from fake_audio import install_audio

    audio = install_audio(server)
    plan = make_plan(talk_without_subtitles, TaskConfig(speech=SpeechConfig(mode="transcribe")))
    assert plan.speech.pending is not None and audio.uploads == []  # offline so far
    with OpenAIChatClient(ClientConfig(api_key=KEY, base_url=server.base_url)) as client:
        result = run_plan(plan, client)
    assert audio.uploads and result.plan.speech.segments and not result.plan.speech.pending
    body = str(server.chat_requests[-1])
    assert result.plan.speech.segments[0].text.split()[0] in body
    assert not any("speech was not sent" in w for w in result.warnings)


@pytest.mark.parametrize("name, kept", [("clip ü.mp4", "clip ü.mp4"), ("a/b", "a_b"), ("x\x1by", "x_y"),
                                        ("Cafe\u0301", "Caf\u00e9"), ("", "_")])
def test_safe_names_keep_letters_and_replace_only_separators_and_controls(name, kept):
    assert safe_name(name) == kept


def test_a_clip_gets_the_mode_of_every_other_output(tmp_path):
    from videovision.clips import clip_at

    clip = clip_at(SAMPLES / "demo.mp4", 2.0, tmp_path / "c.mp4", before=0.5, after=0.5)
    text = tmp_path / "t.txt"
    from videovision.files import atomic_write_text

    atomic_write_text(text, "x")
    assert os.stat(clip.path).st_mode & 0o777 == file_mode() == os.stat(text).st_mode & 0o777


def test_make_plan_and_run_plan_report_progress_with_one_type():
    from videovision.asking import RunProgress

    seen: list = []
    plan = make_plan(SAMPLES / "demo.mp4", TaskConfig(speech=SpeechConfig(mode="off")), progress=seen.append)
    sampled = len(seen)
    run_plan(plan, FakeClient(), progress=seen.append)
    assert sampled and len(seen) > sampled and all(isinstance(p, RunProgress) for p in seen)
    assert {p.stage for p in seen[:sampled]} == {"sampling"} and {p.stage for p in seen[sampled:]} == {"requests"}
    assert seen[sampled - 1].done <= seen[sampled - 1].total and seen[-1].done == seen[-1].total == 1
