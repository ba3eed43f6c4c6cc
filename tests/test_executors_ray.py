"""The measure stage on a real local Ray instance: same table as the local executor, and a worker killed
mid-run loses only its shard, which the rerun measures (once). The write stage's cluster-wide bound."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")

from emotioncot.config import BuildConfig  # noqa: E402
from emotioncot.executors.shards import ShardStore  # noqa: E402
from emotioncot.pipeline import BuildError, run_ingest, run_measure  # noqa: E402
from emotioncot.workspace import Workspace  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    # Ray's workers inherit this environment: they must import emotioncot from this checkout.
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [old])])
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


@pytest.fixture(scope="module")
def utterances(demo_corpus, tmp_path_factory):
    return run_ingest(Workspace(tmp_path_factory.mktemp("ingest")), ["demo"], BuildConfig(), progress=False)


def _config(executor: str, shard_size: int = 8, max_retries: int = 2) -> BuildConfig:
    cfg = BuildConfig()
    cfg.measure.workers = 2
    cfg.executor.name = executor
    cfg.executor.shard_size = shard_size
    cfg.executor.max_retries = max_retries
    return cfg


@pytest.fixture(scope="module")
def local_table(utterances, tmp_path_factory):
    return run_measure(Workspace(tmp_path_factory.mktemp("local")), utterances, _config("local"), progress=False)


def _shard_ids(ws: Workspace) -> list[str]:
    store = ShardStore(ws.root / "stages" / "measure")
    return [i for p in store.shard_paths() for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()]


def test_ray_measure_table_equals_local_row_by_row(utterances, local_table, tmp_path):
    ws = Workspace(tmp_path)
    on_ray = run_measure(ws, utterances, _config("ray", shard_size=16), progress=False)
    assert len(on_ray) == len(local_table) == len(utterances) == 216
    for a, b in zip(local_table, on_ray):
        assert a == b, a["id"]
    run = ws.stage_info("measure")["run"]
    assert run["executor"] == "ray" and run["shards_run"] == 14
    assert sum(w["items"] for w in ws.stage_info("measure")["workers"].values()) == 216


def _raylet_pid() -> int:
    node = ray._private.worker._global_node
    (info,) = node.all_processes[ray._private.ray_constants.PROCESS_TYPE_RAYLET]
    return info.process.pid


def _busy_workers(raylet: int) -> list[int]:
    """Ray worker processes (children of our raylet) that are running a measure_shard task now."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == raylet and "measure_shard" in cmd:
            out.append(int(entry))
    return out


def test_killed_worker_loses_only_its_shard_and_the_rerun_completes_it(utterances, local_table, tmp_path):
    ws = Workspace(tmp_path)
    cfg = _config("ray", shard_size=8, max_retries=0)  # no Ray retry: the lost shard must wait for the rerun
    raylet = _raylet_pid()
    failure: dict = {}

    def first_run():
        try:
            run_measure(ws, utterances, cfg, progress=False)
        except BuildError as exc:
            failure["error"] = str(exc)

    runner = threading.Thread(target=first_run)
    runner.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and runner.is_alive() and time.monotonic() < deadline:
        busy = _busy_workers(raylet)
        if busy:
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)
        else:
            time.sleep(0.005)
    runner.join(120)
    assert killed is not None, "no worker was caught running a shard"
    assert "lost" in failure.get("error", ""), failure
    assert not ws.stage_table("measure").exists()  # an incomplete table is never written
    done_before = _shard_ids(ws)
    missing = {u["id"] for u in utterances} - set(done_before)
    assert 0 < len(missing) < len(utterances)

    rows = run_measure(ws, utterances, cfg, progress=False)
    assert ws.stage_info("measure")["run"]["items_run"] == len(missing)
    for a, b in zip(local_table, rows):
        assert a == b, a["id"]
    assert len(rows) == len(local_table)
    ids = _shard_ids(ws)
    assert len(ids) == len(set(ids)) == len(utterances)  # no item measured twice, none left out


def test_with_retries_a_killed_worker_is_replaced_within_the_run(utterances, local_table, tmp_path):
    ws = Workspace(tmp_path)
    raylet = _raylet_pid()
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(
        rows=run_measure(ws, utterances[:64], _config("ray", shard_size=8, max_retries=2), progress=False)))
    runner.start()
    killed = None
    while killed is None and runner.is_alive():
        busy = _busy_workers(raylet)
        if busy:
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.005)
    runner.join(120)
    assert killed is not None
    assert result["rows"] == local_table[:64]
    assert sorted(_shard_ids(ws)) == sorted(u["id"] for u in utterances[:64])


# ---------------------------------------------------------------- the write stage's cluster-wide bound

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import LLMServer  # noqa: E402


def _write_in_worker(records, folder, cfg_json, key_env, key):
    os.environ[key_env] = key
    from emotioncot.config import BuildConfig
    from emotioncot.executors.limiter import ClusterLimiter
    from emotioncot.write.llm import write_with_llm

    cfg = BuildConfig.model_validate(cfg_json)
    rows, errors, _ = write_with_llm(records, Workspace(folder), cfg, progress=False,
                                     limiter=ClusterLimiter.for_config(cfg))
    return len(rows), len(errors)


