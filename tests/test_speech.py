"""The hear stage (videovision.speech): values, subtitles, audio chunks, transcription, fusion, estimates.

Media: the committed ``samples/talk.mp4`` (espeak-ng speech, mov_text track, ``talk.srt``, ground
truth in ``talk.mp4.json``), variants remuxed from its audio (other subtitle codecs, delayed
streams), and beep clips with beeps at known times. Transcription goes over the wire to the
loopback server's ``/v1/audio/transcriptions`` (tests/fake_audio.py).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import av
import numpy as np
import openai
import pytest
from fake_audio import MAX_AUDIO_BYTES, install_audio, voiced_segments
from fakeserver import FakeOpenAIServer

from videovision.client import ClientConfig
from videovision.errors import (
    AuthenticationError,
    ConfigError,
    EndpointConnectionError,
    ModelNotFoundError,
    RateLimitError,
    RequestError,
    ResponseFormatError,
    ServerError,
    VideoOpenError,
)
from videovision.speech import (
    MAX_UPLOAD_BYTES,
    SCHEMA_VERSION,
    AudioChunk,
    Segment,
    TranscribeOptions,
    Transcriber,
    Transcript,
    audio_digest,
    chunk_cache_key,
    dump_segments,
    estimate_speech,
    find_sidecar,
    fit_speech,
    iter_audio_chunks,
    list_subtitle_tracks,
    load_segments,
    probe_audio,
    read_embedded_subtitles,
    read_speech_file,
    read_subtitles,
    render_line,
    segments_between,
    speech_by_frame,
    transcribe_media,
    transcript_cache_key,
)
from videovision.speech.audio import max_chunk_seconds
from videovision.speech.transcribe import default_response_format
from videovision.speech.transcript import place_on_timeline

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
TALK = SAMPLES / "talk.mp4"
KEY = "sk-test-SENTINEL-123"
TOLERANCE = 0.02
"""Seconds: chunk and subtitle times must be this exact."""
VOICE_TOLERANCE = 0.06
"""Seconds: voiced stretches found in decoded MP3 against the ground truth."""


def _load_make_talk():
    spec = importlib.util.spec_from_file_location("make_talk", SAMPLES / "make_talk.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_talk", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


make_talk = _load_make_talk()


@pytest.fixture(scope="module")
def truth():
    _data, cues = make_talk.load_ground_truth(TALK)
    return cues


@pytest.fixture(scope="module")
def talk_pcm():
    return make_talk.read_pcm(TALK)


@pytest.fixture(scope="module")
def variants(tmp_path_factory, talk_pcm, truth):
    """Talk remuxes, made on demand: name -> path."""
    root = tmp_path_factory.mktemp("talk")
    made: dict[str, Path] = {}

    def get(name: str, suffix: str = ".mkv", **options) -> Path:
        if name not in made:
            path = root / name / f"talk{suffix}"
            path.parent.mkdir()
            make_talk.write_talk(path, talk_pcm, truth, **options)
            made[name] = path
        return made[name]

    return get


def beep_onsets(path: Path, threshold: float = 0.1) -> list[float]:
    """Seconds (from the file's first sample) where each beep starts, to the sample."""
    pcm = make_talk.read_pcm(path).astype(np.float32) / 32768
    loud = np.abs(pcm) > threshold
    starts = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    onsets: list[float] = []
    for s in starts:  # one onset per beep: ignore zero crossings inside a beep
        if not onsets or s / 16000 - onsets[-1] > 0.35:
            onsets.append(s / 16000)
    return onsets


# --------------------------------------------------------------------------- values


def test_transcript_json_round_trip_keeps_everything():
    transcript = Transcript(
        segments=(
            Segment(6.03, 10.61, "First, the budget.", speaker="Bob"),
            Segment(0.8, 5.03, "Welcome."),
            Segment(11.0, 12.0, "Roughly here.", approximate=True),
        ),
        source="transcription",
        model="whisper-1",
        language="en",
        video={"path": "talk.mp4", "duration": 22.8},
    )
    data = transcript.to_json()
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert list(data) == ["schema_version", "video", "source", "model", "language", "segments"]
    assert data["segments"][0] == {"start": 0.8, "end": 5.03, "text": "Welcome."}  # sorted, no empty keys
    assert data["segments"][1]["speaker"] == "Bob"
    assert data["segments"][2]["approximate"] is True
    assert Transcript.loads(transcript.dumps()) == transcript
    assert Transcript.from_json(json.loads(json.dumps(data))) == transcript
    assert transcript.approximate and transcript.text.splitlines()[0] == "Welcome."


@pytest.mark.parametrize(
    "data, words",
    [
        ({"segments": [{"start": 1, "end": 2}]}, "lacks text"),
        ({"segments": [{"start": 2, "end": 1, "text": "x"}]}, "start <= end"),
        ({"segments": [{"start": -1, "end": 1, "text": "x"}]}, "0 <= start"),
        ({"segments": [{"start": "1", "end": 2, "text": "x"}]}, "finite number"),
        ({"schema_version": 2, "segments": []}, "schema_version 2"),
        ({"source": "radio", "segments": []}, "unknown transcript source"),
        ({"segments": "none"}, "'segments' list"),
        ([], "'segments' list"),
    ],
)
def test_bad_transcript_json_is_a_config_error(data, words):
    with pytest.raises(ConfigError, match=words):
        Transcript.from_json(data)


def test_place_on_timeline_shifts_clamps_and_drops():
    assert place_on_timeline(1.0, 2.0, "  two\n words ", shift=0.5) == Segment(1.5, 2.5, "two words")
    assert place_on_timeline(0.2, 1.0, "early", shift=-0.5) == Segment(0.0, 0.5, "early")
    assert place_on_timeline(0.0, 0.4, "before the video", shift=-0.5) is None
    assert place_on_timeline(1.0, 2.0, "   ") is None
    assert place_on_timeline(1.0, 2.0, "hi", speaker="  ") == Segment(1.0, 2.0, "hi")


# --------------------------------------------------------------------------- embedded subtitles


def test_committed_sample_mov_text_track_matches_ground_truth(truth):
    tracks = list_subtitle_tracks(TALK)
    assert [(t.codec, t.language, t.default) for t in tracks] == [("mov_text", "eng", True)]
    transcript = read_embedded_subtitles(TALK)
    assert transcript.source == "subtitles" and transcript.track == "stream #2 mov_text (eng)"
    assert [s.text for s in transcript.segments] == [c.text for c in truth]
    for segment, cue in zip(transcript.segments, truth):
        assert segment.start == pytest.approx(cue.start, abs=0.001)
        assert segment.end == pytest.approx(cue.end, abs=0.001)


@pytest.mark.parametrize("codec", ["subrip", "ass", "webvtt"])
def test_matroska_text_tracks_are_stripped_of_styling_and_keep_speakers(variants, truth, codec):
    path = variants(codec, subtitle_codecs=((codec, "eng"),))
    transcript = read_embedded_subtitles(path)
    assert transcript.track.endswith(f"{codec} (eng)")
    assert [s.text for s in transcript.segments] == [c.text for c in truth]  # no <i>, {\i1}, <b>
    speakers = [s.speaker for s in transcript.segments]
    if codec == "subrip":
        assert speakers == [None] * len(truth)  # SubRip has no speaker field
    else:
        assert speakers == [c.speaker for c in truth]  # ASS Name field / WebVTT <v Name>
    for segment, cue in zip(transcript.segments, truth):
        assert segment.start == pytest.approx(cue.start, abs=0.001)


def test_track_is_picked_by_language_then_default_then_first(variants):
    path = variants("two_tracks", subtitle_codecs=(("subrip", "fre"), ("ass", "eng")), default_subtitle=1)
    assert read_embedded_subtitles(path).language == "eng"  # the default track
    for code in ("fr", "fre", "fra", "fr-FR", "FR"):
        assert read_embedded_subtitles(path, language=code).language == "fre"
    assert read_embedded_subtitles(path, language="de").language == "eng"  # no German: default
    tracks = list_subtitle_tracks(path)
    assert read_embedded_subtitles(path, track=tracks[0].index).language == "fre"
    with pytest.raises(ConfigError, match="not a text subtitle track"):
        read_embedded_subtitles(path, track=0)
    no_default = variants("no_default", subtitle_codecs=(("subrip", "fre"), ("subrip", "eng")), default_subtitle=-1)
    assert read_embedded_subtitles(no_default).language == "fre"  # the first


def test_embedded_cues_land_on_the_video_timeline_when_video_starts_late(variants, truth):
    path = variants("late_video", suffix=".mp4", video_start=0.5, audio_start=0.0)
    with av.open(str(path)) as container:
        assert float(container.streams.video[0].start_time * container.streams.video[0].time_base) == pytest.approx(0.5)
    transcript = read_embedded_subtitles(path)
    for segment, cue in zip(transcript.segments, truth):
        assert segment.start == pytest.approx(cue.start, abs=0.001)
    assert read_embedded_subtitles(path, origin=0.0).segments[0].start == pytest.approx(truth[0].start + 0.5, abs=0.001)


def test_no_text_track_gives_none(variants):
    assert read_embedded_subtitles(variants("no_subs", suffix=".mp4", subtitle_codecs=())) is None


# --------------------------------------------------------------------------- files


@pytest.fixture
def video_dir(tmp_path):
    shutil.copy(TALK, tmp_path / "talk.mp4")
    return tmp_path


def test_sidecar_discovery_prefers_language_then_plain_then_extension(video_dir):
    video = video_dir / "talk.mp4"
    assert find_sidecar(video) is None
    for name in ("talk.fr.srt", "talk.en.vtt", "talk.vtt", "other.srt", "talky.srt", "talk.txt"):
        (video_dir / name).write_text("WEBVTT\n" if name.endswith(".vtt") else "")
    assert find_sidecar(video).name == "talk.vtt"  # untagged first
    (video_dir / "talk.srt").write_text("")
    assert find_sidecar(video).name == "talk.srt"  # .srt before .vtt
    assert find_sidecar(video, language="en").name == "talk.en.vtt"
    assert find_sidecar(video, language="fre").name == "talk.fr.srt"
    assert find_sidecar(video, language="de").name == "talk.srt"
    (video_dir / "talk.srt").unlink()
    (video_dir / "talk.vtt").unlink()
    (video_dir / "talk.mp4.srt").write_text("")  # the video's extension is no language tag
    assert find_sidecar(video).name == "talk.mp4.srt"
    (video_dir / "talk.forced.en.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nhi\n")
    assert read_speech_file(video_dir / "talk.forced.en.srt", video=video).language == "en"
    empty = read_speech_file(video_dir / "talk.mp4.srt", video=video)
    assert empty.language is None and empty.segments == ()


def test_srt_sidecar_is_shifted_from_player_time_to_first_frame(variants, truth):
    video = variants("late_video_sidecar", suffix=".mp4", video_start=0.5, audio_start=0.0)
    player = [c.__class__(**{**c.__dict__, "start": c.start + 0.5, "end": c.end + 0.5}) for c in truth]
    make_talk.write_sidecar(video.with_suffix(".srt"), player)  # players count from the container start (0)
    transcript = read_speech_file(video.with_suffix(".srt"), video=video)
    assert transcript.source == "sidecar" and transcript.track == "talk.srt"
    for segment, cue in zip(transcript.segments, truth):
        assert segment.start == pytest.approx(cue.start, abs=0.001)


def test_webvtt_voices_and_ass_names_are_speakers(tmp_path, truth):
    def stamp(seconds: float) -> str:
        return f"00:{int(seconds // 60):02d}:{seconds % 60:06.3f}"

    vtt = tmp_path / "talk.en.vtt"
    body = "".join(f"{stamp(c.start)} --> {stamp(c.end)}\n<v.loud {c.speaker}><i>{c.text}</i></v>\n\n" for c in truth)
    vtt.write_text("WEBVTT\n\n" + body)
    transcript = read_speech_file(vtt)
    assert [(s.speaker, s.text) for s in transcript.segments] == [(c.speaker, c.text) for c in truth]
    ass = tmp_path / "talk.ass"
    make_talk.write_sidecar(ass, truth, speakers=True)
    assert [s.speaker for s in read_speech_file(ass).segments] == [c.speaker for c in truth]


def test_speech_files_srt_json_legacy_encoding_and_errors(tmp_path, truth):
    srt = tmp_path / "styled.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,500\n<b>Bold</b> and <font color=red>red</font>\nsecond row\n\n")
    assert read_speech_file(srt).segments == (Segment(1.0, 2.5, "Bold and red second row"),)
    legacy = tmp_path / "legacy.srt"
    legacy.write_bytes("1\n00:00:01,000 --> 00:00:02,000\nCaf\xe9 cr\xe8me\n\n".encode("cp1252"))
    assert read_speech_file(legacy).segments[0].text == "Café crème"
    transcript = Transcript((Segment(1.0, 2.0, "hi", "A"),), source="transcription", model="whisper-1")
    saved = tmp_path / "t.json"
    saved.write_text(transcript.dumps())
    assert read_speech_file(saved) == transcript
    garbage = tmp_path / "notes.txt"
    garbage.write_text("just some notes\nwithout times\n")
    with pytest.raises(ConfigError, match="not a subtitle file"):
        read_speech_file(garbage)
    with pytest.raises(ConfigError, match="no such file"):
        read_speech_file(tmp_path / "missing.srt")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad\.json: not a videovision transcript"):
        read_speech_file(bad_json)


