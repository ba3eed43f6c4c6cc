"""The measure stage under real signals: SIGINT at random points never poisons the shards (a rerun gives
exactly the uninterrupted table), and SIGKILL of the main process leaves no worker behind.

The stage runs in a fresh interpreter (``measure_child.py``) in a process group of its own, as a shell runs a
command, with a real process pool, so the signals reach the main process and its workers alike, as Ctrl-C does
in a terminal. Not a fork of pytest: a fork copies whatever locks the threads of pytest's process held (Ray's,
pyarrow's), and on the CI machine a forked child hung the suite until the job was killed. Every wait has a
deadline; a child that misses it has its stacks dumped into the failure."""

from __future__ import annotations

import json
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emotioncot.config import BuildConfig
from emotioncot.executors.shards import ShardStore
from emotioncot.pipeline import run_ingest, run_measure
from emotioncot.workspace import Workspace
from measure_child import stage_config  # tests/ is on sys.path, as for llm_server
from processes import alive, children

CHILD = Path(__file__).with_name("measure_child.py")
DEADLINE_S = 120  # far beyond any stage here (a few seconds): only a hang reaches it


@pytest.fixture(scope="module")
def clips(demo_corpus, tmp_path_factory):
    rows = run_ingest(Workspace(tmp_path_factory.mktemp("ingest")), ["demo"], BuildConfig(), progress=False)
    return rows[::18]  # 12 clips, every emotion


