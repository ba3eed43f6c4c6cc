"""The offline, deterministic writer: rationales grounded only in measured levels and metadata.

What it may say is limited to what the record holds: speaker gender and age group, the transcript (and
its punctuation), pitch / energy / rate levels with the physical values behind them, pauses, the
intonation contour and stressed words. A cue that was not measured is never described.

The rationale weighs each measured cue against the acoustic profile typical of the gold emotion and says
plainly which cues fit and which do not, instead of claiming agreement that is not there. The emotion is
named only in the last sentence. Wording varies by a hash of the record id: the same record always gets
the same text, different records get different phrasings. Rationales are 50 to 200 words by construction.
"""

from __future__ import annotations

import random

from emotioncot.taxonomy import EMOTIONS

PROMPT_ID = "template-v3"

_AGE = {"Child": "child", "Teenager": "teenage", "Young Adult": "young adult", "Middle-aged": "middle-aged",
        "Elderly": "elderly"}

# The acoustic profile that usually goes with each class: the levels that fit it. Cues outside the
# profile are reported as not fitting; a class with no expectation for a cue leaves that cue neutral.
_PROFILE: dict[str, dict[str, set]] = {
    "neutral": {"pitch": {"normal"}, "energy": {"normal"}, "speed": {"normal"}, "intonation": {"falling", "flat"}},
    "happy": {"pitch": {"high"}, "energy": {"high", "normal"}, "speed": {"fast", "normal"},
              "intonation": {"rising-falling", "expressive", "rising"}},
    "sad": {"pitch": {"low"}, "energy": {"low"}, "speed": {"slow"}, "intonation": {"falling", "flat"}},
    "angry": {"pitch": {"high", "normal"}, "energy": {"high"}, "speed": {"fast", "normal"},
              "intonation": {"falling", "expressive", "rising-falling"}},
    "contempt or disgust": {"pitch": {"low", "normal"}, "energy": {"normal", "low"}, "speed": {"slow", "normal"},
                            "intonation": {"falling", "falling-rising", "flat"}},
    "confused": {"pitch": {"normal", "high"}, "speed": {"slow", "normal"}, "intonation": {"rising", "falling-rising"}},
    "whisper": {"energy": {"low"}},
    "surprise": {"pitch": {"high"}, "energy": {"high", "normal"}, "intonation": {"rising", "rising-falling", "expressive"}},
    "fear": {"pitch": {"high"}, "energy": {"low", "normal"}, "speed": {"fast"}, "intonation": {"rising", "flat"}},
}

# What the fitting cues amount to, without the label (the label comes only at the very end).
_STATE = {
    "neutral": ["a calm, uncoloured delivery", "an even, unmarked way of speaking", "a plain, matter-of-fact manner"],
    "happy": ["a bright, cheerful tone", "an upbeat, warm manner", "a pleased, friendly tone"],
    "sad": ["a heavy-hearted, deflated tone", "a weary, dejected manner", "a downcast, resigned tone"],
    "angry": ["an agitated, hostile tone", "a tense and pressing manner", "an insistent, irritated edge"],
    "contempt or disgust": ["a cool, dismissive tone", "a disdainful, withholding manner", "a sneering, rejecting edge"],
    "confused": ["a hesitant, searching manner", "an unsure, puzzled tone", "a tentative way of speaking"],
    "whisper": ["a breathy, unvoiced quality", "an airy, breathy texture", "a voiceless, breath-carried articulation"],
    "surprise": ["a startled, taken-aback tone", "an astonished manner", "an abrupt, startled quality"],
    "fear": ["an uneasy, apprehensive tone", "a strained, worried manner", "a nervous, unsettled quality"],
}

_WORDS = {
    "pitch": {"high": ["raised", "high", "elevated"], "low": ["lowered", "low", "deep"], "normal": ["moderate", "typical", "mid-level"]},
    "energy": {"high": ["loud", "forceful", "strong"], "low": ["soft", "quiet", "weak"], "normal": ["moderate", "ordinary", "medium"]},
    "speed": {"fast": ["fast", "quick", "rapid"], "slow": ["slow", "unhurried", "drawn-out"], "normal": ["average", "ordinary", "moderate"]},
}
_NOUN = {"pitch": "pitch", "energy": "loudness", "speed": "tempo", "intonation": "contour"}

_CONTOUR = {
    "rising": "the melody rises toward the end",
    "falling": "the melody falls toward the end",
    "rising-falling": "the melody climbs and then falls away",
    "falling-rising": "the melody dips and then rises again",
    "flat": "the melody stays flat",
    "expressive": "the melody moves widely up and down",
}

