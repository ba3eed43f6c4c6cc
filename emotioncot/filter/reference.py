"""What the levels are relative to: a rationale that grades the voice against "this speaker" is true only
when the thresholds were fitted on that speaker's own clips (``level_group`` ``corpus/speaker=ID``).

The calibrate stage falls back to the corpus's speakers of the same gender, the corpus or the whole dataset
for a speaker with too few clips, and corpora without speaker ids start there; "low for this speaker" then
states a comparison nobody made. Code ``grounding_reference``. Rows that record no ``level_group`` (a
public-format JSONL file) are not judged.
"""

from __future__ import annotations

import re

# Phrases that put a level against the speaker's own voice. Not "the speaker" alone: "the speaker pauses" is
# about the speaker, not a baseline.
SPEAKER_BASELINE = re.compile(
    r"\bfor (?:this|the) (?:speaker|voice|person)\b(?!s)"
    r"|\b(?:this |the )?speaker's (?:own|usual|normal|typical|habitual|baseline|average)\b"
    r"|\b(?:his|her|their) (?:own |usual |normal |typical |habitual )+(?:range|pitch|voice|baseline|register|level|pace|tempo|rate|loudness|effort)\b"
    r"|\b(?:his|her|their) (?:baseline|register)\b"
    r"|\bthan (?:he|she|they) (?:usually|normally|typically|habitually)\b"
    r"|\b(?:he|she|they) (?:usually|normally|typically) (?:speaks?|sounds?)\b",
    re.IGNORECASE,
)


def graded_against(level_group: str) -> str | None:
    """The group in words, or None when it is the speaker's own (then any speaker-relative phrase is true)."""
    parts = [p.strip() for p in level_group.split(" + ") if p.strip()]
    if any("/speaker=" in p for p in parts):
        return None  # some cue was graded against this speaker's own clips: a speaker-relative phrase may be true
    words = []
    for part in parts:
        if part == "global":
            words.append("every speaker in the dataset")
        elif "/gender=" in part:
            corpus, gender = part.split("/gender=", 1)
            words.append(f"the {gender.lower()} speakers of {corpus}" if gender in ("Male", "Female") else f"the speakers of {corpus}")
        else:
            words.append(f"the speakers of {part}")
    return " and ".join(words) or None


def reference_problems(record: dict, masked_text: str) -> list[tuple[str, str]]:
    """``masked_text``: the rationale with the quoted transcription masked (grounding's own input)."""
    group = record.get("level_group")
    against = graded_against(group) if group else None
    if against is None:
        return []
    m = SPEAKER_BASELINE.search(masked_text)
    if not m:
        return []
    return [("grounding_reference", f"says “{m.group(0)}”, but the levels were graded against {against} "
                                    f"(level_group {group}), not this speaker's own clips")]
