"""The command line over one options table (issue 19): a command's --help lists exactly the options
it honours, each with help, an example and its exit codes; every option with a config field reaches
the config the command builds; -o on every command that writes text; the environment variables."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from videovision import errors
from videovision._cli import build_parser
from videovision._cli.configs import task_config
from videovision._cli.helptext import ENVIRONMENT
from videovision._cli.options import OPTIONS, rows
from videovision.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "samples" / "demo.mp4"


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _flags(p: argparse.ArgumentParser) -> set[str]:
    return {o for a in p._actions for o in a.option_strings if o.startswith("--")} - {"--help", "--verbose"}


@pytest.mark.parametrize("command", [c for c in _commands() if c != "mcp"])
def test_a_commands_help_lists_exactly_the_options_it_honours_each_with_help(command):
    p = _commands()[command]
    assert _flags(p) == {o.flags[0] for o in rows(command)}
    for action in p._actions:
        assert action.help and action.help.strip(), (command, action.dest)
    text = p.format_help()
    assert "example:\n  videovision " + command in text
    assert "exit codes:" in text and "  2  bad usage or options" in text and "130  interrupted" in text
    assert ("finished replies are cached" in text) == (command in {"summarize", "ask", "chapters", "chat", "batch",
                                                                   "transcript"})


def test_options_a_command_ignores_are_not_offered():
    flags = {c: _flags(p) for c, p in _commands().items()}
    assert not {"--tolerance", "--strict", "--language", "--markdown"} & flags["transcript"]
    assert "--subtitles" not in flags["batch"] and "--concurrency" not in flags["chat"]
    assert not {"--timeout", "--dry-run", "--strict"} & flags["plan"] and "--cache-dir" in flags["plan"]
    assert flags["frames"].isdisjoint({"--model", "--base-url", "--dry-run"})


def test_exit_codes_in_help_come_from_the_error_classes():
    text = _commands()["summarize"].format_help()
    for cls in (errors.VideoOpenError, errors.SamplingError, errors.BudgetError, errors.CacheError,
                errors.RequestError):
        assert re.search(rf"^\s+{cls.exit_code}  \S", text, re.M), cls
    batch = _commands()["batch"].format_help()
    assert f"  {errors.EXIT_PARTIAL}  some videos failed" in batch and f"  {errors.EXIT_PENDING}  none failed" in batch
    assert "  3  " not in _commands()["log"].format_help()  # log reads no video


def test_top_level_help_names_every_environment_variable_the_code_reads(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    read = set()
    for path in (ROOT / "videovision").rglob("*.py"):
        source = path.read_text()
        read |= set(re.findall(r"environ(?:\.get)?[\(\[]\s*\"([A-Z_]+)\"", source))
        read |= set(re.findall(r"^\s*[A-Z_]*ENV[A-Z_]* = \"([A-Z_]+)\"", source, re.M))
    named = {name for name, _ in ENVIRONMENT}
    assert read - {"DATA_GYM_CACHE_DIR", "TIKTOKEN_CACHE_DIR"} <= named, read - named
    for name in named:
        assert name in text


# a value for each option that sets a config field, and the config attribute it must reach
VALUES = {"strategy": ("uniform", "sampling.strategy"), "every": ("7", "sampling.every"),
          "count": ("9", "sampling.count"), "max_gap": ("4", "sampling.max_gap"), "start": ("1", "sampling.start"),
          "end": ("2:00", "sampling.end"), "max_side": ("320", "sampling.max_side"),
          "dedup": (None, "sampling.dedup"), "dedup_threshold": ("2.5", "sampling.dedup_threshold"),
          "preset": ("film", "sampling.preset"), "detector": ("hash", "sampling.detector"),
          "threshold": ("0.2", "sampling.threshold"), "min_scene_len": ("1.5", "sampling.min_scene_len"),
          "model": ("gpt-4o", "pack.model"), "detail": ("high", "pack.detail"),
          "max_frames": ("5", "pack.budget.max_frames"), "max_image_tokens": ("900", "pack.budget.max_image_tokens"),
          "max_cost": ("$0.25", "pack.budget.max_cost"), "grid": ("2x2", "pack.grid"),
          "burn_timestamps": (None, "pack.burn_timestamps"), "image_format": ("png", "pack.image_format"),
          "quality": ("55", "pack.quality"), "provider": ("local", "pack.limits.name"),
          "frames_per_request": ("3", "pack.frames_per_request"),
          "max_output_tokens": ("333", "prompt.max_output_tokens"), "speech": ("off", "speech.mode"),
          "subtitles": ("s.srt", "speech.subtitles"), "subtitle_language": ("de", "speech.subtitle_language"),
          "transcribe_model": ("gpt-4o-transcribe", "speech.transcribe_model"),
          "transcribe_base_url": ("http://127.0.0.1:9/v1", "speech.transcribe_base_url"),
          "speech_language": ("fr", "speech.language"), "transcribe_chunk": ("60", "speech.chunk_seconds"),
          "speech_keywords": ("PyAV,Ada", "speech.keywords"),
          "max_speech_tokens": ("77", "speech.max_tokens"), "concurrency": ("2", "concurrency"),
          "tolerance": ("0.5", "tolerance"), "language": ("German", "prompt.language"),
          "strict": (None, "strict"), "style": ("bullet", "prompt.style"), "prompt": ("Say hi", "prompt.instruction"),
          "refine": (None, "refine"), "refine_max": ("1", "refine_max")}


def _attr(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("command", ["plan", "summarize", "ask", "chapters", "chat", "batch"])
def test_every_config_option_a_planning_command_offers_reaches_its_config(command):
    honoured = [o for o in rows(command) if o.field and o.field.split(".")[0] in
                ("sampling", "pack", "budget", "prompt", "speech", "task")]
    assert honoured
    for o in honoured:
        value, attr = VALUES[o.dest]
        words = [command, *(["v.mp4"] if command != "batch" else ["lectures", "--out", "o"]),
                 *(["Q?"] if command == "ask" else []), o.flags[0], *([value] if value is not None else [])]
        args = build_parser().parse_args(words)
        task, questions = ("ask", ("Q?",)) if command == "ask" else ("summarize", ())
        config = task_config(args, task, questions)
        base = build_parser().parse_args(words[: len(words) - (2 if value is not None else 1)])
        default = _attr(task_config(base, task, questions), attr)
        assert _attr(config, attr) != default, (command, o.dest)


def test_every_profile_setting_is_shown_by_config():
    for o in OPTIONS:
        if o.profile:
            assert "config" in o.commands, o.dest


def test_plan_log_and_config_write_their_text_to_output(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VIDEOVISION_CONFIG", str(tmp_path / "none.toml"))
    code, out, err = cli(capsys, "plan", DEMO, "--max-frames", "3", "--speech", "off", "-o", tmp_path / "plan.txt")
    assert code == 0 and out == "" and "frames" in (tmp_path / "plan.txt").read_text(), err
    code, out, err = cli(capsys, "plan", DEMO, "--max-frames", "3", "--speech", "off", "--json", "-o",
                         tmp_path / "plan.json")
    assert code == 0 and out == "" and json.loads((tmp_path / "plan.json").read_text())["video"]
    code, out, err = cli(capsys, "config", "--json", "-o", tmp_path / "config.json")
    assert code == 0 and out == "" and "model" in json.loads((tmp_path / "config.json").read_text())["settings"]
    code, out, err = cli(capsys, "log", "--json", "-o", tmp_path / "log.json")
    assert code == 0 and out == "" and json.loads((tmp_path / "log.json").read_text())["entries"] == []
    code, _, err = cli(capsys, "plan", DEMO, "-o", tmp_path / "missing" / "plan.txt")
    assert code == 2 and "--output" in err and len(err.strip().splitlines()) == 1


def test_m_is_short_for_model(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOVISION_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = cli(capsys, "plan", DEMO, "-m", "gpt-4o", "--max-frames", "2", "--speech", "off", "--json")
    assert code == 0, err
    assert json.loads(out)["model"] == "gpt-4o"


def test_a_mistyped_option_of_a_command_gets_a_suggestion(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["plan", "v.mp4", "--stratgy", "hybrid"])
    assert exited.value.code == 2 and "did you mean --strategy?" in capsys.readouterr().err
