"""Reading an export for training: the split, the text-policy prompts, and the audio.

An export's ``dataset/`` is a DatasetDict (``emotioncot.export.load_dataset_dir``): ``messages`` (SFT chat),
``prompt`` + ``solution`` (GRPO), the measured levels and the ``audio`` column (read with ``decode=False``;
emotioncot decodes audio itself, see ``emotioncot.export.writer``).

The text policy cannot hear: its user turn has the ``<audio>`` placeholder replaced by the transcript and the
measured cues (levels, intonation, stress, speaker), i.e. what a listener's ears would have told it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Optional

import numpy as np

from emotioncot.export.views import AUDIO_PLACEHOLDER

# Columns the rewards and graders read; everything else is dropped before training to keep batches light.
REWARD_COLUMNS = (
    "id", "solution", "emotion", "transcript", "caption", "pitch_level", "energy_level", "speed_level",
    "intonation", "stressed_words", "gender", "age_level", "corpus",
)


def resolve_dataset_dir(path: Path) -> Path:
    """The DatasetDict folder for ``path``: the folder itself, or ``path/dataset`` (a build or export folder)."""
    path = Path(path)
    for candidate in (path, path / "dataset"):
        if (candidate / "dataset_dict.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"{path}: no exported dataset here (expected {path}/dataset_dict.json or {path}/dataset/dataset_dict.json; "
        "run `emotioncot build` or `emotioncot export` first)"
    )


def load_split(path: Path, split: str = "train", prompt_style: Optional[str] = None):
    """One split of an export, audio left undecoded. Errors name the folder and the splits it has.

    ``prompt_style`` (a name in ``emotioncot.export.views.PROMPT_STYLES``) renders ``messages`` and ``prompt``
    again in that style from each row's rationale and label; None keeps the views as exported."""
    from emotioncot.export import load_dataset_dir

    folder = resolve_dataset_dir(path)
    dd = load_dataset_dir(folder)
    if split not in dd:
        raise ValueError(f"{folder}: no split {split!r} (has {', '.join(dd)})")
    ds = dd[split]
    missing = [c for c in ("messages", "prompt", "solution") if c not in ds.column_names]
    if missing:
        raise ValueError(f"{folder}: split {split!r} lacks the training column(s) {', '.join(missing)}")
    if len(ds) == 0:
        raise ValueError(f"{folder}: split {split!r} is empty")
    if prompt_style is not None:
        ds = restyle(ds, prompt_style)
    return ds


def restyle(ds, style: str):
    """``ds`` with its training views rendered in prompt style ``style``."""
    from emotioncot.export.views import grpo_prompt, prompt_style, sft_messages

    prompt_style(style)  # unknown names fail here, before any row is mapped
    if getattr(ds.features.get("audio"), "decode", False):  # the views never read the clip: do not decode it
        import datasets

        ds = ds.cast_column("audio", datasets.Audio(sampling_rate=ds.features["audio"].sampling_rate, decode=False))
    return ds.map(lambda r: {"messages": sft_messages(r, style), "prompt": grpo_prompt(r, style)},
                  desc=f"{style} prompts")


def cue_text(row: dict) -> str:
    """What the text policy reads in place of the audio.

    >>> cue_text({"transcript": "Hi there.", "pitch_level": "high", "energy_level": "low", "speed_level": "fast",
    ...           "gender": "Female", "age_level": "Elderly", "intonation": "rising", "stressed_words": ["Hi"]})
    'Transcript: "Hi there."\\nSpeaker: Elderly Female.\\nMeasured cues: pitch high, energy low, speaking rate fast, intonation rising; stressed words: Hi.'
    """
    lines = [f'Transcript: "{(row.get("transcript") or "").strip()}"']
    speaker = " ".join(str(x) for x in (row.get("age_level"), row.get("gender")) if x)
    if speaker:
        lines.append(f"Speaker: {speaker}.")
    cues = [
        f"{name} {row.get(col)}"
        for name, col in (("pitch", "pitch_level"), ("energy", "energy_level"), ("speaking rate", "speed_level"),
                          ("intonation", "intonation"))
        if row.get(col) and row.get(col) not in ("uncertain", "too_short")
    ]
    text = "Measured cues: " + (", ".join(cues) if cues else "none measured")
    stressed = [str(w) for w in (row.get("stressed_words") or [])]
    if stressed:
        text += f"; stressed words: {', '.join(stressed)}"
    lines.append(text + ".")
    return "\n".join(lines)


def _replace_placeholder(messages: list[dict], replacement: str) -> list[dict]:
    out = []
    for m in messages:
        content = m["content"]
        if m["role"] == "user" and isinstance(content, str):
            content = content.replace(AUDIO_PLACEHOLDER, replacement)
        out.append({"role": m["role"], "content": content})
    return out


def text_prompt(row: dict) -> list[dict]:
    """The GRPO prompt of ``row`` for the text policy."""
    return _replace_placeholder(row["prompt"], cue_text(row))


def text_sft_example(row: dict) -> dict:
    """Prompt/completion form of the SFT chat for the text policy (loss on the completion only)."""
    messages = _replace_placeholder(row["messages"], cue_text(row))
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def _without_audio(ds):
    # The text policy never reads the clip: drop it before mapping so its bytes are not copied.
    return ds.remove_columns("audio") if "audio" in ds.column_names else ds


def prepare_text_sft(ds):
    ds = _without_audio(ds)
    return ds.map(text_sft_example, remove_columns=ds.column_names, desc="text SFT view")


def prepare_text_grpo(ds):
    ds = _without_audio(ds)
    keep = [c for c in REWARD_COLUMNS if c in ds.column_names]
    ds = ds.map(lambda r: {"prompt": text_prompt(r)}, desc="text GRPO view")
    return ds.remove_columns([c for c in ds.column_names if c not in keep + ["prompt"]])


def prepare_audio(ds, with_sft: bool):
    """Audio views keep the undecoded audio cell; the adapter decodes it per batch."""
    keep = [c for c in REWARD_COLUMNS if c in ds.column_names] + ["prompt", "audio"] + (["messages"] if with_sft else [])
    return ds.remove_columns([c for c in ds.column_names if c not in keep])


def load_audio(cell, sampling_rate: int, max_s: Optional[float] = None) -> np.ndarray:
    """Mono float32 samples at ``sampling_rate`` from an undecoded Audio cell (``{"bytes", "path"}``) or a path."""
    import soundfile as sf
    from scipy.signal import resample_poly

    from emotioncot.audio.io import read_audio

    if isinstance(cell, dict) and cell.get("bytes"):
        try:
            y, sr = sf.read(io.BytesIO(cell["bytes"]), dtype="float32", always_2d=True)
        except Exception as exc:
            raise ValueError(f"{cell.get('path') or '<embedded audio>'}: cannot decode audio bytes ({exc})") from exc
        y = y.mean(axis=1)
    else:
        path = cell.get("path") if isinstance(cell, dict) else cell
        if not path:
            raise ValueError("audio cell has neither bytes nor a path")
        y, sr = read_audio(path)
    y = np.asarray(y, dtype=np.float32)
    if sr != sampling_rate:
        from math import gcd

        g = gcd(int(sr), int(sampling_rate))
        y = resample_poly(y, sampling_rate // g, int(sr) // g).astype(np.float32)
    if max_s is not None:
        y = y[: int(max_s * sampling_rate)]
    return y
