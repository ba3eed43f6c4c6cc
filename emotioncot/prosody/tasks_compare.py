"""Comparative questions: versions of one utterance with pitch, level or tempo changed, joined with short
silences in a shuffled order; the answer is known by construction.

Pair tasks ("which is higher / louder / faster?", options first / second) hold the unchanged version and
one changed up or down. Order tasks hold three versions (down, unchanged, up) to be put in order. Which
position holds the answer, the direction and the size of the change are dealt out round-robin per task
and split, so the answers are balanced before any clip is dropped.
"""

from __future__ import annotations

import random
from itertools import permutations

import numpy as np

from emotioncot.config import ProsodyConfig
from emotioncot.prosody import world
from emotioncot.prosody.questions import ORDINALS
from emotioncot.prosody.verify import Change, measure, measured_change, mismatch
from emotioncot.workspace import stable_hash

DIMENSIONS = ("pitch", "energy", "speed")
COMPARE_TASKS = tuple(f"compare_{d}_{kind}" for kind in ("pair", "order") for d in DIMENSIONS)
ORDER_OPTIONS = ["-".join(map(str, p)) for p in permutations((1, 2, 3))]

_PAIR_STEM = {
    "pitch": "You will hear the same sentence twice, separated by a short pause. Which version has the higher pitch?",
    "energy": "You will hear the same sentence twice, separated by a short pause. Which version is louder?",
    "speed": "You will hear the same sentence twice, separated by a short pause. Which version is spoken faster?",
}
_ORDER_STEM = {
    "pitch": "lowest to the highest pitch",
    "energy": "quietest to the loudest",
    "speed": "slowest to the fastest",
}


def _order_stem(dim: str) -> str:
    return (
        "You will hear three versions of the same sentence, separated by short pauses. "
        f"Order them from the {_ORDER_STEM[dim]}, as version numbers: 2-3-1 means the second version "
        "comes first in that order and the first version last."
    )


def _change(dim: str, amount: float) -> Change:
    """A change of one dimension; ``amount`` is a signed step index direction times the step size."""
    if dim == "pitch":
        return Change(semitones=amount)
    if dim == "energy":
        return Change(gain_db=amount)
    return Change(tempo=amount)


def _steps(dim: str, config: ProsodyConfig) -> tuple[float, ...]:
    return {"pitch": config.semitone_steps, "energy": config.gain_db_steps, "speed": config.tempo_ratios}[dim]


def _scaled(dim: str, step: float, direction: int) -> float:
    """The signed amount of a change: semitones / dB add, tempo ratios multiply."""
    if dim == "speed":
        return step if direction > 0 else 1.0 / step
    return direction * step


def deal(what: str, k: int, n: int) -> int:
    """The k-th of a sequence that holds each of 0..n-1 once in every block of n, in a seeded order per
    block: balanced like round-robin, without a period that could line up with the order of the sources
    (e.g. every ninth utterance being whispered)."""
    order = list(range(n))
    random.Random(stable_hash(what, k // n)).shuffle(order)
    return order[k % n]


def plan_item(task: str, k: int, config: ProsodyConfig, split: str = "") -> dict:
    """The k-th item of ``task`` in a split: the versions in presentation order, options and answer."""
    dim, kind = task.split("_")[1], task.split("_")[2]
    steps = _steps(dim, config)
    neutral = _change(dim, 1.0 if dim == "speed" else 0.0)
    key = f"{task}/{split}"
    step = steps[deal(key + "/step", k, len(steps))]
    if kind == "pair":
        position = deal(key + "/position", k, 2)  # where the higher / louder / faster version goes
        direction = 1 if deal(key + "/direction", k, 2) == 0 else -1
        changed = _change(dim, _scaled(dim, step, direction))
        high, low = (changed, neutral) if direction > 0 else (neutral, changed)
        versions = [high, low] if position == 0 else [low, high]
        options = list(ORDINALS[:2])
        answer = ORDINALS[position]
        stem = _PAIR_STEM[dim]
        intended = {"dimension": dim, "step": step, "direction": direction}
    else:
        answer = ORDER_OPTIONS[deal(key + "/order", k, len(ORDER_OPTIONS))]
        perm = tuple(int(x) for x in answer.split("-"))
        ascending = [_change(dim, _scaled(dim, step, -1)), neutral, _change(dim, _scaled(dim, step, 1))]
        versions = [None, None, None]
        for rank, position in enumerate(perm):
            versions[position - 1] = ascending[rank]
        options = list(ORDER_OPTIONS)
        stem = _order_stem(dim)
        intended = {"dimension": dim, "step": step}
    intended["versions"] = [v.as_dict() for v in versions]
    return {"task": task, "stem": stem, "options": options, "answer": answer, "balance_key": answer,
            "intended": intended, "versions": versions}


def render(source: world.Source, plan: dict, transcript: str | None, config: ProsodyConfig) -> tuple[np.ndarray | None, dict, str | None]:
    """Synthesise, level, verify and join the versions of one plan.

    Returns (joined audio or None, measured changes, drop reason or None). Every version, the unchanged
    one too, is a WORLD resynthesis; its level is set relative to the unchanged resynthesis's active level.
    If the loudest version would clip, all versions are lowered together, and that common shift is part
    of the level each version is checked against.
    """
    sr = source.analysis.sr
    clips = []
    for change in plan["versions"]:
        unchanged = change.semitones == 0 and change.tempo == 1.0
        y = source.reference if unchanged else world.synthesize(source.analysis, change.semitones, change.tempo)
        clips.append(world.set_level(y, sr, source.reference_level_db + change.gain_db))
    clips, headroom_db = world.fit_headroom(clips)
    if "measures" not in source.cache:
        source.cache["measures"] = measure(source.reference, sr, transcript)
    ref_m = source.cache["measures"]
    measured, reasons = [], []
    for i, (change, clip) in enumerate(zip(plan["versions"], clips)):
        expected_len = int(round(source.analysis.n_samples / change.tempo))
        if len(clip) != expected_len:
            reasons.append(f"version {i + 1}: {len(clip)} samples, expected {expected_len}")
            continue
        got = measured_change(ref_m, measure(clip, sr, transcript), change.tempo)
        measured.append(got.as_dict())
        intended = Change(change.semitones, change.gain_db + headroom_db, change.tempo)
        why = mismatch(intended, got, config)
        if why:
            reasons.append(f"version {i + 1}: {why}")
    info = {"versions": measured, "headroom_db": round(headroom_db, 3), "version_samples": [len(c) for c in clips]}
    if reasons:
        return None, info, "; ".join(reasons)
    return world.join(clips, sr, config.join_silence_s), info, None
