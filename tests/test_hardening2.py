"""Fault cases of the second hardening round (issue 20), end to end through the command line: an
output never overwrites an input, model text cannot drive the terminal, a paid reply with a lone
surrogate is kept, parsing is linear, retries are capped, malformed URLs are one line.

Each test runs the CLI against the loopback server (tests/fakeserver.py), like tests/test_hardening.py.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import warnings
from pathlib import Path

import pytest

from videovision.cli import main


@pytest.fixture(autouse=True)
def _collect_earlier_garbage():
    """Collect what earlier CLI runs left, so their "unclosed socket" warnings do not land in this
    test's stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def cli(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse refusing an option
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


# --------------------------------------------------------------------------- output == input


@pytest.fixture
def own_video(cut_clip, tmp_path) -> Path:
    """A private copy of the clip: a test that fails must not destroy the session's clip."""
    video = tmp_path / "video.mp4"
    shutil.copyfile(cut_clip[0], video)
    return video


def _alias(video: Path, how: str) -> Path:
    if how == "same":
        return video
    alias = video.with_name(f"alias-{how}.mp4")
    (os.link if how == "hardlink" else os.symlink)(video, alias)
    return alias


OUTPUT_ONTO_VIDEO = {
    "plan --request-json": lambda v, o: ["plan", v, "--request-json", o],
    "summarize --report": lambda v, o: ["summarize", v, "--report", o],
    "ask --report": lambda v, o: ["ask", v, "what?", "--report", o],
    "chapters --output": lambda v, o: ["chapters", v, "-o", o],
    "chapters --report": lambda v, o: ["chapters", v, "--format", "vtt", "--report", o],
    "transcript --output": lambda v, o: ["transcript", v, "-o", o],
    "frames --out": lambda v, o: ["frames", v, "--out", o],
}


@pytest.mark.parametrize("how", ["same", "hardlink", "symlink"])
@pytest.mark.parametrize("command", sorted(OUTPUT_ONTO_VIDEO))
def test_an_output_onto_the_video_is_refused_before_anything_is_written(own_video, api_env, capsys, command, how):
    before = own_video.read_bytes()
    out = _alias(own_video, how)
    code, stdout, err = cli(capsys, *OUTPUT_ONTO_VIDEO[command](own_video, out))
    assert code == 2 and one_line(err), err
    assert "itself" in err and "choose another" in err
    assert own_video.read_bytes() == before
    assert out.is_symlink() == (how == "symlink")
    assert api_env.chat_requests == [] and stdout == ""
    assert sorted(p.name for p in own_video.parent.iterdir()) == sorted({own_video.name, out.name})  # no temp file


def test_an_output_onto_the_subtitles_is_refused(own_video, api_env, capsys, tmp_path):
    subtitles = tmp_path / "video.srt"
    subtitles.write_text("1\n00:00:00,500 --> 00:00:02,000\nhello\n")
    code, _, err = cli(capsys, "transcript", own_video, "--subtitles", subtitles, "-o", subtitles)
    assert code == 2 and one_line(err) and "--subtitles" in err, err
    assert subtitles.read_text().endswith("hello\n")


def test_report_onto_the_runs_video_is_refused(own_video, api_env, capsys):
    code, _, err = cli(capsys, "summarize", own_video)
    assert code == 0, err
    before = own_video.read_bytes()
    code, _, err = cli(capsys, "report", "-o", own_video)
    assert code == 2 and one_line(err) and "itself" in err, err
    assert own_video.read_bytes() == before


def test_batch_out_onto_an_input_is_refused(own_video, api_env, capsys):
    before = own_video.read_bytes()
    code, _, err = cli(capsys, "batch", own_video, "--out", own_video)
    assert code == 2 and one_line(err) and "itself" in err, err
    assert own_video.read_bytes() == before


# --------------------------------------------------------------------------- model text on a terminal

