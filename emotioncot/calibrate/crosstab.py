"""Emotion by level: how many clips of each emotion came out at each level of a cue.

The quickest check that calibration did what a listener expects (angry clips loud, sad clips slow), shown
in the calibration report and the dataset card, and used by the explorer report."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from emotioncot.taxonomy import EMOTIONS, ENERGY_LEVELS, INTONATIONS, PITCH_LEVELS, SPEED_LEVELS

CUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pitch": ("pitch_level", PITCH_LEVELS),
    "energy": ("energy_level", ENERGY_LEVELS),
    "speed": ("speed_level", SPEED_LEVELS),
    "intonation": ("intonation", INTONATIONS),
}
# the same, as two maps (the explorer report reads these)
CUE_FIELDS = {cue: field for cue, (field, _) in CUES.items()}
CUE_LEVELS = {cue: levels for cue, (_, levels) in CUES.items()}
NOT_MEASURED = "not measured"
NO_CLASS = "(no class)"


def emotion_by_level(table: pd.DataFrame, cue: str) -> pd.DataFrame:
    """Counts with one row per emotion (taxonomy order, then rows without a class) and one column per level
    of ``cue`` (its vocabulary order, then ``not measured`` for null levels). Levels and emotions with no clip
    are left out; an empty table gives an empty frame."""
    if cue not in CUES:
        raise ValueError(f"unknown cue {cue!r}; one of {', '.join(CUES)}")
    field, _ = CUES[cue]
    if table.empty or field not in table or "emotion" not in table:
        return pd.DataFrame(dtype=int)
    emotions = table["emotion"].astype(object).where(table["emotion"].notna(), None)
    levels = table[field].astype(object).where(table[field].notna(), None)
    return counts_frame(Counter(zip(emotions, levels)), cue)


def counts_frame(counts: Counter, cue: str) -> pd.DataFrame:
    """``emotion_by_level`` from counts of (emotion, level) pairs (None: no class / not measured), so that a
    streamed table can be tallied batch by batch."""
    field, order = CUES[cue]
    cells: Counter = Counter()
    for (emotion, level), n in counts.items():
        if n:
            cells[(NO_CLASS if emotion is None else emotion, NOT_MEASURED if level is None else level)] += n
    if not cells:
        return pd.DataFrame(dtype=int)
    index = {e for e, _ in cells}
    columns = {lv for _, lv in cells}
    rows = [e for e in (*EMOTIONS, NO_CLASS) if e in index] + sorted(str(e) for e in index if e not in (*EMOTIONS, NO_CLASS))
    cols = [lv for lv in (*order, NOT_MEASURED) if lv in columns] + sorted(
        str(c) for c in columns if c not in (*order, NOT_MEASURED))
    out = pd.DataFrame([[cells.get((e, c), 0) for c in cols] for e in rows], index=rows, columns=cols).astype(int)
    out.index.name, out.columns.name = "emotion", field
    return out


def markdown(frame: pd.DataFrame) -> str:
    """A Markdown table of ``emotion_by_level``'s frame."""
    if frame.empty:
        return "_no records_"
    header = [frame.index.name or "", *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([str(idx), *(str(v) for v in row)]) + " |" for idx, row in zip(frame.index, frame.values)]
    return "\n".join(lines)


def text(frame: pd.DataFrame) -> str:
    """A fixed-width text table (for the calibration report)."""
    if frame.empty:
        return "  (no records)"
    width = max(len(str(i)) for i in frame.index)
    cols = [str(c) for c in frame.columns]
    lines = ["  " + " " * width + "  " + "  ".join(f"{c:>{max(6, len(c))}s}" for c in cols)]
    for idx, row in zip(frame.index, frame.values):
        lines.append(f"  {str(idx):{width}s}  " + "  ".join(f"{v:>{max(6, len(c))}d}" for c, v in zip(cols, row)))
    return "\n".join(lines)
