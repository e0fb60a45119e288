import json

import pytest

from videovision.parsing import TimeCheck, parse_answers, parse_chapters, parse_summary, parse_timestamp
from videovision.types import Scene

SENT = (0.0, 5.0, 10.0, 15.0, 20.0)


def check(tolerance=1.0):
    return TimeCheck(SENT, duration=24.0, tolerance=tolerance)


def test_parse_timestamp_forms():
    assert parse_timestamp("00:01:05.2") == 65.2
    assert parse_timestamp("[01:05]") == 65.0
    assert parse_timestamp("1:05,5") == 65.5
    assert parse_timestamp("12.5") == 12.5
    assert parse_timestamp("00:75") is None
    assert parse_timestamp("soon") is None


def test_supported_citation_snaps_to_nearest_sent_frame():
    summary = parse_summary("A dog appears [00:00:05.4] and leaves [00:00:19.9].", check())
    assert [(m.time, m.frame_time, m.supported) for m in summary.moments] == [(5.4, 5.0, True), (19.9, 20.0, True)]


def test_invented_time_between_frames_is_unsupported():
    summary = parse_summary("The cat jumps at [00:00:07.5].", check())
    (moment,) = summary.moments
    assert moment.supported is False
    assert moment.frame_time in (5.0, 10.0)


def test_time_beyond_duration_is_rejected():
    summary = parse_summary("Credits roll at [00:05:00].", check())
    assert summary.moments == ()
    assert summary.rejected == ("[00:05:00.0]",)


def test_structured_answers_checked_per_question():
    reply = json.dumps({"answers": [
        {"question": "q1", "answer": "At the start.", "moments": [{"time": "00:00:00.0", "end": "00:00:05.0", "text": "start"}]},
        {"question": "q2", "answer": "Never.", "moments": [{"time": "00:10:00.0", "end": None, "text": "made up"}]},
    ]})
    a1, a2 = parse_answers(reply, ["q1", "q2"], check())
    assert a1.moments[0].time == 0.0 and a1.moments[0].end == 5.0 and a1.moments[0].supported
    assert a2.moments == () and a2.rejected == ("[00:10:00.0]",)


def test_free_text_answers_fall_back_to_citations_and_ranges():
    (answer,) = parse_answers("The door opens [00:00:10.0 - 00:00:15.0]. Not JSON at all.", ["door?"], check())
    (m,) = answer.moments
    assert (m.time, m.end, m.supported) == (10.0, 15.0, True)


def test_numbered_free_text_splits_per_question():
    text = "1. Red car [00:00:05.0].\n2. Blue sky [00:00:20.0]."
    a1, a2 = parse_answers(text, ["car?", "sky?"], check())
    assert [m.time for m in a1.moments] == [5.0]
    assert [m.time for m in a2.moments] == [20.0]


def test_chapters_snap_to_cuts_sorted_and_bounded():
    reply = json.dumps({"chapters": [
        {"start": "00:00:11.0", "title": "Middle", "summary": "b"},
        {"start": "00:00:01.0", "title": "Intro", "summary": "a"},
        {"start": "00:09:00.0", "title": "Beyond", "summary": "x"},
    ]})
    chapters = parse_chapters(reply, check(), scenes=[Scene(0, 0, 12.4), Scene(1, 12.4, 24.0)])
    got = [(c.start, c.end, c.title) for c in chapters.chapters]
    assert got == [(0.0, 12.4, "Intro"), (12.4, 24.0, "Middle")]


def test_chapters_from_text_lines():
    chapters = parse_chapters("[00:00:00.0] Opening - dog\n[00:00:15.0] Ending - cat", check())
    assert [(c.start, c.title, c.summary) for c in chapters.chapters] == [(0.0, "Opening", "dog"), (15.0, "Ending", "cat")]


