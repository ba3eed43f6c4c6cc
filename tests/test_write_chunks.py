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
from batch_server import BatchServer, Fate  # noqa: E402
from llm_server import Action, LLMServer, _answer_text, _task_of  # noqa: E402

from emotioncot.calibrate.evidence import load_evidence
from emotioncot.config import BuildConfig
from emotioncot.filter.checks import filter_records
from emotioncot.pipeline import load_records, run_write
from emotioncot.workspace import Workspace
from emotioncot.write import rounds
from emotioncot.write.llm import WriteError, load_prompts, plan_jobs, write_with_llm
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


# ---------------------------------------------------------------- the Batch API, chunks in flight side by side


SECRET = "sk-chunks-ahead-5ecret-0123456789"


def _batch_config(base_url: str, in_flight: int, **write) -> BuildConfig:
    """Chunks of 4 records (request files of 8 requests), one repair round, no retries."""
    return config(base_url, writer="openai-batch", repair_rounds=1, batch_max_requests=8, max_retries=0,
                  batch_chunks_in_flight=in_flight, **write)


def _batch_run(recs, folder: Path, upstream: LLMServer, in_flight: int, write: dict | None = None, **server):
    """The server (to read what it saw) and what a Batch API write of ``recs`` returned."""
    with BatchServer(upstream.base_url, api_key=SECRET, **server) as batches:
        out = write_with_llm(recs, Workspace(folder), _batch_config(batches.base_url, in_flight, **(write or {})),
                             progress=False)
    return batches, out


def _lines(batches: BatchServer, batch_id: str) -> list[dict]:
    data = batches.files[batches.batches[batch_id]["input_file_id"]]["data"]
    return [json.loads(x) for x in data.decode().splitlines() if x]


def _first_round(line: dict) -> bool:
    return len(line["body"]["messages"]) == 2  # a repair carries the rejected answer and the reasons too


def _sent(batches: BatchServer) -> list[str]:
    """The custom_id of every line of every batch the server created: a request paid for, once per appearance."""
    return [line["custom_id"] for batch_id in batches.batches for line in _lines(batches, batch_id)]


def _first_keys(recs) -> list[list[str]]:
    """The first-round request keys of each chunk of 4 records."""
    cfg = _batch_config("", 4).write
    jobs, _ = plan_jobs(recs, cfg, load_prompts(cfg))
    return [[job.key for job in jobs if job.record["id"] in {rec["id"] for rec in recs[i:i + 4]}]
            for i in range(0, len(recs), 4)]


def test_the_next_chunks_batches_are_submitted_while_the_first_chunks_batch_runs(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:10]
    # the first batch stays in progress until the other two chunks' batches are created: a writer that waits for
    # it before submitting the next chunk sees it end only after the timeout, and fails below instead of hanging
    fate = lambda n: Fate(until_submissions=3, until_timeout_s=10.0) if n == 1 else Fate()  # noqa: E731
    with LLMServer(answer=answer) as upstream:
        batches, (rows, errors, info) = _batch_run(recs, tmp_path, upstream, 4, fate=fate)
    events = batches.events
    assert events.index(("created", "batch_2")) < events.index(("ended", "batch_1")), events
    assert events.index(("created", "batch_3")) < events.index(("ended", "batch_1")), events
    # batches 1-3 are the three chunks' first requests (4, 4 and 2 records), in record order
    assert [[line["custom_id"] for line in _lines(batches, f"batch_{n}")] for n in (1, 2, 3)] == _first_keys(recs)
    assert len(rows) == 10 and not errors
    assert info["batches"]["resumed"] == [] and info["batches"]["ahead_refused"] == 0


