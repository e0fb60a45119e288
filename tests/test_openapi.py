"""Every request body videovision builds fits OpenAI's published OpenAPI description
(``CreateChatCompletionRequest``, vendored in tests/openai_request_schemas.json). The loopback
server checks every chat body it receives the same way (tests/fakeserver.py answers 400 otherwise);
these check the bodies ``plan --request-json`` writes for the shapes the server tests see less."""

from __future__ import annotations

import json

import pytest
from media import DEMO, SAMPLES_DIR
from openapi_check import violations

from videovision.cli import main

TALK = SAMPLES_DIR / "talk.mp4"


@pytest.mark.parametrize("options", [
    [],
    ["--model", "gpt-4o"],
    ["--model", "o3"],
    ["--model", "gpt-5-mini", "--detail", "high"],
    ["--provider", "local", "--model", "qwen2-vl"],
    ["--grid", "2x2"],
    ["--frames-per-request", "3"],
    ["--detail", "auto", "--max-frames", "4"],
], ids=lambda o: " ".join(o) or "default")
def test_plan_bodies_fit_the_published_schema(tmp_path, capsys, monkeypatch, options):
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "req.json"
    code = main(["plan", str(TALK), "--request-json", str(out), *options])
    _, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out.read_text())
    for body in data if isinstance(data, list) else [data]:
        assert violations(body) == [], (options, violations(body)[:3])


def test_the_check_catches_a_body_that_breaks_the_schema():
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": 7, "detail": "sharp"}}]}], "temperature": "warm"}
    found = violations(body)
    assert any(f.startswith("temperature") for f in found) and len(found) >= 2


def test_demo_dry_run_body_fits(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "req.json"
    assert main(["plan", str(DEMO), "--speech", "off", "--request-json", str(out)]) == 0
    assert violations(json.loads(out.read_text())) == []
