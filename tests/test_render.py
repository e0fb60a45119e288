"""Renderers: what a reader sees for summaries, answers and chapters, and the chapter exports."""

from __future__ import annotations

import json

from videovision.parsing import TimeCheck, parse_answers, parse_chapters, parse_summary
from videovision.render import (
    answer_json,
    answers_text,
    chapter_notes,
    chapters_json,
    chapters_text,
    dumps,
    moment_json,
    summary_text,
    webvtt_chapters,
    youtube_chapters,
    youtube_export,
)
from videovision.types import Answer, Chapter, Chapters, Moment, Summary

GOOD = Moment(time=65.2, end=None, text="the demo starts", frame_time=65.0, supported=True)
INVENTED = Moment(time=300.0, end=310.5, text="a fire", frame_time=None, supported=False)
CHAPTERS = Chapters(chapters=(Chapter(0.0, 61.5, "Intro", "who is talking"), Chapter(61.5, 3725.25, "Demo")),
                    rejected=("[02:00:00.0]",))


def test_summary_text_notes_unsupported_and_rejected_times():
    text = summary_text(Summary("It is a talk.", moments=(GOOD, INVENTED), rejected=("[09:00:00.0]",)))
    assert text.startswith("It is a talk.\n")
    assert "no frame sent supports [00:05:00.0]" in text and "[00:01:05.2]" not in text
    assert "outside the video: [09:00:00.0]" in text
    assert summary_text(Summary("Fine.", moments=(GOOD,))) == "Fine.\n"
    md = summary_text(Summary("It is a talk.", moments=(INVENTED,)), markdown=True)
    assert md.startswith("## Summary\n") and "\n> Note:" in md


def test_answers_list_moments_with_ranges_and_flags():
    one = answers_text([Answer("When?", "At the demo.", moments=(GOOD, INVENTED))])
    assert one.splitlines()[0] == "At the demo."  # one question: no Q/A prefix
    assert "  [01:05.2] the demo starts" in one
    assert "[05:00.0-05:10.5] a fire  (unsupported" in one
    many = answers_text([Answer("When?", "Early."), Answer("Who?", "Ann.", rejected=("[03:00:00.0]",))])
    assert "Q: When?\nA: Early." in many and "Q: Who?\nA: Ann." in many and "[03:00:00.0]" in many
    md = answers_text([Answer("When?", "Early.", moments=(GOOD,))], markdown=True)
    assert md.startswith("### When?") and "- [01:05.2] the demo starts" in md


def test_chapter_exports():
    assert youtube_chapters(CHAPTERS) == "0:00 Intro\n1:01 Demo\n"
    long = Chapters((Chapter(0.0, 10.0, "A"), Chapter(3725.9, 3800.0, "B")))
    assert youtube_chapters(long).splitlines()[1] == "1:02:05 B"
    vtt = webvtt_chapters(CHAPTERS)
    assert vtt.startswith("WEBVTT\n\nchapter-1\n00:00:00.000 --> 00:01:01.500\nIntro\nwho is talking\n")
    assert "00:01:01.500 --> 01:02:05.250\nDemo" in vtt
    text = chapters_text(CHAPTERS)
    assert text.splitlines()[:2] == ["00:00.0 Intro - who is talking", "01:01.5 Demo"]
    assert "outside the video: [02:00:00.0]" in text
    assert chapters_json(CHAPTERS)[1] == {"start": 61.5, "end": 3725.25, "title": "Demo", "summary": "",
                                          "supported": True}


def test_json_helpers_round_and_keep_unicode():
    assert moment_json(INVENTED) == {"time": 300.0, "end": 310.5, "text": "a fire", "frame_time": None,
                                     "supported": False, "refined": False}
    out = dumps({"title": "Café ☕", "t": 1.5})
    assert "Café ☕" in out and out.endswith("\n") and json.loads(out)["t"] == 1.5


# --------------------------------------------------------------------------- no silent losses
CHECK = TimeCheck((0.0, 5.0, 10.0, 15.0, 20.0), duration=24.0, tolerance=1.0)