def test_moment_text_is_the_sentence_without_its_times():
    text = ("Frames at [00:00:00.0], [00:00:05.0] show a test pattern. The door opens at [00:00:10.0]. "
            "Then it closes (see [00:00:15.0] and [00:00:20.0]).")
    texts = [m.text for m in parse_summary(text, check()).moments]
    assert texts == ["Frames show a test pattern.", "Frames show a test pattern.", "The door opens.",
                     "Then it closes.", "Then it closes."]


def test_bare_times_are_checked_too():
    summary = parse_summary("A cat appears at 00:10 and the credits at 1:02:03.", check())
    assert [(m.time, m.supported) for m in summary.moments] == [(10.0, True)]
    assert summary.rejected == ("[01:02:03.0]",)
    assert parse_summary("Shot in 16:9 on 2024-05-01.", check()).moments == ()


def test_chapters_past_the_end_are_reported():
    chapters = parse_chapters("[00:00:00.0] Start - a\n[00:00:30.0] Late - b", check())
    assert [c.title for c in chapters.chapters] == ["Start"] and chapters.rejected == ("[00:00:30.0]",)


# --------------------------------------------------------------------------- no silent losses
CUT_AT_1 = [Scene(0, 0.0, 1.0), Scene(1, 1.0, 24.0)]


def test_a_chapter_near_the_first_is_not_dropped_by_snapping():
    # 0:00 used to snap to the cut at 1.0 s, 0:02.6 too, and "Leaf" vanished as a duplicate
    chapters = parse_chapters("[00:00:00.0] Intro\n[00:00:02.6] Leaf\n[00:00:09.3] Tree", check(), scenes=CUT_AT_1)
    assert [(c.start, c.title) for c in chapters.chapters] == [(0.0, "Intro"), (1.0, "Leaf"), (9.3, "Tree")]
    assert chapters.notes == () and chapters.warnings == ()


def test_chapters_merge_on_one_cut_only_when_cited_close_and_say_so():
    cut_at_5 = [Scene(0, 0.0, 5.0), Scene(1, 5.0, 24.0)]
    close = parse_chapters("[00:00:00.0] Intro\n[00:00:04.0] Leaf\n[00:00:05.5] Stem", check(), scenes=cut_at_5)
    assert [(c.start, c.title) for c in close.chapters] == [(0.0, "Intro"), (5.0, "Leaf")]
    (note,) = close.notes
    assert '"Stem"' in note and "[00:00:05.5]" in note and '"Leaf"' in note and "scene cut" in note
    apart = parse_chapters("[00:00:00.0] Intro\n[00:00:04.0] Leaf\n[00:00:06.5] Stem", check(), scenes=cut_at_5)
    assert [(c.start, c.title) for c in apart.chapters] == [(0.0, "Intro"), (5.0, "Leaf"), (6.5, "Stem")]
    assert apart.notes == ()
    same = parse_chapters("[00:00:00.0] Intro\n[00:00:12.0] A\n[00:00:12.0] B", check())
    assert [c.title for c in same.chapters] == ["Intro", "A"] and "same start" in same.notes[0]


def test_a_first_chapter_cited_late_starts_at_zero_with_a_note():
    chapters = parse_chapters("[00:00:06.0] Late start\n[00:00:15.0] End", check())
    assert [c.start for c in chapters.chapters] == [0.0, 15.0]
    assert "[00:00:06.0]" in chapters.notes[0] and '"Late start"' in chapters.notes[0]


def test_chapter_starts_near_no_frame_or_speech_are_unsupported():
    reply = "[00:00:00.0] Intro\n[00:00:07.5] Invented\n[00:00:15.2] Real"
    chapters = parse_chapters(reply, check())
    assert [c.supported for c in chapters.chapters] == [True, False, True]
    spoken = TimeCheck(SENT, duration=24.0, tolerance=1.0, spans=((7.0, 8.0),))
    assert all(c.supported for c in parse_chapters(reply, spoken).chapters)


