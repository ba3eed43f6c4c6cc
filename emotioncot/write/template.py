"""The offline, deterministic writer: rationales grounded only in measured levels and metadata.

What it may say is limited to what the record holds: speaker gender and age group, the transcript (and
its punctuation), pitch / energy / rate levels with the one number each level was graded on
(``emotioncot.write.facts``), pauses, the intonation contour and every stressed word. A cue that was not
measured is never described. Grammatical by construction: articles come from the word they precede,
adjectives never repeat their noun, and tests enumerate the phrase choices.

The rationale weighs each measured cue by the build's evidence table (``emotioncot.calibrate.evidence``:
which levels the corpus's clips of the gold emotion take more or less often than its other clips, or the
documented literature prior where a class has too few clips). Cues for, against and neither way are stated
as the table puts them; a count or "weigh less" is said only where it is true, and the last sentence says how
strong the case from the voice is (clear, mixed or weak). Words are spoken about only where the sentence
form says something for this clip. The emotion is named only in the last sentence. Wording varies by a hash of the record id: the same record always gets
the same text, different records get different phrasings. Rationales are 50 to 200 words by construction.

``write_template`` is a pure function of the record's ``TEMPLATE_INPUTS`` (no state across records, no
clock, no files; its choices come from a generator seeded by the id), so shards of a table written
separately (``write_template_batch``, on any worker) give the rows one pass gives.
"""

from __future__ import annotations

import random
import re

from emotioncot.calibrate.evidence import Case, weigh
from emotioncot.taxonomy import EMOTIONS
from emotioncot.write.facts import graded_fact, level_reference

PROMPT_ID = "template-v8"

# Every field the writer reads: a row's text depends on these and on PROMPT_ID alone.
TEMPLATE_INPUTS = (
    "id", "transcript", "emotion", "gender", "age_level", "pitch_level", "energy_level", "speed_level",
    "intonation", "stressed_words", "energy_basis", "f0_median_hz", "alpha_ratio_db", "articulation_rate_sps",
    "pause_count", "duration_s", "level_group", "corpus",
)

_AGE = {"Child": "child", "Teenager": "teenage", "Young Adult": "young adult", "Middle-aged": "middle-aged",
        "Elderly": "elderly"}

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
    "On this clip, {speaker} can be heard saying \"{text}\".",
    "In this recording, {speaker} says \"{text}\".",
    "The utterance \"{text}\" is spoken by {speaker}.",
    "Here {speaker} delivers the line \"{text}\".",
    "The clip holds {speaker} saying \"{text}\".",
    "What we hear is {speaker} saying \"{text}\".",
]
_PITCH = [  # every pitch sentence names what the level is relative to ({ref}, {against}: ``_REFERENCE``)
    "The pitch is {w} {ref}{num}.",
    "To begin with the voice itself, the pitch sits at {a} {w} level {ref}{num}.",
    "Set against {against}, the pitch sounds {w}{num}.",
]
_ENERGY = [
    "Vocal effort is {w}{num}.",
    "The voice carries {w} vocal effort{num}.",
    "Vocal effort sounds {w}{num}.",
]
_SPEED = [
    "The tempo is {w}{num}.",
    "The speech moves at {a} {w} pace{num}.",
    "The speaking rate is {w}{num}.",
]
# The argument (template-v7): each measured cue is stated as the evidence table (calibrate/evidence.py) says
# it is, for, against or neither way; counts and comparisons are said only when they are true, and the last
# sentence says how strong the case from the voice is (Case.strength). Template-v6 weighed cues against a
# fixed profile and wrote "Only the X, Y and Z are against this reading, and they weigh less than the rest"
# beside a single cue for it.
_FOR = [  # (several cues, one cue)
    ("{cues} point toward {state}.", "{cues} points toward {state}."),
    ("{cues} fit {state}.", "{cues} fits {state}."),
    ("Taken together, {cues} suggest {state}.", "Of the cues heard here, {cues} suggests {state}."),
]
_NEITHER = [
    ("{cues} are no sign either way.", "{cues} is no sign either way."),
    ("{cues} say little for or against that reading.", "{cues} says little for or against that reading."),
]
_AGAINST = [
    ("{cues} speak against it.", "{cues} speaks against it."),
    ("{cues} are not what that reading usually brings.", "{cues} is not what that reading usually brings."),
]
_NONE_FOR = [
    "None of these cues points toward {state}.",
    "No measured cue marks {state}.",
]
_STRESS = ["The emphasis falls on {stressed}.", "The stress lands on {stressed}.", "The main stress is on {stressed}."]
_NUMBER = {1: "one", 2: "two", 3: "three", 4: "four"}
# the balance, only where cues stand on both sides: what it says is the count, and the count is true
_BALANCE = {
    "more_for": ["So {for_n} speak for it and {against_n} against, and the cues for it outnumber those against.",
                 "With {for_n} for it and {against_n} against, the cues against it weigh less."],
    "even": ["The cues for and against are evenly split, {for_n} on each side.",
             "That makes {for_n} for it and {against_n} against: an even split."],
    "more_against": ["More cues go against it ({against_n}) than for it ({for_n}).",
                     "Only {for_n} {for_verb} for it, while {against_n} go against it."],
}
# how strong the case from the voice is, said in the last sentence with the label
_CONCLUDE = {
    "clear": ["The voice makes a clear case, and the emotion is {label}.",
              "With no cue on the other side, the emotion is clearly {label}.",
              "So the acoustic case is consistent, and the emotion is {label}."],
    "mixed": ["The case from the voice is mixed, but it leans toward {label}.",
              "On balance, with cues on both sides, the emotion is best taken as {label}.",
              "With both sides weighed, the evidence is mixed, though it leans toward {label}."],
    "weak": ["The voice makes a weak case, so the label {label} rests on little acoustic evidence here.",
             "Little in the voice argues for it, so {label} is given on weak acoustic grounds.",
             "All in all, the acoustic case is weak: the emotion is given as {label}, but the voice alone does not show it."],
}
_CONCLUDE_EVEN = ["The case from the voice is mixed, with neither side ahead, and the emotion is given as {label}.",
                  "So the voice leaves the case open, and the emotion is given as {label}."]
