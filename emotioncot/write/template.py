"""The offline, deterministic writer: rationales grounded only in measured levels and metadata.

Wording varies by a hash of the record id (same record, same text; different records, different
phrasings). The emotion is named only in the closing sentences, never first.
"""

from __future__ import annotations

import random

from emotioncot.taxonomy import EMOTIONS

PROMPT_ID = "template-v2"  # v2: closing sentences no longer assert levels the record may not have

_SPEAKER = {
    None: "the speaker",
    "Male": "a {age}male speaker",
    "Female": "a {age}female speaker",
}
_AGE = {
    "Child": "young ",
    "Teenager": "teenage ",
    "Young Adult": "young adult ",
    "Middle-aged": "middle-aged ",
    "Elderly": "elderly ",
}

_PITCH = {
    "high": ["the pitch sits high for this speaker", "the voice is pitched noticeably high", "a raised pitch level"],
    "low": ["the pitch sits low for this speaker", "the voice is pitched low", "a lowered pitch level"],
    "normal": ["the pitch stays at a typical level", "a moderate, typical pitch", "pitch close to the speaker's usual level"],
}
_ENERGY = {
    "high": ["the delivery is loud and forceful", "vocal energy is high", "the voice carries strong energy"],
    "low": ["the delivery is soft and quiet", "vocal energy is low", "the voice sounds subdued in energy"],
    "normal": ["the loudness is moderate", "energy stays at an ordinary level", "a moderate vocal energy"],
}
_SPEED = {
    "fast": ["the words come out quickly", "the speaking rate is fast", "a rapid tempo"],
    "slow": ["the words are drawn out slowly", "the speaking rate is slow", "an unhurried, slow tempo"],
    "normal": ["the tempo is steady and ordinary", "a normal speaking rate", "a moderate pace"],
}
_INTONATION = {
    "rising": "the contour rises toward the end",
    "falling": "the contour falls toward the end",
    "rising-falling": "the contour rises and then falls",
    "falling-rising": "the contour dips and then rises again",
    "flat": "the intonation stays flat",
    "expressive": "the intonation moves expressively",
}

# What each class typically sounds like: used to connect the cues to the conclusion.
_LINK = {
    "neutral": "Taken together, these cues show little emotional colouring, so the most fitting reading is neutral.",
    "happy": "Taken together, the lively cues and the content point to a happy, upbeat state.",
    "sad": "Taken together, these cues suggest a low mood, so the speaker sounds sad.",
    "angry": "Taken together, these cues suggest irritation, so the speaker sounds angry.",
    "contempt or disgust": "Taken together, the cool, dismissive delivery suggests contempt or disgust.",
    "confused": "Taken together, the questioning delivery suggests the speaker is confused.",
    "whisper": "Taken together, the breathy delivery identifies this as a whisper.",
    "surprise": "Taken together, the sudden animated cues point to surprise.",
    "fear": "Taken together, the tense cues point to fear.",
}

_OPENERS = [
    "Listening to this clip, {speaker} says \"{text}\".",
    "In this recording, {speaker} says \"{text}\".",
    "The utterance \"{text}\" is spoken by {speaker}.",
    "Here {speaker} delivers the line \"{text}\".",
]
_CUE_INTROS = [
    "Acoustically, {a}, {b}, and {c}.",
    "Looking at the prosody first: {a}; {b}; and {c}.",
    "The acoustic cues are clear: {a}, while {b}, and {c}.",
]
_CONTENT = [
    "The words themselves add context but are read together with how they are said.",
    "On the semantic side, the sentence alone is fairly ordinary, so the delivery carries most of the meaning.",
    "The content of the sentence gives only a weak hint, which makes the vocal cues decisive.",
]


def _speaker_phrase(record: dict) -> str:
    age = _AGE.get(record.get("age_level") or "", "")
    return _SPEAKER.get(record.get("gender"), "the speaker").format(age=age)


def _choice(rng: random.Random, options):
    return options[rng.randrange(len(options))]


def write_caption(record: dict) -> str:
    rng = random.Random(f"caption:{record['id']}")
    parts = [f"{_speaker_phrase(record).capitalize()} says \"{(record.get('transcript') or '').strip()}\"."]
    cues = []
    for level, table in (("pitch_level", _PITCH), ("energy_level", _ENERGY), ("speed_level", _SPEED)):
        value = record.get(level)
        if value:
            cues.append(_choice(rng, table[value]))
    if record.get("intonation") in _INTONATION:
        cues.append(_INTONATION[record["intonation"]])
    if cues:
        parts.append(" ".join(c[0].upper() + c[1:] + "." for c in cues))
    return " ".join(parts)


def write_rationale(record: dict, emotion: str) -> str:
    """A 50-200 word chain of thought that names ``emotion`` only at the end."""
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}")
    rng = random.Random(f"rationale:{record['id']}")
    text = (record.get("transcript") or "").strip()
    sentences = [_choice(rng, _OPENERS).format(speaker=_speaker_phrase(record), text=text)]
    cues = []
    for level, table in (("pitch_level", _PITCH), ("energy_level", _ENERGY), ("speed_level", _SPEED)):
        value = record.get(level)
        cues.append(_choice(rng, table[value]) if value else f"the {level.split('_')[0]} level could not be judged reliably")
    sentences.append(_choice(rng, _CUE_INTROS).format(a=cues[0], b=cues[1], c=cues[2]))
    contour = record.get("intonation")
    if contour in _INTONATION:
        sentences.append(f"In terms of melody, {_INTONATION[contour]}.")
    stressed = record.get("stressed_words") or []
    if stressed:
        sentences.append(f"The emphasis falls on \"{stressed[0]}\", which draws attention to that word.")
    sentences.append(_choice(rng, _CONTENT))
    sentences.append(
        "Weighing pitch, energy and tempo against each other, the overall vocal picture is consistent "
        "rather than mixed, and it should be judged relative to how this speaker normally sounds."
    )
    sentences.append(_LINK[emotion])
    return " ".join(sentences)


def write_template(record: dict, label_mode: str = "aware") -> dict:
    """A ``GeneratedText`` row for one record (utterance + measurements + levels)."""
    if label_mode != "aware" or not record.get("emotion"):
        raise ValueError("the template writer needs the gold emotion (label-aware mode)")
    return {
        "id": record["id"],
        "caption": write_caption(record),
        "cot_analysis": write_rationale(record, record["emotion"]),
        "writer": "template",
        "model": None,
        "prompt_id": PROMPT_ID,
        "prompt_hash": None,
        "label_mode": "aware",
        "inferred_emotion": None,
        "seed": None,
    }
