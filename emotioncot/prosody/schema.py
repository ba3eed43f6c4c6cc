"""The row model of a prosody-perception task dataset (``emotioncot prosody-tasks``).

Separate from ``emotioncot.schema.Record`` on purpose: a task row is a question about one clip (or a
set of versions of one clip joined with silences), not an annotated utterance. ``validate`` recognises a
task dataset by its ``task`` column and checks it with ``validate_task_rows``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from emotioncot.schema import Split

TASKS: dict[str, str] = {
    # task -> family
    "attr_pitch": "attributes",
    "attr_energy": "attributes",
    "attr_speed": "attributes",
    "attr_intonation": "attributes",
    "attr_stress": "attributes",
    "compare_pitch_pair": "compare",
    "compare_energy_pair": "compare",
    "compare_speed_pair": "compare",
    "compare_pitch_order": "compare",
    "compare_energy_order": "compare",
    "compare_speed_order": "compare",
    "stress_word": "stress",
}
FAMILIES = ("attributes", "compare", "stress")

Task = Literal[
    "attr_pitch", "attr_energy", "attr_speed", "attr_intonation", "attr_stress",
    "compare_pitch_pair", "compare_energy_pair", "compare_speed_pair",
    "compare_pitch_order", "compare_energy_order", "compare_speed_order",
    "stress_word",
]
assert set(Task.__args__) == set(TASKS)

JSON_FIELDS = ("intended", "measured")


class ProsodyTaskRecord(BaseModel):
    """One question about a clip, with its listed options and its answer (known by construction or from
    the calibrated levels). ``balance_key`` is what the answers are balanced on: the answer itself, or for
    word questions the position of the word in the sentence (start / middle / end)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    task: Task
    family: Literal["attributes", "compare", "stress"]
    source_id: str = Field(min_length=1)
    corpus: Optional[str] = None
    speaker_id: Optional[str] = None
    split: Split
    transcript: Optional[str] = None
    question: str = Field(min_length=1)
    options: list[str] = Field(min_length=2)
    answer: str = Field(min_length=1)
    balance_key: str = Field(min_length=1)
    audio_path: Optional[str] = None  # the source clip; None when the audio was generated
    start_s: Optional[float] = Field(default=None, ge=0)
    end_s: Optional[float] = Field(default=None, ge=0)
    audio_generated: bool
    duration_s: float = Field(gt=0)
    sample_rate: int = Field(gt=0)
    intended: dict[str, Any] = Field(default_factory=dict)
    measured: dict[str, Any] = Field(default_factory=dict)
    tool_version: Optional[str] = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.answer not in self.options:
            raise ValueError(f"answer {self.answer!r} is not one of the options {self.options}")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"options repeat: {self.options}")
        if TASKS[self.task] != self.family:
            raise ValueError(f"task {self.task} belongs to family {TASKS[self.task]}, not {self.family}")
        if not self.audio_generated and not self.audio_path:
            raise ValueError("an unmodified clip needs its audio_path")
        return self


def balance_problems(rows: list[dict], tolerance: float) -> list[dict]:
    """Per task and split: every balance key seen in the task must be present, and the most frequent at
    most ``1 + tolerance`` times the rarest."""
    problems = []
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    keys_per_task: dict[str, set] = defaultdict(set)
    for r in rows:
        counts[(r["task"], r["split"])][r["balance_key"]] += 1
        keys_per_task[r["task"]].add(r["balance_key"])
    for (task, split), c in sorted(counts.items()):
        if len(keys_per_task[task]) < 2:
            continue
        missing = keys_per_task[task] - set(c)
        low, high = min(c.values()), max(c.values())
        if missing or high > low * (1 + tolerance) + 1e-9:
            problems.append(
                {
                    "code": "answer_imbalance",
                    "id": None,
                    "message": f"{task} ({split}): answers {dict(sorted(c.items()))}"
                    + (f", missing {sorted(missing)}" if missing else "")
                    + f"; most frequent may be at most {1 + tolerance:.2f} x the rarest",
                }
            )
    return problems


def validate_task_rows(rows: list[dict], path: str, kind: str, balance_tolerance: float = 0.05) -> dict:
    """The ``validate`` report of a prosody task dataset (same shape as ``emotioncot.validate.validate_path``)."""
    problems: list[dict] = []
    valid = []
    for i, raw in enumerate(rows):
        row = dict(raw)
        for key in JSON_FIELDS:
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key]) if row[key] else {}
        try:
            valid.append(ProsodyTaskRecord.model_validate(row).model_dump())
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(map(str, e["loc"])) or "row"
                problems.append({"code": "schema", "id": row.get("id", f"row {i}"), "message": f"{field}: {e['msg']}"})
    for rid, n in Counter(r.get("id") for r in rows).items():
        if n > 1:
            problems.append({"code": "duplicate_id", "id": rid, "message": f"id {rid!r} appears {n} times"})
    speaker_splits = defaultdict(set)
    for r in valid:
        if r.get("speaker_id"):
            speaker_splits[(r.get("corpus"), r["speaker_id"])].add(r["split"])
    for (corpus, spk), splits in speaker_splits.items():
        if len(splits) > 1:
            problems.append({"code": "speaker_leak", "id": None, "message": f"speaker {spk!r} of {corpus} is in {len(splits)} splits: {sorted(splits)}"})
    problems += balance_problems(valid, balance_tolerance)
    return {
        "path": path,
        "kind": f"{kind} (prosody tasks)",
        "rows": len(rows),
        "ok": not problems,
        "problems": problems,
        "problem_counts": dict(Counter(p["code"] for p in problems)),
        "class_balance": {k: v for k, v in sorted(Counter(r.get("task") for r in rows).items(), key=lambda kv: str(kv[0]))},
        "splits": {str(k): v for k, v in Counter(r.get("split") for r in rows).items()},
    }
