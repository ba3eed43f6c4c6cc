"""The time figures of build.json: what each stage's output cost to make, and what this run took.

A stage that a rerun skips keeps the seconds recorded when it ran (an unchanged rerun used to overwrite a
30 s build's figures with the 0.01 s its skipped stages took); ``this_run`` is the wall time of this run,
report included, so that the printed figure is the one the user waited for."""

from __future__ import annotations

import json
import time

from emotioncot.workspace import Workspace


def stage_seconds(ws: Workspace, times: dict[str, float], started: float) -> dict[str, float]:
    """``times``: seconds per stage in this run (``time.perf_counter`` based); ``started``: the run's start on
    that clock. A stage whose meta file is older than the run was skipped: its earlier figure stands."""
    run_start_wall = time.time() - (time.perf_counter() - started)
    previous = _previous_seconds(ws)
    out = dict(previous)  # a stage not run yet in this run (the report, before it runs) keeps its figure
    for stage, seconds in times.items():
        meta = ws.stage_meta(stage)
        skipped = meta.exists() and meta.stat().st_mtime < run_start_wall
        out[stage] = previous[stage] if skipped and stage in previous else seconds
    out["total"] = round(sum(out.values()), 3)
    out["this_run"] = round(time.perf_counter() - started, 3)
    return out


def _previous_seconds(ws: Workspace) -> dict[str, float]:
    try:
        seconds = json.loads(ws.build_json.read_text()).get("seconds") or {}
    except (OSError, json.JSONDecodeError, AttributeError):
        return {}
    return {k: v for k, v in seconds.items() if isinstance(v, (int, float)) and k not in ("total", "this_run")}
