"""Issue 23: tasks and output formats are found by looking (a new task is one module, a new format one
module); every JSON document carries ``types.SCHEMA_VERSION``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KEY
from fakeserver import FakeOpenAIServer
from media import SAMPLES_DIR

import videovision
from videovision import types
from videovision.plan import TaskConfig

KEYWORDS_TASK = '''"""``keywords``: the words that describe a video, each at the moment a frame shows it (a test's task)."""

from __future__ import annotations

import json
from typing import Any

from ..request import Schema
from ..timecode import parse_time
from .base import Task, language, strict_object

SCHEMA = strict_object({"keywords": {"type": "array", "items": strict_object({"word": {"type": "string"},
                                                                               "time": {"type": "string"}})}})


class Keywords(Task):
    name = "keywords"
    order = 50
    schema = Schema("video_keywords", SCHEMA)
    help = "the words that describe a video, each with its time"
    description = "List a video's keywords, each at the moment that shows it."
    example = "videovision keywords talk.mp4"
    what = "the keywords"

    def prompt(self, options, partial, structured):
        return "KEYWORDS: list up to five keywords, each with the label of the frame showing it." + language(options)

    def parse(self, text, check, plan):
        rows = json.loads(text)["keywords"]
        return {"parsed": tuple((r["word"], parse_time(r["time"]), check.supports(parse_time(r["time"])))
                                for r in rows)}

    def text(self, value, markdown=False, *, notes=True):
        return "".join(f"{t:.1f} {w}\\n" for w, t, _ in value.parsed)

    def fields(self, value):
        return {"keywords": [{"word": w, "time": round(t, 3), "supported": ok} for w, t, ok in value.parsed]}


TASK = Keywords()
'''


@pytest.fixture
def keywords_task(plug_in):
    """A ``keywords`` task defined by one module, put beside the package's tasks."""
    import videovision.tasks as tasks

    yield plug_in(tasks, "keywords", KEYWORDS_TASK)
    sys.modules.pop("videovision.tasks.keywords", None)


def _config(task: str, **prompt):
    from videovision.packing import Budget, PackConfig
    from videovision.pipeline import TaskConfig
    from videovision.prompts import PromptOptions
    from videovision.types import SpeechConfig

    return TaskConfig(prompt=PromptOptions(task=task, **prompt), speech=SpeechConfig(mode="off"),
                      pack=PackConfig(model="gpt-4o-mini", budget=Budget(max_frames=4)))


def _client(srv):
    from videovision.client import OpenAIChatClient
    from videovision.endpoint import ClientConfig

    return OpenAIChatClient(ClientConfig(api_key=KEY, base_url=srv.base_url, timeout=5.0, max_retries=0))


def test_a_new_task_is_one_module_planned_sent_parsed_and_rendered(cut_clip, keywords_task, tmp_path):
    from videovision.errors import ConfigError
    from videovision.pipeline import make_plan, run_plan
    from videovision.render import render
    from videovision.store import Cache

    task = keywords_task.TASKS["keywords"]
    assert keywords_task.task_names(plans=True) == ("summarize", "ask", "chapters", "keywords")
    plan = make_plan(cut_clip[0], _config("keywords"))
    (planned,) = plan.requests
    body = planned.body
    assert body["messages"][-1]["content"][-1]["text"].startswith("KEYWORDS: list up to five keywords")
    assert body["response_format"]["json_schema"]["name"] == "video_keywords"  # the task's schema is sent
    with FakeOpenAIServer(api_key=KEY) as srv, Cache(tmp_path / "cache") as cache, _client(srv) as client:
        result = run_plan(plan, client, cache=cache)
        assert srv.spec_violations == [] and srv.errors == []
    assert result.task == "keywords" and result.parsed, result.text
    assert all(ok for _, _, ok in result.parsed)  # the fake server cites the labels it was shown
    assert {round(t, 1) for _, t, _ in result.parsed} <= {round(t, 1) for t in plan.sent_times}
    doc = result.to_json()
    assert list(doc)[:4] == ["schema_version", "video", "model", "frames_sent"]
    assert doc["schema_version"] == types.SCHEMA_VERSION and doc["keywords"][0]["word"] == result.parsed[0][0]
    assert doc["requests"] == 1 and "summary" not in doc and "answers" not in doc
    text, warnings = render("text", task, result)
    assert text.splitlines()[0] == f"{result.parsed[0][1]:.1f} {result.parsed[0][0]}" and warnings == ()
    assert json.loads(render("json", task, result)[0]) == doc
    with pytest.raises(ConfigError, match="format must be one of"):
        render("youtube", task, result)  # a chapters-only format
    keywords_task.refresh()


def _package_copy(tmp_path: Path, files: dict[str, str]):
    """A copy of the package with ``files`` written into it (added, or appended to a file it has); returns
    a function running its command line."""
    copy = tmp_path / "pkg"
    shutil.copytree(Path(videovision.__file__).parent, copy / "videovision",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in files.items():
        path = copy / "videovision" / name
        path.write_text((path.read_text(encoding="utf-8") if path.exists() else "") + text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(copy)}

    def cli(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "videovision", *argv], capture_output=True, text=True, env=env,
                              timeout=120, cwd=tmp_path)  # not the checkout: ``-m`` puts the cwd first

    return cli


def test_a_new_task_module_gets_its_command(cut_clip, api_env, tmp_path):
    """A copy of the package with one file added: ``videovision keywords`` exists, sends the task's
    request and prints its JSON document; ``batch --task`` offers it too."""
    cli = _package_copy(tmp_path, {"tasks/keywords.py": KEYWORDS_TASK})
    helped = cli("--help")
    listed = " ".join(helped.stdout.split())
    assert helped.returncode == 0 and "keywords the words that describe a video, each with its time" in listed
    assert "keywords" in cli("batch", "--help").stdout
    done = cli("keywords", str(cut_clip[0]), "--json", "--speech", "off", "-m", "gpt-4o-mini", "--max-frames", "4")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema_version"] == types.SCHEMA_VERSION and doc["keywords"] and doc["requests"] == 1
    (sent,) = [r for r in api_env.requests if r.method == "POST"]
    assert sent.body["messages"][-1]["content"][-1]["text"].startswith("KEYWORDS:")
    # the package without the file knows no such command
    plain = subprocess.run([sys.executable, "-m", "videovision", "keywords", str(cut_clip[0])], capture_output=True,
                           text=True, timeout=120, cwd=tmp_path)
    assert plain.returncode == 2


CSV_FORMAT = """
from videovision.render.formats import Format


def _csv(task, result, extra):
    return "".join(f"{c.start:.3f},{c.title}\\n" for c in result.chapters.chapters), ("csv has no summaries",)


FORMAT = Format("csv", _csv, frozenset({"chapters"}))
"""


def test_a_new_output_format_is_one_module(cut_clip, api_env, capsys, plug_in):
    from videovision.cli import main
    from videovision.render import formats

    plug_in(formats, "csv", CSV_FORMAT)
    assert formats.format_names("chapters") == ("text", "youtube", "vtt", "json", "csv")
    assert "csv" not in formats.format_names("transcript") and "csv" not in formats.format_names("summarize")
    base = [str(cut_clip[0]), "--speech", "off", "-m", "gpt-4o-mini", "--max-frames", "4"]
    assert main(["chapters", *base, "--json"]) == 0
    chapters = json.loads(capsys.readouterr().out)["chapters"]
    assert chapters
    assert main(["chapters", *base, "--format", "csv"]) == 0  # the same reply, from the cache
    out, err = capsys.readouterr()
    assert out == "".join(f"{c['start']:.3f},{c['title']}\n" for c in chapters)
    assert "warning: csv has no summaries" in err  # a format's warnings join the run's
    with pytest.raises(SystemExit):
        main(["chapters", "--help"])
    assert "{text,youtube,vtt,json,csv}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:  # not a transcript format: argparse refuses it
        main(["transcript", str(cut_clip[0]), "--format", "csv"])
    assert refused.value.code == 2


def test_without_the_module_there_is_no_such_format(cut_clip, api_env):
    from videovision.cli import main
    from videovision.render import formats

    assert "csv" not in formats.FORMATS
    with pytest.raises(SystemExit):
        main(["chapters", str(cut_clip[0]), "--speech", "off", "--format", "csv"])


PLAIN_FORMAT = """
from videovision.render.formats import Format

FORMAT = Format("plain", lambda task, value, extra: (" ".join(task.text(value, notes=False).split()) + "\\n", ()),
                frozenset({"summarize", "ask"}))
"""


def test_a_format_module_gives_its_tasks_the_format_option(cut_clip, api_env, tmp_path):
    """One module added to a copy of the package: summarize (which had no ``--format``) takes ``--format plain``."""
    cli = _package_copy(tmp_path, {"render/formats/plain.py": PLAIN_FORMAT})
    base = [str(cut_clip[0]), "--speech", "off", "-m", "gpt-4o-mini", "--max-frames", "4"]
    text = cli("summarize", *base)
    assert text.returncode == 0, text.stderr
    plain = cli("summarize", *base, "--format", "plain")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == " ".join(text.stdout.split()) + "\n" and "\n" not in plain.stdout[:-1]
    assert "{text,json,plain}" in cli("ask", "--help").stdout
    refused = cli("chapters", *base, "--format", "plain")
    assert refused.returncode == 2 and "invalid choice: 'plain'" in refused.stderr


def _json_commands(clip: str, tmp_path: Path) -> list[list[str]]:
    base = [clip, "--speech", "off", "-m", "gpt-4o-mini", "--max-frames", "4"]
    subs = tmp_path / "talk.srt"
    subs.write_text("1\n00:00:00,500 --> 00:00:02,000\nhello there\n", encoding="utf-8")
    return [
        ["summarize", *base, "--json"],
        ["ask", clip, "What is shown?", "--speech", "off", "-m", "gpt-4o-mini", "--max-frames", "4", "--json"],
        ["chapters", *base, "--json"],
        ["plan", *base, "--json"],
        ["summarize", *base, "--dry-run", "--json"],
        ["frames", clip, "--out", str(tmp_path / "frames"), "--json"],
        ["transcript", clip, "--subtitles", str(subs), "--json"],
        ["transcript", clip, "--subtitles", str(subs), "--dry-run", "--json"],
        ["log", "--json"],
        ["models", "--json"],
        ["config", "--json"],
        ["clip", clip, "--at", "1", "-o", str(tmp_path / "c.mp4"), "--json"],
        ["batch", clip, "--out", str(tmp_path / "out"), "--dry-run", "--json", "-m", "gpt-4o-mini"],
    ]


def test_every_json_document_carries_the_schema_version(cut_clip, api_env, capsys, monkeypatch, tmp_path):
    """Each ``--json`` output starts with ``schema_version`` equal to ``types.SCHEMA_VERSION``, and all
    but the transcript's (speech/transcript.py, from types too) are built by render/documents.py: a
    changed version there shows in every one of them."""
    from videovision.cli import main
    from videovision.render import documents

    commands = _json_commands(str(cut_clip[0]), tmp_path)
    for version in (types.SCHEMA_VERSION, types.SCHEMA_VERSION + 41):
        monkeypatch.setattr(documents, "SCHEMA_VERSION", version)
        for argv in commands:
            assert main(argv) == 0, (argv, capsys.readouterr().err)
            out = capsys.readouterr().out
            doc = json.loads(out)
            expected = types.SCHEMA_VERSION if argv[0] == "transcript" and "--dry-run" not in argv else version
            assert next(iter(doc)) == "schema_version" and doc["schema_version"] == expected, argv
        manifest = json.loads((tmp_path / "frames" / "frames.json").read_text())
        assert manifest["schema_version"] == version


def test_no_module_writes_a_schema_version_of_its_own():
    """Outside render/documents.py, a ``"schema_version"`` key is only ever ``SCHEMA_VERSION`` from
    types.py (speech/transcript.py's reader aside), never a number typed in."""
    import ast

    root = Path(videovision.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "schema_version" and not (
                            isinstance(value, ast.Name) and value.id == "SCHEMA_VERSION"):
                        found.append(f"{path.relative_to(root)}:{node.lineno}")
            elif isinstance(node, ast.keyword) and node.arg == "schema_version":
                found.append(f"{path.relative_to(root)}:{node.value.lineno}")
    assert found == []


def test_no_module_outside_tasks_dispatches_on_a_task_name():
    """``task == "ask"``, ``task in ("ask", "chapters")``: only the task objects decide (tasks/)."""
    import ast

    root = Path(videovision.__file__).parent
    names = {"summarize", "ask", "chapters", "transcript"}
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.parent.name == "tasks":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            mentions_task = any("task" in ast.unparse(s) for s in sides)
            literal = [c for s in sides for c in ast.walk(s) if isinstance(c, ast.Constant) and c.value in names]
            if mentions_task and literal:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


@pytest.mark.parametrize("task", ["summarize", "ask", "chapters"])
def test_a_result_without_a_reply_read_has_only_the_common_fields(task):
    """A TaskResult made from a plan alone (search entries, tests) gives its document without the task's fields."""
    from videovision.pipeline import TaskResult, make_plan

    plan = make_plan(str(SAMPLES_DIR / "demo.mp4"), TaskConfig())
    data = TaskResult(task=task, plan=plan, text="").to_json()
    assert data["schema_version"] == types.SCHEMA_VERSION and data["frames_sent"] == len(plan.sent_times)
    assert not {"summary", "answers", "chapters"} & set(data)
