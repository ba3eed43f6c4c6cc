"""Speaker gender from F0 when the corpus does not say (always marked as estimated downstream).

Adult male speaking F0 clusters around 85-155 Hz, female around 165-255 Hz; the boundary is taken at
165 Hz and the confidence grows with the distance from it in semitones (0.5 at the boundary, about
0.9 at 4 st away). Children and many voices overlap: the confidence says how much to trust it.

A record's gender is never taken from one clip: acted emotion moves a male voice across the boundary (RAVDESS
actor 01 reaches 341 Hz in anger, EmoDB speaker 03 has 25 of 49 clips above 165 Hz). It is estimated per
speaker (a corpus's speaker id, or the voice cluster of a list without ids, ``emotioncot.ingest.speakers``),
from the median of the speaker's clip medians, and stated only at ``MIN_CONFIDENCE`` or above (at least
1.65 st from the boundary: under 150 Hz male, over 182 Hz female, ``stated_range_hz``). EmoDB speaker 03's median, 168 Hz, is
left unstated; RAVDESS actor 01's, 140 Hz, is male (0.87)."""

from __future__ import annotations

import math

BOUNDARY_HZ = 165.0
MIN_CONFIDENCE = 0.75  # below it no gender is stated (per clip in ``analyze``, per speaker in a build)


def estimate_gender(f0_median_hz: float | None) -> tuple[str | None, float | None]:
    if not f0_median_hz or f0_median_hz <= 0:
        return None, None
    d = 12 * math.log2(f0_median_hz / BOUNDARY_HZ)
    confidence = 0.5 + 0.5 * math.tanh(abs(d) / 3.0)
    return ("Female" if d > 0 else "Male"), round(confidence, 3)


def stated_range_hz() -> tuple[int, int]:
    """(male below, female above): whole Hz outside which ``estimate_gender`` reaches ``MIN_CONFIDENCE``, for
    text that states the rule (rounded outward, so that the text never promises a gender the rule withholds)."""
    d = 3.0 * math.atanh(2 * MIN_CONFIDENCE - 1)  # semitones from the boundary at which the confidence is the minimum
    return math.floor(BOUNDARY_HZ * 2 ** (-d / 12)), math.ceil(BOUNDARY_HZ * 2 ** (d / 12))


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


def apply_speaker_genders(rows: list[dict], measurements: list[dict]) -> None:
    """Fill ``gender`` (marked ``gender_source = "estimated"``) per speaker where the row has none (in place):
    rows with a gender from metadata, the speaker model or an override column keep it; a speaker with
    fewer than 3 measured clips, no speaker id, or a median too near the boundary gets none. Only clips whose
    measurement offered an estimate count (``measure.estimate_gender: false`` offers none: no gender at all)."""
    offered = {m["id"] for m in measurements if m.get("estimated_gender_confidence") is not None}
    per_speaker = speaker_genders([r for r in rows if r["id"] in offered])
    from emotioncot.stream import withholds_gender

    for row in rows:
        if row.get("gender") or not row.get("speaker_id") or withholds_gender(row):
            continue
        est = per_speaker.get((row.get("corpus") or "?", row["speaker_id"]))
        if est and est[1] >= MIN_CONFIDENCE:
            row["gender"], row["gender_source"] = est[0], "estimated"
