"""The build on a full disk, on a read-only folder, and a failed build's folder: one clear line each, and
no empty folder left behind. Full and read-only folders are real tmpfs mounts (root only, as CI runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _env() -> dict:
    env = os.environ.copy()
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _build(out: Path, *sources: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "emotioncot", "build", "--workers", "1", "-q", "--no-report", "--out", str(out)]
    for s in sources:
        args += ["--corpus", s]
    return subprocess.run(args, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)


@pytest.fixture
def mount(tmp_path):
    """A fresh tmpfs at a folder of tmp_path, with the options given; unmounted after."""
    mounted: list[Path] = []

    def make(options: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        where = tmp_path / f"mnt{len(mounted)}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield make
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture(scope="module")
def small_list(demo_corpus, tmp_path_factory) -> str:
    import json

    rows = sorted(demo_corpus.glob("**/*.wav"))[:6]
    assert rows, "the demo corpus has no clips"
    folder = tmp_path_factory.mktemp("disk-list")
    lines = [json.dumps({"audio_path": str(p), "transcription": "Kids are talking by the door.", "emotion": "neutral",
                         "speaker_id": f"s{i % 3}"}) for i, p in enumerate(rows)]
    (folder / "clips.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"jsonl:{folder / 'clips.jsonl'}"


def test_a_full_disk_is_one_clear_line(mount, small_list):
    disk = mount("size=48k")
    proc = _build(disk / "build", small_list)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no space left on the device while writing" in proc.stderr, proc.stderr
    assert "rerun to resume" in proc.stderr


def test_a_read_only_folder_is_one_clear_line(mount, small_list):
    folder = mount("ro,size=64k")
    proc = _build(folder / "build", small_list)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot write" in proc.stderr and str(folder) in proc.stderr, proc.stderr


def test_a_build_that_fails_before_any_work_leaves_no_folder(tmp_path):
    out = tmp_path / "never-built"
    proc = _build(out, f"emodb={tmp_path / 'no-such-corpus'}")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "error:" in proc.stderr
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))


def test_a_failed_build_keeps_a_folder_that_was_there_before(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    proc = _build(out, f"emodb={tmp_path / 'no-such-corpus'}")
    assert proc.returncode == 2
    assert (out / "notes.txt").read_text() == "the user's own file"
