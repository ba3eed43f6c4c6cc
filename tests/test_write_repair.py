"""The repair loop, varied retry seeds, structured-answer fallback, a dying server and --limit, against the
scripted fault server of tests/llm_server.py (real HTTP on 127.0.0.1, the real ``openai`` client)."""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import Action, LLMServer  # noqa: E402

from emotioncot.config import BuildConfig
from emotioncot.pipeline import BuildError, build
from emotioncot.workspace import Workspace
from emotioncot.write.llm import WriteError, write_with_llm
from emotioncot.write.structured import answer_text
from emotioncot.write.template import write_template


@pytest.fixture(scope="module")
def records(demo_build):
    from emotioncot.pipeline import load_records

    return load_records(Workspace(demo_build), with_texts=False)


def config(server: LLMServer, **write) -> BuildConfig:
    cfg = BuildConfig()
    cfg.write = cfg.write.model_validate({
        **cfg.write.model_dump(), "writer": "openai", "base_url": server.base_url, "model": "test-model",
        "concurrency": 4, "max_retries": 3, "timeout_s": 0.6, "backoff_base_s": 0.02, "backoff_max_s": 0.1,
        **write,
    })
    return cfg


def _journal(ws: Workspace) -> list[dict]:
    path = ws.root / "journal" / "write.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_repair_loop_sends_fixable_rejections_back_with_reasons_and_pays_once(records, tmp_path):
    recs = records[:6]
    good = {r["id"]: write_template(r) for r in recs}
    broken = {r["id"] for r in recs[::2]}  # their first rationale is a Markdown list: fixable

    def plan(record, task, attempt):
        text = good[record]["caption" if task == "caption" else "cot_analysis"]
        if task == "rationale" and record in broken and attempt == 1:
            text = "- " + text.replace(". ", ".\n- ", 2)
        return Action("ok", text=text)

    ws = Workspace(tmp_path / "ws")
    with LLMServer(plan) as server:
        cfg = config(server, repair_rounds=1)
        rows, errors, info = write_with_llm(recs, ws, cfg, progress=False)
        sent = len(server.log)
        repairs = [r for r in server.log if len(r.body["messages"]) == 4]
        # a rerun sends nothing: every attempt, the repairs included, was journaled once
        rows2, _, info2 = write_with_llm(recs, ws, cfg, progress=False)
        assert len(server.log) == sent and info2["requests"]["http_requests_sent"] == 0
    assert not errors and len(rows) == 6
    repair = info["repair"]
    assert repair["kept_before_repair"] == 3 and repair["kept_after_repair"] == 6
    assert repair["records_sent_back"] == 3 and repair["requests"] == 3
    assert repair["keep_rate_before"] == 0.5 and repair["keep_rate_after"] == 1.0
    assert sent == 12 + 3 and {r.record for r in repairs} == broken and {r.task for r in repairs} == {"rationale"}
    for req in repairs:
        assistant, user = req.body["messages"][2:]
        assert assistant["role"] == "assistant" and assistant["content"].startswith("- ")
        assert user["role"] == "user" and "has a list item" in user["content"] and "plain prose" in user["content"]
    by_id = {r["id"]: r for r in rows}
    for rid in broken:
        assert by_id[rid]["cot_analysis"] == good[rid]["cot_analysis"]  # the repaired answer replaced the old one
    assert sorted(e.get("round", 0) for e in _journal(ws)) == [0] * 12 + [1] * 3
    assert [r["cot_analysis"] for r in rows2] == [r["cot_analysis"] for r in rows]


def test_blind_repairs_never_carry_the_gold_label(records, tmp_path):
    rec = records[0]
    gold = rec["emotion"]
    other = "happy" if gold != "happy" else "sad"
    cot = write_template(rec)["cot_analysis"].replace(gold, other)
    cap = write_template(rec)["caption"]

    def plan(record, task, attempt):
        if task == "caption":
            return Action("ok", text=cap)
        return Action("ok", text=f"- {cot}\nEMOTION: {other}")  # a list (fixable) and the wrong label

    with LLMServer(plan) as server:
        write_with_llm([rec], Workspace(tmp_path / "ws"), config(server, label_mode="blind", repair_rounds=1),
                       progress=False)
        repairs = [r.body["messages"][-1]["content"] for r in server.log if len(r.body["messages"]) == 4]
    assert len(repairs) == 1 and "list item" in repairs[0]
    assert gold not in repairs[0].lower() and "gold" not in repairs[0].lower()


def test_retries_vary_the_seed(records, tmp_path):
    rec = records[0]

    def plan(record, task, attempt):
        return Action("truncated" if attempt < 3 else "ok")

    with LLMServer(plan) as server:
        write_with_llm([rec], Workspace(tmp_path / "ws"), config(server, seed=7, repair_rounds=0), progress=False)
        seeds = [r.body.get("seed") for r in server.log if r.task == "rationale"]
    assert seeds == [7, 8, 9]  # the same seed would bring the same truncated answer back


def test_an_endpoint_refusing_response_format_gets_plain_text(records, tmp_path):
    with LLMServer(lambda r, t, a: Action("format_unsupported")) as server:
        rows, errors, info = write_with_llm(records[:4], Workspace(tmp_path / "ws"),
                                            config(server, concurrency=1, repair_rounds=0), progress=False)
        formats = ["response_format" in r.body for r in server.log]
    assert not errors and len(rows) == 4
    assert "refused" in info["structured"]
    assert formats[:2] == [True, False] and not any(formats[2:])  # asked once, then plain text for the rest


