"""Library entry points that run the stages end to end (the CLI calls exactly one of these).

    probe -> sample -> [export]                       extract_frames
    probe -> sample -> pack                           plan_request
    probe -> sample -> pack -> prompt -> ask -> parse summarize / ask / chapters
"""

from __future__ import annotations

import os
from typing import Callable

from .export import ExportResult, export_frames
from .sampling import sample
from .source import open_video
from .types import SamplingConfig

Progress = Callable[[float, float], None]


def extract_frames(
    video: str | os.PathLike,
    config: SamplingConfig,
    out_dir: str | os.PathLike,
    *,
    progress: Progress | None = None,
) -> ExportResult:
    """Sample a video and write the frames, contact sheets and ``frames.json`` into ``out_dir``.

    Args:
        video: path of the video.
        config: sampling options.
        out_dir: destination folder.
        progress: optional ``progress(done_seconds, total_seconds)`` callback.

    Returns:
        What was written.

    Raises:
        VideoOpenError, ConfigError, SamplingError.
    """
    with open_video(video) as source:
        stream = sample(source, config, progress=progress)
        sampling = {
            "strategy": config.strategy,
            "every": config.every if config.strategy == "interval" else None,
            "count": config.count if config.strategy == "uniform" else None,
            "max_gap": config.max_gap if config.strategy == "hybrid" else None,
            "start": config.start,
            "end": config.end,
            "max_side": config.max_side,
            "dedup": config.dedup,
            "detector": config.detector if config.strategy in ("scenes", "hybrid") else None,
        }
        result = export_frames(stream, source.info, out_dir, scenes=stream.scenes, extra={
            "sampling": sampling, "duplicates_dropped": stream.duplicates_dropped})
    return result
