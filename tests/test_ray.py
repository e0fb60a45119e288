"""videovision.batch.scaleout: ``run_batch(..., executor="ray")`` against one local Ray runtime (2 CPUs)
for the module: the same statuses, result files and requests as the process pool on the same
library, a broken file failing only its video, a re-run skipped, and a task whose worker dies
failing only that task.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import test_batch
from test_batch import TALK, batch, rows_by_stem

from videovision.batch import EXIT_PARTIAL
from videovision.batch.executors import check_executor
from videovision.batch.scaleout import RayPlanner
from videovision.batch.worker import WorkerSetup
from videovision.errors import ConfigError

ray = pytest.importorskip("ray")
library = test_batch.library
"""Two good videos and a broken file (the fixture of tests/test_batch.py)."""

VARYING = {"seconds", "run_id", "id", "created", "elapsed_seconds"}
"""Result fields that differ between two runs of the same plan."""


@pytest.fixture(scope="module")
def ray_runtime():
    """One local runtime for the module: run_batch uses it as it is (and leaves it running)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def without_varying(value):
    if isinstance(value, dict):
        return {k: without_varying(v) for k, v in value.items() if k not in VARYING}
    if isinstance(value, list):
        return [without_varying(v) for v in value]
    return value


def outputs(out: Path) -> dict[str, tuple[str, str | None, dict | None]]:
    """stem -> (status, error, result JSON without run ids and timings)."""
    found = {}
    for stem, row in rows_by_stem(out).items():
        data = json.loads((out / row["result"]).read_text()) if row["result"] else None
        found[stem] = (row["status"], row["error"], without_varying(data))
    return found


def test_ray_gives_the_process_pool_results_then_a_rerun_is_skipped(ray_runtime, api_env, library, tmp_path):
    pool_out, ray_out = tmp_path / "pool", tmp_path / "ray"
    api_env.prompt_caching = False  # the second run's identical prompts are billed as the first's
    by_pool = batch([library], pool_out, jobs=2, concurrency=2, cache_dir=tmp_path / "cache-pool")
    pool_bodies = sorted(json.dumps(r.body, sort_keys=True) for r in api_env.chat_requests)

    by_ray = batch([library], ray_out, jobs=2, concurrency=2, cache_dir=tmp_path / "cache-ray", executor="ray")
    ray_bodies = sorted(json.dumps(r.body, sort_keys=True) for r in api_env.chat_requests[len(pool_bodies):])

    assert (by_ray.ok, by_ray.failed, by_ray.skipped) == (by_pool.ok, by_pool.failed, by_pool.skipped) == (2, 1, 0)
    assert by_ray.exit_code == EXIT_PARTIAL and by_ray.cost_usd == pytest.approx(by_pool.cost_usd)
    assert ray_bodies == pool_bodies and len(ray_bodies) == 2  # the same frames, packed the same way
    assert outputs(ray_out) == outputs(pool_out)
    broken = rows_by_stem(ray_out)["broken.mp4"]
    assert broken["status"] == "failed" and "broken.mp4" in broken["error"] and "\n" not in broken["error"]
    assert ray.is_initialized()  # a runtime the batch did not start is left running

    again = batch([library], ray_out, jobs=2, concurrency=2, cache_dir=tmp_path / "cache-ray", executor="ray")
    assert (again.ok, again.failed, again.skipped) == (0, 1, 2) and again.cost_usd == 0
    assert len(api_env.chat_requests) == 4  # nothing sent


def test_the_transcript_task_runs_as_ray_tasks(ray_runtime, api_env, library, tmp_path):
    (library / "broken.mp4").unlink()
    shutil.copy(TALK, library / "week2" / "talk.mp4")  # speech in both
    summary = batch([library], tmp_path / "out", task="transcript", jobs=2, executor="ray",
                    cache_dir=tmp_path / "cache")
    assert summary.ok == 2
    data = json.loads((tmp_path / "out" / "week1__talk.mp4.json").read_text())
    assert data["source"] == "subtitles" and any("forty" in s["text"] for s in data["segments"])


def test_a_task_whose_worker_dies_fails_only_itself(ray_runtime):
    planner = RayPlanner(2, None, WorkerSetup.of(None, 30, ()), lambda message: message)
    try:
        # os._exit: as a decoder crash, the task takes its worker process with it
        futures = [planner.submit(abs, -2), planner.submit(os._exit, 3), planner.submit(abs, -4)]
        results = [f.result(timeout=120) for f in futures]
    finally:
        planner.shutdown()
    assert results[0] == 2 and results[2] == 4
    assert isinstance(results[1], str) and results[1].startswith("the Ray task making the plan failed (")
    assert "\n" not in results[1]


def test_worker_setup_forwards_only_videovision_and_tokenizer_variables():
    setup = WorkerSetup.of("/c", 20, (), {"VIDEOVISION_CACHE_DIR": "/x", "TIKTOKEN_CACHE_DIR": "/t",
                                          "OPENAI_API_KEY": "sk-secret", "PATH": "/bin"})
    assert setup.environ == (("TIKTOKEN_CACHE_DIR", "/t"), ("VIDEOVISION_CACHE_DIR", "/x"))


def test_bad_executor_options_are_config_errors(monkeypatch):
    for executor, address in (("threads", None), ("process", "auto"), ("ray", " ")):
        with pytest.raises(ConfigError):
            check_executor(executor, address)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ConfigError, match=r"pip install 'videovision\[ray\]'"):
        check_executor("ray", None)


def test_starting_a_local_runtime_prints_no_banner():
    """Ray's C++ core prints a banner (token authentication) on stderr as it starts: it goes to the
    log, not the user's terminal (a new process: the module's runtime is already up here)."""
    import subprocess

    code = ("import logging\nfrom videovision.batch.scaleout import RayPlanner\nfrom videovision.batch.worker import WorkerSetup\n"
            "p = RayPlanner(1, None, WorkerSetup(None, logging.WARNING, (), ()), lambda m: m)\n"
            "p.shutdown()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Token authentication" not in proc.stderr and "Started a local Ray instance" not in proc.stderr
    assert proc.stderr.strip() == "", proc.stderr
