"""One item of the measure stage: a clip's measurement, or its failure as a record (never an exception),
so that one bad clip never stops a build. Runs in worker processes (emotioncot/executors/shards.py)."""

from __future__ import annotations

from emotioncot.audio.io import AudioError


def measure_one(row: dict, measure_config) -> dict:
    from emotioncot.measure import measure_utterance

    try:
        return {"ok": True, "result": measure_utterance(row, measure_config)}
    except AudioError as exc:
        return {"ok": False, "reason": str(exc)}
    except Exception as exc:  # one bad clip must never stop a build
        return {"ok": False, "reason": f"{row['audio_path']}: measurement failed ({type(exc).__name__}: {exc})"}
