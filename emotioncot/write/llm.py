"""The LLM writer: a caption and a rationale per record from any OpenAI-compatible chat endpoint.

Two requests per record (caption, rationale), run concurrently under a bound. Each request is keyed by
the record id plus a hash of exactly what is sent (model, messages, max_tokens, temperature, seed, audio
digest); its answer is appended to the ``write`` journal the moment it arrives. A rerun, or a resume
after a kill, sends only the requests whose key has no answer yet. Failed requests are not journaled, so
a rerun tries them again; the failure reason goes to the errors table. The stage runs a chunk of records at a
time (write/rounds.py), so it never holds every record, request or row.

The API key is read from the environment variable named in the config (never stored in the config) and
is redacted from every reason and exception text this module produces.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterable
from urllib.parse import quote, urlsplit, urlunsplit

from tqdm import tqdm

from emotioncot.config import BuildConfig, WriteConfig
from emotioncot.workspace import Journal, Workspace, stable_hash
from emotioncot.write.client import Answer, FatalEndpointError, RateGate, Redactor, RetryPolicy, complete
from emotioncot.write.cost import Usage
from emotioncot.write.outage import Outage
from emotioncot.write.prompts import Prompt, default_prompt_path, estimate_tokens, load_prompt, prompt_values
from emotioncot.calibrate.evidence import load_evidence
from emotioncot.write.repair import repair_message
from emotioncot.write.structured import response_format

TASKS = ("caption", "rationale")
NO_KEY = "no-key"  # sent to local servers (vLLM, llama.cpp, Ollama) that need none


class WriteError(RuntimeError):
    """The write stage cannot start or go on; the message says what to fix."""


@dataclass
class Job:
    record: dict
    task: str
    prompt: Prompt
    key: str
    label_mode: str
    audio_path: str | None = None
    extra: tuple = ()  # a repair: the rejected answer and the filter's reasons, as two more turns
    round: int = 0  # 0: the first answer; N: the answer of repair round N
    evidence: dict | None = None  # the build's evidence table (calibrate/evidence.py), for the {evidence} placeholder

    @property
    def messages(self) -> list[dict]:
        """Filled on demand (deterministic), so a million planned jobs do not hold a million prompts."""
        return self.prompt.fill(prompt_values(self.record, self.label_mode, self.evidence)) + list(self.extra)


# ---------------------------------------------------------------- preparing requests


def load_prompts(config: WriteConfig) -> dict[str, Prompt]:
    rationale_path = config.rationale_prompt or default_prompt_path("rationale", config.label_mode)
    caption_path = config.caption_prompt or default_prompt_path("caption")
    return {
        "caption": load_prompt(caption_path, "caption"),
        "rationale": load_prompt(rationale_path, "rationale", config.label_mode),
    }


def _audio_digest(record: dict) -> str | None:
    path = record.get("audio_path")
    if not path or not os.path.exists(path):
        return None
    st = os.stat(path)
    return stable_hash(path, st.st_size, int(st.st_mtime), record.get("start_s"), record.get("end_s"))


def request_key(record_id: str, config: WriteConfig, messages: list[dict], max_tokens: int,
                audio: str | None) -> str:
    """What the answer depends on. The base URL is left out on purpose: the same model served from
    another host gives an equivalent answer, and moving hosts must not pay for the dataset twice."""
    parts = ["chat", record_id, config.model, messages, max_tokens, config.temperature, config.seed, audio]
    if config.structured != "off":
        parts.append("json_schema")  # a structured request is another request (plain-text keys unchanged)
    return stable_hash(*parts, length=24)


def repair_job(job: Job, answer: str, reasons: list[str], round_: int) -> Job:
    """The request that sends ``answer`` back with the filter's ``reasons`` (write/repair.py)."""
    extra = ({"role": "assistant", "content": answer}, {"role": "user", "content": repair_message(reasons)})
    key = stable_hash("repair", job.key, round_, answer, reasons, length=24)
    return Job(job.record, job.task, job.prompt, key, job.label_mode, job.audio_path, extra=extra, round=round_,
               evidence=job.evidence)


