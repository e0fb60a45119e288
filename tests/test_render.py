"""Renderers: what a reader sees for summaries, answers and chapters, and the chapter exports."""

from __future__ import annotations

import json

from videovision.render import (
    answers_text,
    chapters_json,
    chapters_text,
    dumps,
    moment_json,
    summary_text,
    webvtt_chapters,
    youtube_chapters,
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
                                     "supported": False}
    out = dumps({"title": "Café ☕", "t": 1.5})
    assert "Café ☕" in out and out.endswith("\n") and json.loads(out)["t"] == 1.5
