"""Hugging Face datasets: ``hf:OWNER/NAME[:config]`` from the Hub, or ``hf:PATH`` for a dataset saved with
``save_to_disk`` (a ``Dataset`` or a ``DatasetDict``).

Columns are found by their usual names (``audio``/``path``/``file``; ``emotion``/``label``/``gt``;
``transcription``/``text``/``sentence``; ``speaker_id``/``speaker``; ``gender``; ``id``) or mapped with
options in the source spec, e.g. ``hf:org/set?audio=speech&emotion=style&transcript=normalized_text``.
``ClassLabel`` emotion columns give their names. An ``Audio`` column is read with ``decode=False`` (datasets
decodes audio only through torchcodec, which emotioncot does not use): a path that exists on disk is
referenced as it is; embedded bytes are written once to the cache (``$EMOTIONCOT_CACHE/hf/<dataset>/``).
Dataset splits (``train``, ``validation``/``valid``/``dev``, ``test``) are kept as official splits unless
``?splits=reassign``; ``?split=train`` reads one split only. Native labels are mapped with
``?labels=ang:angry,hap:happy,xxx:`` (empty target: excluded), then ``_common.unified_emotion``; a
label with no target is kept with ``emotion`` null.
"""

from __future__ import annotations

import os
from pathlib import Path

from emotioncot.config import cache_dir
from emotioncot.ingest.sources._common import (
    NEITHER_GENDER, error, language_code, normalize_gender, option_label_map, unified_emotion,
)
from emotioncot.taxonomy import age_level_from_years
from emotioncot.workspace import stable_hash

COLUMNS = {
    "audio": ("audio", "audio_path", "path", "file", "wav", "speech"),
    "emotion": ("emotion", "label", "gt", "emotion_label", "style", "major_emotion"),
    "transcript": ("transcription", "transcript", "text", "sentence", "normalized_text"),
    "speaker": ("speaker_id", "speaker", "spk", "client_id"),
    "gender": ("gender", "sex", "gender_new"),
    "age": ("age",),
    "id": ("id", "utt_id", "file_id", "key"),
    "language": ("language", "lang", "locale"),
}
SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation", "dev": "validation", "test": "test"}
MAGIC = ((b"RIFF", ".wav"), (b"fLaC", ".flac"), (b"OggS", ".ogg"), (b"ID3", ".mp3"), (b"\xff\xfb", ".mp3"))


def _load(target: str, config: str | None):
    import datasets

    if Path(target).exists():
        return datasets.load_from_disk(target)
    return datasets.load_dataset(target, config)


def _column(names: list[str], options: dict, field: str) -> str | None:
    if options.get(field):
        if options[field] not in names:
            raise ValueError(f"column {options[field]!r} (for {field}) not in the dataset; columns: {', '.join(names)}")
        return options[field]
    return next((c for c in COLUMNS[field] if c in names), None)


def _suffix(data: bytes, path: str | None) -> str:
    if path and Path(path).suffix:
        return Path(path).suffix.lower()
    for magic, ext in MAGIC:
        if data.startswith(magic):
            return ext
    return ".bin"  # PyAV probes the content