def plan_jobs(records: list[dict], config: WriteConfig, prompts: dict[str, Prompt],
              evidence: dict | None = None) -> tuple[list[Job], list[dict]]:
    jobs, errors = [], []
    for rec in records:
        if config.label_mode == "aware" and not rec.get("emotion"):
            errors.append({"id": rec["id"], "path": rec.get("audio_path"),
                           "reason": "no gold emotion for a label-aware rationale (use --label-mode blind)"})
            continue
        values = prompt_values(rec, config.label_mode, evidence)
        audio = _audio_digest(rec) if config.send_audio else None
        if config.send_audio and audio is None:
            errors.append({"id": rec["id"], "path": rec.get("audio_path"),
                           "reason": f"{rec.get('audio_path')}: audio file not found (needed by --send-audio)"})
            continue
        for task in TASKS:
            prompt = prompts[task]
            messages = prompt.fill(values)
            jobs.append(Job(rec, task, prompt, request_key(rec["id"], config, messages, prompt.max_tokens, audio),
                            config.label_mode, rec.get("audio_path") if config.send_audio else None, evidence=evidence))
    return jobs, errors


def with_audio(messages: list[dict], record: dict) -> list[dict]:
    """The user message with the clip attached as a base64 WAV ``input_audio`` part."""
    import soundfile as sf

    from emotioncot.audio.io import read_record_audio

    samples, rate = read_record_audio(record)
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    part = {"type": "input_audio", "input_audio": {"data": base64.b64encode(buf.getvalue()).decode(), "format": "wav"}}
    out = [dict(m) for m in messages]
    out[-1] = {"role": "user", "content": [{"type": "text", "text": messages[-1]["content"]}, part]}
    return out


def public_url(url: str | None) -> str | None:
    """A base URL without user:password or query string (they may carry credentials)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def split_userinfo(url: str | None) -> tuple[str | None, str | None]:
    """``http://user:pw@host/v1`` -> (``http://host/v1``, ``Basic <base64 of user:pw>``)."""
    if not url:
        return url, None
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url, None
    import base64
    from urllib.parse import unquote

    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    token = base64.b64encode(f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()).decode()
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), f"Basic {token}"


def request_headers(job: Job) -> dict:
    """Headers that let a server's logs be matched with the journal (the model never sees them). Header
    values must be ASCII, so the record id is percent-encoded."""
    return {"X-Emotioncot-Record": quote(str(job.record["id"]), safe=""), "X-Emotioncot-Task": job.task,
            "X-Emotioncot-Key": job.key}


def api_key(config: WriteConfig) -> str:
    key = os.environ.get(config.api_key_env)
    if key:
        return key
    if config.base_url:
        return NO_KEY
    raise WriteError(f"no API key: set the environment variable {config.api_key_env} "
                     f"(or name another one with --api-key-env, or give --base-url for a local server)")


def task_label_mode(job: Job, config: WriteConfig) -> str:
    """Captions are always written knowing the label; rationales in the configured mode."""
    return config.label_mode if job.task == "rationale" else "aware"


def gold_label(job: Job, config: WriteConfig) -> str | None:
    return job.record.get("emotion") if config.label_mode == "aware" else None


def answer_entry(job: Job, answer: Answer, config: WriteConfig) -> dict:
    """The journal entry of an accepted answer (live, batch or results file: the same fields)."""
    return {
        "id": job.record["id"], "task": job.task, "ok": True, "text": answer.text,
        "inferred_emotion": answer.inferred_emotion, "model": answer.model or config.model,
        "prompt_id": job.prompt.id, "prompt_hash": job.prompt.hash, "attempts": answer.attempts,
        "round": job.round,
        "prompt_tokens": answer.answer_prompt_tokens, "completion_tokens": answer.answer_completion_tokens,
    }


# ---------------------------------------------------------------- sending


