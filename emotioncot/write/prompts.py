"""Prompt files: loading, checking and filling them from a record.

A prompt file is Markdown with a small YAML front matter and two sections::

    ---
    id: rationale-aware-v1     # stored with every record it made, with the file's hash
    task: rationale            # rationale | caption
    label_mode: aware          # rationale prompts: aware (gold label given) | blind
    max_tokens: 450
    ---
    # system
    ...
    # user
    ... {transcript} ... {cues} ...

Placeholders are ``{name}`` with a name from ``FIELDS``; anything else in braces is an error naming the
file, so a typo never reaches the endpoint. A label-blind prompt must not use ``{emotion}``.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from emotioncot.config import project_root
from emotioncot.taxonomy import EMOTIONS
from emotioncot.write.facts import LEVEL_FIELDS, descriptive_facts, energy_basis_words, graded_fact, level_reference

FIELDS = {
    "speaker": "the speaker in words, e.g. 'a middle-aged female speaker'",
    "transcript": "what is said",
    "cues": "one line per cue: its level and only the number it was graded on (write/facts.py)",
    "reference": "what the levels were graded against, e.g. 'this speaker's other clips' or 'the female "
                 "voices of this corpus' (from level_group)",
    "emotion": "the gold label (label-aware prompts only)",
    "emotion_choices": "the 9 classes, comma separated",
    "evidence": "how the measured cues weigh, by the build's evidence table (calibrate/evidence.py): label-aware, "
                "this clip's cues for, against and neither way for the gold emotion and the strength of the case; "
                "label-blind, the levels that count for and against each emotion in the record's corpus",
    "style": "a style hint picked from the record id, so wording varies even at temperature 0",
    "gender": "Male / Female / unknown",
    "age_level": "age group or unknown",
    "pitch_level": "low / normal / high / not measured",
    "energy_level": "low / normal / high / not measured",
    "speed_level": "slow / normal / fast / not measured",
    "intonation": "contour name or not measured",
    "stressed_words": "comma separated, or none detected",
    "language": "language code or unknown",
}

_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")

STYLES = (
    "a listener's running notes turned into prose, short sentences",
    "flowing, reflective prose that weighs one cue against another",
    "begin with the speaker and the words quoted, then move to the voice",
    "begin with the most striking vocal cue, then widen to the rest",
    "plain and matter-of-fact, like a phonetician's brief remark",
    "compare what the voice does with what the words alone would suggest",
    "walk through the utterance from its start to its end",
    "conversational, as if explaining the judgement to a colleague",
)


class PromptError(ValueError):
    """A prompt file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Prompt:
    id: str
    task: str
    label_mode: str | None
    system: str
    user: str
    max_tokens: int
    path: str
    hash: str  # sha256 of the file's bytes, 16 hex digits

    def fill(self, values: dict) -> list[dict]:
        """Chat messages with every placeholder filled from ``values``."""
        return [
            {"role": "system", "content": _substitute(self.system, values)},
            {"role": "user", "content": _substitute(self.user, values)},
        ]


def _substitute(text: str, values: dict) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def default_prompt_path(task: str, label_mode: str = "aware") -> Path:
    name = {"caption": "caption.md", "aware": "rationale.md", "blind": "rationale_blind.md"}
    return project_root() / "prompts" / name["caption" if task == "caption" else label_mode]


def load_prompt(path: Path | str, task: str, label_mode: str | None = None) -> Prompt:
    path = Path(path)
    if not path.exists():
        raise PromptError(f"{path}: prompt file not found")
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    meta: dict = {}
    body = text
    if text.startswith("---"):
        parts = text.split("---", 2)
        if len(parts) < 3:
            raise PromptError(f"{path}: front matter opened with '---' but never closed")
        try:
            meta = yaml.safe_load(parts[1]) or {}
        except yaml.YAMLError as exc:
            raise PromptError(f"{path}: front matter is not valid YAML ({exc})") from None
        body = parts[2]
    sections = re.split(r"^#\s*(system|user)\s*$", body, flags=re.M | re.I)
    found = {sections[i].lower(): sections[i + 1].strip() for i in range(1, len(sections) - 1, 2)}
    if not found.get("user"):
        raise PromptError(f"{path}: needs a '# user' section (and optionally '# system')")
    declared = meta.get("task", task)
    if declared != task:
        raise PromptError(f"{path}: a {declared!r} prompt given where a {task!r} prompt is needed")
    mode = meta.get("label_mode", label_mode) if task == "rationale" else None
    if task == "rationale" and label_mode and mode != label_mode:
        raise PromptError(f"{path}: written for label_mode {mode!r}, but the build uses {label_mode!r}")
    system, user = found.get("system", ""), found["user"]
    used = set(_PLACEHOLDER.findall(system + user))
    unknown = sorted(used - set(FIELDS))
    if unknown:
        raise PromptError(f"{path}: unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
                          f"known: {', '.join(sorted(FIELDS))}")
    if mode == "blind" and "emotion" in used:
        raise PromptError(f"{path}: a label-blind prompt must not contain {{emotion}} (it would leak the gold label)")
    if task == "rationale" and mode == "aware" and "emotion" not in used:
        raise PromptError(f"{path}: a label-aware rationale prompt must contain {{emotion}}")
    try:
        max_tokens = int(meta.get("max_tokens", 500))
    except (TypeError, ValueError):
        raise PromptError(f"{path}: max_tokens must be an integer") from None
    return Prompt(
        id=str(meta.get("id") or path.stem), task=task, label_mode=mode, system=system, user=user,
        max_tokens=max_tokens, path=str(path), hash=hashlib.sha256(raw).hexdigest()[:16],
    )