# A sentence about the words only where it says something true of this clip: its question or exclamation
# form, and what that form suggests for the emotion. Corpora that read the same sentences in every emotion
# (manifest ``same_sentences``) get none: the words cannot tell their emotions apart. A plain statement gets
# none either: "the words are read only after the voice" said nothing, in 57 of 57 rationales.
_FORM = {"?": ["Its question form", "The question form of the sentence", "That it is phrased as a question"],
         "!": ["Its exclamation", "The exclamatory form of the sentence", "That it is written as an exclamation"]}
_FORM_FITS = {  # which emotions the form suggests (an exclamation: raised arousal; a question: uncertainty, astonishment)
    "?": {"confused", "surprise"},
    "!": {"happy", "angry", "surprise", "fear"},
}
_FORM_VERB = {True: ["fits {state}", "goes with {state}", "is in keeping with {state}"],
              False: ["does not by itself point toward {state}", "adds nothing for {state}",
                      "is no sign of {state} on its own"]}


# What the levels were graded against, by the record's ``level_group`` (calibrate/levels.py): "for this
# speaker" is true only where the thresholds were fitted on this speaker's own clips.
_REFERENCE = {  # kind -> ("for ..." after a level word, "set against ...", [closing notes])
    # the closing notes repeat no phrase of the pitch sentence they follow ("this speaker's own range" twice)
    "speaker": ("for this speaker", "this speaker's own range", [
        "Each level is judged against how this speaker normally sounds, not against an absolute scale.",
        "These levels are relative to how this speaker usually sounds, which keeps the reading fair to this voice."]),
    "corpus_gender": ("for {a_gender} voice in this corpus", "the {gender} voices of this corpus", [
        "Each level is judged against how {gender} speakers of this corpus normally sound, not against an absolute scale.",
        "These levels are relative to the {gender} speakers of this corpus, not to an absolute scale."]),
    "corpus": ("for a voice in this corpus", "the voices of this corpus", [
        "Each level is judged against how the speakers of this corpus normally sound, not against an absolute scale.",
        "These levels are relative to the speakers of this corpus, not to an absolute scale."]),
    "global": ("for a voice in this dataset", "all the voices in this dataset", [
        "Each level is judged against every speaker in the dataset, not against an absolute scale.",
        "These levels are relative to every speaker in the dataset, not to an absolute scale."]),
    "mixed": ("for the group it is compared with", "the group of voices it is compared with", [
        "Each level is judged against the group of voices it was calibrated on, not against an absolute scale."]),
}


