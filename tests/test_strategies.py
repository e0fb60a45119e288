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
