"""A tiny Tekken tokenizer file (``tekken.json``, mistral-common's format) trained offline on the export's text.

Laid out as Voxtral's released ``tekken.json``: 1000 control tokens first (``<s>``=1, ``</s>``=2, ``[INST]``=3,
``<pad>``=11, ``[AUDIO]``=24, ``[BEGIN_AUDIO]``=25; ``VoxtralProcessor`` hard-codes 24), then a byte-level BPE
vocabulary given as ranked byte strings (tiktoken's form), and the audio section (16 kHz, 12.5 audio tokens a
second, 128 mel bins, 30 s chunks). Only the vocabulary is small: a few hundred merges learnt with the
``tokenizers`` library on the export's messages.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Iterable

NUM_SPECIAL_TOKENS = 1000
AUDIO_TOKEN_ID = 24  # VoxtralProcessor.audio_token_id
# tiktoken pre-tokenisation as in Mistral's Tekken files
PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)
# ranks 0-21 in mistral-common's order, then the audio tokens at the released ranks; the rest are fillers
_CONTROL = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
            "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]",
            "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]", "[ARGS]", "[CALL_ID]",
            "<SPECIAL_22>", "<SPECIAL_23>", "[AUDIO]", "[BEGIN_AUDIO]", "[TRANSCRIBE]"]
AUDIO_CONFIG = {
    "sampling_rate": 16000, "frame_rate": 12.5, "chunk_length_s": 30.0,
    "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160, "window_size": 400},
}


def _byte_decoder() -> dict[str, int]:
    """The inverse of the byte-level alphabet (GPT-2's bytes_to_unicode) the ``tokenizers`` BPE learns in."""
    from tokenizers.pre_tokenizers import ByteLevel

    printable = [*range(ord("!"), ord("~") + 1), *range(ord("\u00a1"), ord("\u00ac") + 1),
                 *range(ord("\u00ae"), ord("\u00ff") + 1)]
    table, n = {}, 0
    for b in range(256):
        if b in printable:
            table[chr(b)] = b
        else:
            table[chr(256 + n)] = b
            n += 1
    assert set(table) == set(ByteLevel.alphabet()), "the byte-level alphabet of tokenizers changed"
    return table


def ranked_vocab(texts: Iterable[str], merges: int = 500) -> list[bytes]:
    """The 256 bytes, then the merges a byte-level BPE learns on ``texts``, in the order it learnt them (a
    merge's parts always rank before it, as tiktoken requires)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PATTERN), behavior="isolated"), pre_tokenizers.ByteLevel(use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=256 + merges, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(texts), trainer=trainer)
    decode = _byte_decoder()
    ranked = [bytes([b]) for b in range(256)]
    seen = set(ranked)
    for pair in json.loads(tok.to_str())["model"]["merges"]:
        left, right = pair if isinstance(pair, list) else pair.split(" ")
        merged = bytes(decode[c] for c in left + right)
        if merged not in seen:
            seen.add(merged)
            ranked.append(merged)
    return ranked


def _text(piece: bytes):
    """A token's text, or None for a piece that is not whole UTF-8 (as in the released files)."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError:
        return None


def write_tekken(texts: Iterable[str], out: Path, merges: int = 500) -> Path:
    """``out/tekken.json``: a Tekken v11 tokenizer with audio, trained on ``texts``."""
    vocab = ranked_vocab(texts, merges)
    special = [{"rank": i, "token_str": t, "is_control": True} for i, t in enumerate(_CONTROL)]
    data = {
        "config": {"pattern": PATTERN, "num_vocab_tokens": len(vocab), "default_vocab_size": NUM_SPECIAL_TOKENS
                   + len(vocab), "default_num_special_tokens": NUM_SPECIAL_TOKENS, "version": "v11"},
        "vocab": [{"rank": i, "token_bytes": base64.b64encode(b).decode("ascii"), "token_str": _text(b)}
                  for i, b in enumerate(vocab)],
        "special_tokens": special,
        "version": 1, "type": "Tekken",
        "audio": AUDIO_CONFIG,
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "tekken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
