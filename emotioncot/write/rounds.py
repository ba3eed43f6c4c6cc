"""The LLM write stage, chunk by chunk: plan, send, repair and assemble a bounded run of records at a time.

The records come as any iterable and are read a chunk at a time: a chunk is planned, its requests handed to the
sender (live, batch API, results or request file), its repair rounds run, and its rows and errors handed on in
record order before the next chunk is written. What the stage holds is one chunk's records and jobs (up to
``write.batch_chunks_in_flight`` chunks with the Batch API, see below), the journal's keys and offsets, and the
near-duplicate state of the repair loop's keep counts, whatever the number of records.

Every request's key depends on its record alone, so a chunk's requests, answers and repairs are the ones an
unchunked run makes for the same records; the counts (requests, usage, keep rates) are summed over the chunks. Two
things are per chunk: a sender that stops the repair rounds when a round goes unanswered (a results or request file)
stops them for that chunk's records only, and the Batch API gets one batch (or more, at the provider's per-file
limits) per chunk and attempt.

The Batch API reads ahead: up to ``write.batch_chunks_in_flight`` chunks are held, and the first-round requests of
each are submitted (and journaled) as soon as it is read, so a provider runs them side by side; a chunk's turn finds
its batches in the journal and polls them, as a resumed run does. Chunks are still finished, repaired and handed on
in order, so the rows, errors and counts are those of one chunk at a time.
"""

from __future__ import annotations

import sys
from collections import deque
from itertools import islice
from typing import Callable, Iterable

from tqdm import tqdm

from emotioncot.calibrate.evidence import load_evidence
from emotioncot.config import BuildConfig, WriteConfig
from emotioncot.workspace import Journal, Workspace
from emotioncot.write.client import Answer
from emotioncot.write.cost import Usage
from emotioncot.write.llm import (TASKS, Job, _prompt_hash, _prompt_id, load_prompts, plan_jobs, public_url,
                                  repair_job)
from emotioncot.write.repair import KeptTally, checked_for_repair, filter_evidence

CHUNK_RECORDS = 2000  # records in flight at once (live, results or request file): a few MB of records and jobs

Sink = Callable[[list[dict], list[dict]], None]


