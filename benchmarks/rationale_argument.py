"""How a build's rationales argue: per emotion, the share that names a cue against the emotion; how often the
most repeated sentence about the words recurs (transcript and numbers masked); whether each rationale's
stated balance agrees with the build's evidence table (the filter's ``argument`` check).

    python benchmarks/rationale_argument.py BUILD_DIR [BUILD_DIR ...] [--show N]

Reads the records (kept and rejected) of each build folder; writes nothing. Not a timing benchmark: it prints
figures to compare builds of two versions (run it on a build made with each)."""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from emotioncot.calibrate.evidence import AGAINST, load_evidence
from emotioncot.filter.argument import _mentioned, _side, argument_problems
from emotioncot.filter.text import clauses, mask_transcript_quotes, sentences, think_part

# a sentence about the words: their meaning, wording, content or sentence form
WORDS = re.compile(r"\b(?:words?|wording|sentence|semantic|content|question|exclamat\w*|phrased|transcri\w*|"
                   r"lexical|meaning|literal)\b", re.I)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _records(build: Path) -> list[dict]:
    rows = [json.loads(line) for line in (build / "emotioncot.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rejected = build / "rejected.jsonl"
    if rejected.exists():
        rows += [json.loads(line) for line in rejected.read_text(encoding="utf-8").splitlines() if line]
    return rows


def _masked(row: dict) -> str:
    transcript = row.get("transcript") or row.get("transcription")
    return mask_transcript_quotes(think_part(row.get("cot_analysis") or ""), transcript)


def names_cue_against(row: dict) -> bool:
    return any(_side(c) == AGAINST and _mentioned(c) for s in sentences(_masked(row)) for c in clauses(s))


def audit(build: Path, show: int = 0) -> dict:
    rows = _records(build)
    evidence = load_evidence(build / "thresholds.json")
    by_emotion: dict[str, list[bool]] = defaultdict(list)
    word_sentences: Counter = Counter()
    argument = Counter()
    neutral_bad = []
    for row in rows:
        emotion = row.get("emotion") or row.get("gt")
        by_emotion[emotion].append(names_cue_against(row))
        seen = set()
        for sentence in sentences(_masked(row)):
            if WORDS.search(sentence):
                seen.add(NUMBER.sub("N", sentence.strip()))
        word_sentences.update(seen)
        problems = argument_problems({**row, "emotion": emotion, "transcript": row.get("transcript") or row.get("transcription")},
                                     evidence)
        argument[bool(problems)] += 1
        if emotion == "neutral" and problems:
            neutral_bad.append((row["id"], problems[0][1]))
    n = len(rows)
    top = word_sentences.most_common(3)
    out = {
        "build": str(build), "rationales": n,
        "opposing_cue_share": {e: round(sum(v) / len(v), 3) for e, v in sorted(by_emotion.items(), key=lambda kv: str(kv[0]))},
        "opposing_cue_counts": {e: f"{sum(v)}/{len(v)}" for e, v in sorted(by_emotion.items(), key=lambda kv: str(kv[0]))},
        "words_sentence_max_share": round(top[0][1] / n, 3) if top else 0.0,
        "words_sentences_top": [(s, c) for s, c in top],
        "rationales_with_words_sentence": sum(1 for r in rows if any(WORDS.search(s) for s in sentences(_masked(r)))),
        "argument_rejected": argument[True],
        "neutral_inconsistent": neutral_bad,
    }
    if show:
        out["examples"] = [{"id": r["id"], "emotion": r.get("emotion"), "text": r.get("cot_analysis")} for r in rows[:show]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="+", type=Path)
    parser.add_argument("--show", type=int, default=0)
    args = parser.parse_args()
    for build in args.builds:
        print(json.dumps(audit(build, args.show), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
