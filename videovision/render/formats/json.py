"""The task's JSON document (:mod:`videovision.render.documents`)."""

from __future__ import annotations

from ..documents import dumps
from . import Format

FORMAT = Format("json", lambda task, value, extra: (dumps(task.document(value, extra)), ()), json=True, rank=9)
