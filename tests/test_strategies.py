"""Sampling strategies behind one small interface (issue 23): the built-in strategies' cache keys,
frames.json parameters and frames stay what they were, and a new strategy is one new module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import videovision as vv
from videovision.pipeline import _sampling_params
from videovision.store import frames_key

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
DEMO = SAMPLES / "demo.mp4"

EVERY_OPTION = {"dedup": True, "dedup_threshold": 3.0, "every": 2.0, "count": 5, "max_gap": 7.0,
                "detector": "content", "threshold": 20.0, "min_scene_len": 0.4, "start": 1.0, "end": 9.0,
                "max_side": 512, "preset": "film"}
_N = None
# (strategy, options) -> (the frames.json "sampling" record, frames_key("d" * 64, {"sampling": record}))
PINNED = {
    ("interval", False): ({"strategy": "interval", "every": 5.0, "count": _N, "max_gap": _N, "start": _N, "end": _N,
                           "max_side": _N, "dedup": False, "dedup_threshold": _N, "preset": "auto", "detector": _N,
                           "threshold": _N, "min_scene_len": _N},
                          "d6e85635119bb317a199865156483dc5f0dbcaebcfdce2ad3de8774e7cd4d9cb"),
    ("interval", True): ({"strategy": "interval", "every": 2.0, "count": _N, "max_gap": _N, "start": 1.0, "end": 9.0,
                          "max_side": 512, "dedup": True, "dedup_threshold": 3.0, "preset": "film", "detector": _N,
                          "threshold": _N, "min_scene_len": _N},
                         "eef0d7a69ba5c9852b66283f28b9516198f4194e5689dfacffd37b6cc3d84760"),
    ("uniform", False): ({"strategy": "uniform", "every": _N, "count": 16, "max_gap": _N, "start": _N, "end": _N,
                          "max_side": _N, "dedup": False, "dedup_threshold": _N, "preset": "auto", "detector": _N,
                          "threshold": _N, "min_scene_len": _N},
                         "cd9b47f28ca7ed64415124be7070880a246bb2ecbd75a089da0e7719ce3e5faf"),
    ("uniform", True): ({"strategy": "uniform", "every": _N, "count": 5, "max_gap": _N, "start": 1.0, "end": 9.0,
                         "max_side": 512, "dedup": True, "dedup_threshold": 3.0, "preset": "film", "detector": _N,
                         "threshold": _N, "min_scene_len": _N},
                        "e86faf6e0a04658f095c44cb80b6034a4e927153ec5bd2c249b550b29d936aff"),
    ("scenes", False): ({"strategy": "scenes", "every": _N, "count": _N, "max_gap": _N, "start": _N, "end": _N,
                         "max_side": _N, "dedup": False, "dedup_threshold": _N, "preset": "auto", "detector": _N,
                         "threshold": _N, "min_scene_len": 0.6},
                        "3d927c0860e95aa287d176b978ae0898f6db596a5331d76e80276b5aee746544"),
    ("scenes", True): ({"strategy": "scenes", "every": _N, "count": _N, "max_gap": _N, "start": 1.0, "end": 9.0,
                        "max_side": 512, "dedup": True, "dedup_threshold": 3.0, "preset": "film",
                        "detector": "content", "threshold": 20.0, "min_scene_len": 0.4},
                       "3dd514b1b569062756476bc772d0a793c483a942f5edb44a1b7c40f85f90d9e4"),
    ("hybrid", False): ({"strategy": "hybrid", "every": _N, "count": _N, "max_gap": 10.0, "start": _N, "end": _N,
                         "max_side": _N, "dedup": False, "dedup_threshold": _N, "preset": "auto", "detector": _N,
                         "threshold": _N, "min_scene_len": 0.6},
                        "0744190c4af65cf23749ba0dfdc345caa7c353d141a873bf2048e13e7bae04a2"),
    ("hybrid", True): ({"strategy": "hybrid", "every": _N, "count": _N, "max_gap": 7.0, "start": 1.0, "end": 9.0,
                        "max_side": 512, "dedup": True, "dedup_threshold": 3.0, "preset": "film",
                        "detector": "content", "threshold": 20.0, "min_scene_len": 0.4},
                       "a91a85ea82fe31df801ccfa0606999037aa168f44b8c23cdcf9976b9cdd15cb6"),
}


@pytest.mark.parametrize("strategy, options", sorted(PINNED))
def test_the_built_in_strategies_keep_their_cache_keys_and_frames_json_params(strategy, options):
    record, key = PINNED[strategy, options]
    params = _sampling_params(vv.SamplingConfig(strategy=strategy, **(EVERY_OPTION if options else {})))
    assert json.dumps(params) == json.dumps(record)  # the same fields, in the same order
    assert frames_key("d" * 64, {"sampling": params}) == key


@pytest.mark.parametrize("strategy, options, indices, notes", [
    ("interval", {"every": 2.0}, [0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 550], 0),
    ("uniform", {"count": 5}, [60, 180, 300, 420, 540], 0),
    ("scenes", {}, [27, 106, 202, 308, 362, 432, 550], 0),
    ("hybrid", {"max_gap": 4.0}, [0, 85, 173, 259, 342, 426, 517, 599], 0),
    ("interval", {"every": 0.001, "end": 1.0}, list(range(25)), 1),
    ("uniform", {"count": 100000, "end": 1.0}, list(range(1, 25)), 1),
])
def test_the_built_in_strategies_keep_their_frames(strategy, options, indices, notes):
    stream = vv.sample(DEMO, vv.SamplingConfig(strategy=strategy, **options))
    assert [f.index for f in stream] == indices
    assert len(stream.notes) == notes
    assert (stream.preset_used == "film") == (strategy in ("scenes", "hybrid"))
    assert bool(stream.scenes) == (strategy in ("scenes", "hybrid"))


# ---- the registry ---------------------------------------------------------------------------------


def test_the_registry_holds_the_built_in_strategies_in_the_literal_s_order():
    from dataclasses import fields
    from typing import get_args

    from videovision.sampling.strategies import OWN_OPTIONS, strategies, strategy_names
    from videovision.types import SamplingConfig, Strategy

    assert strategy_names() == get_args(Strategy) == ("interval", "uniform", "scenes", "hybrid")
    names = {f.name for f in fields(SamplingConfig)}
    assert names >= OWN_OPTIONS and all(s.uses <= names for s in strategies().values())
    assert {n for n, s in strategies().items() if s.scene_aware} == {"scenes", "hybrid"}
    assert strategies()["hybrid"].uses == {"max_gap", "detector", "threshold", "min_scene_len"}


def test_the_detectors_named_are_the_detectors_built():
    from videovision.sampling import DETECTORS
    from videovision.sampling.detectors import DETECTOR_CLASSES

    assert set(DETECTORS) == set(DETECTOR_CLASSES)


def test_importing_the_sampling_package_and_listing_its_strategies_loads_no_decoder():
    import subprocess
    import sys

    code = ("import sys; from videovision.sampling import strategy_names; from videovision import cli, SamplingConfig; "
            "SamplingConfig(strategy='hybrid'); print(strategy_names(), sorted(m for m in ('av', 'cv2', 'numpy', "
            "'scenedetect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "('interval', 'uniform', 'scenes', 'hybrid') []"


def test_the_lazy_names_of_the_sampling_package_are_the_modules_own():
    import videovision.sampling as sampling
    from videovision.sampling import detectors, pictures, scenes

    assert sampling.dhash is pictures.dhash and sampling.make_detector is detectors.make_detector
    assert sampling.CANDIDATE_WINDOW == scenes.CANDIDATE_WINDOW and sampling.strategy_names() == sampling.STRATEGIES
    with pytest.raises(AttributeError):
        sampling.nothing_here  # noqa: B018


# ---- a new strategy is one module -----------------------------------------------------------------

NEW_STRATEGY = '''"""``head``: the first ``count`` frames of the range; in a plan, as many as the frame budget."""

from __future__ import annotations

from dataclasses import replace

from ..exact import AtTimes


class Head(AtTimes):
    name = "head"
    uses = frozenset({"count"})

    def targets(self, config, start, end, window, stream):
        stream.notes.append(f"head: the first {config.count} of {window.available} frames")
        return window.times()[:config.count]

    def settle(self, config, info, max_frames):
        return config if not max_frames else replace(config, count=max_frames)


STRATEGY = Head()
'''


@pytest.fixture
def head_strategy(plug_in):
    """A ``head`` strategy defined by one module, put beside the package's strategies."""
    import videovision.sampling.strategies as strategies

    return plug_in(strategies, "head", NEW_STRATEGY)


