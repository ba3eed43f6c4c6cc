"""Synthetic ``Record`` dicts (text only, every row pointing at one audio file) for export tests and the
35K-record benchmark. Not a data source: nothing here is measured. The levels and numbers are random, but the
rationale and caption are the offline writer's text for them, so every row says only what it holds and
passes ``validate``'s text check (push-to-hub refuses a set whose text the filter rejects)."""

from __future__ import annotations

import random

from emotioncot.taxonomy import EMOTIONS, INTONATIONS, PITCH_LEVELS, SPEED_LEVELS
from emotioncot.write.template import write_template


def synthetic_records(n: int, audio_path: str, seed: int = 0, corpora: tuple[str, ...] = ("corpus_a", "corpus_b", "corpus_c")) -> list[dict]:
    rng = random.Random(seed)
    words = "the kids are talking by the door and the dogs are sitting by the window again today".split()
    out = []
    for i in range(n):
        emotion = rng.choice(EMOTIONS)
        pitch, energy, speed = rng.choice(PITCH_LEVELS), rng.choice(PITCH_LEVELS), rng.choice(SPEED_LEVELS)
        transcript = " ".join(rng.choice(words) for _ in range(rng.randint(4, 12)))
        record = {
            "id": f"synthetic_{i:06d}",
            "corpus": corpora[i % len(corpora)],
            "audio_path": audio_path,
            "duration_s": round(rng.uniform(1.0, 8.0), 3),
            "speaker_id": f"spk{i % 97:03d}",
            "gender": rng.choice(["Male", "Female"]),
            "gender_source": "metadata",
            "age_level": "Young Adult",
            "transcript": transcript,
            "language": "en",
            "native_label": emotion,
            "emotion": emotion,
            "soft_labels": {emotion: 0.8, "neutral": 0.2} if i % 5 == 0 else None,
            "valence": rng.uniform(1, 5) if i % 7 == 0 else None,
            "split": rng.choices(("train", "validation", "test"), weights=(8, 1, 1))[0],
            "meta": {"row": i},
            "f0_median_hz": rng.uniform(90, 260),
            "energy_dbfs": rng.uniform(-40, -10),
            "speaking_rate_sps": rng.uniform(2, 7),
            "pause_count": rng.randint(0, 5),
            "intonation": rng.choice(INTONATIONS),
            "stressed_words": rng.sample(transcript.split(), 2),
            "null_reasons": {} if i % 11 else {"hnr_db": "too few voiced frames"},
            "pitch_level": pitch,
            "energy_level": energy,
            "speed_level": speed,
            "level_group": None,  # set below: the corpus's speakers of this gender, as calibrate writes it
            "tool_version": "0.1.0",
            "thresholds_version": "synthetic",
        }
        record["level_group"] = f"{record['corpus']}/gender={record['gender']}"
        text = write_template(record)
        out.append({**record, "caption": text["caption"], "cot_analysis": text["cot_analysis"], "writer": "template",
                    "prompt_id": text["prompt_id"], "label_mode": "aware", "seed": 0})
    return out
