"""Shared fixtures: generated clips with ground truth, and the loopback OpenAI-compatible server."""

from __future__ import annotations

import pytest
from fakeserver import FakeOpenAIServer
from media import make_clip

KEY = "sk-test-SENTINEL-123"


@pytest.fixture
def plug_in(tmp_path, monkeypatch):
    """``plug_in(package, name, source)``: one module put beside the modules of a package that finds
    its parts by looking (wires, sampling strategies), which then looks again; undone afterwards."""
    plugged = []

    def plug(package, name: str, source: str):
        folder = tmp_path / f"plugged-{package.__name__}"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
        monkeypatch.setattr(package, "__path__", [*package.__path__, str(folder)])
        package.refresh()
        plugged.append(package)
        return package

    yield plug
    monkeypatch.undo()
    for package in plugged:
        package.refresh()


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """Small generated clips, made once per session, with their ground truth."""
    root = tmp_path_factory.mktemp("clips")
    made: dict[str, tuple] = {}

    def get(name: str, **spec):
        if name not in made:
            path = root / (name if "." in name else f"{name}.mp4")
            made[name] = (path, make_clip(path, **spec))
        return made[name]

    return get


@pytest.fixture(scope="session")
def cut_clip(clips):
    """6 s, 25 fps, cuts at 1.52 s, 3.0 s and 4.4 s (frame-exact), 160x120."""
    return clips("cuts", duration=6.0, cuts=[1.52, 3.0, 4.4], size=(160, 120))


@pytest.fixture
def server():
    srv = FakeOpenAIServer(api_key=KEY)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
    assert srv.errors == []
    assert srv.spec_violations == []  # every chat body fitted OpenAI's published schema


@pytest.fixture
def api_env(monkeypatch, server, tmp_path):
    """Environment for a CLI run against the loopback server, with a private cache dir."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VIDEOVISION_MODEL", raising=False)
    return server
