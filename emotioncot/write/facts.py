"""Which number may be written beside each level: one rule for both writers and the filter.

A level is a judgement of one quantity against the speaker's (or group's) own range. A number quoted beside
it must be that quantity, or the text contradicts itself: EmoDB's files are peak-normalised, so a clip
graded *high* on vocal effort can have the lower level in dBFS, and "forceful (about -17 dBFS)" beside
"soft (about -15 dBFS)" reads as nonsense. The rule, per cue:

| cue | graded on | may be quoted beside the level |
|---|---|---|
| pitch | ``f0_median_hz`` | the median F0 in Hz |
| energy, group peak-normalised (level weight 0) | ``alpha_ratio_db`` | the alpha ratio in dB, named "vocal effort" |
| energy, level counted (level weight > 0) | alpha ratio + weighted level | no number: a composite score has no unit a listener knows, and neither part alone agrees with the level; the text names vocal effort in words |
| energy, whispered | the whisper rule | no number |
| speed | ``articulation_rate_sps`` (pauses excluded) | the articulation rate in syllables per second |

Descriptive facts that carry no level may also be quoted, with no direction word: the pause count and total
pause time, the clip's duration, and (LLM prompt only) the F0 range in semitones. The level in dBFS is
never quoted beside an energy level. ``docs/writing.md`` documents the rule; ``emotioncot.filter.numeric``
enforces it on any text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# How each cue's level is graded, from Levels.energy_basis (written by the calibrate stage).
ENERGY_BASIS_ALPHA = "alpha_ratio"
ENERGY_BASIS_EFFORT = "vocal_effort"
ENERGY_BASIS_WHISPER = "whisper"

LEVEL_FIELDS = {"pitch": "pitch_level", "energy": "energy_level", "speed": "speed_level"}


@dataclass(frozen=True)
class Fact:
    cue: str  # pitch | energy | speed (graded) or pauses | pause_time | duration | range (descriptive)
    field: str  # the record field the value comes from
    value: float
    unit: str  # as written in text
    decimals: int
    name: str  # what the number is, in words

    @property
    def text(self) -> str:
        if self.decimals == 0:
            return f"{self.value:.0f} {self.unit}"
        return f"{self.value:.{self.decimals}f} {self.unit}"


def _number(record: dict, field: str) -> float | None:
    value = record.get(field)
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def graded_fact(record: dict, cue: str) -> Fact | None:
    """The one number that may be written beside ``cue``'s level, or None (no level, or nothing quotable)."""
    if not record.get(LEVEL_FIELDS[cue]):
        return None
    if cue == "pitch":
        v = _number(record, "f0_median_hz")
        return Fact("pitch", "f0_median_hz", v, "Hz", 0, "median F0") if v is not None else None
    if cue == "speed":
        v = _number(record, "articulation_rate_sps")
        return (Fact("speed", "articulation_rate_sps", v, "syllables per second", 1, "articulation rate, pauses excluded")
                if v is not None else None)
    if record.get("energy_basis") == ENERGY_BASIS_ALPHA:
        v = _number(record, "alpha_ratio_db")
        return Fact("energy", "alpha_ratio_db", v, "dB", 1, "alpha ratio") if v is not None else None
    return None


def energy_basis_words(record: dict) -> str:
    """What the energy level was judged on, in words (for the prompt)."""
    return {
        ENERGY_BASIS_ALPHA: "vocal effort (alpha ratio: energy above 1 kHz relative to below); the recording "
                            "level is ignored because the files are peak-normalised",
        ENERGY_BASIS_EFFORT: "vocal effort (alpha ratio combined with the speech level); no single number states it",
        ENERGY_BASIS_WHISPER: "whispered: no voicing, so vocal effort counts as low",
    }.get(record.get("energy_basis") or "", "vocal effort")


def descriptive_facts(record: dict, with_range: bool = False) -> dict[str, Fact]:
    """Facts with no level, quotable without direction words."""
    out: dict[str, Fact] = {}
    pauses = record.get("pause_count")
    if pauses is not None:
        out["pauses"] = Fact("pauses", "pause_count", float(pauses), "pauses", 0, "pauses")
        total = _number(record, "pause_total_s")
        if pauses and total is not None:
            out["pause_time"] = Fact("pause_time", "pause_total_s", total, "s", 2, "total pause time")
    duration = _number(record, "duration_s")
    if duration is not None:
        out["duration"] = Fact("duration", "duration_s", duration, "seconds", 1, "duration")
    rng = _number(record, "f0_range_st")
    if with_range and rng is not None:
        out["range"] = Fact("range", "f0_range_st", rng, "semitones", 1, "pitch range (5th to 95th percentile)")
    return out


# The filter's side of the rule: a number with this unit may be any of these measured quantities.
# Energy in dBFS is measured but never quotable beside an energy level; numeric.py says so.
QUANTITIES_BY_UNIT: dict[str, tuple[str, ...]] = {
    "Hz": ("f0_median_hz", "f0_p5_hz", "f0_p95_hz"),
    "semitones": ("f0_range_st", "f0_std_st"),
    "dB": ("alpha_ratio_db", "snr_db", "hnr_db"),
    "dBFS": ("energy_dbfs", "peak_dbfs"),
    "sps": ("articulation_rate_sps", "speaking_rate_sps"),
    "s": ("duration_s", "speech_s", "pause_total_s"),
    "pauses": ("pause_count",),
}
# The cue a number of this unit speaks about when its sentence states that cue's level.
UNIT_CUE = {"Hz": "pitch", "dB": "energy", "dBFS": "energy", "sps": "speed"}


def level_reference(record: dict) -> tuple[str, str | None]:
    """What the record's levels were graded against, from its ``level_group`` (calibrate/levels.py): one of
    "speaker" (thresholds fitted on this speaker's own clips), "corpus_gender", "corpus", "global" or
    "mixed" (different cues against different groups, or no group recorded), and the gender word
    "corpus_gender" needs. Writers say "for this speaker" only for "speaker"; the filter holds them to it."""
    group = record.get("level_group") or ""
    if not group or " + " in group:
        return "mixed", None
    if group == "global":
        return "global", None
    if "/speaker=" in group:
        return "speaker", None
    if "/gender=" in group:
        gender = {"Male": "male", "Female": "female"}.get(group.split("/gender=", 1)[1])
        return ("corpus_gender", gender) if gender else ("corpus", None)
    return "corpus", None
