"""Issue 18: the Responses wire: encoding, the -pro models over /v1/responses, typed stream events,
reported image tokens, and the published CreateResponse schema."""

from __future__ import annotations

import pytest
from fakeserver import FakeOpenAIServer
from test_client import KEY, chat_body

from videovision.client import OpenAIChatClient
from videovision.endpoint import ClientConfig
from videovision.errors import ModelNotFoundError
from videovision.wires import api_for, wire_for


def encode(chat_body: dict) -> dict:
    """The Responses body of a Chat Completions body (read back to the neutral request, encoded anew)."""
    return wire_for("responses").encode(wire_for("chat").decode(chat_body))


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
        wire, _ = c.wire_request(chat_body(model="gpt-4o-mini"))
        assert wire.cache_endpoint(c.endpoint) == srv.base_url.rstrip("/") + "/responses"
        assert wire_for("chat").cache_endpoint(c.endpoint) == c.endpoint  # chat keys as they always were
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
    from videovision.packing import ProviderLimits
    from videovision.wires.chat import usage_from as chat_usage
    from videovision.wires.responses import usage_from as responses_usage

    limits = ProviderLimits()
    # the total looks fine (text padding), but the reply says the images cost almost nothing
    dropped = chat_usage({"prompt_tokens": 9000, "completion_tokens": 5,
                          "prompt_tokens_details": {"image_tokens": 40, "cached_tokens": 0}})
    assert dropped.image_tokens == 40
    assert "reported 40 image tokens" in (usage_shortfall(dropped, 5000, limits) or "")
    read = responses_usage({"input_tokens": 5200, "output_tokens": 5,
                       "input_tokens_details": {"image_tokens": 5000, "cached_tokens": 100, "cache_write_tokens": 300}})
    assert (read.prompt_tokens, read.cached_tokens, read.cache_write_tokens, read.image_tokens) == (5200, 100, 300, 5000)
    assert usage_shortfall(read, 5000, limits) is None
    # not reported: the old check on the total still applies
    assert usage_shortfall(chat_usage({"prompt_tokens": 100, "completion_tokens": 1}), 5000, limits) is not None


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


# ---- the wires themselves (neutral request -> body -> reply) ------------------------------------

IMAGE = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDAwMDAwMDAwMDAwMDAwMDAwM"


def _neutral():
    from videovision.request import Image, Request, Schema, Text, Turn

    return Request(model="gpt-5-pro", system="You describe videos.", turns=(
        Turn("user", (Text("[00:00:01.0]", "label"), Image(IMAGE, "low"), Image(IMAGE), Text("What happens?", "task"))),
        Turn("assistant", "A test pattern."), Turn("user", "And then?")),
        output_tokens=900, reasoning_effort="low", cache={"prompt_cache_key": "video-1"},
        schema=Schema("video_answers", {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
                                        "additionalProperties": False}))


def test_both_wires_encode_the_neutral_request_within_the_published_schemas():
    import openapi_check

    request = _neutral()
    chat = wire_for("chat").encode(request)
    assert openapi_check.violations(chat) == []
    assert chat["messages"][0] == {"role": "system", "content": "You describe videos."}
    assert [p["type"] for p in chat["messages"][1]["content"]] == ["text", "image_url", "image_url", "text"]
    assert chat["messages"][1]["content"][2]["image_url"] == {"url": IMAGE}  # no detail named: none sent
    assert chat["messages"][2:] == [{"role": "assistant", "content": "A test pattern."},
                                    {"role": "user", "content": "And then?"}]
    assert chat["max_completion_tokens"] == 900 and chat["response_format"]["json_schema"]["name"] == "video_answers"
    assert chat["prompt_cache_key"] == "video-1"
    body = wire_for("responses").encode(request)
    assert openapi_check.violations(body, "CreateResponse") == []
    assert body["instructions"] == "You describe videos." and body["store"] is False
    first, answer, follow_up = body["input"]
    assert [p["type"] for p in first["content"]] == ["input_text", "input_image", "input_image", "input_text"]
    assert [p["detail"] for p in first["content"] if p["type"] == "input_image"] == ["low", "auto"]
    assert first["content"][1]["image_url"] == IMAGE  # the URL string, not an object
    assert answer == {"role": "assistant", "content": "A test pattern."}
    assert follow_up == {"role": "user", "content": [{"type": "input_text", "text": "And then?"}]}
    assert body["max_output_tokens"] == 900 and body["reasoning"] == {"effort": "low"}
    assert body["text"]["format"] == {"type": "json_schema", "name": "video_answers", "strict": True,
                                      "schema": request.schema.schema}
    assert body["prompt_cache_key"] == "video-1"
    # each wire reads its own body back to the same request (the text kinds aside)
    for name, encoded in (("chat", chat), ("responses", body)):
        again = wire_for(name).decode(encoded)
        assert wire_for(name).encode(again) == encoded


