"""The local executor and the sharded measure output: identical tables, resume without re-measuring."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from emotioncot.config import BuildConfig
from emotioncot.executors.base import Outcome
from emotioncot.executors.local import LocalExecutor
from emotioncot.executors.shards import ShardStore
from emotioncot.pipeline import BuildError, run_ingest, run_measure
from emotioncot.workspace import Workspace
from processes import children  # tests/ is on sys.path, as for llm_server


@pytest.fixture(scope="module")
def utterances(demo_corpus, tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("ingest"))
    rows = run_ingest(ws, ["demo"], BuildConfig(), progress=False)
    return rows[::4]  # 54 clips: every emotion and speaker, a quarter of the time


def _config(workers: int, shard_size: int = 8) -> BuildConfig:
    cfg = BuildConfig()
    cfg.measure.workers = workers
    cfg.executor.shard_size = shard_size
    return cfg


def _shard_rows(ws: Workspace) -> list[dict]:
    return [r for p in ShardStore(ws.root / "stages" / "measure").shard_paths() for r in pq.read_table(p).to_pylist()]


@pytest.fixture(scope="module")
def serial_table(utterances, tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("serial"))
    rows = run_measure(ws, utterances, _config(1, shard_size=1000), progress=False)
    return ws, rows


def test_process_pool_gives_the_same_table_as_one_process(utterances, serial_table, tmp_path):
    _, serial = serial_table
    ws = Workspace(tmp_path)
    pooled = run_measure(ws, utterances, _config(2), progress=False)
    assert [r["id"] for r in pooled] == [u["id"] for u in utterances]
    assert sum(r["f0_median_hz"] is not None for r in serial) >= 40  # real measurements (whispers have no f0)
    for a, b in zip(serial, pooled):
        assert a == b
    info = ws.stage_info("measure")
    assert info["run"]["shards_run"] == 7  # 54 clips in shards of 8
    assert sum(w["items"] for w in info["workers"].values()) == len(utterances)
    assert len(info["workers"]) == 2  # two processes shared the shards


def test_rerun_measures_only_items_no_shard_holds(utterances, serial_table, tmp_path):
    _, serial = serial_table
    ws = Workspace(tmp_path)
    cfg = _config(1)
    run_measure(ws, utterances, cfg, progress=False)
    store = ShardStore(ws.root / "stages" / "measure")
    paths = store.shard_paths()
    lost = pq.read_table(paths[3]).column("id").to_pylist()
    paths[3].unlink()  # as if its worker died before renaming it into place
    (store.folder / ".shard-00003.parquet.abc.tmp").write_bytes(b"half a file")  # a torn temporary
    ws.stage_meta("measure").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in store.shard_paths()}

    # Another shard size on the rerun: items, not shard numbers, decide what is left to do.
    rows = run_measure(ws, utterances, _config(1, shard_size=3), progress=False)
    assert rows == serial
    run = ws.stage_info("measure")["run"]
    assert run["items_run"] == len(lost) == 8
    assert {p.name: p.stat().st_mtime_ns for p in store.shard_paths() if p.name in kept} == kept
    assert not list(store.folder.glob("*.tmp"))
    ids = [r["id"] for r in _shard_rows(ws)]
    assert sorted(ids) == sorted(u["id"] for u in utterances)  # each item in exactly one shard


def test_unreadable_clip_is_an_error_row_not_a_lost_shard(utterances, tmp_path):
    bad = {**utterances[0], "id": "broken", "audio_path": str(tmp_path / "missing.wav")}
    ws = Workspace(tmp_path / "b")
    rows = run_measure(ws, [bad, *utterances[:5]], _config(1), progress=False)
    assert [r["id"] for r in rows] == [u["id"] for u in utterances[:5]]
    (err,) = ws.stage_errors("measure")
    assert err["id"] == "broken" and "missing.wav" in err["reason"]


def _die_on_three(n: int) -> int:
    if n == 3:
        os._exit(1)  # a worker process that dies (OOM killer, kill -9), not an exception
    return n * n


def test_local_pool_reports_a_dead_worker_and_carries_on():
    with LocalExecutor(2) as ex:
        out = dict(ex.imap_unordered(_die_on_three, range(8), window=1))
    assert out[3].ok is False and "died" in out[3].error
    assert {n: o.value for n, o in out.items() if n != 3} == {n: n * n for n in range(8) if n != 3}


def test_a_lost_shard_stops_the_stage_and_leaves_no_table(utterances, tmp_path):
    class LosesShardTwo(LocalExecutor):
        def imap_unordered(self, fn, items, window=None):
            for i, (item, outcome) in enumerate(super().imap_unordered(fn, items, window)):
                yield item, (Outcome(False, error="worker died") if i == 2 else outcome)

    ws = Workspace(tmp_path)
    with pytest.raises(BuildError, match="1 measure shard"):
        run_measure(ws, utterances, _config(1), progress=False, executor=LosesShardTwo(1))
    assert not ws.stage_table("measure").exists()


def test_analyze_workspace_runs_the_measure_stage_on_the_named_executor(utterances, serial_table, tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app
    from emotioncot.schema import Utterance
    from emotioncot.tables import write_table

    ws = Workspace(tmp_path)
    write_table(ws.stage_table("ingest"), utterances, Utterance)
    result = CliRunner().invoke(app, ["analyze", "--workspace", str(tmp_path), "--executor", "local", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert f"{len(utterances)} measured" in result.output
    from emotioncot.schema import Measurements
    from emotioncot.tables import read_table

    assert read_table(ws.stage_table("measure"), Measurements) == serial_table[1]
    assert ws.stage_info("measure")["run"]["executor"] == "local"

    bad = CliRunner().invoke(app, ["analyze", "--workspace", str(tmp_path), "--executor", "local", "--ray-address", "auto"])
    assert bad.exit_code == 2 and "--ray-address needs --executor ray" in bad.output


def test_an_unreachable_ray_address_fails_fast_with_a_clear_error(tmp_path):
    pytest.importorskip("ray")
    import socket

    from emotioncot.executors.ray_executor import RayExecutor

    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BuildError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}"):
        RayExecutor(1, address=f"127.0.0.1:{port}")


def _affinity(_item):
    import os
    import time

    time.sleep(0.2)  # keep both workers busy so each takes items
    return sorted(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores")
def test_local_workers_are_pinned_one_per_core_and_the_caller_gets_its_cores_back():
    from emotioncot.executors.local import LocalExecutor

    before = os.sched_getaffinity(0)
    with LocalExecutor(2) as ex:
        seen = {tuple(outcome.value) for _, outcome in ex.imap_unordered(_affinity, range(6))}
    assert all(len(cores) == 1 for cores in seen) and len(seen) == 2  # two workers, two different cores
    with LocalExecutor(1) as ex:
        inside = [outcome.value for _, outcome in ex.imap_unordered(_affinity, range(1))]
    assert len(inside[0]) == 1
    assert os.sched_getaffinity(0) == before
    with LocalExecutor(2, pin_cores=False) as ex:
        free = {tuple(outcome.value) for _, outcome in ex.imap_unordered(_affinity, range(2))}
    assert free == {tuple(sorted(before))}



def test_retry_failed_measures_recorded_failures_again(utterances, serial_table, tmp_path):
    from emotioncot.executors.shards import write_shard
    from emotioncot.pipeline import measure_key

    _, serial = serial_table
    ws = Workspace(tmp_path)
    cfg = _config(1)
    clips = utterances[:3]
    # A failure recorded for the first clip (as a flaky network mount would leave it), the others measured.
    key = measure_key(clips[0], cfg)
    store = ShardStore(ws.root / "stages" / "measure")
    write_shard(store.folder / "shard-00000.parquet", [{"id": clips[0]["id"], "key": key, "ok": False,
                "reason": "input/output error", "result": None, "worker": "w", "seconds": 0.0}])
    rows = run_measure(ws, clips, cfg, progress=False)
    assert [r["id"] for r in rows] == [c["id"] for c in clips[1:]]  # a plain rerun keeps the failure
    assert ws.stage_errors("measure")[0]["reason"] == "input/output error"
    rows = run_measure(ws, clips, cfg, progress=False, retry_failed=True)
    assert rows == serial[:3] and ws.stage_errors("measure") == []
    assert ws.stage_info("measure")["run"]["items_run"] == 1  # only the failed clip was measured again


def _slow_square(x: int) -> int:
    time.sleep(0.1)
    return x * x


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_outcomes_gives_every_result_and_a_consumer_that_stops_stops_the_pool():
    from emotioncot.executors import outcomes

    got = {item: outcome.value for item, outcome in outcomes(None, 2, _slow_square, range(12))}
    assert got == {i: i * i for i in range(12)}
    before = children(os.getpid())
    with pytest.raises(RuntimeError, match="consumer"):
        for item, outcome in outcomes(None, 2, _slow_square, range(1000)):
            assert outcome.ok
            raise RuntimeError("the consumer stops")
    deadline = time.monotonic() + 10
    while children(os.getpid()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not children(os.getpid()) - before  # the pool's workers are gone, not left measuring 999 more items
