#!/usr/bin/env python3
"""The talk sample: real speech (espeak-ng) over slides, with subtitles and ground truth.

    python samples/make_talk.py            # samples/talk.mp4, samples/talk.srt, samples/talk.mp4.json

``talk.mp4`` holds an H.264 video track (one coloured slide per spoken line, its title burned in),
a mono 16 kHz AAC audio track with two synthetic voices, and an embedded ``mov_text`` subtitle
track (language ``eng``, default) whose cues match the speech. ``talk.srt`` is the same cues as a
sidecar file. ``talk.mp4.json`` records when each line is spoken (voice onset and offset measured
on the waveform, seconds from the first video frame), who speaks it, and the slide times.

``write_tone_clip`` makes test and benchmark media of any length quickly: a tiny black video and
1 kHz beeps at known times over faint noise (streamed, so an hour costs no memory).

Making the speech needs Debian's ``espeak-ng`` (``apt-get install -y espeak-ng``); everything else
is PyAV, numpy, OpenCV and pysubs2. Tests never run espeak-ng: they remux the committed sample's
audio into variants (other containers, subtitle codecs, delayed streams) with ``write_talk`` and
``read_pcm``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pysubs2

__all__ = [
    "LINES",
    "SAMPLE_RATE",
    "SUBTITLE_CODECS",
    "Cue",
    "load_ground_truth",
    "read_pcm",
    "synthesize",
    "write_sidecar",
    "write_talk",
]

SAMPLES_DIR = Path(__file__).resolve().parent
SAMPLE_RATE = 16000
"""Samples per second of the talk's audio track (mono)."""
GAP_SECONDS = 1.0
"""Silence between two lines, and after the last."""
LEAD_SECONDS = 0.8
"""Silence before the first line."""
VIDEO_SIZE = (320, 180)
VIDEO_FPS = 5
AUDIO_BITRATE = 24000
ONSET_THRESHOLD = 0.02
"""A 10 ms window is voiced when its RMS exceeds this fraction of full scale."""
SUBTITLE_CODECS = ("mov_text", "subrip", "ass", "webvtt")
"""Embedded subtitle codecs ``write_talk`` can mux (mov_text in MP4, the others in Matroska)."""
_ASS_HEADER = (
    "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    "MarginR, MarginV, Encoding\n"
    "Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)

# (speaker, espeak-ng voice, words per minute, text, slide title)
LINES: tuple[tuple[str, str, int, str, str], ...] = (
    ("Alice", "en-us", 150, "Welcome to the quarterly review. Today we look at three topics.", "Quarterly review"),
    ("Bob", "en-gb", 140, "First, the budget. We spent forty thousand dollars on servers.", "Budget"),
    ("Alice", "en-us", 150, "Second, the video tool can now hear what people say.", "Speech"),
    ("Bob", "en-gb", 140, "Third, the launch moves to March.", "Launch"),
    ("Alice", "en-us", 150, "Thank you. Questions are welcome.", "Questions"),
)
_SLIDE_COLOURS = ((40, 70, 140), (150, 60, 40), (40, 120, 60), (120, 40, 120), (60, 60, 60))


@dataclass(frozen=True)
class Cue:
    """One spoken line: voice onset and offset (seconds from the first video frame)."""

    start: float
    end: float
    text: str
    speaker: str
    slide: str


# --------------------------------------------------------------------------- speech


def _espeak(text: str, voice: str, wpm: int, workdir: Path) -> np.ndarray:
    """One line spoken by espeak-ng, as int16 mono at ``SAMPLE_RATE``."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng not found: apt-get install -y espeak-ng")
    wav = workdir / "line.wav"
    subprocess.run([exe, "-v", voice, "-s", str(wpm), "-w", str(wav), text], check=True)
    return read_pcm(wav)


def read_pcm(path: str | Path, stream: int = 0) -> np.ndarray:
    """The audio stream of a file decoded to int16 mono at ``SAMPLE_RATE`` (for remuxing variants).

    Args:
        path: any file PyAV can decode.
        stream: the audio stream's index among the file's audio streams.

    Returns:
        A 1-D int16 array.
    """
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    parts: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1))
    return np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)


def _voiced_span(pcm: np.ndarray) -> tuple[int, int]:
    """(first, last) sample of the voiced part: 10 ms windows above ``ONSET_THRESHOLD``."""
    win = SAMPLE_RATE // 100
    n = len(pcm) // win
    rms = np.sqrt(np.mean((pcm[: n * win].astype(np.float64) / 32768.0).reshape(n, win) ** 2, axis=1))
    voiced = np.flatnonzero(rms > ONSET_THRESHOLD)
    if len(voiced) == 0:
        raise ValueError("espeak-ng produced silence")
    return int(voiced[0] * win), int((voiced[-1] + 1) * win)


def synthesize(lines: Sequence[tuple[str, str, int, str, str]] = LINES) -> tuple[np.ndarray, list[Cue]]:
    """Speak every line with espeak-ng and lay them out with silences between.

    Returns:
        (int16 mono PCM at ``SAMPLE_RATE``, the cues with measured onset/offset times).
    """
    pieces: list[np.ndarray] = [np.zeros(int(LEAD_SECONDS * SAMPLE_RATE), np.int16)]
    cues: list[Cue] = []
    position = len(pieces[0])
    with tempfile.TemporaryDirectory() as tmp:
        for speaker, voice, wpm, text, slide in lines:
            pcm = _espeak(text, voice, wpm, Path(tmp))
            first, last = _voiced_span(pcm)
            pcm = pcm[first:last]
            cues.append(Cue(position / SAMPLE_RATE, (position + len(pcm)) / SAMPLE_RATE, text, speaker, slide))
            gap = np.zeros(int(GAP_SECONDS * SAMPLE_RATE), np.int16)
            pieces += [pcm, gap]
            position += len(pcm) + len(gap)
    return np.concatenate(pieces), cues


# --------------------------------------------------------------------------- muxing


def _slide(cue: Cue | None, index: int) -> np.ndarray:
    width, height = VIDEO_SIZE
    colour = _SLIDE_COLOURS[index % len(_SLIDE_COLOURS)] if cue else (10, 10, 10)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = colour
    title = cue.slide if cue else "videovision"
    cv2.putText(image, title, (12, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
    return image


def _subtitle_payload(codec: str, cue: Cue, order: int) -> bytes:
    if codec == "mov_text":  # 3GPP timed text sample: 16-bit big-endian length, then UTF-8
        text = cue.text.encode()
        return struct.pack(">H", len(text)) + text
    if codec == "ass":  # Matroska ASS block: ReadOrder, Layer, Style, Name, margins, Effect, Text
        return f"{order},0,Default,{cue.speaker},0,0,0,,{{\\i1}}{cue.text}{{\\i0}}".encode()
    if codec == "webvtt":
        return f"<v {cue.speaker}><b>{cue.text}</b>".encode()
    return f"<i>{cue.text}</i>".encode()  # subrip


def write_talk(
    path: str | Path,
    pcm: np.ndarray,
    cues: Sequence[Cue],
    *,
    video_start: float = 0.0,
    audio_start: float = 0.0,
    subtitle_codecs: Sequence[tuple[str, str]] = (("mov_text", "eng"),),
    default_subtitle: int = 0,
    video: bool = True,
) -> None:
    """Mux a talk: slides, the PCM as AAC, and subtitle tracks.

    Cue times are seconds from the first video frame. ``video_start`` / ``audio_start`` are the
    streams' first timestamps in the container (so audio at container time T plays at
    ``T - video_start`` on the video timeline); subtitle packets are placed on the container
    timeline accordingly.

    Args:
        path: ``.mp4`` (mov_text only) or ``.mkv``.
        pcm: int16 mono at ``SAMPLE_RATE``; sample 0 plays at container time ``audio_start``.
        cues: the lines, times on the video timeline.
        video_start: container time of the first video frame, seconds.
        audio_start: container time of the first audio sample, seconds.
        subtitle_codecs: (codec, ISO 639-2 language) per subtitle track, codecs from ``SUBTITLE_CODECS``.
        default_subtitle: index of the track flagged default (-1: none).
        video: False writes an audio-only file (no slides).
    """
    duration = max(audio_start + len(pcm) / SAMPLE_RATE, video_start + (cues[-1].end if cues else 0.0)) - video_start
    with av.open(str(path), "w") as out:
        vstream = None
        if video:
            vstream = out.add_stream("libx264", rate=VIDEO_FPS, options={"crf": "30", "g": "50"})
            vstream.width, vstream.height = VIDEO_SIZE
            vstream.pix_fmt = "yuv420p"
            vstream.codec_context.time_base = Fraction(1, VIDEO_FPS * 100)
        astream = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        astream.bit_rate = AUDIO_BITRATE
        sstreams = []
        for i, (codec, language) in enumerate(subtitle_codecs):
            sstream = out.add_stream(codec)
            sstream.codec_context.subtitle_header = _ASS_HEADER.encode()
            sstream.metadata["language"] = language
            sstream.disposition = av.stream.Disposition.default if i == default_subtitle else av.stream.Disposition(0)
            sstreams.append(sstream)
        if vstream is not None:
            _write_slides(out, vstream, cues, duration, video_start)
        _write_audio(out, astream, pcm, audio_start)
        for sstream, (codec, _) in zip(sstreams, subtitle_codecs):
            for order, cue in enumerate(cues):
                packet = av.Packet(_subtitle_payload(codec, cue, order))
                packet.stream = sstream
                packet.time_base = Fraction(1, 1000)
                packet.pts = packet.dts = round((cue.start + video_start) * 1000)
                packet.duration = round((cue.end - cue.start) * 1000)
                out.mux(packet)


def _write_slides(out, vstream, cues: Sequence[Cue], duration: float, video_start: float) -> None:
    count = int(np.ceil(duration * VIDEO_FPS))
    time_base = vstream.codec_context.time_base  # the muxer may change vstream.time_base once it starts
    ticks = int(1 / time_base / VIDEO_FPS)
    offset = round(video_start / time_base)
    for i in range(count):
        t = i / VIDEO_FPS
        current = [k for k, cue in enumerate(cues) if cue.start - 0.2 <= t]
        index = current[-1] if current else -1
        frame = av.VideoFrame.from_ndarray(_slide(cues[index] if index >= 0 else None, index), format="rgb24")
        frame.pts = offset + i * ticks
        frame.time_base = time_base
        for packet in vstream.encode(frame):
            out.mux(packet)
    for packet in vstream.encode():
        out.mux(packet)


def _write_audio(out, astream, pcm: np.ndarray, audio_start: float) -> None:
    block = 1024
    offset = round(audio_start * SAMPLE_RATE)
    for begin in range(0, len(pcm), block):
        frame = av.AudioFrame.from_ndarray(pcm[begin : begin + block].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = offset + begin
        frame.time_base = Fraction(1, SAMPLE_RATE)
        for packet in astream.encode(frame):
            out.mux(packet)
    for packet in astream.encode():
        out.mux(packet)


def write_sidecar(path: str | Path, cues: Sequence[Cue], *, speakers: bool = False) -> None:
    """Write the cues as a subtitle file (format from the extension: .srt, .vtt, .ass ...) with pysubs2.

    Args:
        path: the file to write.
        cues: the lines (times on the video timeline).
        speakers: put each cue's speaker in the ASS Name field (kept by .ass/.ssa only).
    """
    subs = pysubs2.SSAFile()
    for cue in cues:
        subs.append(
            pysubs2.SSAEvent(
                start=round(cue.start * 1000), end=round(cue.end * 1000), text=cue.text, name=cue.speaker if speakers else ""
            )
        )
    subs.save(str(path))


def write_tone_clip(
    path: str | Path,
    *,
    duration: float,
    tones: Sequence[float],
    tone_seconds: float = 0.3,
    rate: int = 48000,
    channels: int = 2,
    video_start: float = 0.0,
    audio_start: float = 0.0,
    video: bool = True,
    fps: int = 1,
) -> None:
    """A clip with beeps at known times: ``tones`` are seconds from the first video frame.

    Args:
        path: ``.mp4`` / ``.mkv`` / ``.m4a`` ...
        duration: seconds of audio (and of video).
        tones: beep start times on the video timeline.
        tone_seconds: length of each beep.
        rate: audio sample rate.
        channels: 1 or 2.
        video_start: container time of the first video frame.
        audio_start: container time of the first audio sample.
        video: False writes audio only.
        fps: video frame rate (a 64x64 black picture).
    """
    layout = "stereo" if channels == 2 else "mono"
    rng = np.random.default_rng(0)
    ordered = sorted(tones)
    with av.open(str(path), "w") as out:
        vstream = None
        if video:
            vstream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
            vstream.width, vstream.height, vstream.pix_fmt = 64, 64, "yuv420p"
            vstream.codec_context.time_base = Fraction(1, 1000)
        astream = out.add_stream("aac", rate=rate, layout=layout)
        if vstream is not None:
            black = np.zeros((64, 64, 3), np.uint8)
            for i in range(int(np.ceil(duration * fps))):
                frame = av.VideoFrame.from_ndarray(black, format="rgb24")
                frame.pts = round((video_start + i / fps) * 1000)
                frame.time_base = Fraction(1, 1000)
                for packet in vstream.encode(frame):
                    out.mux(packet)
            for packet in vstream.encode():
                out.mux(packet)
        block = 4096
        total = int(duration * rate)
        offset = audio_start - video_start  # audio sample 0 on the video timeline
        for begin in range(0, total, block):
            count = min(block, total - begin)
            t = offset + (begin + np.arange(count)) / rate
            signal = rng.normal(0.0, 0.003, count).astype(np.float32)
            low = bisect.bisect_left(ordered, t[0] - tone_seconds)
            for t0 in ordered[low:]:
                if t0 > t[-1]:
                    break
                mask = (t >= t0) & (t < t0 + tone_seconds)
                signal[mask] += 0.5 * np.sin(2 * np.pi * 1000 * (t[mask] - t0)).astype(np.float32)
            planes = np.repeat(signal[None, :], channels, axis=0)
            frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = round(audio_start * rate) + begin
            frame.time_base = Fraction(1, rate)
            for packet in astream.encode(frame):
                out.mux(packet)
        for packet in astream.encode():
            out.mux(packet)


def load_ground_truth(path: str | Path = SAMPLES_DIR / "talk.mp4") -> tuple[dict, list[Cue]]:
    """(the ground truth JSON next to a talk file, its cues)."""
    data = json.loads(Path(f"{path}.json").read_text())
    return data, [Cue(**line) for line in data["lines"]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="output directory (default: samples/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pcm, cues = synthesize()
    cues = [replace(c, start=round(c.start, 4), end=round(c.end, 4)) for c in cues]
    video_path = args.out / "talk.mp4"
    write_talk(video_path, pcm, cues)
    write_sidecar(args.out / "talk.srt", cues)
    truth = {
        "name": "talk",
        "file": video_path.name,
        "sample_rate": SAMPLE_RATE,
        "duration": len(pcm) / SAMPLE_RATE,
        "video_start": 0.0,
        "audio_start": 0.0,
        "subtitles": [{"codec": "mov_text", "language": "eng", "default": True}],
        "sidecar": "talk.srt",
        "lines": [asdict(c) for c in cues],
    }
    Path(f"{video_path}.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"wrote {video_path} ({video_path.stat().st_size} bytes), talk.srt, talk.mp4.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
