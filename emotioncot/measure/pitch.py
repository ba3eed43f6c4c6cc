"""F0 tracking (Praat's autocorrelation method by default, through parselmouth or re-implemented on the
frame matrix in ``pitch_ac.py``; WORLD DIO+StoneMask as an alternative) and octave-error correction that keeps
real excursions.

Octave correction: the reference pipeline folds every frame more than 9 semitones from the median, which
halves the real octave leaps of angry or surprised speech. Here a stretch of F0 is moved by an octave
only if it (a) begins with an abrupt jump of about an octave (9-15 st within 10 ms: real glides are
continuous) or sits an octave away from its neighbours, and (b) is short (under ``min_excursion_s``) or
weakly periodic. Long, confident excursions are kept whatever their size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotioncot.measure.quantiles import median, percentile
from emotioncot.measure.signal import ANALYSIS_SR, HOP_S

OCTAVE_TOL_ST = 3.0
JUMP_ST = 7.0
CONFIDENT_STRENGTH = 0.6


@dataclass
class PitchTrack:
    times: np.ndarray
    f0: np.ndarray  # Hz, 0 where unvoiced
    strength: np.ndarray  # periodicity 0..1 (Praat's autocorrelation peak); 1 for voiced WORLD frames
    method: str
    duration_s: float = 0.0  # of the sound it was tracked on (the Praat Pitch's time domain)
    praat_pitch: object | None = None  # Praat's own Pitch object where Praat tracked it

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0


def track_praat(y: np.ndarray, f0_min: float, f0_max: float, engine: str = "parselmouth", sound=None) -> PitchTrack:
    """Praat's "To Pitch (ac)" (time step 10 ms, standard settings) on ``y`` at the analysis rate, run by Praat
    itself (``engine="parselmouth"``; ``sound``: the parselmouth Sound of ``y`` when the caller has one) or by
    the frame-matrix re-implementation (``"frames"``, ``pitch_ac.py``)."""
    from emotioncot.measure.pitch_ac import supports

    if engine == "frames" and supports(ANALYSIS_SR, f0_min, f0_max):  # otherwise Praat itself
        from emotioncot.measure.pitch_ac import to_pitch_ac

        p = to_pitch_ac(y, ANALYSIS_SR, time_step=HOP_S, pitch_floor=f0_min, pitch_ceiling=f0_max)
        return PitchTrack(p.times, p.frequency, p.strength, "praat", len(y) / ANALYSIS_SR)
    if sound is None:
        import parselmouth

        sound = parselmouth.Sound(y, sampling_frequency=ANALYSIS_SR)
    pitch = sound.to_pitch_ac(time_step=HOP_S, pitch_floor=f0_min, pitch_ceiling=f0_max)
    arr = pitch.selected_array
    return PitchTrack(np.asarray(pitch.xs()), arr["frequency"].astype(np.float64), arr["strength"].astype(np.float64),
                      "praat", sound.duration, pitch)


def praat_pitch(track: PitchTrack):
    """The Praat Pitch object of a track (times on the sound it was tracked on), for Praat's point process:
    Praat's own where Praat tracked it; otherwise one made by "Matrix: To Pitch" from the frames. Praat's
    "To PointProcess (cc)" reads only each frame's frequency from the Pitch (voiced where above 0 and under
    the ceiling), which that sets; jitter and shimmer from it equal those from Praat's own Pitch on all 66
    real files (tests/test_measure_pitch_ac.py)."""
    if track.praat_pitch is not None:
        return track.praat_pitch
    from parselmouth.praat import call

    n = len(track.f0)
    step = float(track.times[1] - track.times[0]) if n > 1 else HOP_S
    matrix = call("Create Matrix", "f0", 0.0, track.duration_s, n, step, float(track.times[0]), 1, 1, 1, 1, 1, "0")
    matrix.values = track.f0[None, :]
    return call(matrix, "To Pitch")


def track_pyworld(y: np.ndarray, f0_min: float, f0_max: float) -> PitchTrack:
    import pyworld

    f0, t = pyworld.dio(y, ANALYSIS_SR, f0_floor=f0_min, f0_ceil=f0_max, frame_period=HOP_S * 1000)
    f0 = pyworld.stonemask(y, f0, t, ANALYSIS_SR)
    return PitchTrack(np.asarray(t), f0, (f0 > 0).astype(np.float64), "pyworld")


def on_frame_grid(track: PitchTrack, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """F0 and strength resampled (nearest) onto the analysis frames (frame i at i * 10 ms)."""
    f0 = np.zeros(n_frames)
    strength = np.zeros(n_frames)
    if len(track.times) and n_frames:
        t = np.arange(n_frames) * HOP_S
        j = np.clip(np.searchsorted(track.times, t), 1, len(track.times) - 1) if len(track.times) > 1 else np.zeros(n_frames, int)
        if len(track.times) > 1:
            j = np.where(np.abs(track.times[j - 1] - t) <= np.abs(track.times[j] - t), j - 1, j)
        inside = np.abs(track.times[j] - t) <= HOP_S  # no extrapolation beyond the track's ends
        f0[inside] = track.f0[j[inside]]
        strength[inside] = track.strength[j[inside]]
    return f0, strength


def _segments(st: np.ndarray, voiced: np.ndarray) -> list[tuple[int, int]]:
    """Voiced stretches, split wherever F0 jumps by more than JUMP_ST between adjacent frames."""
    segs = []
    n = len(st)
    i = 0
    while i < n:
        if not voiced[i]:
            i += 1
            continue
        j = i + 1
        while j < n and voiced[j] and abs(st[j] - st[j - 1]) < JUMP_ST:
            j += 1
        segs.append((i, j))
        i = j
    return segs


def correct_octaves(
    f0: np.ndarray, strength: np.ndarray, min_excursion_s: float = 0.1, context_s: float = 0.6
) -> tuple[np.ndarray, int]:
    """Fold short or weak stretches that sit about an octave off their context; keep long confident ones,
    and short ones at a pitch that a long confident stretch nearby holds (the speaker reached it). Returns the corrected F0 and the number of frames it changed (reported as ``f0_octave_fixed_frames``)."""
    f0 = f0.copy()
    voiced = f0 > 0
    if voiced.sum() < 3:
        return f0, 0
    st = np.zeros_like(f0)
    st[voiced] = 12 * np.log2(f0[voiced] / 100.0)
    segs = _segments(st, voiced)
    if len(segs) < 2:
        return f0, 0
    lengths = np.array([b - a for a, b in segs])
    medians = np.array([median(st[a:b]) for a, b in segs])
    conf = np.array([np.mean(strength[a:b]) for a, b in segs])
    min_len = max(1, int(round(min_excursion_s / HOP_S)))
    ctx = int(round(context_s / HOP_S))
    fixes = 0
    for k, (a, b) in enumerate(segs):
        if lengths[k] >= min_len and conf[k] >= CONFIDENT_STRENGTH:
            continue  # long and confident: a real excursion, kept
        # context: other stretches within context_s, weighted by length; the stretch itself excluded
        near = [m for m, (c, d) in enumerate(segs) if m != k and c < b + ctx and d > a - ctx]
        if not near:
            near = [m for m in range(len(segs)) if m != k]
        w = lengths[near].astype(float)
        order = np.argsort(medians[near])
        cum = np.cumsum(w[order])
        ref = medians[near][order][np.searchsorted(cum, cum[-1] / 2)]
        if w.sum() < lengths[k]:
            continue  # the context is thinner than the stretch itself: no ground to call it an error
        held = [m for m in near if lengths[m] >= min_len and conf[m] >= CONFIDENT_STRENGTH]
        if any(abs(medians[m] - medians[k]) < OCTAVE_TOL_ST for m in held):
            continue  # the speaker held this pitch nearby, long and confidently: it is within their reach
        d = medians[k] - ref
        for shift in _SHIFTS:
            if abs(d - shift) < OCTAVE_TOL_ST and _edges_allow(st, segs, k, shift, ctx):
                f0[a:b] = f0[a:b] * 2 ** (-shift / 12)
                fixes += b - a
                break
    return f0, fixes


_SHIFTS = (12.0, -12.0, 19.02, -19.02)  # octave, and octave + fifth (period doubling x3)


def _edges_allow(st: np.ndarray, segs: list[tuple[int, int]], k: int, shift: float, ctx: int) -> bool:
    """An octave error enters and leaves with a jump of about the octave; a stretch whose jump to each
    neighbour nearby is clearly not one (a terminal fall after a pause, 5 st down) is real pitch."""
    a, b = segs[k]
    jumps = []
    if k > 0 and a - segs[k - 1][1] <= ctx:
        jumps.append(st[a] - st[segs[k - 1][1] - 1])
    if k + 1 < len(segs) and segs[k + 1][0] - b <= ctx:
        jumps.append(st[b - 1] - st[segs[k + 1][0]])
    return not jumps or any(abs(j - shift) < OCTAVE_TOL_ST for j in jumps)


RANGE_PERCENTILES = (5.0, 95.0)


def f0_statistics(f0: np.ndarray, min_voiced: int = 10, min_range_voiced: int = 40) -> tuple[dict, dict]:
    """Median, 5th / 95th percentiles, p5-p95 range and standard deviation in semitones.

    The range needs ``min_range_voiced`` frames (40: then each tail percentile rests on at least two
    frames, 20 ms of voicing, not on one stray frame); with fewer the median stands and the range is null."""
    keys = ("f0_median_hz", "f0_p5_hz", "f0_p95_hz", "f0_range_st", "f0_std_st")
    v = f0[f0 > 0]
    if len(v) < min_voiced:
        reason = f"too little voicing ({len(v)} voiced frames, need {min_voiced})"
        return {k: None for k in keys}, {k: reason for k in keys}
    st = 12 * np.log2(v / 100.0)
    out = {"f0_median_hz": float(median(v)), "f0_std_st": float(np.std(st))}
    if len(v) < min_range_voiced:
        reason = f"too little voicing for a range ({len(v)} voiced frames, need {min_range_voiced})"
        return out, {k: reason for k in ("f0_p5_hz", "f0_p95_hz", "f0_range_st")}
    p5, p95 = (percentile(v, q) for q in RANGE_PERCENTILES)
    out.update(f0_p5_hz=float(p5), f0_p95_hz=float(p95), f0_range_st=float(12 * np.log2(p95 / p5)))
    return out, {}