def test_two_worker_processes_share_one_request_bound(demo_build, tmp_path):
    from emotioncot.executors.limiter import ClusterLimiter
    from emotioncot.pipeline import load_records

    records = load_records(Workspace(demo_build), with_texts=False)[:16]
    with LLMServer(delay_s=0.05) as server:
        cfg = BuildConfig()
        cfg.write = cfg.write.model_validate({
            **cfg.write.model_dump(), "writer": "openai", "base_url": server.base_url, "model": "m",
            "api_key_env": "EMOTIONCOT_TEST_LLM_KEY", "concurrency": 6, "timeout_s": 5.0,
        })
        cfg.executor.write_cluster_concurrency = 3
        limiter = ClusterLimiter.for_config(cfg)  # created here, found by name in the workers
        # The workers cannot import this test module: ship the function by value.
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
        task = ray.remote(num_cpus=1)(_write_in_worker)
        refs = [task.remote(records[i::2], str(tmp_path / f"w{i}"), cfg.model_dump(mode="json"),
                            "EMOTIONCOT_TEST_LLM_KEY", "sk-test") for i in range(2)]
        results = ray.get(refs)
        assert results == [(8, 0), (8, 0)]
        assert server.count() == 32
        # Each process alone would hold 6 requests in flight; together they never exceed the shared 3.
        assert server.max_in_flight == 3
        assert limiter.stats()["peak"] == 3 and limiter.stats()["granted"] == 32


def test_build_write_stage_on_ray_goes_through_the_shared_bound(demo_build, tmp_path, monkeypatch):
    from emotioncot.pipeline import load_records, run_write

    records = load_records(Workspace(demo_build), with_texts=False)[:10]
    monkeypatch.setenv("EMOTIONCOT_TEST_LLM_KEY", "sk-test")
    with LLMServer(delay_s=0.05) as server:
        cfg = BuildConfig()
        cfg.write = cfg.write.model_validate({
            **cfg.write.model_dump(), "writer": "openai", "base_url": server.base_url, "model": "m",
            "api_key_env": "EMOTIONCOT_TEST_LLM_KEY", "concurrency": 8, "timeout_s": 5.0,
        })
        cfg.executor.name = "ray"
        cfg.executor.write_cluster_concurrency = 2
        rows, info = run_write(Workspace(tmp_path), records, cfg, progress=False)
        assert len(rows) == 10 and server.count() == 20
        assert server.max_in_flight == 2  # 8 allowed by write.concurrency, 2 by the cluster
        assert info["cluster_limit"] == {"limit": 2, "in_use": 0, "peak": 2, "granted": 20}
    assert ray.is_initialized()  # it joined the test's Ray instance and left it running


def test_a_ray_build_of_the_demo_gives_the_local_builds_stage_tables(demo_build, tmp_path):
    """Every per-item stage (measure, template write, filter checks, the report's record pages) runs on Ray's
    workers, and every stage table is the local build's, stage by stage; so is every record page file."""
    from emotioncot.pipeline import build

    cfg = _config("ray", shard_size=16)
    out = tmp_path / "ray-build"
    build(["demo"], out, cfg, progress=False, log=lambda m: None)
    for stage in ("ingest", "measure", "calibrate", "write", "filter"):
        info = Workspace(out).stage_info(stage)
        if stage in ("measure", "write", "filter"):
            assert info["run"]["executor"] == "ray" and info["run"]["shards_run"] >= 2, stage
        assert pq.read_table(out / "stages" / f"{stage}.parquet").equals(
            pq.read_table(demo_build / "stages" / f"{stage}.parquet")), stage
    assert (out / "rejected.jsonl").read_bytes() == (demo_build / "rejected.jsonl").read_bytes()
    assert Workspace(out).stage_info("report")["run"]["executor"] == "ray"
    assert _page_files(out / "report") == _page_files(demo_build / "report")


def _page_files(report: Path) -> dict:
    """The record pages' files (page, contour, the clip's decoded samples: an Ogg stream's serial number is
    random) of a report, by relative path."""
    import soundfile as sf

    files = {str(p.relative_to(report)): p.read_bytes() for p in report.rglob("*")
             if p.is_file() and (p.parent.name in ("records", "audio") or p.name.startswith("contour-"))}
    for name in [n for n in files if n.endswith(".ogg")]:
        files[name] = sf.read(report / name, dtype="int16")[0].tobytes()
    assert any(name.startswith("records/") for name in files) and any(name.startswith("audio/") for name in files)
    return files


def test_prosody_tasks_on_ray_are_the_local_ones(demo_build, tmp_path):
    """The prosody tasks' resynthesis (and word alignment, where a record has no word times) runs on Ray's
    workers and gives the local pool's items, drops and clips."""
    from emotioncot.cli.prosody import load_source_records
    from emotioncot.config import ExecutorConfig, ProsodyConfig
    from emotioncot.prosody.build import build_tasks

    records = sorted(load_source_records(demo_build), key=lambda r: r["id"])[::36]
    for rec in records[:2]:  # these must be aligned as a real recording would be
        rec["meta"] = {k: v for k, v in (rec.get("meta") or {}).items() if k not in ("words", "synthesis")}
    outcomes = {}
    for name in ("local", "ray"):
        out = tmp_path / name
        cfg = ProsodyConfig(per_utterance=2, workers=2, min_per_answer=1)
        summary = build_tasks(records, out, cfg, progress=False, executor_config=ExecutorConfig(name=name))
        clips = {p.name: p.read_bytes() for p in (out / "work" / "clips").glob("*.wav")}
        assert {step: run["executor"] for step, run in summary["run"].items()} == {"word_times": name, "generation": name}
        outcomes[name] = ({k: v for k, v in summary.items() if k not in ("seconds", "run")},
                          (out / "dropped.jsonl").read_text(), clips)
    assert outcomes["ray"] == outcomes["local"]
    summary, _, clips = outcomes["ray"]
    assert clips and summary["tasks"]