async def _send_all(jobs: list[Job], journal: Journal, config: WriteConfig, key: str, redact: Redactor,
                    bar: tqdm, state: "SendState", limiter=None) -> tuple[dict[str, Answer], Usage, dict]:
    """Send ``jobs`` (one chunk's round), each request counted on ``bar``; ``state`` carries what the stage learnt
    about the endpoint from one call to the next."""
    import openai

    base_url, basic = split_userinfo(config.base_url)
    # Credentials in the URL never travel in it (httpx would echo it): without an API key they become
    # the Authorization header (Basic), as a browser would send them; with a key, the key is used.
    auth = {"Authorization": basic} if basic and key == NO_KEY else None
    client = openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=config.timeout_s,
                                default_headers=auth)
    policy = RetryPolicy(config.max_retries, config.backoff_base_s, config.backoff_max_s, config.retry_after_max_s)
    sem = asyncio.Semaphore(max(1, config.concurrency))
    usage = Usage()
    failures: dict[str, Answer] = {}
    streak, structured = state.streak, state.structured
    gate = RateGate()  # a 429 pauses every worker, not only the one that got it

    async def probe() -> bool:
        try:
            await client.models.list(timeout=min(10.0, config.timeout_s))
        except openai.APIStatusError:
            return True  # it answers, even if not to this path
        except Exception:
            return False
        return True

    outage = Outage(probe, config.backoff_base_s, config.backoff_max_s, config.outage_max_s,
                    public_url(config.base_url) or "api.openai.com")
    loop = asyncio.get_running_loop()
    journal_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-journal")
    # ``last``: when any request last got an HTTP answer (or finished); the watchdog below stops the
    # stage after ``no_progress_s`` without one. Retries are counted on the bar as they happen.
    watch = {"last": time.monotonic(), "retries": 0, "stalled": False}

    def on_retry(note: str, unreachable: bool) -> None:
        watch["retries"] += 1
        if not unreachable:
            watch["last"] = time.monotonic()
        bar.set_postfix_str(f"retries {watch['retries']}, last: {note[:40]}", refresh=True)

    async def one(job: Job, index: int) -> None:
        async with sem:
            messages = job.messages
            if job.audio_path:
                try:
                    messages = await asyncio.to_thread(with_audio, messages, job.record)
                except Exception as exc:
                    failures[job.key] = Answer(ok=False, reason=redact(f"audio could not be attached: {exc}"))
                    bar.update()
                    return
            try:
                for pause in range(4):
                    # ``limiter``: a bound shared by every process of a cluster (executors/limiter.py).
                    async with (limiter.slot() if limiter is not None else contextlib.nullcontext()):
                        answer = await complete(
                            client, model=config.model, messages=messages, max_tokens=job.prompt.max_tokens,
                            temperature=config.temperature, seed=config.seed, timeout_s=config.timeout_s,
                            headers=request_headers(job),
                            task=job.task, label_mode=task_label_mode(job, config), gold=gold_label(job, config),
                            policy=policy, redact=redact, rng=random.Random(f"{job.key}:{index}:{pause}"), gate=gate,
                            response_format=(response_format(job.task, task_label_mode(job, config))
                                             if structured["on"] else None),
                            transcript=job.record.get("transcript"), keep_think=config.keep_think,
                            on_retry=on_retry,
                        )
                    if answer.structured_refused:
                        structured.update(on=False, refused=True)  # the rest of the stage asks for plain text
                    # The endpoint answered before and now answers nobody: pause the stage, then resend.
                    if not (answer.unreachable and streak["ok"] > 0) or pause == 3:
                        break
                    usage.add(answer.prompt_tokens, answer.completion_tokens, requests=answer.attempts)
                    await outage.wait(lambda: streak["written"])
            except FatalEndpointError:
                raise
            except Exception as exc:  # a bug or an unexpected client error must not stop the other records
                answer = Answer(ok=False, attempts=1, reason=redact(f"unexpected {type(exc).__name__}: {exc}"))
        usage.add(answer.prompt_tokens, answer.completion_tokens, requests=answer.attempts)
        if not answer.unreachable:
            watch["last"] = time.monotonic()
        # An endpoint that never answered anything: stop instead of retrying every record in turn.
        streak["unreachable"] = 0 if not answer.unreachable else streak["unreachable"] + 1
        streak["ok"] += answer.ok
        if streak["ok"] == 0 and streak["unreachable"] >= max(8, config.concurrency):
            raise FatalEndpointError(f"no answer from {public_url(config.base_url) or 'api.openai.com'}: "
                                     f"{streak['unreachable']} requests in a row failed ({answer.reason}); "
                                     f"is the server running, and is --base-url right?")
        if answer.ok:
            streak["written"] += 1
            # Appended by one helper thread, in arrival order: the fsync does not stall the event loop.
            await loop.run_in_executor(journal_thread, partial(journal.append, job.key, answer_entry(job, answer, config)))
        else:
            failures[job.key] = answer
        bar.update()

    # A fixed pool of workers pulls from one iterator: at most `concurrency` coroutines exist however
    # many jobs there are; the semaphore inside `one` is what bounds the requests in flight.
    pending = iter(enumerate(jobs))

    async def worker() -> None:
        for i, job in pending:
            await one(job, i)

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(len(jobs), max(1, config.concurrency)))]

    async def watchdog() -> None:
        step = max(0.05, min(1.0, config.no_progress_s / 4))
        while True:
            await asyncio.sleep(step)
            if time.monotonic() - watch["last"] > config.no_progress_s:
                watch["stalled"] = True
                for t in tasks:
                    t.cancel()
                return

    dog = asyncio.ensure_future(watchdog())
    try:
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            if not watch["stalled"]:
                raise
            raise FatalEndpointError(
                f"no answer from {public_url(config.base_url) or 'api.openai.com'} for {config.no_progress_s:g} s "
                f"({watch['retries']} retries, each request timing out after {config.timeout_s:g} s); is the server "
                f"up and answering? Answers received so far are kept; rerun to resume") from None
    except BaseException:  # a fatal endpoint error, a full disk, Ctrl-C: stop the other workers too
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        dog.cancel()
        journal_thread.shutdown(wait=True)
        await client.close()
    stats = {"pauses": outage.pauses, "paused_s": round(outage.paused_s, 1)}
    return failures, usage, stats


