"""videovision.batch: finding videos, unique outputs, one bad file among good ones, resuming,
retrying failures, the total cost cap, the transcript task, and the search index kept in step.

End to end against the loopback server (``api_env``), with plans made in spawned worker processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from media import SAMPLES_DIR

from videovision.batch import (
    COST_CAP_REACHED,
    EXIT_ALL_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    INDEX_FILENAME,
    BatchOptions,
    BatchSummary,
    find_videos,
    read_index,
    run_batch,
)
from videovision.errors import ConfigError
from videovision.packing import Budget, PackConfig
from videovision.pipeline import make_plan
from videovision.plan import TaskConfig
from videovision.prompts import PromptOptions
from videovision.search import SearchIndex, search
from videovision.types import SamplingConfig

TALK = SAMPLES_DIR / "talk.mp4"


def small_config(**prompt) -> TaskConfig:
    return TaskConfig(sampling=SamplingConfig(strategy="interval", every=6.0),
                      pack=PackConfig(budget=Budget(max_frames=4)), prompt=PromptOptions(**prompt))


@pytest.fixture
def library(tmp_path, clips) -> Path:
    """lectures/week1/talk.mp4 (samples/talk.mp4: subtitles), lectures/week2/talk.mp4 (same name, a
    generated clip without speech: other frames, so its request differs) and a broken file."""
    root = tmp_path / "lectures"
    for week in ("week1", "week2"):
        (root / week).mkdir(parents=True)
    shutil.copy(TALK, root / "week1" / "talk.mp4")
    shutil.copy(clips("batch_other", duration=4.0, cuts=[2.0])[0], root / "week2" / "talk.mp4")
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 50)
    (root / "notes.txt").write_text("not a video")
    return root


def rows_by_stem(out: Path) -> dict[str, dict]:
    return {r["stem"]: r for r in read_index(out)}


def batch(inputs, out: Path, config: TaskConfig | None = None, **kw) -> BatchSummary:
    kw.setdefault("jobs", 1)
    kw.setdefault("concurrency", 1)
    return run_batch(inputs, out, config or small_config(), **kw)


# --------------------------------------------------------------------------- find_videos
def test_find_videos_walks_folders_globs_and_files_with_unique_stems(tmp_path, library):
    (library / "week2" / "LOUD.MOV").write_bytes(b"x")
    (library / ".hidden").mkdir()
    (library / ".hidden" / "h.mp4").write_bytes(b"x")
    extra = tmp_path / "extra.bin"
    extra.write_bytes(b"x")
    os.symlink(library / "week1" / "talk.mp4", tmp_path / "alias.mp4")

    videos = find_videos([library, str(library / "week1" / "*.mp4"), str(extra), str(tmp_path / "alias.mp4")])

    paths = [Path(v.path) for v in videos]
    assert sorted(paths) == paths
    names = {p.relative_to(tmp_path).as_posix() for p in paths}
    assert names == {"lectures/broken.mp4", "lectures/week1/talk.mp4", "lectures/week2/talk.mp4",
                     "lectures/week2/LOUD.MOV", "extra.bin"}  # the symlink is week1/talk.mp4 again
    stems = [v.stem for v in videos]
    assert len(set(s.casefold() for s in stems)) == len(stems)
    assert "lectures__week1__talk.mp4" in stems and "lectures__week2__talk.mp4" in stems
    assert all("/" not in s and not s.startswith(".") for s in stems)


def test_stems_that_clash_after_normalising_get_a_hash(tmp_path):
    for folder in ("\u00fc", "u\u0308"):  # the same letter ü, composed and decomposed: one name after NFC
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.mp4").write_bytes(b"x")
    stems = [v.stem for v in find_videos([tmp_path])]
    assert len(set(stems)) == 2 and all(s.startswith("\u00fc__x.mp4-") for s in stems)


@pytest.mark.parametrize("name, stem", [
    ("clip \u00fc.mp4", "clip \u00fc.mp4"), ("\u8b1b\u7fa9 1.mp4", "\u8b1b\u7fa9 1.mp4"),
    ("\u043b\u0435\u043a\u0446\u0438\u044f.mp4", "\u043b\u0435\u043a\u0446\u0438\u044f.mp4"),
    ("cafe\u0301.mp4", "caf\u00e9.mp4"), ("tab\there.mp4", "tab_here.mp4"), (".hidden.mp4", "_hidden.mp4"),
])
def test_result_names_keep_letters_of_any_script(tmp_path, name, stem):
    (tmp_path / name).write_bytes(b"x")
    assert [v.stem for v in find_videos([tmp_path / name])] == [stem]


def test_long_result_names_are_cut_on_a_character_with_a_hash(tmp_path):
    name = "\u00fc" * 120 + ".mp4"  # 244 bytes of UTF-8
    (tmp_path / name).write_bytes(b"x")
    [video] = find_videos([tmp_path / name])
    assert len(video.stem.encode("utf-8")) <= 150 and re.fullmatch("\u00fc+-[0-9a-f]{8}", video.stem)


@pytest.mark.parametrize("given", ["missing-folder", "nothing-*.mp4"])
def test_a_missing_input_is_a_config_error_naming_it(tmp_path, given):
    with pytest.raises(ConfigError, match=given.replace("*", r"\*")):
        find_videos([str(tmp_path / given)])


def test_a_folder_without_videos_is_a_config_error(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ConfigError, match="no video found"):
        find_videos([tmp_path])


def test_exit_codes():
    assert BatchSummary(2, 0, 1, 0.0, 1.0).exit_code == EXIT_OK
    assert BatchSummary(2, 1, 0, 0.0, 1.0).exit_code == EXIT_PARTIAL
    assert BatchSummary(0, 1, 1, 0.0, 1.0).exit_code == EXIT_PARTIAL
    assert BatchSummary(0, 3, 0, 0.0, 1.0).exit_code == EXIT_ALL_FAILED


# --------------------------------------------------------------------------- end to end
def test_one_broken_file_among_good_ones_then_a_rerun_costs_nothing(api_env, library, tmp_path):
    out = tmp_path / "out"
    seen = []
    summary = batch([library], out, jobs=2, concurrency=2, progress=seen.append)

    assert (summary.ok, summary.failed, summary.skipped) == (2, 1, 0)
    assert summary.exit_code == EXIT_PARTIAL and summary.cost_usd > 0
    rows = rows_by_stem(out)
    assert set(rows) == {"broken.mp4", "week1__talk.mp4", "week2__talk.mp4"}
    bad = rows["broken.mp4"]
    assert bad["status"] == "failed" and bad["result"] is None and "\n" not in bad["error"]
    assert "broken.mp4" in bad["error"]
    for stem in ("week1__talk.mp4", "week2__talk.mp4"):
        row = rows[stem]
        assert row["status"] == "ok" and row["error"] is None and row["tokens"] > 0 and row["cost_usd"] > 0
        assert row["result"] == stem + ".json" and row["seconds"] > 0
        data = json.loads((out / row["result"]).read_text())
        assert data["video"] == row["video"] and data["summary"] and data["requests"] == 1
    assert len(api_env.chat_requests) == 2
    assert [p.done for p in seen] == [1, 2, 3] and seen[-1].total == 3 and seen[-1].eta_seconds == 0
    assert seen[-1].cost_usd == pytest.approx(summary.cost_usd)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert all(line.endswith("}") for line in (out / INDEX_FILENAME).read_text().splitlines())

    again = batch([library], out, jobs=2, concurrency=2)

    assert len(api_env.chat_requests) == 2  # nothing sent
    assert (again.ok, again.failed, again.skipped) == (0, 1, 2) and again.cost_usd == 0
    rows = rows_by_stem(out)
    assert rows["week1__talk.mp4"]["status"] == rows["week2__talk.mp4"]["status"] == "skipped"
    assert rows["week1__talk.mp4"]["result"] == "week1__talk.mp4.json"
    assert rows["broken.mp4"]["status"] == "failed"  # tried again, still broken


def test_a_deleted_output_or_changed_options_rerun_only_what_changed(api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    out = tmp_path / "out"
    batch([library], out)
    assert len(api_env.chat_requests) == 2

    (out / "week1__talk.mp4.json").unlink()
    summary = batch([library], out)
    statuses = {s: r["status"] for s, r in rows_by_stem(out).items()}
    assert statuses == {"week1__talk.mp4": "ok", "week2__talk.mp4": "skipped"}
    assert (out / "week1__talk.mp4.json").is_file() and summary.ok == 1
    assert len(api_env.chat_requests) == 2  # its reply came from the cache

    summary = batch([library], out, small_config(style="detailed"))
    assert (summary.ok, summary.skipped) == (2, 0)
    assert len(api_env.chat_requests) == 4  # a new prompt: both asked again

    other = library / "week2" / "talk.mp4"
    other.write_bytes(other.read_bytes() + b"\0")  # new content
    summary = batch([library], out, small_config(style="detailed"))
    assert {s: r["status"] for s, r in rows_by_stem(out).items()} == {"week1__talk.mp4": "skipped",
                                                                       "week2__talk.mp4": "ok"}


def test_a_failed_request_is_retried_on_the_next_run(api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    out = tmp_path / "out"
    api_env.enqueue_fault("context")  # the first video's request (jobs 1, concurrency 1: in order)
    summary = batch([library], out)

    rows = rows_by_stem(out)
    assert (summary.ok, summary.failed) == (1, 1) and summary.exit_code == EXIT_PARTIAL
    assert rows["week1__talk.mp4"]["status"] == "failed" and rows["week1__talk.mp4"]["key"] is None
    assert rows["week2__talk.mp4"]["status"] == "ok"
    assert search(out, "budget") == []  # nothing of a failed video is searchable

    summary = batch([library], out)
    rows = rows_by_stem(out)
    assert (summary.ok, summary.failed, summary.skipped) == (1, 0, 1)
    assert rows["week1__talk.mp4"]["status"] == "ok"
    assert {h.stem for h in search(out, "budget")} == {"week1__talk.mp4"}


def test_an_error_every_request_would_repeat_stops_sending(api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    api_env.enqueue_fault("401", times=5)
    summary = batch([library], tmp_path / "out")
    assert summary.failed == 2 and summary.exit_code == EXIT_ALL_FAILED
    assert len(api_env.chat_requests) == 1
    assert rows_by_stem(tmp_path / "out")["week2__talk.mp4"]["error"].startswith("not run: ")


def test_total_max_cost_skips_what_would_pass_the_cap(api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    first, second = (make_plan(library / week / "talk.mp4", small_config()).estimated_cost_usd
                     for week in ("week1", "week2"))
    assert first and second
    # room for the first video's estimate and not a cent more: the second is skipped whether it is planned
    # while the first is in flight (both estimates) or after it finished (its billed cost + the estimate)
    cap = first + 1e-9
    out = tmp_path / "out"
    summary = batch([library], out, total_max_cost=cap, concurrency=2)

    rows = rows_by_stem(out)
    assert (summary.ok, summary.skipped) == (1, 1) and summary.exit_code == EXIT_OK
    assert rows["week2__talk.mp4"]["error"] == COST_CAP_REACHED and rows["week2__talk.mp4"]["status"] == "skipped"
    assert len(api_env.chat_requests) == 1
    assert 0 < summary.cost_usd <= cap

    summary = batch([library], out, total_max_cost=cap * 2)  # a cap-skipped video runs later
    assert (summary.ok, summary.skipped) == (1, 1)
    assert all(r["error"] is None for r in rows_by_stem(out).values())


def test_search_finds_a_spoken_word_with_its_time_and_follows_reruns(api_env, library, tmp_path):
    out = tmp_path / "out"
    batch([library], out)

    hits = search(out, "forty thousand")
    assert len(hits) == 1
    hit = hits[0]
    assert (hit.stem, hit.kind, hit.video) == ("week1__talk.mp4", "speech", str(library / "week1" / "talk.mp4"))
    assert hit.time == pytest.approx(6.03, abs=0.05) and "**forty**" in hit.snippet
    with SearchIndex(out) as index:
        before = index.count()

    batch([library], out, small_config(style="bullet"))  # every video re-run: rows replaced, not added
    with SearchIndex(out) as index:
        assert index.count() == before
    assert len(search(out, "forty thousand")) == 1


def test_transcript_task_writes_transcripts_and_indexes_them(api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    shutil.copy(TALK, library / "week2" / "talk.mp4")
    out = tmp_path / "out"
    summary = batch([library], out, task="transcript", jobs=2)
    assert summary.ok == 2 and len(api_env.chat_requests) == 0
    data = json.loads((out / "week1__talk.mp4.json").read_text())
    assert data["source"] == "subtitles" and any("forty" in s["text"] for s in data["segments"])
    assert {h.stem for h in search(out, "forty")} == {"week1__talk.mp4", "week2__talk.mp4"}
    assert batch([library], out, task="transcript").skipped == 2


def test_bad_options_are_config_errors(tmp_path, library):
    for kw in ({"jobs": 0}, {"concurrency": 0}, {"total_max_cost": -1.0}, {"task": "dance"}):
        with pytest.raises(ConfigError):
            run_batch([library], tmp_path / "out", small_config(), **kw)


def test_bad_options_name_their_field_when_the_value_is_built(tmp_path):
    for kw, field in (({"jobs": 0}, "jobs"), ({"jobs": True}, "jobs"), ({"concurrency": 0}, "concurrency"),
                      ({"total_max_cost": -1.0}, "total_max_cost"), ({"total_max_cost": "1"}, "total_max_cost"),
                      ({"task": "dance"}, "task"), ({"executor": "threads"}, "executor"),
                      ({"ray_address": "auto"}, "ray_address")):
        with pytest.raises(ConfigError) as caught:
            BatchOptions(**kw)
        assert caught.value.field == field
    with pytest.raises(ConfigError, match="unknown batch option 'job'"):
        run_batch([tmp_path], tmp_path / "out", small_config(), job=2)


def test_one_options_value_runs_the_same_batch_as_named_changes(api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    options = BatchOptions(task="chapters", jobs=1, concurrency=2)
    by_value = run_batch([library], tmp_path / "a", small_config(), options=options)
    by_name = run_batch([library], tmp_path / "b", small_config(), task="chapters", jobs=1, concurrency=2)
    assert by_value.ok == by_name.ok == 2
    for out in ("a", "b"):
        assert "chapters" in json.loads((tmp_path / out / "week1__talk.mp4.json").read_text())
    # a change by name wins over the value it is applied to
    again = run_batch([library], tmp_path / "c", small_config(), options=options, task="summarize")
    assert "summary" in json.loads((tmp_path / "c" / "week1__talk.mp4.json").read_text()) and again.ok == 2


def test_ask_needs_its_questions_in_the_config(api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    config = replace(small_config(), prompt=PromptOptions(task="ask", questions=("How much was spent?",)))
    out = tmp_path / "out"
    assert batch([library], out, config, task="ask").ok == 2
    data = json.loads((out / "week1__talk.mp4.json").read_text())
    assert data["answers"][0]["question"] == "How much was spent?"
    with SearchIndex(out) as index:
        kinds = [k for (k,) in index.db.execute("SELECT kind FROM entries WHERE stem = 'week1__talk.mp4'")]
    assert "answer" in kinds and "speech" in kinds


def test_an_interrupt_keeps_every_finished_video(api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    out = tmp_path / "out"

    def interrupt_after_first(progress):
        if progress.done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch([library], out, jobs=2, progress=interrupt_after_first)
    rows = read_index(out)
    assert [r["status"] for r in rows] == ["ok"]
    assert (out / rows[0]["result"]).is_file()

    summary = batch([library], out)
    assert (summary.ok, summary.skipped) == (1, 1)
    assert rows_by_stem(out)[rows[0]["stem"]]["status"] == "skipped"


def test_worker_warnings_reach_the_parent_log_with_the_video(api_env, library, tmp_path, caplog):
    video = library / "week2" / "talk.mp4"
    config = replace(small_config(), pack=PackConfig(model="my-own-vlm", budget=Budget(max_frames=4)))
    with caplog.at_level("WARNING", logger="videovision"):
        batch([video], tmp_path / "out", config)
    forwarded = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{video}: ")]
    assert any("Unknown model 'my-own-vlm'" in m for m in forwarded)  # logged in the worker, shown here


def test_without_a_cache_outputs_still_resume(api_env, library, tmp_path):
    video = library / "week2" / "talk.mp4"
    out = tmp_path / "out"
    assert batch([video], out, use_cache=False).ok == 1
    assert batch([video], out, use_cache=False).skipped == 1
    assert len(api_env.chat_requests) == 1
    assert not (tmp_path / "cache").exists()  # $VIDEOVISION_CACHE_DIR (api_env) never touched


def test_html_reports_beside_the_results(api_env, library, tmp_path):
    video = library / "week1" / "talk.mp4"
    out = tmp_path / "out"
    assert batch([video], out, report=True).ok == 1
    page = (out / "talk.mp4.html").read_text()
    assert page.startswith("<!doctype html>") and "forty thousand" in page
    assert batch([video], out, report=True).skipped == 1
    (out / "talk.mp4.html").unlink()
    assert batch([video], out).skipped == 1  # no report asked: the JSON is all it needs
    assert batch([video], out, report=True).ok == 1 and (out / "talk.mp4.html").is_file()
    assert len(api_env.chat_requests) == 1  # the re-run's reply came from the cache
