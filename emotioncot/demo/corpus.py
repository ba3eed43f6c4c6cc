"""Synthesise the demo corpus into a cache folder (offline, deterministic).

Every clip keeps its synthesis parameters as ground truth in ``metadata.jsonl`` (eSpeak pitch 0-100,
pitch range 0-100, rate in words per minute, volume 0-200, voice variant, word start times), so tests
can check that measurements move the way the parameters do. The emotion presets act each class through
prosody: pitch level and range, rate, volume, sentence punctuation for the contour, the whisper variant.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from emotioncot.config import cache_dir
from emotioncot.tables import atomic_path, commit, write_text_atomic
from emotioncot.workspace import stable_hash

DEMO_VERSION = "2"  # 2: seeded eSpeak noise, synthesis in a fresh process

SENTENCES = (
    "Kids are talking by the door",
    "The meeting is at nine tomorrow morning",
    "I thought you were coming back today",
    "We need to move the boxes before it rains",
    "She left the keys on the kitchen table",
    "That is not what I asked for",
)

# speaker id -> (eSpeak voice, whisper variant, gender, age in years)
VOICES = {
    "m1": ("en-us+m1", "en-us+whisper", "Male", 34),
    "m3": ("en-us+m3", "en-us+whisper", "Male", 58),
    "f2": ("en-us+f2", "en-us+whisperf", "Female", 27),
    "f4": ("en-us+f4", "en-us+whisperf", "Female", 45),
}

# emotion -> (pitch, range, rate wpm, volume, end punctuation)
PRESETS = {
    "neutral": (50, 40, 165, 100, "."),
    "happy": (68, 80, 185, 130, "!"),
    "sad": (32, 15, 125, 70, "."),
    "angry": (60, 75, 195, 185, "!"),
    "contempt or disgust": (38, 45, 140, 110, "."),
    "confused": (52, 55, 140, 95, "?"),
    "whisper": (50, 40, 150, 80, "."),
    "surprise": (85, 95, 175, 150, "?"),
    "fear": (78, 25, 205, 85, "."),
}


def demo_parameters() -> list[dict]:
    """The full, seeded list of clips with their synthesis parameters."""
    clips = []
    for speaker, (voice, whisper_voice, gender, age) in VOICES.items():
        for s_idx, sentence in enumerate(SENTENCES):
            for emotion, (pitch, prange, rate, volume, punct) in PRESETS.items():
                clip_id = f"demo_{speaker}_s{s_idx + 1}_{emotion.split()[0]}"
                rng = random.Random(clip_id)
                clips.append(
                    {
                        "id": clip_id,
                        "speaker_id": speaker,
                        "gender": gender,
                        "age": age,
                        "sentence_id": f"s{s_idx + 1}",
                        "text": sentence + punct,
                        "transcript": sentence + punct,
                        "emotion": emotion,
                        "voice": whisper_voice if emotion == "whisper" else voice,
                        "pitch": int(np.clip(pitch + rng.randint(-6, 6), 0, 99)),
                        "range": int(np.clip(prange + rng.randint(-8, 8), 0, 99)),
                        "rate": int(rate + rng.randint(-10, 10)),
                        "volume": int(np.clip(volume + rng.randint(-10, 10), 10, 200)),
                    }
                )
    return clips


def demo_dir() -> Path:
    return cache_dir() / f"demo-v{DEMO_VERSION}-{stable_hash(demo_parameters(), length=8)}"


def ensure_demo_corpus(root: Path | None = None, progress: bool = True) -> Path:
    """Synthesise the corpus if it is not there yet; return its folder (``metadata.jsonl`` + ``wav/``).

    eSpeak NG carries state from one utterance to the next inside a process (the same text synthesised
    twice differs), and the measure stage also renders speech with it. Synthesis therefore runs in a fresh
    process, clips in a fixed order, so the corpus is the same bytes whatever ran before. Clips are written
    atomically and the metadata file last, so an interrupted synthesis starts again cleanly.
    """
    import multiprocessing

    root = Path(root) if root else demo_dir()
    if (root / "metadata.jsonl").exists():
        return root
    worker = multiprocessing.get_context("spawn").Process(target=_synthesize_corpus, args=(str(root), progress))
    worker.start()
    worker.join()
    if worker.exitcode != 0 or not (root / "metadata.jsonl").exists():
        raise RuntimeError(f"synthesising the demo corpus into {root} failed (exit code {worker.exitcode})")
    return root


def _synthesize_corpus(root: str, progress: bool) -> None:
    from emotioncot.espeak import ESpeak

    root = Path(root)
    meta_path = root / "metadata.jsonl"
    engine = ESpeak.get()
    clips = demo_parameters()
    lines = []
    for clip in tqdm(clips, desc="synthesising demo corpus", unit="clip", disable=not progress):
        wav = root / "wav" / clip["speaker_id"] / f"{clip['id']}.wav"
        synth = engine.synthesize(clip["text"], clip["voice"], clip["rate"], clip["pitch"], clip["range"], clip["volume"])
        # Always (re)written: a clip left by an interrupted run need not match this run's synthesis order.
        tmp = atomic_path(wav)
        try:
            sf.write(str(tmp), synth.samples, synth.sample_rate, subtype="PCM_16", format="WAV")
            commit(tmp, wav)
        finally:
            tmp.unlink(missing_ok=True)
        lines.append(
            json.dumps(
                {
                    **clip,
                    "audio_path": str(wav.relative_to(root)),
                    "sample_rate": synth.sample_rate,
                    "word_starts_s": synth.word_starts_s,
                }
            )
        )
    write_text_atomic(meta_path, "\n".join(lines) + "\n")
