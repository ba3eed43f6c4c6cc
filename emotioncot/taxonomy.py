"""The unified 9-class emotion taxonomy, the release vocabularies, and label normalisation.

Every corpus maps its native labels onto these classes in its manifest (``manifests/corpora/*.yaml``);
this module only knows the target side.
"""

from __future__ import annotations

import re

EMOTIONS: tuple[str, ...] = (
    "neutral",
    "happy",
    "sad",
    "angry",
    "contempt or disgust",
    "confused",
    "whisper",
    "surprise",
    "fear",
)

PITCH_LEVELS = ("low", "normal", "high")
ENERGY_LEVELS = ("low", "normal", "high")
SPEED_LEVELS = ("slow", "normal", "fast")
INTONATIONS = ("rising", "falling", "rising-falling", "falling-rising", "flat", "expressive", "uncertain", "too_short")
GENDERS = ("Male", "Female")
AGE_LEVELS = ("Child", "Teenager", "Young Adult", "Middle-aged", "Elderly")
SPLITS = ("train", "validation", "test")

# Words a model (or a rationale) may use for each class. Used to read answers and to detect leakage.
EMOTION_ALIASES: dict[str, tuple[str, ...]] = {
    "neutral": ("neutral", "calm", "neutrality", "emotionless", "matter-of-fact"),
    "happy": ("happy", "happiness", "joy", "joyful", "glad", "cheerful", "delighted", "excited", "elated", "pleased"),
    "sad": ("sad", "sadness", "sorrow", "sorrowful", "unhappy", "melancholy", "grief", "depressed", "gloomy"),
    "angry": ("angry", "anger", "furious", "fury", "irritated", "annoyed", "mad", "rage", "frustrated", "hostile"),
    "contempt or disgust": (
        "contempt or disgust", "contempt", "disgust", "disgusted", "contemptuous", "disdain", "scornful", "revulsion",
    ),
    "confused": ("confused", "confusion", "puzzled", "perplexed", "bewildered", "uncertain"),
    "whisper": ("whisper", "whispering", "whispered"),
    "surprise": ("surprise", "surprised", "astonished", "amazed", "astonishment", "amazement", "startled", "shocked"),
    "fear": ("fear", "fearful", "afraid", "scared", "anxious", "anxiety", "terrified", "frightened", "nervous"),
}

_ALIAS_TO_EMOTION = {alias: emotion for emotion, aliases in EMOTION_ALIASES.items() for alias in aliases}
_ALIAS_TO_EMOTION.update({"disgust or contempt": "contempt or disgust", "contempt/disgust": "contempt or disgust"})


def normalize_emotion(text: str | None) -> str | None:
    """Map a free-form answer ("Angry.", "anger", " Contempt ") onto one of the 9 classes, or None."""
    if text is None:
        return None
    cleaned = re.sub(r"[^a-z /-]", "", text.strip().lower()).strip(" .")
    cleaned = re.sub(r"\s+", " ", cleaned)
    if cleaned in _ALIAS_TO_EMOTION:
        return _ALIAS_TO_EMOTION[cleaned]
    return None


def age_level_from_years(age: float | None) -> str | None:
    """The release's age groups from an age in years (boundaries follow common usage: 13, 20, 40, 60)."""
    if age is None:
        return None
    if age < 13:
        return "Child"
    if age < 20:
        return "Teenager"
    if age < 40:
        return "Young Adult"
    if age < 60:
        return "Middle-aged"
    return "Elderly"
