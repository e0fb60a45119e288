import json

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