def _write_once(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    if path.is_file() and path.stat().st_size == len(data):
        return path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def read(root, options: dict):
    target = options.get("hf_target") or (str(root) if root is not None else None)
    if not target:
        raise ValueError("hf: sources need a dataset name or a save_to_disk folder, e.g. hf:owner/name or hf:./folder")
    config = options.get("hf_config")
    loaded = _load(target, config)
    parts = dict(loaded.items()) if hasattr(loaded, "keys") else {"": loaded}
    if options.get("split"):
        wanted = [s.strip() for s in options["split"].split(",")]
        missing = [s for s in wanted if s not in parts]
        if missing:
            raise ValueError(f"{target}: no split {', '.join(missing)}; splits: {', '.join(parts)}")
        parts = {s: parts[s] for s in wanted}
    corpus = options.get("corpus_name") or Path(target.rstrip("/")).name.replace("-", "_").lower()
    audio_cache = cache_dir() / "hf" / f"{corpus}-{stable_hash(target, config, length=10)}"
    keep_splits = options.get("splits", "keep") != "reassign"
    label_map = option_label_map(options)
    for part_name, ds in parts.items():
        names = list(ds.column_names)
        audio_col = _column(names, options, "audio")
        if audio_col is None:
            raise ValueError(f"{target}: no audio column among {', '.join(names)} (map one with ?audio=COLUMN)")
        cols = {field: _column(names, options, field) for field in COLUMNS if field != "audio"}
        feature = ds.features.get(audio_col)
        if type(feature).__name__ == "Audio":
            from datasets import Audio

            ds = ds.cast_column(audio_col, Audio(decode=False))
        label_names = None
        if cols["emotion"] and type(ds.features.get(cols["emotion"])).__name__ == "ClassLabel":
            label_names = ds.features[cols["emotion"]].names
        for index, item in enumerate(ds):
            uid_native = item.get(cols["id"]) if cols["id"] else None
            uid = f"{corpus}_{uid_native}" if uid_native not in (None, "") else f"{corpus}_{part_name or 'all'}_{index:07d}"
            value = item[audio_col]
            try:
                if isinstance(value, dict):
                    path, data = value.get("path"), value.get("bytes")
                    if data:
                        audio = _write_once(audio_cache, f"{stable_hash(uid, length=12)}{_suffix(data, path)}", data)
                    elif path and Path(path).is_file():
                        audio = Path(path)
                    else:
                        raise ValueError(f"audio neither embedded nor found on disk ({path})")
                else:
                    audio = Path(str(value))
                    if not audio.is_absolute() and Path(target).is_dir():
                        audio = Path(target) / audio
            except (ValueError, OSError) as exc:
                yield {**error(f"{target} row {index}: {exc}", None, uid), "corpus": corpus}
                continue
            given_language = (item.get(cols["language"]) if cols["language"] else None) or options.get("language")
            try:
                language = language_code(given_language) if given_language not in (None, "") else None
            except ValueError:  # a dataset cannot be edited as a list can: the row is kept, its language unstated
                language = None
            native = item.get(cols["emotion"]) if cols["emotion"] else None
            if label_names is not None and isinstance(native, int):
                native = label_names[native] if 0 <= native < len(label_names) else str(native)
            native = str(native) if native not in (None, "") else None
            emotion = unified_emotion(native, label_map)
            age = item.get(cols["age"]) if cols["age"] else None
            try:
                age = float(age) if age not in (None, "") else None
            except (TypeError, ValueError):
                age = None
            given = item.get(cols["gender"]) if cols["gender"] else None
            gender = normalize_gender(given)
            speaker = item.get(cols["speaker"]) if cols["speaker"] else None
            used = {c for c in cols.values() if c} | {audio_col}
            meta = {k: v for k, v in item.items() if k not in used and (v is None or isinstance(v, (str, int, float, bool)))}
            meta["hf_split"] = part_name or None
            if given_language not in (None, "") and language is None:
                meta["language_given"] = str(given_language)  # not a language code or name; estimated if asked
            if given not in (None, "") and not gender:
                meta["gender_given"] = str(given)  # stated none; "other" also withholds the F0 estimate (as lists)
                if str(given).strip().lower() in NEITHER_GENDER:
                    meta["no_gender_estimate"] = True
            yield {
                "id": str(uid), "corpus": corpus, "audio_path": str(Path(audio).resolve()),
                "speaker_id": str(speaker) if speaker not in (None, "") else None,
                "gender": gender, "gender_source": "metadata" if gender else None,
                "age": age, "age_level": age_level_from_years(age),
                "transcript": item.get(cols["transcript"]) if cols["transcript"] else None,
                "language": language,
                "native_label": native, "emotion": emotion,
                "split": SPLIT_NAMES.get(part_name) if keep_splits else None,
                "meta": meta,
            }
