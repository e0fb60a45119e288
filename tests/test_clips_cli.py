"""`videovision clip` and `ask --clips DIR` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import av

from videovision.cli import main


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def decoded_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(f.pts * stream.time_base) for f in container.decode(stream)]
    return times[-1] - times[0]


def test_clip_writes_a_playable_mp4_of_the_window(cut_clip, capsys, tmp_path):
    out = tmp_path / "moment.mp4"
    code, stdout, err = cli(capsys, "clip", cut_clip[0], "--at", "3", "--before", "1", "--after", "2", "-o", out, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["path"] == str(out) and 2.0 <= data["start"] <= 2.01 and abs(data["end"] - 5.0) < 0.05
    assert abs(decoded_seconds(out) - 3.0) < 0.1
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_clip_outside_the_video_is_one_line(cut_clip, capsys, tmp_path):
    code, _, err = cli(capsys, "clip", cut_clip[0], "--at", "99", "-o", tmp_path / "x.mp4")
    assert code == 2 and "--at" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.mp4").exists()


def test_ask_clips_writes_one_clip_per_cited_moment(cut_clip, api_env, capsys, tmp_path):
    folder = tmp_path / "clips"
    code, out, err = cli(capsys, "ask", cut_clip[0], "When does it change?", "--json", "--no-refine", "--clips",
                         folder, "--clip-before", "0.5", "--clip-after", "1")
    assert code == 0, err
    data = json.loads(out)
    cited = [m["time"] for m in data["moments"]]
    assert [c["time"] for c in data["clips"]] == cited and cited
    for clip in data["clips"]:
        assert Path(clip["path"]).parent == folder and Path(clip["path"]).is_file()
        assert clip["start"] <= clip["time"] + 0.05
    assert err.count("clip [") == len(cited)


def test_ask_clips_into_a_file_is_refused_before_any_request(cut_clip, api_env, capsys, tmp_path):
    not_a_folder = tmp_path / "f"
    not_a_folder.write_text("x")
    code, _, err = cli(capsys, "ask", cut_clip[0], "When?", "--clips", not_a_folder)
    assert code == 2 and "not a folder" in err and api_env.chat_requests == []
