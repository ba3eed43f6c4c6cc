"""The stage protocol: every stage of the build is declared once here (name, parents, config section, outputs), and
one function, ``run_stage``, owns its key, skip, errors, mark and timing.

Keys form a chain. A stage's key hashes its name, the tool version, its config section, what it reads from outside
the build folder (the sources, a thresholds file, the writer's prompts) and its parents' *output keys*. A stage whose
output is a function of its inputs has its key as its output key; one whose output is not (LLM text) adds a digest
of what it wrote, so that its dependants are redone when the text changed. An unchanged rerun therefore decides every
skip from the stage metadata alone, reading no table; and a stage whose recorded parent keys are not its parents'
current output keys is *stale*: an earlier stage was run again on its own (``emotioncot calibrate --thresholds ...``
on a finished build), and what depends on it still shows the old result (``stale_stages``, used by ``validate``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from emotioncot import __version__
from emotioncot.memory import release_freed_memory
from emotioncot.workspace import Workspace, stable_hash


@dataclass(frozen=True)
class Stage:
    name: str
    parents: tuple[str, ...]
    section: str | None  # the BuildConfig section whose settings enter the key
    outputs: tuple[str, ...] = ()  # paths in the build folder that must exist for a skip (default: its table)
    ignored: frozenset = frozenset({"workers"})  # settings of the section that do not change the output

    def output_paths(self, ws: Workspace) -> list[Path]:
        return [ws.root / p for p in self.outputs] if self.outputs else [ws.stage_table(self.name)]


STAGE_LIST = (
    Stage("ingest", (), "ingest"),
    Stage("measure", ("ingest",), "measure"),
    Stage("calibrate", ("ingest", "measure"), "calibrate", outputs=("stages/calibrate.parquet", "thresholds.json"),
          ignored=frozenset({"report"})),
    # batch_chunks_in_flight: how many Batch API chunks wait at once, not what is written
    Stage("write", ("calibrate",), "write", ignored=frozenset({"batch_chunks_in_flight"})),
    Stage("filter", ("calibrate", "write"), "filter", outputs=("stages/filter.parquet", "rejected.jsonl"),
          ignored=frozenset()),
    Stage("export", ("filter",), "export",
          outputs=("dataset/dataset_dict.json", "emotioncot.jsonl", "checksums.json", "README.md"),
          ignored=frozenset({"portable_sample_rate", "webdataset_shard_size"})),  # those two: `export --for` only
    Stage("report", ("export",), "report", outputs=("report/index.html",), ignored=frozenset()),
)
STAGES = {stage.name: stage for stage in STAGE_LIST}
STAGE_NAMES = tuple(STAGES)


@dataclass
class StageResult:
    """What a stage's work hands back to ``run_stage``: its errors (None: leave the recorded ones), what goes in its
    metadata, and for a stage whose output is not a function of its inputs, a digest of that output."""

    info: dict = field(default_factory=dict)
    errors: list[dict] | None = None
    output_digest: str | None = None


@dataclass
class StageRun:
    name: str
    key: str
    skipped: bool
    info: dict


def section_settings(stage: Stage, config) -> dict | None:
    if stage.section is None:
        return None
    section = getattr(config, stage.section)
    return section.model_dump(mode="json", exclude=set(stage.ignored))


def stage_key(ws: Workspace, stage: Stage, config, extra: Any = None) -> str:
    """The stage's key from its declaration, its settings, ``extra`` (what it reads from outside the build) and its
    parents' recorded output keys. A parent that never ran contributes None, so its dependant is never skipped."""
    parents = {p: ws.output_key(p) for p in stage.parents}
    return stable_hash(stage.name, __version__, section_settings(stage, config), extra, parents)


def is_current(ws: Workspace, name: str, key: str) -> bool:
    return ws.stage_done(name, key, STAGES[name].output_paths(ws))


def run_stage(ws: Workspace, name: str, config, produce: Callable[[], StageResult], extra: Any = None,
              force: bool = False) -> StageRun:
    """Run stage ``name`` unless it is current (same key, outputs in place) or ``force``d: ``produce`` does the work
    and writes the outputs; this records errors, parents, output key, seconds and the result's info."""
    stage = STAGES[name]
    key = stage_key(ws, stage, config, extra)
    if not force and is_current(ws, name, key):
        return StageRun(name, key, True, ws.stage_info(name))
    started = time.perf_counter()
    result = produce()
    release_freed_memory()  # the next stage's peak does not stack on this one's leftovers
    if result.errors is not None:
        ws.set_stage_errors(name, result.errors)
    output_key = key if result.output_digest is None else stable_hash(key, result.output_digest)
    info = {**result.info, "parents": {p: ws.output_key(p) for p in stage.parents}, "output_key": output_key,
            "seconds": round(time.perf_counter() - started, 3)}
    ws.mark_stage(name, key, info)
    return StageRun(name, key, False, ws.stage_info(name))


def stale_stages(ws: Workspace) -> list[dict]:
    """Stages whose recorded parent keys are not their parents' current output keys, and what follows from them:
    ``[{"stage", "because"}]`` in build order. A stage that never ran is not stale (it is missing)."""
    out: list[dict] = []
    stale: set[str] = set()
    for stage in STAGE_LIST:
        info = ws.stage_info(stage.name)
        if not info:
            continue
        recorded = info.get("parents")
        if recorded is None:  # written before keys were chained: nothing to compare
            continue
        for parent in stage.parents:
            if parent in stale:
                out.append({"stage": stage.name, "because": f"{parent} is stale"})
                break
            if recorded.get(parent) != ws.output_key(parent):
                out.append({"stage": stage.name, "because": f"{parent} was run again after it"})
                break
        else:
            continue
        stale.add(stage.name)
    return out