def _reference(record: dict) -> tuple[str, str, list[str]]:
    kind, gender = level_reference(record)
    fill = {"gender": gender or "", "a_gender": f"a {gender}" if gender else ""}
    phrase, against, notes = _REFERENCE[kind]
    return phrase.format(**fill), against.format(**fill), [n.format(**fill) for n in notes]


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


def _cue_sentence(cue: str, table: list[str], level: str, record: dict, rng: random.Random, used: set[str]) -> str:
    """One cue's level, with an adjective not in ``used`` (the cue sentences before it): "the pitch sounds
    moderate. Vocal effort sounds moderate" said one word twice in a row (template-v7)."""
    sentence = _choice(rng, table)
    # no adjective whose last part is the noun that follows it ("a mid-level level")
    options = [w for w in _WORDS[cue][level] if not ("{w} level" in sentence and w.endswith("-level"))]
    word = _choice(rng, [w for w in options if w not in used] or options)
    used.add(word)
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


def _relative_levels(levels: dict) -> bool:
    """Whether a text states a vocal effort or tempo level, whose sentence does not say what it is relative to (the
    pitch sentence does): the same 4.7 syllables per second is "slow" for one speaker and "rapid" for another, so
    the text says once that its levels are relative, right after them."""
    return "energy" in levels or "speed" in levels


def write_caption(record: dict) -> str:
    """A description of speaker, prosody and words; no emotion is named or guessed."""
    rng = random.Random(f"caption:{record['id']}")
    text = (record.get("transcript") or "").strip()
    parts = [_sentence(_speaker_phrase(record)) + f" says \"{text}\"." if text
             else f"The clip holds speech from {_speaker_phrase(record)}."]
    levels = _levels(record)
    used: set[str] = set()
    for cue, table in (("pitch", _PITCH), ("energy", _ENERGY), ("speed", _SPEED)):
        if cue in levels:
            parts.append(_cue_sentence(cue, table, levels[cue], record, rng, used))
    if _relative_levels(levels):
        parts.append(_choice(rng, _reference(record)[2]))
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


def _count(n: int, noun: str = "cue") -> str:
    return f"{_NUMBER.get(n, str(n))} {noun}{'' if n == 1 else 's'}"


def _named(items: list[tuple[str, str]], rng: random.Random) -> str:
    used: set[str] = set()
    return _join([_cue_name(cue, level, rng, used) for cue, level in items])


def _side(table, items: list[tuple[str, str]], rng: random.Random, state: str) -> str:
    several, one = _choice(rng, table)
    return _sentence((several if len(items) > 1 else one).format(cues=_named(items, rng), state=state))


def _argument(case: Case, rng: random.Random, state: str) -> list[str]:
    """The cues for, neither way and against, as the table puts them, and the count where both sides have cues."""
    out = [_side(_FOR, case.supporting, rng, state) if case.supporting else _choice(rng, _NONE_FOR).format(state=state)]
    if case.neutral:
        out.append(_side(_NEITHER, case.neutral, rng, state))
    if case.opposing:
        out.append(_side(_AGAINST, case.opposing, rng, state))
    n_for, n_against = len(case.supporting), len(case.opposing)
    if n_for and n_against:
        key = "more_for" if n_for > n_against else "even" if n_for == n_against else "more_against"
        out.append(_choice(rng, _BALANCE[key]).format(
            for_n=_count(n_for), against_n=_count(n_against), for_verb="speaks" if n_for == 1 else "speak"))
    return out


def _same_sentences(corpus: str | None) -> bool:
    """The corpus manifest says every emotion is read on the same sentences (``same_sentences: true``)."""
    from emotioncot.ingest.manifest import load_manifest

    try:
        return bool(corpus and load_manifest(corpus).get("same_sentences"))
    except (FileNotFoundError, ValueError):
        return False