@pytest.fixture(scope="module")
def clips_json(clips, tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "clips.json"
    path.write_text(json.dumps(clips))
    return path


def _config(workers: int = 2) -> BuildConfig:
    return stage_config(workers)  # the child's own


@pytest.fixture(scope="module")
def reference(clips, tmp_path_factory):
    """The uninterrupted table, and the raw shard entry of every clip by key."""
    ws = Workspace(tmp_path_factory.mktemp("reference"))
    rows = run_measure(ws, clips, _config(1), progress=False)
    keys = list(_keys(clips))
    return rows, dict(zip(keys, ShardStore(ws.root / "stages" / "measure").index().entries(keys)))


def _keys(clips: list[dict]) -> set[str]:
    from emotioncot.pipeline import measure_key

    return {measure_key(row, _config()) for row in clips}


class Child:
    """``measure_child.py`` running in its own process group, SIGINT blocked until its ``try``."""

    def __init__(self, root: Path, clips_json: Path, workers: int = 2):
        self.root = root
        self.stderr_path = Path(f"{root}.stderr")
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # inherited across the spawn
        # An ignored SIGINT is inherited across exec as well (a suite started in the background by a shell
        # without job control, or under nohup, has it): the child would drop the signal. A handler is reset to
        # the default by exec, so the child starts as it would from a terminal.
        before = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with self.stderr_path.open("wb") as stderr:
                self.proc = subprocess.Popen([sys.executable, str(CHILD), str(root), str(clips_json), str(workers)],
                                             stdout=subprocess.PIPE, stderr=stderr, process_group=0)
        finally:
            signal.signal(signal.SIGINT, before)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        self.pid = self.proc.pid

    def wait_ready(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(DEADLINE_S):
                self._fail("never said it was ready")
        line = self.proc.stdout.readline()
        if line != b"ready\n":
            self._fail(f"said {line!r} instead of ready (exit {self.proc.wait(DEADLINE_S)})")

    def interrupt(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    def wait(self) -> int:
        try:
            code = self.proc.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            self._fail(f"did not end within {DEADLINE_S} s")
        self.proc.stdout.close()
        return code

    def details(self) -> str:
        err = Path(f"{self.root}.err")
        return (err.read_text() if err.exists() else "") + self.stderr_path.read_text(errors="replace")

    def _fail(self, what: str) -> None:
        try:
            os.kill(self.pid, signal.SIGUSR1)  # faulthandler: every thread's stack to stderr
            time.sleep(1)
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        pytest.fail(f"the measure child {what}:\n{self.details()}")


def _cached_entries(root: Path, keys: set[str]) -> dict[str, dict]:
    folder = root / "stages" / "measure"
    if not folder.exists():
        return {}
    keys = list(keys)
    return {k: e for k, e in zip(keys, ShardStore(folder).index().entries(keys)) if e is not None}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_sigint_at_random_points_never_poisons_the_measure_stage(clips, clips_json, reference, tmp_path):
    table, entries = reference
    keys = _keys(clips)
    assert sum(e["ok"] for e in entries.values()) == len(clips)
    rng = random.Random(int(os.environ.get("EMOTIONCOT_TEST_SEED", "14")))
    # How long an uninterrupted stage takes in a child on this machine, now, once it is ready: the signals are
    # timed within it (a fixed window let an idle machine finish most rounds before the signal came).
    child = Child(tmp_path / "timing", clips_json)
    child.wait_ready()
    started = time.monotonic()
    assert child.wait() == 0, child.details()
    full_s = time.monotonic() - started
    interrupted, rounds, root = 0, 0, tmp_path / "ws0"
    for attempt in range(20):
        left = 1 - len(_cached_entries(root, keys)) / len(keys)
        child = Child(root, clips_json)
        child.wait_ready()
        time.sleep(rng.uniform(0.0, full_s * left))  # anywhere: pool start-up, mid-clip, between shards
        child.interrupt()
        code = child.wait()
        assert code in (0, 130), f"attempt {attempt}: ended with {code}: {child.details()}"
        interrupted += code == 130
        # What was kept is exactly what the uninterrupted run has: no clip recorded as failed, no other value.
        cached = _cached_entries(root, keys)
        for key, entry in cached.items():
            assert (entry["ok"], entry["reason"], entry["result"]) == (True, None, entries[key]["result"]), entry
        if code == 0 or len(cached) == len(keys):  # this round is complete: check the table, start again
            assert run_measure(Workspace(root), clips, _config(2), progress=False) == table
            rounds += 1
            root = tmp_path / f"ws{rounds}"
    assert run_measure(Workspace(root), clips, _config(2), progress=False) == table
    assert interrupted >= 10  # the signals really landed mid-stage, most of the time


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_sigint_while_the_child_is_still_starting_ends_it_as_an_interrupt(clips_json, tmp_path):
    """A SIGINT that reaches the process while the interpreter is still starting (before the stage's handlers
    are in place) must end it as an interrupt (130), not as a traceback from an import."""
    codes = []
    for attempt in range(3):
        child = Child(tmp_path / f"ws{attempt}", clips_json)
        time.sleep(0.05)  # well inside the interpreter's start
        child.interrupt()
        codes.append(child.wait())
    assert codes == [130, 130, 130], [child.details()]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_sigkill_of_the_main_process_leaves_no_worker_alive(clips, tmp_path):
    more = tmp_path / "clips.json"
    more.write_text(json.dumps(clips * 4))
    child = Child(tmp_path / "ws", more)
    child.wait_ready()
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers |= children(child.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the pool did not start"
    os.kill(child.pid, signal.SIGKILL)
    child.proc.wait(DEADLINE_S)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if alive(w)], "workers outlived their parent"


@pytest.mark.parametrize("failure", [ImportError("cannot import name '_signal_api' (partially initialised)"),
                                     NameError("name '_signal_api' is not defined"),
                                     MemoryError(), OSError(28, "No space left on device")])
def test_a_run_caused_failure_is_never_cached_as_the_clips_result(clips, reference, tmp_path, monkeypatch, failure):
    import emotioncot.measure.features as features
    from emotioncot.errors import BuildError

    real = features.measure_utterance
    broken = clips[2]["id"]

    def flaky(row, config):  # the run breaks on one clip (an import cut by a signal, a full disk)
        if row["id"] == broken:
            raise failure
        return real(row, config)

    ws = Workspace(tmp_path)
    monkeypatch.setattr(features, "measure_utterance", flaky)
    with pytest.raises(BuildError, match="measure shard"):
        run_measure(ws, clips, _config(1), progress=False)
    cached = _cached_entries(tmp_path, _keys(clips))
    assert len(cached) == len(clips) - 1 and all(e["ok"] for e in cached.values())  # nothing recorded for it
    monkeypatch.setattr(features, "measure_utterance", real)
    assert run_measure(ws, clips, _config(1), progress=False) == reference[0]
    assert ws.stage_info("measure")["run"]["items_run"] == 1