def test_a_new_strategy_is_one_module_and_sample_runs_it(head_strategy):
    assert head_strategy.strategy_names() == ("interval", "uniform", "scenes", "hybrid", "head")
    stream = vv.sample(DEMO, vv.SamplingConfig(strategy="head", count=3, start=2.0))
    assert [(f.index, f.time) for f in stream] == [(50, 2.0), (51, 2.04), (52, 2.08)]
    assert stream.notes == ["head: the first 3 of 550 frames"] and stream.scenes == [] and stream.preset_used is None
    deduped = vv.sample(DEMO, vv.SamplingConfig(strategy="head", count=4, dedup=True, dedup_threshold=100))
    assert [f.index for f in deduped] == [0] and deduped.duplicates_dropped == 3  # sample()'s dedup still applies


def test_an_unknown_strategy_is_refused_naming_the_new_one_too(head_strategy):
    from videovision.errors import ConfigError

    with pytest.raises(ConfigError, match="strategy must be one of interval, uniform, scenes, hybrid, head"):
        vv.SamplingConfig(strategy="tail")


def test_a_new_strategy_s_declared_options_and_only_those_enter_its_cache_key(head_strategy, tmp_path):
    from videovision.models import resolve_model
    from videovision.packing import Budget, PackConfig
    from videovision.pipeline import _frames_key
    from videovision.plan import TaskConfig
    from videovision.store import Cache

    def key(**options):
        config = TaskConfig(sampling=vv.SamplingConfig(strategy="head", **options),
                            pack=PackConfig(budget=Budget(max_frames=4)))
        return _frames_key(cache, DEMO, config, resolve_model(config.pack.model))

    with Cache(tmp_path / "cache") as cache:
        base = key(count=3)
        assert key(count=3, every=1.0) == base and key(count=3, max_gap=2.0, threshold=9.0) == base  # not its own
        assert key(count=3, preset="screen") != base and key(count=3, start=1.0) != base  # shared options count
        assert key(count=4) != base  # its own option
    params = _sampling_params(vv.SamplingConfig(strategy="head", count=3, every=1.0))
    assert params["count"] == 3 and params["every"] is None and params["strategy"] == "head"


