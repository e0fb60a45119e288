"""The wire: OpenAIChatClient against a real loopback OpenAI-compatible server (tests/fakeserver.py)."""

from __future__ import annotations

import base64
import json
import logging
import socket
import time

import cv2
import numpy as np
import pytest
from fakeserver import FakeOpenAIServer, default_responder

from videovision import defaults
from videovision.client import (
    LOCAL_PLACEHOLDER_KEY,
    ClientConfig,
    IncompleteReplyError,
    OpenAIChatClient,
    QuotaExceededError,
    billed_usage,
    redact_body,
    scrub_secrets,
    stops_run,
)
from videovision.errors import (
    AuthenticationError,
    ConfigError,
    ContentRefusedError,
    ContextLengthError,
    EndpointConnectionError,
    ModelNotFoundError,
    RateLimitError,
    RequestError,
    RequestTimeoutError,
    ResponseFormatError,
    ServerError,
)
from videovision.redact import display_url, url_host
from videovision.types import ChatResult, Usage

KEY = "sk-test-SENTINEL-123"
MODEL = "gpt-4o"


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def server():
    with FakeOpenAIServer(api_key=KEY, models=["gpt-4o", "gpt-4o-mini"]) as srv:
        yield srv
        assert srv.errors == []


def make_client(server: FakeOpenAIServer, **overrides) -> OpenAIChatClient:
    settings = {"api_key": KEY, "base_url": server.base_url, "timeout": 5.0, "max_retries": 0, **overrides}
    return OpenAIChatClient(ClientConfig(**settings))


def image_url(fmt: str = "jpeg", width: int = 32, height: int = 24) -> str:
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (0, 128, 255)
    ok, buf = cv2.imencode("." + ("jpg" if fmt == "jpeg" else fmt), image)
    assert ok
    return f"data:image/{fmt};base64," + base64.b64encode(buf.tobytes()).decode()


def frame_parts(times: list[float], url: str | None = None, detail: str = "low") -> list[dict]:
    parts: list[dict] = []
    for t in times:
        minutes, seconds = divmod(t, 60)
        parts.append({"type": "text", "text": f"[00:{int(minutes):02d}:{seconds:04.1f}]"})
        parts.append({"type": "image_url", "image_url": {"url": url or image_url(), "detail": detail}})
    return parts


def chat_body(times: tuple[float, ...] = (0.0, 5.0), **extra) -> dict:
    content = [{"type": "text", "text": "What happens in this video?"}, *frame_parts(list(times))]
    return {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You describe videos from their frames."},
            {"role": "user", "content": content},
        ],
        "max_completion_tokens": 200,
        **extra,
    }


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- success


def test_complete_returns_text_usage_model_and_request_id(server):
    body = chat_body()
    snapshot = json.dumps(body)
    with make_client(server) as client:
        result = client.complete(body)

    assert isinstance(result, ChatResult)
    assert result.text == "Frames at [00:00:00.0], [00:00:05.0] show a test pattern."
    assert result.model == MODEL
    assert result.finish_reason == "stop"
    assert result.request_id == server.chat_requests[0].request_id
    assert result.request_id.startswith("req_")
    assert result.usage.completion_tokens == 15  # ceil(len(text) / 4)
    assert result.usage.prompt_tokens > 2 * 85  # two low-detail images and the text
    assert json.dumps(body) == snapshot  # not modified

    sent = server.chat_requests[0]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.body["max_completion_tokens"] == 200
    assert "stream" not in sent.body
    assert [(i.format, i.width, i.height, i.detail, i.label) for i in sent.images] == [
        ("jpeg", 32, 24, "low", "[00:00:00.0]"),
        ("jpeg", 32, 24, "low", "[00:00:05.0]"),
    ]


def test_fields_the_sdk_does_not_name_go_through_as_extra_body(server):
    with make_client(server) as client:
        client.complete(chat_body(top_k=20, stream=True, stream_options={"include_usage": True}))
    sent = server.chat_requests[0].body
    assert sent["top_k"] == 20
    assert "stream" not in sent and "stream_options" not in sent  # the client decides streaming