def test_each_wire_counts_the_tokens_of_the_body_it_sends():
    from videovision.models import resolve_model

    spec = resolve_model("gpt-4o")
    request = _neutral()
    chat, responses = (wire_for(n).count(wire_for(n).encode(request), spec) for n in ("chat", "responses"))
    assert chat.images == responses.images == 2 and chat.image_tokens == responses.image_tokens > 0
    assert chat.text_tokens > 0 and responses.text_tokens > 0


def test_replies_parse_text_finish_and_usage_with_image_tokens():
    from videovision.errors import ResponseFormatError

    wire = wire_for("responses")
    reply = wire.parse({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "model": "m",
                        "output": [{"type": "reasoning", "summary": []},
                                   {"type": "message", "content": [{"type": "output_text", "text": "half"}]}],
                        "usage": {"input_tokens": 700, "output_tokens": 9,
                                  "input_tokens_details": {"cached_tokens": 128, "image_tokens": 510}}})
    assert (reply.text, reply.finish_reason, reply.usage.image_tokens) == ("half", "length", 510)
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.cached_tokens) == (700, 9, 128)
    chat = wire_for("chat").parse({"choices": [{"message": {"content": "x"}, "finish_reason": "stop"}],
                                   "usage": {"prompt_tokens": 5, "prompt_tokens_details": {"image_tokens": 3}}})
    assert (chat.text, chat.finish_reason, chat.usage.image_tokens, chat.usage.prompt_tokens) == ("x", "stop", 3, 5)
    assert wire.parse({"status": "in_progress", "output": []}).answered is False
    assert wire_for("chat").parse({"choices": []}).answered is False
    with pytest.raises(ResponseFormatError, match="invalid_prompt"):
        wire.parse({"status": "failed", "error": {"code": "invalid_prompt", "message": "bad"}})


def test_unknown_apis_are_one_line_config_errors():
    from videovision.errors import ConfigError
    from videovision.packing import PackConfig

    for make in (lambda: ClientConfig(api="soap"), lambda: PackConfig(api="soap"), lambda: wire_for("soap")):
        with pytest.raises(ConfigError, match="choose chat, responses, auto") as caught:
            make()
        assert len(str(caught.value).splitlines()) == 1


# ---- stream faults, retries and the deadline over Responses -------------------------------------

def _streaming(server, **kw):
    return OpenAIChatClient(ClientConfig(api_key=KEY, base_url=server.base_url, api="responses",
                                         timeout=kw.pop("timeout", 5.0), max_retries=kw.pop("max_retries", 0)))


def test_streaming_over_responses_passes_typed_text_deltas_on(server):
    pieces: list[str] = []
    with _streaming(server) as c:
        result = c.complete(chat_body(), on_text=pieces.append)
    (request,) = server.responses_requests
    assert request.body["stream"] is True and "stream_options" not in request.body
    assert "".join(pieces) == result.text and result.finish_reason == "stop"
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0 and result.usage.image_tokens
    assert server.chat_requests == []


def test_responses_stream_faults_map_to_the_error_tree(server):
    from videovision.errors import ContentRefusedError, IncompleteReplyError, ResponseFormatError, ServerError

    with _streaming(server) as c:
        server.enqueue_fault("error_event")
        with pytest.raises(ServerError, match="mid-answer"):
            c.complete(chat_body(), on_text=lambda _: None)
        server.enqueue_fault("truncate")
        with pytest.raises(IncompleteReplyError, match="before the answer was finished"):
            c.complete(chat_body(), on_text=lambda _: None)
        server.enqueue_fault("cut")
        with pytest.raises(IncompleteReplyError, match="closed before the answer was finished"):
            c.complete(chat_body(), on_text=lambda _: None)
        server.enqueue_fault("length")
        with pytest.raises(ResponseFormatError, match="--max-output-tokens") as cut_off:
            c.complete(chat_body())
        assert cut_off.value.usage.completion_tokens > 0  # billed usage survives the error
        server.enqueue_fault("refusal")
        with pytest.raises(ContentRefusedError, match="refused"):
            c.complete(chat_body(), on_text=lambda _: None)


