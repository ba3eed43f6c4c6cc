"""What a source leaves unsaid, estimated at ingest and marked as estimated (docs/speakers.md).

Run on every ingested row before splits are dealt, so that splits are disjoint by voice cluster:

- speakers: rows without ``speaker_id`` are clustered by voice (``emotioncot.ingest.speakers``);
- language: rows without ``language`` get one from the transcript (``emotioncot.ingest.language``);
- age level and gender from the opt-in speaker model (``emotioncot.measure.age_gender``), per speaker.

Gender from F0 (the default) needs the measurements and is set per speaker when the build joins them
(``emotioncot.measure.gender.apply_speaker_genders``). Every estimate has a switch in ``IngestConfig``, and a
column given by the source (``speaker_id``, ``language``, ``gender``, ``age`` / ``age_level``) always wins.
"""

from __future__ import annotations

from emotioncot.config import IngestConfig


def mark_stated(rows: list[dict]) -> None:
    """``*_source = "metadata"`` for what the source itself gave."""
    for row in rows:
        for field, source in (("speaker_id", "speaker_source"), ("language", "language_source"),
                              ("age_level", "age_source")):
            if row.get(field) and not row.get(source):
                row[source] = "metadata"


def fill_unstated(rows: list[dict], config: IngestConfig, progress: bool | None = None) -> dict:
    """Estimate in place what the rows do not say; returns what was done, per estimate."""
    mark_stated(rows)
    done: dict = {}
    if config.cluster_speakers and any(not r.get("speaker_id") for r in rows):
        from emotioncot.ingest.speakers import assign_speaker_clusters

        done["speakers"] = assign_speaker_clusters(rows, config.speaker_threshold, config.max_cluster_clips)
    if config.estimate_language and any(not r.get("language") and r.get("transcript") for r in rows):
        from emotioncot.ingest.language import estimate_languages

        done["language"] = estimate_languages(rows, config.language_candidates, config.language_min_confidence)
    if config.speaker_model:
        from emotioncot.measure.age_gender import apply_speaker_model

        done["speaker_model"] = apply_speaker_model(rows, config.speaker_model, progress)
    return done


ESTIMATED_FIELDS = (("speaker_id", "speaker_source"), ("gender", "gender_source"), ("age_level", "age_source"),
                    ("language", "language_source"))


def _how(field: str) -> str:
    """How an attribute is estimated, with the limits the code uses (for the card and the report)."""
    from emotioncot.measure.age_gender import MIN_PROBABILITY
    from emotioncot.measure.gender import MIN_CONFIDENCE, stated_range_hz

    male_below, female_above = stated_range_hz()
    return {
        "speaker_id": "Clustered by voice (GE2E embeddings, average linkage) where the source gave no speaker ids.",
        "gender": f"Estimated per speaker, never per clip: from the median F0 of the speaker's clips, stated at "
                  f"confidence {MIN_CONFIDENCE} or more (under {male_below} Hz or over {female_above} Hz), or from the speaker "
                  f"model's median probability, stated at {MIN_PROBABILITY} or more.",
        "age_level": "Estimated per speaker from the speaker model's median age.",
        "language": "Estimated from the transcript (lingua, offline), kept at the confidence "
                    "ingest.language_min_confidence or more (0.5 by default).",
    }[field]


def _meta(record: dict) -> dict:
    meta = record.get("meta") or {}
    if isinstance(meta, str):
        import json

        meta = json.loads(meta) if meta else {}
    return meta


def estimates_summary(records: list[dict]) -> dict:
    """Where each speaker attribute of the records came from (counts per source, None: not stated), the voice
    clusters per corpus, and the speaker model with its licence where one was used."""
    from emotioncot.ingest.speakers import clustering_summary

    sources: dict[str, dict] = {}
    for field, source in ESTIMATED_FIELDS:
        counts: dict = {}
        for rec in records:
            key = (rec.get(source) or "metadata") if rec.get(field) else "not stated"
            counts[key] = counts.get(key, 0) + rec.get("_n", 1)  # a summary row stands for _n records
        sources[field] = dict(sorted(counts.items()))
    models = sorted({_meta(r)["speaker_model"]["model"] for r in records if _meta(r).get("speaker_model")})
    return {"sources": sources, "clusters": clustering_summary(records),
            "speaker_model": {"models": models, "licence": "CC BY-NC-SA 4.0"} if models else None}


def describe_estimates(records: list[dict]) -> list[str]:
    """Markdown lines for the card and the report: what was estimated, how, and the clusters."""
    from emotioncot.ingest.speakers import describe

    summary = estimates_summary(records)
    lines = []
    for field, counts in summary["sources"].items():
        said = ", ".join(f"{n} {key}" for key, n in counts.items())
        how = f" {_how(field)}" if counts.get("estimated") or counts.get("clustered") else ""
        lines.append(f"- `{field}`: {said}.{how}")
    lines += [f"- {line}" for line in describe(summary["clusters"])]
    if summary["speaker_model"]:
        lines.append(f"- Age levels and genders marked estimated come from {', '.join(summary['speaker_model']['models'])}, "
                     f"licensed {summary['speaker_model']['licence']} (non-commercial, share-alike): the same terms "
                     "apply to those attributes.")
    return lines
