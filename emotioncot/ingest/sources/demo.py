"""The demo corpus (synthesised on first use into the cache; see ``emotioncot.demo.corpus``)."""

from __future__ import annotations

import json
from pathlib import Path

from emotioncot.demo.corpus import ensure_demo_corpus
from emotioncot.ingest.manifest import load_manifest, map_label
from emotioncot.taxonomy import age_level_from_years


def read(root: Path | None, options: dict):
    root = ensure_demo_corpus(root)
    manifest = load_manifest("demo")
    for line in (root / "metadata.jsonl").read_text().splitlines():
        clip = json.loads(line)
        yield {
            "id": clip["id"],
            "corpus": "demo",
            "audio_path": str((root / clip["audio_path"]).resolve()),
            "speaker_id": clip["speaker_id"],
            "gender": clip["gender"],
            "gender_source": "metadata",
            "age": clip["age"],
            "age_level": age_level_from_years(clip["age"]),
            "transcript": clip["transcript"],
            "language": "en",
            "native_label": clip["emotion"],
            "emotion": map_label(manifest, clip["emotion"]),
            "meta": {
                "sentence_id": clip["sentence_id"],
                "synthesis": {k: clip[k] for k in ("voice", "pitch", "range", "rate", "volume", "word_starts_s")},
            },
        }
