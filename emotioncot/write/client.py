"""One chat-completions request done right: retries, backoff, answer checks and secret redaction.

The ``openai`` client is built with ``max_retries=0``: retrying is decided here, because the rules differ
by failure:

- 429: wait what the server asks (``retry-after-ms`` / ``Retry-After``, seconds or an HTTP date, capped),
  else back off;
- 5xx, timeouts, dropped connections: exponential backoff with jitter;
- an empty, truncated (``finish_reason=length``), filtered or malformed answer: retried at once;
- other 4xx (bad request, context too long): not retried, the record fails with the reason;
- 401 / 403 / 404: every request would fail the same way, so the whole stage stops (``FatalEndpointError``).

Every text that leaves this module (failure reasons, exception messages) goes through ``Redactor``: an
endpoint that echoes the ``Authorization`` header in an error body must not put the key into errors.jsonl.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import time
from dataclasses import dataclass, field

import openai

from emotioncot.taxonomy import normalize_emotion
from emotioncot.write.structured import answer_text


class FatalEndpointError(RuntimeError):
    """The endpoint refuses every request (bad key, no permission, unknown model or URL)."""


class Redactor:
    """Replaces each secret (and any bearer or basic credential) in a text by ``***``. Each secret is also
    looked for in the forms it travels in: percent-encoded (a URL's userinfo) and base64 (Basic auth)."""

    _BEARER = re.compile(r"((?:Bearer|Basic)\s+)[^\s'\",}]+", re.I)

    def __init__(self, *secrets: str | None):
        import base64
        from urllib.parse import quote

        plain = [s for s in secrets if s and len(s) >= 4]
        forms = set(plain)
        for s in plain:
            forms.add(quote(s, safe=""))
            forms.add(base64.b64encode(s.encode()).decode().rstrip("="))
        self.secrets = sorted(forms, key=len, reverse=True)  # longest first: no half-replaced secret

    @classmethod
    def for_endpoint(cls, key: str | None, base_url: str | None) -> "Redactor":
        """The key, and whatever credentials the base URL carries (user:password, query values)."""
        from urllib.parse import parse_qsl, unquote, urlsplit

        extra: list[str] = []
        if base_url:
            parts = urlsplit(base_url)
            if parts.password:
                extra += [unquote(parts.password), f"{unquote(parts.username or '')}:{unquote(parts.password)}"]
            elif parts.username:
                extra.append(unquote(parts.username))
            extra += [value for _, value in parse_qsl(parts.query)]
        return cls(key, *extra)

    def __call__(self, text: object) -> str:
        out = str(text)
        for secret in self.secrets:
            out = out.replace(secret, "***")
        return self._BEARER.sub(r"\1***", out)


@dataclass
class RetryPolicy:
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Exponential backoff with 'equal jitter': half fixed, half random, so waits never collapse to 0."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2 ** retry))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_after_s(exc: openai.APIStatusError) -> float | None:
    """What the server asked us to wait, in seconds, or None."""
    headers = exc.response.headers if getattr(exc, "response", None) is not None else {}
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


class RateGate:
    """Shared by all requests of a stage: after a 429 asks for a pause, no new attempt starts before it ends
    (otherwise the other workers keep hitting a server that has just said it is overloaded)."""

    def __init__(self) -> None:
        self.until = 0.0

    def hold(self, seconds: float) -> None:
        self.until = max(self.until, time.monotonic() + seconds)

    async def wait(self) -> None:
        delay = self.until - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class Answer:
    ok: bool
    text: str | None = None
    inferred_emotion: str | None = None
    reason: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    attempts: int = 0
    prompt_tokens: int = 0  # summed over every attempt that returned usage (what was paid for)
    completion_tokens: int = 0
    answer_prompt_tokens: int | None = None  # of the accepted answer
    answer_completion_tokens: int | None = None
    history: list[str] = field(default_factory=list)  # one short note per failed attempt
    unreachable: bool = False  # the last attempt got no HTTP answer at all (connection failed / timed out)
    structured_refused: bool = False  # the endpoint rejected response_format; the answer came as plain text


_EMOTION_LINE = re.compile(r"^[\s*_#>`-]*emotion\s*[:=]\s*(.+?)[\s*_`.]*$", re.I | re.M)


def check_answer(text: str | None, finish_reason: str | None, task: str, label_mode: str,
                 gold: str | None, transcript: str | None = None) -> tuple[str | None, str | None, str | None]:
    """(clean text, inferred emotion, problem). A problem makes the attempt count as failed."""
    if finish_reason == "length":
        return None, None, "truncated answer (finish_reason=length); raise max_tokens in the prompt file"
    if finish_reason == "content_filter":
        return None, None, "answer withheld by the endpoint's content filter"
    text = (text or "").strip()
    if not text or not re.search(r"[A-Za-z]", text):
        return None, None, "empty answer"
    inferred = None
    if task == "rationale" and label_mode == "blind":
        matches = list(_EMOTION_LINE.finditer(text))
        if not matches:
            return None, None, "malformed answer: no final 'EMOTION: <class>' line"
        last = matches[-1]
        inferred = normalize_emotion(last.group(1))
        if inferred is None:
            return None, None, f"malformed answer: {last.group(1)[:40]!r} is not one of the 9 classes"
        text = (text[: last.start()] + text[last.end():]).strip()
        if len(text.split()) < 10:
            return None, None, "malformed answer: no reasoning before the EMOTION line"
    if task == "rationale" and label_mode == "aware" and gold:
        from emotioncot.filter.text import mask_transcript_quotes

        # the quoted transcript may hold the word; a quoted label ('the label "angry"') still counts
        first = mask_transcript_quotes(re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0], transcript).lower()
        if any(re.search(rf"\b{re.escape(word)}", first) for word in gold.split() if word != "or"):
            return None, None, f"rationale names the emotion ({gold}) in its first sentence"
    return text, inferred, None


