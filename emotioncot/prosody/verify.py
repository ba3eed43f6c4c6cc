"""Measure every generated clip again and drop it, with the reason, when the change it carries is not the
change it was meant to carry.

Whole-clip changes are measured with the project analyzer's methods (``emotioncot.measure``): the level
change from its ``energy_dbfs`` (active speech level); the pitch shift on the same Praat autocorrelation
pitch track (10 ms steps), paired frame by frame; the tempo from speech time with the analyzer's
speech threshold (see ``measured_change`` for why the analyzer's summary numbers alone are not precise
enough for a 0.5 st / 3 % check). Each version is compared with the unchanged WORLD resynthesis of
the same utterance, so vocoder effects cancel out. Every dimension is checked, the ones meant to stay
unchanged too, so a pitch question can never be answered by loudness or duration.

Word emphasis (stress tasks) is local: the analyzer needs 0.2 s of audio and most words are shorter, so
the word's pitch and level are measured here, on the same Praat pitch track (10 ms steps) and the same
10 ms RMS frames the analyzer uses, restricted to the word's time span.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotioncot.config import ProsodyConfig
from emotioncot.measure import measure_signal

FRAME_S = 0.01


@dataclass
class Change:
    """A change between two versions of one utterance: pitch (semitones), level (dB), tempo (ratio)."""

    semitones: float = 0.0
    gain_db: float = 0.0
    tempo: float = 1.0

    def as_dict(self) -> dict:
        """Rounded; a value that could not be measured (NaN) is None."""

        def r(x: float, n: int):
            return None if x is None or not np.isfinite(x) else round(float(x), n)

        return {"semitones": r(self.semitones, 3), "gain_db": r(self.gain_db, 3), "tempo": r(self.tempo, 4)}


@dataclass
class ClipMeasures:
    """What a version is compared on: the analyzer's measurements plus a 10 ms pitch track and frame levels."""

    analyzer: dict
    f0: np.ndarray  # Praat pitch every 10 ms, 0 = unvoiced
    frame_db: np.ndarray  # 10 ms RMS level in dB
    sr: int


def measure(y: np.ndarray, sr: int, transcript: str | None = None) -> ClipMeasures:
    """Measure one clip; raises ``ValueError`` if the analyzer cannot measure it."""
    m = measure_signal(y, sr, transcript)
    if m.get("error"):
        raise ValueError(f"analyzer failed: {m['error']}")
    for key in ("f0_median_hz", "energy_dbfs", "speech_s"):
        if not m.get(key):
            raise ValueError(f"analyzer gave no {key} ({m.get('null_reasons', {}).get(key, 'no value')})")
    power = frame_power(y, sr)
    return ClipMeasures(analyzer=m, f0=pitch_track(y, sr), frame_db=10 * np.log10(np.maximum(power, 1e-20)), sr=sr)


def speech_threshold_db(frame_db: np.ndarray) -> float:
    """The analyzer's speech / non-speech threshold: between the noise floor and the speech peak level."""
    floor, peak = np.percentile(frame_db, 10), np.percentile(frame_db, 95)
    return float(max(floor + 0.35 * (peak - floor), peak - 35.0))


def tempo_ratio(ref_db: np.ndarray, ver_db: np.ndarray, lo: float = 0.5, hi: float = 2.0) -> float:
    """How much faster the version runs: the r that maximises the correlation of the reference's
    10 ms level envelope at time t with the version's at time t / r (both floored 40 dB below their
    speech peak so that silence and noise weigh nothing). Searched on a log grid, then refined."""
    peak = np.percentile(ref_db, 95)
    e_ref = np.maximum(ref_db, peak - 40.0) - (peak - 40.0)
    e_ver = np.maximum(ver_db, peak - 40.0) - (peak - 40.0)
    t = np.arange(len(e_ref), dtype=np.float64)
    x_ver = np.arange(len(e_ver), dtype=np.float64)
    def score(r: float) -> float:
        mapped = np.interp(t / r, x_ver, e_ver, right=0.0)
        a, b = e_ref, mapped
        den = np.sqrt(np.dot(a, a) * np.dot(b, b))
        return float(np.dot(a, b) / den) if den > 0 else -1.0

    grid = np.exp(np.linspace(np.log(lo), np.log(hi), 281))
    best = grid[int(np.argmax([score(r) for r in grid]))]
    fine = best * np.exp(np.linspace(-0.006, 0.006, 61))
    return float(fine[int(np.argmax([score(r) for r in fine]))])


def measured_change(reference: ClipMeasures, version: ClipMeasures, intended_tempo: float = 1.0) -> Change:
    """The change from ``reference`` to ``version``.

    - level: difference of the analyzer's active speech level (``energy_dbfs``);
    - pitch: median of the per-frame semitone difference over frames voiced in both clips, the version's
      frame at time t paired with the reference frame at t * intended_tempo. (The difference of two
      medians moves by up to 0.6 st on EmoDB anger when voicing decisions differ at the edges, although
      every voiced frame was shifted by exactly the intended amount, so frames are paired instead.)
    - tempo: the time scale that best maps the version's level envelope onto the reference's (see
      ``tempo_ratio``); the ratio of the analyzer's ``speech_s`` moves by up to 5 % under a pure pitch
      shift, because its threshold cuts through gradual onsets and offsets.
    """
    gain = float(version.analyzer["energy_dbfs"] - reference.analyzer["energy_dbfs"])
    f_ref, f_ver = reference.f0, version.f0
    idx = np.round((np.arange(len(f_ver)) + 0.5) * intended_tempo - 0.5).astype(int)
    ok = idx < len(f_ref)
    paired_ref = np.where(ok, f_ref[np.minimum(idx, len(f_ref) - 1)], 0.0)
    voiced = (paired_ref > 0) & (f_ver > 0)
    semitones = float(np.median(12 * np.log2(f_ver[voiced] / paired_ref[voiced]))) if voiced.sum() >= 5 else float("nan")
    tempo = tempo_ratio(reference.frame_db, version.frame_db - gain)
    return Change(semitones=semitones, gain_db=gain, tempo=tempo)


