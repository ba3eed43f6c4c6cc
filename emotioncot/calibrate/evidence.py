"""The evidence table: which level of each cue counts for, against or neither way for each emotion.

A writer that weighs cues against a fixed profile argues against the data: levels are cut per speaker over
clips of all emotions, so a speaker's neutral clips are the low and slow ones, and a profile that expects
neutral to be "normal" everywhere called a cue against neutral in every neutral rationale of a real build.
The table is read from the build's own emotion-by-level counts instead, per corpus, for every emotion with
at least ``min_clips`` clips there; an emotion with fewer clips (or a cue measured on fewer) takes the
documented prior in ``manifests/evidence_prior.yaml`` (Banse & Scherer 1996; Juslin & Laukka 2003).

A level counts *for* an emotion when the emotion's clips take it clearly more often than the corpus's other
labelled clips (smoothed share ratio >= ``lift``, at least two clips), *against* when clearly less often
(ratio <= 1/``lift``, and the other clips take it at least twice), and in either case only where the difference
is more than the clips' number could make by chance (one-sided Fisher exact test, p <= ``alpha``). Where the
clips show no such difference at a level, the level keeps the prior's stance unless the clips lean the other way
(then it counts neither way), and the cue's source says ``data and prior``. Without the test a class of seven clips
with four slow ones, against ten of the other 37, read as "the unhurried pace points toward a cheerful tone" (EmoDB
speaker 03, happy; one-sided p = 0.13; the prior has slow against happy); and with the test alone, the same
speaker's angry clips, eight of fourteen high against eight of his other 30 (p = 0.054), counted high pitch neither
way, though it is the first mark of anger in the literature.

``fit_thresholds`` saves the table in thresholds.json (key ``evidence``); the template and LLM writers, the
filter's ``argument`` check, the offline grader, the report and the card all read it from there.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from math import exp, lgamma
from pathlib import Path

import yaml

from emotioncot.config import project_root
from emotioncot.taxonomy import EMOTIONS, ENERGY_LEVELS, PITCH_LEVELS, SPEED_LEVELS

FOR, AGAINST, NEUTRAL = "for", "against", "neutral"
CUE_FIELDS = {"pitch": "pitch_level", "energy": "energy_level", "speed": "speed_level", "intonation": "intonation"}
# the levels a cue can be weighed on ("uncertain" and "too_short" contours are no statement about the voice)
CUE_LEVELS: dict[str, tuple[str, ...]] = {
    "pitch": PITCH_LEVELS, "energy": ENERGY_LEVELS, "speed": SPEED_LEVELS,
    "intonation": ("rising", "falling", "rising-falling", "falling-rising", "flat", "expressive"),
}
_SMOOTH = 0.5  # pseudo-count per level: a class of five clips never gets a share of exactly 0 or 1


class EvidenceError(ValueError):
    """The prior file is malformed; the message names the file."""


def prior_path() -> Path:
    return project_root() / "manifests" / "evidence_prior.yaml"


@lru_cache(maxsize=None)
def load_prior(path: str | None = None) -> dict:
    """The prior as ``{"sources": {key: text}, "emotions": {emotion: {"source", "note", "stances": {cue: {level: stance}}}}}``."""
    file = Path(path) if path else prior_path()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise EvidenceError(f"{file}: cannot read the evidence prior ({exc})") from None
    sources = data.get("sources") or {}
    emotions: dict[str, dict] = {}
    for emotion in EMOTIONS:
        entry = (data.get("emotions") or {}).get(emotion)
        if entry is None:
            raise EvidenceError(f"{file}: no prior for emotion {emotion!r}")
        if entry.get("source") not in sources:
            raise EvidenceError(f"{file}: {emotion}: source {entry.get('source')!r} is not one of {sorted(sources)}")
        stances = {cue: {lv: NEUTRAL for lv in levels} for cue, levels in CUE_LEVELS.items()}
        for cue, sides in entry.items():
            if cue in ("source", "note"):
                continue
            if cue not in CUE_LEVELS:
                raise EvidenceError(f"{file}: {emotion}: unknown cue {cue!r}")
            for side in (FOR, AGAINST):
                for level in (sides or {}).get(side) or []:
                    if level not in CUE_LEVELS[cue]:
                        raise EvidenceError(f"{file}: {emotion}: {cue} level {level!r} is not one of {CUE_LEVELS[cue]}")
                    stances[cue][level] = side
        emotions[emotion] = {"source": entry["source"], "note": str(entry.get("note") or "").strip(), "stances": stances}
    return {"sources": {k: " ".join(str(v).split()) for k, v in sources.items()}, "emotions": emotions}


def _chance(own_at: int, n_own: int, rest_at: int, n_rest: int, side: str) -> float:
    """One-sided Fisher exact p of the emotion's clips taking a level more (``FOR``) or less often than the
    others do: the hypergeometric tail from ``own_at`` up (down), summed until its terms no longer count. Written
    out because ``scipy.stats`` costs the calibrate stage 0.7 s and 70 MB to import; the test holds it to
    scipy's ``fisher_exact``."""
    total, at_level = n_own + n_rest, own_at + rest_at
    low, high = max(0, n_own - (total - at_level)), min(n_own, at_level)

    def log_choose(n: int, k: int) -> float:
        return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)

    term = exp(log_choose(at_level, own_at) + log_choose(total - at_level, n_own - own_at) - log_choose(total, n_own))
    p, x, step = 0.0, own_at, 1 if side == FOR else -1
    while low <= x <= high:
        p += term
        if term < p * 1e-17:
            break
        if step > 0:  # P(x + 1) / P(x)
            term *= (at_level - x) * (n_own - x) / ((x + 1) * (total - at_level - n_own + x + 1))
        else:  # P(x - 1) / P(x)
            term *= x * (total - at_level - n_own + x) / ((at_level - x + 1) * (n_own - x + 1))
        x += step
    return min(1.0, p)


