"""The LLM write stage a chunk of records at a time (write/rounds.py): the same table, errors and counts as one
chunk, and no record read before its chunk; against the fault server of tests/llm_server.py (real HTTP on
127.0.0.1, the real ``openai`` client) and the batch server of tests/batch_server.py."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_server import BatchServer  # noqa: E402
from llm_server import Action, LLMServer, _answer_text, _task_of  # noqa: E402

from emotioncot.calibrate.evidence import load_evidence
from emotioncot.config import BuildConfig
from emotioncot.filter.checks import filter_records
from emotioncot.pipeline import load_records, run_write
from emotioncot.workspace import Workspace
from emotioncot.write import rounds
from emotioncot.write.llm import WriteError, write_with_llm
from emotioncot.write.template import write_template

KEY_ENV = "EMOTIONCOT_TEST_CHUNK_KEY"


@pytest.fixture(scope="module")
def records(demo_build):
    return [rec for rec in load_records(Workspace(demo_build), with_texts=False) if rec.get("emotion")]


def config(base_url: str, **write) -> BuildConfig:
    cfg = BuildConfig()
    cfg.write = cfg.write.model_validate({
        **cfg.write.model_dump(), "writer": "openai", "base_url": base_url, "model": "test-model",
        "api_key_env": KEY_ENV, "concurrency": 4, "max_retries": 1, "timeout_s": 5, "backoff_base_s": 0.02,
        "backoff_max_s": 0.1, "batch_poll_s": 0.05, "repair_rounds": 0, **write,
    })
    return cfg


# ---------------------------------------------------------------- chunked = unchunked


def test_a_chunked_write_stage_gives_the_table_errors_and_counts_of_one_chunk(demo_build, records, tmp_path,
                                                                              monkeypatch):
    recs = records[:12]
    ids = [rec["id"] for rec in recs]
    good = {rec["id"]: write_template(rec) for rec in recs}
    broken = {ids[2], ids[10]}  # a Markdown list first (fixable): repaired in chunks 0 and 3 of 3 records
    failing = ids[9]  # its caption never comes back

    def plan(record, task, attempt):
        if record == failing and task == "caption":
            return Action("server_error")
        text = good[record]["caption" if task == "caption" else "cot_analysis"]
        if task == "rationale" and record in broken and attempt == 1:
            text = "- " + text.replace(". ", ".\n- ", 2)
        return Action("ok", text=text)

    def run(name: str, chunk: int):
        folder = tmp_path / name
        shutil.copytree(demo_build, folder)
        monkeypatch.setattr(rounds, "CHUNK_RECORDS", chunk)
        cfg = config("", repair_rounds=1, limit=len(recs))
        # word shingles and a low bar: the template's rationales repeat each other, across chunks too, so the
        # keep counts depend on the near-duplicate pass reaching over chunk boundaries
        cfg.filter.shingle_size, cfg.filter.duplicate_threshold = 1, 0.5
        with LLMServer(plan) as server:
            cfg.write.base_url = server.base_url
            _, info = run_write(Workspace(folder), None, cfg, progress=False)
        assert not list((folder / "stages").rglob("*.sqlite"))  # the keep counts' near-duplicate indexes are scratch
        table = pq.read_table(Workspace(folder).stage_table("write")).to_pylist()
        return table, Workspace(folder).stage_errors("write"), info, [ids.index(r.record) for r in server.log], cfg

    monkeypatch.setenv(KEY_ENV, "sk-chunks")
    table, errors, info, order, cfg = run("whole", 1000)
    table3, errors3, info3, order3, _ = run("parts", 3)

    assert [row["id"] for row in table] == [i for i in ids if i != failing]  # record order, the failure left out
    assert [e["id"] for e in errors] == [failing] and "caption" in errors[0]["reason"]
    by_id = {row["id"]: row for row in table}
    assert all(by_id[rid]["cot_analysis"] == good[rid]["cot_analysis"] for rid in broken)  # repaired
    assert table3 == table and errors3 == errors
    for part in ("requests", "repair", "usage_of_kept_answers"):
        assert info3[part] == info[part], part
    assert info3["usage_this_run"]["requests"] == info["usage_this_run"]["requests"]
    assert info["repair"]["records_sent_back"] >= len(broken)

    # the keep counts are the whole filter's: some rationale repeats one of an earlier chunk
    texts = {rid: {k: v for k, v in row.items() if not k.endswith("_tokens")} for rid, row in by_id.items()}
    joined = [{**rec, **texts[rec["id"]]} for rec in recs if rec["id"] in texts]
    kept, rejected = filter_records(joined, cfg.filter, evidence=load_evidence(Workspace(demo_build).thresholds_path))
    repeats = [(ids.index(row["id"]), ids.index(row["explanation"].split("rationale of ")[1].split(" ")[0]))
               for row in rejected if row["reject_reasons"] == ["near_duplicate"]]
    assert any(later // 3 != earlier // 3 for later, earlier in repeats)
    assert info3["repair"]["kept_after_repair"] == len(kept)

    # in chunks, a chunk's repairs come before the next chunk's first requests; in one, after every first request
    assert [i // 3 for i in order3] == sorted(i // 3 for i in order3)
    assert [i // 3 for i in order] != sorted(i // 3 for i in order)


# ---------------------------------------------------------------- no read-ahead


def test_the_writer_takes_a_record_only_when_its_chunk_is_written(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-chunks")
    monkeypatch.setattr(rounds, "CHUNK_RECORDS", 4)
    recs = records[:14]
    where = {rec["id"]: n for n, rec in enumerate(recs)}
    taken = [0]
    seen = []  # (the record a request is for, how many records the writer had taken then)

    def source():
        for rec in recs:
            taken[0] += 1
            yield rec

    def plan(record, task, attempt):
        seen.append((where[record], taken[0]))
        return Action("ok")

    chunks = []
    with LLMServer(plan) as server:
        rows, errors, info = write_with_llm(source(), Workspace(tmp_path), config(server.base_url), progress=False,
                                            sink=lambda r, e: chunks.append(([x["id"] for x in r], e)))
    assert len(seen) == 28
    # a writer that listed its source would have taken all 14 before the first request
    assert all(had <= (rec // 4 + 1) * 4 for rec, had in seen), seen
    assert chunks == [([rec["id"] for rec in recs[i:i + 4]], []) for i in range(0, 14, 4)]
    assert rows == errors == [] and info["requests"]["planned"] == 28


# ---------------------------------------------------------------- the Batch API, one batch per chunk


def answer(body: dict) -> str:
    """The fault server's made-up answer, but the first rationale of every third record (by its words) comes as
    a Markdown list, a reason the filter rejects and a writer can fix."""
    messages = body["messages"]
    task = _task_of(body)
    text = _answer_text(task, messages, "?")
    if task == "rationale" and len(messages) == 2 and sum(map(ord, json.dumps(messages[-1]))) % 3 == 0:
        text = "- " + text.replace(". ", ".\n- ", 2)
    return text


def test_batches_go_one_chunk_at_a_time_and_give_the_live_rows(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-chunks")
    recs = records[:10]
    with LLMServer(answer=answer) as upstream:
        live_rows, live_errors, live_info = write_with_llm(
            recs, Workspace(tmp_path / "live"), config(upstream.base_url, repair_rounds=1), progress=False)
        with BatchServer(upstream.base_url, api_key="sk-chunks") as batches:
            # a request file of 8 requests: chunks of 4 records
            cfg = config(batches.base_url, writer="openai-batch", repair_rounds=1, batch_max_requests=8, max_retries=0)
            rows, errors, info = write_with_llm(recs, Workspace(tmp_path / "batch"), cfg, progress=False)
    journal = [json.loads(line) for line in (tmp_path / "live" / "journal" / "write.jsonl").read_text().splitlines()]
    repaired = {line["id"] for line in journal if line.get("round") == 1}
    chunks_repaired = {[rec["id"] for rec in recs].index(rid) // 4 for rid in repaired}
    assert repaired and rows == live_rows and errors == live_errors == []
    assert info["repair"] == live_info["repair"]
    # per chunk: one batch of first requests, and one of repairs where the chunk had any
    assert batches.submissions == 3 + len(chunks_repaired)


def test_a_batch_of_an_earlier_run_cut_into_other_chunks_is_read_by_each_chunk_and_not_paid_again(records, tmp_path,
                                                                                                 monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-chunks")
    recs = records[:6]
    ws = Workspace(tmp_path / "ws")
    with LLMServer() as upstream, BatchServer(upstream.base_url) as batches:
        batches.hold.clear()  # the first run's one batch (all 6 records) does not end in time: it stays journaled
        with pytest.raises(WriteError, match="have not ended"):
            write_with_llm(recs, ws, config(batches.base_url, writer="openai-batch", max_retries=0,
                                            batch_max_wait_s=1.0), progress=False)
        assert batches.submissions == 1
        batches.hold.set()
        # the rerun cuts chunks of 2 records: each reads its own answers from that batch
        rows, errors, info = write_with_llm(recs, ws, config(batches.base_url, writer="openai-batch", max_retries=0,
                                                             batch_max_requests=4), progress=False)
        assert batches.submissions == 1 and batches.lines_answered == 12
    assert [row["id"] for row in rows] == [rec["id"] for rec in recs] and not errors
    assert info["requests"]["failed"] == 0 and info["usage_this_run"]["requests"] == 12
