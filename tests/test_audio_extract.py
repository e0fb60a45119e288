"""Audio extraction for transcription (issue 24): the default Ogg Opus chunks; the libavfilter graph
that decodes, resamples and regroups in C gives the frame-by-frame path's samples exactly, and where
it stops (a damaged packet, a format change) the frame-by-frame path goes on from the same sample;
the decoded frames gathered into one-second blocks before resampling (gaps and format changes stay
on time)."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from videovision.speech import DEFAULT_AUDIO_FORMAT, TranscribeOptions, iter_audio_chunks, transcript_cache_key
from videovision.speech.audio import ENCODE_BLOCK_SAMPLES, SAMPLE_RATE
from videovision.speech.pcm import (
    GRAPH_BLOCK_SAMPLES,
    _Delivered,
    _graph_blocks,
    _GraphStopped,
    _pcm_blocks,
    _pcm_stream,
)
from videovision.speech.timeline import open_media, timeline_origin

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
TALK = SAMPLES / "talk.mp4"
TOLERANCE = 0.02
"""Seconds a beep may be off (the bench's target)."""


def _load_make_talk():
    spec = importlib.util.spec_from_file_location("make_talk", SAMPLES / "make_talk.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_talk", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return sys.modules["make_talk"]


make_talk = _load_make_talk()


def beep_onsets(path: Path) -> list[float]:
    """Seconds from the file's first sample where each beep starts (to the 16 kHz sample)."""
    loud = np.abs(make_talk.read_pcm(path).astype(np.float32) / 32768) > 0.1
    onsets: list[float] = []
    for s in np.flatnonzero(loud[1:] & ~loud[:-1]) + 1:
        if not onsets or s / SAMPLE_RATE - onsets[-1] > 0.35:
            onsets.append(s / SAMPLE_RATE)
    return onsets


def found_beeps(chunks) -> list[float]:
    return [c.start + t for c in chunks for t in beep_onsets(c.path)]


def test_default_chunks_are_ogg_opus_in_60_ms_packets(tmp_path):
    assert DEFAULT_AUDIO_FORMAT == "ogg"
    chunks = list(iter_audio_chunks(TALK, tmp_path, chunk_seconds=10))
    assert [c.path.name for c in chunks] == ["chunk-0000.ogg", "chunk-0001.ogg", "chunk-0002.ogg"]
    for chunk in chunks:
        with av.open(str(chunk.path)) as container:
            stream = container.streams.audio[0]
            assert (container.format.name, stream.codec_context.name, stream.codec_context.channels) == ("ogg", "opus", 1)
            durations = [float(p.duration * p.time_base) for p in container.demux(stream) if p.size]
        assert all(d == pytest.approx(0.06) for d in durations[:-1])
        # 24 kb/s nominal; speech at complexity 0 comes out below it
        assert chunk.size * 8 / chunk.duration < 30000
    again = tmp_path / "again"
    again.mkdir()  # the same audio gives the same bytes (no random Ogg serial number): chunk cache keys hold
    assert [c.sha256 for c in iter_audio_chunks(TALK, again, chunk_seconds=10)] == [c.sha256 for c in chunks]
    keys = {fmt: transcript_cache_key("d" * 64, TranscribeOptions(), audio_start=0.0, audio_format=fmt) for fmt in ("ogg", "mp3")}
    assert keys["ogg"] != keys["mp3"]  # the format is part of the transcript cache key
    # and so are its encoder settings: Opus transcripts from before issue 24 (complexity 5) are not reused
    assert keys["ogg"] != _key_as_before_issue_24("ogg") and keys["mp3"] == _key_as_before_issue_24("mp3")


def _key_as_before_issue_24(audio_format: str) -> str:
    """A transcript key as speech/keys.py made it before the Opus settings changed."""
    import hashlib
    import json

    fields = {"kind": "transcript", "audio": "d" * 64, "audio_start": 0.0, "chunk_seconds": 600.0,
              "audio_format": audio_format, **TranscribeOptions().cache_fields()}
    text = json.dumps({"v": 1, **fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def test_blocks_are_about_a_second_and_count_every_sample(tmp_path):
    with open_media(TALK) as container:
        stream = container.streams.audio[0]
        blocks = list(_pcm_blocks(container, stream, timeline_origin(container), "talk"))
    sizes = [len(b) for _start, b in blocks]
    assert all(ENCODE_BLOCK_SAMPLES * 0.9 <= n <= ENCODE_BLOCK_SAMPLES * 1.2 for n in sizes[:-1])
    assert len({start for start, _b in blocks}) == 1  # every block carries the first sample's time
    pcm = np.concatenate([b for _start, b in blocks])
    reference = make_talk.read_pcm(TALK)  # PyAV's resampler fed frame by frame
    assert abs(len(pcm) - len(reference)) <= 2
    n = min(len(pcm), len(reference))
    assert np.max(np.abs(pcm[:n].astype(np.int32) - reference[:n])) <= 2  # the same samples, not only the count


def _shifted(source: Path, dest: Path, after: float, shift: float) -> None:
    """Remux ``source``'s audio with every packet from ``after`` seconds on moved ``shift`` later."""
    with av.open(str(source)) as inp, av.open(str(dest), "w") as out:
        ins = inp.streams.audio[0]
        outs = out.add_stream_from_template(ins)
        outs.time_base = Fraction(1, 1000)
        for packet in inp.demux(ins):
            if packet.size == 0:
                continue
            at = float(packet.pts * packet.time_base)
            moved = at + (shift if at >= after else 0.0)
            packet.pts = packet.dts = round(moved * 1000)
            packet.time_base = Fraction(1, 1000)
            packet.stream = outs
            out.mux(packet)


def test_a_gap_in_the_audio_becomes_silence_and_later_beeps_stay_on_time(tmp_path):
    beeps = [1.0, 4.0, 7.0, 13.0, 16.0]
    clip, gapped = tmp_path / "beeps.mkv", tmp_path / "gapped.mkv"
    make_talk.write_tone_clip(clip, duration=18, tones=beeps, video=False)
    _shifted(clip, gapped, after=10.0, shift=2.5)
    out = tmp_path / "chunks"
    out.mkdir()
    chunks = list(iter_audio_chunks(gapped, out, chunk_seconds=5))
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    assert chunks[-1].end == pytest.approx(18 + 2.5, abs=0.1)
    expected = [t + (2.5 if t >= 10 else 0.0) for t in beeps]
    found = found_beeps(chunks)
    assert len(found) == len(expected)
    assert np.max(np.abs(np.array(found) - expected)) <= TOLERANCE


def test_a_format_change_mid_stream_is_resampled_on_time(tmp_path):
    first, second, joined = tmp_path / "a.aac", tmp_path / "b.aac", tmp_path / "joined.aac"
    make_talk.write_tone_clip(first, duration=6, tones=[1.0, 4.0], video=False)  # 48 kHz stereo
    make_talk.write_tone_clip(second, duration=6, tones=[2.0, 5.0], video=False, rate=22050, channels=1)
    joined.write_bytes(first.read_bytes() + second.read_bytes())  # ADTS: the second half changes rate and layout
    out = tmp_path / "chunks"
    out.mkdir()
    chunks = list(iter_audio_chunks(joined, out, chunk_seconds=4))
    first_seconds = len(make_talk.read_pcm(first)) / SAMPLE_RATE
    expected = beep_onsets(first) + [first_seconds + t for t in beep_onsets(second)]
    found = found_beeps(chunks)
    assert len(found) == 4
    assert np.max(np.abs(np.array(found) - expected)) <= TOLERANCE
    assert chunks[-1].end == pytest.approx(first_seconds + len(make_talk.read_pcm(second)) / SAMPLE_RATE, abs=0.01)


def _frame_by_frame(path: Path) -> np.ndarray:
    with open_media(path) as container:
        stream = container.streams.audio[0]
        return np.concatenate([b for _start, b in _pcm_blocks(container, stream, timeline_origin(container), path.name)])


def _through_graph(path: Path) -> tuple[list[np.ndarray], _Delivered]:
    """The graph's blocks and what it delivered; raises _GraphStopped like the graph."""
    with open_media(path) as container:
        delivered = _Delivered()
        zero, index = timeline_origin(container), container.streams.audio[0].index
    return list(b for _s, b in _graph_blocks(path, index, zero, delivered)), delivered


def _streamed(path: Path) -> np.ndarray:
    with open_media(path) as container:
        zero, index = timeline_origin(container), container.streams.audio[0].index
    return np.concatenate([b for _start, b in _pcm_stream(path, index, zero, None)])


def test_the_graph_gives_the_frame_by_frame_samples_in_four_second_blocks(tmp_path):
    clip, gapped = tmp_path / "beeps.mkv", tmp_path / "gapped.mkv"
    make_talk.write_tone_clip(clip, duration=18, tones=[1.0, 4.0, 7.0, 13.0, 16.0], video=False)  # 48 kHz stereo AAC
    _shifted(clip, gapped, after=10.0, shift=2.5)
    for path in (clip, gapped, TALK):
        blocks, delivered = _through_graph(path)  # the graph goes to the end: no fallback
        assert all(len(b) == GRAPH_BLOCK_SAMPLES for b in blocks[:-1]) and 0 < len(blocks[-1]) <= GRAPH_BLOCK_SAMPLES
        assert delivered.samples == sum(len(b) for b in blocks) and delivered.start == 0.0
        # bit-identical to PyAV frame by frame, the 2.5 s gap filled with the same silence
        assert np.array_equal(np.concatenate(blocks), _frame_by_frame(path))
    assert delivered.samples == len(make_talk.read_pcm(TALK))


def test_where_the_graph_stops_the_frame_by_frame_path_goes_on_from_the_same_sample(tmp_path, caplog):
    clip, damaged = tmp_path / "beeps.mkv", tmp_path / "damaged.mkv"
    make_talk.write_tone_clip(clip, duration=32, tones=[1.0, 5.0, 9.62, 14.2, 19.9, 25.3, 29.95])
    data = clip.read_bytes()
    damaged.write_bytes(data[: len(data) // 2] + b"\xff" * 3000 + data[len(data) // 2 + 3000 :])
    first, second, joined = tmp_path / "a.aac", tmp_path / "b.aac", tmp_path / "joined.aac"
    make_talk.write_tone_clip(first, duration=6, tones=[1.0, 4.0], video=False)
    make_talk.write_tone_clip(second, duration=6, tones=[2.0, 5.0], video=False, rate=22050, channels=1)
    joined.write_bytes(first.read_bytes() + second.read_bytes())  # the stored format changes half way
    for path in (damaged, joined):
        with pytest.raises(_GraphStopped):
            _through_graph(path)
        expected = _frame_by_frame(path)
        with caplog.at_level("DEBUG", logger="videovision.speech"):
            caplog.clear()
            streamed = _streamed(path)
        assert "decoded frame by frame after" in caplog.text and "after 0.000 s" not in caplog.text
        assert np.array_equal(streamed, expected)  # nothing lost or doubled at the join


def test_the_graph_reads_the_chosen_audio_stream(tmp_path):
    first, second, both = tmp_path / "a.mkv", tmp_path / "b.mkv", tmp_path / "both.mkv"
    make_talk.write_tone_clip(first, duration=10, tones=[1.0, 5.0])
    make_talk.write_tone_clip(second, duration=10, tones=[2.0, 7.0], video=False)
    with av.open(str(first)) as a, av.open(str(second)) as b, av.open(str(both), "w") as out:
        targets = {(i, s.index): out.add_stream_from_template(s) for i, src in enumerate((a, b)) for s in src.streams}
        for i, src in enumerate((a, b)):
            for packet in src.demux():
                if packet.dts is not None:
                    packet.stream = targets[(i, packet.stream.index)]
                    out.mux(packet)
    for index, tones in ((1, [1.0, 5.0]), (2, [2.0, 7.0])):  # stream 0 is the video
        out_dir = tmp_path / f"s{index}"
        out_dir.mkdir()
        found = found_beeps(list(iter_audio_chunks(both, out_dir, stream=index)))
        assert len(found) == 2 and np.max(np.abs(np.array(found) - tones)) <= TOLERANCE
