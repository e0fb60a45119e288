"""videovision.search: what a result JSON puts in the index, bm25 ranking, snippets, replacing a
video's rows, query syntax errors, and a folder without an index."""

from __future__ import annotations

import sqlite3

import pytest

from videovision.errors import ConfigError
from videovision.search import (
    HIGHLIGHT,
    Entry,
    Hit,
    SearchIndex,
    check_fts5,
    entries_from_result,
    render_hit,
    search,
)
from videovision.speech.transcript import Segment

SUMMARY = {
    "summary": "A lecture on optimisers.",
    "moments": [{"time": 12.5, "text": "The learning rate schedule is shown."}],
    "rejected": [],
}
ANSWERS = {
    "answer": None,
    "moments": None,
    "answers": [
        {"question": "Q1", "answer": "Gradient clipping at 1.0.", "moments": [{"time": 100.0, "text": "clip shown"}]},
        {"question": "Q2", "answer": "", "moments": []},
    ],
}
CHAPTERS = {"chapters": [{"start": 0.0, "end": 60.0, "title": "Intro", "summary": "Who we are."},
                         {"start": 60.0, "end": 120.0, "title": "Budget", "summary": ""}]}


def test_entries_from_each_kind_of_result():
    assert entries_from_result(SUMMARY) == [Entry("summary", None, "A lecture on optimisers."),
                                            Entry("moment", 12.5, "The learning rate schedule is shown.")]
    assert entries_from_result(ANSWERS) == [Entry("answer", None, "Gradient clipping at 1.0."),
                                            Entry("moment", 100.0, "clip shown")]
    assert entries_from_result(CHAPTERS) == [Entry("chapter", 0.0, "Intro — Who we are."),
                                             Entry("chapter", 60.0, "Budget")]


def test_speech_is_indexed_with_its_time_and_speaker(tmp_path):
    with SearchIndex(tmp_path) as index:
        n = index.replace("talk.mp4", "talk.mp4", SUMMARY, [Segment(99.5, 101.0, "Now the delta rule.", "Bob"),
                                                          Segment(101.0, 102.0, "   ")])
        assert n == 3  # summary, moment, one spoken line (the blank one is left out)
    hits = search(tmp_path, "delta")
    assert len(hits) == 1
    hit = hits[0]
    assert (hit.video, hit.kind, hit.time) == ("talk.mp4", "speech", 99.5)
    assert hit.snippet == f"Bob: Now the {HIGHLIGHT[0]}delta{HIGHLIGHT[1]} rule."
    assert render_hit(hit) == "talk.mp4 [01:39] Bob: Now the **delta** rule."
    assert search(tmp_path, "bob")[0].kind == "speech"  # speakers are searchable


def test_hits_are_ranked_by_bm25_best_first(tmp_path):
    filler = " ".join(f"word{i}" for i in range(40))
    with SearchIndex(tmp_path) as index:
        index.replace("a.mp4", "a", {"summary": f"clipping once among many words {filler}"})
        index.replace("b.mp4", "b", {"summary": "clipping clipping gradient clipping"})
        index.replace("c.mp4", "c", {"summary": "nothing relevant here"})
        index.replace("d.mp4", "d", {"summary": f"clipping then the {filler} gradients"})
    hits = search(tmp_path, "clipping")
    assert [h.video for h in hits][:1] == ["b.mp4"]  # term-dense and short beats one mention in a long text
    assert {h.video for h in hits} == {"a.mp4", "b.mp4", "d.mp4"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # bm25 as SQLite computes it, for the same rows
    db = sqlite3.connect(tmp_path / "search.db")
    expected = [v for (v,) in db.execute("SELECT e.video FROM entries_fts JOIN entries e ON e.id = entries_fts.rowid "
                                         "WHERE entries_fts MATCH 'clipping' ORDER BY bm25(entries_fts)")]
    db.close()
    assert [h.video for h in hits] == expected
    assert search(tmp_path, "gradient")[0].video == "b.mp4"  # porter stemming: gradients ~ gradient
    assert len(search(tmp_path, "clipping", limit=2)) == 2


def test_replacing_a_video_never_duplicates_rows(tmp_path):
    with SearchIndex(tmp_path) as index:
        index.replace("a.mp4", "a", SUMMARY, [Segment(1.0, 2.0, "hello there")])
        index.replace("b.mp4", "b", SUMMARY)
        first = index.count()
        index.replace("a.mp4", "a", SUMMARY, [Segment(1.0, 2.0, "hello there")])
        assert index.count() == first
        index.replace("a.mp4", "a", {"summary": "Different now."})
        assert index.count() == first - 2
        assert [h.video for h in index.search("optimisers")] == ["b.mp4"]
        index.remove("b")
        assert index.search("optimisers") == [] and index.count() == 1
        assert [h.video for h in index.search("different")] == ["a.mp4"]


@pytest.mark.parametrize("query", ['budget-"', "kind:summary", '"unclosed', "AND", "(a OR"])
def test_bad_query_syntax_is_a_one_line_config_error_with_a_hint(tmp_path, query):
    with SearchIndex(tmp_path) as index:
        index.replace("a.mp4", "a", SUMMARY)
    with pytest.raises(ConfigError, match="double quotes") as info:
        search(tmp_path, query)
    assert "\n" not in str(info.value)
    assert search(tmp_path, '"budget-"') == []  # quoted, the same text is a valid phrase


def test_fts5_syntax_works(tmp_path):
    with SearchIndex(tmp_path) as index:
        index.replace("a.mp4", "a", {"summary": "the learning rate schedule"})
        index.replace("b.mp4", "b", {"summary": "the learning curve"})
    assert {h.video for h in search(tmp_path, "learn*")} == {"a.mp4", "b.mp4"}
    assert [h.video for h in search(tmp_path, '"learning rate"')] == ["a.mp4"]
    assert [h.video for h in search(tmp_path, "learning NOT rate")] == ["b.mp4"]
    assert {h.video for h in search(tmp_path, "rate OR curve")} == {"a.mp4", "b.mp4"}


@pytest.mark.parametrize("query, limit", [("", 10), ("   ", 10), ("x", 0), ("x", True)])
def test_empty_query_or_bad_limit(tmp_path, query, limit):
    SearchIndex(tmp_path).close()
    with pytest.raises(ConfigError):
        search(tmp_path, query, limit)


def test_a_folder_without_an_index_says_so(tmp_path):
    with pytest.raises(ConfigError, match="no search index"):
        search(tmp_path, "anything")
    assert not (tmp_path / "search.db").exists()  # searching never creates one


def test_a_foreign_database_is_refused(tmp_path):
    db = sqlite3.connect(tmp_path / "search.db")
    db.execute("CREATE TABLE x(y)")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="not a videovision search index"):
        search(tmp_path, "anything")


def test_this_python_has_fts5():
    check_fts5()  # the index needs it; the error names the SQLite version when it is missing


def test_hit_json_and_untimed_render():
    hit = Hit("x/talk.mp4", "x__talk.mp4", "summary", None, "a **b** c", 1.23456789)
    assert hit.to_json() == {"video": "x/talk.mp4", "stem": "x__talk.mp4", "kind": "summary", "time": None,
                             "snippet": "a **b** c", "score": 1.234568}
    assert render_hit(hit) == "x/talk.mp4 [summary] a **b** c"
    assert render_hit(Hit("t.mp4", "t", "chapter", 3725.0, "x", 1.0)) == "t.mp4 [01:02:05] x"


def test_a_file_that_is_not_sqlite_is_a_config_error(tmp_path):
    (tmp_path / "search.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="cannot use the search index"):
        search(tmp_path, "anything")