def test_a_reply_without_chapters_is_kept_raw_with_a_warning():
    chapters = parse_chapters("Sorry, I cannot split this video.", check())
    assert chapters.chapters == () and chapters.raw == "Sorry, I cannot split this video."
    assert len(chapters.warnings) == 1 and "no chapter" in chapters.warnings[0]
    assert parse_chapters("   ", check()).warnings == ("the model returned an empty reply",)
    bad_start = json.dumps({"chapters": [{"start": "00:00:00.0", "title": "A", "summary": ""},
                                         {"start": "soon", "title": "B", "summary": ""}]})
    some = parse_chapters(bad_start, check())
    assert [c.title for c in some.chapters] == ["A"] and some.raw == ""
    assert some.warnings == ("chapter \"B\" left out: its start 'soon' is not a time",)


def test_bare_time_chapter_lines_and_titles_before_the_time():
    chapters = parse_chapters("0:00 Opening\n- **Part 2** [00:00:10.0]", check())
    assert [(c.start, c.title) for c in chapters.chapters] == [(0.0, "Opening"), (10.0, "Part 2")]


def test_a_json_reply_that_does_not_parse_is_kept_once_with_a_warning():
    truncated = '{"answers": [{"question": "q1", "answer": "The door opens at 00:00:10.0 and'
    a1, a2 = parse_answers(truncated, ["q1", "q2"], check())
    assert a1.text == truncated and a1.warnings and "JSON" in a1.warnings[0]
    assert (a2.text, a2.answered_with, a2.warnings) == ("", 0, ())
    (only,) = parse_answers("", ["q1"], check())
    assert only.warnings == ("the model returned an empty reply",)


def test_a_json_reply_missing_an_answer_warns():
    reply = json.dumps({"answers": [{"question": "q1", "answer": "Yes.", "moments": []}]})
    a1, a2 = parse_answers(reply, ["q1", "q2"], check())
    assert a1.warnings == () and a2.text == "" and a2.warnings == ("the reply has no answer to question 2",)


def test_free_text_for_several_questions_is_kept_once_when_it_cannot_be_split():
    text = "A red car passes [00:00:05.0] under a blue sky."
    a1, a2, a3 = parse_answers(text, ["car?", "sky?", "dog?"], check())
    assert a1.text == text and [m.time for m in a1.moments] == [5.0]
    assert "did not answer the 3 questions separately" in a1.warnings[0]
    assert [(a.text, a.moments, a.answered_with) for a in (a2, a3)] == [("", (), 0), ("", (), 0)]


def test_free_text_splits_on_question_headings_and_on_the_questions_themselves():
    headed = "Here you go.\n**Q1:** A red car [00:00:05.0].\n**Q2:** A blue sky [00:00:20.0]."
    a1, a2 = parse_answers(headed, ["What car?", "What sky?"], check())
    assert (a1.text, a2.text) == ("A red car [00:00:05.0].", "A blue sky [00:00:20.0].")
    assert [m.time for m in a2.moments] == [20.0] and a1.warnings == a2.warnings == ()
    worded = "Question 1 - Red.\nQuestion 2 - Blue."
    assert [a.text for a in parse_answers(worded, ["car?", "sky?"], check())] == ["Red.", "Blue."]
    restated = "What car is it? A red one [00:00:05.0].\n\nWhat colour is the sky?\nBlue [00:00:20.0]."
    b1, b2 = parse_answers(restated, ["What car is it?", "What colour is the sky?"], check())
    assert (b1.text, b2.text) == ("A red one [00:00:05.0].", "Blue [00:00:20.0].")


@pytest.mark.parametrize("sentence", [
    "The door is open from 00:09 to 00:12.",
    "The door is open between 0:09 and 0:12.",
    "The door is open 00:09 until 00:12.",
    "The door is open 00:09 through 00:12.",
    "The door is open from [00:00:09.0] to [00:00:12.0].",
    "The door is open [00:00:09.0] - [00:00:12.0].",
    "The door is open [00:09 - 00:12].",
])
def test_ranges_in_words_are_one_moment_with_clean_text(sentence):
    summary = parse_summary(sentence, check())
    assert [(m.time, m.end, m.text) for m in summary.moments] == [(9.0, 12.0, "The door is open.")]
    assert len(summary.spans) == 1


