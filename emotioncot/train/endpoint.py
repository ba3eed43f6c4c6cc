"""Completions from an OpenAI-compatible audio endpoint (a served audio LLM: vLLM, llama.cpp's server, a hosted
API), so a model that is not local is scored on the same split, prompts and metrics as a local one.

Each request is the row's GRPO ``prompt`` with the clip attached the way the released EmotionThinker inference
script attaches it: the user turn becomes ``[audio part, text part]``, the text part unchanged (its ``<audio>``
placeholder included). The clip travels as a base64 16-bit WAV ``input_audio`` part at its own rate. A request
that fails after the client's retries gives an empty completion (scored as no valid answer) and its reason.
The API key is read from the environment variable named in the config and never written anywhere.
"""

from __future__ import annotations

import base64
import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from tqdm import tqdm


def wav_part(cell) -> dict:
    """An ``input_audio`` content part from an undecoded Audio cell (``{"bytes", "path"}``)."""
    import soundfile as sf

    from emotioncot.export.audio import decode_audio_cell

    audio = decode_audio_cell(cell if isinstance(cell, dict) else {"path": cell, "bytes": None})
    buf = io.BytesIO()
    sf.write(buf, audio["array"], audio["sampling_rate"], format="WAV", subtype="PCM_16")
    return {"type": "input_audio", "input_audio": {"data": base64.b64encode(buf.getvalue()).decode(), "format": "wav"}}


def audio_messages(prompt: list[dict], cell) -> list[dict]:
    """``prompt`` with the clip attached to its (last) user turn."""
    out = [dict(m) for m in prompt]
    last = max(i for i, m in enumerate(out) if m["role"] == "user")
    out[last] = {"role": "user", "content": [wav_part(cell), {"type": "text", "text": out[last]["content"]}]}
    return out


def endpoint_completions(rows: list[dict], base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY",
                         concurrency: int = 8, timeout_s: float = 120.0, max_retries: int = 3,
                         max_new_tokens: int = 512, progress: bool = True) -> tuple[list[str], list[dict]]:
    """Greedy (temperature 0) completions for ``rows`` (each with ``prompt``, ``audio``, ``id``), in row order,
    and one ``{"id", "reason"}`` per request that failed."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key=os.environ.get(api_key_env) or "EMPTY",
                           max_retries=max_retries, timeout=timeout_s)

    def one(row: dict) -> tuple[str, Optional[str]]:
        try:
            messages = audio_messages(row["prompt"], row["audio"])
        except Exception as exc:
            return "", f"audio: {exc}"
        try:
            response = client.chat.completions.create(
                model=model, messages=messages, temperature=0.0, max_tokens=max_new_tokens,
                extra_headers={"X-Emotioncot-Record": str(row.get("id", "")), "X-Emotioncot-Task": "evaluate"},
            )
            return (response.choices[0].message.content or ""), None
        except openai.APIStatusError as exc:
            return "", f"HTTP {exc.status_code} from the endpoint"
        except openai.APIError as exc:
            return "", f"{type(exc).__name__}: request failed"

    texts: list[str] = []
    errors: list[dict] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for row, (text, problem) in tqdm(zip(rows, pool.map(one, rows)), total=len(rows), desc="evaluating",
                                         unit="clip", disable=not progress):
            texts.append(text)
            if problem:
                errors.append({"id": row.get("id"), "reason": problem})
    client.close()
    return texts, errors
