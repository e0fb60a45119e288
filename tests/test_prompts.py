"""The request body: labels before images, explicit detail, task wording, provider differences."""

import pytest

from videovision.errors import ConfigError
from videovision.models import resolve_model
from videovision.packing import PROVIDERS
from videovision.prompts import (
    PromptOptions,
    build_reduce_request,
    build_request,
    default_output_tokens,
)
from videovision.types import PackedImage, VideoInfo

INFO = VideoInfo(path="v.mp4", duration=125.0, width=640, height=360, coded_width=640, coded_height=360, rotation=0,
                 sample_aspect_ratio=(1, 1), fps=25.0, frame_count=3125, codec="h264",
                 container="mov", has_audio=False, start_time=0.0, variable_frame_rate=False, size_bytes=1)


def image(t):
    return PackedImage(time=t, index=int(t * 25), scene=None, data=b"\xff\xd8\xff" + b"0" * 20, mime="image/jpeg",
                       width=512, height=288, tokens=85, label=f"[00:00:{t:04.1f}]")


IMAGES = [image(0.0), image(5.0), image(10.0)]


def user_parts(body):
    return body["messages"][-1]["content"]


def test_each_image_follows_its_label_and_has_explicit_detail():
    body = build_request("gpt-4o", IMAGES, INFO, PromptOptions(), detail="low")
    parts = user_parts(body)
    assert parts[0]["type"] == "text" and "00:02:05.0" in parts[0]["text"]  # the duration is stated
    for i, img in enumerate(IMAGES):
        label, part = parts[1 + 2 * i], parts[2 + 2 * i]
        assert label == {"type": "text", "text": img.label}
        assert part["image_url"]["detail"] == "low" and part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert body["max_completion_tokens"] == 1200 and body["temperature"] == 0.2
    assert "cite the label" in body["messages"][0]["content"]


@pytest.mark.parametrize("model", ["o3", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.2"])
def test_reasoning_models_get_no_temperature(model):
    body = build_request(model, IMAGES, INFO, PromptOptions())
    assert "temperature" not in body and body["reasoning_effort"] == "low"
    assert resolve_model(model).reasoning and default_output_tokens(model) > default_output_tokens("gpt-4o")


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-mini", "gpt-5-chat-latest", "gpt-5.2-chat-latest", "llava"])
def test_other_models_keep_the_temperature(model):
    body = build_request(model, IMAGES, INFO, PromptOptions())
    assert body["temperature"] == 0.2 and "reasoning_effort" not in body


def test_unknown_reasoning_names_are_guessed_from_the_name():
    assert resolve_model("o7-preview").reasoning and resolve_model("openai/gpt-5.9").reasoning
    assert not resolve_model("qwen2.5vl:7b").reasoning


def test_local_provider_uses_max_tokens_and_no_detail_or_schema():
    body = build_request("llava", IMAGES, INFO, PromptOptions(task="ask", questions=("Who?",)), limits=PROVIDERS["local"])
    assert "max_tokens" in body and "max_completion_tokens" not in body
    assert all("detail" not in p["image_url"] for p in user_parts(body) if p["type"] == "image_url")
    assert "response_format" not in body and "[00:01:05.2]" in user_parts(body)[-1]["text"]


def test_ask_uses_a_strict_json_schema_with_every_question():
    body = build_request("gpt-4o", IMAGES, INFO, PromptOptions(task="ask", questions=("Who?", "When?")))
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert "1. Who?" in user_parts(body)[-1]["text"] and "2. When?" in user_parts(body)[-1]["text"]


def test_options_shape_the_instruction():
    text = user_parts(build_request("gpt-4o", IMAGES, INFO, PromptOptions(style="bullet", language="German")))[-1]["text"]
    assert "bulleted" in text and "German" in text
    custom = user_parts(build_request("gpt-4o", IMAGES, INFO, PromptOptions(instruction="Count the cars.")))[-1]["text"]
    assert "Count the cars." in custom


def test_chunk_and_reduce_requests():
    chunk = build_request("gpt-4o", IMAGES, INFO, PromptOptions(), time_range=(0.0, 12.0), partial=True)
    assert "only the part from 00:00:00.0 to 00:00:12.0" in user_parts(chunk)[0]["text"]
    reduce = build_reduce_request("gpt-4o", [((0.0, 12.0), "A dog [00:00:05.0]."), ((12.0, 125.0), "A cat.")], INFO,
                                  PromptOptions())
    assert all(isinstance(m["content"], str) for m in reduce["messages"])
    assert "[00:00:05.0]" in reduce["messages"][-1]["content"]


def test_requests_about_the_same_frames_share_their_prefix_and_end_with_the_task():
    """Prompt caching discounts a byte-identical prefix: the question must come after every image."""
    import json

    who = build_request("gpt-4o", IMAGES, INFO, PromptOptions(task="ask", questions=("Who?",)))
    when = build_request("gpt-4o", IMAGES, INFO, PromptOptions(task="ask", questions=("When does it rain?",)))
    summary = build_request("gpt-4o", IMAGES, INFO, PromptOptions())
    a, b, c = (json.dumps(user_parts(x)) for x in (who, when, summary))
    prefix = json.dumps(user_parts(who)[:-1])[:-1]  # every part but the task, without the closing bracket
    assert a.startswith(prefix) and b.startswith(prefix) and c.startswith(prefix)
    assert "Who?" in user_parts(who)[-1]["text"] and "Who?" not in prefix
    assert user_parts(who)[-2]["type"] == "image_url"  # nothing but the task after the last image
    assert who["messages"][0] == when["messages"][0] == summary["messages"][0]
    extra = build_request("gpt-4o", IMAGES, INFO, PromptOptions(task="ask", questions=("Who?",)),
                          extra_instruction="Look closely.")
    assert user_parts(extra)[-1]["text"].endswith("Look closely.")
    assert json.dumps(user_parts(extra)).startswith(prefix)


def test_invalid_options():
    with pytest.raises(ConfigError):
        PromptOptions(task="ask")
    with pytest.raises(ConfigError):
        PromptOptions(style="poem")
    with pytest.raises(ConfigError):
        PromptOptions(task="ask", questions=("  ",))