HOSTILE = ("\x1b]52;c;aGk=\x07clipboard \x1b[2Jwiped \x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\ "
           "over\rwritten \x9b31mred\x7f")
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x9b", "\x7f")


def raw_controls(text: str) -> list[str]:
    return [c for c in RAW_CONTROLS if c in text]


def strings(data) -> list[str]:
    if isinstance(data, str):
        return [data]
    items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    return [s for item in items for s in strings(item)]


def hostile_responder(body: dict) -> str:
    from fakeserver import default_responder

    fmt = (body.get("response_format") or {}).get("json_schema", {}).get("name")
    if fmt == "video_chapters":
        return json.dumps({"chapters": [
            {"start": "00:00:00", "title": "Intro " + HOSTILE + "\n\nchapter-9\n00:00:01.000 --> 00:00:02.000\nforged",
             "summary": "a --> b\n\nforged cue"},
            {"start": "00:00:03", "title": "Second\n0:04 Forged YouTube line", "summary": ""}]})
    if fmt == "video_answers":
        return json.dumps({"answers": [{"answer": "Seen at [00:00:01.0] " + HOSTILE, "moments": []}]})
    return default_responder(body) + " " + HOSTILE


@pytest.mark.parametrize("command", [["summarize"], ["summarize", "--markdown"], ["ask", "what is shown?"],
                                     ["chapters"], ["chapters", "--format", "youtube"],
                                     ["chapters", "--format", "vtt"]])
def test_model_text_cannot_drive_the_terminal(cut_clip, api_env, capsys, command):
    api_env.responder = hostile_responder
    code, out, err = cli(capsys, command[0], cut_clip[0], *command[1:])
    assert code == 0, err
    assert raw_controls(out + err) == [], out
    assert "\\x1b]52;c;aGk=" in out  # shown, escaped, not dropped
    assert "\\x0dwritten" in out or command[0] == "chapters"  # (a title folds its \r into a space)


@pytest.mark.parametrize("command", ["summarize", "ask", "chapters"])
def test_model_text_in_json_output_is_valid_and_carries_no_raw_control(cut_clip, api_env, capsys, command):
    api_env.responder = hostile_responder
    code, out, err = cli(capsys, command, cut_clip[0], *(["what?"] if command == "ask" else []), "--json")
    assert code == 0, err
    assert raw_controls(out) == []
    assert any("\x1b]52;c;aGk=" in s for s in strings(json.loads(out)))  # the reply, intact


def test_a_streamed_summary_cannot_drive_the_terminal(cut_clip, api_env):
    from terminal import run_on_a_terminal

    api_env.responder = hostile_responder
    code, out, err = run_on_a_terminal(["summarize", str(cut_clip[0])])
    assert code == 0, err
    assert api_env.last_body.get("stream") is True
    assert raw_controls(out.replace("\r\n", "\n")) == [], repr(out)
    assert "\\x1b[2Jwiped" in out


def test_chat_answers_cannot_drive_the_terminal(cut_clip, api_env, capsys, monkeypatch):
    import io

    api_env.responder = hostile_responder
    monkeypatch.setattr("sys.stdin", io.StringIO("what is shown?\n"))
    code, out, err = cli(capsys, "chat", cut_clip[0])
    assert code == 0, err
    assert raw_controls(out + err) == [] and "\\x1b]52" in out


def test_chapter_titles_stay_single_line_and_cues_cannot_be_forged(cut_clip, api_env, capsys):
    api_env.responder = hostile_responder
    code, out, err = cli(capsys, "chapters", cut_clip[0], "--format", "vtt")
    assert code == 0, err
    assert out.count("-->") == 2  # the two timing lines, nothing forged
    blocks = out.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == ["WEBVTT", "chapter-1", "chapter-2"]
    assert "chapter-9 00:00:01.000 -> 00:00:02.000 forged" in blocks[1]
    code, out, err = cli(capsys, "chapters", cut_clip[0], "--format", "youtube")
    assert code == 0, err
    assert [line.split(" ", 1)[0] for line in out.splitlines()] == ["0:00"]  # merged (< 10 s), never forged
    code, out, err = cli(capsys, "chapters", cut_clip[0], "--json")
    assert all("\n" not in c["title"] for c in json.loads(out)["chapters"])


