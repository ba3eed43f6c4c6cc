"""A real OpenAI Batch API server on 127.0.0.1 for tests: ``/v1/files`` and ``/v1/batches`` over HTTP, for
the real ``openai`` client. Each batch's lines are answered one at a time, in a worker thread, by POSTing
their body to a real chat-completions server (``upstream``: the llama.cpp server of tests/real_llm.py, or
tests/llm_server.py), exactly as a provider's batch runner would; the answers go to an output file, the
refused requests to an error file, both in the Batch API's format. It also passes live
``POST /v1/chat/completions`` requests on to the same upstream, so a live build and a batch build can meet
the same server the same way.

What a test can steer, per submission (counted from 1 in ``server.submissions``):

- ``hold``: a ``threading.Event``; while it is clear, batches stay ``in_progress`` (a build can be killed
  mid-batch);
- ``answer_create``: while it is clear, ``POST /v1/batches`` creates the batch but does not answer (a build
  can be killed after paying for a batch and before learning its id);
- ``fate(n) -> Fate``: ``complete`` (default), ``expire`` after ``answer_first`` lines (the rest never
  answered), ``fail`` (a validation failure: no line answered, ``errors`` filled), ``error_ids`` (these
  custom_ids get a 500 line in the error file), ``until_submissions`` (the batch stays ``in_progress`` until the
  server has seen that many creations, or ``until_timeout_s`` has passed: a writer that waits for this batch before
  creating the next one fails a test instead of hanging it);
- ``refuse_create(n) -> bool``, per ``POST /v1/batches`` call (counted from 1 in ``server.create_calls``): True
  answers 429 with an "enqueued token limit" message that echoes the caller's ``Authorization`` header, and creates
  nothing (a provider's full queue; and a check that no secret reaches a message).

``server.submissions`` counts ``POST /v1/batches`` (what a provider would bill), ``server.uploads`` the
files, ``server.headers`` every request's headers (to check that no secret travels where it should not), and
``server.events`` ``("created", batch_id)`` and ``("ended", batch_id)`` in the order they happened.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Fate:
    kind: str = "complete"  # complete | expire | fail
    answer_first: int = 0  # for expire: how many lines are answered before the window closes
    error_ids: set = field(default_factory=set)  # custom_ids answered with a 500 line in the error file
    until_submissions: int = 0  # in_progress until this many batches were created (or until_timeout_s passed)
    until_timeout_s: float = 10.0


class BatchServer:
    def __init__(self, upstream: str, fate: Callable[[int], Fate] = lambda n: Fate(), api_key: str | None = None,
                 extra_body: dict | None = None, refuse_create: Callable[[int], bool] = lambda n: False):
        self.upstream = upstream.rstrip("/")
        # fields added to every body sent upstream, batch lines and live requests alike (e.g. llama.cpp's
        # ``cache_prompt: false``, so that an answer does not depend on what the server's slots held before)
        self.extra_body = extra_body or {}
        self.live_requests = 0
        self.fate = fate
        self.api_key = api_key  # when set, a request without "Bearer <api_key>" gets a 401
        self.hold = threading.Event()
        self.hold.set()
        self.answer_create = threading.Event()  # clear: POST /v1/batches creates the batch, then waits to answer
        self.answer_create.set()
        self.files: dict[str, dict] = {}
        self.batches: dict[str, dict] = {}
        self.submissions = 0
        self.refuse_create = refuse_create
        self.create_calls = 0
        self.events: list[tuple[str, str]] = []
        self.uploads = 0
        self.lines_answered = 0
        self.headers: list[dict] = []
        self._lock = threading.Lock()
        self._http: ThreadingHTTPServer | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def __enter__(self) -> "BatchServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server._dispatch(self, "GET")

            def do_POST(self):
                server._dispatch(self, "POST")

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, name="batch-server", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.hold.set()
        self.answer_create.set()
        self._http.shutdown()
        self._http.server_close()

    # ------------------------------------------------------------ HTTP
    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        body = h.rfile.read(int(h.headers.get("content-length") or 0))
        with self._lock:
            self.headers.append(dict(h.headers))
        if self.api_key and h.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._json(h, 401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}})
        path = h.path.split("?", 1)[0]
        parts = [p for p in path.split("/") if p][1:]  # after "v1"
        if method == "POST" and parts == ["chat", "completions"]:  # a live request, passed on as it is
            with self._lock:
                self.live_requests += 1
            return self._json(h, *self._answer(json.loads(body)))
        if method == "POST" and parts == ["files"]:
            return self._json(h, 200, self._upload(h.headers.get("content-type", ""), body))
        if method == "GET" and len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
            data = self.files.get(parts[1], {}).get("data")
            if data is None:
                return self._json(h, 404, {"error": {"message": f"no file {parts[1]}"}})
            h.send_response(200)
            h.send_header("Content-Type", "application/octet-stream")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return None
        if method == "POST" and parts == ["batches"]:
            with self._lock:
                self.create_calls += 1
                refuse = self.refuse_create(self.create_calls)
            if refuse:
                return self._json(h, 429, {"error": {"code": "token_limit_exceeded", "type": "invalid_request_error",
                                                     "message": "Enqueued token limit reached for test-model (sent "
                                                                f"with {h.headers.get('authorization')})"}})
            created = self._create(json.loads(body))
            self.answer_create.wait()  # the batch exists; its id has not reached the client yet
            return self._json(h, 200, created)
        if method == "GET" and parts == ["batches"]:
            with self._lock:
                data = [dict(b) for b in reversed(list(self.batches.values()))]
            return self._json(h, 200, {"object": "list", "data": data, "has_more": False})
        if method == "GET" and len(parts) == 2 and parts[0] == "batches" and parts[1] in self.batches:
            with self._lock:
                return self._json(h, 200, dict(self.batches[parts[1]]))
        return self._json(h, 404, {"error": {"message": f"not found: {method} {h.path}"}})

    @staticmethod
    def _json(h: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _upload(self, content_type: str, body: bytes) -> dict:
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        part = fields["file"]
        with self._lock:
            self.uploads += 1
            file_id = f"file-{len(self.files) + 1}"
        purpose = fields["purpose"].get_payload(decode=True).decode().strip()
        return self._store(file_id, part.get_payload(decode=True), part.get_filename() or "upload.jsonl", purpose)

    def _store(self, file_id: str, data, filename: str, purpose: str) -> dict:
        data = data.encode() if isinstance(data, str) else data
        meta = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": filename, "purpose": purpose, "status": "processed"}
        with self._lock:
            self.files[file_id] = {**meta, "data": data}
        return meta

    def _create(self, req: dict) -> dict:
        with self._lock:
            self.submissions += 1
            n = self.submissions
            batch_id = f"batch_{n}"
            self.events.append(("created", batch_id))
            lines = [json.loads(x) for x in self.files[req["input_file_id"]]["data"].decode().splitlines() if x]
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": req["endpoint"], "errors": None,
                "input_file_id": req["input_file_id"], "completion_window": req["completion_window"],
                "status": "validating", "output_file_id": None, "error_file_id": None,
                "created_at": int(time.time()), "metadata": req.get("metadata"),
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            }
        threading.Thread(target=self._run, args=(batch_id, lines, self.fate(n)), daemon=True).start()
        return dict(self.batches[batch_id])

    # ------------------------------------------------------------ the batch runner
    def _set(self, batch_id: str, **changes) -> None:
        with self._lock:
            self.batches[batch_id].update(changes)

    def _run(self, batch_id: str, lines: list[dict], fate: Fate) -> None:
        if fate.kind == "fail":
            self._set(batch_id, status="failed", errors={"object": "list", "data": [
                {"code": "invalid_request", "message": "the model is not available for batch", "line": 1}]})
            with self._lock:
                self.events.append(("ended", batch_id))
            return
        self._set(batch_id, status="in_progress")
        self.hold.wait()
        deadline = time.monotonic() + fate.until_timeout_s
        while self.submissions < fate.until_submissions and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.01)
        outputs, errors = [], []
        for i, line in enumerate(lines):
            if self._stop.is_set() or (fate.kind == "expire" and i >= fate.answer_first):
                break
            if line["custom_id"] in fate.error_ids:
                status, body = 500, {"error": {"message": "the server had an error processing the request"}}
            else:
                status, body = self._answer(line["body"])
            out = {"id": f"batch_req_{batch_id}_{i}", "custom_id": line["custom_id"],
                   "response": {"status_code": status, "request_id": f"req_{batch_id}_{i}", "body": body},
                   "error": None}
            (outputs if status == 200 else errors).append(out)
            with self._lock:
                self.lines_answered += 1
                counts = self.batches[batch_id]["request_counts"]
                counts["completed" if status == 200 else "failed"] += 1
        final = "expired" if fate.kind == "expire" else "completed"
        done = {}
        for name, rows in (("output_file_id", outputs), ("error_file_id", errors)):
            if rows:
                data = "".join(json.dumps(r) + "\n" for r in rows)
                done[name] = self._store(f"file-{batch_id}-{name[:-8]}", data, f"{name}.jsonl", "batch_output")["id"]
        with self._lock:
            self.batches[batch_id].update(status=final, **done)
            self.events.append(("ended", batch_id))

    def _answer(self, body: dict) -> tuple[int, dict]:
        return answer_body(self.upstream, {**body, **self.extra_body})


def answer_body(upstream: str, body: dict) -> tuple[int, dict]:
    """(HTTP status, JSON body) of one chat-completions request to ``upstream``."""
    request = urllib.request.Request(f"{upstream.rstrip('/')}/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {"error": {"message": str(exc)}}


def run_batch_file(requests_path, results_path, upstream: str) -> int:
    """What ``vllm run-batch -i REQUESTS -o RESULTS`` does, with ``upstream`` as the model: every request
    line answered in order, one results line each in vLLM's output format. Returns the lines written."""
    out = []
    for i, raw in enumerate(open(requests_path, encoding="utf-8")):
        line = json.loads(raw)
        status, body = answer_body(upstream, line["body"])
        ok = status == 200
        out.append({"id": f"vllm-{i:08x}", "custom_id": line["custom_id"],
                    "response": {"status_code": status, "request_id": f"vllm-batch-{i:08x}",
                                 "body": body if ok else None},
                    "error": None if ok else (body.get("error") or {}).get("message", f"HTTP {status}")})
    with open(results_path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in out)
    return len(out)
