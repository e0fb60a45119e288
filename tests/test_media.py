"""One opener of input media (videovision/media.py): no other module opens a file for reading with
PyAV, and a bad file reads the same — class, exit code and words — through every entry."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from media import make_clip, make_not_a_video

from videovision import VideoOpenError, probe
from videovision.cli import main
from videovision.clips import cut_clip
from videovision.speech import audio_digest, iter_audio_chunks, probe_audio, read_subtitles

PACKAGE = Path(__file__).resolve().parent.parent / "videovision"
OPENER = PACKAGE / "media.py"


def _reads(call: ast.Call) -> bool:
    """True for ``av.open(...)`` calls in read mode (no mode given, or ``"r"``)."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "open"
            and isinstance(func.value, ast.Name) and func.value.id == "av"):
        return False
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    if mode is None:
        return True
    return not (isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "w" in mode.value)


def test_only_the_opener_opens_media_for_reading():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "av" and any(a.name == "open" for a in node.names):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: from av import open")
            if isinstance(node, ast.Call) and _reads(node) and path != OPENER:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, f"open input media with videovision.media.open_input: {offenders}"


def test_the_scan_sees_reads_and_not_writes():
    calls = [ast.parse(text).body[0].value for text in (  # type: ignore[attr-defined]
        'av.open(p)', 'av.open(str(p), mode="r")', 'av.open(p, "r")', 'av.open(p, "w")', 'av.open(p, mode="w", format="mp4")')]
    assert [_reads(c) for c in calls] == [True, True, True, False, False]


def _entries(path: Path, tmp_path: Path) -> dict[str, object]:
    """What each entry raised for ``path``: probing, the speech readers, cutting a clip."""
    raised: dict[str, object] = {}
    entries = {
        "probe": lambda: probe(path),
        "probe_audio": lambda: probe_audio(path),
        "audio_digest": lambda: audio_digest(path),
        "audio_chunks": lambda: list(iter_audio_chunks(path, tmp_path / "chunks")),
        "subtitles": lambda: read_subtitles(path),
        "clip": lambda: cut_clip(path, 0.0, 1.0, tmp_path / "clip.mp4"),
    }
    for name, call in entries.items():
        try:
            call()
        except Exception as err:
            raised[name] = err
        else:
            raised[name] = None
    return raised


@pytest.fixture(params=["garbage", "truncated", "empty", "missing", "directory", "fifo"])
def bad_file(request, tmp_path) -> Path:
    path = tmp_path / "in" / "bad.mp4"
    path.parent.mkdir()
    kind = request.param
    if kind == "garbage":
        make_not_a_video(path)
    elif kind == "truncated":  # an MP4 cut in half: its index (moov, at the end) is gone
        make_clip(path, duration=2.0, truncate_fraction=0.5)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no named pipes here")
        os.mkfifo(path)  # opening it for reading would block: it must be refused first
    return path


def test_a_bad_file_reads_the_same_through_every_entry(bad_file, tmp_path):
    raised = _entries(bad_file, tmp_path)
    assert all(isinstance(err, VideoOpenError) for err in raised.values()), raised
    messages = {str(err) for err in raised.values()}
    assert len(messages) == 1, raised
    (message,) = messages
    assert message.startswith(f"{bad_file}: ") and "\n" not in message
    assert not (tmp_path / "clip.mp4").exists()


def test_the_words_say_what_is_wrong(tmp_path):
    garbage, truncated = tmp_path / "notes.mp4", tmp_path / "cut.mp4"
    make_not_a_video(garbage)
    make_clip(truncated, duration=2.0, truncate_fraction=0.5)
    for path in (garbage, truncated):
        with pytest.raises(VideoOpenError, match="not a video file FFmpeg can read, or a truncated download"):
            probe_audio(path)
    with pytest.raises(VideoOpenError, match="is a directory"):
        read_subtitles(tmp_path)


@pytest.mark.parametrize("command", [["frames", "--out", "{tmp}/f"], ["transcript"], ["clip", "--at", "0:01", "--out", "{tmp}/c.mp4"]])
def test_the_commands_give_one_line_and_exit_code_3(command, tmp_path, capsys):
    bad = tmp_path / "notes.mp4"
    make_not_a_video(bad)
    argv = [command[0], str(bad), *(a.format(tmp=tmp_path) for a in command[1:])]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == VideoOpenError.exit_code == 3
    assert err.strip().splitlines() == [err.strip()] and "not a video file FFmpeg can read" in err, err


def _count_opens(monkeypatch):
    import av as av_module

    opened: list[str] = []
    real = av_module.open

    def counting(file, *args, **kwargs):
        if kwargs.get("mode", args[0] if args else "r") == "r":
            opened.append(os.fspath(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(av_module, "open", counting)
    return opened


def test_probing_a_video_opens_it_once(tmp_path, monkeypatch):
    """The packet index, the first frame (coded size, rotation) and the stream list come from one
    opening (each opening probes the video by decoding: ~0.2 s on a 4K file)."""
    clip = tmp_path / "clip.mp4"
    make_clip(clip, duration=1.0, audio=True)
    opened = _count_opens(monkeypatch)
    info = probe(clip)
    assert info.has_audio and info.coded_width == 160
    assert opened == [os.fspath(clip)]


def test_speech_questions_about_a_file_already_opened_need_no_second_opening(tmp_path, monkeypatch):
    clip = tmp_path / "clip.mp4"
    make_clip(clip, duration=1.0)
    probe(clip)
    opened = _count_opens(monkeypatch)
    assert probe_audio(clip) is None and read_subtitles(clip) is None
    assert opened == []
    # the file changed since: it is opened again, and its audio is found
    make_clip(clip, duration=1.5, audio=True)
    assert probe_audio(clip) is not None and opened == [os.fspath(clip)]