def test_json_schema_response_format_reaches_the_server(server):
    schema = {
        "type": "object",
        "properties": {
            "moments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"time": {"type": "number"}, "text": {"type": "string"}},
                    "required": ["time", "text"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["moments"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    with make_client(server) as client:
        result = client.complete(chat_body(response_format=fmt))
    assert json.loads(result.text) == {
        "moments": [
            {"time": 0.0, "text": "a test pattern at [00:00:00.0]"},
            {"time": 5.0, "text": "a test pattern at [00:00:05.0]"},
        ]
    }


def test_a_custom_responder_scripts_the_answer():
    seen: list[dict] = []

    def responder(body: dict) -> str:
        seen.append(body)
        return "scripted: " + default_responder(body)

    with FakeOpenAIServer(responder=responder) as srv, make_client(srv) as client:
        assert client.complete(chat_body(times=(1.0,))).text == "scripted: Frames at [00:00:01.0] show a test pattern."
    assert seen[0]["model"] == MODEL


# --------------------------------------------------------------------------- streaming


def test_streaming_calls_on_text_with_each_delta_and_reports_usage(server):
    deltas: list[str] = []
    with make_client(server) as client:
        streamed = client.complete(chat_body(), on_text=deltas.append)
        plain = client.complete(chat_body())

    assert len(deltas) > 3
    assert "".join(deltas) == streamed.text == plain.text
    assert streamed.usage == plain.usage != Usage()
    assert streamed.finish_reason == "stop"
    assert streamed.model == MODEL
    assert streamed.request_id == server.chat_requests[0].request_id
    sent = server.chat_requests[0].body
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_streaming_falls_back_to_a_plain_request_when_stream_options_are_rejected():
    deltas: list[str] = []
    with FakeOpenAIServer(supports_stream_options=False) as srv, make_client(srv) as client:
        result = client.complete(chat_body(), on_text=deltas.append)
        assert "".join(deltas) == result.text
        assert result.usage.prompt_tokens > 0
        assert [r.status for r in srv.chat_requests] == [400, 200]
        assert "stream" not in srv.chat_requests[1].body


def test_an_exception_from_on_text_propagates_unchanged(server):
    class Stop(Exception):
        pass

    def on_text(text: str) -> None:
        raise Stop(text)

    with make_client(server) as client, pytest.raises(Stop):
        client.complete(chat_body(), on_text=on_text)


# --------------------------------------------------------------------------- faults -> errors

FAULTS = [
    # fault, error class, status, words in the message
    ("401", AuthenticationError, 401, "API key rejected (401): check OPENAI_API_KEY"),
    ("403", AuthenticationError, 403, "access denied (403)"),
    ("404", ModelNotFoundError, 404, "model 'gpt-4o' not found at 127.0.0.1:"),
    ("429", RateLimitError, 429, "retries are disabled: wait a minute and try again, or raise --max-retries"),
    ("quota", QuotaExceededError, 429, "quota exceeded (429)"),
    ("500", ServerError, 500, "server error (500)"),
    ("503", ServerError, 503, "server error (503)"),
    ("context", ContextLengthError, 400, "--max-frames / --max-image-tokens"),
    ("content_policy", ContentRefusedError, 400, "content filter refused"),
    ("refusal", ContentRefusedError, 200, "the model refused to answer"),
    ("content_filter", ContentRefusedError, 200, "content filter stopped the answer"),
    ("length", ResponseFormatError, 200, "the answer was cut off at the output limit: raise --max-output-tokens"),
    ("malformed", ResponseFormatError, 200, "not a chat completion"),
    ("html", ResponseFormatError, 200, "not a chat completion"),
    ("empty", ResponseFormatError, 200, "no choices"),
]


@pytest.mark.parametrize("fault, error, status, words", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_maps_to_one_error_class(server, fault, error, status, words):
    server.enqueue_fault(fault, retry_after=0.01)
    with make_client(server) as client, pytest.raises(error) as info:
        client.complete(chat_body())
    err = info.value
    assert type(err) is error
    assert err.status_code == status
    assert words in str(err)
    assert err.request_id == server.chat_requests[0].request_id  # known even for unusable 200s
    assert "\n" not in str(err)
    if status not in (None, 200):
        assert err.__cause__ is not None  # raise ... from the SDK's error


@pytest.mark.parametrize(
    "fault, error",
    [("429", RateLimitError), ("length", ResponseFormatError), ("refusal", ContentRefusedError), ("context", ContextLengthError)],
)
def test_faults_map_the_same_way_when_streaming(server, fault, error):
    server.enqueue_fault(fault, retry_after=0.01)
    with make_client(server) as client, pytest.raises(error):
        client.complete(chat_body(), on_text=lambda text: None)


def test_the_sdk_retries_a_429_after_retry_after_and_succeeds(server):
    server.enqueue_fault("429", retry_after=0.01)
    with make_client(server, max_retries=2) as client:
        result = client.complete(chat_body())
    assert result.text.startswith("Frames at")
    chats = server.chat_requests
    assert [r.status for r in chats] == [429, 200]
    assert chats[1].headers["x-stainless-retry-count"] == "1"
    assert result.request_id == chats[1].request_id


def test_429_after_the_retries_are_spent_says_so(server):
    server.enqueue_fault("429", retry_after=0.01, times=3)
    with make_client(server, max_retries=2) as client, pytest.raises(RateLimitError) as info:
        client.complete(chat_body())
    assert server.request_count == 3
    assert "the 2 retries were exhausted" in str(info.value)


def test_5xx_after_the_retries_are_spent_is_a_server_error(server):
    server.enqueue_fault("503", retry_after=0.01, times=2)
    with make_client(server, max_retries=1) as client, pytest.raises(ServerError) as info:
        client.complete(chat_body())
    assert server.request_count == 2
    assert "after 1 retry" in str(info.value)
    assert info.value.request_id == server.chat_requests[-1].request_id


def test_no_reply_within_the_timeout_is_a_timeout_error_and_the_server_still_stops_fast(server):
    server.enqueue_fault("slow", delay=2.0)
    started = time.monotonic()
    with make_client(server, timeout=0.5) as client, pytest.raises(RequestTimeoutError) as info:
        client.complete(chat_body())
    assert time.monotonic() - started < 1.8
    assert str(info.value) == (
        f"no complete reply from 127.0.0.1:{server.port} within 0.5 s (with retries disabled): raise --timeout"
    )
    stopping = time.monotonic()
    server.stop()  # the slow handler is still waiting: stopping must wake it
    assert time.monotonic() - stopping < 1.0


def test_a_refused_connection_is_an_endpoint_connection_error():
    port = unused_port()
    config = ClientConfig(api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with OpenAIChatClient(config) as client, pytest.raises(EndpointConnectionError) as info:
        client.complete(chat_body())
    assert str(info.value).startswith(f"cannot reach http://127.0.0.1:{port}/v1: is the server running?")
    assert info.value.status_code is None


def test_a_dropped_connection_is_an_endpoint_connection_error(server):
    server.enqueue_fault("disconnect")
    with make_client(server) as client, pytest.raises(EndpointConnectionError, match="closed without a reply"):
        client.complete(chat_body())


def test_an_unknown_model_is_model_not_found(server):
    with make_client(server) as client, pytest.raises(ModelNotFoundError) as info:
        client.complete(chat_body(model="gpt-nope"))
    assert str(info.value) == f"model 'gpt-nope' not found at 127.0.0.1:{server.port}: check --model"
    assert info.value.status_code == 404


def test_a_wrong_base_url_path_says_to_check_the_base_url(server):
    config = ClientConfig(api_key=KEY, base_url=server.url, max_retries=0)  # missing /v1
    with OpenAIChatClient(config) as client, pytest.raises(RequestError) as info:
        client.complete(chat_body())
    assert type(info.value) is RequestError
    assert info.value.status_code == 404
    assert "check --base-url" in str(info.value)


def test_a_wrong_key_is_rejected_without_echoing_it():
    with FakeOpenAIServer(api_key="sk-the-right-key-0000") as srv, make_client(srv) as client:
        with pytest.raises(AuthenticationError) as info:
            client.complete(chat_body())
    assert info.value.status_code == 401
    assert "SENTINEL" not in str(info.value)


# --------------------------------------------------------------------------- the server's validation


def _user_message_with(parts: list[dict]) -> dict:
    return {"model": MODEL, "messages": [{"role": "user", "content": parts}], "max_completion_tokens": 50}


@pytest.mark.parametrize(
    "parts, words",
    [
        (
            [{"type": "image_url", "image_url": {"url": "data:text/plain;base64," + base64.b64encode(b"hello " * 50).decode()}}],
            "unsupported MIME type 'text/plain'",
        ),
        ([{"type": "image_url", "image_url": {"url": image_url(), "detail": "ultra"}}], "Invalid value: 'ultra'"),
        ([{"type": "image_url", "image_url": {"url": image_url("png").replace("image/png", "image/jpeg")}}], "unsupported image"),
        ([{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,!!!notbase64"}}], "not valid base64"),
        ([{"type": "video", "video": {}}], "Invalid value: 'video'"),
    ],
    ids=["not-an-image", "bad-detail", "png-labelled-jpeg", "bad-base64", "unknown-part"],
)
def test_invalid_requests_are_request_errors_with_the_servers_message(server, parts, words):
    with make_client(server) as client, pytest.raises(RequestError) as info:
        client.complete(_user_message_with(parts))
    err = info.value
    assert type(err) is RequestError
    assert err.status_code == 400
    assert str(err).startswith("request rejected (400): ")
    assert words in str(err)
    assert "aGVsbG8g" not in str(err)  # the server echoed the data URL: the base64 is stripped


def test_too_many_images_is_rejected():
    with FakeOpenAIServer(max_images=3) as srv, make_client(srv) as client:
        with pytest.raises(RequestError) as info:
            client.complete(chat_body(times=(0.0, 1.0, 2.0, 3.0)))
    assert "Too many images in request. Max is 3." in str(info.value)


def test_images_are_only_allowed_in_user_messages(server):
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": image_url()}}]},
            {"role": "user", "content": "hi"},
        ],
    }
    with make_client(server) as client, pytest.raises(RequestError, match="only allowed in messages with role 'user'"):
        client.complete(body)


def test_a_prompt_over_the_context_window_is_a_context_length_error():
    with FakeOpenAIServer(context_window=200) as srv, make_client(srv) as client:
        with pytest.raises(ContextLengthError) as info:
            client.complete(chat_body(times=(0.0, 1.0, 2.0)))
    assert info.value.status_code == 400


def test_an_answer_longer_than_the_output_limit_is_cut_off():
    with FakeOpenAIServer() as srv, make_client(srv) as client:
        with pytest.raises(ResponseFormatError, match="raise --max-output-tokens"):
            client.complete(chat_body(max_completion_tokens=3))


def test_a_non_strict_schema_in_strict_mode_is_rejected(server):
    schema = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "summary", "schema": schema, "strict": True}}
    with make_client(server) as client, pytest.raises(RequestError, match="'additionalProperties' is required"):
        client.complete(chat_body(response_format=fmt))


def test_a_parameter_the_model_does_not_support_is_rejected():
    with FakeOpenAIServer(unsupported_params={"o3": ["max_tokens"]}) as srv, make_client(srv) as client:
        body = chat_body(model="o3", max_tokens=100)
        del body["max_completion_tokens"]
        with pytest.raises(RequestError, match="Use 'max_completion_tokens' instead"):
            client.complete(body)


def test_the_server_lists_its_models(server):
    import openai

    sdk = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    assert [m.id for m in sdk.models.list().data] == ["gpt-4o", "gpt-4o-mini"]
    sdk.close()


# --------------------------------------------------------------------------- configuration


def test_config_defaults_and_repr_never_show_the_key():
    config = ClientConfig(api_key=KEY)
    assert config.timeout == defaults.TIMEOUT == 120.0
    assert config.max_retries == defaults.MAX_RETRIES == 2
    assert "SENTINEL" not in repr(config) and "SENTINEL" not in str(config)
    assert "api_key='***'" in repr(config)
    assert "SENTINEL" not in repr(OpenAIChatClient(config))


def test_config_from_env_reads_the_openai_variables_and_overrides_win():
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "http://localhost:11434/v1"}
    config = ClientConfig.from_env(env, timeout=30, base_url=None)
    assert (config.api_key, config.base_url, config.timeout) == (KEY, "http://localhost:11434/v1", 30)
    assert ClientConfig.from_env({}, base_url="http://x:1/v1").api_key is None
    with pytest.raises(ConfigError):
        ClientConfig.from_env({}, colour="red")


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": float("nan")}, {"max_retries": -1}, {"base_url": "localhost:8000"}])
def test_invalid_config_values_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        ClientConfig(**kwargs)


@pytest.mark.parametrize("url", ["http://[x/v1", "http://localhost:99999/v1", "http://localhost:port/v1"])
def test_malformed_base_urls_are_config_errors(url):
    with pytest.raises(ConfigError, match=r"^invalid base URL .*: use http\(s\)://host\[:port\]/v1"):
        ClientConfig(base_url=url)
    with pytest.raises(ConfigError):
        ClientConfig.from_env({"OPENAI_BASE_URL": url})


def test_urls_are_shown_without_credentials_and_hosts_keep_their_port():
    url = "https://user:sk-SECRETSECRET1234@api.example.com:8443/v1/?key=abc#frag"
    assert display_url(url) == "https://api.example.com:8443/v1"
    assert url_host(url) == "api.example.com:8443"
    assert url_host("localhost:11434") == "localhost:11434"
    assert url_host("http://[::1]:8080/v1") == "[::1]:8080"
    assert (url_host(""), url_host(None), url_host("http://[x/v1"), url_host("file:///tmp/x")) == (None,) * 4
    assert display_url("http://[x/v1") == "<invalid URL>"
    with OpenAIChatClient(ClientConfig(api_key=KEY, base_url="http://u:p@127.0.0.1:9/v1/")) as client:
        assert client.endpoint == "http://u:p@127.0.0.1:9/v1"
        assert client._host == "127.0.0.1:9"


def test_client_reexports_the_moved_names():
    from videovision import errormap, errors

    assert (IncompleteReplyError, QuotaExceededError) == (errors.IncompleteReplyError, errors.QuotaExceededError)
    assert (billed_usage, stops_run) == (errormap.billed_usage, errormap.stops_run)
    assert issubclass(IncompleteReplyError, ResponseFormatError) and issubclass(QuotaExceededError, RateLimitError)
    usage = Usage(12, 34)
    assert RequestError("x", usage=usage).usage == usage == billed_usage(RequestError("x", usage=usage))
    assert RequestError("x").usage == Usage() == billed_usage(ValueError("not ours"))


def test_no_key_and_no_base_url_fails_when_creating_the_client():
    with pytest.raises(AuthenticationError) as info:
        OpenAIChatClient(ClientConfig.from_env({}))
    assert str(info.value) == (
        "no API key: set OPENAI_API_KEY, or pass --base-url for a local OpenAI-compatible server"
    )


def test_a_local_server_without_a_key_gets_a_placeholder():
    with FakeOpenAIServer() as srv:
        with OpenAIChatClient(ClientConfig(base_url=srv.base_url, max_retries=0)) as client:
            client.complete(chat_body())
        assert srv.chat_requests[0].headers["authorization"] == f"Bearer {LOCAL_PLACEHOLDER_KEY}"


# --------------------------------------------------------------------------- secrets and logs


def test_the_key_and_image_data_never_reach_messages_or_logs(server, caplog):
    caplog.set_level(logging.DEBUG)
    body = chat_body()
    b64 = body["messages"][1]["content"][2]["image_url"]["url"].split(",", 1)[1]
    messages: list[str] = []
    with make_client(server) as client:
        client.complete(body)
        client.complete(body, on_text=lambda text: None)
        for fault in ("401", "403", "404", "429", "500", "context", "content_policy", "malformed", "refusal"):
            server.enqueue_fault(fault, retry_after=0.01)
            with pytest.raises(RequestError) as info:
                client.complete(body)
            messages.append(str(info.value))
            messages.append(repr(info.value))
    with FakeOpenAIServer(api_key="sk-another-key-9999") as srv, make_client(srv) as client:
        with pytest.raises(AuthenticationError) as info:  # the server echoes a masked key
            client.complete(body)
        messages.append(str(info.value))

    logged = caplog.text
    assert "chat request to http://127.0.0.1" in logged and "bytes elided>" in logged
    assert "chat reply: model=gpt-4o" in logged
    for text in [*messages, logged]:
        assert KEY not in text and "SENTINEL" not in text
        assert b64[:40] not in text


def test_redact_body_elides_every_data_url_and_keeps_the_rest():
    body = chat_body()
    url = body["messages"][1]["content"][2]["image_url"]["url"]
    size = len(base64.b64decode(url.split(",", 1)[1]))
    redacted = redact_body(body)
    parts = redacted["messages"][1]["content"]
    assert parts[2]["image_url"] == {"url": f"data:image/jpeg;base64,<{size} bytes elided>", "detail": "low"}
    assert parts[1] == {"type": "text", "text": "[00:00:00.0]"}
    assert redacted["model"] == MODEL and redacted["max_completion_tokens"] == 200
    assert "base64,/9j" not in json.dumps(redacted)
    assert body["messages"][1]["content"][2]["image_url"]["url"] == url  # the original is untouched


# --------------------------------------------------------------------------- hardening: only finished replies


FULL_TEXT = "Frames at [00:00:00.0], [00:00:05.0] show a test pattern."


@pytest.mark.parametrize("fault", ["truncate", "truncate_done", "cut"])
def test_a_stream_that_ends_before_its_finish_reason_is_asked_again(server, fault):
    server.enqueue_fault(fault)
    deltas: list[str] = []
    with make_client(server, max_retries=1) as client:
        result = client.complete(chat_body(), on_text=deltas.append)
    assert result.text == FULL_TEXT and result.finish_reason == "stop"
    assert result.usage.completion_tokens > 0
    assert "".join(deltas) == FULL_TEXT  # what was already shown is not shown twice
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize("fault", ["truncate", "truncate_done", "cut"])
def test_a_stream_cut_off_on_every_attempt_is_an_incomplete_reply_error(server, fault):
    server.enqueue_fault(fault, times=2)
    with make_client(server, max_retries=1) as client, pytest.raises(IncompleteReplyError) as info:
        client.complete(chat_body(), on_text=lambda text: None)
    err = info.value
    assert isinstance(err, ResponseFormatError) and err.exit_code == 7
    assert "before the answer was finished" in str(err) and "after 1 retry" in str(err)
    assert err.request_id == server.chat_requests[-1].request_id
    assert len(server.chat_requests) == 2


def test_a_plain_reply_without_finish_reason_is_asked_again_then_refused(server):
    server.enqueue_fault("truncate")
    with make_client(server, max_retries=1) as client:
        assert client.complete(chat_body()).text == FULL_TEXT
    server.enqueue_fault("truncate")
    with make_client(server, max_retries=0) as client, pytest.raises(IncompleteReplyError) as info:
        client.complete(chat_body())
    assert "no finish_reason; with retries disabled" in str(info.value)
    assert billed_usage(info.value).completion_tokens > 0  # the half answer was billed


def test_a_plain_reply_cut_mid_body_is_retried(server):
    server.enqueue_fault("cut")
    with make_client(server, max_retries=1) as client:
        assert client.complete(chat_body()).text == FULL_TEXT
    assert len(server.chat_requests) == 2


def test_a_reply_with_no_choices_is_asked_again(server):
    server.enqueue_fault("empty")
    with make_client(server, max_retries=1) as client:
        assert client.complete(chat_body()).text == FULL_TEXT
    assert [r.status for r in server.chat_requests] == [200, 200]


def test_the_sdks_retries_and_ours_share_one_budget(server):
    server.enqueue_fault("429", retry_after=0.01)
    server.enqueue_fault("truncate")
    with make_client(server, max_retries=1) as client, pytest.raises(IncompleteReplyError, match="after 1 retry"):
        client.complete(chat_body(), on_text=lambda text: None)
    assert len(server.chat_requests) == 2


def test_a_retried_answer_that_differs_starts_again_on_a_new_line():
    answers = iter(["first words of one answer " * 3, "a different answer"])

    with FakeOpenAIServer(responder=lambda body: next(answers)) as srv, make_client(srv, max_retries=1) as client:
        srv.enqueue_fault("truncate")
        deltas: list[str] = []
        result = client.complete(chat_body(), on_text=deltas.append)
    shown = "".join(deltas)
    assert result.text == "a different answer"
    assert shown.endswith("\na different answer") and shown.startswith("first words")


# --------------------------------------------------------------------------- hardening: an overall deadline


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
def test_a_trickling_reply_is_stopped_at_the_timeout(server, streaming):
    # 8 bytes every 50 ms: each read comes quickly, the whole reply takes seconds
    server.enqueue_fault("trickle", delay=0.05, trickle_bytes=8 if not streaming else 64)
    started = time.monotonic()
    with make_client(server, timeout=0.6) as client, pytest.raises(RequestTimeoutError) as info:
        client.complete(chat_body(), on_text=(lambda text: None) if streaming else None)
    assert time.monotonic() - started < 1.4
    assert str(info.value).startswith(f"no complete reply from 127.0.0.1:{server.port} within 0.6 s")
    assert info.value.exit_code == 7


def test_a_read_blocked_at_the_deadline_is_woken_by_the_watchdog(server):
    # gaps of 0.7 s: under the 1 s read timeout, so only the deadline's watchdog ends the wait at 1 s
    server.enqueue_fault("trickle", delay=0.7, trickle_bytes=4096)
    started = time.monotonic()
    with make_client(server, timeout=1.0) as client, pytest.raises(RequestTimeoutError):
        client.complete(chat_body(), on_text=lambda text: None)
    assert time.monotonic() - started < 1.3


def test_the_deadline_is_per_attempt(server):
    server.enqueue_fault("trickle", delay=0.05, trickle_bytes=8, times=2)
    with make_client(server, timeout=0.5, max_retries=1) as client, pytest.raises(RequestTimeoutError) as info:
        client.complete(chat_body())
    assert "after 1 retry" in str(info.value)
    assert len(server.chat_requests) == 2
    with make_client(server, timeout=0.5, max_retries=1) as client:  # the connection pool still works
        assert client.complete(chat_body()).text == FULL_TEXT


# --------------------------------------------------------------------------- hardening: no key in any output


ECHO_KEY = "sk-proj-Echo0123456789abcdefXYZ"


def test_a_401_that_echoes_the_key_leaves_it_nowhere_not_even_in_the_traceback():
    import traceback

    with FakeOpenAIServer(api_key="sk-the-right-key-0000") as srv:
        srv.enqueue_fault("401_echo")
        with make_client(srv, api_key=ECHO_KEY) as client, pytest.raises(AuthenticationError) as info:
            client.complete(chat_body())
    err = info.value
    printed = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    assert "Incorrect API key provided" in printed  # the server's message is in the chained SDK error
    for text in (str(err), repr(err), printed):
        assert ECHO_KEY not in text and "Echo0123456789" not in text


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
def test_a_key_echoed_in_the_answer_is_scrubbed_from_the_result_and_the_stream(server, streaming):
    server.enqueue_fault("echo_key")
    deltas: list[str] = []
    with make_client(server) as client:
        result = client.complete(chat_body(), on_text=deltas.append if streaming else None)
    assert result.text.startswith(FULL_TEXT)
    assert "authorised with Bearer *** (key ***)" in result.text
    for text in (result.text, "".join(deltas)):
        assert KEY not in text and "SENTINEL" not in text
    if streaming:
        assert "".join(deltas) == result.text


def test_scrub_secrets_masks_the_keys_and_key_like_tokens_only():
    text = (
        "key sk-test-SENTINEL-123 again sk-proj-Abc123def456ghi789, "
        "header Authorization: Bearer abc.def-ghi_jkl, masked sk-ab*********wxyz, "
        "ordinary: sk-learn, risk-free, Bearer of bad news"
    )
    scrubbed = scrub_secrets(text, [KEY, None, "", "short"])
    assert scrubbed == (
        "key *** again sk-***, header Authorization: Bearer ***, masked sk-***, "
        "ordinary: sk-learn, risk-free, Bearer of bad news"
    )
    # a short key as a whole token (sk-test, ollama), never inside a longer word
    assert scrub_secrets("a short key abc1, abc12, xabc1", ["abc1"]) == "a short key ***, abc12, xabc1"


# --------------------------------------------------------------------------- hardening: billed usage, run-stopping errors


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
def test_an_answer_cut_off_at_the_output_limit_keeps_its_billed_usage(server, streaming):
    server.enqueue_fault("length")
    with make_client(server) as client, pytest.raises(ResponseFormatError) as info:
        client.complete(chat_body(), on_text=(lambda text: None) if streaming else None)
    usage = billed_usage(info.value)
    assert usage.prompt_tokens > 2 * 85 and usage.completion_tokens > 0


def test_every_request_error_carries_usage(server):
    server.enqueue_fault("500")
    with make_client(server) as client, pytest.raises(ServerError) as info:
        client.complete(chat_body())
    assert info.value.usage == Usage() == billed_usage(info.value)
    assert billed_usage(ValueError("not ours")) == Usage()


@pytest.mark.parametrize(
    "fault, stops",
    [("401", True), ("403", True), ("404", True), ("quota", True), ("429", False), ("500", False),
     ("context", False), ("length", False)],
)
def test_stops_run_after_errors_every_other_request_would_get(server, fault, stops):
    server.enqueue_fault(fault, retry_after=0.01)
    with make_client(server) as client, pytest.raises(RequestError) as info:
        client.complete(chat_body())
    assert stops_run(info.value) is stops
    if fault == "403":
        assert isinstance(info.value, AuthenticationError) and info.value.status_code == 403


def test_a_wrong_endpoint_path_stops_the_run(server):
    config = ClientConfig(api_key=KEY, base_url=server.url, max_retries=0)
    with OpenAIChatClient(config) as client, pytest.raises(RequestError) as info:
        client.complete(chat_body())
    assert stops_run(info.value)


# --------------------------------------------------------------------------- the fake server's hooks


def test_routes_are_a_table_a_new_endpoint_is_one_function(server):
    import openai

    def transcriptions(handler, rec):
        handler.check_auth()
        handler.read_body(rec)
        handler.send_json(rec, 200, {"text": "hello"})

    server.add_route("POST", "/v1/audio/transcriptions", transcriptions)
    sdk = openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0)
    result = sdk.audio.transcriptions.create(model="whisper-1", file=("a.wav", b"RIFF0000WAVE"))
    sdk.close()
    assert result.text == "hello"
    assert server.requests[-1].path == "/v1/audio/transcriptions" and server.requests[-1].status == 200


def test_held_requests_are_counted_on_arrival_and_answer_on_release(server):
    import threading

    server.enqueue_fault("hold")
    results: list[ChatResult] = []
    with make_client(server) as client:
        worker = threading.Thread(target=lambda: results.append(client.complete(chat_body())))
        worker.start()
        assert server.wait_for_received(1, timeout=5)
        assert server.received_count == 1 and server.request_count == 0  # arrived, not answered
        server.release()
        worker.join(5)
    assert results[0].text == FULL_TEXT and server.request_count == 1


def test_an_exhausted_quota_is_not_retried(server):
    server.enqueue_fault("quota", times=3)
    with make_client(server, max_retries=2) as client, pytest.raises(QuotaExceededError) as info:
        client.complete(chat_body())
    assert server.request_count == 1  # the first answer is final: no retry, no backoff
    assert "retrying will not help" in str(info.value)


@pytest.mark.parametrize("fault, error", [("429", RateLimitError), ("503", ServerError)])
def test_a_retry_after_longer_than_retries_wait_says_so(server, fault, error):
    server.enqueue_fault(fault, retry_after=3600, times=3)
    with make_client(server, max_retries=2) as client, pytest.raises(error) as info:
        client.complete(chat_body())
    assert server.request_count == 1
    message = str(info.value)
    assert "wait 1 h (Retry-After)" in message and "exhausted" not in message and "after 2 retries" not in message
