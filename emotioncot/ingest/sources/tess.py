"""TESS: Toronto Emotional Speech Set (Pichora-Fuller & Dupuis, 2020).

Two female actors, OAF (older adult, 64) and YAF (younger adult, 26), say "Say the word ___" for 200 target
words in 7 emotions: 2800 files ``<OAF|YAF>_<word>_<emotion>.wav`` with emotion tokens
``angry disgust fear happy neutral ps sad`` (ps = pleasant surprise). The original archive is flat; the
Kaggle mirror nests them in ``TESS Toronto emotional speech set data/<Speaker>_<Emotion>/`` with
inconsistently cased folder names, so labels are taken from the file name only and files are found
recursively. No official split: speaker-disjoint (with only two speakers, one speaker per split at most
two splits get data), or sentence(word)-disjoint with ``--text-disjoint``.
"""

from __future__ import annotations

from pathlib import Path

from emotioncot.ingest.sources._common import audio_files, error, load_manifest, require_dir, utterance

NAME = "tess"
NATIVE_LABELS = ("angry", "disgust", "fear", "happy", "neutral", "ps", "sad")
SPEAKERS = {"OAF": 64, "YAF": 26}


def read(root: Path, options: dict):
    root = require_dir(root, "TESS folder")
    manifest = load_manifest(NAME)
    files = audio_files(root)
    if not files:
        raise FileNotFoundError(f"{root}: no TESS wav files (expected OAF_<word>_<emotion>.wav)")
    for path in files:
        parts = path.stem.split("_")
        if len(parts) < 3 or parts[0].upper() not in SPEAKERS:
            yield error(f"{path.name}: not a TESS file name (<OAF|YAF>_<word>_<emotion>)", path)
            continue
        speaker, word, emotion = parts[0].upper(), "_".join(parts[1:-1]), parts[-1].lower()
        yield utterance(
            NAME, manifest, emotion,
            id=f"{NAME}_{speaker}_{word}_{emotion}", audio_path=path, speaker_id=speaker, gender="Female",
            age=SPEAKERS[speaker], transcript=f"Say the word {word}.",
            meta={"sentence_id": word},
        )
