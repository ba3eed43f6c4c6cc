"""Batch files: the one JSONL format of the OpenAI Batch API and vLLM's ``run-batch``.

A request line is ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``; its body is
exactly the request the live writer sends (model, messages, max_tokens, temperature, seed, response_format),
and its ``custom_id`` is the request's journal key, so a results file made anywhere is matched to the same
records and a rerun never pays twice. A results line is ``{"id", "custom_id", "response": {"status_code",
"request_id", "body"}, "error"}``; its body goes through the same checks as a live answer
(``client.read_response``).

Secrets: a line holds the model, the messages and the sampling settings, never a key or a base URL.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterable, Iterator

from emotioncot.config import WriteConfig
from emotioncot.tables import write_text_atomic
from emotioncot.workspace import Journal
from emotioncot.write.client import Answer, Redactor, read_response
from emotioncot.write.cost import Usage
from emotioncot.write.llm import Job, with_audio, answer_entry, gold_label, task_label_mode
from emotioncot.write.structured import response_format

URL = "/v1/chat/completions"
RETRY_STATUS = {408, 409, 429}  # with every 5xx: the request may be sent again (as live requests are)


class BatchFileError(ValueError):
    """A results file that cannot be read; the message names the file and the line."""


def request_line(job: Job, config: WriteConfig, attempt: int = 0, structured: bool = True) -> dict:
    """The batch line of ``job``: the live request's body. ``attempt`` moves the seed as a live retry does
    (a retried malformed answer must not come back the same)."""
    messages = with_audio(job.messages, job.record) if job.audio_path else job.messages
    body = {"model": config.model, "messages": messages, "max_tokens": job.prompt.max_tokens,
            "temperature": config.temperature}
    if config.seed is not None:
        body["seed"] = config.seed + attempt
    if structured and config.structured != "off":
        body["response_format"] = response_format(job.task, task_label_mode(job, config))
    return {"custom_id": job.key, "method": "POST", "url": URL, "body": body}


def split_lines(lines: Iterable[bytes], max_requests: int, max_bytes: int) -> Iterator[list[bytes]]:
    """Groups of encoded lines (each ending in a newline), each within the provider's limits per file."""
    group: list[bytes] = []
    size = 0
    for line in lines:
        if len(line) > max_bytes:
            raise BatchFileError(f"one request is {len(line)} bytes, over the {max_bytes}-byte limit of a batch file")
        if group and (len(group) >= max_requests or size + len(line) > max_bytes):
            yield group
            group, size = [], 0
        group.append(line)
        size += len(line)
    if group:
        yield group


def encode(line: dict) -> bytes:
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def read_results(path: Path) -> dict[str, dict]:
    """``custom_id`` -> results line. A line that is not a JSON object or has no custom_id is an error
    naming the file and the line."""
    from emotioncot.filter.io import read_jsonl

    out = {}
    try:
        for number, line in read_jsonl(path):
            if not isinstance(line.get("custom_id"), str):
                raise BatchFileError(f"{path}:{number}: no custom_id (not a batch results line)")
            out[line["custom_id"]] = line
    except BatchFileError:
        raise
    except ValueError as exc:  # not JSON, or not an object: the message names the file and the line
        raise BatchFileError(str(exc)) from None
    return out


def read_result(answer: Answer, line: dict, job: Job, config: WriteConfig, redact: Redactor) -> bool:
    """Read one results line into ``answer`` (an attempt); True when the request may be sent again (the
    live writer's rules: a 5xx, 408/409/429 or a bad answer), False when it is answered or refused for good."""
    import openai
    from openai.types.chat import ChatCompletion

    answer.attempts += 1
    response = line.get("response") or {}
    status = response.get("status_code")
    error = line.get("error")
    body = response.get("body")
    if error or status != 200 or not isinstance(body, dict):
        message = _error_message(error, body)
        if status is not None and 400 <= status < 500 and status not in RETRY_STATUS:
            answer.reason = f"endpoint rejected the request (HTTP {status}): {redact(message)[:300]}"
            return False
        answer.reason = redact(f"HTTP {status} {message}" if status else f"request failed in the batch: {message}")[:300]
        return True
    try:
        completion = ChatCompletion.model_validate(body)
    except (openai.APIResponseValidationError, ValueError) as exc:
        answer.reason = f"malformed answer ({type(exc).__name__}: {redact(exc)[:120]})"
        return True
    answer.reason = read_response(answer, completion, task=job.task, label_mode=task_label_mode(job, config),
                                  gold=gold_label(job, config), transcript=job.record.get("transcript"),
                                  keep_think=config.keep_think, redact=redact)
    return answer.reason is not None


