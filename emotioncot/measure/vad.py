"""Voice activity, pauses and signal-to-noise ratio from frame levels.

Why not percentiles alone: a threshold set between two level percentiles marks every frame of a noisy
file as speech (the noise is the "quiet" percentile only when there are pauses). Here the noise floor is
the level the quietest frames share, speech must rise a margin above it (a file with less than 6 dB of
level contrast has no detectable speech rather than being all speech), and the decision uses hysteresis
(strong frames seed a segment, weaker neighbours extend it) plus Praat's voicing, so quiet voiced
vowels in noise are still speech and steady noise is not. An isolated unvoiced segment at either edge of
the clip, 20 dB or more under the speech level, is a breath or a click and is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emotioncot.measure.frames import FLOOR_DB, Frames
from emotioncot.measure.quantiles import median, percentile
from emotioncot.measure.signal import HOP_S

MIN_CONTRAST_DB = 6.0
MIN_SEGMENT_S = 0.03
EDGE_BELOW_DB = 20.0  # an unvoiced edge segment this far under the speech level is not speech


@dataclass
class Activity:
    mask: np.ndarray  # speech frames (short gaps inside speech filled)
    raw_mask: np.ndarray  # frames with speech energy (before gap filling)
    pauses: list[tuple[float, float]]  # (start_s, end_s) of pauses between speech
    speech_s: float
    onset_s: float | None
    offset_s: float | None
    noise_db: float
    snr_db: float | None


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of ``mask``."""
    padded = np.concatenate([[False], mask.astype(bool), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _noise_floor(level: np.ndarray) -> float:
    """The level of the quietest tenth of frames, ignoring digital zeros (those say nothing of noise)."""
    live = level[level > FLOOR_DB + 1]
    if live.size <= 0.9 * level.size:
        return FLOOR_DB  # a tenth or more of the clip is digital silence: that is the floor
    return float(percentile(live, 10))


def detect_activity(frames: Frames, voiced: np.ndarray | None, min_pause_s: float = 0.2) -> Activity:
    level = frames.level_db
    n = len(level)
    smooth = np.convolve(level, np.ones(3) / 3, mode="same") if n >= 3 else level
    noise = _noise_floor(smooth)
    # the level speech reaches: high percentile of frames, robust to a few clicks
    peak = float(percentile(smooth, 95)) if n else FLOOR_DB
    contrast = peak - noise
    if n == 0 or contrast < MIN_CONTRAST_DB:
        # no level contrast: either steady noise (nothing is speech) or a clip that is speech throughout
        # (a sustained vowel, a tightly cut clip); periodicity tells them apart
        raw = np.zeros(n, bool) if voiced is None or len(voiced) != n else voiced.copy()
    else:
        hi = max(noise + max(MIN_CONTRAST_DB, 0.35 * contrast), peak - 30.0)
        lo = max(noise + 3.0, hi - 9.0)
        seeds = smooth > hi
        weak = smooth > lo
        if voiced is not None and len(voiced) == n:
            weak = weak | (voiced & (smooth > noise + 3.0))
        raw = np.zeros(n, bool)
        for a, b in runs(weak):
            if seeds[a:b].any():
                raw[a:b] = True
        min_len = int(round(MIN_SEGMENT_S / HOP_S))
        for a, b in runs(raw):
            if b - a < min_len:
                raw[a:b] = False
    if voiced is not None and len(voiced) == n:
        raw = _drop_quiet_unvoiced_edges(raw, smooth, voiced, min_pause_s)
    mask = raw.copy()
    segs = runs(raw)
    pauses: list[tuple[float, float]] = []
    for (a0, b0), (a1, b1) in zip(segs, segs[1:]):
        gap_s = (a1 - b0) * HOP_S
        if gap_s >= min_pause_s:
            pauses.append((b0 * HOP_S, a1 * HOP_S))
        else:
            mask[b0:a1] = True  # closures and micro-gaps are part of speaking
    speech_frames = int(mask.sum())
    onset = segs[0][0] * HOP_S if segs else None
    offset = segs[-1][1] * HOP_S if segs else None
    snr = _snr(frames, mask, noise)
    return Activity(mask, raw, pauses, speech_frames * HOP_S, onset, offset, noise, snr)


def _drop_quiet_unvoiced_edges(raw: np.ndarray, level: np.ndarray, voiced: np.ndarray, min_pause_s: float) -> np.ndarray:
    """A segment at either end of the clip, apart from the rest by a pause, with no voicing at all and its
    loudest frame ``EDGE_BELOW_DB`` or more under the speech level, is a breath or a click, not speech
    (it would add a false pause and stretch the speaking time)."""
    segs = runs(raw)
    if len(segs) < 2 or not (voiced & raw).any():
        return raw
    speech_level = float(percentile(level[raw & voiced], 95))
    gap = int(round(min_pause_s / HOP_S))
    out = raw.copy()
    for end in (0, -1):
        while len(segs) >= 2:
            (a, b), nxt = segs[end], segs[1 if end == 0 else -2]
            isolated = (nxt[0] - b if end == 0 else a - nxt[1]) >= gap
            if isolated and not voiced[a:b].any() and level[a:b].max() <= speech_level - EDGE_BELOW_DB:
                out[a:b] = False
                segs.pop(end)
            else:
                break
    return out


def _snr(frames: Frames, mask: np.ndarray, noise_floor_db: float) -> float | None:
    """Speech-to-noise power ratio: noise from non-speech frames (or the floor when there are too few)."""
    if not mask.any():
        return None
    level = frames.level_db
    p = 10 ** (level / 10)
    nonspeech = ~mask
    live = level > FLOOR_DB + 1
    if (nonspeech & live).sum() >= 10:
        noise_p = float(median(p[nonspeech & live]))
    elif live.any():
        noise_p = 10 ** (noise_floor_db / 10)
    else:
        return None
    if not (nonspeech & live).any() and (nonspeech.sum() >= 10):
        return 99.0  # digital silence around the speech: no measurable noise
    speech_p = float(np.mean(p[mask]))
    signal_p = max(speech_p - noise_p, 1e-12)
    return float(min(99.0, 10 * np.log10(signal_p / max(noise_p, 1e-12))))