_OPENERS = [
    "Listening to this clip, {speaker} says \"{text}\".",
    "In this recording, {speaker} says \"{text}\".",
    "The utterance \"{text}\" is spoken by {speaker}.",
    "Here {speaker} delivers the line \"{text}\".",
    "The clip holds {speaker} saying \"{text}\".",
    "What we hear is {speaker} producing the sentence \"{text}\".",
]
_PITCH = [
    "The pitch is {w} for this speaker{num}.",
    "Starting with the voice itself, the pitch sits at a {w} level{num}.",
    "Its pitch sounds {w}{num}.",
]
_ENERGY = [
    "The loudness is {w}{num}.",
    "The loudness stays {w}{num}.",
    "Vocal energy sounds {w}{num}.",
]
_SPEED = [
    "The tempo is {w}{num}.",
    "The words come at a {w} pace{num}.",
    "The speaking rate is {w}{num}.",
]
_CONTENT = {
    "?": ["The sentence is phrased as a question, which the listener weighs after the voice.",
          "Its question form adds a semantic hint, read only after the acoustic cues."],
    "!": ["The sentence is written as an exclamation, a semantic hint that comes second to the voice.",
          "Its exclamatory form adds some emphasis on the semantic side, read after the acoustic cues."],
    ".": ["On the semantic side, the words are read only after the voice, so the delivery carries most of the weight.",
          "The wording gives context, but here it is weighed only after the acoustic cues.",
          "The content of the sentence is taken as secondary evidence behind how it is said."],
}
_WEIGH_FIT = [  # (text for several cues, text for one)
    ("Together, {fits} add up to {state}.", "On its own, {fits} already hints at {state}."),
    ("Taken as a whole, {fits} suggest {state}.", "Above all, {fits} suggests {state}."),
    ("Read together, {fits} point toward {state}.", "The clearest sign is {fits}, which points toward {state}."),
]
_WEIGH_MIXED = [
    " The {misfits} {verb} less typical of it, so the picture is not entirely uniform.",
    " Only the {misfits} {verb} against this reading, and {it} {weigh} less than the rest.",
]
_WEIGH_NONE = [
    "The acoustic cues do not line up cleanly with any single profile, so the judgement rests on their overall balance and on {state}.",
    "None of the acoustic cues is strongly characteristic on its own, so the judgement rests on the overall impression of {state}.",
]
_SPEAKER_NOTE = [
    "Each level is judged against how this speaker or group normally sounds, not against an absolute scale.",
    "These levels are relative to the speaker's own range, which keeps the reading fair to this voice.",
]
_CONCLUDE = [
    "The most fitting label is therefore {label}.",
    "All of this points to {label}.",
    "On balance, the emotion expressed is {label}.",
    "The emotion is best described as {label}.",
    "So the emotion that best explains these cues is {label}.",
]


def _speaker_phrase(record: dict) -> str:
    age = _AGE.get(record.get("age_level") or "")
    gender = {"Male": "male", "Female": "female"}.get(record.get("gender") or "")
    words = [w for w in (age, gender) if w]
    if not words:
        return "the speaker"
    phrase = " ".join(words) + " speaker"
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _choice(rng: random.Random, options):
    return options[rng.randrange(len(options))]


def _num(record: dict, cue: str) -> str:
    """The physical values behind a level, as a parenthesis, or ''."""
    if cue == "pitch" and record.get("f0_median_hz") is not None:
        rng = record.get("f0_range_st")
        return f" (around {record['f0_median_hz']:.0f} Hz" + (f", spanning {rng:.1f} semitones)" if rng is not None else ")")
    if cue == "energy" and record.get("energy_dbfs") is not None:
        return f" (about {record['energy_dbfs']:.0f} dBFS)"
    if cue == "speed" and record.get("speaking_rate_sps") is not None:
        return f" (about {record['speaking_rate_sps']:.1f} syllables per second)"
    return ""


def _levels(record: dict) -> dict:
    out = {}
    for cue in ("pitch", "energy", "speed"):
        value = record.get(f"{cue}_level")
        if value in _WORDS[cue]:
            out[cue] = value
    if record.get("intonation") in _CONTOUR:
        out["intonation"] = record["intonation"]
    return out


def _cue_name(cue: str, value: str, rng: random.Random) -> str:
    if cue == "intonation":
        return f"the {value} contour"
    return f"the {_choice(rng, _WORDS[cue][value])} {_NOUN[cue]}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]