def test_chunks_in_flight_give_the_rows_errors_and_counts_of_one_chunk_at_a_time(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:10]
    with LLMServer(answer=answer) as upstream:
        one, (rows1, errors1, info1) = _batch_run(recs, tmp_path / "one", upstream, 1)
        many, (rows4, errors4, info4) = _batch_run(recs, tmp_path / "four", upstream, 4)
    assert info1["repair"]["records_sent_back"] > 0  # the repair loop had work, in more than one chunk
    # in turn, chunk 1's repairs come before chunk 2's first requests; in flight, every first request comes first
    assert [all(map(_first_round, _lines(one, f"batch_{n}"))) for n in (1, 2)] == [True, False]
    assert all(all(map(_first_round, _lines(many, f"batch_{n}"))) for n in (1, 2, 3))
    assert rows4 == rows1 and errors4 == errors1 == []
    for part in ("requests", "repair", "usage_this_run", "usage_of_kept_answers"):
        assert info4[part] == info1[part], part
    # the same requests, each paid once
    assert sorted(_sent(many)) == sorted(_sent(one)) and len(set(_sent(many))) == len(_sent(many))
    assert many.lines_answered == one.lines_answered and many.submissions == one.submissions


def test_a_build_stopped_after_the_look_ahead_pays_no_request_twice_on_the_rerun(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:10]
    ws = Workspace(tmp_path / "ws")
    with LLMServer(answer=answer) as upstream, BatchServer(upstream.base_url, api_key=SECRET) as batches:
        batches.hold.clear()  # no batch ends: the first run stops while polling chunk 1, every chunk submitted
        with pytest.raises(WriteError, match="have not ended"):
            write_with_llm(recs, ws, _batch_config(batches.base_url, 4, batch_max_wait_s=1.0), progress=False)
        assert batches.submissions == 3 and batches.uploads == 3
        batches.hold.set()
        rows, errors, info = write_with_llm(recs, ws, _batch_config(batches.base_url, 4), progress=False)
        sent = _sent(batches)
    assert len(rows) == 10 and not errors
    # the rerun polled the three batches of the first run and sent only repairs
    assert info["batches"]["resumed"] == ["batch_1", "batch_2", "batch_3"]
    assert not any(map(_first_round, (line for n in range(4, batches.submissions + 1)
                                      for line in _lines(batches, f"batch_{n}"))))
    assert len(set(sent)) == len(sent) and batches.lines_answered == len(sent)
    assert info["requests"]["failed"] == 0 and info["requests"]["answered_before"] == 0


def test_a_refused_look_ahead_waits_for_its_chunks_turn_and_the_stage_goes_on(records, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:10]
    with LLMServer(answer=answer) as upstream:
        _, (rows1, errors1, info1) = _batch_run(recs, tmp_path / "one", upstream, 1)
        capfd.readouterr()
        # the second creation (chunk 2, ahead) is refused: a full queue; chunk 3 then waits too
        refused, (rows, errors, info) = _batch_run(recs, tmp_path / "refused", upstream, 4,
                                                   refuse_create=lambda n: n == 2)
        said = capfd.readouterr().err
        # a look-ahead batch that fails validation with nothing answered (OpenAI's enqueued-token limit) is
        # not an attempt: with no retries, its requests are sent again in the chunk's turn, with attempt 0's seed
        failed, (rows_f, errors_f, info_f) = _batch_run(recs, tmp_path / "failed", upstream, 4,
                                                        fate=lambda n: Fate("fail") if n == 2 else Fate())
    assert rows == rows_f == rows1 and errors == errors_f == errors1 == []
    for part in ("requests", "repair"):
        assert info[part] == info1[part] == info_f[part], part
    assert said.count("refused a batch submitted ahead") == 1 and "token limit" in said
    assert SECRET not in said and "Bearer ***" in said
    assert refused.create_calls == refused.submissions + 1 and info["batches"]["ahead_refused"] == 1
    assert refused.uploads == refused.submissions  # the refused chunk's file was uploaded once, used in its turn
    assert len(set(_sent(refused))) == len(_sent(refused))
    assert info_f["batches"]["ended"]["batch_2"] == "failed" and info_f["batches"]["ahead_refused"] == 1
    again = [line for n in range(3, failed.submissions + 1) for line in _lines(failed, f"batch_{n}")
             if line["custom_id"] in {x["custom_id"] for x in _lines(failed, "batch_2")}]
    assert len(again) == len(_lines(failed, "batch_2")) and {x["body"]["seed"] for x in again} == {0}
