"""One item of the measure stage: a clip's measurement, or its failure as a record (never an exception),
so that one bad clip never stops a build.
A failure the run caused (see emotioncot.errors.is_run_failure) raises instead: the shard is then not
written and a rerun measures the clip again. Runs in worker processes (emotioncot/executors/shards.py)."""

from __future__ import annotations

from emotioncot.audio.io import AudioError
from emotioncot.errors import RunFailure, is_run_failure


def measure_one(row: dict, measure_config) -> dict:
    from emotioncot.measure import measure_utterance

    try:
        return {"ok": True, "result": measure_utterance(row, measure_config)}
    except AudioError as exc:
        return {"ok": False, "reason": str(exc)}
    except Exception as exc:  # one bad clip must never stop a build
        if is_run_failure(exc):  # ... but a broken run must not be remembered as the clip's failure
            raise RunFailure(f"{row['audio_path']}: {type(exc).__name__}: {exc}") from exc
        return {"ok": False, "reason": f"{row['audio_path']}: measurement failed ({type(exc).__name__}: {exc})"}