def _error_message(error, body) -> str:
    for source in (error, (body or {}).get("error") if isinstance(body, dict) else None):
        if isinstance(source, dict) and source.get("message"):
            code = f"{source['code']}: " if source.get("code") else ""
            return f"{code}{source['message']}"
        if isinstance(source, str) and source:
            return source
    return "no answer body"


def give_up(answer: Answer) -> Answer:
    """The reason of a request still failing after its last attempt, worded as the live writer's."""
    answer.reason = f"gave up after {answer.attempts} attempts; last: {answer.reason}"
    return answer


# ---------------------------------------------------------------- senders for write_rounds (write/rounds.py)


class ResultsFileSender:
    """Answers each request from a results file made anywhere (``--batch-results``); sends nothing. A
    request missing from the file fails with that reason (a later file, or a live run, can answer it)."""

    transport = "results file"
    stops_rounds_when_unanswered = True

    def __init__(self, config: WriteConfig, redact: Redactor):
        self.config, self.redact = config, redact
        self.price_factor = config.batch_price_factor
        self.path = Path(config.batch_results)
        try:
            self.results = read_results(self.path)
        except (OSError, UnicodeDecodeError) as exc:
            raise BatchFileError(f"{self.path}: cannot read the batch results file ({exc})") from None
        self.matched = 0

    def send(self, todo: list[Job], journal: Journal, bar) -> tuple[dict[str, Answer], Usage]:
        failures, usage = {}, Usage()
        for job in todo:
            line = self.results.get(job.key)
            if line is None:
                failures[job.key] = Answer(ok=False, reason=f"no answer in the results file {self.path.name}")
                continue
            self.matched += 1
            answer = Answer(ok=False)
            retry = read_result(answer, line, job, self.config, self.redact)
            usage.add(answer.prompt_tokens, answer.completion_tokens, requests=1)  # what the line was paid for
            if answer.ok:
                journal.append(job.key, answer_entry(job, answer, self.config))
            else:
                failures[job.key] = give_up(answer) if retry else answer
        bar.update(len(todo))
        return failures, usage

    def info(self) -> dict:
        return {"batch_results": {"file": self.path.name, "lines": len(self.results), "matched": self.matched}}


class RequestFileSender:
    """Writes each request as a batch line (``--batch-file``); sends nothing, answers nothing."""

    transport = "request file"
    stops_rounds_when_unanswered = True
    price_factor = 1.0

    def __init__(self, config: WriteConfig):
        self.config = config
        self.lines: list[bytes] = []

    def send(self, todo: list[Job], journal: Journal, bar) -> tuple[dict[str, Answer], Usage]:
        self.lines += [encode(request_line(job, self.config)) for job in todo]
        bar.update(len(todo))
        return {job.key: Answer(ok=False, reason="written to the batch request file, not answered yet")
                for job in todo}, Usage()

    def info(self) -> dict:
        return {}

    def save(self, out: Path) -> list[Path]:
        """The request file(s): one, or more named ``OUT.partN.jsonl`` past the per-file limits."""
        out = Path(out)
        groups = list(split_lines(self.lines, self.config.batch_max_requests, self.config.batch_max_bytes))
        paths = [out] if len(groups) <= 1 else [out.with_name(f"{out.stem}.part{i}{out.suffix}")
                                                  for i in range(1, len(groups) + 1)]
        for path, group in zip(paths, groups or [[]]):
            write_text_atomic(path, b"".join(group).decode("utf-8"))
        return paths


def write_request_file(records: list[dict], ws, config, out: Path, progress: bool = True) -> dict:
    """``emotioncot generate DIR --batch-file OUT``: the requests the next run would send (the first answers
    still missing, and the next repair round of the records answered so far), as a batch request file;
    nothing is sent."""
    from emotioncot.write.llm import WriteError
    from emotioncot.write.rounds import write_rounds

    if not config.write.model:
        raise WriteError("--batch-file needs --model (the model name goes into every request line)")
    if config.write.limit:
        records = records[: config.write.limit]
    sender = RequestFileSender(config.write)
    _, errors, info = write_rounds(records, ws, config, sender, progress=False)
    paths = sender.save(out)
    if progress:
        print(f"{len(sender.lines)} requests -> {', '.join(str(p) for p in paths)}", file=sys.stderr)
    return {"requests": len(sender.lines), "files": [str(p) for p in paths], "records_failing_before_sending":
            sum(1 for e in errors if "not answered yet" not in e["reason"]), "repair": info["repair"]}
