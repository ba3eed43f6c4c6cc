"""openSMILE eGeMAPSv02 as a cross-check backend (``emotioncot analyze --compare opensmile``).

Optional: the ``opensmile`` package (audEERING research licence, non-commercial use; installed by the
``test`` extra) is imported only here. Its values are put beside ours under the same names, so a
difference is one subtraction away; none of them feeds the dataset.

Which eGeMAPSv02 functional stands for which of our measurements (their definitions differ where said):
* ``f0_median_hz``: ``F0semitoneFrom27.5Hz_sma3nz_percentile50.0`` in Hz. openSMILE's voicing is stricter
  (it leaves out the weak frames at voicing onsets and offsets, often low and creaky), so on some clips its
  median sits up to ~1.1 st above Praat's; on frames both call voiced they agree within a few cents.
* ``f0_range_st``: p5-p95 of the openSMILE F0 contour (low-level descriptors), in semitones: eGeMAPS
  itself only reports the p20-p80 range (``..._pctlrange0-2``), given as ``f0_p20_p80_range_st``.
* ``hnr_db``: ``HNRdBACF_sma3nz_amean`` (openSMILE's own ACF harmonicity over its voiced frames: it reads
  higher than Praat's, which also averages unvoiced, non-silent frames).
* ``alpha_ratio_db``: ``alphaRatioV_sma3nz_amean`` (voiced frames; ours pools all speech frames).
* ``loudness``: ``loudness_sma3_amean`` (openSMILE's loudness, no counterpart of ours).

openSMILE is given the samples as read (channels averaged), at the file's own rate and level, as
``Smile.process_file`` would read them, not the 16 kHz DC-free signal emotioncot analyses: its voicing
decision depends on all three. Measured on the real recordings in ``../shared/data``: resampling a 48 kHz
RAVDESS clip to 16 kHz moved its median F0 by 2.3 st (123 voiced frames became 84), removing a DC offset of
-0.001 full scale from an EmoDB clip moved it by 0.6 st, and a gain of x10 moved a CMU ARCTIC clip by 0.9 st
(177 voiced frames became 59). Resampling and DC removal move Praat's median by at most 0.06 st on any of
the 66 files, and its voicing threshold is relative to the clip's own peak.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from emotioncot.measure.signal import to_mono

SEMITONE_BASE_HZ = 27.5


class OpenSmileMissing(RuntimeError):
    pass


@lru_cache(maxsize=2)
def _smile(level: str):
    try:
        import opensmile
    except ImportError:
        raise OpenSmileMissing("--compare opensmile needs the opensmile package: pip install 'emotioncot[test]'") from None
    feature_level = opensmile.FeatureLevel.Functionals if level == "functionals" else opensmile.FeatureLevel.LowLevelDescriptors
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=feature_level)


def _hz(semitones: float) -> float:
    return float(SEMITONE_BASE_HZ * 2 ** (semitones / 12))


def _as_read(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.integer):
        y = y / float(-np.iinfo(y.dtype).min)
    return to_mono(y).astype(np.float32)


def f0_contour(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """openSMILE's F0 (Hz, 0 unvoiced) and frame centre times (s) for samples as read (see the module docstring)."""
    lld = _smile("lld").process_signal(_as_read(y), int(sr))
    st = lld["F0semitoneFrom27.5Hz_sma3nz"].to_numpy()
    starts = np.array([t.total_seconds() for t in lld.index.get_level_values("start")])
    return np.where(st > 0, SEMITONE_BASE_HZ * 2 ** (st / 12), 0.0), starts + 0.03  # 60 ms frames


def egemaps(y: np.ndarray, sr: int, contour: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """openSMILE eGeMAPSv02 values under emotioncot's names (see the module docstring), for samples as read
    at their own rate (``contour``: an ``f0_contour`` of the same samples already computed)."""
    x = _as_read(y)
    f = _smile("functionals").process_signal(x, int(sr)).iloc[0]
    hz = (contour or f0_contour(x, sr))[0]
    voiced = 12 * np.log2(hz[hz > 0] / SEMITONE_BASE_HZ)
    f0_range = float(np.percentile(voiced, 95) - np.percentile(voiced, 5)) if len(voiced) >= 2 else None
    return {
        "f0_median_hz": _hz(f["F0semitoneFrom27.5Hz_sma3nz_percentile50.0"]) if len(voiced) else None,
        "f0_range_st": f0_range,
        "f0_p20_p80_range_st": float(f["F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2"]),
        "hnr_db": float(f["HNRdBACF_sma3nz_amean"]),
        "alpha_ratio_db": float(f["alphaRatioV_sma3nz_amean"]),
        "loudness": float(f["loudness_sma3_amean"]),
        "f0_voiced_frames": int(len(voiced)),
    }
