"""Batch writing: ``--writer openai-batch`` against a Batch API server on 127.0.0.1 (tests/batch_server.py,
real HTTP, the real ``openai`` client) whose lines are answered by a chat-completions server over HTTP
(tests/llm_server.py here; the llama.cpp server in tests/test_real_llm.py), and ``--batch-file`` /
``--batch-results`` for batch runs made elsewhere (vLLM's run-batch format)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_server import BatchServer, Fate, run_batch_file  # noqa: E402
from llm_server import Action, LLMServer, _answer_text, _task_of  # noqa: E402
from vllm_batch_schema import BatchRequestInput  # noqa: E402

from emotioncot.config import BuildConfig
from emotioncot.schema import GeneratedText
from emotioncot.tables import read_table
from emotioncot.workspace import Workspace
from emotioncot.write.llm import load_prompts, plan_jobs, write_with_llm

REPO = Path(__file__).resolve().parent.parent
KEY_ENV = "EMOTIONCOT_TEST_BATCH_KEY"
SECRET = "sk-batch-test-5ecret-0123456789"


@pytest.fixture(scope="module")
def records(demo_build):
    from emotioncot.pipeline import load_records

    return load_records(Workspace(demo_build), with_texts=False)


def answer(body: dict) -> str:
    """The fault server's made-up answer, but every other first rationale comes as a Markdown list (a
    reason the filter rejects and a writer can fix), so the repair loop has work in both paths."""
    messages = body["messages"]
    task = _task_of(body)
    text = _answer_text(task, messages, "?")
    digest = hashlib.sha256(json.dumps(messages[-1], sort_keys=True).encode()).digest()[0]
    if task == "rationale" and len(messages) == 2 and digest % 2:
        text = "- " + text.replace(". ", ".\n- ", 2)
    return text


def config(base_url: str, writer: str, **write) -> BuildConfig:
    cfg = BuildConfig()
    cfg.write = cfg.write.model_validate({
        **cfg.write.model_dump(), "writer": writer, "base_url": base_url, "model": "test-model",
        "api_key_env": KEY_ENV, "max_retries": 0, "timeout_s": 10, "backoff_base_s": 0.02, "backoff_max_s": 0.1,
        "batch_poll_s": 0.05, "repair_rounds": 0, "price_input_per_mtok": 2.0, "price_output_per_mtok": 8.0,
        **write,
    })
    return cfg


def _journal(ws: Workspace, name: str = "write") -> list[dict]:
    path = ws.root / "journal" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), **extra}
    env.pop("OPENAI_API_KEY", None)
    return env


def _no_secret_under(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"the API key reached {path}"


def _fresh_ws(demo_build: Path, folder: Path) -> Path:
    shutil.copytree(demo_build, folder)
    assert not (folder / "journal" / "write.jsonl").exists()  # the template writer keeps no LLM journal
    return folder


# ---------------------------------------------------------------- the same build, live or batched


def test_a_batch_build_equals_a_live_build_on_the_same_answers(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:10]
    with LLMServer(answer=answer) as upstream:
        live_rows, live_errors, live_info = write_with_llm(
            recs, Workspace(tmp_path / "live"), config(upstream.base_url, "openai", repair_rounds=1), progress=False)
        with BatchServer(upstream.base_url, api_key=SECRET) as batches:
            ws = Workspace(tmp_path / "batch")
            rows, errors, info = write_with_llm(recs, ws, config(batches.base_url, "openai-batch", repair_rounds=1),
                                                progress=False)
            # the first answers are one batch, the repair round the next one
            assert batches.submissions == 2 and batches.uploads == 2
            assert info["batches"]["submitted"] == ["batch_1", "batch_2"]
            assert all(h.get("authorization") == f"Bearer {SECRET}" for h in batches.headers)
    assert live_info["repair"]["records_sent_back"] > 0  # the repair loop had work to do
    assert rows == live_rows and errors == live_errors == []
    assert info["repair"] == live_info["repair"]
    # the same journal keys and texts, whichever way the requests travelled
    live_journal = {e["key"]: e["text"] for e in _journal(Workspace(tmp_path / "live"))}
    assert {e["key"]: e["text"] for e in _journal(ws)} == live_journal
    # tokens as the lines reported them, priced at half the live prices
    assert info["usage_this_run"]["prompt_tokens"] == live_info["usage_this_run"]["prompt_tokens"]
    assert info["usage_this_run"]["cost"] == pytest.approx(live_info["usage_this_run"]["cost"] / 2)
    assert info["prices_per_mtok"] == {"input": 1.0, "output": 4.0} and info["transport"] == "openai-batch"
    _no_secret_under(tmp_path)
    # a rerun sends nothing: every answer is in the journal
    with LLMServer(answer=answer) as upstream, BatchServer(upstream.base_url) as batches:
        again, _, info2 = write_with_llm(recs, ws, config(batches.base_url, "openai-batch", repair_rounds=1,
                                                          api_key_env="UNSET_KEY_ENV"), progress=False)
        assert batches.submissions == 0 and again == rows and info2["usage_this_run"]["requests"] == 0


# ---------------------------------------------------------------- a kill while the batch runs


def test_a_kill_mid_batch_resumes_by_polling_the_same_batch(demo_build, tmp_path):
    ws = _fresh_ws(demo_build, tmp_path / "ws")
    cfg_file = tmp_path / "cfg.json"
    cfg_file.write_text(json.dumps({"write": {"batch_poll_s": 0.1, "max_retries": 0}}))
    with LLMServer() as upstream, BatchServer(upstream.base_url, api_key=SECRET) as batches:
        cmd = [sys.executable, "-m", "emotioncot", "generate", str(ws), "--config", str(cfg_file),
               "--writer", "openai-batch", "--base-url", batches.base_url, "--model", "test-model",
               "--api-key-env", KEY_ENV, "--limit", "6", "--repair-rounds", "0"]
        batches.hold.clear()  # the batch stays in_progress until released
        proc = subprocess.Popen(cmd, env=_env(**{KEY_ENV: SECRET}), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while not (batches.submissions and batches.batches["batch_1"]["status"] == "in_progress") \
                and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)  # a few polls
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL and batches.submissions == 1
        journaled = _journal(Workspace(ws), "write-batches")
        assert [e["batch_id"] for e in journaled if e.get("batch_id")] == ["batch_1"]
        assert not (ws / "journal" / "write.jsonl").exists() or not _journal(Workspace(ws))

        batches.hold.set()
        done = subprocess.run(cmd, env=_env(**{KEY_ENV: SECRET}), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        # the same batch was polled to its end: one submission, one upload, 12 lines answered once each
        assert batches.submissions == 1 and batches.uploads == 1 and batches.lines_answered == 12
    assert "batch batch_1: completed, 12/12 done, 0 failed" in done.stderr  # the visible status
    assert "6 written by openai, 0 failed" in done.stdout
    assert len(read_table(ws / "stages" / "write.parquet", GeneratedText)) == 6
    assert SECRET not in done.stdout + done.stderr
    _no_secret_under(ws)


def test_a_kill_before_the_batch_id_came_back_finds_that_batch_instead_of_paying_again(demo_build, tmp_path):
    ws = _fresh_ws(demo_build, tmp_path / "ws")
    cfg_file = tmp_path / "cfg.json"
    cfg_file.write_text(json.dumps({"write": {"batch_poll_s": 0.1, "max_retries": 0, "timeout_s": 60}}))
    with LLMServer() as upstream, BatchServer(upstream.base_url) as batches:
        cmd = [sys.executable, "-m", "emotioncot", "generate", str(ws), "--config", str(cfg_file),
               "--writer", "openai-batch", "--base-url", batches.base_url, "--model", "test-model",
               "--limit", "3", "--repair-rounds", "0"]
        batches.answer_create.clear()
        proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while not batches.submissions and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        batches.answer_create.set()
        assert batches.submissions == 1  # created (and billed) on the server; its id never reached the build
        journaled = _journal(Workspace(ws), "write-batches")
        assert [e["state"] for e in journaled] == ["uploaded"] and "batch_id" not in journaled[0]

        done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert batches.submissions == 1 and batches.uploads == 1 and batches.lines_answered == 6
    assert "batch batch_1: found again, 6 requests" in done.stderr
    assert "3 written by openai, 0 failed" in done.stdout


# ---------------------------------------------------------------- batches that end badly


def test_an_expired_batch_keeps_what_completed_and_the_rest_go_into_the_next_batch(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:6]
    fates = {1: Fate("expire", answer_first=5)}
    with LLMServer() as upstream, BatchServer(upstream.base_url, fate=lambda n: fates.get(n, Fate())) as batches:
        ws = Workspace(tmp_path / "ws")
        rows, errors, info = write_with_llm(recs, ws, config(batches.base_url, "openai-batch"), progress=False)
        # 5 of 12 requests were answered before the window closed: kept; the other 7 are named with the reason
        assert len(_journal(ws)) == 5 and info["requests"]["failed"] == 7
        assert info["batches"]["ended"] == {"batch_1": "expired"}
        assert len(rows) + len(errors) == 6 and len(rows) == 2
        for err in errors:
            assert "batch batch_1 expired before this request was answered" in err["reason"], err
            assert "gave up after 1 attempts" in err["reason"]
        # a rerun sends only those 7, in a new batch
        rows2, errors2, info2 = write_with_llm(recs, ws, config(batches.base_url, "openai-batch"), progress=False)
        assert batches.submissions == 2 and batches.lines_answered == 12
        assert not errors2 and len(rows2) == 6 and info2["requests"]["answered_before"] == 5
        # with retries, the same happens inside one run: the next attempt is the next batch
        fates[3] = Fate("expire", answer_first=4)
        rows3, errors3, info3 = write_with_llm(recs, Workspace(tmp_path / "ws3"),
                                               config(batches.base_url, "openai-batch", max_retries=1), progress=False)
        assert not errors3 and len(rows3) == 6 and info3["batches"]["ended"] == {"batch_3": "expired",
                                                                                   "batch_4": "completed"}
        assert batches.batches["batch_4"]["request_counts"]["total"] == 8


def test_a_failed_batch_and_failed_lines_get_the_live_writers_reasons(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:4]
    cfg = config("http://unused", "openai-batch", max_retries=1)
    jobs, _ = plan_jobs(recs, cfg.write, load_prompts(cfg.write))
    broken = jobs[2].key  # the caption of the second record: a 500 line in every batch
    fates = {1: Fate("fail")}
    with LLMServer() as upstream, BatchServer(upstream.base_url, fate=lambda n: fates.get(n, Fate(error_ids={broken}))) as batches:
        cfg = config(batches.base_url, "openai-batch", max_retries=1)
        rows, errors, info = write_with_llm(recs, Workspace(tmp_path / "a"), cfg, progress=False)
        # batch 1 failed validation (nothing answered), batch 2 answered all but the broken line
        assert info["batches"]["ended"] == {"batch_1": "failed", "batch_2": "completed"}
        assert [e["id"] for e in errors] == [recs[1]["id"]] and len(rows) == 3
        assert errors[0]["reason"].startswith("caption: gave up after 2 attempts; last: HTTP 500 ")
        assert "error processing the request" in errors[0]["reason"]
        # without retries, the failed batch's reason reaches every record
        fates[3] = Fate("fail")
        rows, errors, _ = write_with_llm(recs, Workspace(tmp_path / "b"), config(batches.base_url, "openai-batch"),
                                         progress=False)
    assert rows == [] and len(errors) == 4
    assert all("batch batch_3 failed before answering (invalid_request: the model is not available for batch)"
               in e["reason"] for e in errors)


def test_an_endpoint_refusing_the_json_schema_gets_the_lines_again_as_plain_text(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    refuse = lambda record, task, attempt: Action("format_unsupported")  # noqa: E731  400 to any response_format
    with LLMServer(refuse) as upstream, BatchServer(upstream.base_url) as batches:
        rows, errors, info = write_with_llm(records[:3], Workspace(tmp_path), config(batches.base_url, "openai-batch"),
                                            progress=False)
        lines = [json.loads(x) for i in (1, 2) for x in batches.files[batches.batches[f"batch_{i}"]["input_file_id"]]
                 ["data"].decode().splitlines()]
    # max_retries 0, yet the refused lines went again: a refused schema is not a failure of the answer
    assert not errors and len(rows) == 3 and batches.submissions == 2
    assert all("response_format" in x["body"] for x in lines[:6]) and not any("response_format" in x["body"]
                                                                               for x in lines[6:])
    assert info["structured"] == "refused by the endpoint (plain text)"


# ---------------------------------------------------------------- request files and results made elsewhere


def _generate(ws: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "emotioncot", "generate", str(ws), "--model", "test-model", "--limit", "5",
           "--repair-rounds", "1", "--api-key-env", KEY_ENV, "-q", *args]
    proc = subprocess.run(cmd, env=_env(**{KEY_ENV: SECRET}), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert SECRET not in proc.stdout + proc.stderr
    return proc


def test_batch_file_fits_vllm_run_batch_and_its_results_give_the_live_records(demo_build, tmp_path):
    live = _fresh_ws(demo_build, tmp_path / "live")
    offline = _fresh_ws(demo_build, tmp_path / "offline")
    with LLMServer(answer=answer) as upstream:
        _generate(live, "--writer", "openai", "--base-url", upstream.base_url)
        sent_live = upstream.count()

        # round 0: every first request; nothing is sent, nothing is answered
        _generate(offline, "--batch-file", str(tmp_path / "requests-1.jsonl"))
        assert upstream.count() == sent_live and not (offline / "journal" / "write.jsonl").exists()
        lines = [json.loads(x) for x in (tmp_path / "requests-1.jsonl").read_text().splitlines()]
        assert len(lines) == 10 and len({x["custom_id"] for x in lines}) == 10
        for line in lines:
            BatchRequestInput.model_validate(line)  # vLLM's documented run-batch request format
            assert line["body"]["model"] == "test-model" and line["body"]["response_format"]["type"] == "json_schema"
        run_batch_file(tmp_path / "requests-1.jsonl", tmp_path / "results-1.jsonl", upstream.base_url)
        _generate(offline, "--batch-results", str(tmp_path / "results-1.jsonl"))

        # round 1: only the repairs the filter asked for, then their results
        _generate(offline, "--batch-file", str(tmp_path / "requests-2.jsonl"))
        repairs = [json.loads(x) for x in (tmp_path / "requests-2.jsonl").read_text().splitlines()]
        assert 0 < len(repairs) < len(lines)
        for line in repairs:
            BatchRequestInput.model_validate(line)
            assert len(line["body"]["messages"]) == 4  # the prompt, the rejected answer, the filter's reasons
        run_batch_file(tmp_path / "requests-2.jsonl", tmp_path / "results-2.jsonl", upstream.base_url)
        done = _generate(offline, "--batch-results", str(tmp_path / "results-2.jsonl"))

        # nothing left to ask for
        _generate(offline, "--batch-file", str(tmp_path / "requests-3.jsonl"))
        assert (tmp_path / "requests-3.jsonl").read_text() == ""
    assert "5 written by openai, 0 failed" in done.stdout
    table = "stages/write.parquet"
    assert read_table(offline / table, GeneratedText) == read_table(live / table, GeneratedText)
    _no_secret_under(tmp_path)


def test_a_results_file_with_bad_or_missing_lines(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:3]
    cfg = config("http://unused", "openai")
    jobs, _ = plan_jobs(recs, cfg.write, load_prompts(cfg.write))
    results = tmp_path / "results.jsonl"
    with LLMServer() as upstream:
        requests = tmp_path / "requests.jsonl"
        from emotioncot.write.batch_file import encode, request_line

        requests.write_bytes(b"".join(encode(request_line(job, cfg.write)) for job in jobs[:4]))
        run_batch_file(requests, results, upstream.base_url)
    lines = results.read_text().splitlines()
    refused = json.loads(lines[3])
    refused["response"] = {"status_code": 400, "request_id": "x", "body": None}
    refused["error"] = "This model's maximum context length is 2048 tokens"
    results.write_text("\n".join(lines[:3] + [json.dumps(refused)]) + "\n")
    cfg = config("http://unused", "openai", batch_results=str(results))
    rows, errors, info = write_with_llm(recs, Workspace(tmp_path / "ws"), cfg, progress=False)
    assert [r["id"] for r in rows] == [recs[0]["id"]]
    reasons = {e["id"]: e["reason"] for e in errors}
    assert reasons[recs[1]["id"]] == ("rationale: endpoint rejected the request (HTTP 400): "
                                      "This model's maximum context length is 2048 tokens")
    assert reasons[recs[2]["id"]] == ("caption: no answer in the results file results.jsonl; "
                                      "rationale: no answer in the results file results.jsonl")
    assert info["transport"] == "results file" and info["batch_results"]["matched"] == 4

    results.write_text('{"custom_id": "a"}\nnot json\n')
    from emotioncot.write.batch_file import BatchFileError

    with pytest.raises(BatchFileError, match=r"results.jsonl:2: not valid JSON"):
        write_with_llm(recs, Workspace(tmp_path / "ws2"), cfg, progress=False)


def test_request_files_are_split_at_the_providers_limits():
    from emotioncot.write.batch_file import BatchFileError, split_lines

    lines = [b"x" * 99 + b"\n"] * 25
    assert [len(g) for g in split_lines(lines, max_requests=10, max_bytes=10_000)] == [10, 10, 5]
    assert [len(g) for g in split_lines(lines, max_requests=100, max_bytes=750)] == [7, 7, 7, 4]
    with pytest.raises(BatchFileError, match="over the 50-byte limit"):
        list(split_lines(lines, max_requests=10, max_bytes=50))


def test_a_first_request_that_keeps_failing_does_not_hold_back_the_repair_round(records, tmp_path, monkeypatch):
    from emotioncot.write.batch_file import write_request_file

    monkeypatch.setenv(KEY_ENV, SECRET)
    recs = records[:6]
    cfg = config("http://unused", "openai", repair_rounds=1)
    ws = Workspace(tmp_path / "ws")
    write_request_file(recs, ws, cfg, tmp_path / "requests-1.jsonl", progress=False)
    with LLMServer(answer=answer) as upstream:
        run_batch_file(tmp_path / "requests-1.jsonl", tmp_path / "results-1.jsonl", upstream.base_url)
    lines = [json.loads(x) for x in (tmp_path / "results-1.jsonl").read_text().splitlines()]
    refused = lines[0]["custom_id"]  # the first caption: refused for good (a context-length 400)
    lines[0] = {**lines[0], "response": {"status_code": 400, "request_id": "r", "body": None},
                "error": "This model's maximum context length is 2048 tokens"}
    (tmp_path / "results-1.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    cfg.write = cfg.write.model_copy(update={"batch_results": tmp_path / "results-1.jsonl"})
    rows, errors, info = write_with_llm(recs, ws, cfg, progress=False)
    assert [e["id"] for e in errors] == [recs[0]["id"]] and len(rows) == 5
    assert info["repair"]["records_sent_back"] > 0  # planned, though not in this results file

    cfg.write = cfg.write.model_copy(update={"batch_results": None})
    write_request_file(recs, ws, cfg, tmp_path / "requests-2.jsonl", progress=False)
    again = [json.loads(x) for x in (tmp_path / "requests-2.jsonl").read_text().splitlines()]
    # the refused request is asked again, and the repair round of the answered records goes with it
    assert [x["custom_id"] for x in again if len(x["body"]["messages"]) == 2] == [refused]
    assert len([x for x in again if len(x["body"]["messages"]) == 4]) == info["repair"]["requests"] > 0