@pytest.mark.parametrize("fault", ["truncate", "cut"])
def test_an_unfinished_responses_stream_is_asked_again(server, fault):
    server.enqueue_fault(fault)
    pieces: list[str] = []
    with _streaming(server, max_retries=1) as c:
        result = c.complete(chat_body(), on_text=pieces.append)
    assert result.finish_reason == "stop" and len(server.responses_requests) == 2
    assert "".join(pieces).endswith(result.text)  # the text passed on is never lost nor doubled at the end


def test_the_deadline_bounds_a_responses_stream(server):
    from videovision.errors import RequestTimeoutError

    server.enqueue_fault("trickle", delay=0.05, trickle_bytes=16)
    with _streaming(server, timeout=0.5) as c, pytest.raises(RequestTimeoutError):
        c.complete(chat_body(times=(0.0, 1.0, 2.0)), on_text=lambda _: None)


def test_the_responses_route_rejects_a_body_outside_the_schema():
    import openai

    with FakeOpenAIServer(api_key=KEY) as srv:
        sdk = openai.OpenAI(api_key=KEY, base_url=srv.base_url, max_retries=0)
        with pytest.raises(openai.BadRequestError, match="CreateResponse"):
            sdk.responses.create(model="gpt-5-pro", input=[{"role": "user", "content": [{"type": "image", "url": "x"}]}])
        assert srv.spec_violations


# ---- the plan shows and encodes for the API actually used ---------------------------------------

def test_plan_table_and_json_show_the_api_used(cut_clip, tmp_path, capsys):
    import json

    for argv, api in (((), "chat"), (("--api", "responses"), "responses"), (("-m", "gpt-5.5-pro"), "responses")):
        code, out, err = _cli(capsys, "plan", cut_clip[0], "--no-cache", "--speech", "off", *argv)
        assert code == 0, err
        assert f"api {api}" in out
        code, out, err = _cli(capsys, "plan", cut_clip[0], "--no-cache", "--speech", "off", "--json", *argv)
        assert json.loads(out)["api"] == api


def test_cache_keys_are_the_wire_body_and_path(cut_clip, api_env, capsys):
    code, _, err = _cli(capsys, "summarize", cut_clip[0], "--api", "responses", "--speech", "off")
    assert code == 0, err
    code, _, err = _cli(capsys, "summarize", cut_clip[0], "--api", "responses", "--speech", "off")
    assert code == 0 and len(api_env.responses_requests) == 1  # the rerun came from the cache
    code, _, err = _cli(capsys, "summarize", cut_clip[0], "--api", "chat", "--speech", "off")
    assert code == 0, err
    assert len(api_env.chat_requests) == 1  # another wire, another body: not the Responses reply


# ---- a third wire is one module -----------------------------------------------------------------

THIRD_WIRE = '''
"""A third wire (for the test): POST /plain, the whole prompt as one text, the images beside it."""

from openai import BaseModel
from openai._legacy_response import to_raw_response_wrapper

from videovision.errors import ConfigError
from videovision.models import chat_tokens
from videovision.request import Image, Request, Text, Turn
from videovision.wires.base import WireReply, count, field, reported
from videovision.usage import Usage


class PlainReply(BaseModel):
    text: str | None = None
    done: bool = False


class _Raw:
    def __init__(self, create):
        self.create = to_raw_response_wrapper(create)


class _Create:
    def __init__(self, sdk):
        self._sdk = sdk
        self.with_raw_response = _Raw(self.create)

    def create(self, *, model: str, prompt: str, images: list, limit: int | None = None, extra_headers=None,
               extra_body=None, timeout=None):
        body = {"model": model, "prompt": prompt, "images": images, "limit": limit, **(extra_body or {})}
        return self._sdk.post("/plain", cast_to=PlainReply, body=body, options={"headers": extra_headers or {}})


class PlainWire:
    name = "plain"
    path = "/plain"
    serves_only = frozenset({"plain-model"})

    def encode(self, request: Request) -> dict:
        texts = [request.system] + [p.text for t in request.turns for p in t.parts if isinstance(p, Text)]
        return {"model": request.model, "prompt": "\\n".join(texts), "limit": request.output_tokens,
                "images": [{"url": i.url, "detail": i.detail or "auto"} for i in request.images]}

    def decode(self, body) -> Request:
        parts = (Text(body["prompt"]), *(Image(i["url"], i["detail"]) for i in body["images"]))
        return Request(model=body["model"], system="", turns=(Turn("user", parts),), output_tokens=body.get("limit"))

    def owns(self, body) -> bool:
        return "prompt" in body and "images" in body

    def count(self, body, spec):
        parts = [{"type": "text", "text": body["prompt"]},
                 *({"type": "image_url", "image_url": i} for i in body["images"])]
        return chat_tokens([{"role": "user", "content": parts}], spec)

    def resource(self, sdk):
        return _Create(sdk)

    def stream_options(self) -> dict:
        raise ConfigError("the plain wire does not stream")

    def cache_endpoint(self, endpoint: str) -> str:
        return endpoint + self.path

    def parse(self, reply) -> WireReply:
        usage = field(reply, "usage")
        return WireReply(field(reply, "text"), None, "stop" if field(reply, "done") else None,
                         Usage(count(usage, "in"), count(usage, "out"), image_tokens=reported(usage, "images")),
                         field(reply, "model"))

    def new_stream(self):
        raise ConfigError("the plain wire does not stream")


WIRE = PlainWire()
'''