async def complete(
    client: openai.AsyncOpenAI,
    *,
    model: str,
    messages: list[dict],
    max_tokens: int,
    temperature: float,
    seed: int | None,
    timeout_s: float,
    headers: dict,
    task: str,
    label_mode: str,
    gold: str | None,
    policy: RetryPolicy,
    redact: Redactor,
    rng: random.Random,
    gate: RateGate | None = None,
    on_retry=None,
    response_format: dict | None = None,
    transcript: str | None = None,
    keep_think: bool = False,
) -> Answer:
    """Send one request, retrying by the rules above; never raises except FatalEndpointError.

    ``response_format``: a JSON schema (write/structured.py); an endpoint that rejects it gets the same
    request again without it, and the answer is read as plain text (``structured_refused``)."""
    answer = Answer(ok=False)
    kwargs = dict(model=model, messages=messages, max_tokens=max_tokens, temperature=temperature,
                  timeout=timeout_s, extra_headers=headers)
    if response_format is not None:
        kwargs["response_format"] = response_format
    attempt, budget = -1, policy.max_retries + 1
    while attempt + 1 < budget:
        attempt += 1
        answer.attempts = attempt + 1
        answer.unreachable = False
        if seed is not None:
            # a retry of a truncated or malformed answer must not get the same answer back
            kwargs["seed"] = seed + attempt
        wait = 0.0
        if gate is not None:
            await gate.wait()
        try:
            response = await client.chat.completions.create(**kwargs)
        except openai.RateLimitError as exc:
            asked = retry_after_s(exc)
            wait = min(asked, policy.retry_after_max_s) if asked is not None else policy.backoff(attempt, rng)
            if gate is not None:
                gate.hold(wait)
            note = f"429 rate limited (waited {wait:.1f} s)"
        except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
            raise FatalEndpointError(
                f"the endpoint refused the request ({exc.status_code}): {redact(_message(exc))}"
            ) from None
        except openai.APIStatusError as exc:
            if exc.status_code == 400 and "response_format" in kwargs and _about_format(exc):
                kwargs.pop("response_format")
                answer.structured_refused = True
                note = f"HTTP 400 to response_format, sent again as plain text: {redact(_message(exc))[:120]}"
                answer.history.append(note)
                budget += 1  # not a failure of the answer: it does not use up a retry
                continue
            if exc.status_code >= 500 or exc.status_code in (408, 409):
                wait = policy.backoff(attempt, rng)
                note = f"HTTP {exc.status_code} {redact(_message(exc))[:120]}"
            else:
                answer.history.append(f"HTTP {exc.status_code}: {redact(_message(exc))[:300]}")
                answer.reason = f"endpoint rejected the request (HTTP {exc.status_code}): {redact(_message(exc))[:300]}"
                return answer
        except openai.APITimeoutError:
            wait = policy.backoff(attempt, rng)
            note = f"timed out after {timeout_s:g} s"
            answer.unreachable = True
        except openai.APIConnectionError as exc:
            wait = policy.backoff(attempt, rng)
            answer.unreachable = True
            cause = exc.__cause__
            note = "connection failed" + (f" ({type(cause).__name__})" if cause else "")
        except (json.JSONDecodeError, openai.APIResponseValidationError, ValueError, TypeError) as exc:
            note = f"malformed answer ({type(exc).__name__}: {redact(exc)[:120]})"
        else:
            note = read_response(answer, response, task=task, label_mode=label_mode, gold=gold,
                                 transcript=transcript, keep_think=keep_think, redact=redact)
            if note is None:
                return answer
        note = redact(note)
        answer.history.append(note)
        answer.reason = note
        if on_retry is not None and attempt < budget - 1:
            on_retry(note, answer.unreachable)
        if attempt < budget - 1 and wait > 0:
            await asyncio.sleep(wait)
    answer.reason = f"gave up after {answer.attempts} attempts; last: {answer.reason}"
    return answer


