"""The repair loop: a record the filter rejects for reasons a model can fix is sent back with them.

The request resends the original prompt, the rejected answer as the assistant's turn, and the filter's
reasons as a new user turn; the new answer is checked again. Only the rejected text is redone (the
caption for caption problems, the rationale for the rest). Each repair request has its own journal key
(the original key, the round, the answer and the reasons), so a rerun pays for none twice.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotioncot.config import BuildConfig, FilterConfig
from emotioncot.filter.checks import FIXABLE, REASON_CODES, drop_near_duplicates, filter_batch
from emotioncot.filter.duplicates import NearDuplicateIndex

_PART = re.compile(r"; (?=(?:" + "|".join(sorted(REASON_CODES, key=len, reverse=True)) + r"): )")

# Reasons the model is told only in label-aware mode: in blind mode they would name the gold label.
_AWARE_ONLY = {"caption_emotion"}


def repair_message(reasons: list[str]) -> str:
    return ("That text was not accepted. " + " ".join(r.rstrip(".") + "." for r in reasons)
            + " Write it again from the same facts, fixing these problems and keeping to every rule above. "
            "Answer with the new text only.")


def fixable_problems(rejected_row: dict, label_mode: str) -> dict[str, list[str]]:
    """Per task ("caption", "rationale"): the explanations a writer can act on."""
    out: dict[str, list[str]] = {}
    for part in _PART.split(rejected_row["explanation"]):
        code, _, message = part.partition(": ")
        if code not in FIXABLE or (label_mode == "blind" and code in _AWARE_ONLY):
            continue
        task = "caption" if code.startswith("caption_") else "rationale"
        out.setdefault(task, []).append(message)
    return out


def filter_evidence(config: BuildConfig, evidence: dict | None) -> dict | None:
    """The evidence table the filter weighs cues by: the build's, else the filter's own file (as ``filter_records``)."""
    if evidence is None and config.filter.evidence_file:
        from emotioncot.calibrate.evidence import load_evidence

        if not Path(config.filter.evidence_file).exists():
            raise FileNotFoundError(f"{config.filter.evidence_file}: evidence file (thresholds.json) not found")
        return load_evidence(config.filter.evidence_file)
    return evidence


def checked_for_repair(records: list[dict], rows: list[dict], config: BuildConfig,
                       evidence: dict | None = None) -> tuple[list[dict], dict[str, dict]]:
    """(rows the per-record checks keep, {record id: {task: [reasons]}} for those rejected for fixable reasons).
    Only the per-record checks: the one check across records (near-duplicates) is never fixable, so any split of
    the records into chunks sends back the same ones."""
    text = {row["id"]: row for row in rows}
    joined = [{**rec, **{k: v for k, v in text[rec["id"]].items() if k not in ("prompt_tokens", "completion_tokens")}}
              for rec in records if rec["id"] in text]
    kept, rejected = filter_batch(joined, config.filter, evidence)
    todo = {}
    for row in rejected:
        tasks = fixable_problems(row, config.write.label_mode)
        if tasks:
            todo[row["id"]] = tasks
    return kept, todo


class KeptTally:
    """How many rows the whole filter keeps, fed what the per-record checks kept, chunk by chunk in record order:
    the near-duplicate pass keeps its state across chunks, so the count is one pass's over every chunk."""

    def __init__(self, config: FilterConfig, path: Path | None = None):
        # ``path``: the pass's index on disk (scratch), so that a stage of any size holds no more than a chunk
        self.index = NearDuplicateIndex.for_config(config, path) if config.check_duplicates else None
        self.kept = 0

    def close(self) -> None:
        if self.index is not None:
            self.index.close()

    def add(self, kept: list[dict]) -> None:
        if self.index is not None:
            kept = drop_near_duplicates(kept, self.index)[0]
        self.kept += len(kept)

