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


# ---- every command over the Responses API (CLI, loopback server) --------------------------------

def _cli(capsys, *argv):
    from videovision.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _paths(server) -> set[str]:
    return {r.path for r in server.requests if r.method == "POST"}


@pytest.mark.parametrize("command", [("summarize",), ("ask", "What is on screen first?"), ("chapters",)])
def test_pro_model_tasks_go_through_responses(cut_clip, api_env, capsys, command):
    code, out, err = _cli(capsys, command[0], cut_clip[0], *command[1:], "-m", "gpt-5.5-pro", "--detail", "high",
                          "--speech", "off")
    assert code == 0, err
    assert _paths(api_env) == {"/v1/responses"} and api_env.spec_violations == []
    assert out.strip()


def test_api_responses_chat_follow_ups_send_the_conversation(cut_clip, api_env, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("What is on screen first?\nHow does it end?\n"))
    code, _, err = _cli(capsys, "chat", cut_clip[0], "--api", "responses", "--speech", "off")
    assert code == 0, err
    bodies = [r.body for r in api_env.requests if r.path == "/v1/responses"]
    assert len(bodies) == 2 and _paths(api_env) == {"/v1/responses"}
    # stateless: the second turn carries the first question and its answer
    second = bodies[1]["input"]
    assert any(item["role"] == "assistant" for item in second) and "previous_response_id" not in bodies[1]


def test_models_command_lists_api_scheme_and_prices(capsys):
    import json

    code, out, err = _cli(capsys, "models", "--json")
    assert code == 0, err
    rows = {m["name"]: m for m in json.loads(out)["models"]}
    assert rows["gpt-5.5-pro"]["api"] == "responses"
    assert "original" in rows["gpt-5.6-sol"]["detail_modes"] and "original" not in rows["gpt-4o"]["detail_modes"]
    assert rows["gpt-6-luna"]["image_rule"] == "undocumented"
    assert rows["gpt-5.6-sol"]["prices"]["cache_write_per_m"] == 5.0
    assert rows["gpt-5.5"]["prices"]["long_context_above"] == 272_000
    assert rows["gpt-transcribe"]["kind"] == "transcription"
    assert rows["gpt-5.5"]["price_source"].startswith("genai-prices")
    code, out, _ = _cli(capsys, "models")
    assert code == 0 and "gpt-5.5-pro" in out and "responses" in out


def test_detail_original_is_accepted_where_documented(cut_clip, capsys):
    code, out, err = _cli(capsys, "plan", cut_clip[0], "-m", "gpt-5.5", "--detail", "original", "--no-cache",
                          "--speech", "off")
    assert code == 0, err
    code, _, err = _cli(capsys, "plan", cut_clip[0], "-m", "gpt-4o", "--detail", "original", "--no-cache",
                        "--speech", "off")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "original" in err


def test_dropped_images_are_judged_by_reported_image_tokens():
    from videovision.asking import usage_shortfall
    from videovision.client import usage_from
    from videovision.packing import ProviderLimits

    limits = ProviderLimits()
    # the total looks fine (text padding), but the reply says the images cost almost nothing
    dropped = usage_from({"prompt_tokens": 9000, "completion_tokens": 5,
                          "prompt_tokens_details": {"image_tokens": 40, "cached_tokens": 0}})
    assert dropped.image_tokens == 40
    assert "reported 40 image tokens" in (usage_shortfall(dropped, 5000, limits) or "")
    read = usage_from({"input_tokens": 5200, "output_tokens": 5,
                       "input_tokens_details": {"image_tokens": 5000, "cached_tokens": 100, "cache_write_tokens": 300}})
    assert (read.prompt_tokens, read.cached_tokens, read.cache_write_tokens, read.image_tokens) == (5200, 100, 300, 5000)
    assert usage_shortfall(read, 5000, limits) is None
    # not reported: the old check on the total still applies
    assert usage_shortfall(usage_from({"prompt_tokens": 100, "completion_tokens": 1}), 5000, limits) is not None


def test_log_shows_cache_writes_and_reported_image_tokens(tmp_path, capsys):
    from videovision.store import Cache

    with Cache(tmp_path / "cache") as cache:
        cache.log.add(run_id="run-12345678", model="gpt-6-luna", prompt_tokens=6000, completion_tokens=20,
                      estimated_cost_usd=0.001, duration_s=1.0, cached=False, request_key="k", task="summarize",
                      video="v.mp4", endpoint="http://127.0.0.1:1/v1", cached_tokens=100, cache_write_tokens=300,
                      image_tokens=2300, planned_image_tokens=4700)
        entry = cache.log.recent(1)[0]
    assert (entry.cache_write_tokens, entry.image_tokens, entry.planned_image_tokens) == (300, 2300, 4700)
    code, out, err = _cli(capsys, "log", "--cache-dir", tmp_path / "cache")
    assert code == 0, err
    assert "written" in out and "2300/4700" in out and "300" in out


def test_plan_request_json_is_the_wire_body(cut_clip, tmp_path, capsys):
    import json

    import openapi_check

    out = tmp_path / "body.json"
    code, _, err = _cli(capsys, "plan", cut_clip[0], "-m", "gpt-5.5-pro", "--detail", "high", "--no-cache",
                        "--speech", "off", "--request-json", out)
    assert code == 0, err
    body = json.loads(out.read_text())
    assert "input" in body and "messages" not in body and openapi_check.violations(body, "CreateResponse") == []
    code, _, err = _cli(capsys, "plan", cut_clip[0], "-m", "gpt-5.5", "--no-cache", "--speech", "off",
                        "--request-json", out)
    assert code == 0, err
    body = json.loads(out.read_text())
    assert "messages" in body and openapi_check.violations(body) == []
