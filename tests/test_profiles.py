"""Profiles in a TOML config file (VIDEOVISION_CONFIG points it at a test folder) and `videovision
config`: the effective settings and where each came from, keys never shown (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videovision import defaults
from videovision.cli import main

DEMO = Path(__file__).resolve().parents[1] / "samples" / "demo.mp4"
PROFILE_KEY = "ollama-PROFILEKEY-77"


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("VIDEOVISION_CONFIG", str(path))
    monkeypatch.delenv("VIDEOVISION_PROFILE", raising=False)
    monkeypatch.delenv("VIDEOVISION_MODEL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
    return path


def _settings(capsys, *argv) -> dict:
    code, out, err = cli(capsys, "config", "--json", *argv)
    assert code == 0, err
    return json.loads(out)["settings"]


def test_config_shows_each_setting_and_where_it_came_from(config_file, capsys, monkeypatch):
    config_file.write_text('[profiles.ollama]\nbase_url = "http://localhost:11434/v1"\nmodel = "llava:13b"\n'
                           f'provider = "local"\napi = "chat"\napi_key = "{PROFILE_KEY}"\n'
                           'transcribe_base_url = "http://localhost:8000/v1"\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ENVKEY-0000000000")
    s = _settings(capsys)
    assert s["model"] == {"value": defaults.MODEL, "source": "default"}
    assert s["api_key"]["source"] == "env OPENAI_API_KEY"
    s = _settings(capsys, "--profile", "ollama")
    assert s["model"] == {"value": "llava:13b", "source": "profile ollama"}
    assert s["base_url"]["value"] == "http://localhost:11434/v1" and s["provider"]["value"] == "local"
    assert s["api"] == {"value": "chat", "source": "profile ollama"}
    assert s["api_key"] == {"value": "set", "source": "profile ollama"}
    s = _settings(capsys, "--profile", "ollama", "-m", "llama3.2-vision")
    assert s["model"] == {"value": "llama3.2-vision", "source": "flag"}
    monkeypatch.setenv("VIDEOVISION_MODEL", "gpt-4o")
    assert _settings(capsys)["model"] == {"value": "gpt-4o", "source": "env VIDEOVISION_MODEL"}
    code, out, err = cli(capsys, "config", "--profile", "ollama")
    assert code == 0 and "llava:13b" in out and "profile ollama" in out and "api_key" in out
    assert PROFILE_KEY not in out + err and "ENVKEY" not in out + err


def test_the_default_profile_and_the_environment_choose_one(config_file, capsys, monkeypatch):
    config_file.write_text('default_profile = "a"\n[profiles.a]\nmodel = "gpt-4o"\n[profiles.b]\nmodel = "o4-mini"\n')
    assert _settings(capsys)["model"]["value"] == "gpt-4o"
    monkeypatch.setenv("VIDEOVISION_PROFILE", "b")
    assert _settings(capsys)["model"]["value"] == "o4-mini"
    assert _settings(capsys, "--profile", "a")["model"]["value"] == "gpt-4o"


def test_a_profile_drives_a_real_run_with_its_own_key(config_file, server, capsys, monkeypatch):
    """The profile's base URL, model and key reach the loopback server; the OpenAI key in the
    environment is not sent to it, and the profile's key is never printed."""
    from conftest import KEY

    config_file.write_text(f'[profiles.local]\nbase_url = "{server.base_url}"\nmodel = "gpt-4o"\n'
                           f'api_key = "{KEY}"\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other-ENVKEY-1234567")
    code, out, err = cli(capsys, "summarize", DEMO, "--profile", "local", "--max-frames", "2", "--speech", "off",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["model"] == "gpt-4o" and len(server.chat_requests) == 1
    assert KEY not in out + err
    import sqlite3

    with sqlite3.connect(config_file.parent.parent / "cache" / "cache.db") as conn:
        [(settings,)] = conn.execute("SELECT settings_json FROM runs").fetchall()
    stored = json.loads(settings)  # the run as its configuration: the profile's values, never its key
    assert stored["model"] == "gpt-4o" and stored["base_url"] == server.base_url and KEY not in settings


@pytest.mark.parametrize("text, words", [
    ('[profiles.x]\nmodle = "gpt-4o"\n', "did you mean model?"),
    ('[profiles.x]\ntimeout = -1\n', "timeout"),
    ('[profiles.x]\ndetail = "ultra"\n', "choose low, high, auto"),
    ('[profiles.x]\napi = "soap"\n', "choose chat, responses, auto"),
    ('[profiles.x]\nbase_url = "http://[::1"\n', "base"),
    ('[profiles.x\n', "not valid TOML"),
])
def test_a_bad_profile_is_one_line_and_exit_2(config_file, capsys, text, words):
    config_file.write_text(text)
    code, out, err = cli(capsys, "plan", DEMO, "--profile", "x", "--speech", "off")
    assert code == 2 and words in err and out == "" and len(err.strip().splitlines()) == 1, err


def test_an_unknown_profile_names_the_known_ones(config_file, capsys):
    config_file.write_text('[profiles.ollama]\nmodel = "llava"\n')
    code, _, err = cli(capsys, "config", "--profile", "olama")
    assert code == 2 and "no profile 'olama'" in err and "ollama" in err


def test_without_a_config_file_nothing_changes(config_file, capsys):
    code, out, err = cli(capsys, "config")
    assert code == 0 and "not found" in out and "profile      none" in out