def _data_stances(own: Counter, rest: Counter, levels: tuple[str, ...], lift: float, alpha: float,
                  prior: dict[str, str]) -> tuple[dict[str, str], bool]:
    """Per level, the stance the clips show; where they show none beyond chance, the prior's, unless the clips lean
    the other way (then neither). Also whether any level took the prior's stance."""
    n_own, n_rest, k = sum(own.values()), sum(rest.values()), len(levels)
    out, from_prior = {}, False
    for level in levels:
        share_own = (own[level] + _SMOOTH) / (n_own + _SMOOTH * k)
        share_rest = (rest[level] + _SMOOTH) / (n_rest + _SMOOTH * k)
        ratio = share_own / share_rest
        side = NEUTRAL
        if ratio >= lift and own[level] >= 2:
            side = FOR
        elif ratio <= 1 / lift and rest[level] >= 2:
            side = AGAINST
        if side == NEUTRAL or _chance(own[level], n_own, rest[level], n_rest, side) > alpha:
            # no difference beyond chance: the literature's stance, where these clips do not lean against it
            side = prior.get(level, NEUTRAL)
            if (side == FOR and ratio < 1) or (side == AGAINST and ratio > 1):
                side = NEUTRAL
            from_prior = from_prior or side != NEUTRAL
        out[level] = side
    return out, from_prior


def fit_evidence(rows: list[dict], levels: list[dict], min_clips: int = 5, lift: float = 1.5,
                 alpha: float = 0.05) -> dict:
    """The table from joined rows (``corpus``, ``emotion``, ``intonation``) and their levels (by ``id``).
    Clips without a taxonomy class are left out: they are in the calibration baseline, not in any class."""
    tally = EvidenceTally()
    tally.add(rows, levels)
    return tally.table(min_clips, lift, alpha)


