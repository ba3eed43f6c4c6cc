"""The dataset card (``README.md``): YAML metadata the Hugging Face Hub reads, then what is in the data,
how it was built, and the licence and citation of every source corpus (read from its manifest).

Only the records and the corpus manifests go into the card: no configuration values, so no endpoint,
key or token can leak into it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from emotioncot import __version__
from emotioncot.taxonomy import EMOTIONS, ENERGY_LEVELS, INTONATIONS, PITCH_LEVELS, SPEED_LEVELS, SPLITS
from emotioncot.summary import weight

# Licence identifiers the Hub knows (a subset); anything else is declared as "other" with its text.
HF_LICENSES = {
    "apache-2.0", "mit", "cc0-1.0", "cc-by-4.0", "cc-by-3.0", "cc-by-sa-4.0", "cc-by-sa-3.0", "cc-by-nc-4.0",
    "cc-by-nc-3.0", "cc-by-nc-sa-4.0", "cc-by-nc-sa-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-nd-3.0", "cc-by-nd-4.0",
    "gpl-3.0", "gpl-2.0", "lgpl-3.0", "agpl-3.0", "odbl", "odc-by", "pddl", "bsd-3-clause", "bsd-2-clause",
    "unlicense", "openrail",
}
_SPDX_TO_HF = {"gpl-3.0-or-later": "gpl-3.0", "gpl-3.0-only": "gpl-3.0", "gpl-2.0-or-later": "gpl-2.0", "odbl-1.0": "odbl"}

TITLE = "emotioncot speech-emotion reasoning dataset"


def hf_license_id(text: str | None) -> str | None:
    """``"CC BY-NC-SA 4.0"`` -> ``"cc-by-nc-sa-4.0"``; None when the text is not a licence the Hub knows."""
    if not text:
        return None
    base = re.sub(r"\(.*?\)", "", text).strip().lower()
    base = re.sub(r"[\s_]+", "-", base)
    base = _SPDX_TO_HF.get(base, base)
    return base if base in HF_LICENSES else None


def size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def corpus_manifests(corpora: Iterable[str]) -> dict[str, dict | None]:
    """Each corpus's manifest, or None where there is none (the card says so instead of failing)."""
    from emotioncot.ingest.manifest import load_manifest

    out = {}
    for name in sorted(set(corpora)):
        try:
            out[name] = load_manifest(name)
        except (FileNotFoundError, ValueError, OSError):
            out[name] = None
    return out


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _crosstab(records: list[dict], field: str, order: Iterable[str] | None = None) -> str:
    counts: Counter = Counter()
    for r in records:
        counts[(r.get(field), r.get("split"))] += weight(r)
    values = list(order) if order is not None else sorted({k[0] for k in counts}, key=str)
    values += sorted({k[0] for k in counts if k[0] not in values}, key=str)
    rows = []
    for value in values:
        per = [counts.get((value, s), 0) for s in SPLITS]
        if sum(per):
            rows.append(["—" if value is None else value, *per, sum(per)])
    return _table([field, *SPLITS, "total"], rows)


def _distribution(records: list[dict], field: str, order: tuple[str, ...]) -> str:
    counts: Counter = Counter()
    for r in records:
        counts[r.get(field)] += weight(r)
    total = sum(counts.values()) or 1
    keys = [k for k in order if k in counts] + sorted((k for k in counts if k not in order), key=str)
    rows = [["—" if k is None else k, counts[k], f"{100 * counts[k] / total:.1f}%"] for k in keys]
    return _table([field, "records", "share"], rows)


