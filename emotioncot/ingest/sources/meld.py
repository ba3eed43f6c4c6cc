"""MELD: Multimodal EmotionLines Dataset (Poria et al., ACL 2019), ``MELD.Raw``.

Friends TV dialogues, one clip per utterance. ``MELD.Raw.tar.gz`` holds ``train.tar.gz``, ``dev.tar.gz`` and
``test.tar.gz`` that unpack inside ``MELD.Raw/`` to ``train_splits/``, ``dev_splits_complete/`` and
``output_repeated_splits_test/``, each with ``dia<D>_utt<U>.mp4`` (video with an AAC track; audio is read
through PyAV). Labels: ``train_sent_emo.csv``, ``dev_sent_emo.csv``, ``test_sent_emo.csv`` with columns
``Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime``
(emotions ``neutral joy sadness anger surprise fear disgust``). Mirrors put the train CSV and clips under
``train/`` (and dev/test under ``dev/``, ``test/``); both are accepted. The copies inside MELD.Raw use U+0092
where an apostrophe belongs; it is repaired. In the test folder, clips re-extracted under the prefix
``final_videos_test`` are preferred over their plain-named twins. The official split is used; known
missing clips (train dia125_utt3, dev dia110_utt7) go to the errors table with their reason.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from emotioncot.ingest.sources._common import CorpusLayoutError, error, first_existing, load_manifest, require_dir, utterance

NAME = "meld"
NATIVE_LABELS = ("neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust")
SPLITS = {
    "train": ("train_sent_emo.csv", "train_splits", "train"),
    "dev": ("dev_sent_emo.csv", "dev_splits_complete", "validation"),
    "test": ("test_sent_emo.csv", "output_repeated_splits_test", "test"),
}


def read_csv(path: Path) -> list[dict]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    text = text.replace("\u0092", "\u2019")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _seconds(stamp: str | None) -> float | None:
    try:
        hms, _, ms = (stamp or "").partition(",")
        h, m, s = hms.split(":")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms or 0) / 1000
    except ValueError:
        return None


def read(root: Path, options: dict):
    root = require_dir(root, "MELD.Raw folder")
    if (root / "MELD.Raw").is_dir():
        root = root / "MELD.Raw"
    manifest = load_manifest(NAME)
    wanted = [s.strip() for s in str(options.get("splits", "train,dev,test")).split(",") if s.strip()]
    for name in wanted:
        csv_name, clips_name, split = SPLITS[name]
        table = first_existing(root, [csv_name, f"{name}/{csv_name}"], f"MELD {name} label file")
        try:
            clips = first_existing(root, [clips_name, f"{name}/{clips_name}"], f"MELD {name} clip folder", kind="dir")
        except CorpusLayoutError as exc:
            raise CorpusLayoutError(f"{exc}; unpack {name}.tar.gz inside MELD.Raw") from None
        rows = read_csv(table)
        if rows and "Emotion" not in rows[0]:
            raise CorpusLayoutError(f"{table}: no Emotion column (columns: {', '.join(rows[0])})")
        for n, row in enumerate(rows, 2):
            dia, utt = (row.get("Dialogue_ID") or "").strip(), (row.get("Utterance_ID") or "").strip()
            if not dia.isdigit() or not utt.isdigit():
                yield error(f"{table}:{n}: no Dialogue_ID/Utterance_ID", table)
                continue
            stem = f"dia{dia}_utt{utt}"
            uid = f"{NAME}_{name}_{stem}"
            audio = clips / f"{stem}.mp4"
            if name == "test" and (clips / f"final_videos_test{stem}.mp4").is_file():
                audio = clips / f"final_videos_test{stem}.mp4"
            if not audio.is_file():
                yield error(f"{table}:{n}: clip {stem}.mp4 is missing (expected {audio})", audio, uid)
                continue
            yield utterance(
                NAME, manifest, (row.get("Emotion") or "").strip().lower() or None,
                id=uid, audio_path=audio, speaker_id=(row.get("Speaker") or "").strip() or None,
                transcript=(row.get("Utterance") or "").strip() or None, split=split,
                meta={
                    "sentiment": (row.get("Sentiment") or "").strip() or None, "dialogue_id": int(dia),
                    "utterance_id": int(utt), "season": row.get("Season"), "episode": row.get("Episode"),
                    "episode_start_s": _seconds(row.get("StartTime")), "episode_end_s": _seconds(row.get("EndTime")),
                    "official_split": name,
                },
            )