def test_transcript_lines_cannot_drive_the_terminal_nor_forge_cues(own_video, api_env, capsys, tmp_path):
    subtitles = tmp_path / "video.srt"
    subtitles.write_text("1\n00:00:00,500 --> 00:00:02,000\nhello \x1b[2Jwiped --> there\n\n"
                         "2\n00:00:02,500 --> 00:00:04,000\nbye\x1b]52;c;aGk=\x07\n", encoding="utf-8")
    code, out, err = cli(capsys, "transcript", own_video, "--subtitles", subtitles)
    assert code == 0, err
    assert raw_controls(out + err) == [] and "\\x1b[2Jwiped" in out
    for fmt in ("srt", "vtt"):
        code, out, err = cli(capsys, "transcript", own_video, "--subtitles", subtitles, "--format", fmt)
        assert code == 0, err
        assert out.count("-->") == 2 and "wiped -> there" in out, out


def test_search_hits_cannot_drive_the_terminal(own_video, api_env, capsys, tmp_path):
    api_env.responder = hostile_responder
    out_dir = tmp_path / "out"
    code, _, err = cli(capsys, "batch", own_video, "--out", out_dir, "--jobs", "1")
    assert code == 0, err
    code, out, err = cli(capsys, "search", "clipboard", "--index", out_dir)
    assert code == 0, err
    assert out.strip() and raw_controls(out + err) == []
    code, out, err = cli(capsys, "search", "clipboard", "--index", out_dir, "--json")
    assert code == 0 and raw_controls(out) == [] and json.loads(out)["hits"]


# --------------------------------------------------------------------------- a paid reply with a lone surrogate

def surrogate_responder(body: dict) -> str:
    from fakeserver import default_responder

    return default_responder(body) + " Odd byte: \udcff."  # sent as the JSON escape "\udcff": valid JSON


def test_a_reply_with_a_lone_surrogate_is_shown_and_cached(cut_clip, api_env, capsys):
    api_env.responder = surrogate_responder
    code, out, err = cli(capsys, "summarize", cut_clip[0])
    assert code == 0 and "internal error" not in err, err
    assert "Odd byte: \ufffd." in out
    sent = len(api_env.chat_requests)
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--json")  # from the cache: not paid again
    assert code == 0, err
    assert len(api_env.chat_requests) == sent
    assert json.loads(out)["summary"].endswith("Odd byte: \ufffd.") and json.loads(out)["cache_hits"] == 1


def test_a_streamed_reply_with_a_lone_surrogate_is_shown(cut_clip, api_env):
    from terminal import run_on_a_terminal

    api_env.responder = surrogate_responder
    code, out, err = run_on_a_terminal(["summarize", str(cut_clip[0])])
    assert code == 0, err
    assert "Odd byte: \ufffd." in out