def _provenance(records: list[dict]) -> str:
    keys = ("tool_version", "writer", "model", "prompt_id", "label_mode", "thresholds_version")
    counts: Counter = Counter()
    for r in records:
        counts[tuple(r.get(k) for k in keys)] += weight(r)
    rows = [[*("—" if v is None else v for v in key), n] for key, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return _table([*keys, "records"], rows)


def card_metadata(records: list[dict], manifests: dict[str, dict | None], counts: dict | None = None):
    from huggingface_hub import DatasetCardData

    licences, unknown = [], []
    for name, man in manifests.items():
        text = (man or {}).get("licence") or (man or {}).get("license")
        hf = hf_license_id(text)
        if hf:
            licences.append(hf)
        else:
            unknown.append(f"{name}: {text or 'not stated (no manifest)'}")
    licences = sorted(set(licences))
    extra = {}
    if unknown:
        licences.append("other")
        extra["license_name"] = "per-corpus"
        extra["license_details"] = "Each record keeps its source corpus's licence. " + "; ".join(unknown)
    languages = sorted({str(r["language"]).split("-")[0].lower() for r in records if r.get("language")})
    if not languages:
        languages = sorted({str(m["language"]) for m in manifests.values() if m and m.get("language")})
    return DatasetCardData(
        pretty_name=TITLE,
        license=licences if len(licences) > 1 else (licences[0] if licences else "unknown"),
        language=languages or None,
        task_categories=["audio-classification", "audio-text-to-text"],
        size_categories=size_category(sum(weight(r) for r in records)),
        tags=["speech-emotion-recognition", "chain-of-thought", "emotioncot", "audio"],
        configs=[{
            "config_name": "default",
            # Only splits with rows have shards (a pattern that matches no file breaks load_dataset).
            "data_files": [{"split": s, "path": f"parquet/{s}-*.parquet"} for s in SPLITS if (counts or {}).get(s, 1)],
        }],
        **extra,
    )


def _excluded(excluded: list[dict] | None) -> list[str]:
    if not excluded:
        return ["No clip was left out by the taxonomy.", ""]
    rows = [[e["corpus"], e["native_label"] or "—", e["why"], e["clips"]] for e in excluded]
    return ["Clips whose corpus label has no class in the 9-class taxonomy were measured (and count in their "
            "speaker's calibration baseline) but have no record:", "",
            _table(["corpus", "native label", "why", "clips"], rows), ""]


def _emotion_by_level(records: list[dict]) -> list[str]:
    from emotioncot.calibrate.crosstab import CUES, counts_frame, markdown

    out = []
    for cue, (field, _) in CUES.items():
        counts: Counter = Counter()
        for r in records:
            counts[(r.get("emotion"), r.get(field))] += weight(r)
        out += [f"### {cue}", "", markdown(counts_frame(counts, cue)), ""]
    return out


def _evidence(evidence: dict | None) -> list[str]:
    from emotioncot.calibrate.evidence import markdown

    return ["Which levels the rationales count for (+) or against (-) each emotion; any other level is no sign "
            "either way. Read per corpus from its own clips where an emotion has enough of them (data), else taken "
            "from the documented literature prior `manifests/evidence_prior.yaml` (Banse & Scherer 1996; Juslin & "
            "Laukka 2003) (prior).", "", markdown(evidence), ""]


def _repair_note(writer_info: dict | None) -> list[str]:
    """The filter's keep rate before and after the repair loop (LLM writer builds)."""
    repair = (writer_info or {}).get("repair") or {}
    if "kept_before_repair" not in repair:
        return []
    return [f"The filter kept {repair['kept_before_repair']} of the written records before repair "
            f"({100 * repair['keep_rate_before']:.1f} %) and {repair['kept_after_repair']} after "
            f"{repair['rounds']} repair round(s) ({100 * repair['keep_rate_after']:.1f} %); "
            f"{repair['records_sent_back']} records were sent back with the filter's reasons.", ""]


def render_card(records: list[dict], counts: dict, embedded: bool, manifests: dict[str, dict | None] | None = None,
                excluded: list[dict] | None = None, writer_info: dict | None = None,
                prompt_style: str = "emotioncot", evidence: dict | None = None) -> str:
    """The whole README.md text. ``excluded``: the taxonomy's left-out clips (``ingest.core.taxonomy_exclusions``);
    ``evidence``: the evidence table the rationales weigh cues by (``calibrate.evidence``; None: the prior)."""
    from emotioncot.ingest.estimates import describe_estimates

    if manifests is None:
        manifests = corpus_manifests(r["corpus"] for r in records)
    meta = card_metadata(records, manifests, counts)
    n_segments = sum(weight(r) for r in records if r.get("start_s") is not None or r.get("end_s") is not None)
    licence_rows, citations = [], []
    for name, man in manifests.items():
        if man is None:
            licence_rows.append([name, "—", "not stated (no manifest found)", "—"])
            continue
        licence_rows.append([name, man.get("title") or name, man.get("licence") or man.get("license") or "not stated", man.get("homepage") or "—"])
        cite = (man.get("citation") or "").strip()
        citations.append(f"**{name}** ({man.get('title') or name}):\n\n" + (f"```bibtex\n{cite}\n```" if cite else "_no citation given in the manifest_"))
    audio_note = (
        "The `audio` column embeds the audio bytes, so the dataset is self-contained."
        if embedded else
        "The `audio` column references the corpus files by absolute path (build-machine paths); export with "
        "`--embed-audio` for a self-contained copy."
    )
    if n_segments:
        audio_note += f" {n_segments} records are segments of longer recordings; their cut samples are always embedded."
    parts = [
        "---", meta.to_yaml(), "---", "",
        f"# {TITLE}", "",
        "Speech-emotion reasoning data in the EmotionCoT style, built with "
        f"emotioncot {__version__}: utterances of the source corpora, each "
        "with its emotion in a 9-class taxonomy, acoustic measurements in physical units, calibrated levels, a caption "
        "and a chain-of-thought rationale. Clips whose label has no class in the taxonomy are left out (see \"Left "
        "out by the taxonomy\"), and so are records the quality filter rejected.", "",
        f"Classes: {', '.join(EMOTIONS)}.", "",
        "## Files", "",
        "- `parquet/{split}-NNNNN-of-NNNNN.parquet`: the data (what the Hub viewer and `load_dataset` read);",
        "- `emotioncot.jsonl`: the same records in the public EmotionCoT field format plus emotioncot's own fields;",
        "- `dataset/` (local builds only): the `datasets.DatasetDict` in the layout of `save_to_disk` (open it with `datasets.load_from_disk`).", "",
        "## Explorer", "",
        "Local builds: open [report/index.html](report/index.html) in a browser (no server needed; not uploaded to the Hub): counts, emotion-by-level "
        "heat maps, distributions with the calibration cut points, and record pages with the clip, its F0 contour, "
        "its levels and the rationale's statements marked as the filter read them. `emotioncot build` writes it "
        "(unless `report.enabled` is off); `emotioncot report DIR` rewrites it.", "",
        "## Columns", "",
        "Every record field (see `emotioncot.schema.Record`; dict fields are JSON text), plus:", "",
        "- `messages`: the SFT conversation (system prompt; user turn with the `<audio>` placeholder and the question "
        "listing the 9 classes; assistant turn `<think>rationale</think><answer>label</answer>`);",
        "- `prompt`, `solution`: the GRPO prompt (the same conversation without the answer) and the gold label; reward "
        "functions also get `emotion`, `pitch_level`, `energy_level`, `speed_level`, `intonation`, `stressed_words`, "
        "`caption` and the reference rationale `cot_analysis`;",
        f"- `audio`: a `datasets.Audio` column. {audio_note}", "",
        f"Prompt style of the training views: `{prompt_style}`"
        + (" (the system prompt, question and answer format of the released EmotionThinker model)."
           if prompt_style == "emotionthinker" else " (emotioncot's own system prompt and question)."), "",
        "## Counts", "",
        _table(["split", "records"], [[s, counts.get(s, 0)] for s in SPLITS] + [["total", sum(counts.values())]]), "",
        "### By corpus", "", _crosstab(records, "corpus"), "",
        "### By emotion", "", _crosstab(records, "emotion", EMOTIONS), "",
        "## Level distributions", "",
        _distribution(records, "pitch_level", PITCH_LEVELS), "", _distribution(records, "energy_level", ENERGY_LEVELS), "",
        _distribution(records, "speed_level", SPEED_LEVELS), "", _distribution(records, "intonation", INTONATIONS), "",
        "(— : not measurable for that record; the reason is in its `level_reasons`.)", "",
        "## Emotion by level", "",
        "Clips per emotion (rows) at each level (columns): does anger come out loud and sadness slow?", "",
        *_emotion_by_level(records),
        "## Speakers and estimated attributes", "",
        "Where each speaker attribute comes from (records per source; `estimated` and `clustered` values were "
        "not given by the source and may be wrong; `not stated`: left empty rather than guessed):", "",
        *describe_estimates(records), "",
        "## Evidence table", "",
        *_evidence(evidence),
        "### Left out by the taxonomy", "",
        *_excluded(excluded),
        "## How it was built", "",
        "Ingest -> measure -> calibrate -> write -> filter -> export. Levels are relative to the calibration group "
        "(thresholds saved with the build, identified by their version); rationales were written by:", "",
        _provenance(records), "",
        *_repair_note(writer_info),
        "## Licences", "",
        "Each record keeps the licence of its source corpus; respect the most restrictive one that applies to the records you use.", "",
        _table(["corpus", "title", "licence", "homepage"], licence_rows), "",
        "## Citations", "",
        *("\n\n".join(citations) or "_none given_",), "",
    ]
    return "\n".join(parts)
