"""Plain text: the task's own text (notes left out)."""

from __future__ import annotations

from . import Format

FORMAT = Format("text", lambda task, value, extra: (task.text(value, notes=False), ()), rank=0)
