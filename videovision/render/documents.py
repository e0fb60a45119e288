"""Every JSON document videovision prints, built in one place: each starts with ``schema_version``
(:data:`videovision.types.SCHEMA_VERSION`, docs/json.md), then its fields.

    document(video=..., hits=[...])       -> {"schema_version": 1, "video": ..., "hits": [...]}
    result_document(result, fields)       -> a task's result (TaskResult.to_json)
    dumps(data)                           -> the text written (indented, UTF-8 kept)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..types import SCHEMA_VERSION, Answer, Chapters, Moment

if TYPE_CHECKING:
    from ..pipeline import TaskResult


def document(**fields: Any) -> dict[str, Any]:
    """A JSON document: ``schema_version``, then ``fields`` in their order."""
    return {"schema_version": SCHEMA_VERSION, **fields}


def moment_json(m: Moment) -> dict:
    return {
        "time": round(m.time, 3),
        "end": round(m.end, 3) if m.end is not None else None,
        "text": m.text,
        "frame_time": round(m.frame_time, 3) if m.frame_time is not None else None,
        "supported": m.supported,
        "refined": m.refined,
    }


def answer_json(a: Answer) -> dict:
    """One answer in the result JSON (``answered_with``: index of the answer holding this one's text)."""
    return {"question": a.question, "answer": a.text, "moments": [moment_json(m) for m in a.moments],
            "rejected": list(a.rejected), "warnings": list(a.warnings), "answered_with": a.answered_with}


def chapters_json(chapters: Chapters) -> list[dict]:
    return [{"start": round(c.start, 3), "end": round(c.end, 3), "title": c.title, "summary": c.summary,
             "supported": c.supported}
            for c in chapters.chapters]


def dumps(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def round_cost(value: float | None) -> float | None:
    """A cost in USD as JSON gives it: six decimals, None when unknown."""
    return None if value is None else round(value, 6)


def result_document(result: TaskResult, fields: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict:
    """A task's result: the video, model and frames sent, the task's own ``fields``, then usage,
    warnings, screen text, the refine pass, cost, requests and the run id; ``extra`` last (``clips``)."""
    plan = result.plan
    data = document(video=plan.video.path, model=plan.model, frames_sent=len(plan.sent_times), **fields)
    usage = result.usage
    data["usage"] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        "estimated_image_tokens": plan.image_tokens,
    }
    data["warnings"] = list(result.warnings)
    if plan.screen_text is not None and plan.screen_text.read:  # searchable by time (search.py)
        data["screen_text"] = [{"time": round(f.time, 3), "text": "\n".join(f.new_lines)}
                               for f in plan.screen_text.frames if f.new_lines]
    if result.refine_outcomes:
        data["refine_frames_sent"] = len(result.refine_times)
        data["refine"] = [{"question": o.window.question, "cited": round(o.window.cited, 3),
                           "window": [round(o.window.start, 3), round(o.window.end, 3)],
                           "frames": len(o.window.times), "status": o.status,
                           "time": None if o.time is None else round(o.time, 3)} for o in result.refine_outcomes]
    data["estimated_cost_usd"] = round_cost(result.estimated_cost_usd)
    data["requests"] = result.requests_made
    data["cache_hits"] = result.cache_hits
    data["run_id"] = result.run_id
    data.update(extra or {})
    return data