# ---------------------------------------------------------------- record -> placeholder values

_AGE_WORDS = {"Child": "child", "Teenager": "teenage", "Young Adult": "young adult", "Middle-aged": "middle-aged",
              "Elderly": "elderly"}


def speaker_phrase(record: dict) -> str:
    age = _AGE_WORDS.get(record.get("age_level") or "")
    gender = {"Male": "male", "Female": "female"}.get(record.get("gender") or "")
    words = [w for w in (age, gender) if w]
    if not words:
        return "a speaker of unknown gender and age"
    phrase = " ".join(words) + " speaker"
    article = "an" if phrase[0] in "aeiou" else "a"
    note = " (gender estimated from the voice)" if record.get("gender_source") == "estimated" else ""
    return f"{article} {phrase}{note}"


def cue_lines(record: dict) -> str:
    """One line per cue: its level and only the number that level was graded on (``write.facts``), so the
    model is never handed a number that disagrees with the level beside it. A missing cue says 'not measured'."""
    lines = []
    for cue, name in (("pitch", "pitch"), ("energy", "vocal effort (loudness)"), ("speed", "speaking rate")):
        level = record.get(LEVEL_FIELDS[cue]) or "not measured"
        fact = graded_fact(record, cue)
        detail = f" ({fact.name}: {fact.text})" if fact else ""
        if cue == "energy" and record.get(LEVEL_FIELDS[cue]):
            detail += f"; judged on {energy_basis_words(record)}"
        lines.append(f"- {name}: {level}" + detail)
    facts = descriptive_facts(record, with_range=True)
    if "range" in facts:
        lines.append(f"- pitch range: {facts['range'].text} (how far the melody moves; not a level)")
    if "pauses" in facts:
        total = facts.get("pause_time")
        lines.append(f"- pauses: {facts['pauses'].value:.0f}" + (f" ({total.text} in total)" if total else ""))
    contour = record.get("intonation")
    lines.append(f"- melody (intonation): {contour if contour not in (None, 'uncertain', 'too_short') else 'not measured'}")
    stressed = record.get("stressed_words") or []
    lines.append(f"- stressed words: {', '.join(stressed) if stressed else 'none detected'}")
    if "duration" in facts:
        lines.append(f"- duration: {facts['duration'].text}")
    return "\n".join(lines)


_REFERENCE_WORDS = {
    "speaker": "this speaker's own other clips",
    "corpus_gender": "the {gender} voices of this corpus",
    "corpus": "the voices of this corpus",
    "global": "all the voices in this dataset",
    "mixed": "similar speakers",  # no group recorded (JSONL input), or cues graded against different groups
}


def reference_words(record: dict) -> str:
    """What the levels were graded against, in words: the prompt says it, so the model has no reason to write
    "for this speaker" about a level graded against the corpus (the filter rejects that: grounding_reference)."""
    kind, gender = level_reference(record)
    return _REFERENCE_WORDS[kind].format(gender=gender or "")


def style_for(record_id: str) -> str:
    return STYLES[random.Random(f"style:{record_id}").randrange(len(STYLES))]


def evidence_words(record: dict, label_mode: str = "aware", evidence: dict | None = None) -> str:
    """The ``{evidence}`` placeholder: the table's verdict on this clip's cues (aware) or the table itself (blind)."""
    from emotioncot.calibrate.evidence import case_words, prompt_lines, weigh

    if label_mode == "aware" and record.get("emotion") in EMOTIONS:
        return case_words(weigh(record, record["emotion"], evidence))
    return prompt_lines(evidence, record)


def prompt_values(record: dict, label_mode: str = "aware", evidence: dict | None = None) -> dict:
    """The placeholder values for one record. The gold label is present only in label-aware mode;
    ``evidence`` is the build's evidence table (None: the documented prior)."""
    stressed = record.get("stressed_words") or []
    values = {
        "speaker": speaker_phrase(record),
        "transcript": (record.get("transcript") or "").strip() or "(no transcription available)",
        "cues": cue_lines(record),
        "reference": reference_words(record),
        "emotion_choices": ", ".join(EMOTIONS),
        "style": style_for(str(record.get("id"))),
        "gender": record.get("gender") or "unknown",
        "age_level": record.get("age_level") or "unknown",
        "pitch_level": record.get("pitch_level") or "not measured",
        "energy_level": record.get("energy_level") or "not measured",
        "speed_level": record.get("speed_level") or "not measured",
        "intonation": record.get("intonation") or "not measured",
        "stressed_words": ", ".join(stressed) if stressed else "none detected",
        "language": record.get("language") or "unknown",
        "evidence": evidence_words(record, label_mode, evidence),
    }
    if label_mode == "aware":
        values["emotion"] = record.get("emotion")
    return values


def estimate_tokens(text: str) -> int:
    """A rough token count (about 4 characters per token for English with GPT-style tokenizers)."""
    return max(1, round(len(text) / 4))
