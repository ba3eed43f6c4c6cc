"""What the explorer report shows of a whole build, gathered in one pass over its records (kept, then rejected), so
that a build of any length is reported in bounded memory: exact counts (per corpus, split, emotion and speaker;
rejection codes; levels left unset and why; provenance; emotion by level), the speaker-attribute tally of the card,
the values of the distribution figure (every value up to ``VALUES_KEPT`` per emotion, beyond that a seeded uniform
sample, and the figure says so), and the stratified sample of records that get pages.

The sample: per (emotion, corpus) stratum, the records with the smallest seeded hash of their id (a seeded uniform
draw that does not depend on the table's order or length), taken in turn from each stratum; then rejected records,
drawn the same way.
"""

from __future__ import annotations

import heapq
from array import array
import random
from collections import Counter, defaultdict
from typing import Iterable

from emotioncot.calibrate.crosstab import CUE_FIELDS
from emotioncot.calibrate.levels import LEVEL_FEATURES, _file_chain, group_cut
from emotioncot.summary import Canon, RecordTally
from emotioncot.workspace import stable_hash

VALUES_KEPT = 20_000  # values per emotion and quantity the distribution figure is drawn from
COUNTED_FIELDS = ("corpus", "split", "emotion", "speaker_id")
PROVENANCE = ("tool_version", "writer", "model", "prompt_id", "label_mode", "thresholds_version")  # pages.PROVENANCE


class ReportSummary:
    def __init__(self, thresholds: dict, sample: int, seed: int = 0, max_rejected: int = 50):
        from emotioncot.report.plots import QUANTITIES

        self.thresholds, self.sample_size, self.seed, self.max_rejected = thresholds, sample, seed, max_rejected
        self.canon = Canon()  # every key kept below is a canonical object, not one of a batch's (summary.Canon)
        self.kept = self.rejected = 0
        self.fields = {f: {"kept": Counter(), "rejected": Counter()} for f in COUNTED_FIELDS}
        self.reject_codes: Counter = Counter()
        self.dropped = 0
        self.error_kinds: Counter = Counter()
        self.level_reasons: Counter = Counter()
        self.provenance: Counter = Counter()
        self.prompt_ids: set[str] = set()
        self.cross = {cue: Counter() for cue in CUE_FIELDS}
        self.estimates = RecordTally()
        self.quantities = [name for name, _ in QUANTITIES]
        # arrays, not lists of floats: a million float objects kept among the batches' transient ones would pin
        # the allocator's memory pages and hold far more memory than their values
        self.values: dict[str, dict[str, array]] = {q: defaultdict(lambda: array("d")) for q in self.quantities}
        self.seen: dict[str, Counter] = {q: Counter() for q in self.quantities}
        self.cuts: dict[str, dict[str, set]] = {q: defaultdict(set) for q in self.quantities}
        self.rng = random.Random(seed)
        self.strata: dict[tuple, list] = defaultdict(list)  # max-heaps (negated hash) of the smallest hashes
        self.rejected_pool: list = []
        groups = (thresholds or {}).get("groups") or {}
        weights = [g["vocal_effort_db"].get("level_weight") for g in groups.values() if g.get("vocal_effort_db")]
        self.weight = next((w for w in weights if w is not None), 0.5)  # the one the cut points were fitted with
        self.chain = _file_chain(thresholds) if groups and "group_by" in thresholds else None

    def add(self, records: Iterable[dict]) -> None:
        from emotioncot.report.data import _reason_kind
        from emotioncot.report.plots import quantity_values

        canon = self.canon
        for rec in records:
            status = rec["status"]
            if status == "kept":
                self.kept += 1
            else:
                self.rejected += 1
                self.reject_codes.update(canon(c) for c in dict.fromkeys(rec.get("reject_reasons") or []))
            for f in COUNTED_FIELDS:
                self.fields[f][status][canon(rec.get(f))] += 1
            for level, why in (rec.get("level_reasons") or {}).items():
                self.level_reasons[canon(f"{level}: {_reason_kind(str(why))}")] += 1
            self.provenance[tuple(canon(rec.get(k)) for k in PROVENANCE)] += 1
            if rec.get("prompt_id"):
                self.prompt_ids.add(canon(str(rec["prompt_id"])))
            for cue, field in CUE_FIELDS.items():
                self.cross[cue][(canon(rec.get("emotion")), canon(rec.get(field)))] += 1
            self.estimates.add([rec])
            emotion = canon(str(rec.get("emotion")))
            for name in self.quantities:
                v = quantity_values(rec, name, self.weight)
                if v is None:
                    continue
                seen = self.seen[name][emotion] = self.seen[name][emotion] + 1
                kept = self.values[name][emotion]
                if len(kept) < VALUES_KEPT:
                    kept.append(v)
                else:  # reservoir sampling: every value so far equally likely to be kept
                    j = self.rng.randrange(seen)
                    if j < VALUES_KEPT:
                        kept[j] = v
            if self.chain is not None:
                for level, (feature, _) in LEVEL_FEATURES.items():
                    _, cut = group_cut(rec, self.thresholds["groups"], self.chain, feature)
                    if cut and cut.get("cuts") and feature in self.cuts:
                        self.cuts[feature][emotion].add(tuple(cut["cuts"]))
            self._offer(rec)

    def _offer(self, rec: dict) -> None:
        key = int(stable_hash(self.seed, str(rec["id"]), length=12), 16)
        if rec["status"] == "kept":
            heap, limit = self.strata[(self.canon(str(rec.get("emotion"))), self.canon(str(rec.get("corpus"))))], self.sample_size
        else:
            heap, limit = self.rejected_pool, self.max_rejected
        if limit <= 0:
            return
        item = (-key, str(rec["id"]), rec)
        if len(heap) < limit:
            heapq.heappush(heap, item)
        elif item[:2] > heap[0][:2]:
            heapq.heapreplace(heap, item)

    def add_errors(self, errors: Iterable[dict]) -> None:
        """The items earlier stages dropped (errors.jsonl, rejections left out: they are counted by code)."""
        from emotioncot.report.data import _reason_kind

        for err in errors:
            if err.get("stage") == "filter":
                continue
            self.dropped += 1
            self.error_kinds[(err.get("stage") or "?", _reason_kind(err.get("reason") or ""))] += 1

    @property
    def total(self) -> int:
        return self.kept + self.rejected

    def sampled(self) -> list[dict]:
        from emotioncot.report.data import round_robin

        queues = []
        for key in sorted(self.strata):
            members = sorted(self.strata[key], key=lambda item: (-item[0], item[1]))  # smallest hash first
            queues.append([rec for _, _, rec in reversed(members)])  # round_robin takes from the end
        chosen = round_robin(queues, self.sample_size)
        rejected = [rec for _, _, rec in sorted(self.rejected_pool, key=lambda item: (-item[0], item[1]))]
        return chosen + rejected[: self.max_rejected]

    def sampled_values(self) -> bool:
        return any(n > VALUES_KEPT for per in self.seen.values() for n in per.values())