def test_read_subtitles_prefers_embedded_then_sidecar(variants, video_dir, truth):
    assert read_subtitles(video_dir / "talk.mp4").source == "subtitles"
    bare = variants("bare", suffix=".mp4", subtitle_codecs=())
    assert read_subtitles(bare) is None
    make_talk.write_sidecar(bare.parent / "talk.en.srt", truth[:2])
    found = read_subtitles(bare, language="en")
    assert found.source == "sidecar" and found.language == "en" and len(found.segments) == 2
    with pytest.raises(VideoOpenError):
        read_subtitles(video_dir / "missing.mp4")


# --------------------------------------------------------------------------- audio chunks


BEEPS = [1.0, 5.0, 9.62, 14.2, 19.9, 25.3, 29.95]


@pytest.fixture(scope="module")
def beep_clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("beeps")
    made: dict[tuple, Path] = {}

    def get(video_start=0.0, audio_start=0.0, video=True, suffix=".mp4"):
        key = (video_start, audio_start, video, suffix)
        if key not in made:
            path = root / f"beeps_{len(made)}{suffix}"
            make_talk.write_tone_clip(path, duration=32, tones=BEEPS, video_start=video_start, audio_start=audio_start, video=video)
            made[key] = path
        return made[key]

    return get


@pytest.mark.parametrize("audio_format", ["mp3", "ogg"])
@pytest.mark.parametrize("video_start, audio_start", [(0.0, 0.0), (0.7, 0.0), (0.0, 1.3)])
def test_chunk_times_are_exact_on_the_video_timeline(tmp_path, beep_clips, audio_format, video_start, audio_start):
    path = beep_clips(video_start, audio_start)
    chunks = list(iter_audio_chunks(path, tmp_path, chunk_seconds=10, audio_format=audio_format))
    # the first chunk may begin with the AAC encoder's priming samples (1024 at 48 kHz) still in the stream
    assert -0.03 <= chunks[0].start - (audio_start - video_start) <= 0.001
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))  # contiguous, nothing lost
    assert all(c.duration <= 10 + 1e-9 and c.path.suffix == f".{audio_format}" for c in chunks)
    found = [c.start + t for c in chunks for t in beep_onsets(c.path)]
    expected = [t for t in BEEPS if t >= audio_start - video_start]
    assert len(found) == len(expected)
    assert np.max(np.abs(np.array(found) - expected)) <= TOLERANCE
    for chunk in chunks:  # every cut falls in the quiet between beeps, never inside one
        assert not any(t < chunk.end < t + 0.3 for t in expected)


