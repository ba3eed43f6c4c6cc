"""The demo corpus: English sentences synthesised offline with eSpeak NG (see ``emotioncot.demo.corpus``).

Synthesised on first use into the cache (``$EMOTIONCOT_CACHE/demo``), or read from ``demo=PATH``. Layout:
``metadata.jsonl`` (one line per clip: id, audio_path, speaker_id, gender, age, transcript, emotion,
sentence_id and the synthesis parameters) next to the WAV files. The label is one of the 9 classes already,
acted through prosody; the synthesis parameters are kept as ground truth in ``meta["synthesis"]``. No
official split: speaker-disjoint, like every corpus without one.
"""

from __future__ import annotations

import json
from pathlib import Path

from emotioncot.demo.corpus import ensure_demo_corpus
from emotioncot.ingest.manifest import load_manifest, map_label
from emotioncot.taxonomy import EMOTIONS, age_level_from_years

NAME = "demo"
NATIVE_LABELS = EMOTIONS


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
