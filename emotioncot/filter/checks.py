"""The filter: per-record checks, then near-duplicates across the dataset. Each problem is a machine-readable
code plus a short explanation; a record with any problem is rejected with all of them.

The work splits in two, so that a build can run the first part in shards on the executor:

- per record (``filter_batch``, ``record_problems``): every check but one reads only the record itself (and
  the configuration and the prompt files), so any split of a table into batches gives the same rows;
- global (``NearDuplicateIndex``, ``drop_near_duplicates``): the one check across records. A rationale is a
  near-duplicate when it repeats an earlier rationale that passed every per-record check, so this pass
  reads, in table order, only the id and the rationale of the rows the per-record checks kept, and holds
  per kept rationale its id, shingles and MinHash band keys. It depends on table order (the first of a
  group is kept), and fed batch by batch in that order it gives what one pass gives. There is no other
  state across records: no per-table statistics, no counts.

``filter_records`` is the two in one call, for a whole table in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Iterator

from pydantic import ValidationError
from tqdm import tqdm

from emotioncot.config import FilterConfig
from emotioncot.filter.argument import argument_problems
from emotioncot.filter.caption import caption_problems
from emotioncot.filter.duplicates import NearDuplicateIndex
from emotioncot.filter.grounding import grounding_problems
from emotioncot.filter.io import canonical, vocabulary_problems
from emotioncot.filter.label import label_problems
from emotioncot.filter.numeric import numeric_problems
from emotioncot.filter.surface import (copied_prompt_problems, format_problems, language_problems, length_problems,
                                       markup_problems, transcript_problems)
from emotioncot.filter.text import THINK_ANSWER, word_count  # noqa: F401  (kept importable from here, as before)
from emotioncot.schema import Record

REASON_CODES = {
    "schema": "the row does not fit the record schema or a vocabulary",
    "missing_rationale": "no cot_analysis text",
    "missing_field": "the row lacks a field the checks need (emotion / gt, transcription)",
    "length_short": "fewer words than min_words",
    "length_long": "more words than max_words",
    "format": "broken <think>/<answer> format, or an <answer> that is not one label",
    "language": "the rationale is not in the expected language",
    "grounding_pitch": "a statement about pitch level contradicts pitch_level",
    "grounding_energy": "a statement about loudness / energy contradicts energy_level",
    "grounding_speed": "a statement about speaking rate contradicts speed_level",
    "grounding_intonation": "a statement about the contour contradicts intonation",
    "grounding_stress": "a word said to be stressed is not among stressed_words",
    "grounding_gender": "the speaker is referred to with the other gender, or with one the record does not state",
    "grounding_age": "the speaker is given an age group that contradicts age_level",
    "grounding_reference": "a level is put against this speaker's own voice, but level_group says it was graded "
                           "against a wider group (the corpus, its speakers of one gender, the dataset)",
    "numeric": "a number in the rationale or caption is not the record's measurement, not the quantity its level was "
               "graded on, or sits beside words that contradict the level",
    "label_leading": "label-aware rationale opens with the gold emotion",
    "label_conclusion": "label-aware rationale does not conclude with the gold emotion",
    "label_not_inferred": "label-blind rationale names no emotion",
    "label_disagreement": "label-blind rationale concludes another emotion than the gold label",
    "transcript_not_quoted": "the transcription is not quoted",
    "near_duplicate": "the rationale repeats an earlier one",
    "format_markup": "a list, heading, bold text or numbered step instead of plain prose",
    "copied_prompt": "the rationale repeats prompt headers or instructions",
    "caption_grounding": "a statement of the caption contradicts a measured level or speaker trait",
    "caption_copied_prompt": "the caption repeats prompt headers or instructions",
    "caption_format": "the caption is not plain prose",
    "caption_length": "the caption is shorter than caption_min_words or longer than caption_max_words",
    "caption_emotion": "the caption names the gold emotion",
    "argument": "the stated balance of cues contradicts the evidence table (a cue said to support what the table "
                "says it opposes, cues against called fewer or weaker when they are not, a 'clear' conclusion from "
                "mixed or weak cues, 'every cue' on one side beside a cue that counts neither way), or the speaker "
                "is referred to with both genders",
}

# Problems a writer can fix when told about them (the repair loop sends these back); a schema error, a
# missing text or a near-duplicate of another record is not the model's answer to fix. Label-blind
# disagreements are not sent back either: the reason would leak the gold label.
FIXABLE = frozenset(REASON_CODES) - {"schema", "missing_rationale", "near_duplicate", "label_disagreement"}

Problems = list[tuple[str, str]]


def check_schema(record: dict, config: FilterConfig) -> Problems:
    if "writer" in record:  # a build record: the full schema
        try:
            Record.model_validate(record)
        except ValidationError as exc:
            return [("schema", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))]
        return []
    return [("schema", message) for _, message in vocabulary_problems(record)]


def check_length(record: dict, config: FilterConfig) -> Problems:
    return length_problems(record["cot_analysis"], config.min_words, config.max_words)


def check_format(record: dict, config: FilterConfig) -> Problems:
    return format_problems(record["cot_analysis"], config.require_format)


def check_language(record: dict, config: FilterConfig) -> Problems:
    return language_problems(record["cot_analysis"], config.language)


def check_grounding(record: dict, config: FilterConfig) -> Problems:
    return grounding_problems(record, tuple(config.grounding_aspects), config.grounding_strictness,
                              config.grounding_skip_generic)


def check_numeric(record: dict, config: FilterConfig) -> Problems:
    problems = numeric_problems(record)
    if not problems and record.get("caption"):
        problems = numeric_problems(record, record["caption"], where="caption")
    return problems


def check_transcript(record: dict, config: FilterConfig) -> Problems:
    return transcript_problems(
        record["cot_analysis"], record.get("transcript"), config.transcript_min_similarity,
        config.transcript_long_words, config.transcript_min_excerpt_words,
    )


def check_markup(record: dict, config: FilterConfig) -> Problems:
    return markup_problems(record["cot_analysis"])


def check_copied_prompt(record: dict, config: FilterConfig) -> Problems:
    return copied_prompt_problems(record["cot_analysis"])


def check_caption(record: dict, config: FilterConfig) -> Problems:
    return caption_problems(record, config.caption_min_words, config.caption_max_words,
                            tuple(config.grounding_aspects), config.grounding_strictness, config.grounding_skip_generic)


CHECKS: dict[str, Callable[[dict, FilterConfig], Problems]] = {
    "schema": check_schema,
    "length": check_length,
    "format": check_format,
    "language": check_language,
    "grounding": check_grounding,
    "numeric": check_numeric,
    "transcript": check_transcript,
    "markup": check_markup,
    "copied_prompt": check_copied_prompt,
    "caption": check_caption,
}


def _enabled(config: FilterConfig, name: str) -> bool:
    return getattr(config, f"check_{name}", True)


# Fields a row must carry (canonical names, aliases in filter.io.ALIASES): without the gold label the
# label checks pass anything, without the transcription the quote check does.
REQUIRED_FIELDS = {"emotion": "emotion (or gt / label)", "transcript": "transcription (or transcript / text)"}


def missing_fields(record: dict) -> Problems:
    """A row from a JSONL file (no ``writer``) without a field the checks need. Build records are exempt
    from the transcription (corpora without transcripts are written without quoting one)."""
    needed = REQUIRED_FIELDS if "writer" not in record else {"emotion": REQUIRED_FIELDS["emotion"]}
    if record.get("label_mode") == "blind" and "writer" in record:
        needed = {}
    absent = [name for f, name in needed.items() if not str(record.get(f) or "").strip()]
    return [("missing_field", f"no {', no '.join(absent)}: the checks cannot judge this row")] if absent else []


def record_problems(record: dict, config: FilterConfig, evidence: dict | None = None) -> tuple[Problems, str | None]:
    """Problems of one record (canonical field names) and, for a label-blind record, its inferred emotion.
    ``evidence``: the evidence table the argument check weighs cues by (None: the prior)."""
    if not (record.get("cot_analysis") or "").strip():
        return [("missing_rationale", "the record has no cot_analysis text")], None
    missing = missing_fields(record)
    if missing:
        return missing, None
    problems: Problems = []
    for name, check in CHECKS.items():
        if _enabled(config, name):
            problems.extend(check(record, config))
    inferred = None
    if config.check_label:
        mode = record.get("label_mode") or config.label_mode
        label, inferred = label_problems(record, mode, config.conclusion_sentences, config.blind_disagreement)
        problems.extend(label)
    if config.check_argument:
        problems.extend(argument_problems({**record, "inferred_emotion": record.get("inferred_emotion") or inferred},
                                          evidence))
    return problems, inferred


def checked(record: dict, config: FilterConfig, evidence: dict | None = None) -> tuple[dict, Problems]:
    """The row as it went in (plus a blind record's inferred emotion) and its per-record problems (the argument
    check weighs cues by ``evidence``, the build's evidence table; None: the literature prior)."""
    problems, inferred = record_problems(canonical(record), config, evidence)
    out = dict(record)
    if inferred is not None and not record.get("inferred_emotion"):
        out["inferred_emotion"] = inferred
    return out, problems


def _rejected(out: dict, problems: Problems) -> dict:
    return {**out, "reject_reasons": [c for c, _ in problems],
            "explanation": "; ".join(f"{c}: {m}" for c, m in problems)}


def _repeats(index: NearDuplicateIndex, label, row: dict) -> Problems:
    found = index.check(label, canonical(row).get("cot_analysis") or "")
    return [] if found is None else [("near_duplicate", f"repeats the rationale of {found[0]} (Jaccard {found[1]:.2f})")]


def duplicate_index(config: FilterConfig) -> NearDuplicateIndex:
    """The state of the global pass, to be fed every batch of a table in order (``drop_near_duplicates``)."""
    return NearDuplicateIndex(config.duplicate_threshold, config.shingle_size)


def filter_batch(records: list[dict], config: FilterConfig | None = None,
                 evidence: dict | None = None) -> tuple[list[dict], list[dict]]:
    """The per-record checks of one batch: (kept, rejected), rows as ``filter_records`` gives them. Depends
    on nothing but the batch, so shards of a table give the rows one pass gives. The kept rows still have
    to go through the global pass (``drop_near_duplicates``) where ``config.check_duplicates`` is on."""
    config = config or FilterConfig()
    kept, rejected = [], []
    for record in records:
        out, problems = checked(record, config, evidence)
        if problems:
            rejected.append(_rejected(out, problems))
        else:
            kept.append(out)
    return kept, rejected


def drop_near_duplicates(kept: list[dict], index: NearDuplicateIndex) -> tuple[list[dict], list[dict]]:
    """The global pass over one batch of rows that ``filter_batch`` kept, batches in table order: (kept,
    rejected as near-duplicates). Reads each row's id and rationale only; a repeat names the earlier row by
    its id (build records always have one; ``filter_records`` names rows without one by row number)."""
    still, repeated = [], []
    for row in kept:
        problems = _repeats(index, row.get("id"), row)
        if problems:
            repeated.append(_rejected(row, problems))
        else:
            still.append(row)
    return still, repeated


def filter_records(records: list[dict], config: FilterConfig | None = None, progress: bool = False,
                   evidence: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Split records into kept and rejected. A rejected row is the record plus ``reject_reasons`` (codes,
    see ``REASON_CODES``) and ``explanation``. Records may use emotioncot's field names or the public
    EmotionCoT ones (``transcription``, ``gt``, ``stress`` ...); rows come back as they went in, except that a
    label-blind record gets its ``inferred_emotion`` filled in when it had none. Rejected rows keep the
    table's order (a near-duplicate stands where its record stood)."""
    config = config or FilterConfig()
    if evidence is None and config.evidence_file:
        from emotioncot.calibrate.evidence import load_evidence

        if not Path(config.evidence_file).exists():
            raise FileNotFoundError(f"{config.evidence_file}: evidence file (thresholds.json) not found")
        evidence = load_evidence(config.evidence_file)
    rows = tqdm(records, desc="filter", unit="record", disable=not progress)
    return decide((checked(record, config, evidence) for record in rows), config)


def decide(rows: Iterable[tuple[dict, Problems]], config: FilterConfig) -> tuple[list[dict], list[dict]]:
    """Rows with their per-record problems (``checked``, or the same from a worker), in table order -> (kept,
    rejected), the global near-duplicate pass included: a row is compared only with the earlier rows that passed
    every per-record check, so one pass in order gives what checking everything first would."""
    kept, rejected = [], []
    for row, ok in decisions(rows, config):
        (kept if ok else rejected).append(row)
    return kept, rejected


def decisions(rows: Iterable[tuple[dict, Problems]], config: FilterConfig,
              index: NearDuplicateIndex | None = None) -> Iterator[tuple[dict, bool]]:
    """``decide`` one row at a time: (the row as kept, True) or (the rejected row, False), in table order.
    ``index``: the near-duplicate pass's state (a fresh one in memory when not given)."""
    if config.check_duplicates and index is None:
        index = duplicate_index(config)
    for i, (out, problems) in enumerate(rows):
        if not problems and config.check_duplicates:  # rows without an id are named by their row number
            problems = _repeats(index, out.get("id") or f"row {i + 1}", out)
        yield (_rejected(out, problems), False) if problems else (out, True)


def reason_counts(rejected: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rejected:
        for code in dict.fromkeys(row["reject_reasons"]):
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
