"""Language-independent syllable count from the sound: syllable nuclei as peaks of the voiced
mid-band intensity (after de Jong & Wempe 2009, "Praat script to detect syllable nuclei").

A nucleus is a local maximum of the 300-3300 Hz band level (smoothed over 50 ms) that is voiced,
inside speech, no more than 25 dB under the utterance's loudest frame, stands out at least
``min_dip_db`` from the dips on either side, and lies at least 70 ms from the next one."""

from __future__ import annotations

import numpy as np
from emotioncot.measure.peaks import find_peaks  # scipy.signal's, without its import cost

from emotioncot.measure.frames import Frames, band_power


def count_nuclei(frames: Frames, speech: np.ndarray, voiced: np.ndarray, min_dip_db: float = 2.0) -> int:
    if frames.n < 5 or not speech.any():
        return 0
    band = 10 * np.log10(np.maximum(band_power(frames, 300, 3300), 1e-12))
    smooth = np.convolve(band, np.hanning(7) / np.hanning(7).sum(), mode="same")
    ceiling = smooth[speech].max()
    peaks, _ = find_peaks(smooth, prominence=min_dip_db, distance=7)
    # voicing near the peak (the nucleus is a vowel); Praat's voicing can lag the energy peak by a frame
    near_voiced = np.convolve(voiced.astype(float), np.ones(5), mode="same") > 0
    keep = [p for p in peaks if speech[p] and near_voiced[p] and smooth[p] > ceiling - 25.0]
    return len(keep)