def _run(coro):
    """asyncio.run, also from inside a running loop (a notebook): then in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: dict = {}

    def target():
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


# ---------------------------------------------------------------- the stage


@dataclass
class SendState:
    """What one chunk's sending tells the next: whether the endpoint ever answered (a later silence is an outage to
    wait out, not a wrong URL) and whether it refused structured answers (the rest of the stage asks for plain text)."""

    streak: dict = field(default_factory=lambda: {"ok": 0, "unreachable": 0, "written": 0})
    structured: dict = field(default_factory=lambda: {"on": True, "refused": False})


class LiveSender:
    """Sends each request to the chat-completions endpoint as it comes (``_send_all``)."""

    transport = "live"
    price_factor = 1.0
    stops_rounds_when_unanswered = False  # a failed repair is tried again in the next round

    def __init__(self, wc: WriteConfig, secret: str, redact: Redactor, progress: bool, limiter=None):
        self.wc, self.secret, self.redact, self.progress, self.limiter = wc, secret, redact, progress, limiter
        self.stats = {"pauses": 0, "paused_s": 0.0, "structured_refused": False}
        self.state = SendState()
        self.state.structured["on"] = wc.structured != "off"

    def send(self, todo: list[Job], journal: Journal, bar: tqdm) -> tuple[dict[str, Answer], Usage]:
        try:
            failures, used, run_stats = _run(
                _send_all(todo, journal, self.wc, self.secret, self.redact, bar, self.state, limiter=self.limiter))
        except FatalEndpointError as exc:
            raise WriteError(self.redact(str(exc))) from None
        self.stats["pauses"] += run_stats["pauses"]
        self.stats["paused_s"] += run_stats["paused_s"]
        self.stats["structured_refused"] = self.state.structured["refused"]
        return failures, used

    def info(self) -> dict:
        return {"outage": {"pauses": self.stats["pauses"], "paused_s": round(self.stats["paused_s"], 1)}}


def write_with_llm(records: Iterable[dict], ws: Workspace, config: BuildConfig, progress: bool = True, limiter=None,
                   total: int | None = None, sink=None):
    """Rows for ``GeneratedText``, errors ``{id, path, reason}``, and info for build.json.

    ``records``: any iterable, read a chunk at a time (write/rounds.py: each chunk is planned, sent, repaired and
    assembled before the next is read). ``sink(rows, errors)``, if given, gets each chunk's rows and errors in
    record order as the chunk finishes (the lists returned are then empty); ``total``: how many records there are,
    for the progress bar.

    With ``write.repair_rounds`` > 0, the records the filter rejects for fixable reasons are sent back with
    the reasons (write/repair.py) and the new answers replace the old ones; build info keeps the keep rate
    before and after.

    How requests travel: live (``--writer openai``), as OpenAI Batch API jobs (``--writer openai-batch``,
    write/batch_api.py) or answered by a results file made elsewhere (``write.batch_results``,
    write/batch_file.py); the answers go through the same checks, journal and repair loop. The Batch API gets one
    batch per chunk and attempt (more past the provider's per-file limits), the first-round batches of up to
    ``write.batch_chunks_in_flight`` chunks running at once; a chunk holds as many records as one request file takes
    (``rounds.chunk_records``).

    ``limiter`` (optional, live only): an object whose ``slot()`` is an async context manager held around each
    request, e.g. ``emotioncot.executors.limiter.ClusterLimiter`` for one bound across a Ray cluster."""
    wc = config.write
    if not wc.model:
        raise WriteError("the openai writer needs --model (the model name the endpoint serves)")
    if wc.batch_results:
        from emotioncot.write.batch_file import ResultsFileSender

        sender = ResultsFileSender(wc, Redactor.for_endpoint(os.environ.get(wc.api_key_env), wc.base_url))
    else:
        secret = api_key(wc)
        redact = Redactor.for_endpoint(secret if secret != NO_KEY else None, wc.base_url)
        if wc.writer == "openai-batch":
            from emotioncot.write.batch_api import BatchSender

            sender = BatchSender(ws, wc, secret, redact, progress)
        else:
            sender = LiveSender(wc, secret, redact, progress, limiter)
    from emotioncot.write.rounds import write_rounds

    return write_rounds(records, ws, config, sender, progress, total=total, sink=sink)


def _prompt_id(prompts: dict[str, Prompt]) -> str:
    return f"{prompts['rationale'].id}+{prompts['caption'].id}"


def _prompt_hash(prompts: dict[str, Prompt]) -> str:
    return stable_hash(prompts["rationale"].hash, prompts["caption"].hash)


# ---------------------------------------------------------------- dry run


def dry_run(records: Iterable[dict], config: BuildConfig, n: int, ws: Workspace | None = None,
            echo: Callable[[str], None] = print) -> dict:
    """Print the first ``n`` records' filled prompts and the estimated tokens (and cost) of the whole
    stage; send nothing. The records are planned a chunk at a time, as the stage plans them."""
    from itertools import islice

    from emotioncot.write.rounds import CHUNK_RECORDS

    wc = config.write
    prompts = load_prompts(wc)
    evidence = load_evidence(ws.thresholds_path) if ws is not None else None
    journal = ws.journal("write") if ws is not None and (ws.root / "journal" / "write.jsonl").exists() else None
    est, planned, failing, shown = Usage(), 0, 0, 0
    source = iter(records)
    try:
        while chunk := list(islice(source, CHUNK_RECORDS)):
            jobs, errors = plan_jobs(chunk, wc, prompts, evidence)
            planned, failing = planned + len(jobs), failing + len(errors)
            for job in jobs:
                messages = job.messages
                if shown < 2 * n:
                    shown += 1
                    echo(f"===== {job.record['id']} / {job.task} (prompt {job.prompt.id}, {job.prompt.hash}) =====")
                    for m in messages:
                        echo(f"--- {m['role']} ---\n{m['content']}")
                    echo(f"--- estimated prompt tokens: {sum(estimate_tokens(m['content']) for m in messages)}; "
                         f"max_tokens {job.prompt.max_tokens}")
                if journal is None or job.key not in journal:
                    est.add(sum(estimate_tokens(m["content"]) for m in messages), job.prompt.max_tokens, requests=1)
    finally:
        if journal is not None:
            journal.close()
    summary = {
        "requests": planned, "answered_before": planned - est.requests, "to_send": est.requests,
        "records_failing_before_sending": failing,
        "estimated_prompt_tokens": est.prompt_tokens, "max_completion_tokens": est.completion_tokens,
    }
    cost = est.cost(wc.price_input_per_mtok, wc.price_output_per_mtok)
    if cost is not None and wc.writer == "openai-batch":
        cost = round(cost * wc.batch_price_factor, 6)  # batch answers at the batch price
    if cost is not None:
        summary["max_cost"] = cost
    echo("===== dry run: nothing sent =====")
    echo(f"{est.requests} requests to send ({summary['answered_before']} answered before), about "
         f"{est.prompt_tokens} prompt tokens (4 characters per token) and at most {est.completion_tokens} "
         f"completion tokens" + (f"; at most {cost:.4f} at the given prices" if cost is not None else ""))
    return summary
