"""The filter on what real models wrote: each bug of issue 17, from a real answer (the quoted fragments are the
models' own words, as reported in the issue; the rest of each sentence is the smallest frame around them)."""

from __future__ import annotations

from emotioncot.config import FilterConfig
from emotioncot.filter import filter_records
from emotioncot.filter.caption import caption_problems
from emotioncot.filter.grounding import grounding_problems, level_statements
from emotioncot.filter.label import label_problems
from emotioncot.filter.surface import copied_prompt_problems, markup_problems, transcript_problems
from emotioncot.write.client import check_answer

BASE = dict(gender="Male", age_level="Young Adult", pitch_level="normal", energy_level="normal", speed_level="fast",
            intonation="falling", stressed_words=["Kids"], transcript="Kids are talking by the door", emotion="sad")


def codes(text: str, **record) -> list[str]:
    return [c for c, _ in grounding_problems({**BASE, **record, "cot_analysis": text})]


def test_measured_is_not_a_speed_word():
    assert codes("The measured cues show a young adult male speaker with a normal pitch.") == []
    assert level_statements("The measured cues show it.")["speed"] == []


def test_negation_of_pauses_does_not_reach_the_next_noun_phrase():
    text = "He speaks with the lack of pauses and the normal speaking rate of a calm man."
    assert codes(text, speed_level="normal") == []
    assert codes(text, speed_level="fast") == ["grounding_speed"]  # still read: the rate is said to be normal


def test_a_quoted_conclusion_is_not_a_stressed_word():
    assert codes('The reason for the conclusion of "sad" is the emphasis on "Kids".') == []
    assert codes('The reason for the conclusion of "sad" is the emphasis on "door".') == ["grounding_stress"]


def test_steady_pace_is_not_a_speaking_rate():
    assert codes("He speaks at a steady pace.", speed_level="fast") == []


def test_claims_inside_quotes_that_are_not_the_transcription_are_read():
    text = 'The speaker is a "middle-aged male male" with a "low" pitch.'
    assert sorted(codes(text)) == ["grounding_age", "grounding_pitch"]
    # the quoted transcription itself still says nothing about the voice
    assert codes('He says "Kids are talking by the door" and his pitch is normal.', transcript="Kids are talking by the door") == []


def test_not_entirely_normal_loudness_contradicts_a_normal_level():
    assert codes("His loudness is not entirely normal.") == ["grounding_energy"]
    assert codes("His loudness is not entirely normal.", energy_level="high") == []


def test_the_gold_label_in_quotes_leads_and_is_caught():
    rec = {**BASE, "emotion": "angry", "transcript": "Kids are talking by the door!",
           "cot_analysis": 'The gold emotion label "angry" fits this clip. His pitch is normal. So he is angry.'}
    problems = [c for c, _ in label_problems(rec, "aware")[0]]
    assert "label_leading" in problems
    # the writer's own first-sentence check catches it too, and the model is asked again
    _, _, problem = check_answer(rec["cot_analysis"], "stop", "rationale", "aware", "angry", rec["transcript"])
    assert problem and "first sentence" in problem
    # a quoted transcription that holds the word is not a leak
    quoted = {**rec, "transcript": "I am so angry at you", "cot_analysis":
              'He says "I am so angry at you" with a normal pitch. It is loud. So the emotion is anger.'}
    assert "label_leading" not in [c for c, _ in label_problems(quoted, "aware")[0]]


def test_a_denied_emotion_is_not_the_conclusion():
    rec = {**BASE, "emotion": "angry",
           "cot_analysis": "His pitch is normal and the words are calm. The emotion of anger does not emerge from this voice."}
    assert "label_conclusion" in [c for c, _ in label_problems(rec, "aware")[0]]
    ok = {**rec, "cot_analysis": "His pitch is normal and the words are calm. Still, the emotion is anger, not fear."}
    assert "label_conclusion" not in [c for c, _ in label_problems(ok, "aware")[0]]


def test_captions_that_copy_the_prompt_block_are_rejected():
    caption = ('Speaker: a young adult male speaker\nTranscription: "Kids are talking by the door"\n'
               "Measured cues (levels are relative to the speaker's group):\n- pitch: normal (median 120 Hz)")
    found = [c for c, _ in caption_problems({**BASE, "caption": caption}, 15, 120)]
    assert "caption_copied_prompt" in found and "caption_format" in found
    kept, rejected = filter_records([{**BASE, "caption": caption, "cot_analysis": _faithful()}], FilterConfig())
    assert not kept and "caption_copied_prompt" in rejected[0]["reject_reasons"]


def test_captions_are_grounded_bounded_and_do_not_name_the_emotion():
    low = 'A young adult male speaker with a very low pitch and a loud voice says "Kids are talking by the door".'
    found = [c for c, _ in caption_problems({**BASE, "caption": low}, 15, 120)]
    assert found.count("caption_grounding") == 2  # pitch and energy, each with its explanation
    sad = 'A young adult male speaker with a normal pitch sounds sad as he says "Kids are talking by the door" quickly.'
    assert "caption_emotion" in [c for c, _ in caption_problems({**BASE, "caption": sad}, 15, 120)]
    assert [c for c, _ in caption_problems({**BASE, "caption": "A man speaks."}, 15, 120)] == ["caption_length"]
    good = ('A young adult male speaker talks quickly at a normal pitch and loudness, stressing "Kids", as he says '
            '"Kids are talking by the door" with a falling melody.')
    assert caption_problems({**BASE, "caption": good}, 15, 120) == []


def test_parroted_instructions_and_markdown_are_rejected():
    assert copied_prompt_problems("The gold emotion label is sad, so the reasoning ends there.")
    assert copied_prompt_problems("I will reason without opening with it and then conclude.")
    assert copied_prompt_problems("Then quote what is said, in double quotes, exactly as given, and go on.")
    assert not copied_prompt_problems(_faithful())
    assert markup_problems("1. The pitch is normal.\n2. The pace is fast.")
    assert markup_problems("**Pitch**: normal")
    assert not markup_problems(_faithful())


def test_a_quoted_excerpt_of_a_long_transcription_is_accepted():
    long = ("I told you yesterday that the meeting would be moved to the big room on the second floor because the "
            "small one is being painted this week and nobody can work there")
    text = 'He says "the meeting would be moved to the big room on the second floor" at a fast pace.'
    assert transcript_problems(text, long, 0.8, 30, 8) == []
    assert transcript_problems('He says "the meeting" at a fast pace.', long, 0.8, 30, 8)


def _faithful() -> str:
    return ('A young adult male speaker keeps his pitch and loudness in a normal range while the words come quickly. '
            'He says "Kids are talking by the door", stressing "Kids", and the melody falls at the end. Nothing in '
            "the voice is raised or strained, and the plain statement of what is happening reads as withdrawn "
            "in content, so the quick delivery is the one cue that does not fit. Weighing the level voice "
            "and the resigned words, the feeling is best described as sad.")


def test_the_faithful_reference_text_passes_every_check():
    kept, rejected = filter_records([{**BASE, "cot_analysis": _faithful()}], FilterConfig())
    assert kept and not rejected, rejected