def mismatch(intended: Change, measured: Change, config: ProsodyConfig) -> str | None:
    """A reason naming every dimension that is off by more than its tolerance, or None."""
    problems = []
    if np.isnan(measured.semitones):
        problems.append("fewer than 5 frames voiced in both versions")
    elif abs(measured.semitones - intended.semitones) > config.tolerance_semitones:
        problems.append(f"pitch change {measured.semitones:+.2f} st, intended {intended.semitones:+.2f} st")
    if abs(measured.gain_db - intended.gain_db) > config.tolerance_db:
        problems.append(f"level change {measured.gain_db:+.2f} dB, intended {intended.gain_db:+.2f} dB")
    if abs(measured.tempo / intended.tempo - 1.0) > config.tolerance_tempo:
        problems.append(f"tempo ratio {measured.tempo:.3f}, intended {intended.tempo:.3f}")
    return "; ".join(problems) or None


# ---------------------------------------------------------------- local (word) measurements


def pitch_track(y: np.ndarray, sr: int, f0_min: float = 60.0, f0_max: float = 600.0) -> np.ndarray:
    """Praat autocorrelation pitch every 10 ms (0 = unvoiced), frame i centred near (i + 0.5) * 10 ms."""
    import parselmouth

    sound = parselmouth.Sound(y.astype(np.float64), sampling_frequency=sr)
    pitch = sound.to_pitch_ac(time_step=FRAME_S, pitch_floor=f0_min, pitch_ceiling=f0_max)
    f0 = pitch.selected_array["frequency"]
    times = pitch.xs()
    # Put the frames on a fixed 10 ms grid from 0 so two clips of the same length line up.
    grid = np.zeros(int(len(y) / sr / FRAME_S))
    idx = np.clip(np.round(times / FRAME_S - 0.5).astype(int), 0, max(0, len(grid) - 1))
    if len(grid):
        grid[idx] = f0
    return grid


def frame_power(y: np.ndarray, sr: int) -> np.ndarray:
    hop = int(sr * FRAME_S)
    n = len(y) // hop
    frames = y[: n * hop].astype(np.float64).reshape(n, hop)
    return np.mean(frames**2, axis=1)


def span_change(reference: np.ndarray, version: np.ndarray, sr: int, start_s: float, end_s: float, reference_f0: np.ndarray | None = None) -> tuple[Change, Change]:
    """Pitch and level change of ``version`` against ``reference`` (same length) inside and outside a span.

    Pitch: median over frames voiced in both of the per-frame semitone difference. Level: ratio of the
    mean power of the frames (outside: frames more than 50 ms away from the span, so the ramps do not count).
    """
    if len(reference) != len(version):
        raise ValueError("span_change needs two clips of the same length")
    f_ref = reference_f0 if reference_f0 is not None else pitch_track(reference, sr)
    f_ver = pitch_track(version, sr)
    p_ref, p_ver = frame_power(reference, sr), frame_power(version, sr)
    n = min(len(f_ref), len(p_ref))
    t = (np.arange(n) + 0.5) * FRAME_S
    inside = (t >= start_s) & (t <= end_s)
    outside = (t < start_s - 0.05) | (t > end_s + 0.05)
    speech = p_ref[:n] > np.max(p_ref[:n]) * 10 ** (-35 / 10)

    def one(mask: np.ndarray) -> Change:
        voiced = mask & (f_ref[:n] > 0) & (f_ver[:n] > 0)
        st = float(np.median(12 * np.log2(f_ver[:n][voiced] / f_ref[:n][voiced]))) if voiced.sum() >= 3 else float("nan")
        m = mask & speech
        db = float(10 * np.log10(np.sum(p_ver[:n][m]) / np.sum(p_ref[:n][m]))) if m.sum() >= 2 else float("nan")
        return Change(semitones=st, gain_db=db)

    return one(inside), one(outside)


def emphasis_mismatch(inside: Change, outside: Change, semitones: float, gain_db: float, config: ProsodyConfig) -> str | None:
    """Reason why an emphasised word does not carry the intended emphasis (or the rest of the clip changed)."""
    problems = []
    if np.isnan(inside.semitones):
        problems.append("stressed word has fewer than 3 voiced frames")
    elif abs(inside.semitones - semitones) > config.tolerance_semitones:
        problems.append(f"word pitch change {inside.semitones:+.2f} st, intended {semitones:+.2f} st")
    if np.isnan(inside.gain_db):
        problems.append("stressed word has no speech frames")
    elif abs(inside.gain_db - gain_db) > config.tolerance_db:
        problems.append(f"word level change {inside.gain_db:+.2f} dB, intended {gain_db:+.2f} dB")
    if not np.isnan(outside.semitones) and abs(outside.semitones) > config.tolerance_semitones:
        problems.append(f"pitch outside the word changed by {outside.semitones:+.2f} st")
    if not np.isnan(outside.gain_db) and abs(outside.gain_db) > config.tolerance_db:
        problems.append(f"level outside the word changed by {outside.gain_db:+.2f} dB")
    return "; ".join(problems) or None