def test_a_range_does_not_reach_across_lines():
    summary = parse_summary("- [00:00:05.0]\n- [00:00:10.0] a cat", check())
    assert [(m.time, m.end) for m in summary.moments] == [(5.0, None), (10.0, None)]


def test_summary_spans_locate_every_citation_and_an_empty_summary_warns():
    text = "Cat [00:00:07.5], dog [00:00:07.5], sun 00:10, end [09:00:00.0]."
    summary = parse_summary(text, check())
    assert [(text[a:b], ok) for a, b, ok in summary.spans] == [
        ("[00:00:07.5]", False), ("[00:00:07.5]", False), ("00:10", True), ("[09:00:00.0]", None)]
    assert summary.warnings == ()
    assert parse_summary("  \n", check()).warnings == ("the model returned an empty reply (no summary)",)


# --------------------------------------------------------------------------- bounds (issue 20)


def _long_check() -> TimeCheck:
    spans = tuple((float(t), t + 2.0) for t in range(0, 4000, 3))  # 1,334 spoken lines
    return TimeCheck(tuple(float(t) for t in range(0, 4000, 5)), duration=4000.0, spans=spans)


def _stamp(i: int) -> str:
    return f"{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}"


def test_four_thousand_citations_parse_in_linear_time():
    import time

    from videovision.parsing import cited_spans

    text = " ".join(f"At [{_stamp(i)}.0] the slide shows item {i}." for i in range(4000))
    started = time.perf_counter()
    summary = parse_summary(text, _long_check())
    spans = cited_spans(text, _long_check())
    elapsed = time.perf_counter() - started
    assert len(summary.moments) == 4000 and len(spans) == 4000
    assert summary.moments[123].text == "the slide shows item 123."
    assert elapsed < 5.0  # was ~54 s (quadratic); bench/bench_parsing.py measures the 1 MB case


def test_one_endless_sentence_of_citations_is_linear_and_its_moments_short():
    import time

    from videovision.parsing import MOMENT_TEXT_CHARS

    text = ", ".join(f"[{_stamp(i)}.0] item {i}" for i in range(4000)) + "."
    started = time.perf_counter()
    summary = parse_summary(text, _long_check())
    assert time.perf_counter() - started < 5.0
    assert len(summary.moments) == 4000
    assert all(len(m.text) <= MOMENT_TEXT_CHARS for m in summary.moments) and summary.moments[0].text.endswith("…")


@pytest.mark.parametrize("reply", [
    " " * 300_000 + " at [00:00:05.0] " + " " * 300_000,  # (unstripped: the report reads it so)
    "1. see [00:00:05.0]" + " " * 300_000 + "\n" * 300_000 + "2. no",
    "[00:00:00] Intro" + " " * 300_000 + "- x\n" + " " * 300_000 + "```",
])
def test_runs_of_white_space_do_not_make_parsing_quadratic(reply):
    import time

    from videovision.parsing import cited_spans

    started = time.perf_counter()
    cited_spans(reply, check())
    parse_answers(reply, ("a?", "b?"), check())
    parse_chapters(reply, check())
    assert time.perf_counter() - started < 5.0


def test_a_citation_inside_a_spoken_line_is_supported_by_it():
    spoken = TimeCheck((0.0,), duration=100.0, tolerance=1.0, spans=((40.0, 60.0), (10.0, 12.0), (20.0, 70.0)))
    assert [spoken.spoken(t) for t in (9.5, 12.9, 13.5, 19.2, 65.0, 71.5)] == [True, True, False, True, True, False]
    assert spoken.supports(0.5) and not spoken.supports(15.0)