def test_chunks_are_cut_in_the_quietest_stretch_before_the_limit(tmp_path, beep_clips):
    chunks = list(iter_audio_chunks(beep_clips(), tmp_path, chunk_seconds=10))
    # limit 10 s, search window the last 2.5 s: [7.5, 10] holds the beep at 9.62 -> cut before it
    assert 7.5 <= chunks[0].end < 9.62
    with av.open(str(chunks[0].path)) as container:
        stream = container.streams.audio[0]
        assert (container.format.name, stream.codec_context.name, stream.codec_context.channels) == ("ogg", "opus", 1)


def test_talk_chunks_are_cut_in_pauses_not_words(tmp_path, talk_pcm):
    chunks = list(iter_audio_chunks(TALK, tmp_path, chunk_seconds=8))
    assert len(chunks) == 3
    for chunk in chunks[:-1]:  # 100 ms around each cut is silent (a pause between lines or sentences)
        at = round(chunk.end * 16000)
        assert np.sqrt(np.mean((talk_pcm[at - 800 : at + 800] / 32768.0) ** 2)) < 0.01


def test_chunk_limits_follow_the_upload_limit(tmp_path):
    assert max_chunk_seconds("mp3") * 32000 / 8 <= MAX_UPLOAD_BYTES * 0.9 + 1
    assert max_chunk_seconds("mp3", bitrate=320000) < 600
    with pytest.raises(ConfigError, match="chunk_seconds"):
        list(iter_audio_chunks(TALK, tmp_path, chunk_seconds=0.5))
    with pytest.raises(ConfigError, match="audio_format"):
        list(iter_audio_chunks(TALK, tmp_path, audio_format="opus"))
    with pytest.raises(ConfigError, match="bitrate"):
        list(iter_audio_chunks(TALK, tmp_path, bitrate=10))
    with pytest.raises(ConfigError, match="not an audio stream"):
        list(iter_audio_chunks(TALK, tmp_path, stream=0))