class EvidenceTally:
    """The counts behind the evidence table (clips per corpus and emotion at each level of each cue), fed batch
    by batch: rows and their levels (by ``id``)."""

    def __init__(self):
        self.counts: dict[str, dict[str, dict[str, Counter]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(Counter)))
        self.clips: dict[str, Counter] = defaultdict(Counter)

    def add(self, rows: list[dict], levels: list[dict]) -> None:
        by_id = {lv["id"]: lv for lv in levels}
        for row in rows:
            emotion = row.get("emotion")
            if emotion not in EMOTIONS:
                continue
            corpus = row.get("corpus") or "?"
            self.clips[corpus][emotion] += 1
            merged = {**row, **by_id.get(row["id"], {})}
            for cue, fld in CUE_FIELDS.items():
                if merged.get(fld) in CUE_LEVELS[cue]:
                    self.counts[corpus][emotion][cue][merged[fld]] += 1

    def table(self, min_clips: int = 5, lift: float = 1.5, alpha: float = 0.05) -> dict:
        counts, clips = self.counts, self.clips
        prior = load_prior()
        corpora: dict[str, dict] = {}
        for corpus in sorted(clips):
            table = {}
            for emotion in (e for e in EMOTIONS if clips[corpus][e]):
                stances, sources = {}, {}
                for cue, cue_levels in CUE_LEVELS.items():
                    own = counts[corpus][emotion][cue]
                    if sum(own.values()) >= min_clips:
                        rest = sum((counts[corpus][e][cue] for e in counts[corpus] if e != emotion), Counter())
                        prior_stances = prior["emotions"][emotion]["stances"][cue]
                        stances[cue], mixed = _data_stances(own, rest, cue_levels, lift, alpha, prior_stances)
                        sources[cue] = "data and prior" if mixed else "data"
                    else:
                        stances[cue], sources[cue] = dict(prior["emotions"][emotion]["stances"][cue]), "prior"
                table[emotion] = {
                    "clips": clips[corpus][emotion],
                    "sources": sources,
                    "counts": {cue: {lv: counts[corpus][emotion][cue][lv] for lv in cue_levels
                                     if counts[corpus][emotion][cue][lv]} for cue, cue_levels in CUE_LEVELS.items()},
                    "stances": stances,
                }
            corpora[corpus] = table
        return {"min_clips": min_clips, "lift": lift, "alpha": alpha, "prior": "manifests/evidence_prior.yaml",
                "corpora": corpora}


def evidence_of(thresholds: dict | None) -> dict:
    """The table saved in a thresholds dict, or an empty one (every lookup then takes the prior): a
    thresholds file fitted before the table existed still writes and filters."""
    return (thresholds or {}).get("evidence") or {"corpora": {}}


def load_evidence(thresholds_path: Path | str) -> dict:
    """``evidence_of`` the thresholds.json at ``thresholds_path`` (absent: the prior only)."""
    import json

    path = Path(thresholds_path)
    return evidence_of(json.loads(path.read_text(encoding="utf-8")) if path.exists() else None)