def test_unsupported_times_are_marked_where_they_stand_in_the_summary():
    text = "A cat [00:00:07.5] sleeps. A cat [00:00:07.5] wakes at 00:10, runs 00:12.5 to 00:13, ends [09:00:00.0]."
    out = summary_text(parse_summary(text, CHECK))
    first = out.splitlines()[0]
    assert first == ("A cat [00:00:07.5 (no frame)] sleeps. A cat [00:00:07.5 (no frame)] wakes at 00:10, "
                     "runs 00:12.5 to 00:13 (no frame), ends [09:00:00.0 (outside the video)].")
    assert "no frame sent supports [00:00:07.5], [00:00:12.5]" in out  # the footnote stays
    assert "outside the video: [09:00:00.0]" in out
    md = summary_text(parse_summary(text, CHECK), markdown=True)
    assert "[00:00:07.5 (no frame)] sleeps" in md and "\n> Note:" in md
    assert summary_text(parse_summary("All fine [00:00:05.0].", CHECK)) == "All fine [00:00:05.0].\n"


def test_an_empty_summary_says_so():
    out = summary_text(parse_summary("", CHECK))
    assert out.strip() == "(the model returned an empty reply (no summary))"


def test_one_text_for_several_questions_is_printed_once_under_all_of_them():
    text = "A red car passes [00:00:05.0] under a blue sky."
    answers = parse_answers(text, ["car?", "sky?"], CHECK)
    out = answers_text(answers)
    assert out.count("A red car passes [00:00:05.0]") == 1
    assert out.startswith("Q: car?\nQ: sky?\nA: A red car passes [00:00:05.0] under a blue sky.\n")
    md = answers_text(answers, markdown=True)
    assert md.startswith("### car?\n### sky?\n\nA red car") and md.count("A red car passes [00:00:05.0]") == 1
    assert answer_json(answers[1]) == {"question": "sky?", "answer": "", "moments": [], "rejected": [],
                                       "warnings": [], "answered_with": 0}
    missing = answers_text([Answer("q1", "Yes."), Answer("q2", "", answered_with=7)])
    assert "Q: q2\nA: (no answer in the reply)" in missing  # a broken pointer never hides a question


def test_a_reply_with_no_chapters_is_shown_in_every_format():
    chapters = parse_chapters("Sorry --> I cannot.\n\nReally.", CHECK)
    text = chapters_text(chapters)
    assert "No chapters could be read" in text and "Sorry --> I cannot.\n\nReally." in text
    vtt = webvtt_chapters(chapters)
    assert vtt.startswith("WEBVTT\n\nNOTE\nNo chapters could be read") and "Sorry -> I cannot.\nReally." in vtt
    assert vtt.count("-->") == 0
    assert youtube_export(chapters) == ("Sorry --> I cannot.\n\nReally.\n", ())
    assert "the reply is empty" in chapters_text(parse_chapters("", CHECK))


def test_chapter_text_marks_unsupported_starts_and_notes_merges():
    chapters = parse_chapters("[00:00:00.0] Intro\n[00:00:07.5] Guess\n[00:00:15.0] A\n[00:00:15.0] B", CHECK)
    lines = chapters_text(chapters).splitlines()
    assert lines[1] == "00:07.5 Guess  (unsupported: no frame or speech sent near this start)"
    notes = chapter_notes(chapters)
    assert any('"B"' in n and "merged into" in n for n in notes)
    assert any("supports the chapter starts [00:00:07.5]" in n for n in notes)
    assert [c["supported"] for c in chapters_json(chapters)] == [True, False, True]


def test_youtube_export_follows_youtubes_rules_and_says_what_it_changed():
    chapters = Chapters((Chapter(2.0, 4.0, "Cold open"), Chapter(4.0, 30.0, "Intro"), Chapter(30.0, 35.5, "Blip"),
                         Chapter(35.5, 80.0, "Demo"), Chapter(80.0, 120.0, "Outro")))
    text, warnings = youtube_export(chapters)
    assert text == "0:00 Intro\n0:35 Demo\n1:20 Outro\n"
    assert warnings[0].startswith("YouTube needs the first chapter at 0:00")
    assert '"Cold open" (0:00, 4 s) merged into "Intro"' in warnings[1]
    assert '"Blip" (0:30, 5 s) merged into "Intro"' in warnings[2]
    assert len(warnings) == 3
    two, few = youtube_export(Chapters((Chapter(0.0, 20.0, "A"), Chapter(20.0, 40.0, "B"))))
    assert two == "0:00 A\n0:20 B\n" and few == ("YouTube shows chapters only when there are at least 3 (here 2): "
                                                    "it will not show these",)
    assert youtube_chapters(chapters) == text