def chunk_records(wc: WriteConfig) -> int:
    """Records per chunk. A Batch API chunk is as large as one request file may be (the provider's limit): fewer,
    fuller batches, ``write.batch_chunks_in_flight`` of them submitted at once."""
    if wc.writer == "openai-batch" and not wc.batch_results:
        return max(1, wc.batch_max_requests // len(TASKS))
    return CHUNK_RECORDS


def write_rounds(records: Iterable[dict], ws: Workspace, config: BuildConfig, sender, progress: bool = True,
                 total: int | None = None, sink: Sink | None = None):
    """The first answers, then the repair rounds, chunk by chunk, each round's requests handed to ``sender``
    (whose ``send(todo, journal, bar)`` journals the good answers, counts the requests on ``bar`` and returns the
    failures and the usage). ``total``: the number of records, for the progress bar (a list's length if not given).
    ``sink(rows, errors)`` gets each chunk's rows and errors in record order; without one they are collected and
    returned. Returns ``(rows, errors, info)`` (the lists empty when a sink took them)."""
    wc = config.write
    if total is None and hasattr(records, "__len__"):
        total = len(records)
    rows_out: list[dict] = []
    errors_out: list[dict] = []
    if sink is None:
        def sink(rows: list[dict], errors: list[dict]) -> None:
            rows_out.extend(rows)
            errors_out.extend(errors)
    size = chunk_records(wc)
    if progress:
        print(f"writer: openai ({sender.transport}), model {wc.model} at "
              f"{public_url(wc.base_url) or 'api.openai.com'}; "
              f"{'' if total is None else f'{total} records, '}{size} at a time"
              f"{'' if _in_flight(wc, sender) == 1 else f', {_in_flight(wc, sender)} chunks in flight'} "
              f"(requests answered before are not sent again)", file=sys.stderr)
    bar = tqdm(total=None if total is None else total * len(TASKS), desc="write", unit="req", disable=not progress)
    stage = None
    try:
        with ws.journal("write") as journal:
            stage = _ChunkedWrite(ws, config, sender, journal, bar)
            for chunk, planned in _read_ahead(records, size, stage, _in_flight(wc, sender)):
                sink(*stage.chunk(chunk, planned))
    finally:
        bar.close()
        if stage is not None:
            stage.close()
    info = stage.info()
    if progress:
        req = info["requests"]
        print(f"writer: {req['to_send']} of {req['planned']} requests sent ({req['answered_before']} answered "
              f"before), {req['failed']} failed", file=sys.stderr)
    return rows_out, errors_out, info


def _in_flight(wc: WriteConfig, sender) -> int:
    """Chunks held at once: more than one only for a sender that runs submitted requests on its own (batches)."""
    return wc.batch_chunks_in_flight if hasattr(sender, "submit_ahead") else 1


def _read_ahead(records: Iterable[dict], size: int, stage: "_ChunkedWrite", in_flight: int):
    """Each chunk with its plan, in order. Up to ``in_flight`` chunks are read and planned before the first is
    written, and the first-round requests of each are submitted, in order; a refused look-ahead submission stops
    the rest of that round (tried again when the next chunk is read, and in the chunk's turn at the latest)."""
    source = iter(records)
    held: deque = deque()  # [records, plan, submitted ahead]
    while True:
        while len(held) < in_flight and (chunk := list(islice(source, size))):  # islice takes no record past it
            held.append([chunk, stage.plan(chunk), False])
        if in_flight > 1:
            # the chunk about to be written first (a provider runs its queue in order), then the ones after it
            for n, entry in enumerate(held):
                if not entry[2]:
                    if not stage.submit_ahead(entry[1][0], ahead=n > 0):
                        break
                    entry[2] = True
        if not held:
            return
        chunk, planned, _ = held.popleft()
        yield chunk, planned


class _ChunkedWrite:
    """The stage's state across chunks: the sums that go into its info, and the repair loop's keep tallies."""

    def __init__(self, ws: Workspace, config: BuildConfig, sender, journal: Journal, bar: tqdm):
        self.config, self.wc, self.sender, self.journal, self.bar = config, config.write, sender, journal, bar
        self.prompts = load_prompts(self.wc)
        self.evidence = load_evidence(ws.thresholds_path)  # the LLM weighs cues by the same table as the template
        self.usage_now, self.stored = Usage(), Usage()
        self.planned = self.answered_before = self.failed = self.rows = 0
        self.repair = {"rounds": self.wc.repair_rounds, "records_sent_back": 0, "requests": 0}
        if self.wc.repair_rounds:
            self.filter_evidence = filter_evidence(config, self.evidence)
            # the near-duplicate pass reaches across chunks: fed in record order, the counts are one pass's
            scratch = ws.root / "stages" / "write"
            scratch.mkdir(parents=True, exist_ok=True)
            self.kept_before = KeptTally(config.filter, scratch / "repair_kept_before.sqlite")
            self.kept_after = KeptTally(config.filter, scratch / "repair_kept_after.sqlite")

    def close(self) -> None:
        if self.wc.repair_rounds:
            self.kept_before.close()
            self.kept_after.close()

    def send(self, batch: list[Job]) -> dict[str, Answer]:
        todo = [job for job in batch if job.key not in self.journal]  # answered before: never paid twice
        self.bar.update(len(batch) - len(todo))
        if not todo:
            return {}
        failures, used = self.sender.send(todo, self.journal, self.bar)
        self.usage_now.add(used.prompt_tokens, used.completion_tokens, requests=used.requests)
        return failures

    def plan(self, records: list[dict]) -> tuple[list[Job], list[dict]]:
        """A chunk's first-round jobs, and the errors of its records that fail before any request."""
        return plan_jobs(records, self.wc, self.prompts, self.evidence)

    def submit_ahead(self, jobs: list[Job], ahead: bool) -> bool:
        """A chunk's first-round requests not answered yet, submitted before its turn; False when refused."""
        todo = [job for job in jobs if job.key not in self.journal]
        return not todo or self.sender.submit_ahead(todo, ahead)

    def chunk(self, records: list[dict], planned: tuple[list[Job], list[dict]]) -> tuple[list[dict], list[dict]]:
        """One chunk's rows and errors, in record order (``planned``: what ``plan`` gave for it)."""
        wc, journal = self.wc, self.journal
        jobs, plan_errors = planned
        if plan_errors and self.bar.total is not None:
            self.bar.total -= len(TASKS) * len(plan_errors)  # records that fail before any request
        self.planned += len(jobs)
        self.answered_before += sum(job.key in journal for job in jobs)
        failures = self.send(jobs)
        chains = {(job.record["id"], job.task): [job] for job in jobs}
        rows, stored, errors = _assemble(records, chains, journal, failures, wc, plan_errors)
        if wc.repair_rounds:
            kept, todo = checked_for_repair(records, rows, self.config, self.filter_evidence)
            self.kept_before.add(kept)
            stalled = False
            for round_ in range(1, wc.repair_rounds + 1):
                # A request file or a results file answers one repair round at a time: a round with requests
                # still unanswered is the last one this run can plan (the next file holds the next round).
                # The first answers never hold it back, so one request that always fails blocks no repair.
                if not todo or stalled:
                    break
                batch = []
                for rid, tasks in todo.items():
                    for task, reasons in tasks.items():
                        chain = chains[(rid, task)]
                        last = _last_answered(chain, journal)
                        batch.append(repair_job(chain[0], journal.get(last.key)["text"], reasons, round_))
                self.repair["records_sent_back"] += len(todo)
                self.repair["requests"] += len(batch)
                if self.bar.total is not None:
                    self.bar.total += len(batch)
                round_failures = self.send(batch)
                stalled = self.sender.stops_rounds_when_unanswered and bool(round_failures)
                failures.update(round_failures)
                for job in batch:
                    chains[(job.record["id"], job.task)].append(job)
                rows, stored, errors = _assemble(records, chains, journal, failures, wc, plan_errors)
                kept, todo = checked_for_repair(records, rows, self.config, self.filter_evidence)
            self.kept_after.add(kept)
        self.failed += len(failures)
        self.rows += len(rows)
        self.stored.add(stored.prompt_tokens, stored.completion_tokens, requests=stored.requests)
        return rows, errors

    def info(self) -> dict:
        wc, sender, prompts = self.wc, self.sender, self.prompts
        repair = dict(self.repair)
        if wc.repair_rounds:
            n = max(1, self.rows)
            repair.update(kept_before_repair=self.kept_before.kept, kept_after_repair=self.kept_after.kept,
                          keep_rate_before=round(self.kept_before.kept / n, 4),
                          keep_rate_after=round(self.kept_after.kept / n, 4))
        structured_refused = getattr(sender, "stats", {}).get("structured_refused", False)
        price_in, price_out = (None if p is None else p * sender.price_factor
                               for p in (wc.price_input_per_mtok, wc.price_output_per_mtok))
        return {
            "writer": "openai",
            "transport": sender.transport,
            "model": wc.model,
            "base_url": public_url(wc.base_url),
            "label_mode": wc.label_mode,
            "send_audio": wc.send_audio,
            "structured": wc.structured if not structured_refused else "refused by the endpoint (plain text)",
            "prompts": {task: {"id": p.id, "hash": p.hash, "path": p.path} for task, p in prompts.items()},
            "prompt_id": _prompt_id(prompts),
            "prompt_hash": _prompt_hash(prompts),
            "requests": {"planned": self.planned, "answered_before": self.answered_before,
                         "to_send": self.planned - self.answered_before, "failed": self.failed,
                         "http_requests_sent": self.usage_now.requests},
            "repair": repair,
            **sender.info(),
            "usage_this_run": self.usage_now.as_dict(price_in, price_out),
            "usage_of_kept_answers": self.stored.as_dict(price_in, price_out),  # requests = answers
            "prices_per_mtok": {"input": price_in, "output": price_out},
        }


def _last_answered(chain: list[Job], journal: Journal) -> Job:
    """The newest job of a record's task whose answer is in the journal (a failed repair keeps the old one)."""
    return next(job for job in reversed(chain) if job.key in journal)


def _assemble(records, chains, journal, failures, wc, plan_errors) -> tuple[list[dict], Usage, list[dict]]:
    """One row per record whose caption and rationale are both answered: the newest answer of each (the
    last repair that came back), with the tokens of every answer paid for it. Errors in record order, a record
    that failed before sending included, so that any split into chunks gives the same errors."""
    prompts = {task: chain[0].prompt for (_, task), chain in chains.items()}
    unplanned = {err["id"]: err for err in plan_errors}
    stored = Usage()
    rows, errors = [], []
    for rec in records:
        if rec["id"] in unplanned:
            errors.append(unplanned[rec["id"]])
            continue
        mine = {task: chains[(rec["id"], task)] for task in TASKS if (rec["id"], task) in chains}
        if not mine:
            continue
        missing = [task for task, chain in mine.items() if chain[0].key not in journal]
        if missing:
            reasons = []
            for task in missing:
                answer = failures.get(mine[task][0].key)
                reasons.append(f"{task}: {answer.reason if answer else 'not sent'}")
            errors.append({"id": rec["id"], "path": rec.get("audio_path"), "reason": "; ".join(reasons)})
            continue
        entries = {task: journal.get(_last_answered(chain, journal).key) for task, chain in mine.items()}
        paid = [journal.get(job.key) for chain in mine.values() for job in chain if job.key in journal]
        p_tok = sum(e.get("prompt_tokens") or 0 for e in paid)
        c_tok = sum(e.get("completion_tokens") or 0 for e in paid)
        stored.add(p_tok, c_tok, requests=len(paid))
        cap, rat = entries["caption"], entries["rationale"]
        rows.append({
            "id": rec["id"],
            "caption": cap["text"],
            "cot_analysis": rat["text"],
            "writer": "openai",
            "model": rat.get("model") or wc.model,
            "prompt_id": _prompt_id(prompts),
            "prompt_hash": _prompt_hash(prompts),
            "label_mode": wc.label_mode,
            "inferred_emotion": rat.get("inferred_emotion"),
            "seed": wc.seed,
            "prompt_tokens": p_tok,
            "completion_tokens": c_tok,
        })
    return rows, stored, errors
