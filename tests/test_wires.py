"""Issue 18: the Responses wire: encoding, the -pro models over /v1/responses, typed stream events,
reported image tokens, and the published CreateResponse schema."""

from __future__ import annotations

import pytest
from fakeserver import FakeOpenAIServer
from test_client import KEY, chat_body

from videovision.client import OpenAIChatClient
from videovision.endpoint import ClientConfig
from videovision.errors import ModelNotFoundError
from videovision.wires import api_for
from videovision.wires.responses import encode


def client(srv: FakeOpenAIServer, api: str = "auto") -> OpenAIChatClient:
    return OpenAIChatClient(ClientConfig(api_key=KEY, base_url=srv.base_url, timeout=5.0, max_retries=0, api=api))


def test_auto_sends_pro_models_to_responses():
    assert api_for("gpt-5.5-pro") == "responses" and api_for("o3-pro-2025-06-10") == "responses"
    assert api_for("gpt-5.5") == "chat" and api_for("gpt-5.5", "responses") == "responses"


def test_encode_moves_system_limit_schema_and_detail():
    body = chat_body(model="gpt-5.5-pro", max_completion_tokens=300, reasoning_effort="low",
                     response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"},
                                                                              "strict": True}})
    out = encode(body)
    assert out["instructions"] and all(item["role"] != "system" for item in out["input"])
    images = [p for item in out["input"] for p in item["content"] if p["type"] == "input_image"]
    assert images and all(p["detail"] in ("low", "high", "auto", "original") for p in images)
    assert out["max_output_tokens"] == 300 and out["reasoning"] == {"effort": "low"}
    assert out["text"]["format"]["type"] == "json_schema" and out["text"]["format"]["name"] == "a"
    assert "messages" not in out and "max_completion_tokens" not in out


@pytest.mark.parametrize("stream", [False, True])
def test_pro_model_answers_through_responses(stream):
    with FakeOpenAIServer(responder=lambda body: "The demo starts at 00:05.") as srv, client(srv) as c:
        pieces: list[str] = []
        result = c.complete(chat_body(model="gpt-5.5-pro"), on_text=pieces.append if stream else None)
        assert result.text == "The demo starts at 00:05."
        assert [r.path for r in srv.requests] == ["/v1/responses"]
        assert srv.spec_violations == []
        assert result.usage.prompt_tokens > 0 and result.usage.image_tokens is not None
        assert result.usage.image_tokens > 0
        if stream:
            assert "".join(pieces) == "The demo starts at 00:05."


def test_chat_completions_refuses_responses_only_models():
    with FakeOpenAIServer() as srv, client(srv, api="chat") as c:
        with pytest.raises(ModelNotFoundError) as caught:
            c.complete(chat_body(model="gpt-5-pro"))
        assert "only served by the Responses API" in str(caught.value) and "--api responses" in str(caught.value)


def test_api_responses_for_any_model_and_cache_key_endpoint():
    with FakeOpenAIServer() as srv, client(srv, api="responses") as c:
        assert c.endpoint.endswith("/responses")
        c.complete(chat_body(model="gpt-4o-mini"))
        assert [r.path for r in srv.requests] == ["/v1/responses"] and srv.spec_violations == []
