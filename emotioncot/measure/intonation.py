"""Intonation contour class (the EmotionCoT release vocabulary) with a confidence.

The voiced F0 of the speech span, in semitones re its median, on a time axis normalised to 0..1, is
fitted by a line and by the best two-piece continuous line (break between 15 % and 90 %, so a
terminal rise on the last word counts). Classes:
flat (little movement), rising / falling (the line explains the contour), rising-falling /
falling-rising (two opposite pieces of at least 2 st each, clearly better than a line; a terminal
rise of 3 st or more in the last 30 %, the boundary tone of a question, makes it rising or
falling-rising whatever came before), expressive
(large movement that neither model explains). ``too_short`` under 0.5 s of speech; ``uncertain`` when
voicing is too sparse or no class is clearly supported. Confidence grows with the size of the
movement relative to the fit residual."""

from __future__ import annotations

import numpy as np

from emotioncot.measure.quantiles import median, percentile
from emotioncot.measure.signal import HOP_S

MIN_SPEECH_S = 0.5
MIN_VOICED_FRAMES = 20
MOVE_ST = 2.0


def _line(x, y):
    A = np.vstack([x, np.ones_like(x)]).T
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return coef, y - A @ coef


def _two_piece(x, y):
    """Best continuous two-piece line over candidate breaks, all solved at once (normal equations)."""
    breaks = np.linspace(0.15, 0.9, 16)  # late breaks catch terminal rises / falls
    d = x[None, :] - breaks[:, None]
    A = np.stack([np.minimum(d, 0), np.maximum(d, 0), np.ones_like(d)], axis=2)  # (breaks, n, 3)
    AtA = np.einsum("bni,bnj->bij", A, A) + 1e-9 * np.eye(3)
    Aty = np.einsum("bni,n->bi", A, y)
    coef = np.linalg.solve(AtA, Aty[..., None])[..., 0]
    res = y[None, :] - np.einsum("bni,bi->bn", A, coef)
    k = int(np.argmin(np.einsum("bn,bn->b", res, res)))
    b = breaks[k]
    return b, coef[k, 0] * b, coef[k, 1] * (1 - b), res[k]  # break, change over piece 1, over piece 2, residual


def classify(f0: np.ndarray, speech: np.ndarray, speech_s: float) -> tuple[str, float, dict]:
    """(label, confidence, details) from F0 on the frame grid and the speech mask."""
    if speech_s < MIN_SPEECH_S:
        return "too_short", 1.0, {"reason": f"{speech_s:.2f} s of speech (need {MIN_SPEECH_S})"}
    idx = np.flatnonzero((f0 > 0) & speech)
    if len(idx) < MIN_VOICED_FRAMES:
        return "uncertain", 0.0, {"reason": f"{len(idx)} voiced frames (need {MIN_VOICED_FRAMES})"}
    st = 12 * np.log2(f0[idx] / median(f0[idx]))
    if len(st) >= 5:  # 50 ms median smoothing against single-frame errors
        from emotioncot.measure.peaks import medfilt  # scipy.signal's, without its import cost

        st = medfilt(st, 5)
    span = np.flatnonzero(speech)
    x = (idx - span[0]) / max(1, span[-1] - span[0])
    (slope, _), res1 = _line(x, st)
    b, d1, d2, res2 = _two_piece(x, st)
    sd = float(np.std(st))
    r1, r2 = float(np.std(res1)), float(np.std(res2))
    details = {"change_st": float(slope), "piece1_st": float(d1), "piece2_st": float(d2), "break": float(b),
               "residual_st": r2, "std_st": sd, "voiced_s": len(idx) * HOP_S}
    move = float(percentile(st, 95) - percentile(st, 5))
    if move < 2.5 and abs(slope) < MOVE_ST:
        return "flat", float(np.clip(1 - move / 3.0, 0.3, 1.0)), details
    # a terminal rise (the boundary tone of a question) decides the class whatever came before it
    tail = st[int(0.7 * len(st)):]
    low = int(np.argmin(tail))
    term_rise = float(median(st[-4:]) - tail[low])
    details["terminal_rise_st"] = term_rise
    if term_rise >= 3.0 and low < len(tail) - 3:
        before = st[: int(0.7 * len(st)) + low + 1]
        drop = float(median(before[: max(3, len(before) // 3)]) - tail[low])
        label = "falling-rising" if drop >= MOVE_ST else "rising"
        conf = term_rise / (term_rise + 2 * r2 + 1e-9)
    elif abs(d1) >= MOVE_ST and abs(d2) >= MOVE_ST and np.sign(d1) != np.sign(d2) and r2 < 0.85 * r1:
        label = "rising-falling" if d1 > 0 else "falling-rising"
        effect = min(abs(d1), abs(d2))
        conf = effect / (effect + 2 * r2 + 1e-9)
    elif abs(slope) >= MOVE_ST:
        label = "rising" if slope > 0 else "falling"
        conf = abs(slope) / (abs(slope) + 2 * r1 + 1e-9)
    elif move >= 8.0 and r2 >= 2.0:
        label, conf = "expressive", float(np.clip(r2 / 4.0, 0.3, 1.0))
    elif move < 4.0:
        label, conf = "flat", float(np.clip(1 - move / 6.0, 0.2, 0.8))
    else:
        label, conf = "uncertain", 0.0
    if label not in ("expressive", "flat", "uncertain") and r2 >= 3.0 and move >= 8.0:
        label, conf = "expressive", float(np.clip(r2 / 4.0, 0.3, 1.0))
    return label, float(round(conf, 3)), details
