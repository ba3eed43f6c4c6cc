"""The writer, the repair loop and the judge grader against a real model: llama.cpp's OpenAI-compatible
server serving SmolLM2-135M-Instruct on 127.0.0.1 (tests/real_llm.py, the session fixture ``real_llm``),
through the real ``openai`` client. The model is small and slow on CPU: one record, short answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from emotioncot.config import BuildConfig
from emotioncot.workspace import Workspace
from emotioncot.write.llm import write_with_llm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_llm import short_prompts  # noqa: E402


@pytest.fixture(scope="module")
def one_record(demo_build):
    from emotioncot.pipeline import load_records

    records = load_records(Workspace(demo_build), with_texts=False)
    return [next(r for r in records if r["emotion"] == "angry")]


def test_writer_structured_answers_and_repair_against_a_real_model(real_llm, one_record, tmp_path):
    cfg = BuildConfig()
    cfg.write = cfg.write.model_validate({
        **cfg.write.model_dump(), "writer": "openai", "base_url": real_llm.base_url, "model": real_llm.model,
        "concurrency": 2, "max_retries": 1, "timeout_s": 240, "temperature": 0.7, "seed": 3, "repair_rounds": 1,
        **short_prompts(tmp_path, 72),
    })
    ws = Workspace(tmp_path / "ws")
    rows, errors, info = write_with_llm(one_record, ws, cfg, progress=False)

    # every record is written or has its error; nothing vanishes
    assert len(rows) + len(errors) == 1
    for err in errors:
        assert err["id"] == one_record[0]["id"] and err["reason"]
    entries = [json.loads(line) for line in (ws.root / "journal" / "write.jsonl").read_text().splitlines() if line.strip()]
    answered = entries
    assert answered, f"the real model answered nothing: {errors}"
    for entry in answered:
        # the answer came back as a JSON field and was unpacked: the text is the field, not the object
        assert entry["text"] and not entry["text"].lstrip().startswith("{"), entry
        assert entry["model"] and entry["completion_tokens"] > 0 and entry["prompt_tokens"] > 0
    assert info["structured"] == "auto"
    assert info["usage_this_run"]["completion_tokens"] >= sum(e["completion_tokens"] for e in answered)

    repair = info["repair"]
    assert repair["kept_before_repair"] in (0, 1) and repair["kept_after_repair"] in (0, 1)
    if rows and repair["kept_before_repair"] == 0:
        # the 135M model's first answer is rejected (it rarely quotes the words or names the label): it is
        # sent back once with the filter's reasons, and every repair answer is journaled as round 1
        assert repair["records_sent_back"] == 1 and repair["requests"] >= 1
        rounds = [e.get("round") for e in answered]
        assert rounds.count(1) <= repair["requests"]

    # a rerun sends nothing that was answered: every attempt, the repairs included, is paid once. A request
    # that failed (the 135M model sometimes cuts its JSON at max_tokens, repairs included) is not journaled
    # and is tried again, and only it: at most its own attempts go out.
    rows2, errors2, info2 = write_with_llm(one_record, ws, cfg, progress=False)
    failed = info["requests"]["failed"]
    if failed == 0:
        assert info2["requests"]["http_requests_sent"] == 0 and info2["usage_this_run"]["completion_tokens"] == 0
        assert [r["cot_analysis"] for r in rows2] == [r["cot_analysis"] for r in rows]
    else:
        assert info2["requests"]["http_requests_sent"] <= failed * (cfg.write.max_retries + 1)


def test_judge_grader_gets_valid_grades_from_a_real_model(real_llm, one_record):
    from emotioncot.train.graders import OpenAIJudgeGrader

    row = one_record[0]
    judge = OpenAIJudgeGrader(real_llm.base_url, real_llm.model, concurrency=2, max_retries=2, timeout_s=240,
                              max_tokens=64)
    texts = [f'<think>A speaker says "{row["transcript"]}" with a loud, fast voice.</think><answer>angry</answer>',
             "<think>The voice is quiet and slow.</think><answer>sad</answer>"]
    grades = judge.grade(texts, [row, row])
    # the JSON schema (response_format) constrains even this small judge to four integer grades
    assert all(g is not None for g in grades), grades
    for g in grades:
        assert all(v in (1.0, 2.0, 3.0, 4.0, 5.0) for v in g.as_tuple()), g


def test_openai_batch_through_a_batch_api_server_equals_live_calls_on_a_real_model(real_llm, one_record, tmp_path):
    """The Batch API server of tests/batch_server.py answers each line by calling the llama.cpp server, one
    line at a time; the live run goes through the same server's pass-through, one request at a time. Greedy
    decoding, and ``cache_prompt: false`` added upstream on both paths: llama.cpp's answer then does not
    depend on what its slots held before (with the cache on, a first try gave the rationale a different
    tail), so both paths get the model's same answers and must make the same journal and rows."""
    from batch_server import BatchServer

    def cfg(writer: str, base_url: str) -> BuildConfig:
        c = BuildConfig()
        c.write = c.write.model_validate({
            **c.write.model_dump(), "writer": writer, "base_url": base_url, "model": real_llm.model,
            "concurrency": 1, "max_retries": 1, "timeout_s": 240, "temperature": 0.0, "seed": 3,
            "repair_rounds": 0, "batch_poll_s": 0.2, **short_prompts(tmp_path, 72),
        })
        return c

    live_ws, batch_ws = Workspace(tmp_path / "live"), Workspace(tmp_path / "batch")
    with BatchServer(real_llm.base_url, extra_body={"cache_prompt": False}) as server:
        live_rows, live_errors, live_info = write_with_llm(one_record, live_ws, cfg("openai", server.base_url),
                                                           progress=False)
        assert server.live_requests >= 2 and server.submissions == 0
        rows, errors, info = write_with_llm(one_record, batch_ws, cfg("openai-batch", server.base_url),
                                            progress=False)
        assert 1 <= server.submissions <= 2  # a retried answer goes into a second batch
    journal = {ws: [json.loads(x) for x in (ws.root / "journal" / "write.jsonl").read_text().splitlines()]
               for ws in (live_ws, batch_ws)}
    assert journal[live_ws], f"the real model answered nothing: {live_errors}"
    assert [(e["key"], e["text"]) for e in journal[batch_ws]] == [(e["key"], e["text"]) for e in journal[live_ws]]
    assert rows == live_rows and errors == live_errors
    assert info["usage_this_run"]["completion_tokens"] == live_info["usage_this_run"]["completion_tokens"]
