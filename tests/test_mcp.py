"""``videovision mcp`` driven by the MCP SDK's own client over stdio: the tools and their schemas,
``plan`` offline, ``ask`` against the loopback server, tool errors for a missing file, a path
outside the roots and a budget stop, the key never in a result."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import KEY
from fakeserver import frame_labels

pytest.importorskip("mcp.server.mcpserver")  # mcp >= 2
anyio = pytest.importorskip("anyio")

from mcp import Client, StdioServerParameters  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo.mp4"
TOOLS = {"plan", "summarize", "ask", "chapters", "transcript", "frames", "search", "clip"}


def _params(root: Path, env: dict[str, str], *extra: str) -> StdioServerParameters:
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return StdioServerParameters(command=sys.executable, args=["-m", "videovision", "mcp", "--root", str(root), *extra],
                                 env={"PYTHONPATH": pythonpath, **env}, cwd=str(root))


def _run(params: StdioServerParameters, calls):
    """Connect, run ``calls(client)`` (a coroutine function), return its result."""

    async def main():
        async with Client(params, read_timeout_seconds=120) as client:
            return await calls(client)

    return anyio.run(main)


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(DEMO, folder / "demo.mp4")
    return folder


@pytest.fixture
def env(tmp_path):
    return {"VIDEOVISION_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}


def _text(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def test_lists_the_tools_with_typed_schemas_and_plans_offline(root, env):
    async def calls(client):
        tools = (await client.list_tools()).tools
        plan = await client.call_tool("plan", {"video": "demo.mp4", "max_frames": 6})
        asked = await client.call_tool("plan", {"video": str(root / "demo.mp4"), "task": "ask",
                                                "questions": ["When does it change?"]})
        return tools, plan, asked

    tools, plan, asked = _run(_params(root, env), calls)
    by_name = {t.name: t for t in tools}
    assert set(by_name) == TOOLS
    for tool in tools:
        assert tool.description and tool.input_schema["type"] == "object"
        assert "video" in tool.input_schema["properties"] or tool.name == "search"
    props = by_name["ask"].input_schema["properties"]
    assert by_name["ask"].input_schema["required"] == ["video", "questions"]
    assert props["questions"]["type"] == "array" and "description" in props["max_cost"]
    assert "ctx" not in props
    from videovision.sampling.strategies import strategy_names
    from videovision.tasks import task_names

    def choices(schema: dict) -> list:  # an enum, or an enum | null
        return next(o["enum"] for o in [schema, *schema.get("anyOf", [])] if "enum" in o)

    for tool in ("plan", "summarize", "ask", "chapters", "frames"):  # from the registries, not a fixed list
        assert choices(by_name[tool].input_schema["properties"]["strategy"]) == list(strategy_names())
    assert choices(by_name["plan"].input_schema["properties"]["task"]) == list(task_names(plans=True))
    assert not plan.is_error, _text(plan)
    data = plan.structured_content
    assert data["schema_version"] >= 1 and 1 <= len(data["frames"]) <= 6
    assert data["estimated_cost_usd"] > 0 and data["image_tokens"] > 0
    assert "$" in _text(plan) and "frame" in _text(plan)
    assert not asked.is_error and asked.structured_content["requests"] >= 1


def test_ask_against_the_loopback_server_gives_checked_moments(root, env, server):
    def responder(body):
        first = frame_labels(body)[0].strip("[]")
        return json.dumps({"answers": [{"question": "q", "answer": "It starts at once.", "moments": [
            {"time": first, "end": None, "text": "start"},
            {"time": "00:09:00.0", "end": None, "text": "beyond the end"}]}]})

    server.responder = responder
    env["OPENAI_BASE_URL"] = server.base_url
    progress: list[float] = []

    async def calls(client):
        async def on_progress(done, total, message):
            progress.append(done)

        return await client.call_tool("ask", {"video": "demo.mp4", "questions": ["When does it start?"],
                                              "refine": False, "max_frames": 4,
                                              "speech": "off"}, progress_callback=on_progress)

    result = _run(_params(root, env), calls)
    assert not result.is_error, _text(result)
    data = result.structured_content
    assert data["schema_version"] >= 1 and data["requests"] == 1
    moments = data["answers"][0]["moments"]
    assert len(moments) == 1 and moments[0]["supported"] and moments[0]["frame_time"] is not None
    assert data["answers"][0]["rejected"] == ["[00:09:00.0]"]
    assert "It starts at once." in _text(result)
    assert KEY not in json.dumps(data) and KEY not in _text(result)
    assert server.request_count == 1
    assert progress and progress == sorted(progress) and progress[-1] <= 100  # notifications while it worked


def test_bad_paths_a_refused_endpoint_and_a_budget_are_tool_errors(root, env, tmp_path):
    outside = tmp_path / "outside.mp4"
    shutil.copy(DEMO, outside)
    (root / "link.mp4").symlink_to(outside)

    async def calls(client):
        out = {}
        out["missing"] = await client.call_tool("plan", {"video": "nope.mp4"})
        out["outside"] = await client.call_tool("plan", {"video": str(outside)})
        out["dotdot"] = await client.call_tool("plan", {"video": "../outside.mp4"})
        out["symlink"] = await client.call_tool("frames", {"video": "link.mp4"})
        out["refused"] = await client.call_tool("summarize", {"video": "demo.mp4", "max_frames": 2, "speech": "off"})
        out["budget"] = await client.call_tool("summarize", {"video": "demo.mp4", "max_cost": 0.000001, "speech": "off"})
        out["still_serving"] = await client.call_tool("plan", {"video": "demo.mp4", "max_frames": 2})
        return out

    out = _run(_params(root, env), calls)
    for name in ("missing", "outside", "dotdot", "symlink", "refused", "budget"):
        result = out[name]
        assert result.is_error, name
        text = _text(result)
        assert len(text.splitlines()) == 1 and KEY not in text, text
    assert "no such file" in _text(out["missing"])
    assert "outside the allowed roots" in _text(out["outside"]) and "outside" in _text(out["dotdot"])
    assert "outside the allowed roots" in _text(out["symlink"])
    assert "max-cost" in _text(out["budget"]) or "max_cost" in _text(out["budget"])
    assert not out["still_serving"].is_error


def test_frames_returns_a_contact_sheet_as_an_image(root, env):
    async def calls(client):
        return await client.call_tool("frames", {"video": "demo.mp4", "strategy": "uniform", "count": 4})

    result = _run(_params(root, env), calls)
    assert not result.is_error, _text(result)
    images = [c for c in result.content if c.type == "image"]
    assert images and images[0].mime_type == "image/jpeg" and len(images[0].data) > 100
    assert len(result.structured_content["frames"]) == 4
    assert "[00:00:03.0]" in _text(result)


def test_clip_writes_under_the_root_only(root, env, tmp_path):
    async def calls(client):
        made = await client.call_tool("clip", {"video": "demo.mp4", "at": "1", "after": 1})
        refused = await client.call_tool("clip", {"video": "demo.mp4", "at": "1", "output": str(tmp_path / "x.mp4")})
        return made, refused

    made, refused = _run(_params(root, env), calls)
    assert not made.is_error, _text(made)
    path = Path(made.structured_content["path"])
    assert path.parent == root and path.exists() and made.structured_content["schema_version"] == 1
    assert refused.is_error and "outside the allowed roots" in _text(refused)
    assert not (tmp_path / "x.mp4").exists()


def test_a_cancelled_call_leaves_the_server_serving_and_its_reply_lands_in_the_cache(root, env, server):
    env["OPENAI_BASE_URL"] = server.base_url
    server.enqueue_fault("hold")
    args = {"video": "demo.mp4", "max_frames": 3, "speech": "off"}

    async def calls(client):
        with anyio.move_on_after(60) as scope:
            async with anyio.create_task_group() as group:
                async def call():
                    await client.call_tool("summarize", args)

                group.start_soon(call)
                await anyio.to_thread.run_sync(server.wait_for_received, 1)
                group.cancel_scope.cancel()  # the client gives up: the SDK sends notifications/cancelled
        assert not scope.cancelled_caught
        served = await client.call_tool("plan", args)
        server.release()  # the reply in flight arrives after the cancel ...
        await anyio.to_thread.run_sync(lambda: _wait(lambda: server.request_count >= 1))
        await anyio.sleep(0.5)
        again = await client.call_tool("summarize", args)  # ... and was cached: not asked again
        return served, again

    served, again = _run(_params(root, env), calls)
    assert not served.is_error
    assert not again.is_error, _text(again)
    assert again.structured_content["cache_hits"] == 1 and server.request_count == 1


def test_search_needs_an_index_under_the_root(root, env):
    async def calls(client):
        return await client.call_tool("search", {"index": "no-such-batch", "query": "demo"})

    result = _run(_params(root, env), calls)
    assert result.is_error and "no such file" in _text(result)


def _wait(condition, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_streamable_http(root, env):
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    params = _params(root, env, "--http", f"127.0.0.1:{port}")
    proc = subprocess.Popen([params.command, *params.args], env={**os.environ, **(params.env or {})},
                            cwd=params.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(lambda: _listening(port), timeout=30)

        async def main():
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=120) as client:
                tools = (await client.list_tools()).tools
                return tools, await client.call_tool("plan", {"video": "demo.mp4", "max_frames": 2})

        tools, plan = anyio.run(main)
        assert {t.name for t in tools} == TOOLS
        assert not plan.is_error and len(plan.structured_content["frames"]) <= 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_transcript_from_the_sidecar_and_a_transcription_over_budget(tmp_path, env):
    folder = tmp_path / "talks"
    folder.mkdir()
    for name in ("talk.mp4", "talk.srt"):
        shutil.copy(ROOT / "samples" / name, folder / name)

    async def calls(client):
        found = await client.call_tool("transcript", {"video": "talk.mp4"})
        paid = await client.call_tool("transcript", {"video": "talk.mp4", "speech": "transcribe", "max_cost": 0.0001})
        return found, paid

    found, paid = _run(_params(folder, env), calls)
    assert not found.is_error and found.structured_content["source"] in ("subtitles", "sidecar")
    assert "[00:00:16.1] Third, the launch moves to March." in _text(found)
    assert paid.is_error and "max_cost $0.0001" in _text(paid)
