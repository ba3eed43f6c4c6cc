"""vLLM's ``run-batch`` request line, transcribed from its documented format, to check ``--batch-file`` output.

vLLM itself does not install on this machine (a large CUDA wheel, no GPU), so its own pydantic models
(``vllm.entrypoints.openai.protocol.BatchRequestInput``, whose ``body`` is validated as a
``ChatCompletionRequest`` when ``url`` is ``/v1/chat/completions``) cannot be imported here. This module
restates what its documentation ("OpenAI Batch File Format" of ``vllm run-batch``; the OpenAI Batch API's
input format, which it follows) and those models require of the fields emotioncot writes:

- a line: ``custom_id`` (str), ``method`` (str, ``POST``), ``url`` (one of the endpoints run-batch serves),
  ``body``;
- the body: ``messages`` (role ``system`` / ``user`` / ``assistant``; content a string or a list of
  ``text`` / ``input_audio`` parts), ``model``, ``max_tokens`` or ``max_completion_tokens`` (int >= 1),
  ``temperature`` (>= 0), ``seed`` (a 64-bit int), ``response_format`` (``text`` / ``json_object`` /
  ``json_schema`` with ``json_schema.name`` and ``json_schema.schema``).

Stricter than vLLM on purpose: an unknown field is refused (vLLM ignores it with a warning, so a misspelt
field would silently not apply).
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TextPart(_Strict):
    type: Literal["text"]
    text: str


class InputAudio(_Strict):
    data: str
    format: Literal["wav", "mp3"]


class AudioPart(_Strict):
    type: Literal["input_audio"]
    input_audio: InputAudio


class Message(_Strict):
    role: Literal["system", "user", "assistant"]
    content: Union[str, list[Union[TextPart, AudioPart]]]


class JsonSchema(_Strict):
    name: str
    description: Optional[str] = None
    json_schema: dict = Field(alias="schema")
    strict: Optional[bool] = None


class ResponseFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: Optional[JsonSchema] = None


class ChatCompletionBody(_Strict):
    model: Optional[str] = None
    messages: list[Message] = Field(min_length=1)
    max_tokens: Optional[int] = Field(default=None, ge=1)
    max_completion_tokens: Optional[int] = Field(default=None, ge=1)
    temperature: Optional[float] = Field(default=None, ge=0.0)
    seed: Optional[int] = Field(default=None, ge=-(2 ** 63), le=2 ** 63 - 1)
    response_format: Optional[ResponseFormat] = None


class BatchRequestInput(_Strict):
    custom_id: str
    method: Literal["POST"]
    url: Literal["/v1/chat/completions", "/v1/embeddings", "/v1/score", "/v1/rerank"]
    body: ChatCompletionBody
