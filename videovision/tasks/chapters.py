"""``chapters``: the video split where its content changes, starts snapped to scene cuts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..render.documents import chapters_json
from ..render.text import chapter_notes, chapters_text
from ..request import Schema
from .base import Task, language, strict_object

if TYPE_CHECKING:
    from ..parsing import TimeCheck
    from ..plan import Plan
    from ..prompts import PromptOptions

CHAPTER_SCHEMA = strict_object({"chapters": {"type": "array", "items": strict_object({
    "start": {"type": "string", "description": "timestamp label where the chapter starts"},
    "title": {"type": "string"}, "summary": {"type": "string"}})}})


class ChaptersTask(Task):
    name = "chapters"
    order = 3
    schema = Schema("video_chapters", CHAPTER_SCHEMA)
    help = "split a video into chapters"
    description = "Split a video into chapters; starts are snapped to scene cuts."
    example = "videovision chapters talk.mp4 --format youtube"
    what = "the chapters"
    json_reply = " Reply in the JSON format requested, times as labels without brackets."
    text_reply = " Write one chapter per line as: [00:00:00.0] Title - summary"
    field = "chapters"
    text_of = staticmethod(chapters_text)
    notes_of = staticmethod(chapter_notes)

    def prompt(self, options: PromptOptions, partial: bool, structured: bool) -> str:
        body = ("Split the video into chapters where its content changes. For each chapter give the "
                "timestamp label of the frame where it starts, a short title and a one-line summary.")
        if partial:
            body = "List the chapters within this part: " + body[len("Split the video into chapters "):]
        return f"{body}{self.reply_form(structured)}{language(options)}"

    def parse(self, text: str, check: TimeCheck, plan: Plan) -> dict[str, Any]:
        from ..parsing import parse_chapters

        return {"chapters": parse_chapters(text, check, plan.scenes)}

    def fields(self, value: Any) -> dict[str, Any]:
        c = value.chapters
        if c is None:
            return {}
        return {"chapters": chapters_json(c), "rejected": list(c.rejected), "notes": list(c.notes),
                "raw_reply": c.raw or None}

    def written(self, value: Any) -> str:
        return f"{len(value.chapters.chapters)} chapters"


TASK = ChaptersTask()