def test_a_reply_with_a_lone_surrogate_lands_in_the_batch_output(own_video, api_env, capsys, tmp_path):
    api_env.responder = surrogate_responder
    out_dir = tmp_path / "out"
    code, _, err = cli(capsys, "batch", own_video, "--out", out_dir, "--jobs", "1", "--report")
    assert code == 0 and "Error" not in err, err
    result = json.loads((out_dir / "video.mp4.json").read_text(encoding="utf-8"))
    assert result["summary"].endswith("Odd byte: \ufffd.")
    assert "\ufffd" in (out_dir / "video.mp4.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- bounds: retries


@pytest.mark.parametrize("command", [["summarize"], ["ask", "what?"], ["chapters"], ["transcript"], ["chat"]])
def test_max_retries_is_capped_at_ten(cut_clip, api_env, capsys, command):
    code, out, err = cli(capsys, command[0], cut_clip[0], *command[1:], "--max-retries", "1000000")
    assert code == 2 and one_line(err), err
    assert "--max-retries" in err and "at most 10" in err
    assert api_env.chat_requests == [] and out == ""


def test_max_retries_of_ten_is_accepted(cut_clip, api_env, capsys):
    code, _, err = cli(capsys, "summarize", cut_clip[0], "--max-retries", "10")
    assert code == 0, err


def test_the_library_caps_max_retries_too():
    from videovision import defaults
    from videovision.endpoint import ClientConfig
    from videovision.errors import ConfigError

    assert ClientConfig(max_retries=defaults.MAX_RETRIES_CAP).max_retries == 10
    with pytest.raises(ConfigError, match="at most 10"):
        ClientConfig(max_retries=11)


# --------------------------------------------------------------------------- malformed URLs, credentials


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/x.mp4", "http://[::1:80/x.mp4", "http://127.0.0.1:abc/x.mp4",
                                 "http://user:PASS@127.0.0.1:99999/x.mp4", "http://user:PASS@[::1:80/x.mp4",
                                 "https://user:PASS@127.0.0.1:port/x.mp4?sig=SECRET", "http:///x.mp4"])
def test_a_malformed_video_url_is_one_line_exit_2(api_env, capsys, url):
    code, out, err = cli(capsys, "summarize", url)
    assert code == 2 and one_line(err), err
    assert "internal error" not in err and "not a valid URL" in err
    assert "PASS" not in out + err and "SECRET" not in out + err
    assert api_env.chat_requests == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://[::1:80/v1", "http://user:PASS@127.0.0.1:99999/v1"])
def test_a_malformed_base_url_is_one_line_exit_2(cut_clip, api_env, capsys, url):
    code, out, err = cli(capsys, "summarize", cut_clip[0], "--base-url", url)
    assert code == 2 and one_line(err) and "internal error" not in err, err
    assert "PASS" not in out + err


@pytest.fixture
def files():
    from test_remote import Files

    server = Files(Path(__file__).resolve().parents[1].joinpath("samples", "demo.mp4").read_bytes())
    yield server
    server.close()


def test_a_video_url_with_credentials_is_fetched_and_the_password_never_shown(files, api_env, capsys):
    with_password = files.url.replace("http://", "http://user:PASS%21@")
    code, out, err = cli(capsys, "plan", with_password)
    assert code == 0, err
    assert "PASS" not in out + err and len(files.gets) == 1
    code, out, err = cli(capsys, "plan", with_password.replace("demo.mp4", "nothing.mp4") + "?sig=SECRET")
    assert code == 3 and one_line(err) and "404" in err, err
    assert "PASS" not in err and "SECRET" not in err
    code, out, err = cli(capsys, "plan", "http://user:PASS@127.0.0.1:9/x.mp4")
    assert code == 3 and one_line(err) and "cannot be reached" in err and "PASS" not in err, err


def test_a_url_given_to_batch_is_one_line_without_its_password(api_env, capsys, tmp_path):
    code, out, err = cli(capsys, "batch", "http://user:PASS@127.0.0.1:99999/x.mp4?sig=SECRET", "--out", tmp_path)
    assert code == 2 and one_line(err) and "not URLs" in err, err
    assert "PASS" not in err and "SECRET" not in err


def test_a_streamed_crlf_split_between_pieces_is_one_newline():
    import io

    from videovision.console import StreamedText

    shown = io.StringIO()
    writer = StreamedText(shown)
    for piece in ["one\r", "\ntwo\r", "three\x1b[2J", "\r"]:
        writer.write(piece)
    writer.close()
    assert shown.getvalue() == "one\ntwo\\x0dthree\\x1b[2J\\x0d"
