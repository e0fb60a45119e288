"""Every documented default is the one the library and the CLI use (defaults named once, issue 7)."""

from __future__ import annotations

import re
from pathlib import Path

from videovision import defaults
from videovision.cli import build_parser
from videovision.packing import PackConfig
from videovision.plan import TaskConfig
from videovision.prompts import PromptOptions
from videovision.store import Cache
from videovision.types import SamplingConfig, SpeechConfig

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_states_the_defaults_the_code_uses():
    for phrase in (f"--every {defaults.EVERY:g}", f"--count {defaults.COUNT}", f"--max-gap {defaults.MAX_GAP:g}",
                   f"--max-frames {defaults.MAX_FRAMES}", f"--concurrency {defaults.CONCURRENCY}",
                   f"(default {defaults.TOLERANCE:g})", f"{defaults.CACHE_MAX_BYTES // 1024**3} GiB"):
        assert phrase in README, phrase


def test_library_configs_take_their_defaults_from_one_place(tmp_path):
    task = TaskConfig()
    assert (task.concurrency, task.tolerance) == (defaults.CONCURRENCY, defaults.TOLERANCE)
    assert task.pack.budget.max_frames == defaults.MAX_FRAMES and task.sampling.strategy == defaults.TASK_STRATEGY
    s = SamplingConfig()
    assert (s.strategy, s.every, s.count, s.max_gap, s.preset) == (
        defaults.STRATEGY, defaults.EVERY, defaults.COUNT, defaults.MAX_GAP, defaults.PRESET)
    p = PackConfig()
    assert (p.detail, p.image_format, p.quality) == (defaults.DETAIL, defaults.IMAGE_FORMAT, defaults.QUALITY)
    assert PromptOptions().style == defaults.STYLE
    sp = SpeechConfig()
    assert (sp.mode, sp.transcribe_model, sp.chunk_seconds, sp.max_tokens) == (
        defaults.SPEECH, defaults.TRANSCRIBE_MODEL, defaults.TRANSCRIBE_CHUNK, defaults.MAX_SPEECH_TOKENS)
    with Cache(tmp_path) as cache:
        assert cache.max_bytes == defaults.CACHE_MAX_BYTES


def test_the_cli_passes_none_for_options_not_given_and_shows_the_library_default():
    parser = build_parser()
    args = parser.parse_args(["summarize", "v.mp4"])
    for name in ("every", "count", "max_gap", "detail", "quality", "concurrency", "tolerance", "style", "speech",
                 "dedup_threshold", "preset", "detector", "max_output_tokens"):
        assert getattr(args, name) is None, name  # None = "the library default", decided in one place
    helps = {a.dest: a.help or "" for g in parser._subparsers._group_actions  # type: ignore[union-attr]
             for a in g.choices["summarize"]._actions}
    assert re.search(rf"default {defaults.TOLERANCE:g}\b", helps["tolerance"])
    assert f"default {defaults.CONCURRENCY}" in helps["concurrency"]
    assert f"default {defaults.QUALITY}" in helps["quality"]
