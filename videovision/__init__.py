"""videovision: understand recorded video with vision language models.

    probe -> sample -> pack -> prompt -> ask -> parse -> render

>>> import videovision as vv
>>> with vv.open_video("talk.mp4") as video:            # doctest: +SKIP
...     frames = list(vv.sample(video, vv.SamplingConfig(strategy="scenes")))
"""

__version__ = "0.1.0"

from .cache import Cache, NullCache, open_cache
from .client import ChatClient, ClientConfig, OpenAIChatClient
from .errors import (
    AuthenticationError,
    BudgetError,
    CacheError,
    ConfigError,
    ContentRefusedError,
    ContextLengthError,
    EndpointConnectionError,
    ModelNotFoundError,
    RateLimitError,
    RequestError,
    RequestTimeoutError,
    ResponseFormatError,
    SamplingError,
    ServerError,
    VideoOpenError,
    VideovisionError,
)
from .packing import Budget, PackConfig, Packing, ProviderLimits, load_provider, pack
from .parsing import TimeCheck
from .pipeline import Plan, TaskConfig, TaskResult, extract_frames, make_plan, run_plan
from .prompts import PromptOptions, build_request
from .sampling import FrameStream, sample
from .source import VideoSource, open_video, probe
from .tokens import estimate_cost, image_tokens, register_model, target_size
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
    Summary,
    Usage,
    VideoInfo,
)


__all__ = [
    "Answer", "AuthenticationError", "Budget", "BudgetError", "Cache", "CacheError", "Chapter", "Chapters",
    "ChatClient", "ChatResult", "ClientConfig", "ConfigError", "ContentRefusedError", "ContextLengthError",
    "DroppedFrame", "EndpointConnectionError", "Frame", "FrameStream", "ModelNotFoundError", "Moment",
    "NullCache", "OpenAIChatClient", "PackConfig", "PackedImage", "Packing", "Plan", "PromptOptions",
    "ProviderLimits", "RateLimitError", "RequestError", "RequestTimeoutError", "ResponseFormatError",
    "SamplingConfig", "SamplingError", "Scene", "ServerError", "Summary", "TaskConfig", "TaskResult",
    "TimeCheck", "Usage", "VideoInfo", "VideoOpenError", "VideoSource", "VideovisionError", "build_request",
    "estimate_cost", "extract_frames", "image_tokens", "load_provider", "make_plan", "open_cache",
    "open_video", "pack", "probe", "register_model", "run_plan", "sample", "target_size",
]