def _words_sentence(record: dict, emotion: str, rng: random.Random, state: str) -> str | None:
    """What the sentence form of the transcript suggests for ``emotion``, or None when it would say nothing."""
    text = (record.get("transcript") or "").strip()
    mark = text[-1:]
    if mark not in _FORM or _same_sentences(record.get("corpus")):
        return None
    fits = emotion in _FORM_FITS[mark]
    return f"{_choice(rng, _FORM[mark])} {_choice(rng, _FORM_VERB[fits]).format(state=state)}."


def _state(record: dict, emotion: str, rng: random.Random) -> str:
    """What the cues for ``emotion`` amount to. Levels graded against the speaker's own clips put neutral
    clips at that speaker's baseline, and the rationale says so."""
    if emotion == "neutral" and level_reference(record)[0] == "speaker":
        return "this speaker's own resting baseline"
    return _choice(rng, _STATE[emotion])


def write_rationale(record: dict, emotion: str, evidence: dict | None = None) -> str:
    """A 50-200 word chain of thought, acoustic cues first, that names ``emotion`` only at the end. Cues are
    weighed by ``evidence`` (the build's table, ``calibrate.evidence``; None: the documented prior)."""
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}")
    rng = random.Random(f"rationale:{record['id']}")
    text = (record.get("transcript") or "").strip()
    speaker = _speaker_phrase(record)
    opener = _choice(rng, _OPENERS) if text else "The clip holds speech from {speaker}."
    sentences = [_sentence(opener.format(speaker=speaker, text=text))]

    levels = _levels(record)
    used: set[str] = set()
    for cue, table in (("pitch", _PITCH), ("energy", _ENERGY), ("speed", _SPEED)):
        if cue in levels:
            sentences.append(_cue_sentence(cue, table, levels[cue], record, rng, used))
    relative = _relative_levels(levels)
    if relative:
        sentences.append(_choice(rng, _reference(record)[2]))
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
        # ', which draws attention to that word' said nothing, in 46 of 57 real rationales (template-v6)
        sentences.append(_choice(rng, _STRESS).format(stressed=_quoted(stressed)))

    case = weigh(record, emotion, evidence)
    state = _state(record, emotion, rng)
    sentences += _argument(case, rng, state)
    words = _words_sentence(record, emotion, rng, state)
    if words:
        sentences.append(words)
    if not relative and len(" ".join(sentences).split()) < 60:
        sentences.append(_choice(rng, _reference(record)[2]))
    even = case.strength == "mixed" and len(case.supporting) == len(case.opposing)
    sentences.append(_choice(rng, _CONCLUDE_EVEN if even else _CONCLUDE[case.strength]).format(label=emotion))
    return _tidy(" ".join(sentences))


def write_template(record: dict, label_mode: str = "aware", evidence: dict | None = None) -> dict:
    """A ``GeneratedText`` row for one record (utterance + measurements + levels); cues are weighed by
    ``evidence``, the build's evidence table (None: the documented prior)."""
    if label_mode != "aware" or not record.get("emotion"):
        raise ValueError("the template writer needs the gold emotion (label-aware mode); use --writer openai for label-blind rationales")
    return {
        "id": record["id"],
        "caption": write_caption(record),
        "cot_analysis": write_rationale(record, record["emotion"], evidence),
        "writer": "template",
        "model": None,
        "prompt_id": PROMPT_ID,
        "prompt_hash": None,
        "label_mode": "aware",
        "inferred_emotion": None,
        "seed": None,
    }


def write_template_batch(records: list[dict], label_mode: str = "aware",
                         evidence: dict | None = None) -> tuple[list[dict], list[dict]]:
    """(rows, errors) for one batch: a ``GeneratedText`` row per record the writer can write, and for each
    one it cannot, ``{"id", "path", "reason"}``. Depends on nothing but the batch."""
    rows, errors = [], []
    for record in records:
        try:
            rows.append(write_template(record, label_mode, evidence))
        except ValueError as exc:
            errors.append({"id": record["id"], "path": record.get("audio_path"), "reason": str(exc)})
    return rows, errors
