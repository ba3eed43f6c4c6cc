"""lhotse: recordings, supervisions and cuts manifests per split, written with lhotse's own classes.

``DIR/lhotse/<split>_{recordings,supervisions,cuts}.jsonl.gz``. Each recording is one portable clip (its
source path relative to ``DIR``: load with ``CutSet.from_file(...).with_recording_path_prefix(DIR)``, or from
``DIR`` as the working directory); its one supervision spans the clip, with the transcript, speaker, gender,
language, and every field of the record's ``emotioncot.jsonl`` line in ``custom`` (``meta`` as JSON text; the
source file's absolute path left out, as the clip is the audio). With ``shard_size``, also each split's cuts with
their audio as WebDataset shards (``lhotse_webdataset.py``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from emotioncot.export.frameworks.lhotse_webdataset import SHARDS_DIR, write_shards
from emotioncot.export.jsonl import to_emotioncot_fields

LHOTSE_DIR = "lhotse"
MANIFESTS = ("recordings", "supervisions", "cuts")


def _custom(rec: dict) -> dict:
    fields = to_emotioncot_fields(rec)
    fields.pop("audio_path", None)
    return fields


def write(out: Path, rows, style: str, shard_size: Optional[int] = None) -> list[str]:
    from lhotse import AudioSource, CutSet, Recording, RecordingSet, SupervisionSegment, SupervisionSet

    folder = out / LHOTSE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".lhotse.", dir=folder))
    files = []
    try:
        for split, pairs in rows.items():
            recordings = RecordingSet.from_recordings(
                Recording(id=rec["id"], sources=[AudioSource(type="file", channels=[0], source=clip.path)],
                          sampling_rate=clip.sample_rate, num_samples=clip.num_samples, duration=clip.duration_s)
                for rec, clip in pairs
            )
            supervisions = SupervisionSet.from_segments(
                SupervisionSegment(id=rec["id"], recording_id=rec["id"], start=0.0, duration=clip.duration_s,
                                   channel=0, text=rec.get("transcript"), language=rec.get("language"),
                                   speaker=rec.get("speaker_id"), gender=rec.get("gender"), custom=_custom(rec))
                for rec, clip in pairs
            )
            cuts = CutSet.from_manifests(recordings=recordings, supervisions=supervisions)
            for kind, manifest in zip(MANIFESTS, (recordings, supervisions, cuts)):
                name = f"{split}_{kind}.jsonl.gz"
                manifest.to_file(work / name)
                os.replace(work / name, folder / name)  # each file appears whole or not at all
                files.append(f"{LHOTSE_DIR}/{name}")
            if shard_size is not None:
                files += write_shards(cuts, out, folder, work, split, shard_size)
        if shard_size is None:  # shards of an earlier --webdataset run would no longer match these manifests
            shutil.rmtree(folder / SHARDS_DIR, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return files
