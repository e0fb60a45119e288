"""Markdown (``--markdown``): the task's text with headings and links."""

from __future__ import annotations

from . import Format

FORMAT = Format("markdown", lambda task, value, extra: (task.text(value, markdown=True, notes=False), ()),
                frozenset({"summarize", "ask", "chapters"}), option=False, rank=1)
