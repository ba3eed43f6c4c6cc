"""Attribute questions about one unmodified clip: pitch level, energy level, speed, intonation contour and
the stressed word, answered from the build's calibrated levels and measurements."""

from __future__ import annotations

from emotioncot.prosody.questions import position_bucket, words_of
from emotioncot.taxonomy import ENERGY_LEVELS, INTONATIONS, PITCH_LEVELS, SPEED_LEVELS

# task -> (record field, answer vocabulary in the order options are listed, question stem)
LEVEL_TASKS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "attr_pitch": ("pitch_level", PITCH_LEVELS, "How high is the speaker's pitch in this clip, for this kind of speaker?"),
    "attr_energy": ("energy_level", ENERGY_LEVELS, "How much vocal energy (loudness) does the speaker use in this clip?"),
    "attr_speed": ("speed_level", SPEED_LEVELS, "How fast does the speaker talk in this clip?"),
    "attr_intonation": (
        "intonation",
        tuple(i for i in INTONATIONS if i not in ("uncertain", "too_short")),
        "What is the overall intonation contour (pitch movement) of the utterance?",
    ),
}


def _base(record: dict, task: str) -> dict:
    start, end = record.get("start_s"), record.get("end_s")
    duration = record.get("duration_s") or ((end - start) if start is not None and end is not None else None)
    return {
        "id": f"{record['id']}__{task}",
        "task": task,
        "family": "attributes",
        "source_id": record["id"],
        "corpus": record.get("corpus"),
        "speaker_id": record.get("speaker_id"),
        "split": record.get("split"),
        "transcript": record.get("transcript"),
        "audio_path": record["audio_path"],
        "start_s": start,
        "end_s": end,
        "audio_generated": False,
        "duration_s": duration,
    }


def attribute_items(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """Candidate attribute items (options are finalised by balancing) and the skipped ones with reasons."""
    items, skipped = [], []
    for rec in records:
        if not rec.get("split"):
            skipped.append({"source_id": rec["id"], "task": "attributes", "reason": "record has no split"})
            continue
        for task, (field, vocab, stem) in LEVEL_TASKS.items():
            value = rec.get(field)
            if value not in vocab:
                reason = f"no {field}" if value is None else f"{field} {value!r} cannot be asked about"
                skipped.append({"source_id": rec["id"], "task": task, "reason": reason})
                continue
            items.append(
                {
                    **_base(rec, task),
                    "stem": stem,
                    "vocabulary": list(vocab),
                    "answer": value,
                    "balance_key": value,
                    "intended": {},
                    "measured": _evidence(rec, field),
                }
            )
        stress = _stress_item(rec)
        if isinstance(stress, str):
            skipped.append({"source_id": rec["id"], "task": "attr_stress", "reason": stress})
        else:
            items.append(stress)
    return items, skipped


def _evidence(rec: dict, field: str) -> dict:
    """The physical measurement behind a level, kept so the answer can be audited."""
    keys = {
        "pitch_level": ("f0_median_hz",),
        "energy_level": ("energy_dbfs",),
        "speed_level": ("articulation_rate_sps",),
        "intonation": ("intonation_confidence",),
    }[field]
    out = {k: rec.get(k) for k in keys if rec.get(k) is not None}
    if rec.get("level_group"):
        out["level_group"] = rec["level_group"]
    if rec.get("thresholds_version"):
        out["thresholds_version"] = rec["thresholds_version"]
    return out


def _stress_item(rec: dict) -> dict | str:
    stressed = rec.get("stressed_words") or []
    if not stressed:
        return "no stressed word measured"
    words = words_of(rec.get("transcript") or "")
    lowered = [w.lower() for w in words]
    target = words_of(stressed[0])
    if not target or target[0].lower() not in lowered:
        return f"stressed word {stressed[0]!r} is not in the transcript"
    if lowered.count(target[0].lower()) > 1:
        return f"stressed word {stressed[0]!r} occurs more than once in the transcript"
    options = list(dict.fromkeys(words))
    if len({o.lower() for o in options}) != len(options) or len(options) < 2:
        return "transcript has repeated words or fewer than two words"
    index = lowered.index(target[0].lower())
    return {
        **_base(rec, "attr_stress"),
        "stem": f'Which word of "{" ".join(words)}" does the speaker stress most?',
        "options": options,
        "answer": words[index],
        "balance_key": position_bucket(index, len(words)),
        "intended": {},
        "measured": {"stressed_words": list(stressed)},
    }
