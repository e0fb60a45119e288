"""A video's resume key: what decides that a video is unchanged since an earlier batch."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from .._version import __version__
from ..plan import TaskConfig

__all__ = ["KEY_FORMAT", "video_key"]

KEY_FORMAT = 1
"""Version of what a video's resume key holds."""


def video_key(digest: str, task: str, config: TaskConfig, endpoint: str) -> str:
    """What decides "unchanged": the video's content, the task, its options, the endpoint and the
    videovision version (a new version may sample or parse differently)."""
    from ..models import resolve_model
    from ..tasks import task_named

    options: Any = (asdict(config.speech) if not task_named(task).plans  # a models file can change a model's table
                    else {**asdict(config), "model_spec": resolve_model(config.pack.model).to_dict()})
    payload = {"f": KEY_FORMAT, "version": __version__, "digest": digest, "task": task, "options": options,
               "endpoint": endpoint}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
