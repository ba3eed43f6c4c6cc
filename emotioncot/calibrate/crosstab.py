"""Emotion by level: how often each emotion got each level of a cue (pitch, energy, speed, intonation).

The table a researcher reads first to see whether the calibrated levels carry emotion at all (anger
louder than sadness, and so on); the explorer report draws it as a heat map.
"""

from __future__ import annotations

import pandas as pd

from emotioncot.taxonomy import EMOTIONS, ENERGY_LEVELS, INTONATIONS, PITCH_LEVELS, SPEED_LEVELS

CUE_FIELDS = {"pitch": "pitch_level", "energy": "energy_level", "speed": "speed_level", "intonation": "intonation"}
CUE_LEVELS = {"pitch": PITCH_LEVELS, "energy": ENERGY_LEVELS, "speed": SPEED_LEVELS, "intonation": INTONATIONS}


def emotion_by_level(table: pd.DataFrame, cue: str) -> pd.DataFrame:
    """Counts of records per emotion (rows) and level of ``cue`` (columns).

    Rows follow the taxonomy order, then any other label; columns follow the cue's level order, then any
    other value. Records without an emotion or without a level for the cue (not measurable) are not
    counted. Levels no record has are left out, as are emotions with no counted record."""
    if cue not in CUE_FIELDS:
        raise ValueError(f"unknown cue {cue!r}; expected one of {', '.join(CUE_FIELDS)}")
    field = CUE_FIELDS[cue]
    for column in ("emotion", field):
        if column not in table.columns:
            raise ValueError(f"emotion_by_level: the table has no {column!r} column")
    rows = table[["emotion", field]].dropna()
    rows = rows[(rows["emotion"] != "") & (rows[field] != "")]
    counts = pd.crosstab(rows["emotion"], rows[field]) if len(rows) else pd.DataFrame()
    emotions = [e for e in EMOTIONS if e in counts.index] + sorted(str(e) for e in counts.index if e not in EMOTIONS)
    levels = [lv for lv in CUE_LEVELS[cue] if lv in counts.columns]
    levels += sorted(str(lv) for lv in counts.columns if lv not in CUE_LEVELS[cue])
    out = counts.reindex(index=emotions, columns=levels, fill_value=0).astype(int)
    out.index.name, out.columns.name = "emotion", field
    return out
