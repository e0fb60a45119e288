"""The public API: pinned, importable, and the README's library example works."""

from media import DEMO

import videovision as vv

EXPECTED = {
    "Answer", "AuthenticationError", "Budget", "BudgetError", "Cache", "CacheError", "Chapter", "Chapters",
    "ChatClient", "ChatResult", "ClientConfig", "ConfigError", "ContentRefusedError", "ContextLengthError",
    "DroppedFrame", "EndpointConnectionError", "Frame", "FrameStream", "IncompleteReplyError", "ModelNotFoundError",
    "ModelSpec", "Moment", "OpenAIChatClient", "PackConfig", "PackedImage", "Packing", "Plan", "PromptOptions",
    "ProviderLimits", "QuotaExceededError", "RateLimitError", "RequestError", "RequestTimeoutError", "ResponseFormatError",
    "SamplingConfig", "SamplingError", "Scene", "Segment", "SpeechConfig", "Transcript", "ServerError", "Summary", "TaskConfig", "TaskResult",
    "TimeCheck", "Usage", "VideoInfo", "VideoOpenError", "VideoSource", "VideovisionError", "build_request",
    "estimate_cost", "extract_frames", "image_tokens", "load_provider", "make_plan", "open_cache",
    "open_video", "pack", "probe", "register_model", "resolve_model", "run_plan", "sample", "target_size", "transcribe_video",
    "ChatTurn", "Conversation", "RunProgress", "UsageMismatchError", "ClipResult", "clip_at", "clips_for_moments",
    "cut_clip", "render_report", "BatchOptions", "BatchSummary", "find_videos", "run_batch", "search",
}


def test_all_is_pinned_and_importable():
    assert set(vv.__all__) == EXPECTED
    assert all(hasattr(vv, name) for name in vv.__all__)


def test_every_error_is_a_videovision_error():
    errors = [getattr(vv, n) for n in vv.__all__ if n.endswith("Error")]
    assert all(issubclass(e, vv.VideovisionError) for e in errors)
    assert issubclass(vv.RequestTimeoutError, vv.RequestError)


def test_readme_library_example():
    with vv.open_video(DEMO) as video:
        assert (video.info.width, video.info.height) == (640, 360)
        frames = list(vv.sample(video, vv.SamplingConfig(strategy="scenes")))
    assert len(frames) == 7 and all(f.image.shape == (360, 640, 3) for f in frames)
    plan = vv.make_plan(DEMO, vv.TaskConfig())
    assert 1 <= len(plan.images) <= 32 and plan.requests[0].body["messages"][0]["role"] == "system"


def test_import_and_version_load_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys, videovision; from videovision import cli; "
            "print(sorted(m for m in ('av', 'cv2', 'numpy', 'openai', 'scenedetect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_plan_loads_no_sdk_until_a_request_is_sent(tmp_path):
    """Planning is offline: the openai SDK (about half a second of start-up) loads only when a request goes out."""
    import subprocess
    import sys

    code = ("import sys, videovision as vv; plan = vv.make_plan(sys.argv[1], vv.TaskConfig()); "
            "assert plan.requests and plan.requests[0].body; print('openai' in sys.modules)")
    env = {**__import__("os").environ, "VIDEOVISION_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code, str(DEMO)], capture_output=True, text=True, check=True,
                         env=env).stdout
    assert out.strip() == "False"
