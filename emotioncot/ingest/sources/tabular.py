"""Plain JSONL / CSV lists of clips: the EmotionThinker input format (``audio_path``, ``transcription``,
``emotion``) and emotioncot's own column names. Relative audio paths are relative to the list file and
must stay in its folder (``?allow_outside=1`` lifts that). A malformed row (not an object, a wrong type,
not UTF-8, more fields than the header) is an error naming the file and line; the other rows go on.
Options: ``?corpus=NAME`` (default: the file's stem), ``?splits=reassign`` (deal speaker-disjoint splits instead of
keeping a ``split`` column), ``?labels=ang:angry,xxx:`` (native label -> class;
empty target: excluded); other labels go through ``_common.unified_emotion`` (the taxonomy's aliases, except
the states corpora keep apart, such as calm)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from emotioncot.ingest.sources._common import (
    NEITHER_GENDER, UNSTATED_GENDER, language_code, normalize_gender, option_label_map, unified_emotion,
)
from emotioncot.taxonomy import EMOTIONS, age_level_from_years
from emotioncot.workspace import stable_hash

ALIASES = {
    "transcription": "transcript",
    "text": "transcript",
    "gt": "emotion",
    "label": "emotion",
    "gender_new": "gender",
    "age_group": "age_level",  # the release's name for it, as export.jsonl.read_jsonl and the filter read it
    "speaker": "speaker_id",
    "path": "audio_path",
    "audio": "audio_path",
}
KNOWN = {
    "id", "audio_path", "start_s", "end_s", "speaker_id", "gender", "age", "age_level", "transcript",
    "language", "native_label", "emotion", "split", "valence", "arousal", "dominance",
}


NUMBERS = ("age", "start_s", "end_s", "valence", "arousal", "dominance")


class RowError(ValueError):
    """A row that cannot be used; the message starts with ``FILE:LINE:``."""


def _text_lines(path: Path):
    """``(line number, text)`` of a text file read as UTF-8: a byte-order mark is dropped, CRLF and LF both
    end a line. Encoding policy: a line that is not valid UTF-8 is rejected (``text`` is a RowError), never
    guessed at: a transcript decoded with the wrong code page would be quietly wrong."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for n, raw in enumerate(data.split(b"\n"), 1):
        raw = raw[:-1] if raw.endswith(b"\r") else raw
        try:
            yield n, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield n, RowError(f"{path}:{n}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                              f"row skipped (save the list as UTF-8)")


def _rows(path: Path, kind: str | None = None):
    """``(line number, row dict or RowError)`` for every non-empty row of a JSONL or CSV list. ``kind`` is the
    source's (``csv:`` or ``jsonl:``); the file's suffix decides only where none is given: ``csv:clips.tsv`` was
    read as JSON Lines, and every row was 'not valid JSON'."""
    if (kind or ("csv" if path.suffix.lower() == ".csv" else "jsonl")) == "csv":
        yield from _csv_rows(path)
        return
    for n, line in _text_lines(path):
        if isinstance(line, RowError):
            yield n, line
        elif line.strip():
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, RowError(f"{path}:{n}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(value, dict):
                yield n, RowError(f"{path}:{n}: not a JSON object (a {type(value).__name__}); each line must be {{...}}")
            else:
                yield n, value


def _delimiter(header: str) -> str:
    """The header's field separator: a comma, else a tab or a semicolon (a spreadsheet saved in a locale whose
    decimal mark is the comma writes ``;``). Read with commas, such a list was one column: no row had an audio path."""
    if "," in header:
        return ","
    return max(("\t", ";"), key=header.count) if ("\t" in header or ";" in header) else ","


def _csv_rows(path: Path):
    import io

    good, bad = [], []
    for n, line in _text_lines(path):
        (bad if isinstance(line, RowError) else good).append((n, line))
    # Lines that are not UTF-8 are reported and left out; the rest is parsed as one CSV text (a quoted
    # field may span lines: csv keeps count of them, so line numbers are mapped back through ``numbers``).
    numbers = [n for n, _ in good]
    reader = csv.reader(io.StringIO("".join(line + "\n" for _, line in good), newline=""),
                        delimiter=_delimiter(next((line for _, line in good if line.strip()), "")))
    header = None
    yield from bad
    for fields in reader:
        n = numbers[min(reader.line_num, len(numbers)) - 1]
        if header is None:
            header = [h.strip() for h in fields]
            continue
        if not any(f.strip() for f in fields):
            continue
        if len(fields) > len(header):
            yield n, RowError(f"{path}:{n}: {len(fields)} fields, the header has {len(header)}")
            continue
        yield n, dict(zip(header, fields))


def _column(name) -> str:
    """A column's field, matched without regard to case or surrounding spaces (``Emotion``, `` Audio_Path``): a
    header spelled so was taken as an unknown column, and every clip quietly lost its label. Other columns keep
    their name (they go to ``meta``)."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    return key if key in KNOWN else str(name)


def _language(value, where: str) -> str:
    try:
        return language_code(value)
    except ValueError as exc:
        raise RowError(f"{where}: {exc}") from None


def _outside(relative: str, folder: Path) -> bool:
    """Whether a relative path climbs out of ``folder`` (judged on the path as written, so that a
    symlinked corpus folder inside the list's folder still counts as inside)."""
    import os

    base = os.path.normpath(folder.absolute())
    target = os.path.normpath(os.path.join(base, relative))
    return os.path.commonpath([base, target]) != base


def _row(path: Path, n: int, raw: dict, corpus: str, label_map: dict, allow_outside: bool) -> dict:
    where = f"{path}:{n}"
    row = {_column(k): v for k, v in raw.items() if v not in ("", None)}
    for key, value in row.items():
        if key in KNOWN and isinstance(value, (dict, list)):
            raise RowError(f"{where}: {key} is a {type(value).__name__}, expected a single value")
    if "audio_path" not in row:
        given = ", ".join(map(str, raw)) or "none"
        raise RowError(f"{where}: no audio_path (columns: {given}; the audio column is audio_path, path or audio)")
    audio = Path(str(row["audio_path"]))
    if not audio.is_absolute():
        # Paths outside the list: a relative path is relative to the list's folder and must stay in it
        # (``../../etc/passwd`` is refused) unless the list is given with ?allow_outside=1; an absolute
        # path is taken as written (EmotionThinker lists name their clips that way).
        if not allow_outside and _outside(str(audio), path.parent):
            raise RowError(f"{where}: audio_path {row['audio_path']!r} leads outside the list's folder "
                           f"{path.parent}; add ?allow_outside=1 to the source to allow it")
        audio = (path.parent / audio).resolve()
    row["audio_path"] = str(audio)
    for key in NUMBERS:
        if key in row:
            try:
                row[key] = float(row[key])
            except (TypeError, ValueError):
                raise RowError(f"{where}: {key} is {row[key]!r}, expected a number") from None
    for key in KNOWN - set(NUMBERS):
        if key in row and not isinstance(row[key], str):
            row[key] = str(row[key])  # ids and labels written as numbers
    if row.get("language"):
        row["language"] = _language(row["language"], where)
    native = row.get("native_label") or row.get("emotion")
    emotion = unified_emotion(str(native), label_map) if native is not None else None
    out = {k: v for k, v in row.items() if k in KNOWN}
    out.update(
        {
            "id": str(row.get("id") or f"{corpus}_{stable_hash(str(audio), row.get('start_s'), length=12)}"),
            "corpus": corpus,
            "native_label": str(native) if native is not None else None,
            "emotion": emotion if emotion in EMOTIONS else None,
            # the list row a record came from, for the user to find it again (and for the errors that are only found
            # after reading, a missing file or a duplicate, to name it)
            "meta": {**{k: v for k, v in row.items() if k not in KNOWN}, "list_row": where},
        }
    )
    if out.get("age") is not None and not out.get("age_level"):
        # An age in years says the age group too, as it does for every corpus reader and hf: sources;
        # without it the writer and the card would treat a stated age as unknown.
        out["age_level"] = age_level_from_years(out["age"])
    if out.get("gender"):
        given = str(out.pop("gender")).strip()
        gender = normalize_gender(given)
        if gender:
            out["gender"], out["gender_source"] = gender, "metadata"
        elif given.lower() in UNSTATED_GENDER:
            out["meta"]["gender_given"] = given  # kept as written; no gender is stated for the clip
            if given.lower() in NEITHER_GENDER:
                out["meta"]["no_gender_estimate"] = True  # the list says neither: no F0 estimate may say one
        else:
            raise RowError(f"{where}: gender is {given!r}; expected male or female (m/f, man/woman), or "
                           f"unknown/other to state none")
    from pydantic import ValidationError

    from emotioncot.schema import Utterance

    try:
        Utterance.model_validate(out)
    except ValidationError as exc:  # checked here, where the line number is known
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RowError(f"{where}: {problems}") from None
    return out


def read(root: Path | None, options: dict):
    if root is None:
        raise ValueError("jsonl:/csv: sources need a file path, e.g. jsonl:clips.jsonl")
    path = Path(root)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: list file not found")
    corpus = options.get("corpus_name") or path.stem
    label_map = option_label_map(options)
    allow_outside = str(options.get("allow_outside", "")).lower() in ("1", "true", "yes")
    reassign = options.get("splits") == "reassign"  # a split column is kept unless so (as for hf: sources)
    for n, raw in _rows(path, options.get("list_kind")):
        try:
            if isinstance(raw, RowError):
                raise raw
            row = _row(path, n, raw, corpus, label_map, allow_outside)
            if reassign:
                row.pop("split", None)
            yield row
        except RowError as exc:
            yield {"error": str(exc), "path": str(path), "corpus": corpus}