def read_response(answer: Answer, response, *, task: str, label_mode: str, gold: str | None,
                  transcript: str | None, keep_think: bool, redact: Redactor) -> str | None:
    """Read one chat-completions response (``ChatCompletion``) into ``answer``: its usage is added to what
    was paid; a good answer fills the text and marks ``answer.ok`` (None is returned), else the problem is
    returned. Shared by live requests and batch results, so both go through the same checks."""
    usage = getattr(response, "usage", None)
    if usage is not None:
        answer.prompt_tokens += usage.prompt_tokens or 0
        answer.completion_tokens += usage.completion_tokens or 0
    choices = getattr(response, "choices", None) or []
    if not choices or getattr(choices[0], "message", None) is None:
        return "malformed answer: no choices"
    choice = choices[0]
    # The answer is redacted too: a server may echo the key back in its text.
    content = answer_text(choice.message.content, task, label_mode, keep_think)
    content = redact(content) if content else content
    text, inferred, problem = check_answer(content, choice.finish_reason, task, label_mode, gold, transcript)
    if problem is not None:
        return problem
    answer.ok, answer.text, answer.inferred_emotion = True, text, inferred
    answer.model = redact(response.model) if response.model else response.model
    answer.finish_reason = choice.finish_reason
    answer.answer_prompt_tokens = usage.prompt_tokens if usage is not None else None
    answer.answer_completion_tokens = usage.completion_tokens if usage is not None else None
    answer.reason = None
    return None


def _about_format(exc: openai.APIStatusError) -> bool:
    return about_format(_message(exc))


def about_format(message: str) -> bool:
    """Whether a 400's message is about the ``response_format`` (then the request goes again as plain text)."""
    return bool(re.search(r"response_format|json_schema|schema|grammar|json", message, re.I))


def _message(exc: openai.APIStatusError) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(getattr(exc, "message", exc))
