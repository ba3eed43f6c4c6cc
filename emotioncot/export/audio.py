"""The ``audio`` cell of an exported row, and decoding it without torchcodec.

A cell is the ``datasets.Audio`` storage: ``{"bytes": ..., "path": ...}``.
- A whole-file utterance is referenced by its absolute path (``bytes`` empty), or, with ``embed``, carries
  the file's own bytes (no re-encoding, so nothing is lost).
- A segment (``start_s`` / ``end_s`` set, e.g. a dialogue turn cut from a longer recording) ALWAYS carries
  the cut samples as WAV bytes, embedded or not: a reference to the whole file would hand a consumer the
  wrong audio. The cut keeps the source's channels and sample format (16-bit stays 16-bit), so the
  decoded samples equal the source's samples over that span exactly.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf

from emotioncot.audio.io import _SOUNDFILE_EXT, AudioError, av_decode, pick_channel, read_audio, record_channel

# Sample formats copied through unchanged when a segment is cut from a soundfile-readable file.
# (24-bit samples come left-aligned in int32 and go back to 24 bits unchanged.)
_EXACT_SUBTYPES = {"PCM_16": "int16", "PCM_24": "int32", "PCM_32": "int32", "FLOAT": "float32", "DOUBLE": "float64"}


def is_segment(record: dict) -> bool:
    """A part of a file: a time span, or one channel of a recording with a speaker per channel."""
    return record.get("start_s") is not None or record.get("end_s") is not None or record_channel(record) is not None


def audio_cell(record: dict, embed: bool) -> dict:
    """The Audio storage dict of ``record`` (raises ``AudioError`` naming the file when it cannot be read)."""
    path = Path(record["audio_path"])
    if is_segment(record):
        wav = cut_segment_wav(path, record.get("start_s"), record.get("end_s"), record_channel(record))
        return {"bytes": wav, "path": _segment_name(record)}
    if not embed:
        # A reference to a file that is gone would be a broken row (and ``save_to_disk`` stats the files).
        if not path.is_file():
            raise AudioError(f"{path}: file does not exist")
        return {"bytes": None, "path": str(path.resolve())}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AudioError(f"{path}: cannot be read for embedding ({exc.strerror or exc})") from None
    if not data:
        raise AudioError(f"{path}: file is empty")
    return {"bytes": data, "path": path.name}


def _segment_name(record: dict) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in record["id"])
    return f"{safe}.wav"


def cut_segment_wav(path: Path, start_s: float | None, end_s: float | None, channel: int | None = None) -> bytes:
    """The samples between ``start_s`` and ``end_s`` (of one ``channel``, or all) as WAV bytes, in the source's
    own sample format where soundfile reads the source (same frame arithmetic as ``read_audio``), float32
    otherwise."""
    path = Path(path)
    buf = io.BytesIO()
    if path.suffix.lower() in _SOUNDFILE_EXT and path.exists():
        try:
            with sf.SoundFile(str(path)) as fh:
                rate = fh.samplerate
                dtype = _EXACT_SUBTYPES.get(fh.subtype, "float32")
                subtype = fh.subtype if fh.subtype in _EXACT_SUBTYPES else "FLOAT"
                start = int(round((start_s or 0.0) * rate))
                stop = int(round(end_s * rate)) if end_s is not None else fh.frames
                fh.seek(min(start, fh.frames))
                data = fh.read(max(0, stop - start), dtype=dtype, always_2d=True)
        except Exception as exc:
            raise AudioError(f"{path}: not a readable audio file ({exc})") from None
        if data.size == 0:
            raise AudioError(f"{path}: no samples between {start_s} s and {end_s} s")
        if channel is not None:
            data = pick_channel(data, channel, path)
        sf.write(buf, data, rate, format="WAV", subtype=subtype)
    else:
        data, rate = read_audio(path, start_s, end_s, mono=False)
        if channel is not None:
            data = pick_channel(data, channel, path)
        sf.write(buf, data, rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def decode_audio_cell(cell: dict) -> dict:
    """``{"array": float32 mono samples, "sampling_rate", "path"}`` from an Audio storage dict, decoded by
    soundfile (WAV/FLAC/OGG) or PyAV (everything else), never torchcodec."""
    data = cell.get("bytes")
    if data:
        try:
            y, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except Exception:
            y, sr = _av_decode_bytes(data, cell.get("path"))
        y = np.ascontiguousarray(y.mean(axis=1), dtype=np.float32)
    else:
        if not cell.get("path"):
            raise AudioError("audio cell has neither bytes nor a path")
        y, sr = read_audio(cell["path"])
    return {"array": y, "sampling_rate": int(sr), "path": cell.get("path")}


def _av_decode_bytes(data: bytes, name: str | None) -> tuple[np.ndarray, int]:
    return av_decode(io.BytesIO(data), name or "embedded audio")
