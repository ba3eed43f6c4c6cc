"""Counts of a long table without holding it: ``RecordTally`` sees every record once (batch by batch) and keeps only
how many records share each combination of the few fields that the dataset card, the build summary and the report
count by (corpus, split, emotion, levels, provenance, where speaker attributes came from). ``rows()`` gives those
combinations back as summary rows, each standing for ``_n`` records: the card and summary functions read them as
they read records (``weight``), so a card written from a million-record stream is the card of the records.
"""

from __future__ import annotations

from collections import Counter

from emotioncot.ingest.estimates import _meta

# fields kept as they are (small vocabularies)
FIELDS = ("corpus", "split", "emotion", "pitch_level", "energy_level", "speed_level", "intonation", "language",
          "gender", "age_level", "speaker_source", "gender_source", "age_source", "language_source",
          "tool_version", "writer", "model", "prompt_id", "label_mode", "thresholds_version")


def weight(record: dict) -> int:
    """How many records a row stands for (a summary row's ``_n``; a record is one)."""
    return record.get("_n", 1)


class Canon(dict):
    """One object per distinct value: ``canon(value)`` gives the first object seen equal to it. A tally keeps its keys
    for the whole stream; keys built of the batches' own objects would pin, one by one, the allocator's pages those
    short-lived batches were made in, and memory would grow with the stream though the tally does not."""

    def __call__(self, value):
        return self.setdefault(value, value) if value is not None else None


class RecordTally:
    def __init__(self):
        self.counts: Counter = Counter()
        self.canon = Canon()
        self.clustering: dict[str, dict] = {}  # per clustered corpus, the clustering facts of its first record

    def add(self, records: list[dict]) -> None:
        for rec in records:
            meta = _meta(rec)
            model = (meta.get("speaker_model") or {}).get("model")
            segment = rec.get("start_s") is not None or rec.get("end_s") is not None
            canon = self.canon
            self.counts[(*(canon(rec.get(f)) for f in FIELDS), bool(rec.get("speaker_id")), segment, canon(model))] += 1
            corpus = rec.get("corpus")
            if rec.get("speaker_source") == "clustered" and corpus not in self.clustering \
                    and meta.get("speaker_clustering"):
                self.clustering[corpus] = meta["speaker_clustering"]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rows(self) -> list[dict]:
        out = []
        for key, n in sorted(self.counts.items(), key=lambda kv: tuple(str(v) for v in kv[0])):
            row = dict(zip(FIELDS, key))
            has_speaker, segment, model = key[len(FIELDS):]
            row["speaker_id"] = "(a speaker)" if has_speaker else None  # only whether there is one is counted
            row["start_s"] = 0.0 if segment else None  # only whether the record is a segment is counted
            meta = {}
            if model:
                meta["speaker_model"] = {"model": model}
            if row["speaker_source"] == "clustered" and row["corpus"] in self.clustering:
                meta["speaker_clustering"] = self.clustering[row["corpus"]]
            row["meta"] = meta
            row["_n"] = n
            out.append(row)
        return out
