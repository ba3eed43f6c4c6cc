"""The records of a build folder as a stream of bounded batches: the ingest, measure and calibrate tables merged in
table order (each later table holds a subsequence of the earlier one's ids, in the same order), with the per-speaker
gender estimates applied. This replaces joining whole tables of dicts: memory is a few batches, whatever the length.

Also the write and filter stages' inputs: ``iter_records`` (what the writer reads) and ``iter_with_text`` (the
records joined with their written text, what the filter reads).
"""

from __future__ import annotations

import json
from array import array
from collections import defaultdict
from statistics import median
from typing import Iterable, Iterator

from emotioncot.batches import BATCH_ROWS, iter_rows
from emotioncot.errors import BuildError
from emotioncot.schema import GeneratedText, Levels, Measurements, Utterance
from emotioncot.workspace import Workspace

# measurement fields a record does not carry (the per-clip gender guess is replaced by the per-speaker one)
NOT_IN_RECORD = ("estimated_gender", "estimated_gender_confidence", "error")


def rows_of(batches: Iterable[list[dict]]) -> Iterator[dict]:
    for batch in batches:
        yield from batch


def batched(rows: Iterable[dict], size: int = BATCH_ROWS) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def merge_in_order(left: Iterable[dict], right: Iterable[dict], what: str) -> Iterator[tuple[dict, dict]]:
    """Pairs of rows with the same id from two tables in the same order, where ``right``'s ids are a subsequence of
    ``left``'s (a left row without a partner is skipped). A right row that never matches means the tables were
    not written by one build: a BuildError naming ``what``."""
    right = iter(right)
    pending = next(right, None)
    for row in left:
        if pending is not None and pending["id"] == row["id"]:
            yield row, pending
            pending = next(right, None)
    if pending is not None:
        raise BuildError(f"{what}: row {pending['id']!r} has no partner in table order; the stage tables do not "
                         "belong together (rerun the build, or delete the stage folders after the first odd one)")


def speaker_gender_estimates(ws: Workspace) -> dict[tuple[str, str], tuple[str, float]]:
    """``measure.gender.speaker_genders`` over the whole build, reading four columns of two tables: per speaker
    without a stated gender, the median of the clip medians of the clips whose measurement offered an estimate."""
    from emotioncot.measure.gender import estimate_gender

    ucols = ["id", "corpus", "speaker_id", "gender", "gender_source"]
    mcols = ["id", "f0_median_hz", "estimated_gender_confidence"]
    f0s: dict[tuple[str, str], array] = defaultdict(lambda: array("d"))
    pairs = merge_in_order(rows_of(iter_rows(ws.stage_table("ingest"), columns=ucols)),
                           rows_of(iter_rows(ws.stage_table("measure"), columns=mcols)), "measure table")
    for utt, m in pairs:
        if m.get("estimated_gender_confidence") is None:
            continue
        if utt.get("speaker_id") and not (utt.get("gender") and utt.get("gender_source") != "estimated") \
                and m.get("f0_median_hz"):
            f0s[(utt.get("corpus") or "?", utt["speaker_id"])].append(float(m["f0_median_hz"]))
    out = {}
    for key, values in f0s.items():
        if len(values) >= 3:
            g, conf = estimate_gender(median(values))
            if g:
                out[key] = (g, conf)
    return out


def withholds_gender(row: dict) -> bool:
    """Whether the source said the speaker is neither Male nor Female (a list's gender ``other``): then no F0
    estimate may state one of the two."""
    meta = row.get("meta") or {}
    if isinstance(meta, str):
        meta = json.loads(meta) if meta else {}
    return bool(meta.get("no_gender_estimate"))


def apply_genders(row: dict, genders: dict) -> None:
    from emotioncot.measure.gender import MIN_CONFIDENCE

    if row.get("gender") or not row.get("speaker_id") or withholds_gender(row):
        return
    est = genders.get((row.get("corpus") or "?", row["speaker_id"]))
    if est and est[1] >= MIN_CONFIDENCE:
        row["gender"], row["gender_source"] = est[0], "estimated"


def iter_joined(ws: Workspace, levels: bool = False, genders: dict | None = None,
                batch_rows: int = BATCH_ROWS) -> Iterator[list[dict]]:
    """Every measured utterance joined with its measurements (and, with ``levels``, its levels), in ingest order,
    in batches. ``genders``: the per-speaker estimates (read from the tables when not given)."""
    genders = speaker_gender_estimates(ws) if genders is None else genders
    joined = merge_in_order(rows_of(iter_rows(ws.stage_table("ingest"), Utterance)),
                            rows_of(iter_rows(ws.stage_table("measure"), Measurements)), "measure table")

    def rows() -> Iterator[dict]:
        for utt, m in joined:
            row = utt
            for k, v in m.items():
                if k not in NOT_IN_RECORD:
                    row[k] = v
            if isinstance(row.get("null_reasons"), dict):  # nor the reasons for fields it does not carry
                row["null_reasons"] = {f: why for f, why in row["null_reasons"].items() if f not in NOT_IN_RECORD}
            apply_genders(row, genders)
            yield row

    stream = rows()
    if levels:
        def with_levels(joined_rows: Iterator[dict]) -> Iterator[dict]:
            for row, lv in merge_in_order(joined_rows, rows_of(iter_rows(ws.stage_table("calibrate"), Levels)),
                                          "calibrate table"):
                row.update({k: v for k, v in lv.items() if k != "id"})
                yield row
        stream = with_levels(stream)
    yield from batched(stream, batch_rows)


def thresholds_version(ws: Workspace) -> str | None:
    path = ws.thresholds_path
    return json.loads(path.read_text()).get("version") if path.exists() else None


def iter_records(ws: Workspace, batch_rows: int = BATCH_ROWS) -> Iterator[list[dict]]:
    """The records the write stage reads: joined rows with their levels, the tool and thresholds versions."""
    from emotioncot import __version__

    version = thresholds_version(ws)
    for batch in iter_joined(ws, levels=True, batch_rows=batch_rows):
        for rec in batch:
            rec["tool_version"] = __version__
            rec["thresholds_version"] = version
        yield batch


def with_text(record: dict, text: dict) -> dict:
    record.update({k: v for k, v in text.items() if k not in ("prompt_tokens", "completion_tokens")})
    return record


def iter_with_text(ws: Workspace, records: Iterable[dict] | None = None,
                   batch_rows: int = BATCH_ROWS) -> Iterator[list[dict]]:
    """The records joined with their written text (records without text are left out), in table order."""
    records = rows_of(iter_records(ws, batch_rows)) if records is None else records
    texts = rows_of(iter_rows(ws.stage_table("write"), GeneratedText))
    yield from batched((with_text(rec, text) for rec, text in merge_in_order(records, texts, "write table")), batch_rows)

