"""The offline, deterministic writer: rationales grounded only in measured levels and metadata.

What it may say is limited to what the record holds: speaker gender and age group, the transcript (and
its punctuation), pitch / energy / rate levels with the one number each level was graded on
(``emotioncot.write.facts``), pauses, the intonation contour and every stressed word. A cue that was not
measured is never described. Grammatical by construction: articles come from the word they precede,
adjectives never repeat their noun, and tests enumerate the phrase choices.

The rationale weighs each measured cue against the acoustic profile typical of the gold emotion and says
plainly which cues fit and which do not, instead of claiming agreement that is not there. The emotion is
named only in the last sentence. Wording varies by a hash of the record id: the same record always gets
the same text, different records get different phrasings. Rationales are 50 to 200 words by construction.

``write_template`` is a pure function of the record's ``TEMPLATE_INPUTS`` (no state across records, no
clock, no files; its choices come from a generator seeded by the id), so shards of a table written
separately (``write_template_batch``, on any worker) give the rows one pass gives.
"""

from __future__ import annotations

import random
import re

from emotioncot.taxonomy import EMOTIONS
from emotioncot.write.facts import graded_fact, level_reference

PROMPT_ID = "template-v6"

# Every field the writer reads: a row's text depends on these and on PROMPT_ID alone.
TEMPLATE_INPUTS = (
    "id", "transcript", "emotion", "gender", "age_level", "pitch_level", "energy_level", "speed_level",
    "intonation", "stressed_words", "energy_basis", "f0_median_hz", "alpha_ratio_db", "articulation_rate_sps",
    "pause_count", "duration_s", "level_group",
)

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
    "surprise": ["a startled, jolted tone", "an astonished manner", "an abrupt, startled quality"],
    "fear": ["an uneasy, apprehensive tone", "a strained, worried manner", "a nervous, unsettled quality"],
}