def test_no_audio_means_no_chunks_and_no_probe(tmp_path, variants, talk_pcm, truth):
    silent = tmp_path / "video_only.mp4"
    with av.open(str(silent), "w") as out:
        stream = out.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    assert probe_audio(silent) is None
    assert list(iter_audio_chunks(silent, tmp_path)) == []
    with pytest.raises(VideoOpenError, match="no audio"):
        audio_digest(silent)
    with pytest.raises(VideoOpenError):
        probe_audio(tmp_path / "missing.mp4")


def test_probe_and_audio_only_files(tmp_path, beep_clips):
    info = probe_audio(TALK)
    assert (info.codec, info.sample_rate, info.channels, info.start) == ("aac", 16000, 1, 0.0)
    assert info.duration == pytest.approx(22.73, abs=0.1)
    audio_only = beep_clips(video=False, suffix=".m4a")
    assert probe_audio(audio_only).start == 0.0
    chunks = list(iter_audio_chunks(audio_only, tmp_path, chunk_seconds=20))
    found = [c.start + t for c in chunks for t in beep_onsets(c.path)]
    assert np.max(np.abs(np.array(found) - BEEPS)) <= TOLERANCE


def test_audio_digest_follows_the_audio_not_the_container(tmp_path, variants):
    remuxed = tmp_path / "remuxed.mkv"
    with av.open(str(TALK)) as source, av.open(str(remuxed), "w") as out:
        stream = out.add_stream_from_template(source.streams.audio[0])
        for packet in source.demux(source.streams.audio[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            out.mux(packet)
    assert audio_digest(remuxed) == audio_digest(TALK)
    late = variants("late_audio", suffix=".mp4", audio_start=0.4)
    assert 0.4 - 0.065 <= probe_audio(late).start <= 0.4  # the AAC priming (1024 samples) counts


def test_damaged_and_truncated_audio_keeps_what_can_be_read_on_time(tmp_path, beep_clips, caplog):
    data = beep_clips(suffix=".mkv").read_bytes()
    truncated, damaged = tmp_path / "truncated.mkv", tmp_path / "damaged.mkv"
    truncated.write_bytes(data[: int(len(data) * 0.6)])
    middle = len(data) // 2
    damaged.write_bytes(data[:middle] + b"\xff" * 3000 + data[middle + 3000 :])
    for path in (truncated, damaged):
        out = tmp_path / path.stem
        out.mkdir()
        chunks = list(iter_audio_chunks(path, out, chunk_seconds=10))
        found = [c.start + t for c in chunks for t in beep_onsets(c.path)]
        assert len(found) >= 4
        assert all(min(abs(f - b) for b in BEEPS) <= TOLERANCE for f in found)  # still on time after the damage
    assert chunks[-1].end == pytest.approx(32, abs=0.1)  # the damaged file is read to its end
    assert "damaged audio packet" in caplog.text


def test_iterating_streams_and_stopping_early_leaves_no_partial_file(tmp_path, beep_clips):
    chunks = iter_audio_chunks(beep_clips(), tmp_path, chunk_seconds=5)
    first = next(chunks)
    assert first.path.exists() and first.size == first.path.stat().st_size
    chunks.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.path.name]


# --------------------------------------------------------------------------- transcription on the wire


@pytest.fixture
def audio_server():
    server = FakeOpenAIServer(api_key=KEY)
    endpoint = install_audio(server)
    server.start()
    try:
        yield server, endpoint
    finally:
        server.stop()
    assert server.errors == []


def _transcriber(server, **options) -> Transcriber:
    return Transcriber(ClientConfig(api_key=KEY, base_url=server.base_url, max_retries=0), TranscribeOptions(**options))


def test_whisper_segments_come_back_on_the_video_timeline(audio_server, truth):
    server, endpoint = audio_server
    with _transcriber(server, language="en") as transcriber:
        result = transcribe_media(TALK, transcriber)
    assert result.complete and result.chunks == 1 and result.cached == 0
    upload = endpoint.uploads[0]
    assert (upload.model, upload.response_format, upload.timestamp_granularities, upload.language) == (
        "whisper-1", "verbose_json", ("segment",), "en"
    )
    assert upload.filename == "chunk-0000.ogg"
    transcript = result.transcript
    assert (transcript.source, transcript.model, transcript.language) == ("transcription", "whisper-1", "en")
    assert len(transcript.segments) == len(truth)
    for segment, cue in zip(transcript.segments, truth):
        assert segment.start == pytest.approx(cue.start, abs=VOICE_TOLERANCE)
        assert segment.end == pytest.approx(cue.end, abs=VOICE_TOLERANCE)
        assert not segment.approximate
    assert result.uploaded_seconds == pytest.approx(22.78, abs=0.1)


def test_chunks_are_shifted_by_their_start_and_sent_concurrently(audio_server, truth, tmp_path):
    server, endpoint = audio_server
    three_at_once = threading.Event()

    def responder(upload):  # hold every answer until three uploads are in the server together
        if endpoint.max_active >= 3:
            three_at_once.set()
        three_at_once.wait(10)
        return voiced_segments(upload)

    endpoint.responder = responder
    with _transcriber(server, concurrency=3) as transcriber:
        result = transcribe_media(TALK, transcriber, chunk_seconds=4, workdir=tmp_path)
    assert result.complete and result.chunks >= 6
    assert three_at_once.is_set() and endpoint.max_active == 3  # never more (timing: bench/bench_audio.py)
    assert list(tmp_path.iterdir()) == []  # chunk files are gone
    for segment in result.transcript.segments:  # every piece lies inside a spoken line
        assert any(c.start - VOICE_TOLERANCE <= segment.start and segment.end <= c.end + VOICE_TOLERANCE for c in truth)
    for cue in truth:  # and every line is covered
        pieces = [s for s in result.transcript.segments if cue.start - VOICE_TOLERANCE <= s.start <= cue.end]
        assert pieces and min(s.start for s in pieces) == pytest.approx(cue.start, abs=VOICE_TOLERANCE)


def test_models_without_timestamps_get_approximate_sentences(audio_server):
    server, endpoint = audio_server
    endpoint.responder = lambda upload: [{"start": 0, "end": upload.duration, "text": "One. Two two two! Three?"}]
    with _transcriber(server, model="gpt-4o-transcribe") as transcriber:
        result = transcribe_media(TALK, transcriber, chunk_seconds=12)
    assert {u.response_format for u in endpoint.uploads} == {"json"}  # verbose_json would be refused
    assert all(u.timestamp_granularities == () for u in endpoint.uploads)
    segments = result.transcript.segments
    assert [s.text for s in segments] == ["One.", "Two two two!", "Three?"] * 2
    assert all(s.approximate for s in segments)
    first_chunk = segments[:3]
    assert first_chunk[0].start == 0.0 and first_chunk[1].start == pytest.approx(first_chunk[0].end)
    assert (first_chunk[1].end - first_chunk[1].start) > (first_chunk[0].end - first_chunk[0].start)  # by length
    assert segments[3].start == pytest.approx(first_chunk[2].end)  # the next chunk starts where this ended


def test_text_format_and_diarized_speakers(audio_server):
    server, endpoint = audio_server
    with _transcriber(server, response_format="text") as transcriber:
        text_result = transcribe_media(TALK, transcriber)
    assert endpoint.uploads[-1].response_format == "text"
    assert all(s.approximate for s in text_result.transcript.segments)
    with _transcriber(server, model="gpt-4o-transcribe-diarize") as transcriber:
        diarized = transcribe_media(TALK, transcriber)
    assert endpoint.uploads[-1].fields["chunking_strategy"] == "auto"
    assert [s.speaker for s in diarized.transcript.segments] == ["A", "B", "A", "B", "A"]
    assert not diarized.transcript.approximate


class DictStore:
    def __init__(self):
        self.data: dict[str, str] = {}

    def get(self, key):
        return load_segments(self.data[key]) if key in self.data else None

    def put(self, key, segments):
        self.data[key] = dump_segments(segments)


def test_a_failed_chunk_keeps_the_others_and_a_rerun_sends_only_it(audio_server):
    server, endpoint = audio_server
    endpoint.fail_when(lambda upload: "500" if upload.filename == "chunk-0001.ogg" else None)
    store = DictStore()
    with _transcriber(server, concurrency=2) as transcriber:
        result = transcribe_media(TALK, transcriber, chunk_seconds=8, store=store)
        assert not result.complete and result.chunks == 3
        assert [f.index for f in result.failures] == [1]
        failure = result.failures[0]
        assert isinstance(failure.error, ServerError) and failure.error.status_code == 500
        assert failure.start == pytest.approx(7.55, abs=0.5)
        assert all(not (failure.start <= s.start < failure.end) for s in result.transcript.segments)
        assert len(store.data) == 2
        with pytest.raises(ServerError, match=r"transcribing audio 00:0\d-00:\d\d: server error \(500\).*1 of 3 audio chunks failed; 2 finished"):
            result.raise_for_failures()
        endpoint.fail_when(lambda upload: None)
        before = len(endpoint.uploads)
        again = transcribe_media(TALK, transcriber, chunk_seconds=8, store=store)
    assert again.complete and again.cached == 2
    assert [u.filename for u in endpoint.uploads[before:]] == ["chunk-0001.ogg"]
    assert len(again.transcript.segments) > len(result.transcript.segments)
    assert again.raise_for_failures() is again.transcript


def test_a_refused_key_stops_the_run(audio_server):
    server, _endpoint = audio_server
    wrong = Transcriber(ClientConfig(api_key="sk-wrong-key-0000", base_url=server.base_url, max_retries=0), TranscribeOptions(concurrency=1))
    with wrong:
        result = transcribe_media(TALK, wrong, chunk_seconds=4)
    assert isinstance(result.failures[0].error, AuthenticationError)
    assert server.request_count <= 2 and result.chunks < 6
    with pytest.raises(AuthenticationError) as caught:
        result.raise_for_failures()
    assert "sk-wrong-key-0000" not in str(caught.value)


def test_unknown_model_and_endpoint_errors_are_request_errors(tmp_path):
    with FakeOpenAIServer(api_key=KEY) as server:
        install_audio(server, models=("whisper-1",))
        with _transcriber(server, model="whisper-9") as transcriber:
            result = transcribe_media(TALK, transcriber)
        error = result.failures[0].error
        assert isinstance(error, ModelNotFoundError) and "transcription model 'whisper-9' not found" in str(error)
        chunk = next(iter_audio_chunks(TALK, tmp_path))
        gone = _transcriber(server)
    with gone, pytest.raises(RequestError, match="cannot reach"):
        gone.transcribe_chunk(chunk)  # the server is gone


def test_malformed_reply_and_retried_server_error(audio_server, tmp_path):
    server, endpoint = audio_server
    chunk = next(iter_audio_chunks(TALK, tmp_path))
    endpoint.enqueue_fault("malformed")
    with _transcriber(server) as transcriber, pytest.raises(RequestError):
        transcriber.transcribe_chunk(chunk)
    endpoint.enqueue_fault("503")
    config = ClientConfig(api_key=KEY, base_url=server.base_url, max_retries=1)
    with Transcriber(config) as transcriber:
        segments = transcriber.transcribe_chunk(chunk)  # the SDK retried once
    assert len(segments) == 5


@pytest.mark.parametrize(
    "fault, error",
    [("disconnect", EndpointConnectionError), ("429", RateLimitError), ("404", ModelNotFoundError), ("400", RequestError)],
)
def test_endpoint_faults_map_to_request_errors(audio_server, tmp_path, fault, error):
    server, endpoint = audio_server
    chunk = next(iter_audio_chunks(TALK, tmp_path))
    endpoint.enqueue_fault(fault)
    with _transcriber(server) as transcriber, pytest.raises(error, match=r"^transcribing audio 00:00-00:23: "):
        transcriber.transcribe_chunk(chunk)


def test_the_fake_endpoint_validates_uploads_as_openai_documents(audio_server, tmp_path):
    server, endpoint = audio_server
    client = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    mp3 = next(iter_audio_chunks(TALK, tmp_path, audio_format="mp3")).path.read_bytes()
    cases = [
        (dict(file=("talk.opus", mp3), model="whisper-1"), 400, "Invalid file format"),
        (dict(file=("talk.mp3", mp3), model="whisper-1", response_format="json", timestamp_granularities=["segment"]), 400, "only supported"),
        (dict(file=("talk.mp3", mp3), model="gpt-4o-transcribe", response_format="verbose_json"), 400, "not compatible"),
        (dict(file=("talk.mp3", b"\x00" * 1000), model="whisper-1"), 400, "corrupted"),
        (dict(file=("talk.mp3", b"\x00" * (MAX_AUDIO_BYTES + 1)), model="whisper-1"), 413, "Maximum content size"),
    ]
    for kwargs, status, words in cases:
        with pytest.raises(openai.APIStatusError) as caught:
            client.audio.transcriptions.create(**kwargs)
        assert caught.value.status_code == status and words in str(caught.value)
    reply = client.audio.transcriptions.create(file=("talk.mp3", mp3), model="whisper-1")
    assert reply.text.startswith("Voice number 1.")
    assert endpoint.uploads[-1].duration == pytest.approx(22.78, abs=0.1)
    assert voiced_segments(endpoint.uploads[-1])[0]["start"] == pytest.approx(0.8, abs=VOICE_TOLERANCE)
    client.close()


# --------------------------------------------------------------------------- cache keys


def test_cache_keys_change_with_what_changes_the_transcript(tmp_path):
    base = TranscribeOptions()
    key = transcript_cache_key("d" * 64, base, audio_start=0.0)
    assert key == transcript_cache_key("d" * 64, TranscribeOptions(concurrency=1), audio_start=0.0)
    assert key == transcript_cache_key("d" * 64, TranscribeOptions(response_format="verbose_json"), audio_start=0.0)
    others = {
        transcript_cache_key("e" * 64, base, audio_start=0.0),
        transcript_cache_key("d" * 64, base, audio_start=0.5),
        transcript_cache_key("d" * 64, base, audio_start=0.0, chunk_seconds=300),
        transcript_cache_key("d" * 64, base, audio_start=0.0, audio_format="mp3"),
        transcript_cache_key("d" * 64, TranscribeOptions(model="gpt-4o-transcribe"), audio_start=0.0),
        transcript_cache_key("d" * 64, TranscribeOptions(language="en"), audio_start=0.0),
        transcript_cache_key("d" * 64, TranscribeOptions(prompt="Alice, Bob"), audio_start=0.0),
    }
    assert key not in others and len(others) == 7
    chunk = AudioChunk(0, 0.0, 10.0, tmp_path / "c.mp3", 10, "a" * 64)
    assert chunk_cache_key(chunk, base) != chunk_cache_key(AudioChunk(0, 0.0, 10.0, chunk.path, 10, "b" * 64), base)
    assert chunk_cache_key(chunk, base) != chunk_cache_key(AudioChunk(1, 5.0, 15.0, chunk.path, 10, "a" * 64), base)
    segments = (Segment(1.0, 2.0, "a", "S"), Segment(2.0, 3.0, "b", approximate=True))
    assert load_segments(dump_segments(segments)) == segments
    with pytest.raises(ConfigError):
        load_segments("{}")


def test_options_are_validated_and_formats_follow_the_model():
    assert default_response_format("whisper-1") == "verbose_json"
    assert default_response_format("Systran/faster-whisper-small") == "verbose_json"
    assert default_response_format("gpt-4o-mini-transcribe-2025-03-20") == "json"
    assert default_response_format("gpt-4o-transcribe-diarize") == "diarized_json"
    assert "timestamp_granularities" not in TranscribeOptions(model="gpt-4o-transcribe").request_kwargs()
    assert TranscribeOptions().request_kwargs()["timestamp_granularities"] == ["segment"]
    for bad in (dict(model=""), dict(concurrency=0), dict(response_format="srt"), dict(language=" ")):
        with pytest.raises(ConfigError):
            TranscribeOptions(**bad)


# --------------------------------------------------------------------------- fusion and budget


LINES = (
    Segment(0.5, 1.5, "before the first frame"),
    Segment(2.0, 3.0, "at the first frame", "Alice"),
    Segment(4.9, 5.5, "still the first"),
    Segment(5.0, 6.0, "exactly at the second"),
    Segment(12.0, 13.0, "after the last frame"),
)


def test_lines_follow_the_frame_they_are_spoken_after():
    fused = speech_by_frame([2.0, 5.0, 9.0], reversed(LINES))
    assert [line.segment.text for line in fused.before] == ["before the first frame"]
    assert [[line.segment.text for line in group] for group in fused.frames] == [
        ["at the first frame", "still the first"],
        ["exactly at the second"],
        ["after the last frame"],
    ]
    assert fused.frames[0][0].text == "[00:00:02.0] Alice: at the first frame" == render_line(LINES[1])
    assert [line.time for line in fused.lines] == sorted(s.start for s in LINES)
    assert speech_by_frame([], LINES).before == speech_by_frame([], LINES).lines
    with pytest.raises(ConfigError, match="sorted"):
        speech_by_frame([5.0, 2.0], LINES)
    assert [s.text for s in segments_between(LINES, 2.0, 5.0)] == ["at the first frame", "still the first"]
    assert len(segments_between(LINES, 5.0, None)) == 2


def test_budget_thins_evenly_over_the_whole_video():
    lines = [Segment(float(i), i + 0.9, f"line number {i} with some words") for i in range(100)]
    count = lambda text: len(text.split())  # noqa: E731
    each = count(render_line(lines[0]))
    everything = fit_speech(lines, None, count)
    assert everything.dropped == 0 and everything.tokens == 100 * each
    assert fit_speech(lines, 100 * each, count).dropped == 0
    half = fit_speech(lines, 50 * each + each // 2, count)
    assert len(half.segments) == 50 and half.dropped == 50 and half.tokens <= 50 * each + each // 2
    starts = [s.start for s in half.segments]
    assert starts[0] < 2 and starts[-1] > 97  # the end is not cut off
    gaps = np.diff(starts)
    assert gaps.max() - gaps.min() <= 1.0  # evenly spread
    tenth = fit_speech(lines, 10 * each, count)
    assert len(tenth.segments) == 10 and tenth.segments[-1].start > 90
    assert fit_speech(lines, 0, count).segments == ()
    with pytest.raises(ConfigError, match="max_speech_tokens"):
        fit_speech(lines, -1, count)


# --------------------------------------------------------------------------- estimates


def test_estimates_from_duration():
    hour = estimate_speech(3600, price_per_minute=0.006)
    assert hour.cost == pytest.approx(0.36)
    assert hour.tokens == 60 * (150 * 1.3 + 12 * 11)
    assert hour.requests == 7  # 600 s chunks, each cut at most 30 s early
    assert estimate_speech(90).cost is None and estimate_speech(0).requests == 0
    with pytest.raises(ConfigError):
        estimate_speech(-1)
    with pytest.raises(ConfigError):
        estimate_speech(60, price_per_minute=-0.1)


def test_transcriber_never_shows_the_key(audio_server):
    server, _ = audio_server
    with _transcriber(server) as transcriber:
        assert KEY not in repr(transcriber)


def test_concurrent_callbacks_run_in_the_calling_thread(audio_server):
    server, _ = audio_server
    seen: list[str] = []
    with _transcriber(server, concurrency=3) as transcriber:
        transcribe_media(TALK, transcriber, chunk_seconds=6, on_chunk=lambda c, s: seen.append(threading.current_thread().name))
    assert seen and set(seen) == {threading.current_thread().name}


@pytest.mark.parametrize("response_format", ["verbose_json", "text"])
def test_a_web_page_is_never_taken_for_a_transcript(audio_server, tmp_path, response_format):
    """A transcription endpoint answering 200 text/html (a login page that echoes the key) is an
    error naming the cause, never the transcript: the page is not kept, printed or cached."""
    server, endpoint = audio_server
    chunk = next(iter_audio_chunks(TALK, tmp_path))
    endpoint.enqueue_fault("html", message=f"Signed in with {KEY}")
    with _transcriber(server, response_format=response_format) as transcriber:
        with pytest.raises(ResponseFormatError, match="web page") as caught:
            transcriber.transcribe_chunk(chunk)
    assert KEY not in str(caught.value)


def test_a_transcript_echoing_the_key_is_scrubbed(audio_server, tmp_path):
    server, endpoint = audio_server
    chunk = next(iter_audio_chunks(TALK, tmp_path))
    endpoint.enqueue_fault("text", message=f"your key is {KEY} thanks.")
    with _transcriber(server, response_format="json") as transcriber:
        segments = transcriber.transcribe_chunk(chunk)
    text = " ".join(s.text for s in segments)
    assert KEY not in text and "your key is" in text


def test_keywords_and_several_languages_go_as_lists_to_gpt_transcribe(audio_server):
    server, endpoint = audio_server
    with _transcriber(server, model="gpt-transcribe", language="en,de", keywords=("PyAV", "Ada Lovelace")) as t:
        result = transcribe_media(TALK, t)
    assert result.complete
    fields = endpoint.uploads[-1].fields
    assert fields["keywords[]"] == "PyAV,Ada Lovelace" and fields["languages[]"] == "en,de"
    assert "language" not in fields and "prompt" not in fields


def test_other_models_read_keywords_in_the_prompt_and_take_one_language(audio_server):
    server, endpoint = audio_server
    with _transcriber(server, language="en", prompt="A lecture.", keywords=("PyAV", "libswscale")) as t:
        transcribe_media(TALK, t)
    upload = endpoint.uploads[-1]
    assert upload.prompt == "A lecture. PyAV, libswscale." and upload.language == "en"
    assert "keywords[]" not in upload.fields
    with pytest.raises(ConfigError, match="takes one language"):
        TranscribeOptions(language="en,de")  # whisper-1: one hint
    with pytest.raises(ConfigError, match="takes no prompt"):
        TranscribeOptions(model="gpt-4o-transcribe-diarize", keywords=("PyAV",))
    with pytest.raises(ConfigError, match="keywords"):
        TranscribeOptions(model="gpt-transcribe", keywords="PyAV")  # a string, not a list of them


def test_keywords_are_part_of_the_transcript_key():
    plain = transcript_cache_key("d" * 64, TranscribeOptions(), audio_start=0.0)
    assert transcript_cache_key("d" * 64, TranscribeOptions(keywords=()), audio_start=0.0) == plain
    assert transcript_cache_key("d" * 64, TranscribeOptions(keywords=("PyAV",)), audio_start=0.0) != plain


def test_the_cli_refuses_several_languages_for_whisper_before_uploading(audio_server, tmp_path):
    server, endpoint = audio_server
    env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url,
           "VIDEOVISION_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "videovision", "transcript", str(TALK), "--speech", "transcribe",
                           "--speech-language", "en,de"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "takes one language" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert endpoint.uploads == []
    proc = subprocess.run([sys.executable, "-m", "videovision", "transcript", str(TALK), "--speech", "transcribe",
                           "--transcribe-model", "gpt-transcribe", "--speech-language", "en,de", "--speech-keywords", "PyAV, Ada Lovelace"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert endpoint.uploads[-1].fields["keywords[]"] == "PyAV,Ada Lovelace"
