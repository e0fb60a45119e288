"""``summarize``: a summary in one of three styles, citing the times it describes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..render.documents import moment_json
from ..render.text import summary_notes, summary_text
from .base import Task, language

if TYPE_CHECKING:
    from ..parsing import TimeCheck
    from ..plan import Plan
    from ..prompts import PromptOptions

STYLES: dict[str, str] = {
    "brief": "Summarize the video in 3 to 5 sentences.",
    "detailed": (
        "Write a detailed summary of the video: what happens, in order, one short paragraph per part, "
        "citing the timestamp label where each part begins."
    ),
    "bullet": "Summarize the video as a bulleted list of its key moments, each bullet starting with its timestamp label.",
}


class Summarize(Task):
    name = "summarize"
    order = 1
    streams = True
    help = "summarize a video"
    description = "Summarize a video: frames and speech sent to a vision model."
    example = "videovision summarize talk.mp4 --style bullet -o summary.txt"
    what = "the summary"
    field = "summary"
    text_of = staticmethod(summary_text)
    notes_of = staticmethod(summary_notes)

    def prompt(self, options: PromptOptions, partial: bool, structured: bool) -> str:
        body = options.instruction or STYLES[options.style]
        if partial:
            body = ("Describe what happens in this part, in order, citing timestamp labels; "
                    "your notes will be merged with notes on the other parts.")
        return f"{body}{language(options)}"

    def parse(self, text: str, check: TimeCheck, plan: Plan) -> dict[str, Any]:
        from ..parsing import parse_summary

        return {"summary": parse_summary(text, check)}

    def fields(self, value: Any) -> dict[str, Any]:
        s = value.summary
        if s is None:  # a result built without a reply read (a plan's JSON, a search entry)
            return {}
        return {"summary": s.text, "moments": [moment_json(m) for m in s.moments], "rejected": list(s.rejected)}


TASK = Summarize()