def test_structured_answers_are_unpacked_and_think_blocks_stripped_or_kept():
    raw = '<think>the pitch is high, so...</think>\n{"rationale": "The voice is loud."}'
    assert answer_text(raw, "rationale") == "The voice is loud."
    assert answer_text(raw, "rationale", keep_think=True) == "<think>the pitch is high, so...</think>\nThe voice is loud."
    assert answer_text('{"rationale": "Calm words.", "emotion": "sad"}', "rationale", "blind") == "Calm words.\nEMOTION: sad"
    assert answer_text('```json\n{"caption": "A man speaks."}\n```', "caption") == "A man speaks."
    # an endpoint that ignored the schema: the plain text is kept, a reasoning block still stripped
    assert answer_text("<think>x</think> A woman says hello.", "caption") == "A woman says hello."


def _run_in_thread(fn):
    out: dict = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out


def test_a_server_that_dies_mid_stage_pauses_it_and_the_stage_resumes(records, tmp_path):
    recs = records[:20]
    server = LLMServer(delay_s=0.05).start()
    port = server.port
    cfg = config(server, repair_rounds=0, outage_max_s=30)
    thread, out = _run_in_thread(lambda: write_with_llm(recs, Workspace(tmp_path / "ws"), cfg, progress=False))
    deadline = time.time() + 20
    while server.count() < 8 and time.time() < deadline:
        time.sleep(0.01)
    server.stop()  # every worker now gets connection refused
    time.sleep(1.0)
    revived = LLMServer(delay_s=0.0, port=port).start()
    try:
        thread.join(60)
    finally:
        revived.stop()
    assert "error" not in out, out.get("error")
    rows, errors, info = out["value"]
    assert len(rows) == 20 and not errors  # nothing failed: the queue waited for the server
    assert info["outage"]["pauses"] >= 1 and info["outage"]["paused_s"] >= 0.5
    assert revived.count() >= 1


def test_a_server_gone_for_good_stops_the_build_clearly_keeping_answers_and_build_json(demo_build, tmp_path):
    out = tmp_path / "ws"
    shutil.copytree(demo_build, out)
    assert not (out / "journal").exists()  # the template writer keeps no LLM journal: only this test's answers count
    (out / "build.json").unlink()
    server = LLMServer(delay_s=0.02).start()
    cfg = config(server, repair_rounds=0, outage_max_s=1.0, limit=30)
    thread, result = _run_in_thread(lambda: build(["demo"], out, cfg, progress=False, log=lambda m: None))
    deadline = time.time() + 30
    while server.count() < 10 and time.time() < deadline:
        time.sleep(0.01)
    server.stop()
    thread.join(60)
    err = result.get("error")
    assert isinstance(err, BuildError), result
    assert "stopped answering" in str(err) and "rerun to resume" in str(err)
    written = _journal(Workspace(out))
    assert len(written) >= 8  # what was written is kept
    summary = json.loads((out / "build.json").read_text())
    assert summary["failed"] == "write" and "stopped answering" in summary["reason"]


def test_a_build_whose_writes_all_failed_says_why_and_writes_build_json(demo_build, tmp_path):
    out = tmp_path / "ws"
    shutil.copytree(demo_build, out)
    assert not (out / "journal").exists()  # the template writer keeps no LLM journal: only this test's answers count
    (out / "build.json").unlink()
    with LLMServer(lambda r, t, a: Action("truncated")) as server:
        cfg = config(server, repair_rounds=0, limit=3, max_retries=1)
        with pytest.raises(BuildError, match=r"no record was written.*truncated answer"):
            build(["demo"], out, cfg, progress=False, log=lambda m: None)
        assert len(server.log) == 3 * 2 * 2  # --limit 3: three records, two tasks, two attempts each
    summary = json.loads((out / "build.json").read_text())
    assert summary["failed"] == "write" and "truncated" in summary["reason"] and summary["counts"]["write"] == 0


def test_limit_writes_only_the_first_n_records(demo_build, tmp_path):
    out = tmp_path / "ws"
    shutil.copytree(demo_build, out)
    cfg = BuildConfig()
    cfg.write.limit = 5
    summary = build(["demo"], out, cfg, progress=False, log=lambda m: None)
    assert summary["counts"]["write"] == 5 and summary["counts"]["filter"] + summary["counts"]["rejected"] == 5


def test_unreachable_from_the_start_still_stops_fast(records, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = BuildConfig()
    cfg.write = cfg.write.model_validate({**cfg.write.model_dump(), "writer": "openai", "model": "m",
                                          "base_url": f"http://127.0.0.1:{port}/v1", "max_retries": 1,
                                          "backoff_base_s": 0.01, "concurrency": 4, "outage_max_s": 300})
    started = time.perf_counter()
    with pytest.raises(WriteError, match="requests in a row failed"):
        write_with_llm(records[:40], Workspace(tmp_path), cfg, progress=False)
    assert time.perf_counter() - started < 20  # never answered: no pause, a clear stop