def test_a_plan_settles_a_new_strategy_s_options_and_reuses_its_cached_frames(head_strategy, tmp_path, monkeypatch):
    from videovision import pipeline
    from videovision.packing import Budget, PackConfig
    from videovision.plan import TaskConfig
    from videovision.store import Cache
    from videovision.types import SpeechConfig

    def config(**options):
        return TaskConfig(sampling=vv.SamplingConfig(strategy="head", **options),
                          pack=PackConfig(budget=Budget(max_frames=5)), speech=SpeechConfig(mode="off"))

    with Cache(tmp_path / "cache") as cache:
        plan = pipeline.make_plan(DEMO, config(count=2), cache=cache)
        assert plan.config.sampling.count == 5  # settle: as many as the budget
        assert [i.index for i in plan.images] == [0, 1, 2, 3, 4]
        monkeypatch.setattr(pipeline, "sample", lambda *a, **k: pytest.fail("the frames were not reused"))
        again = pipeline.make_plan(DEMO, config(count=2, every=9.0), cache=cache)  # every: not head's option
        assert [i.data for i in again.images] == [i.data for i in plan.images]


def test_the_command_line_takes_a_new_strategy_end_to_end(head_strategy, tmp_path, capsys):
    from videovision.cli import main

    out = tmp_path / "frames"
    assert main(["frames", str(DEMO), "--out", str(out), "--strategy", "head", "--count", "3", "--start", "1"]) == 0
    manifest = json.loads((out / "frames.json").read_text(encoding="utf-8"))
    assert [f["index"] for f in manifest["frames"]] == [25, 26, 27]
    assert manifest["sampling"]["strategy"] == "head" and manifest["sampling"]["count"] == 3
    assert manifest["sampling"]["every"] is None and manifest["notes"] == ["head: the first 3 of 575 frames"]
    capsys.readouterr()
    assert main(["plan", str(DEMO), "--strategy", "head", "--max-frames", "4", "--speech", "off", "--no-cache",
                 "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)  # settled: as many as the budget, the first frames
    assert [f["time"] for f in planned["frames"]] == [0.0, 0.04, 0.08, 0.12]
    assert planned["notes"] == ["head: the first 4 of 600 frames"] and planned["frames_considered"] == 4


def test_no_module_outside_the_strategies_branches_on_a_strategy_s_name():
    """A new strategy touches no file but its own: nothing else compares ``.strategy`` with a name
    (the scene pass, which serves both scene strategies, is told whether to fill gaps)."""
    import ast

    root = Path(vv.__file__).parent
    found = []
    for file in sorted(root.rglob("*.py")):
        if root / "sampling" / "strategies" in file.parents:
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                    isinstance(n, ast.Attribute) and n.attr == "strategy" for n in (node.left, *node.comparators)):
                found.append(f"{file.relative_to(root)}:{node.lineno}")
    assert not found, found
