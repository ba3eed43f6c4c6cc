"""Running the filter of another git revision beside this one (for bench_filter.py and compare_filter.py).

``checkout(rev, folder)`` writes that revision's ``emotioncot/``, ``prompts/`` and ``manifests/`` into a
folder with ``git archive`` (the repository and its worktrees are left alone); ``run_worker(root, ...)``
runs ``filter_worker.py`` in a fresh process whose ``emotioncot`` is the one under ``root``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "filter_worker.py"
BASELINE = "2844aa1"  # the filter before the per-record checks were sped up (issue 32, second pass)


def checkout(rev: str, folder: Path) -> Path:
    """``rev``'s package, prompts and manifests under ``folder`` (returned)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "emotioncot", "prompts", "manifests"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def run_worker(root: Path, mode: str, records: Path, *extra: str) -> dict:
    """What ``filter_worker.py MODE RECORDS`` prints (one JSON object), run on the code under ``root``; with the
    evidence table ``build_records`` wrote beside ``records``, where there is one (``evidence_path``)."""
    if evidence_path(records).exists():
        extra = (*extra, "--evidence", str(evidence_path(records)))
    # One hash seed for every worker: a check that iterates a set of strings orders its explanations by it
    # (argument.py's cues of a clause), so two revisions are compared under the same order.
    env = {**os.environ, "PYTHONPATH": str(root), "EMOTIONCOT_HOME": str(root), "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, str(WORKER), mode, str(records), *extra], env=env, cwd=root,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"filter worker on {root} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def evidence_path(records: Path) -> Path:
    """Where ``build_records`` writes the evidence table of the build that ``records`` came from."""
    return records.with_name(records.stem + ".evidence.json")


def build_records(build: Path, out: Path) -> int:
    """The joined records of a build folder (this checkout's ``load_records``) as a JSON list; their count.
    Beside them (``evidence_path``), the evidence table the build's filter stage weighs the argument check by
    (``load_evidence(ws.thresholds_path)``, as ``pipeline`` does): without it the check falls back on the
    literature prior and rejects records the build keeps, and a figure would time a filter no build runs."""
    from emotioncot.calibrate.evidence import load_evidence
    from emotioncot.pipeline import load_records
    from emotioncot.workspace import Workspace

    ws = Workspace(build)
    records = load_records(ws)
    out.write_text(json.dumps(records, ensure_ascii=False, default=str), encoding="utf-8")
    evidence_path(out).write_text(json.dumps(load_evidence(ws.thresholds_path)), encoding="utf-8")
    return len(records)