def _tidy(text: str) -> str:
    """No doubled stop after a quote that ends in its own punctuation."""
    for stop in ('?".', '!".', '.".'):
        text = text.replace(stop, stop[:2])
    return text


def write_caption(record: dict) -> str:
    """A description of speaker, prosody and words; no emotion is named or guessed."""
    rng = random.Random(f"caption:{record['id']}")
    text = (record.get("transcript") or "").strip()
    parts = [_sentence(_speaker_phrase(record)) + (f" says \"{text}\"." if text else " speaks.")]
    levels = _levels(record)
    for cue, table in (("pitch", _PITCH), ("energy", _ENERGY), ("speed", _SPEED)):
        if cue in levels:
            parts.append(_choice(rng, table).format(w=_choice(rng, _WORDS[cue][levels[cue]]), num=_num(record, cue)))
    pauses = record.get("pause_count")
    if pauses:
        parts.append(f"There {'is one pause' if pauses == 1 else f'are {pauses} pauses'} in the utterance.")
    if "intonation" in levels:
        parts.append(_sentence(_CONTOUR[levels["intonation"]]) + ".")
    stressed = record.get("stressed_words") or []
    if stressed:
        parts.append(f"Emphasis falls on {_join([chr(34) + w + chr(34) for w in stressed[:3]])}.")
    if record.get("duration_s"):
        parts.append(f"The clip lasts about {record['duration_s']:.1f} seconds.")
    return _tidy(" ".join(parts))


def write_rationale(record: dict, emotion: str) -> str:
    """A 50-200 word chain of thought, acoustic cues first, that names ``emotion`` only at the end."""
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}")
    rng = random.Random(f"rationale:{record['id']}")
    text = (record.get("transcript") or "").strip()
    speaker = _speaker_phrase(record)
    opener = _choice(rng, _OPENERS) if text else "In this clip {speaker} speaks, without a transcription to go on."
    sentences = [_sentence(opener.format(speaker=speaker, text=text))]

    levels = _levels(record)
    for cue, table in (("pitch", _PITCH), ("energy", _ENERGY), ("speed", _SPEED)):
        if cue in levels:
            sentences.append(_choice(rng, table).format(w=_choice(rng, _WORDS[cue][levels[cue]]), num=_num(record, cue)))
    missing = [_NOUN[c] for c in ("pitch", "energy", "speed") if c not in levels]
    if missing:
        sentences.append(f"The {_join(missing)} could not be judged reliably, so {'it is' if len(missing) == 1 else 'they are'} left aside.")
    if "intonation" in levels:
        sentences.append(_sentence(_CONTOUR[levels["intonation"]]) + ".")
    pauses = record.get("pause_count")
    if pauses:
        sentences.append(f"The speaker pauses {'once' if pauses == 1 else f'{pauses} times'}, which breaks up the flow.")
    stressed = record.get("stressed_words") or []
    if stressed:
        sentences.append(f"The emphasis falls on \"{stressed[0]}\", which draws attention to that word.")

    profile = _PROFILE[emotion]
    fits = [c for c, v in levels.items() if c in profile and v in profile[c]]
    misfits = [c for c, v in levels.items() if c in profile and v not in profile[c]]
    state = _choice(rng, _STATE[emotion])
    if fits:
        weigh = _choice(rng, _WEIGH_FIT)[0 if len(fits) > 1 else 1].format(fits=_join([_cue_name(c, levels[c], rng) for c in fits]), state=state)
        if misfits:
            n = len(misfits)
            weigh += _choice(rng, _WEIGH_MIXED).format(
                misfits=_join([_cue_name(c, levels[c], rng)[4:] for c in misfits]),
                verb="is" if n == 1 else "are", it="it" if n == 1 else "they", weigh="weighs" if n == 1 else "weigh")
        sentences.append(weigh)
    else:
        sentences.append(_choice(rng, _WEIGH_NONE).format(state=state))

    end = text[-1:] if text[-1:] in "?!" and text else "."
    sentences.append(_choice(rng, _CONTENT[end]))
    if len(" ".join(sentences).split()) < 60:
        sentences.append(_choice(rng, _SPEAKER_NOTE))
    sentences.append(_choice(rng, _CONCLUDE).format(label=emotion))
    return _tidy(" ".join(sentences))


def write_template(record: dict, label_mode: str = "aware") -> dict:
    """A ``GeneratedText`` row for one record (utterance + measurements + levels)."""
    if label_mode != "aware" or not record.get("emotion"):
        raise ValueError("the template writer needs the gold emotion (label-aware mode); use --writer openai for label-blind rationales")
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
