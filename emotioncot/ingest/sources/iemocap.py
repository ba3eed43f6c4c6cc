"""IEMOCAP: Interactive Emotional Dyadic Motion Capture database (Busso et al., 2008).

Ten actors in five sessions (one man, one woman each) act improvised and scripted dialogues. Layout of
``IEMOCAP_full_release/``: ``Session{N}/sentences/wav/<dialog>/<utterance>.wav``,
``Session{N}/dialog/EmoEvaluation/<dialog>.txt`` (plus sub-folders ``Categorical/``, ``Attribute/``,
``Self-evaluation/`` that are not read) and ``Session{N}/dialog/transcriptions/<dialog>.txt``.

EmoEvaluation blocks start with ``[start - end]\\tTURN\\tcode\\t[V, A, D]`` (consensus code
``ang hap sad neu exc fru fea sur dis oth xxx``, dimensions on a 1-5 scale), followed by ``C-<rater>:``
categorical votes (``;``-separated) and ``A-<rater>:`` attribute votes (``val 3; act 2; dom  2;``, kept
in ``meta["attribute_votes"]``). Raters ``E*`` are evaluators,
``F1``/``M1`` self-evaluations. Evaluator votes become ``soft_labels`` over the 9 classes (votes with no
target are dropped from the distribution and counted in ``meta["votes_unmapped"]``); every vote is kept in
``meta["evaluations"]``. Transcriptions: ``TURN [start-end]: text``.

The speaker is the *speaking* actor: session + the gender letter that opens the turn's last field
(``Ses01F_impro01_M000`` is the man of session 1, speaker ``Ses01_M``). Split: session folds,
test = session ``fold`` (``?fold=N``, default 5), validation = the session before it, train = the rest.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotioncot.ingest.sources._common import CorpusLayoutError, error, load_manifest, require_dir, utterance
from emotioncot.taxonomy import normalize_emotion

NAME = "iemocap"
NATIVE_LABELS = ("ang", "hap", "sad", "neu", "exc", "fru", "fea", "sur", "dis", "oth", "xxx")
SUMMARY = re.compile(
    r"^\[(\d+\.\d+)\s*-\s*(\d+\.\d+)\]\s+(\S+)\s+(\w+)\s+\[(\d+\.?\d*),\s*(\d+\.?\d*),\s*(\d+\.?\d*)\]\s*$"
)
VOTE = re.compile(r"^C-(\w+):\s*(.*?)\s*\((.*)\)\s*$")
ATTRIBUTE = re.compile(r"^A-(\w+):\s*(.*?)\s*\((.*)\)\s*$")
ATTRIBUTE_VALUE = re.compile(r"(val|act|dom)\s+(\d+(?:\.\d+)?)")
TRANSCRIPT = re.compile(r"^(\S+)\s+\[(\d+\.?\d*)-(\d+\.?\d*)\]:\s*(.*)$")
TURN = re.compile(r"^Ses(\d\d)[FM]_.+_([FM])[X\d]{3}$")
# Evaluators' vote words; the consensus codes are spelled differently.
VOTE_WORDS = {"neutral state": "neutral", "neutral": "neutral", "happiness": "happy", "excited": "happy",
              "anger": "angry", "frustration": None, "sadness": "sad", "fear": "fear", "surprise": "surprise",
              "disgust": "contempt or disgust", "other": None}


def parse_evaluation(path: Path) -> list[dict]:
    """The turns of one EmoEvaluation file, each with its consensus label, dimensions and votes."""
    turns, current = [], None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = SUMMARY.match(line)
        if m:
            current = {
                "start": float(m.group(1)), "end": float(m.group(2)), "turn": m.group(3), "code": m.group(4),
                "vad": tuple(float(m.group(i)) for i in (5, 6, 7)), "votes": {}, "attributes": {},
            }
            turns.append(current)
            continue
        v = VOTE.match(line)
        if v and current is not None:
            labels = [w.strip() for w in v.group(2).split(";") if w.strip()]
            current["votes"][v.group(1)] = {"labels": labels, "comment": v.group(3).strip()}
            continue
        a = ATTRIBUTE.match(line)
        if a and current is not None:
            # "val 3; act 2; dom  2;" (two spaces before dom's value; some lines lack dom)
            current["attributes"][a.group(1)] = {k: float(x) for k, x in ATTRIBUTE_VALUE.findall(a.group(2))}
    return turns


def parse_transcription(path: Path) -> dict[str, str]:
    out = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = TRANSCRIPT.match(line.strip())
        if m:
            out[m.group(1)] = m.group(4).strip()
    return out


def soft_labels(votes: dict) -> tuple[dict[str, float] | None, int]:
    counts, unmapped = {}, 0
    for rater, vote in votes.items():
        if not rater.startswith("E"):
            continue  # self-evaluations are not listener judgements
        for word in vote["labels"]:
            key = word.lower()
            target = VOTE_WORDS[key] if key in VOTE_WORDS else normalize_emotion(key)
            if target is None:
                unmapped += 1
                continue
            counts[target] = counts.get(target, 0) + 1
    total = sum(counts.values())
    return ({k: v / total for k, v in sorted(counts.items())} if total else None), unmapped


def read(root: Path, options: dict):
    root = require_dir(root, "IEMOCAP folder")
    if (root / "IEMOCAP_full_release").is_dir():
        root = root / "IEMOCAP_full_release"
    manifest = load_manifest(NAME)
    sessions = sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"Session\d", p.name))
    if not sessions:
        raise CorpusLayoutError(f"{root}/Session1: IEMOCAP session folders not found (expected Session1 ... Session5)")
    fold = int(options.get("fold", 5))
    for session in sessions:
        number = int(session.name[-1])
        split = "test" if number == fold else "validation" if number == (fold - 2) % 5 + 1 else "train"
        eval_dir = session / "dialog" / "EmoEvaluation"
        files = sorted(p for p in eval_dir.glob("*.txt") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise CorpusLayoutError(f"{eval_dir}: no IEMOCAP EmoEvaluation files (expected <dialog>.txt here)")
        for eval_file in files:
            dialog = eval_file.stem
            texts = parse_transcription(session / "dialog" / "transcriptions" / f"{dialog}.txt")
            for turn in parse_evaluation(eval_file):
                uid = turn["turn"]
                audio = session / "sentences" / "wav" / dialog / f"{uid}.wav"
                m = TURN.match(uid)
                if not m:
                    yield error(f"{eval_file}: turn name {uid!r} does not follow the IEMOCAP scheme", audio, f"{NAME}_{uid}")
                    continue
                if not audio.is_file():
                    yield error(f"{eval_file}: turn {uid} has no audio file (expected {audio})", audio, f"{NAME}_{uid}")
                    continue
                soft, unmapped = soft_labels(turn["votes"])
                v, a, d = turn["vad"]
                gender = "Female" if m.group(2) == "F" else "Male"
                yield utterance(
                    NAME, manifest, turn["code"],
                    id=f"{NAME}_{uid}", audio_path=audio, speaker_id=f"Ses{m.group(1)}_{m.group(2)}", gender=gender,
                    transcript=texts.get(uid), soft_labels=soft, valence=v, arousal=a, dominance=d, split=split,
                    meta={
                        "session": number, "dialog": dialog, "improvised": "_impro" in uid,
                        "dialog_start_s": turn["start"], "dialog_end_s": turn["end"], "vad_scale": "1-5",
                        "evaluations": turn["votes"], "attribute_votes": turn["attributes"], "votes_unmapped": unmapped, "official_split": f"fold{fold}",
                    },
                )
