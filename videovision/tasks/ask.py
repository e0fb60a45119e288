"""``ask``: answers to questions, each citing the moments that support it (refined by a second look)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..render.documents import answer_json, moment_json
from ..render.text import answer_notes, answers_text
from ..request import Schema
from .base import Task, language, strict_object

if TYPE_CHECKING:
    from ..parsing import TimeCheck
    from ..plan import Plan
    from ..prompts import PromptOptions

_MOMENT = strict_object({"time": {"type": "string", "description": "timestamp label, e.g. 00:01:05.2"},
                         "end": {"type": ["string", "null"], "description": "end label, or null"},
                         "text": {"type": "string"}})
ANSWER_SCHEMA = strict_object({"answers": {"type": "array", "items": strict_object({
    "question": {"type": "string"}, "answer": {"type": "string"}, "moments": {"type": "array", "items": _MOMENT}})}})


class Ask(Task):
    name = "ask"
    order = 2
    needs_questions = True
    refinable = True
    schema = Schema("video_answers", ANSWER_SCHEMA)
    help = "ask questions about a video (timestamped answers)"
    description = "Ask questions about a video: answers cite moments, each checked against the frames sent."
    example = 'videovision ask talk.mp4 "When does the demo start?" --clips clips/'
    arguments = (("questions", {"nargs": "+", "metavar": "QUESTION", "help": "one or more questions"}),)
    what = "the answers"
    json_reply = " Reply in the JSON format requested, one entry per question, times as labels without brackets."
    text_reply = " Put each cited label in square brackets, e.g. [00:01:05.2]."
    field = "answers"
    text_of = staticmethod(answers_text)
    notes_of = staticmethod(answer_notes)

    def prompt(self, options: PromptOptions, partial: bool, structured: bool) -> str:
        qs = "\n".join(f"{i + 1}. {q}" for i, q in enumerate(options.questions))
        body = (f"Answer these questions about the video:\n{qs}\n"
                "For each answer, cite the timestamp labels of the frames that support it.")
        if partial:
            body += " If this part does not show the answer, say 'not in this part'."
        return f"{body}{self.reply_form(structured)}{language(options)}"

    def parse(self, text: str, check: TimeCheck, plan: Plan) -> dict[str, Any]:
        from ..parsing import parse_answers

        return {"answers": tuple(parse_answers(text, plan.prompt.questions, check))}

    def fields(self, value: Any) -> dict[str, Any]:
        answers = value.answers
        if not answers:
            return {}
        one = len(answers) == 1
        return {"answer": answers[0].text if one else None,
                "moments": [moment_json(m) for m in answers[0].moments] if one else None,
                "answers": [answer_json(a) for a in answers]}


TASK = Ask()
