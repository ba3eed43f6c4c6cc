"""``--writer openai-batch``: the write stage's requests as OpenAI Batch API jobs.

Each attempt's requests become request files (write/batch_file.py; split at the provider's limits per file),
uploaded to ``/v1/files`` (purpose ``batch``) and run as batches on ``/v1/batches``. Every file id and batch
id goes into the ``write-batches`` journal the moment the server gives it, so a build killed while a batch
runs resumes by polling the same batch (and a file uploaded before the kill is found again by its id): a
request is never paid for twice. Answers come back through the same checks and the same ``write`` journal
as live answers; a request that may be retried (a 5xx, a bad answer, a batch that expired or failed before
answering it) goes into the next attempt's batch, up to ``max_retries``, and a repair round is the next
batch. Usage is what the result lines report, priced at ``batch_price_factor`` times the live prices.

Read ahead (``submit_ahead``, called by write/rounds.py for the chunks after the one being written): a chunk's
first-round batches are submitted and journaled before its turn, and its turn finds them in the journal and polls
them, as a resumed run does. A provider that refuses such a submission (an error at upload or creation, or a batch
that fails validation with nothing answered, as a full queue does) costs the chunk nothing: its requests go when its
turn comes, as attempt 0, exactly what they would have been without the look-ahead.
"""

from __future__ import annotations

import re
import sys
import time

from emotioncot.config import WriteConfig
from emotioncot.tables import write_text_atomic
from emotioncot.workspace import Journal, Workspace, stable_hash
from emotioncot.write.batch_file import URL, encode, give_up, read_result, read_results, request_line, split_lines
from emotioncot.write.client import Answer, Redactor, about_format
from emotioncot.write.cost import Usage
from emotioncot.write.llm import Job, WriteError, answer_entry, public_url, split_userinfo

TERMINAL = {"completed", "failed", "expired", "cancelled"}
BATCH_JOURNAL = "write-batches"
RESUME_HINT = "; batches already submitted are in the journal: rerun to resume"


