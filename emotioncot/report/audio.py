"""Clips for the report pages: each record's audio (its segment, on its channel) as Ogg Opus at 16 kHz
mono, about 4 kB per second, which every current browser plays from a file:// page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotioncot.measure.signal import ANALYSIS_SR, prepare

OPUS_RATE = ANALYSIS_SR  # one of Opus's native rates, and the rate the measurements were made at


def clip_signal(record: dict) -> np.ndarray:
    """The record's samples, mono at 16 kHz (what the measure stage analysed)."""
    from emotioncot.audio.io import read_record_audio

    y, sr = read_record_audio(record)
    return prepare(np.asarray(y), int(sr))


def write_opus(y: np.ndarray, path: Path) -> float:
    """Write ``y`` (16 kHz mono) as Ogg Opus; return its duration in seconds."""
    import soundfile as sf

    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak > 1.0:  # Opus clips above full scale; the page is for listening, not measuring
        y = y / peak
    tmp = path.with_name(path.name + ".tmp")
    sf.write(tmp, y.astype(np.float32), OPUS_RATE, format="OGG", subtype="OPUS")
    tmp.replace(path)
    return len(y) / OPUS_RATE


def write_opus_bytes(data: bytes, path: Path, label: str) -> float:
    """Encode embedded audio bytes (a WAV cell of a task dataset) as Ogg Opus."""
    import io

    from emotioncot.audio.io import av_decode

    y, sr = av_decode(io.BytesIO(data), label)
    return write_opus(prepare(y, int(sr)), path)
