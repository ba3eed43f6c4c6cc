"""Portable clips: each record's audio as its own mono 16-bit WAV at one rate, inside the export folder.

What a training framework reads is exactly the record's audio: the segment cut from a longer recording, the
speaker's own channel of a two-channel conversation, averaged to mono otherwise, resampled (soxr, as the
measurements are) to ``sample_rate`` (16 kHz by default: Qwen2-Audio and Qwen2.5-Omni's feature extractors want
it, and verl does not resample). Rows reference the clip by a path relative to the export folder, so the folder
can be moved to a training machine as it is.

The clip's name holds a hash of everything its samples depend on (source file, span, channel, rate), so a
resumed export reuses a clip only when it is the same audio.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from emotioncot.audio.io import read_record_audio, record_channel
from emotioncot.measure.signal import resample
from emotioncot.tables import atomic_path, commit

AUDIO_DIR = "audio"


@dataclass(frozen=True)
class Clip:
    path: str  # relative to the export folder, "/"-separated
    sample_rate: int
    num_samples: int

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate


def clip_name(record: dict, sample_rate: int) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in record["id"])
    source = Path(record["audio_path"])
    try:
        stamp = source.stat().st_mtime_ns
    except OSError:
        stamp = None
    key = repr((str(source.resolve()), stamp, record.get("start_s"), record.get("end_s"), record_channel(record),
                sample_rate))
    return f"{safe}-{hashlib.sha1(key.encode()).hexdigest()[:10]}.wav"


def write_clip(record: dict, out: Path, sample_rate: int) -> Clip:
    """Write (or reuse) the portable clip of ``record`` under ``out/audio/<split>/``; ``AudioError`` naming the
    source file when it cannot be read."""
    rel = f"{AUDIO_DIR}/{record['split']}/{clip_name(record, sample_rate)}"
    target = Path(out) / rel
    if target.is_file():
        try:
            info = sf.info(str(target))
            if info.samplerate == sample_rate and info.channels == 1 and info.frames > 0:
                return Clip(rel, sample_rate, int(info.frames))
        except Exception:  # a damaged clip from a killed run: written again below
            pass
    y, sr = read_record_audio(record)
    y = np.clip(resample(y.astype(np.float64), sr, sample_rate), -1.0, 1.0)
    tmp = atomic_path(target)
    try:
        sf.write(str(tmp), y, sample_rate, format="WAV", subtype="PCM_16")
        commit(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return Clip(rel, sample_rate, int(len(y)))


def read_clip(out: Path, clip_path: str) -> np.ndarray:
    """The float32 samples of a written clip (for writers that embed arrays)."""
    y, _ = sf.read(str(Path(out) / clip_path), dtype="float32")
    return y
