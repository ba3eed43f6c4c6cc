"""Speaker gender from F0 when the corpus does not say (always marked as estimated downstream).

Adult male speaking F0 clusters around 85-155 Hz, female around 165-255 Hz; the boundary is taken at
165 Hz and the confidence grows with the distance from it in semitones (0.5 at the boundary, about
0.9 at 4 st away). Children and many voices overlap: the confidence says how much to trust it."""

from __future__ import annotations

import math

BOUNDARY_HZ = 165.0


def estimate_gender(f0_median_hz: float | None) -> tuple[str | None, float | None]:
    if not f0_median_hz or f0_median_hz <= 0:
        return None, None
    d = 12 * math.log2(f0_median_hz / BOUNDARY_HZ)
    confidence = 0.5 + 0.5 * math.tanh(abs(d) / 3.0)
    return ("Female" if d > 0 else "Male"), round(confidence, 3)


def speaker_genders(rows: list[dict], min_clips: int = 3) -> dict[tuple[str, str], tuple[str, float]]:
    """Per-speaker estimates for speakers whose corpus gives no gender: the median of their clips'
    median F0. One angry or surprised clip can sit well above the boundary (an EmoDB male shouting
    reaches 190 Hz); a speaker's median over several clips does not. Keys are (corpus, speaker_id)."""
    from collections import defaultdict
    from statistics import median

    f0s: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        if r.get("speaker_id") and not (r.get("gender") and r.get("gender_source") != "estimated") and r.get("f0_median_hz"):
            f0s[(r.get("corpus") or "?", r["speaker_id"])].append(float(r["f0_median_hz"]))
    out = {}
    for key, values in f0s.items():
        if len(values) >= min_clips:
            g, conf = estimate_gender(median(values))
            if g:
                out[key] = (g, conf)
    return out