def _serve_plain(handler, rec):
    """The loopback server's /v1/plain: the body read as the chat request it stands for."""
    import fakeserver as fs

    body, _ = handler.read_json(rec)
    handler.check_auth()
    chat = {"model": body["model"], "messages": [{"role": "user", "content": [
        {"type": "text", "text": body["prompt"]}, *({"type": "image_url", "image_url": i} for i in body["images"])]}]}
    parsed = fs._validate(handler.owner, chat, rec["size"], schema=None)
    rec["images"] = tuple(parsed.images)
    handler.send_json(rec, 200, {"text": handler.owner.responder(chat), "done": True, "model": body["model"],
                                 "usage": {"in": parsed.prompt_tokens, "out": 7,
                                           "images": sum(i.tokens for i in parsed.images)}})


@pytest.fixture
def third_wire(plug_in):
    """A ``plain`` wire defined by one module, put beside the package's wires."""
    import videovision.wires as wires

    return plug_in(wires, "plain", THIRD_WIRE)


def test_a_third_wire_is_one_module_plan_and_ask_go_through_it(cut_clip, third_wire, tmp_path):
    from videovision.packing import Budget, PackConfig
    from videovision.pipeline import TaskConfig, make_plan, run_plan
    from videovision.store import Cache
    from videovision.types import SpeechConfig

    assert "plain" in third_wire.api_choices() and third_wire.api_for("plain-model") == "plain"
    config = TaskConfig(pack=PackConfig(model="gpt-4o-mini", api="plain", budget=Budget(max_frames=4)),
                        speech=SpeechConfig(mode="off"))
    plan = make_plan(cut_clip[0], config)
    (planned,) = plan.requests
    assert plan.api == "plain" and set(planned.body) == {"model", "prompt", "limit", "images"}
    assert planned.image_tokens > 0 and planned.text_tokens > 0  # counted by the plain wire
    with FakeOpenAIServer(api_key=KEY, responder=lambda body: "It starts at [00:00:00.0].") as srv, \
            Cache(tmp_path / "cache") as cache:
        srv.routes[("POST", "/v1/plain")] = _serve_plain
        with client(srv, api="plain") as c:
            result = run_plan(plan, c, cache=cache)
            again = run_plan(plan, c, cache=cache)
        (sent,) = [r for r in srv.requests if r.method == "POST"]
    assert sent.path == "/v1/plain" and sent.body == planned.body  # the exact planned body, nothing else
    assert result.summary is not None and result.summary.moments and result.usage.image_tokens == planned.image_tokens
    assert result.warnings == () and again.cache_hits == 1  # keyed by the plain body under /v1/plain


def test_no_module_outside_wires_names_a_wire():
    """Only ``videovision/wires`` knows a wire: no other module imports one or names its path, so a
    third wire touches no file but its own."""
    import ast
    from pathlib import Path

    import videovision
    from videovision.wires import wires

    root = Path(videovision.__file__).parent
    modules = {f"videovision.wires.{n}" for n in wires()}
    paths = {p for w in wires().values() for p in (w.path, "/v1" + w.path)}
    found: list[str] = []
    for file in sorted(root.rglob("*.py")):
        if file.parent.name == "wires" and file.parent.parent == root:
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"))
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                names = {f"{base}.{a.name}" for a in node.names} | {base}
                if any(n.lstrip(".").endswith(f"wires.{w}") or n.lstrip(".") == f"wires.{w}" for n in names
                       for w in wires()) or (base.lstrip(".") == "wires" and {a.name for a in node.names} & set(wires())):
                    found.append(f"{file.relative_to(root)}:{node.lineno} imports a wire")
            elif isinstance(node, ast.Import) and any(a.name in modules for a in node.names):
                found.append(f"{file.relative_to(root)}:{node.lineno} imports a wire")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and node.value in paths:
                found.append(f"{file.relative_to(root)}:{node.lineno} names {node.value}")
    assert found == []