# Adjectives per level, chosen so that none repeats its noun ("loud loudness") and every one reads right
# after "a"/"an" (the article comes from ``_a``, never from the phrase).
_WORDS = {
    "pitch": {"high": ["raised", "high", "elevated"], "low": ["lowered", "low", "deep"], "normal": ["moderate", "medium", "mid-level"]},
    "energy": {"high": ["strong", "high", "considerable"], "low": ["low", "weak", "reduced"], "normal": ["moderate", "medium", "ordinary"]},
    "speed": {"fast": ["fast", "quick", "rapid"], "slow": ["slow", "unhurried", "leisurely"], "normal": ["average", "regular", "moderate"]},
}
_NOUN = {"pitch": ["pitch"], "energy": ["vocal effort"], "speed": ["tempo", "pace"], "intonation": ["contour"]}

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
_PITCH = [  # every pitch sentence names what the level is relative to ({ref}, {against}: ``_REFERENCE``)
    "The pitch is {w} {ref}{num}.",
    "Starting with the voice itself, the pitch sits at {a} {w} level {ref}{num}.",
    "Set against {against}, the pitch sounds {w}{num}.",
]
_ENERGY = [
    "Vocal effort is {w}{num}.",
    "The voice carries {w} vocal effort{num}.",
    "Vocal effort sounds {w}{num}.",
]
_SPEED = [
    "The tempo is {w}{num}.",
    "The words come at {a} {w} pace{num}.",
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
# When every fitting cue is a middle level (and the class is not neutral), the middle levels do not mark the
# class: they merely leave room for it. "Above all, the ordinary vocal effort suggests a strained, worried
# manner" claimed evidence that is not there (RAVDESS fear, template-v5).
_WEIGH_COMPATIBLE = [  # (text for several cues, text for one)
    ("{fits} leave room for {state}, but levels in the middle of the range do not point to it by themselves.",
     "{fits} leaves room for {state}, but a level in the middle of the range does not point to it by itself."),
    ("{fits} do not argue against {state}, though middle levels are no sign of it on their own.",
     "{fits} does not argue against {state}, though a middle level is no sign of it on its own."),
]
_WEIGH_MIXED = [
    " The {misfits} {verb} less typical of it, so the picture is not entirely uniform.",
    " Only the {misfits} {verb} against this reading, and {it} {weigh} less than the rest.",
]
_WEIGH_NONE = [
    "The acoustic cues do not line up cleanly with any single profile, so the judgement rests on their overall balance and on {state}.",
    "None of the acoustic cues is strongly characteristic on its own, so the judgement rests on the overall impression of {state}.",
]
# What the levels were graded against, by the record's ``level_group`` (calibrate/levels.py): "for this
# speaker" is true only where the thresholds were fitted on this speaker's own clips.
_REFERENCE = {  # kind -> ("for ..." after a level word, "set against ...", [closing notes])
    "speaker": ("for this speaker", "this speaker's own range", [
        "Each level is judged against how this speaker normally sounds, not against an absolute scale.",
        "These levels are relative to the speaker's own range, which keeps the reading fair to this voice."]),
    "corpus_gender": ("for {a_gender} voice in this corpus", "the other {gender} voices in this corpus", [
        "Each level is judged against how {gender} speakers of this corpus normally sound, not against an absolute scale.",
        "These levels are relative to the range of {gender} voices in this corpus, not to an absolute scale."]),
    "corpus": ("for a voice in this corpus", "the other voices in this corpus", [
        "Each level is judged against how the speakers of this corpus normally sound, not against an absolute scale.",
        "These levels are relative to the range of the voices in this corpus, not to an absolute scale."]),
    "global": ("for a voice in this dataset", "all the voices in this dataset", [
        "Each level is judged against every speaker in the dataset, not against an absolute scale.",
        "These levels are relative to the range of all the voices in the dataset, not to an absolute scale."]),
    "mixed": ("for the group it is compared with", "the group of voices it is compared with", [
        "Each level is judged against the group of voices it was calibrated on, not against an absolute scale."]),
}


def _reference(record: dict) -> tuple[str, str, list[str]]:
    kind, gender = level_reference(record)
    fill = {"gender": gender or "", "a_gender": f"a {gender}" if gender else ""}
    phrase, against, notes = _REFERENCE[kind]
    return phrase.format(**fill), against.format(**fill), [n.format(**fill) for n in notes]
_CONCLUDE = [
    "The most fitting label is therefore {label}.",
    "All of this points to {label}.",
    "On balance, the emotion expressed is {label}.",
    "The emotion is best described as {label}.",
    "So the emotion that best explains these cues is {label}.",
]
# where no cue marks the class, the last sentence does not claim the cues point to it
_CONCLUDE_WEAK = [
    "On balance, the emotion expressed is {label}.",
    "The emotion is best described as {label}.",
    "Weighing the little there is, the emotion is best taken as {label}.",
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


_NUM_FORMS = {
    "pitch": [" (a median of about {v})", " (around {v} at the median)"],
    "energy": [" (an alpha ratio of about {v})", " (alpha ratio around {v})"],
    "speed": [" (about {v}, pauses excluded)", " (around {v} without the pauses)"],
}


def _num(record: dict, cue: str, rng: random.Random) -> str:
    """The number graded for this level (``facts.graded_fact``), as a parenthesis, or ''."""
    fact = graded_fact(record, cue)
    return _choice(rng, _NUM_FORMS[cue]).format(v=fact.text) if fact else ""


def _a(word: str) -> str:
    """The indefinite article for ``word`` (by its sound for the words this writer uses)."""
    return "an" if word[:1].lower() in "aeio" or word.lower().startswith(("un", "hour")) else "a"


def _cue_sentence(cue: str, table: list[str], level: str, record: dict, rng: random.Random) -> str:
    sentence = _choice(rng, table)
    # no adjective whose last part is the noun that follows it ("a mid-level level")
    options = [w for w in _WORDS[cue][level] if not ("{w} level" in sentence and w.endswith("-level"))]
    word = _choice(rng, options)
    ref, against, _ = _reference(record)
    return sentence.format(w=word, a=_a(word), num=_num(record, cue, rng), ref=ref, against=against)


def _quoted(words: list[str]) -> str:
    return _join([f'"{w}"' for w in words])


def _levels(record: dict) -> dict:
    out = {}
    for cue in ("pitch", "energy", "speed"):
        value = record.get(f"{cue}_level")
        if value in _WORDS[cue]:
            out[cue] = value
    if record.get("intonation") in _CONTOUR:
        out["intonation"] = record["intonation"]
    return out


def _cue_name(cue: str, value: str, rng: random.Random, used: set[str]) -> str:
    """'the <adjective> <noun>', with an adjective not yet ``used`` in the sentence ("the low pitch and the
    reduced vocal effort", never "low ... low")."""
    if cue == "intonation":
        return f"the {value} contour"
    options = [w for w in _WORDS[cue][value] if w not in used] or _WORDS[cue][value]
    word = _choice(rng, options)
    used.add(word)
    return f"the {word} {_choice(rng, _NOUN[cue])}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]


# A quoted statement inside a sentence gives up its full stop: 'The utterance "Kids are talking." is spoken'
# reads as two sentences. Question and exclamation marks stay; an ellipsis stays whole.
_STOP_BEFORE_CONTINUATION = re.compile(r'(?<!\.)\."(?=\s+[a-z])')


def _tidy(text: str) -> str:
    """No doubled stop after a quote that ends in its own punctuation, no full stop inside a sentence."""
    for stop in ('?".', '!".', '.".'):
        text = text.replace(stop, stop[:2])
    return _STOP_BEFORE_CONTINUATION.sub('"', text)


def write_caption(record: dict) -> str:
    """A description of speaker, prosody and words; no emotion is named or guessed."""
    rng = random.Random(f"caption:{record['id']}")
    text = (record.get("transcript") or "").strip()
    parts = [_sentence(_speaker_phrase(record)) + (f" says \"{text}\"." if text else " speaks.")]
    levels = _levels(record)
    for cue, table in (("pitch", _PITCH), ("energy", _ENERGY), ("speed", _SPEED)):
        if cue in levels:
            parts.append(_cue_sentence(cue, table, levels[cue], record, rng))
    pauses = record.get("pause_count")
    if pauses:
        parts.append(f"There {'is one pause' if pauses == 1 else f'are {pauses} pauses'} in the utterance.")
    if "intonation" in levels:
        parts.append(_sentence(_CONTOUR[levels["intonation"]]) + ".")
    stressed = record.get("stressed_words") or []
    if stressed:
        parts.append(f"Emphasis falls on {_quoted(stressed)}.")
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
            sentences.append(_cue_sentence(cue, table, levels[cue], record, rng))
    missing = [_NOUN[c][0] for c in ("pitch", "energy", "speed") if c not in levels]
    if missing:
        sentences.append(f"The {_join(missing)} could not be judged reliably, so {'it is' if len(missing) == 1 else 'they are'} left aside.")
    if "intonation" in levels:
        sentences.append(_sentence(_CONTOUR[levels["intonation"]]) + ".")
    pauses = record.get("pause_count")
    if pauses:
        sentences.append(f"The speaker pauses {'once' if pauses == 1 else f'{pauses} times'}, which breaks up the flow.")
    stressed = record.get("stressed_words") or []
    if stressed:
        sentences.append(f"The emphasis falls on {_quoted(stressed)}, which draws attention to "
                         f"{'that word' if len(stressed) == 1 else 'those words'}.")

    profile = _PROFILE[emotion]
    fits = [c for c, v in levels.items() if c in profile and v in profile[c]]
    misfits = [c for c, v in levels.items() if c in profile and v not in profile[c]]
    state = _choice(rng, _STATE[emotion])
    # do the fitting cues mark the class, or only leave room for it (middle levels, for any class but neutral)?
    marked = bool(fits) and (emotion == "neutral" or any(levels[c] != "normal" for c in fits))
    if fits:
        used: set[str] = set()
        table = _WEIGH_FIT if marked else _WEIGH_COMPATIBLE
        weigh = _sentence(_choice(rng, table)[0 if len(fits) > 1 else 1].format(
            fits=_join([_cue_name(c, levels[c], rng, used) for c in fits]), state=state))
        if misfits:
            n = len(misfits)
            used = set()
            # 'and it weighs less than the rest' would give weight to middle levels just called no sign
            weigh += _choice(rng, _WEIGH_MIXED if marked else _WEIGH_MIXED[:1]).format(
                misfits=_join([_cue_name(c, levels[c], rng, used)[4:] for c in misfits]),
                verb="is" if n == 1 else "are", it="it" if n == 1 else "they", weigh="weighs" if n == 1 else "weigh")
        sentences.append(weigh)
    else:
        sentences.append(_choice(rng, _WEIGH_NONE).format(state=state))

    end = text[-1:] if text[-1:] in "?!" and text else "."
    sentences.append(_choice(rng, _CONTENT[end]))
    if len(" ".join(sentences).split()) < 60:
        sentences.append(_choice(rng, _reference(record)[2]))
    sentences.append(_choice(rng, _CONCLUDE if marked else _CONCLUDE_WEAK).format(label=emotion))
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


def write_template_batch(records: list[dict], label_mode: str = "aware") -> tuple[list[dict], list[dict]]:
    """(rows, errors) for one batch: a ``GeneratedText`` row per record the writer can write, and for each
    one it cannot, ``{"id", "path", "reason"}``. Depends on nothing but the batch."""
    rows, errors = [], []
    for record in records:
        try:
            rows.append(write_template(record, label_mode))
        except ValueError as exc:
            errors.append({"id": record["id"], "path": record.get("audio_path"), "reason": str(exc)})
    return rows, errors
