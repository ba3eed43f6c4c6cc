"""A real chat-completions HTTP server on 127.0.0.1 that injects faults, for tests and benchmarks.

It speaks enough of the OpenAI protocol (``POST /v1/chat/completions``, JSON in, JSON out, HTTP/1.1
keep-alive) for the real ``openai`` client, and runs on its own asyncio loop in a background thread, so a
test can drive it from the same process or point a subprocess at it.

Every request is counted per record and task (the writer sends ``X-Emotioncot-Record`` and
``X-Emotioncot-Key`` headers); ``server.log`` keeps one entry per request with its arrival time and the
action taken. A *plan* decides what each request gets::

    plan(record_id, task, attempt) -> Action     # attempt counts from 1 per (record, task)

Actions: ``ok``, ``rate_limit`` (429 with Retry-After), ``server_error`` (500), ``slow`` (answers after
``slow_s``, past the client's timeout), ``empty`` (content ""), ``malformed`` (a 200 whose body is not
JSON), ``truncated`` (finish_reason "length"), ``drop`` (closes the connection without answering),
``echo_auth`` (a 400 whose body repeats the Authorization header, to prove the client redacts it),
``unauthorized`` (a 401 that also repeats it), ``echo_key`` (a good 200 answer whose text repeats it),
``format_unsupported`` (a 400 to a request that carries
``response_format``, an ordinary answer otherwise). ``server.max_in_flight`` is the most requests it ever
held at once (to check the client's concurrency bound).

Run it alone for benchmarks: ``python tests/llm_server.py --port 8011 --delay 0.2``.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Optional
from urllib.parse import unquote

EMOTION_WORDS = ("neutral", "happy", "sad", "angry", "contempt or disgust", "confused", "whisper", "surprise", "fear")


@dataclass
class Action:
    kind: str = "ok"
    retry_after: float = 1.0  # seconds, for rate_limit
    slow_s: float = 5.0  # for slow
    text: Optional[str] = None  # for ok: answer this text instead of the made-up one


Plan = Callable[[str, str, int], Action]


def always_ok(record_id: str, task: str, attempt: int) -> Action:
    return Action("ok")


@dataclass
class Request:
    t: float
    record: str
    task: str
    key: str
    attempt: int
    action: str
    authorization: str = ""
    body: dict = field(default_factory=dict)


def _answer_text(task: str, messages: list[dict], record: str) -> str:
    """A plausible answer: a caption, or a 60-90 word rationale that names the emotion last."""
    user = " ".join(m["content"] if isinstance(m["content"], str) else
                    " ".join(p.get("text", "") for p in m["content"] if isinstance(p, dict)) for m in messages)
    quoted = (re.search(r'The words are: "([^"]{1,200})"', user) or re.search(r'Transcription: "([^"]{1,200})"', user)
              or re.search(r'"([^"]{1,200})"', user))
    said = quoted.group(1) if quoted else "something short"
    if task == "caption":
        return (f'A speaker says "{said}". The voice is described from the cues given: pitch, loudness and '
                f"tempo are given in the request, and the delivery is clear.")
    words = ("The speaker's pitch, loudness and tempo are weighed first, then the words. " * 6).split()
    body = " ".join(words[:60])
    gold = re.search(r"The speaker sounds ([a-z ]+?)\. Explain", user) or re.search(r"gold emotion label: ([a-z ]+?)\.", user, re.I)
    label = gold.group(1).lower() if gold else "neutral"
    if "EMOTION:" in user or "final line" in user.lower():
        return f'Hearing "{said}", {body} So the most likely emotion is {label}.\nEMOTION: {label}'
    # a conclusion that claims no more than the canned body argues, whatever the record's case (issue 26's check)
    return f'Hearing "{said}", {body} So the most likely emotion is {label}.'


def _task_of(body: dict) -> str:
    name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "")
    return name.removeprefix("emotioncot_") or "?"


class LLMServer:
    """Start with ``with LLMServer(plan) as server: server.base_url``."""

    def __init__(self, plan: Plan = always_ok, delay_s: float = 0.0, host: str = "127.0.0.1", port: int = 0,
                 answer: Optional[Callable[[dict], str]] = None):
        self.plan = plan
        # answer(request body) -> the reply's content, for tests that need other answers than a writer's.
        self.answer = answer
        self.delay_s = delay_s
        self.host, self.port = host, port
        self.log: list[Request] = []
        self.attempts: Counter = Counter()  # (record, task) -> requests seen
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._server = None
        self.in_flight = 0
        self.max_in_flight = 0

    # --------------------------------------------------------------- lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "LLMServer":
        self._thread = threading.Thread(target=self._run, name="llm-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test LLM server did not start")
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, self.host, self.port, backlog=512)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            async def _shutdown():
                self._server.close()
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._loop.stop()

            asyncio.run_coroutine_threadsafe(_shutdown(), self._loop)
            self._thread.join(10)

    def __enter__(self) -> "LLMServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --------------------------------------------------------------- counters
    def count(self, record: str | None = None, task: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.log if (record is None or r.record == record) and (task is None or r.task == task))

    def keys(self) -> Counter:
        with self._lock:
            return Counter(r.key for r in self.log)

    def answered_keys(self) -> Counter:
        """Keys that got a valid answer (action ``ok``) and how often."""
        with self._lock:
            return Counter(r.key for r in self.log if r.action == "ok")

    # --------------------------------------------------------------- HTTP
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                keep = await self._respond(method, path, headers, body, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def _send(self, writer, status: int, payload: bytes, extra: dict | None = None,
                    content_type: str = "application/json") -> None:
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}
        head = [f"HTTP/1.1 {status} {reason.get(status, 'X')}", f"Content-Type: {content_type}",
                f"Content-Length: {len(payload)}", "Connection: keep-alive"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await writer.drain()

    async def _respond(self, method: str, path: str, headers: dict, raw: bytes, writer) -> bool:
        if method != "POST" or not path.endswith("/chat/completions"):
            await self._send(writer, 404, b'{"error": {"message": "not found"}}')
            return True
        body = json.loads(raw or b"{}")
        record = unquote(headers.get("x-emotioncot-record", "?"))
        # A batch runner (tests/batch_server.py) forwards the body only: the task is then read from the
        # schema the writer asked for.
        task = headers.get("x-emotioncot-task") or _task_of(body)
        key = headers.get("x-emotioncot-key", "?")
        with self._lock:
            self.attempts[(record, task)] += 1
            attempt = self.attempts[(record, task)]
        action = self.plan(record, task, attempt)
        with self._lock:
            self.log.append(Request(time.monotonic(), record, task, key, attempt, action.kind,
                                    headers.get("authorization", ""), body))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._act(action, task, body, record, headers, writer)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _act(self, action: Action, task: str, body: dict, record: str, headers: dict, writer) -> bool:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        kind = action.kind
        if kind == "drop":
            writer.transport.abort()
            return False
        if kind == "rate_limit":
            await self._send(writer, 429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}',
                             {"Retry-After": f"{action.retry_after:g}"})
            return True
        if kind == "server_error":
            await self._send(writer, 500, b'{"error": {"message": "internal error"}}')
            return True
        if kind == "echo_auth":
            msg = json.dumps({"error": {"message": f"bad request; you sent Authorization: {headers.get('authorization')}"}})
            await self._send(writer, 400, msg.encode())
            return True
        if kind == "unauthorized":
            msg = json.dumps({"error": {"message": f"invalid key in Authorization: {headers.get('authorization')}"}})
            await self._send(writer, 401, msg.encode())
            return True
        if kind == "format_unsupported" and "response_format" in body:
            await self._send(writer, 400, b'{"error": {"message": "response_format is not supported"}}')
            return True
        if kind == "malformed":
            await self._send(writer, 200, b'{"id": "x", "choices": [ {"message": ', content_type="application/json")
            return True
        if kind == "slow":
            await asyncio.sleep(action.slow_s)
        text = action.text if action.text is not None else self.answer(body) if self.answer else _answer_text(task, body.get("messages", []), record)
        if kind == "echo_key":  # a 200 whose answer repeats the credentials it was sent
            text = f"{text} (request authorised by {headers.get('authorization')})"
        finish = "stop"
        if kind == "empty":
            text = ""
        elif kind == "truncated":
            text, finish = text[: len(text) // 3], "length"
        answer = {
            "id": f"chatcmpl-{len(self.log)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }
        try:
            await self._send(writer, 200, json.dumps(answer).encode())
        except (ConnectionError, RuntimeError):
            return False
        return True


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before every answer")
    args = parser.parse_args()
    server = LLMServer(delay_s=args.delay, port=args.port).start()
    print(f"serving {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
