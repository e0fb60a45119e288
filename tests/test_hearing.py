"""Speech in the pipeline, end to end: subtitles and transcription placed beside the frames by
time, cached, budgeted, checked; the ``transcript`` command. Against the loopback server with its
``/v1/audio/transcriptions`` route (tests/fake_audio.py)."""

from __future__ import annotations

import json
import shutil

import pytest
from fake_audio import install_audio
from media import SAMPLES_DIR

from videovision.cli import main
from videovision.parsing import TimeCheck

TALK = SAMPLES_DIR / "talk.mp4"
TRUTH = json.loads((SAMPLES_DIR / "talk.mp4.json").read_text())


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def user_texts(request) -> list[str]:
    return [p["text"] for p in request.body["messages"][-1]["content"] if p["type"] == "text"]


def spoken(texts: list[str]) -> list[str]:
    """The speech lines a request carried (text parts that are not labels, notes or instructions)."""
    return [line for t in texts for line in t.split("\n")
            if line.startswith("[") and "] " in line and "same picture" not in line and "] on screen: " not in line]


@pytest.fixture
def no_speech_clip(tmp_path):
    """The talk's pictures and audio without its subtitle track or sidecar: speech must be transcribed."""
    import av

    path = tmp_path / "meeting.mp4"
    with av.open(str(TALK)) as src, av.open(str(path), "w") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
        for packet in src.demux(*[src.streams[i] for i in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
    return path


def test_plan_uses_the_embedded_subtitles_beside_the_frames(capsys, tmp_path):
    out_json = tmp_path / "req.json"
    code, out, err = cli(capsys, "plan", TALK, "--no-cache", "--json", "--request-json", out_json)
    assert code == 0, err
    speech = json.loads(out)["speech"]
    assert speech["source"] == "subtitles" and speech["lines"] == len(TRUTH["lines"]) and not speech["estimated"]
    body = json.loads(out_json.read_text())
    parts = body["messages"][-1]["content"]
    texts = [p.get("text", "") for p in parts]
    lines = spoken(texts)
    assert [line.split("] ", 1)[1] for line in lines] == [x["text"] for x in TRUTH["lines"]]
    # each line comes after the image of its moment and before the next image
    image_times = []
    for i, part in enumerate(parts):
        if part["type"] == "image_url":
            image_times.append(texts[i - 1].strip("[]"))
    last_image_before = {}
    current = None
    for i, part in enumerate(parts):
        if part["type"] == "image_url":
            current = texts[i - 1]
        for line in part.get("text", "").split("\n"):
            if line in lines:
                last_image_before[line] = current
    from videovision.parsing import parse_timestamp

    for line, label in last_image_before.items():
        assert label is not None and parse_timestamp(label) <= parse_timestamp(line.split("]")[0] + "]") + 1e-6
    assert "Lines of speech" in texts[0]


def test_speech_off_and_the_speech_budget(capsys):
    code, out, _ = cli(capsys, "plan", TALK, "--no-cache", "--json", "--speech", "off")
    assert code == 0 and json.loads(out)["speech"]["lines"] == 0
    code, out, _ = cli(capsys, "plan", TALK, "--no-cache", "--json", "--max-speech-tokens", "50")
    speech = json.loads(out)["speech"]
    assert code == 0 and 0 < speech["lines"] < len(TRUTH["lines"]) and speech["tokens"] <= 50
    assert speech["lines"] + speech["lines_dropped"] == len(TRUTH["lines"])


def test_sidecar_and_explicit_files(capsys, tmp_path, no_speech_clip):
    shutil.copy(SAMPLES_DIR / "talk.srt", no_speech_clip.with_suffix(".srt"))
    code, out, _ = cli(capsys, "transcript", no_speech_clip, "--no-cache", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["source"] == "sidecar" and data["schema_version"] == 1
    assert [s["text"] for s in data["segments"]] == [x["text"] for x in TRUTH["lines"]]
    mine = tmp_path / "mine.srt"
    mine.write_text("1\n00:00:01,000 --> 00:00:02,000\nOnly this.\n")
    code, out, _ = cli(capsys, "transcript", TALK, "--no-cache", "--subtitles", mine)
    assert code == 0 and out == "[00:00:01.0] Only this.\n"


def test_dry_run_estimates_transcription_and_uploads_nothing(capsys, api_env, no_speech_clip):
    audio = install_audio(api_env)
    code, out, err = cli(capsys, "summarize", no_speech_clip, "--dry-run", "--json")
    assert code == 0, err
    speech = json.loads(out)["speech"]
    assert speech["estimated"] and speech["audio_seconds"] > 20 and speech["transcription_cost_usd"] > 0
    assert audio.uploads == [] and api_env.request_count == 0
    code, _, err = cli(capsys, "summarize", no_speech_clip, "--dry-run", "--max-cost", "0.001")
    assert code == 5 and "transcrib" in err  # --max-cost covers the transcription


def test_transcribed_speech_is_sent_cached_and_cited(capsys, api_env, no_speech_clip):
    audio = install_audio(api_env)
    code, out, err = cli(capsys, "ask", no_speech_clip, "When is the budget mentioned?", "--json", "--no-refine")
    assert code == 0, err
    assert len(audio.uploads) == 1 and audio.uploads[0].response_format == "verbose_json"
    (chat,) = api_env.chat_requests
    lines = spoken(user_texts(chat))
    assert len(lines) >= 3  # the voiced stretches the endpoint found, with their times
    starts = [float(line[1:].split("]")[0].split(":")[-1]) + 60 * float(line[1:].split(":")[1]) for line in lines]
    truth = [x["start"] for x in TRUTH["lines"]]
    assert all(min(abs(s - t) for t in truth) < 0.6 for s in starts)  # on the video's timeline
    # again: the transcript comes from the cache, the reply too
    code, out, err = cli(capsys, "ask", no_speech_clip, "When is the budget mentioned?", "--json", "--no-refine")
    assert code == 0 and len(audio.uploads) == 1 and json.loads(out)["cache_hits"] == 1
    code, out, _ = cli(capsys, "transcript", no_speech_clip, "--format", "json")
    assert code == 0 and json.loads(out)["source"] == "transcription" and len(audio.uploads) == 1


def test_a_failed_transcription_under_auto_goes_on_with_frames_only(capsys, api_env, no_speech_clip):
    audio = install_audio(api_env)
    audio.enqueue_fault("500")
    audio.enqueue_fault("500")
    audio.enqueue_fault("500")
    code, out, err = cli(capsys, "summarize", no_speech_clip, "--json", "--max-retries", "0")
    assert code == 0 and "transcription failed" in err
    assert spoken(user_texts(api_env.chat_requests[0])) == []
    code, _, err = cli(capsys, "summarize", no_speech_clip, "--speech", "transcribe", "--max-retries", "0")
    assert code == 7 and err.count("\n") <= 2, err


def test_local_provider_transcribes_only_with_its_own_endpoint(capsys, api_env, no_speech_clip):
    audio = install_audio(api_env)
    code, out, err = cli(capsys, "summarize", no_speech_clip, "--provider", "local", "--json")
    assert code == 0 and audio.uploads == [] and spoken(user_texts(api_env.chat_requests[0])) == []
    code, out, err = cli(capsys, "summarize", no_speech_clip, "--provider", "local", "--json",
                         "--transcribe-base-url", api_env.base_url)
    assert code == 0 and len(audio.uploads) == 1


def test_subtitles_mode_without_subtitles_is_one_line(capsys, no_speech_clip):
    code, _, err = cli(capsys, "plan", no_speech_clip, "--no-cache", "--speech", "subtitles")
    assert code == 2 and err.count("\n") == 1 and "no subtitle" in err


def test_a_time_inside_a_spoken_line_is_supported():
    check = TimeCheck((0.0, 30.0), 60.0, 1.0, spans=((12.0, 15.5),))
    assert check.moment(14.0, None, "said").supported
    assert not check.moment(20.0, None, "invented").supported
    assert check.moment(14.0, None, "said").frame_time == 0.0  # still snapped to the nearest frame


def test_a_clipped_plan_carries_only_the_speech_of_its_range(capsys):
    code, out, _ = cli(capsys, "plan", TALK, "--no-cache", "--json", "--start", "5", "--end", "12")
    inside = [x for x in TRUTH["lines"] if 5 <= x["start"] < 12]
    assert code == 0 and json.loads(out)["speech"]["lines"] == len(inside) < len(TRUTH["lines"])


@pytest.fixture
def podcast(tmp_path):
    """The talk's audio alone, in an .m4a (no video stream)."""
    import av

    path = tmp_path / "podcast.m4a"
    with av.open(str(TALK)) as src, av.open(str(path), "w") as dst:
        audio = src.streams.audio[0]
        out = dst.add_stream_from_template(audio)
        for packet in src.demux(audio):
            if packet.dts is None:
                continue
            packet.stream = out
            dst.mux(packet)
    return path


def test_audio_only_files_get_speech_only_requests(capsys, api_env, podcast):
    audio = install_audio(api_env)
    code, out, err = cli(capsys, "ask", podcast, "What is said about the budget?", "--json")
    assert code == 0, err
    (chat,) = api_env.chat_requests
    assert chat.images == () and len(spoken(user_texts(chat))) >= 3 and len(audio.uploads) == 1
    assert json.loads(out)["frames_sent"] == 0
    code, out, _ = cli(capsys, "transcript", podcast)
    assert code == 0 and out.count("\n") >= 3 and len(audio.uploads) == 1  # cached
    code, _, err = cli(capsys, "summarize", podcast, "--speech", "off")
    assert code == 4 and "no video stream and no speech" in err


def test_a_transcription_endpoint_that_is_not_there_is_named_by_its_own_path(capsys, api_env, no_speech_clip):
    code, _, err = cli(capsys, "transcript", no_speech_clip, "--max-retries", "0")  # the server has no audio route
    assert code == 7 and "/audio/transcriptions" in err and "/chat/completions" not in err
