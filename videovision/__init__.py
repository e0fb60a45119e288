"""videovision: understand recorded video with vision language models.

    probe -> sample -> pack -> prompt -> ask -> parse -> render

>>> import videovision as vv
>>> with vv.open_video("talk.mp4") as video:            # doctest: +SKIP
...     frames = list(vv.sample(video, vv.SamplingConfig(strategy="scenes")))

The public names are imported on first use (PEP 562), so ``import videovision`` and
``videovision --version`` do not load PyAV, OpenCV, NumPy or the openai SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

_EXPORTS: dict[str, tuple[str, ...]] = {
    ".store": ("Cache", "open_cache"),
    ".client": ("ChatClient", "ClientConfig", "OpenAIChatClient"),
    ".errors": (
        "AuthenticationError", "BudgetError", "CacheError", "ConfigError", "ContentRefusedError",
        "ContextLengthError", "EndpointConnectionError", "IncompleteReplyError", "ModelNotFoundError",
        "QuotaExceededError", "RateLimitError", "RequestError", "RequestTimeoutError", "ResponseFormatError",
        "SamplingError", "ServerError", "UsageMismatchError", "VideoOpenError", "VideovisionError",
    ),
    ".asking": ("RunProgress",),
    ".batch": ("BatchOptions", "BatchSummary", "find_videos", "run_batch"),
    ".search": ("search",),
    ".chat": ("ChatTurn", "Conversation"),
    ".clips": ("ClipResult", "clip_at", "clips_for_moments", "cut_clip"),
    ".report": ("render_report",),
    ".packing": ("Budget", "PackConfig", "Packing", "ProviderLimits", "load_provider", "pack"),
    ".parsing": ("TimeCheck",),
    ".plan": ("Plan", "TaskConfig"),
    ".pipeline": ("TaskResult", "extract_frames", "make_plan", "run_plan", "transcribe_video"),
    ".prompts": ("PromptOptions", "build_request"),
    ".sampling": ("FrameStream", "sample"),
    ".source": ("VideoSource", "open_video", "probe"),
    ".models": ("ModelSpec", "estimate_cost", "image_tokens", "register_model", "resolve_model", "target_size"),
    ".speech": ("Segment", "Transcript"),
    ".types": (
        "Answer", "Chapter", "Chapters", "ChatResult", "DroppedFrame", "Frame", "Moment", "PackedImage",
        "SamplingConfig", "Scene", "SpeechConfig", "Summary", "Usage", "VideoInfo",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'videovision' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # the names as static tools see them
    from .asking import RunProgress
    from .batch import BatchOptions, BatchSummary, find_videos, run_batch
    from .chat import ChatTurn, Conversation
    from .client import ChatClient, ClientConfig, OpenAIChatClient
    from .clips import ClipResult, clip_at, clips_for_moments, cut_clip
    from .errors import (
        AuthenticationError,
        BudgetError,
        CacheError,
        ConfigError,
        ContentRefusedError,
        ContextLengthError,
        EndpointConnectionError,
        IncompleteReplyError,
        ModelNotFoundError,
        QuotaExceededError,
        RateLimitError,
        RequestError,
        RequestTimeoutError,
        ResponseFormatError,
        SamplingError,
        ServerError,
        UsageMismatchError,
        VideoOpenError,
        VideovisionError,
    )
    from .models import ModelSpec, estimate_cost, image_tokens, register_model, resolve_model, target_size
    from .packing import Budget, PackConfig, Packing, ProviderLimits, load_provider, pack
    from .parsing import TimeCheck
    from .pipeline import TaskResult, extract_frames, make_plan, run_plan, transcribe_video
    from .plan import Plan, TaskConfig
    from .prompts import PromptOptions, build_request
    from .report import render_report
    from .sampling import FrameStream, sample
    from .search import search
    from .source import VideoSource, open_video, probe
    from .speech import Segment, Transcript
    from .store import Cache, open_cache
    from .types import (
        Answer,
        Chapter,
        Chapters,
        ChatResult,
        DroppedFrame,
        Frame,
        Moment,
        PackedImage,
        SamplingConfig,
        Scene,
        SpeechConfig,
        Summary,
        Usage,
        VideoInfo,
    )
