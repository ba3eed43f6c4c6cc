"""Percentile cut points per calibration group, and level labelling ("fit once, apply many").

Groups, finest first: per speaker (a speaker's angry pitch is high *for that speaker*), per corpus and
gender, per corpus, and one global group of every row. ``group_by`` picks the finest level used; a group
with too few reliable values for a feature, or one a thresholds file does not hold, falls back to the next
coarser one, and the record says so (``level_group``, ``level_fallback``). A record none of whose groups
a thresholds file holds cannot be graded: ``uncovered_groups`` names them so the build can fail.

Every measured clip of a group is in its baseline, including clips whose label the taxonomy excludes
(EmoDB boredom, RAVDESS calm): they are the speaker's real speech, and a baseline that left out a
speaker's low-arousal clips would call their ordinary voice low.

Energy is graded by vocal effort, not by level alone: ``vocal_effort_db = alpha_ratio_db +
level_weight * energy_dbfs``. Alpha ratio (energy above 1 kHz over below) rises with vocal effort and
survives gain and peak normalisation; the active level adds what a listener hears as loudness where the
recording level means something. A group whose files are peak-normalised (nearly all peaks within 1 dB
of full scale, as in EmoDB) has level_weight 0: its level in dBFS reflects the normalisation, not the
voice. See docs/measurement.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from emotioncot.calibrate.evidence import EvidenceTally
from emotioncot.calibrate.reliability import check, valid
from emotioncot.config import CalibrateConfig
from emotioncot.workspace import stable_hash

THRESHOLDS_FORMAT = 2
MODES = ("speaker", "corpus_gender", "corpus", "global")  # finest first
GLOBAL = "global"

# level column -> (value it is cut from, names of the three bins)
LEVEL_FEATURES: dict[str, tuple[str, tuple[str, str, str]]] = {
    "pitch_level": ("f0_median_hz", ("low", "normal", "high")),
    "energy_level": ("vocal_effort_db", ("low", "normal", "high")),
    "speed_level": ("articulation_rate_sps", ("slow", "normal", "fast")),
}


def group_key(row: dict, mode: str) -> str | None:
    corpus = row.get("corpus") or "?"
    if mode == "speaker":
        return f"{corpus}/speaker={row['speaker_id']}" if row.get("speaker_id") else None
    if mode == "corpus_gender":
        return f"{corpus}/gender={row.get('gender') or 'unknown'}"
    if mode == GLOBAL:
        return GLOBAL
    return corpus


def _chain(mode: str) -> tuple[str, ...]:
    return MODES[MODES.index(mode):]


def peak_normalised(peaks: list[float]) -> bool:
    """Nearly every file peaks within 1 dB of full scale: the corpus was peak-normalised."""
    return len(peaks) >= 3 and float(np.mean(np.array(peaks) > -1.0)) >= 0.9


def vocal_effort(row: dict, level_weight: float) -> float | None:
    alpha, level = row.get("alpha_ratio_db"), row.get("energy_dbfs")
    if not valid(alpha):
        return None
    if level_weight and not valid(level):
        return None
    return float(alpha + (level_weight * level if level_weight else 0.0))


WHISPER_REASON = "unvoiced (whispered) speech: no phonation, so vocal effort is low whatever the level"


def whispered(row: dict, config: CalibrateConfig) -> bool:
    """Clean speech with (almost) no voicing: a whisper. Its alpha ratio is high (breath noise has a flat
    spectrum) but a listener calls it soft, so it is graded low instead of by alpha ratio."""
    vf, snr, sp = row.get("voiced_fraction"), row.get("snr_db"), row.get("speech_s")
    return (valid(vf) and vf < config.min_voiced_fraction and valid(sp) and sp >= config.min_speech_s
            and (not valid(snr) or snr >= config.min_snr_db) and not row.get("error"))


def fit_thresholds(rows: list[dict], config: CalibrateConfig | None = None) -> dict:
    """Cut points per group and feature, from rows joining utterance and measurement fields.
    Returns a JSON-able dict (``version``, ``group_by``, ``groups`` ...) for ``apply_thresholds``."""
    config = config or CalibrateConfig()
    fit = ThresholdFit(config)
    fit.add(rows)
    thresholds = fit.thresholds()
    evidence = EvidenceTally()
    evidence.add(rows, apply_thresholds(rows, thresholds))
    return with_evidence(thresholds, evidence, config)


def with_evidence(thresholds: dict, evidence: "EvidenceTally", config: CalibrateConfig) -> dict:
    """The thresholds with their evidence table and version (the hash of everything else)."""
    # which levels count for or against each emotion, read from the levels these cuts give (writers, the
    # filter and the grader weigh cues by it; saved here so that it lands in thresholds.json)
    thresholds["evidence"] = evidence.table(config.evidence_min_clips, config.evidence_lift, config.evidence_alpha)
    thresholds["version"] = stable_hash(thresholds, length=12)
    return thresholds


class ThresholdFit:
    """The cut points' fit fed batch by batch (a build streams its rows through ``add``), holding per calibration
    bucket (a row's groups at every level of ``MODES``) only the numbers the fit needs: per level feature the
    reliable values (and for vocal effort its two parts, since a group's level weight is known only at the end),
    the emotion of each value's clip and the count of clips left out. About 40 bytes a row."""

    def __init__(self, config: CalibrateConfig):
        self.config = config
        self.features = level_features(config)
        self.buckets: dict[tuple, dict] = {}
        self.rows = 0
        self.with_speaker = 0
        self.emotion_codes: dict[str, int] = {}

    def _bucket(self, key: tuple) -> dict:
        bucket = self.buckets.get(key)
        if bucket is None:
            from array import array

            bucket = {"peaks": array("d")}
            for level, (feature, _) in self.features.items():
                bucket[level] = {"a": array("d"), "b": array("d"), "emotion": array("B"), "out": 0}
            self.buckets[key] = bucket
        return bucket

    def add(self, rows: list[dict]) -> None:
        config = self.config
        nan = float("nan")
        for r in rows:
            self.rows += 1
            self.with_speaker += bool(r.get("speaker_id"))
            bucket = self._bucket(tuple(group_key(r, m) for m in MODES))
            if valid(r.get("peak_dbfs")):
                bucket["peaks"].append(float(r["peak_dbfs"]))
            name = r.get("emotion") or "unlabelled"
            code = self.emotion_codes.setdefault(name, len(self.emotion_codes))
            for level, (feature, _) in self.features.items():
                slot = bucket[level]
                if check(r, level, config) is not None or (level == "energy_level" and whispered(r, config)):
                    slot["out"] += 1
                    continue
                if feature == "vocal_effort_db":
                    alpha, db = r.get("alpha_ratio_db"), r.get("energy_dbfs")
                    if not valid(alpha):
                        slot["out"] += 1
                        continue
                    slot["a"].append(float(alpha))
                    slot["b"].append(float(db) if valid(db) else nan)
                else:
                    v = r.get(feature)
                    if not valid(v):
                        slot["out"] += 1
                        continue
                    slot["a"].append(float(v))
                slot["emotion"].append(code)

    def mode(self) -> str:
        if self.config.group_by != "auto":
            return self.config.group_by
        return "speaker" if self.rows and self.with_speaker >= 0.5 * self.rows else "corpus_gender"

    def members(self, chain) -> dict[str, list[dict]]:
        """The buckets of each group of the ``chain``'s levels."""
        members: dict[str, list[dict]] = defaultdict(list)
        for key, bucket in self.buckets.items():
            for m in chain:
                group = key[MODES.index(m)]
                if group is not None:
                    members[group].append(bucket)
        return members

    def group_weight(self, buckets: list[dict]) -> tuple[float, bool]:
        peaks = np.concatenate([np.frombuffer(b["peaks"], dtype=np.float64) for b in buckets])
        normalised = peak_normalised(peaks.tolist())
        return (0.0 if normalised else self.config.level_weight), normalised

    def values(self, buckets: list[dict], level: str, weight: float) -> tuple[np.ndarray, np.ndarray, int]:
        """A group's reliable values of ``level``'s feature (what its cut points are fitted on), the emotion codes
        of their clips, and how many clips were left out."""
        feature = self.features[level][0]
        slots = [b[level] for b in buckets]
        a = np.concatenate([np.frombuffer(s["a"], dtype=np.float64) for s in slots])
        codes = np.concatenate([np.frombuffer(s["emotion"], dtype=np.uint8) for s in slots])
        excluded = sum(s["out"] for s in slots)
        if feature != "vocal_effort_db":
            return a, codes, excluded
        if not weight:
            return a + 0.0, codes, excluded
        b = np.concatenate([np.frombuffer(s["b"], dtype=np.float64) for s in slots])
        keep = ~np.isnan(b)
        return a[keep] + weight * b[keep], codes[keep], excluded + int((~keep).sum())

    def thresholds(self) -> dict:
        """The cut points of every group (without the evidence table and version: ``with_evidence``)."""
        config = self.config
        mode = self.mode()
        chain = _chain(mode)
        members = self.members(chain)
        names = {code: name for name, code in self.emotion_codes.items()}
        groups: dict[str, dict] = {}
        for key in sorted(members):
            buckets = members[key]
            weight, normalised = self.group_weight(buckets)
            entry: dict = {}
            for level, (feature, _) in self.features.items():
                vals, codes, excluded = self.values(buckets, level, weight)
                if len(vals) < config.min_group_size:
                    continue
                stats = np.percentile(vals, [0, 25, 50, 75, 100])
                mix = Counter({names[c]: int(n) for c, n in enumerate(np.bincount(codes)) if n})
                entry[feature] = {
                    "cuts": [float(np.quantile(vals, q)) for q in config.quantiles],
                    "n": int(len(vals)),
                    "excluded": excluded,
                    "summary": [round(float(s), 4) for s in stats],
                    # the emotions the cuts were fitted on: cuts from a batch without, say, its sad clips sit
                    # elsewhere, so a reader can see what "slow" or "high" is relative to
                    "emotions": dict(sorted(mix.items())),
                }
                if feature == "vocal_effort_db":
                    entry[feature].update(level_weight=weight, peak_normalised=normalised)
            if entry:
                groups[key] = entry
        return {
            "format": THRESHOLDS_FORMAT,
            "group_by": mode,
            "fallback": list(chain),
            "quantiles": list(config.quantiles),
            "features": {level: feature for level, (feature, _) in self.features.items()},
            "reliability": {
                "min_voiced_fraction": config.min_voiced_fraction, "min_snr_db": config.min_snr_db,
                "min_speech_s": config.min_speech_s, "rate_range_sps": list(config.rate_range_sps),
            },
            "groups": groups,
        }


def level_features(config: CalibrateConfig) -> dict[str, tuple[str, tuple[str, str, str]]]:
    """LEVEL_FEATURES with the speed feature the config picks (``speed_feature``: syllables per second,
    or ``relative_rate``, speed against eSpeak NG's reading of the same text)."""
    out = dict(LEVEL_FEATURES)
    out["speed_level"] = (config.speed_feature, LEVEL_FEATURES["speed_level"][1])
    return out


def _config_from(thresholds: dict) -> CalibrateConfig:
    rel = thresholds.get("reliability", {})
    cfg = CalibrateConfig()
    update = {k: (tuple(v) if isinstance(v, list) else v) for k, v in rel.items()}
    update["speed_feature"] = thresholds.get("features", {}).get("speed_level", "articulation_rate_sps")
    return cfg.model_copy(update=update)


def apply_thresholds(rows: list[dict], thresholds: dict) -> list[dict]:
    """One ``Levels`` row per input row. A level that cannot be given is None with its reason."""
    if "groups" not in thresholds or "group_by" not in thresholds:
        raise ValueError("not an emotioncot thresholds file (no 'groups' / 'group_by')")
    cfg = _config_from(thresholds)
    chain = _file_chain(thresholds)
    groups = thresholds["groups"]
    out = []
    for row in rows:
        levels: dict = {"id": row["id"], "level_reasons": {}, "energy_basis": None}
        used: list[str] = []
        fell_back: dict[str, str] = {}
        finest = next((k for k in (group_key(row, m) for m in chain) if k is not None), None)
        for level, (feature, names) in level_features(cfg).items():
            if level == "energy_level" and whispered(row, cfg):
                levels[level] = names[0]
                levels["level_reasons"][level] = WHISPER_REASON  # a rule, not a measurement: say so
                levels["energy_basis"] = "whisper"
                continue
            why = check(row, level, cfg)
            if why is not None:
                levels[level] = None
                levels["level_reasons"][level] = why
                continue
            key_used, cut = group_cut(row, groups, chain, feature)
            if cut is None:
                levels[level] = None
                first = group_key(row, chain[0]) or group_key(row, chain[-1])
                levels["level_reasons"][level] = f"no thresholds for group {first!r} or its fallbacks (too few reliable values)"
                continue
            value = vocal_effort(row, cut.get("level_weight", 0.0)) if feature == "vocal_effort_db" else row[feature]
            if not valid(value):
                levels[level] = None
                levels["level_reasons"][level] = f"{feature} could not be computed"
                continue
            lo, hi = cut["cuts"]
            levels[level] = names[0] if value < lo else names[2] if value > hi else names[1]
            if feature == "vocal_effort_db":
                levels["energy_basis"] = "alpha_ratio" if not cut.get("level_weight") else "vocal_effort"
            if key_used not in used:
                used.append(key_used)
            if key_used != finest:
                why = "not in the thresholds" if finest not in groups else "too few reliable values there"
                fell_back[level] = f"{finest} ({why}) -> {key_used}"
        levels["level_group"] = " + ".join(used) if used else None
        levels["level_fallback"] = "; ".join(f"{lv}: {w}" for lv, w in fell_back.items()) or None
        out.append(levels)
    return out


def group_cut(row: dict, groups: dict, chain: list[str], feature: str) -> tuple[str | None, dict | None]:
    """The group whose cut points grade ``row``'s ``feature``: the finest group of the fallback chain that has
    them; (None, None) when none has."""
    for m in chain:
        key = group_key(row, m)
        if key is not None and feature in groups.get(key, {}):
            return key, groups[key][feature]
    return None, None


def cuts_used(rows: list[dict], thresholds: dict, feature: str) -> dict[str, tuple[float, float]]:
    """Each row's id -> the (lower, upper) cut points its level of ``feature`` was graded with."""
    if "groups" not in thresholds or "group_by" not in thresholds:
        return {}
    chain, groups = _file_chain(thresholds), thresholds["groups"]
    out = {}
    for row in rows:
        _, cut = group_cut(row, groups, chain, feature)
        if cut and cut.get("cuts"):
            out[row["id"]] = tuple(cut["cuts"])
    return out


def _file_chain(thresholds: dict) -> list[str]:
    return thresholds.get("fallback") or list(_chain(thresholds["group_by"]))


def uncovered_groups(rows: list[dict], thresholds: dict) -> list[str]:
    """The finest groups of rows for which the thresholds hold none of the groups in the fallback chain
    (a thresholds file fitted on other corpora, without a global group): such rows cannot be graded."""
    if "groups" not in thresholds or "group_by" not in thresholds:
        return []  # not a thresholds file at all: apply_thresholds says so
    chain = _file_chain(thresholds)
    groups = thresholds["groups"]
    missing = set()
    for row in rows:
        keys = [k for k in (group_key(row, m) for m in chain) if k is not None]
        if keys and not any(k in groups for k in keys):
            missing.add(keys[0])
    return sorted(missing)