def stances_for(evidence: dict | None, corpus: str | None, emotion: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """(cue -> level -> stance, cue -> "data" | "prior") for ``emotion`` in ``corpus``."""
    entry = ((evidence or {}).get("corpora") or {}).get(corpus or "?", {}).get(emotion)
    if entry:
        return entry["stances"], entry["sources"]
    return load_prior()["emotions"][emotion]["stances"], {cue: "prior" for cue in CUE_LEVELS}


@dataclass
class Case:
    """The record's measured cues sorted by what the table says they do for one emotion."""
    emotion: str
    supporting: list[tuple[str, str]] = field(default_factory=list)  # (cue, level)
    opposing: list[tuple[str, str]] = field(default_factory=list)
    neutral: list[tuple[str, str]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def strength(self) -> str:
        """clear: two or more cues for and none against; mixed: cues on both sides, no fewer for than against;
        weak: anything less (no cue for, a single one, or more against than for)."""
        n_for, n_against = len(self.supporting), len(self.opposing)
        if n_for >= 2 and n_against == 0:
            return "clear"
        if n_for >= 1 and n_against >= 1 and n_for >= n_against:
            return "mixed"
        return "weak"

    def stance(self, cue: str) -> str | None:
        for side, items in ((FOR, self.supporting), (AGAINST, self.opposing), (NEUTRAL, self.neutral)):
            if any(c == cue for c, _ in items):
                return side
        return None


def measured_levels(record: dict) -> dict[str, str]:
    """cue -> level for every cue the record has a weighable level for."""
    return {cue: record[fld] for cue, fld in CUE_FIELDS.items() if record.get(fld) in CUE_LEVELS[cue]}


def weigh(record: dict, emotion: str, evidence: dict | None = None) -> Case:
    """The case the record's levels make for ``emotion`` under the table (the prior where it has none)."""
    stances, sources = stances_for(evidence, record.get("corpus"), emotion)
    case = Case(emotion, sources=sources)
    for cue, level in measured_levels(record).items():
        side = stances[cue].get(level, NEUTRAL)
        {FOR: case.supporting, AGAINST: case.opposing}.get(side, case.neutral).append((cue, level))
    return case


# ------------------------------------------------------------------------------------------- display

def sign_cells(entry: dict) -> list[str]:
    """One cell per cue for one emotion's table entry: "+high -low (data)"; "·" where no level counts either way."""
    cells = []
    for cue in CUE_LEVELS:
        st = entry["stances"][cue]
        signs = [f"+{lv}" for lv, s in st.items() if s == FOR] + [f"-{lv}" for lv, s in st.items() if s == AGAINST]
        cells.append(f"{' '.join(signs) or '·'} ({entry['sources'][cue]})")
    return cells


def markdown(evidence: dict | None) -> str:
    """One Markdown table per corpus: emotion x cue, the levels for (+) and against (-) it, where they come from."""
    corpora = (evidence or {}).get("corpora") or {}
    if not corpora:
        return "_no evidence table: every cue is weighed by the documented prior (manifests/evidence_prior.yaml)_"
    out = []
    for corpus, table in corpora.items():
        out += [f"**{corpus}**", "", "| emotion | clips | " + " | ".join(CUE_LEVELS) + " |", "|---|---|" + "---|" * len(CUE_LEVELS)]
        for emotion, entry in table.items():
            out.append(f"| {emotion} | {entry['clips']} | " + " | ".join(sign_cells(entry)) + " |")
        out.append("")
    return "\n".join(out).rstrip()


_CUE_NOUN = {"pitch": "pitch", "energy": "vocal effort", "speed": "tempo", "intonation": "contour"}


def case_words(case: Case) -> str:
    """This clip's case for one emotion in words, for a label-aware prompt: the cues on each side and how
    strong the case is, so that an LLM weighs cues as the table does."""
    def named(items):
        return ", ".join(f"{level} {_CUE_NOUN[cue]}" for cue, level in items) or "none"

    return (f"cues for it: {named(case.supporting)}; cues against it: {named(case.opposing)}; "
            f"neither way: {named(case.neutral)}. The case from the voice is {case.strength} "
            f"({len(case.supporting)} for, {len(case.opposing)} against).")


def prompt_lines(evidence: dict | None, record: dict, emotions: tuple[str, ...] = EMOTIONS) -> str:
    """The table for one record's corpus, one line per emotion, for the LLM prompt."""
    lines = []
    for emotion in emotions:
        stances, sources = stances_for(evidence, record.get("corpus"), emotion)
        parts = []
        for cue in CUE_LEVELS:
            plus = [lv for lv, s in stances[cue].items() if s == FOR]
            minus = [lv for lv, s in stances[cue].items() if s == AGAINST]
            if plus or minus:
                parts.append(f"{cue}: for {', '.join(plus) or '-'}; against {', '.join(minus) or '-'}")
        origin = ("the literature prior" if set(sources.values()) == {"prior"} else "this corpus's clips"
                  if set(sources.values()) == {"data"} else "this corpus's clips; the literature prior where they "
                  "are too few or show no difference")
        lines.append(f"- {emotion} ({origin}): " + (" | ".join(parts) or "no level counts either way"))
    return "\n".join(lines)
