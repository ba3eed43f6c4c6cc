"""Pitch (Praat via parselmouth), energy, voice activity, pauses and rate."""

from __future__ import annotations

import re

import numpy as np
import parselmouth

from emotioncot.audio.io import read_audio
from emotioncot.config import MeasureConfig

FRAME_S = 0.01


def _frame_db(y: np.ndarray, sr: int, frame_s: float = FRAME_S) -> np.ndarray:
    hop = max(1, int(sr * frame_s))
    n = len(y) // hop
    if n == 0:
        return np.zeros(0)
    frames = y[: n * hop].reshape(n, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def _speech_mask(db: np.ndarray) -> np.ndarray:
    """Speech frames: above a threshold set between the noise floor and the speech peak level."""
    if db.size == 0:
        return np.zeros(0, bool)
    floor = np.percentile(db, 10)
    peak = np.percentile(db, 95)
    threshold = max(floor + 0.35 * (peak - floor), peak - 35.0)
    return db > threshold


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of True runs."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))


_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def count_syllables_text(text: str) -> int:
    """A rule-based English syllable count (vowel groups, silent final e)."""
    total = 0
    for word in re.findall(r"[a-z']+", text.lower()):
        groups = len(_VOWEL_GROUPS.findall(word))
        if word.endswith("e") and groups > 1 and not word.endswith(("le", "ee")):
            groups -= 1
        total += max(1, groups)
    return total


def measure_signal(y: np.ndarray, sr: int, transcript: str | None = None, config: MeasureConfig | None = None) -> dict:
    config = config or MeasureConfig()
    out: dict = {"duration_s": len(y) / sr, "null_reasons": {}, "stressed_words": []}
    db = _frame_db(y, sr)
    if db.size < 20 or np.max(np.abs(y)) < 1e-6:
        reason = "too short (under 0.2 s)" if db.size < 20 else "digital silence"
        out["error"] = reason
        return out
    mask = _speech_mask(db)
    speech_frames = int(mask.sum())
    out["speech_s"] = speech_frames * FRAME_S
    runs = _runs(mask)
    gaps = [(runs[i][1], runs[i + 1][0]) for i in range(len(runs) - 1)]
    pauses = [(b - a) * FRAME_S for a, b in gaps if (b - a) * FRAME_S >= config.min_pause_s]
    out["pause_count"] = len(pauses)
    out["pause_total_s"] = float(sum(pauses))
    power = np.mean(10 ** (db[mask] / 10)) if speech_frames else 0.0
    out["energy_dbfs"] = float(10 * np.log10(power)) if power > 0 else None

    sound = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr)
    pitch = sound.to_pitch_ac(time_step=FRAME_S, pitch_floor=config.f0_min_hz, pitch_ceiling=config.f0_max_hz)
    f0 = pitch.selected_array["frequency"]
    voiced = f0[f0 > 0]
    out["voiced_fraction"] = float(len(voiced) / max(1, len(f0)))
    if len(voiced) >= 5:
        st = 12 * np.log2(voiced / 100.0)
        out["f0_median_hz"] = float(np.median(voiced))
        out["f0_p5_hz"] = float(np.percentile(voiced, 5))
        out["f0_p95_hz"] = float(np.percentile(voiced, 95))
        out["f0_range_st"] = float(np.percentile(st, 95) - np.percentile(st, 5))
        out["f0_std_st"] = float(np.std(st))
    else:
        for key in ("f0_median_hz", "f0_p5_hz", "f0_p95_hz", "f0_range_st", "f0_std_st"):
            out["null_reasons"][key] = "fewer than 5 voiced frames"

    if transcript:
        syllables = count_syllables_text(transcript)
        out["syllable_source"] = "transcript-rules"
        out["syllable_count"] = float(syllables)
        if out["speech_s"] > 0:
            out["articulation_rate_sps"] = syllables / out["speech_s"]
            out["speaking_rate_sps"] = syllables / (out["speech_s"] + out["pause_total_s"])
    else:
        for key in ("articulation_rate_sps", "speaking_rate_sps"):
            out["null_reasons"][key] = "no transcript"
    return out


def measure_utterance(row: dict, config: MeasureConfig | None = None) -> dict:
    """Measure one ingested utterance. Raises ``AudioError`` when the audio cannot be read."""
    y, sr = read_audio(row["audio_path"], row.get("start_s"), row.get("end_s"))
    result = measure_signal(y, sr, row.get("transcript"), config)
    result["id"] = row["id"]
    return result