class BatchSender:
    transport = "openai-batch"
    stops_rounds_when_unanswered = False  # a repair round is simply the next batch

    def __init__(self, ws: Workspace, config: WriteConfig, secret: str, redact: Redactor, progress: bool):
        import openai

        base_url, basic = split_userinfo(config.base_url)
        auth = {"Authorization": basic} if basic and secret == "no-key" else None
        # File and batch calls are few and cheap to repeat: the client's own retries cover a dropped connection.
        self.client = openai.OpenAI(api_key=secret, base_url=base_url, max_retries=config.max_retries,
                                    timeout=config.timeout_s, default_headers=auth)
        self.ws, self.config, self.redact, self.progress = ws, config, redact, progress
        self.price_factor = config.batch_price_factor
        self.where = public_url(config.base_url) or "api.openai.com"
        self.submitted: list[str] = []  # batch ids created by this run
        self.resumed: list[str] = []  # batch ids of an earlier run polled again
        self.ended: dict[str, str] = {}  # batch id -> final status
        self.known: set[str] = set()  # journal keys of the batches this run submitted or counted as resumed
        self.ahead_refused = 0  # look-ahead submissions the provider refused (sent in their chunk's turn instead)
        self.structured = config.structured != "off"  # off for the rest of the stage once the endpoint refuses it
        self.stats = {"structured_refused": False}

    # ------------------------------------------------------------ the sender protocol (write/llm.py)

    def send(self, todo: list[Job], journal: Journal, bar) -> tuple[dict[str, Answer], Usage]:
        jobs = {job.key: job for job in todo}
        answers = {key: Answer(ok=False) for key in jobs}
        usage, failures = Usage(), {}
        pending = list(todo)
        read: set[str] = set()  # the batches read in this call: a retry is sent anew, not read again
        with self.ws.journal(BATCH_JOURNAL) as batches:
            attempt, budget = -1, self.config.max_retries + 1
            while pending and attempt + 1 < budget:
                attempt += 1
                again, seen, refused = [], set(), False
                for chunk, results, missing in self._attempt(pending, attempt, batches, read):
                    for key in chunk["keys"]:
                        job = jobs.get(key)
                        if job is None or key in journal or key in failures or key in seen:
                            continue  # another round's request, answered already, or read in this attempt
                        seen.add(key)
                        answer = answers[key]
                        if key in results:
                            retry = read_result(answer, results[key], job, self.config, self.redact)
                            usage.add(0, 0, requests=1)
                        else:
                            answer.attempts += 1
                            answer.reason, retry = missing, True
                        if not answer.ok and self.structured and _refused_format(results.get(key), answer):
                            # as live: the endpoint rejects the JSON schema; the next batch asks for plain text
                            refused, retry = True, True
                            answer.attempts -= 1  # not a failure of the answer: it does not use up a retry
                        if answer.ok:
                            journal.append(key, answer_entry(job, answer, self.config))
                        elif retry:
                            again.append(job)
                        else:
                            failures[key] = answer
                    read.add(chunk["key"])
                    # An earlier run's batch may hold requests of other record chunks too (cut at another size
                    # then): it stays open for them until a call that holds all its requests reads it.
                    state = "collected" if jobs.keys() >= set(chunk["keys"]) else "ended"
                    batches.append(chunk["key"], {**_fields(chunk), "state": state,
                                                  "status": self.ended.get(chunk["batch_id"])})
                pending = again
                if refused:
                    self.structured, self.stats["structured_refused"] = False, True
                    budget += 1
            for job in pending:
                failures[job.key] = give_up(answers[job.key])
        for answer in answers.values():
            usage.add(answer.prompt_tokens, answer.completion_tokens)  # every line's usage: what was paid
        bar.update(len(todo))
        return failures, usage

    def submit_ahead(self, todo: list[Job], ahead: bool = True) -> bool:
        """The first-round batches of ``todo`` (a chunk's requests not answered yet) submitted and journaled now;
        the chunk's turn polls them. ``ahead``: a chunk after the one being written; False for that one (its batches
        go first, and a refusal is the error it would be in its turn). A refused look-ahead returns False (said
        once on stderr): what was not submitted goes in the chunk's turn, so a refusal never fails the stage."""
        try:
            with self.ws.journal(BATCH_JOURNAL) as batches:
                self._submit(todo, 0, batches, set(), ahead=ahead)
        except WriteError as exc:
            if not ahead:
                raise
            self._refused_ahead(str(exc).removesuffix(RESUME_HINT))
            return False
        return True

    def info(self) -> dict:
        return {"batches": {"submitted": self.submitted, "resumed": self.resumed, "ended": self.ended,
                            "price_factor": self.price_factor, "ahead_refused": self.ahead_refused}}

    # ------------------------------------------------------------ one attempt: submit or resume, poll, collect

    def _attempt(self, pending: list[Job], attempt: int, batches: Journal, read: set[str]):
        """(chunk entry, results by custom_id, the reason for a request with no line) per batch of this
        attempt, once every batch has ended. Batches journaled by an earlier run (or submitted ahead by this one)
        that hold any of these requests, and were not ``read`` in this call, are polled again instead of sending
        those requests anew. A look-ahead batch that failed with nothing answered (refused at validation, e.g. a
        full queue) is not an attempt: its requests are submitted again now, with this attempt's lines."""
        chunks = self._submit(pending, attempt, batches, read)
        while chunks:
            ended = self._poll([chunk["batch_id"] for chunk in chunks])
            refused = [chunk for chunk in chunks
                       if chunk.get("ahead") and _refused_at_validation(ended[chunk["batch_id"]])]
            for chunk in chunks:
                if chunk not in refused:
                    batch = ended[chunk["batch_id"]]
                    yield chunk, self._results(batch), self.redact(self._missing_reason(batch))
            for chunk in refused:
                read.add(chunk["key"])
                batches.append(chunk["key"], {**_fields(chunk), "state": "collected", "status": "failed"})
                self._refused_ahead(self.redact(self._missing_reason(ended[chunk["batch_id"]])))
            keys = {key for chunk in refused for key in chunk["keys"]}
            chunks = self._submit([job for job in pending if job.key in keys], attempt, batches, read) if keys else []

    def _submit(self, pending: list[Job], attempt: int, batches: Journal, read: set[str],
                ahead: bool = False) -> list[dict]:
        """The batches that answer ``pending`` in this attempt, each with its batch id: those journaled (by an
        earlier run, or ahead by this one) and not ``read`` in this call, and new ones for the requests no such
        batch holds. ``ahead``: submitted before the chunk's turn (marked so in the journal)."""
        want = {job.key for job in pending}
        chunks = [dict(e) for e in batches.values()
                  if e.get("state") != "collected" and e["key"] not in read and want & set(e["keys"])]
        covered = {key for chunk in chunks for key in chunk["keys"]}
        for chunk in chunks:
            # A journaled file with no batch id may have its batch all the same (a kill, or a creation call that
            # failed after the server made it): it is looked for by its file before one is created.
            chunk["look_up"] = True
            if chunk["key"] not in self.known:  # journaled by an earlier run: counted once, however often read
                self.known.add(chunk["key"])
                if chunk.get("batch_id"):
                    self.resumed.append(chunk["batch_id"])
        fresh = [job for job in pending if job.key not in covered]
        lines = [encode(request_line(job, self.config, attempt, self.structured)) for job in fresh]
        start = 0
        for group in split_lines(lines, self.config.batch_max_requests, self.config.batch_max_bytes):
            keys = [job.key for job in fresh[start:start + len(group)]]
            start += len(group)
            chunk = {"key": stable_hash("batch", keys, attempt, time.time()), "keys": keys, "attempt": attempt}
            if ahead:
                chunk["ahead"] = True
            file = self._call("upload a batch request file", self.client.files.create,
                              file=(f"emotioncot-{chunk['key']}.jsonl", b"".join(group)), purpose="batch")
            chunk.update(file_id=file.id, state="uploaded")
            batches.append(chunk["key"], _fields(chunk))
            self.known.add(chunk["key"])
            chunks.append(chunk)
        for chunk in chunks:
            if not chunk.get("batch_id"):
                self._create(chunk, batches)
            chunk.pop("look_up", None)
        return chunks

    def _create(self, chunk: dict, batches: Journal) -> None:
        """The batch on an uploaded file: one made before a kill is found by its input file, else a new one."""
        found = None
        if chunk.pop("look_up", False):  # killed (or refused) between the upload and the batch id reaching the journal
            found = self._call("list batches", lambda: next(  # every page, newest first
                (b for b in self.client.batches.list(limit=100) if b.input_file_id == chunk["file_id"]), None))
        batch = found or self._call(
            "create a batch", self.client.batches.create, input_file_id=chunk["file_id"], endpoint=URL,
            completion_window=self.config.batch_completion_window, metadata={"emotioncot_chunk": chunk["key"]})
        chunk.update(batch_id=batch.id, state="submitted")
        batches.append(chunk["key"], _fields(chunk))
        (self.resumed if found else self.submitted).append(batch.id)
        self._say(f"batch {batch.id}: {'found again' if found else 'submitted'}, {len(chunk['keys'])} requests")

    def _poll(self, ids: list[str]) -> dict:
        """Every batch, once each has ended; a visible status line when one changes."""
        started, seen, ended = time.monotonic(), {}, {}
        while True:
            for batch_id in ids:
                if batch_id in ended:
                    continue
                batch = self._call("check a batch", self.client.batches.retrieve, batch_id)
                counts = batch.request_counts
                state = (batch.status, counts.completed if counts else None, counts.failed if counts else None)
                if seen.get(batch_id) != state:
                    seen[batch_id] = state
                    done = f", {counts.completed}/{counts.total} done, {counts.failed} failed" if counts else ""
                    self._say(f"batch {batch_id}: {batch.status}{done}")
                if batch.status in TERMINAL:
                    ended[batch_id] = batch
                    self.ended[batch_id] = batch.status
            if len(ended) == len(ids):
                return ended
            if time.monotonic() - started > self.config.batch_max_wait_s:
                waiting = [i for i in ids if i not in ended]
                raise WriteError(f"batches {', '.join(waiting)} at {self.where} have not ended after "
                                 f"{self.config.batch_max_wait_s:g} s; they stay in the journal: rerun to poll them "
                                 f"again (nothing is sent twice)")
            time.sleep(self.config.batch_poll_s)

    def _results(self, batch) -> dict[str, dict]:
        """The batch's result lines by custom_id; its files are kept under ``batches/`` in the build folder
        (what the provider answered, for audit)."""
        out: dict[str, dict] = {}
        for file_id in (batch.error_file_id, batch.output_file_id):  # an output line wins over an error line
            if file_id:
                content = self._call("download a batch result file", self.client.files.content, file_id)
                path = self.ws.root / "batches" / re.sub(r"[^\w.-]", "_", f"{batch.id}.{file_id}.jsonl")
                path.parent.mkdir(parents=True, exist_ok=True)
                write_text_atomic(path, content.text)
                out.update(read_results(path))
        return out

    @staticmethod
    def _missing_reason(batch) -> str:
        """Why a request of ``batch`` has no result line (the batch ended before answering it)."""
        if batch.status == "failed":
            errors = getattr(getattr(batch, "errors", None), "data", None) or []
            said = "; ".join(f"{e.code}: {e.message}" for e in errors[:3] if e) or "no reason given"
            return f"batch {batch.id} failed before answering ({said})"
        if batch.status in ("expired", "cancelled"):
            return f"batch {batch.id} {batch.status} before this request was answered"
        return f"batch {batch.id} {batch.status} with no result line for this request"

    # ------------------------------------------------------------ plumbing

    def _call(self, what: str, fn, *args, **kwargs):
        import openai

        try:
            return fn(*args, **kwargs)
        except openai.APIError as exc:
            raise WriteError(self.redact(f"could not {what} at {self.where}: {type(exc).__name__}: {exc}")
                             + RESUME_HINT) from None

    def _refused_ahead(self, why: str) -> None:
        """Said once a stage (a provider's queue limit would say it for every chunk); ``why`` is redacted."""
        self.ahead_refused += 1
        if self.ahead_refused == 1:
            print(f"writer: the provider refused a batch submitted ahead of its chunk's turn ({why}); such requests "
                  f"are submitted when their chunk's turn comes (lower write.batch_chunks_in_flight to stop trying "
                  f"ahead)", file=sys.stderr, flush=True)

    def _say(self, text: str) -> None:
        if self.progress:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _refused_format(line: dict | None, answer: Answer) -> bool:
    status = ((line or {}).get("response") or {}).get("status_code")
    return status == 400 and about_format(answer.reason or "")


def _refused_at_validation(batch) -> bool:
    """A batch that failed with no request answered: the provider refused it whole (a full queue, a limit)."""
    counts = batch.request_counts
    return batch.status == "failed" and not (counts and (counts.completed or counts.failed))


def _fields(chunk: dict) -> dict:
    return {k: v for k, v in chunk.items() if k != "key"}
