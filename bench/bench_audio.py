"""Audio extraction and transcription benchmark (issues 10, 24): ratios against baselines measured in the same run.

    python bench/bench_audio.py [--minutes 60] [--short-minutes 10] [--repeats 3] [--delay 2.0] [--concurrency 4]

Generates (once, into bench/media/) a 60-minute and a 10-minute clip: a 64x64 1 fps video and
48 kHz stereo AAC audio with 1 kHz beeps at known times over faint noise (samples/make_talk.py
``write_tone_clip``; about 2 minutes for the hour). Then, with the load average printed before and
after (the machine is shared: compare the ratios, not the seconds):

  extraction + chunking, 60 min (iter_audio_chunks: default format, Opus in Ogg 24 kb/s, 600 s chunks)
        vs the ffmpeg CLI writing the same kind of output, one Ogg Opus file with our encoder
        settings (-vn -ac 1 -ar 16000 -c:a libopus -b:a 24k -compression_level 0 -frame_duration 60)
                                                                                   target <= 1.0x
        vs the ffmpeg CLI -vn -ac 1 -ar 16000 -b:a 32k to one MP3 (the issue-10 baseline)
                                                                                   target <= 1.0x
        median of --repeats runs, ours and the CLI interleaved; wall and CPU seconds both printed
        (needs the ffmpeg CLI: apt-get install -y ffmpeg; skipped without it)
  our MP3 path (audio_format="mp3") vs the same MP3 baseline, and the reason it is slower: the same
        16 kHz PCM encoded by the wheel's libmp3lame (PyAV) and by the system's (ffmpeg CLI), CPU s
  a plain PyAV transcode to one Ogg Opus file (decode, resample, encode; one thread, frames as
        they come): the same FFmpeg libraries as ours, so it separates our pipeline from the build
  where the CPU goes, ours vs the CLI, each half alone (CPU s, median of --repeats, interleaved):
        decoding + resampling to 16 kHz mono s16 (our libavfilter graph vs the CLI to s16le, discarded)
        and encoding the same 16 kHz PCM to Ogg Opus at our settings (PyAV in 4 s frames, as ours vs the CLI
        reading the raw PCM); the CLI's rows include its start-up (about 0.1 s)
  peak memory (VmHWM of a child process), extraction of 60 min vs 10 min         target < 50 MB difference
  chunk times: every beep found in the decoded chunks vs its known time          target max error <= 20 ms
  transcription of the 60 min chunks, concurrency 4 vs 1, against the loopback
        server answering each chunk after --delay seconds                         target <= 0.35x serial
        (end-to-end transcribe_media, extraction included, is printed too)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "bench" / "media"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

BEEP_EVERY = 37.3
"""Seconds between beeps (not a divisor of the chunk length, so cuts meet beeps at many phases)."""
TARGET_SPEED = 1.0
TARGET_MEMORY_MB = 50.0
TARGET_TIME_ERROR = 0.020
TARGET_CONCURRENCY = 0.35


def _make_talk():
    spec = importlib.util.spec_from_file_location("make_talk", ROOT / "samples" / "make_talk.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_talk", module)
    spec.loader.exec_module(module)
    return module


def beeps(minutes: float) -> list[float]:
    return [1.0 + i * BEEP_EVERY for i in range(int((minutes * 60 - 2) / BEEP_EVERY) + 1)]


def ensure_clip(minutes: float) -> Path:
    path = MEDIA / f"beeps_{minutes:g}min.mp4"
    if not path.exists():
        MEDIA.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} ...", flush=True)
        started = time.monotonic()
        partial = path.with_suffix(".part.mp4")
        _make_talk().write_tone_clip(partial, duration=minutes * 60, tones=beeps(minutes))
        partial.rename(path)
        print(f"  {time.monotonic() - started:.0f} s", flush=True)
    return path


OPUS_ARGS = ["-c:a", "libopus", "-b:a", "24k", "-compression_level", "0", "-frame_duration", "60"]
"""The ffmpeg CLI's Opus settings: ours (speech/audio.py ``_ENCODER_OPTIONS`` and ``DEFAULT_BITRATES``)."""
MP3_ARGS = ["-b:a", "32k"]
"""The issue-10 baseline: LAME at the CLI's default quality, 32 kb/s."""

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from videovision.speech import iter_audio_chunks
started, cpu = time.monotonic(), time.process_time()
chunks = [(c.start, c.end, str(c.path), c.size) for c in iter_audio_chunks({clip!r}, {out!r}, **{kwargs!r})]
seconds, cpu = time.monotonic() - started, time.process_time() - cpu
hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0].split()[1]
print(json.dumps({{"seconds": seconds, "cpu": cpu, "peak_mb": int(hwm) / 1024, "chunks": chunks}}))
"""


def extract_in_child(clip: Path, out: Path, **kwargs) -> dict:
    """Our extraction in a fresh process: wall time, CPU time (all threads), peak RSS, the chunks."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    code = CHILD.format(root=str(ROOT), clip=str(clip), out=str(out), kwargs=kwargs)
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_cli(args: list[str]) -> tuple[float, float]:
    """(wall, CPU seconds) of one ffmpeg CLI run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(args, check=True)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ffmpeg_extract(ffmpeg: str, clip: Path, out: Path, codec_args: list[str], suffix: str) -> tuple[float, float]:
    """(wall, CPU seconds) of the ffmpeg CLI making one mono 16 kHz file from the clip."""
    return run_cli([ffmpeg, "-v", "error", "-y", "-i", str(clip), "-vn", "-ac", "1", "-ar", "16000", *codec_args, str(out / f"ffmpeg.{suffix}")])


def lame_encoders(ffmpeg: str, clip: Path, out: Path) -> tuple[float, float]:
    """CPU seconds to encode the same 16 kHz mono PCM to MP3 at our settings (LAME quality 7,
    32 kb/s): (the wheel's libmp3lame through PyAV, the system's through the ffmpeg CLI)."""
    import av
    import numpy as np

    raw = out / "pcm.raw"
    run_cli([ffmpeg, "-v", "error", "-y", "-i", str(clip), "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", str(raw)])
    pcm = np.fromfile(raw, np.int16)
    cpu = time.process_time()
    with av.open(str(out / "wheel.mp3"), "w") as sink:
        stream = sink.add_stream("libmp3lame", rate=16000, layout="mono", options={"compression_level": "7"})
        stream.bit_rate = 32000
        stream.codec_context.format = "s16p"
        for at in range(0, len(pcm), 16000):
            frame = av.AudioFrame.from_ndarray(pcm[at : at + 16000].reshape(1, -1), format="s16p", layout="mono")
            frame.sample_rate, frame.pts = 16000, at
            for packet in stream.encode(frame):
                sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)
    wheel = time.process_time() - cpu
    system = run_cli([ffmpeg, "-v", "error", "-y", "-f", "s16le", "-ar", "16000", "-ac", "1", "-i", str(raw),
                      "-compression_level", "7", "-b:a", "32k", str(out / "system.mp3")])[1]
    raw.unlink()
    return wheel, system


def pyav_baseline(clip: Path, out: Path) -> tuple[float, float]:
    """(wall, CPU seconds) of a plain PyAV transcode to one mono 16 kHz Ogg Opus file at our
    encoder settings: one thread, every decoded frame resampled as it comes."""
    import av

    started, cpu = time.monotonic(), time.process_time()
    with av.open(str(clip)) as source, av.open(str(out / "pyav.ogg"), "w") as sink:
        stream = sink.add_stream("libopus", rate=16000, layout="mono", options={"compression_level": "0", "frame_duration": "60"})
        stream.bit_rate = 24000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        for frame in source.decode(audio=0):
            frame.pts = None
            for out_frame in resampler.resample(frame):
                for packet in stream.encode(out_frame):
                    sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)
    return time.monotonic() - started, time.process_time() - cpu


def decode_split(ffmpeg: str, clip: Path, out: Path) -> tuple[float, float]:
    """CPU seconds to decode and resample the clip's audio to 16 kHz mono s16 and throw it away:
    (our libavfilter graph, speech/audio.py ``_graph_blocks``; the ffmpeg CLI)."""
    import av

    from videovision.speech.audio import _Delivered, _graph_blocks

    cpu = time.process_time()
    with av.open(str(clip)) as container:
        index = container.streams.audio[0].index
    for _block in _graph_blocks(clip, index, 0.0, _Delivered()):
        pass
    ours = time.process_time() - cpu
    system = run_cli([ffmpeg, "-v", "error", "-y", "-i", str(clip), "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", os.devnull])[1]
    return ours, system


def encode_split(ffmpeg: str, raw: Path, out: Path) -> tuple[float, float]:
    """CPU seconds to encode the same 16 kHz mono PCM to Ogg Opus at our settings: (PyAV in 4 s
    frames, as speech/audio.py ``_ChunkWriter`` does; the ffmpeg CLI reading the raw file)."""
    import av
    import numpy as np

    pcm = np.fromfile(raw, np.int16)
    cpu = time.process_time()
    with av.open(str(out / "split.ogg"), "w", format="ogg", container_options={"fflags": "+bitexact"}) as sink:
        stream = sink.add_stream("libopus", rate=16000, layout="mono", options={"compression_level": "0", "frame_duration": "60"})
        stream.bit_rate = 24000
        stream.codec_context.format = "s16"
        for at in range(0, len(pcm), 64000):
            frame = av.AudioFrame.from_ndarray(pcm[at : at + 64000].reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate, frame.pts = 16000, at
            sink.mux(stream.encode(frame))
        sink.mux(stream.encode(None))
    ours = time.process_time() - cpu
    system = run_cli([ffmpeg, "-v", "error", "-y", "-f", "s16le", "-ar", "16000", "-ac", "1", "-i", str(raw), *OPUS_ARGS,
                      str(out / "split-cli.ogg")])[1]
    return ours, system


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """(median wall, median CPU) of (wall, CPU) runs."""
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def load() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def beep_errors(chunks: list, expected: list[float]) -> tuple[int, float]:
    """(beeps found, largest |found - expected|) over the decoded chunks."""
    import numpy as np

    make_talk = sys.modules.get("make_talk") or _make_talk()
    found: list[float] = []
    for start, _end, path, _size in chunks:
        pcm = make_talk.read_pcm(path).astype(np.float32) / 32768
        loud = np.abs(pcm) > 0.1
        for s in np.flatnonzero(loud[1:] & ~loud[:-1]) + 1:
            at = start + s / 16000
            if not found or at - found[-1] > 0.35:
                found.append(at)
    errors = [min(abs(f - e) for e in expected) for f in found]
    return len(found), max(errors) if errors else float("inf")


def transcription(clip: Path, chunks: list, delay: float, concurrency: int) -> dict:
    from fake_audio import install_audio
    from fakeserver import FakeOpenAIServer

    from videovision.client import ClientConfig
    from videovision.speech import AudioChunk, TranscribeOptions, Transcriber, transcribe_media

    pieces = [AudioChunk(i, s, e, Path(p), size, "") for i, (s, e, p, size) in enumerate(chunks)]
    results = {}
    with FakeOpenAIServer(api_key="sk-bench") as server:
        endpoint = install_audio(  # the server costs nothing but the delay
            server, delay=delay, decode=False, responder=lambda upload: [{"start": 0.0, "end": 1.0, "text": "bench"}]
        )
        config = ClientConfig(api_key="sk-bench", base_url=server.base_url, timeout=600)
        for name, workers in (("serial", 1), ("concurrent", concurrency)):
            with Transcriber(config, TranscribeOptions(concurrency=workers)) as transcriber:
                started = time.monotonic()
                result = transcriber.transcribe_chunks(pieces)
                results[name] = time.monotonic() - started
                assert result.complete, result.failures
                started = time.monotonic()
                end_to_end = transcribe_media(clip, transcriber)
                results[f"{name} end-to-end"] = time.monotonic() - started
                assert end_to_end.complete, end_to_end.failures
        results["max_active"] = endpoint.max_active
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--short-minutes", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours and of each CLI baseline (median)")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds the server takes per chunk")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    long_clip, short_clip = ensure_clip(args.minutes), ensure_clip(args.short_minutes)
    ffmpeg = shutil.which("ffmpeg")
    verdicts = []
    print(f"start: {load()} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours_runs, opus_runs, mp3_runs, decode_runs, encode_runs = [], [], [], [], []
        long_run: dict = {}
        raw = work / "split.raw"
        if ffmpeg is not None:  # the PCM both encoders are given in the split
            run_cli([ffmpeg, "-v", "error", "-y", "-i", str(long_clip), "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", str(raw)])
        for _ in range(max(1, args.repeats)):  # interleaved, so load changes hit every side alike
            long_run = extract_in_child(long_clip, work / "long")
            ours_runs.append((long_run["seconds"], long_run["cpu"]))
            if ffmpeg is not None:
                opus_runs.append(ffmpeg_extract(ffmpeg, long_clip, work, OPUS_ARGS, "ogg"))
                mp3_runs.append(ffmpeg_extract(ffmpeg, long_clip, work, MP3_ARGS, "mp3"))
                decode_runs.append(decode_split(ffmpeg, long_clip, work))
                encode_runs.append(encode_split(ffmpeg, raw, work))
        ours, ours_cpu = median(ours_runs)
        print(f"extraction + chunking, {args.minutes:g} min, Ogg Opus 24 kb/s: {ours:.1f} s wall, {ours_cpu:.1f} s CPU "
              f"(median of {len(ours_runs)}), {len(long_run['chunks'])} chunks (largest "
              f"{max(c[3] for c in long_run['chunks']) / 1e6:.1f} MB, {sum(c[3] for c in long_run['chunks']) / 1e6:.1f} MB in all)")
        if ffmpeg is not None:
            for name, runs in (("ffmpeg CLI, same output (Ogg Opus, our settings)", opus_runs),
                               ("ffmpeg CLI -vn -ac 1 -ar 16000 -b:a 32k to MP3", mp3_runs)):
                wall, cpu = median(runs)
                print(f"  vs {name}: {wall:.1f} s wall, {cpu:.1f} s CPU -> ratio {ours / wall:.2f}x wall, "
                      f"{ours_cpu / cpu:.2f}x CPU (target <= {TARGET_SPEED}x)")
                verdicts.append(ours / wall <= TARGET_SPEED)
            (dec_ours, dec_cli), (enc_ours, enc_cli) = median(decode_runs), median(encode_runs)
            print(f"  where the CPU goes (each half alone, CPU s): decoding + resampling {dec_ours:.1f} ours (libavfilter "
                  f"graph) vs {dec_cli:.1f} CLI ({dec_ours / dec_cli:.2f}x); Opus encoding of the same PCM {enc_ours:.1f} "
                  f"ours (PyAV, 4 s frames) vs {enc_cli:.1f} CLI ({enc_ours / enc_cli:.2f}x); sum {dec_ours + enc_ours:.1f} "
                  f"vs {dec_cli + enc_cli:.1f}")
            raw.unlink(missing_ok=True)
            mp3_run = extract_in_child(long_clip, work / "mp3", audio_format="mp3")
            wall, _cpu = median(mp3_runs)
            wheel, system = lame_encoders(ffmpeg, long_clip, work)
            print(f"  our MP3 path (audio_format='mp3'): {mp3_run['seconds']:.1f} s wall, {mp3_run['cpu']:.1f} s CPU -> "
                  f"{mp3_run['seconds'] / wall:.2f}x the MP3 CLI (reported, not a target): encoding the same PCM at "
                  f"LAME quality 7 takes {wheel:.1f} s CPU with the wheel's libmp3lame vs {system:.1f} s with the "
                  f"system's ({wheel / system:.1f}x)")
        else:
            print("  ffmpeg CLI not installed (apt-get install -y ffmpeg): those comparisons are skipped")
        plain = pyav_baseline(long_clip, work)
        print(f"  vs a plain PyAV transcode to one Ogg Opus file: {plain[0]:.1f} s wall, {plain[1]:.1f} s CPU -> "
              f"ratio {ours / plain[0]:.2f}x wall, {ours_cpu / plain[1]:.2f}x CPU")
        print(f"  after the extraction runs: {load()}", flush=True)

        short_run = extract_in_child(short_clip, work / "short")
        delta = long_run["peak_mb"] - short_run["peak_mb"]
        print(f"peak memory: {args.short_minutes:g} min {short_run['peak_mb']:.0f} MB, {args.minutes:g} min "
              f"{long_run['peak_mb']:.0f} MB -> difference {delta:+.1f} MB (target < {TARGET_MEMORY_MB:g} MB)")
        verdicts.append(delta < TARGET_MEMORY_MB)

        expected = beeps(args.minutes)
        found, worst = beep_errors(long_run["chunks"], expected)
        print(f"chunk times: {found}/{len(expected)} beeps found, largest error {worst * 1000:.1f} ms "
              f"(target <= {TARGET_TIME_ERROR * 1000:.0f} ms); chunk starts "
              + ", ".join(f"{c[0]:.2f}" for c in long_run["chunks"]))
        verdicts.append(found == len(expected) and worst <= TARGET_TIME_ERROR)

        times = transcription(long_clip, long_run["chunks"], args.delay, args.concurrency)
        ratio = times["concurrent"] / times["serial"]
        print(f"transcription of {len(long_run['chunks'])} chunks, server {args.delay:g} s per chunk: serial "
              f"{times['serial']:.1f} s, concurrency {args.concurrency} {times['concurrent']:.1f} s "
              f"(max {times['max_active']} at once) -> ratio {ratio:.2f}x (target <= {TARGET_CONCURRENCY}x)")
        print(f"  end-to-end with extraction: serial {times['serial end-to-end']:.1f} s, concurrency "
              f"{args.concurrency} {times['concurrent end-to-end']:.1f} s -> ratio "
              f"{times['concurrent end-to-end'] / times['serial end-to-end']:.2f}x (uploads overlap extraction)")
        verdicts.append(ratio <= TARGET_CONCURRENCY)
    print(f"end: {load()}")
    print("all targets met" if all(verdicts) else f"{verdicts.count(False)} target(s) missed")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
