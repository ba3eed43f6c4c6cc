"""The LLM writer against a real chat-completions server on 127.0.0.1, through the real ``openai`` client."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import Action, LLMServer  # noqa: E402

from emotioncot.config import BuildConfig
from emotioncot.pipeline import load_records
from emotioncot.schema import GeneratedText
from emotioncot.workspace import Workspace
from emotioncot.write.client import Redactor, check_answer
from emotioncot.write.llm import WriteError, write_with_llm
from emotioncot.write.prompts import PromptError, load_prompt

REPO = Path(__file__).resolve().parent.parent
KEY_ENV = "EMOTIONCOT_TEST_LLM_KEY"
# ``python -m emotioncot`` with the LLM writer's chunks made small (write/rounds.py)
CHUNKS_OF_50 = ("import sys; import emotioncot.write.rounds as rounds; rounds.CHUNK_RECORDS = 50; "
                "from emotioncot.cli import main; main()")


@pytest.fixture(scope="module")
def records(demo_build):
    from emotioncot.pipeline import load_records

    return load_records(Workspace(demo_build), with_texts=False)


def llm_config(server: LLMServer, **write) -> BuildConfig:
    cfg = BuildConfig()
    cfg.write = cfg.write.model_validate({
        **cfg.write.model_dump(), "writer": "openai", "base_url": server.base_url, "model": "test-model",
        "api_key_env": KEY_ENV, "concurrency": 8, "max_retries": 3, "timeout_s": 0.6,
        "backoff_base_s": 0.02, "backoff_max_s": 0.1, "repair_rounds": 0, **write,
    })
    return cfg


def _env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), **extra}
    env.pop("OPENAI_API_KEY", None)
    return env


# ---------------------------------------------------------------- faults


def test_every_fault_ends_written_or_in_errors_and_nothing_answered_is_resent(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-fault-test")
    recs = records[:14]
    ids = [r["id"] for r in recs]
    # (record index) -> what each successive attempt gets; after the list, "ok".
    script = {
        0: ["rate_limit"], 1: ["server_error", "server_error"], 2: ["slow"], 3: ["empty"], 4: ["malformed"],
        5: ["drop"], 6: ["truncated"] * 9, 7: ["server_error"] * 9, 8: ["drop", "empty", "slow", "malformed"] * 3,
    }

    def plan(record, task, attempt):
        steps = script.get(ids.index(record), []) if record in ids else []
        kind = steps[attempt - 1] if attempt <= len(steps) else "ok"
        return Action(kind, retry_after=1.0, slow_s=2.0)

    ws = Workspace(tmp_path / "ws")
    with LLMServer(plan) as server:
        cfg = llm_config(server)
        rows, errors, info = write_with_llm(recs, ws, cfg, progress=False)

        written = {r["id"] for r in rows}
        failed = {e["id"] for e in errors}
        assert written | failed == set(ids) and not written & failed
        assert failed == {ids[6], ids[7], ids[8]}
        reasons = {e["id"]: e["reason"] for e in errors}
        assert "truncated" in reasons[ids[6]] and "HTTP 500" in reasons[ids[7]]
        assert "gave up after 4 attempts" in reasons[ids[8]]
        for row in rows:
            GeneratedText.model_validate(row)
            assert row["writer"] == "openai" and row["model"] == "test-model" and row["label_mode"] == "aware"
            assert row["prompt_id"] == "rationale-aware-v4+caption-v3" and len(row["prompt_hash"]) == 16
        # Retries: exactly max_retries + 1 attempts for a record that always fails, fewer otherwise.
        assert server.count(ids[7], "caption") == 4 and server.count(ids[7], "rationale") == 4
        assert server.count(ids[1], "caption") == 3 and server.count(ids[9], "caption") == 1
        for i in (0, 2, 3, 4, 5):  # 429, slow past the timeout, empty, malformed, dropped: one retry each
            assert server.count(ids[i], "caption") == 2 and server.count(ids[i], "rationale") == 2
        # A 429's Retry-After is honoured.
        times = [r.t for r in server.log if r.record == ids[0] and r.task == "caption"]
        assert len(times) == 2 and times[1] - times[0] >= 0.95
        # No request key ever got two good answers.
        assert max(server.answered_keys().values()) == 1
        assert info["requests"]["planned"] == 28 and info["requests"]["failed"] == 6
        assert info["usage_this_run"]["requests"] == len(server.log)

        # Rerun with a healthy server: only the 6 failed requests are sent again.
        script.clear()
        before = len(server.log)
        rows2, errors2, info2 = write_with_llm(recs, ws, cfg, progress=False)
        resent = server.log[before:]
        assert len(resent) == 6 and {r.record for r in resent} == {ids[6], ids[7], ids[8]}
        assert not errors2 and {r["id"] for r in rows2} == set(ids)
        assert info2["requests"]["answered_before"] == 22
        # Untouched rows are identical to the first run's (read back from the journal).
        first = {r["id"]: r for r in rows}
        assert all(first[r["id"]] == r for r in rows2 if r["id"] in first)

        # A third run sends nothing at all.
        before = len(server.log)
        write_with_llm(recs, ws, cfg, progress=False)
        assert len(server.log) == before


def test_concurrency_is_bounded(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-x")
    with LLMServer(delay_s=0.05) as server:
        write_with_llm(records[:20], Workspace(tmp_path), llm_config(server, concurrency=5), progress=False)
        assert server.max_in_flight == 5
        assert server.count() == 40


def test_label_blind_prompts_hide_the_label_and_record_the_inferred_emotion(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-x")
    recs = records[:6]
    with LLMServer() as server:
        rows, errors, info = write_with_llm(recs, Workspace(tmp_path), llm_config(server, label_mode="blind"), progress=False)
        assert not errors and len(rows) == 6
        for req in server.log:
            text = json.dumps(req.body["messages"])
            assert "gold emotion" not in text.lower()
        rationale_bodies = [r.body for r in server.log if r.task == "rationale"]
        assert all("EMOTION:" in json.dumps(b["messages"]) for b in rationale_bodies)
    for row in rows:
        assert row["label_mode"] == "blind" and row["inferred_emotion"] == "neutral"
        assert "EMOTION:" not in row["cot_analysis"]
        assert row["prompt_id"].startswith("rationale-blind-v4")


def test_blind_answer_without_a_label_line_is_retried_then_a_failure(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-x")

    # A blind prompt that asks for another label line: the test server then answers without 'EMOTION:'.
    custom = tmp_path / "blind_nolabel.md"
    custom.write_text((REPO / "prompts" / "rationale_blind.md").read_text()
                      .replace("EMOTION: ", "LABEL= ").replace("final line", "last row"))
    with LLMServer() as server:
        cfg = llm_config(server, label_mode="blind", rationale_prompt=custom)
        rows, errors, _ = write_with_llm(records[:2], Workspace(tmp_path / "ws"), cfg, progress=False)
        assert not rows and len(errors) == 2
        assert all("no final 'EMOTION: <class>' line" in e["reason"] for e in errors)
        assert server.count(records[0]["id"], "rationale") == 4


def test_usage_and_cost_reach_build_info(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-x")
    with LLMServer() as server:
        cfg = llm_config(server, price_input_per_mtok=2.0, price_output_per_mtok=8.0)
        rows, _, info = write_with_llm(records[:5], Workspace(tmp_path), cfg, progress=False)
    # the server reports 100 prompt + 50 completion tokens per answer; 10 answers
    assert info["usage_this_run"] == {"requests": 10, "prompt_tokens": 1000, "completion_tokens": 500,
                                      "cost": pytest.approx(1000 / 1e6 * 2 + 500 / 1e6 * 8)}
    assert all(r["prompt_tokens"] == 200 and r["completion_tokens"] == 100 for r in rows)


# ---------------------------------------------------------------- secrets


def test_api_key_never_reaches_files_logs_or_exceptions(records, demo_corpus, tmp_path):
    secret = "sk-LEAKCHECK-7f3a9c1e5d"
    failing = {records[0]["id"], records[1]["id"]}

    def plan(record, task, attempt):
        return Action("echo_auth" if record in failing else "ok")

    out = tmp_path / "build"
    with LLMServer(plan) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "emotioncot", "build", "-c", "demo", "-o", str(out), "--writer", "openai",
             "--base-url", server.base_url, "--model", "test-model", "--api-key-env", KEY_ENV,
             "--max-retries", "1", "--price-input-per-mtok", "1", "--price-output-per-mtok", "2"],
            env=_env(**{KEY_ENV: secret}), capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert all(r.authorization == f"Bearer {secret}" for r in server.log)  # the key was really used
    assert secret not in proc.stdout + proc.stderr
    leaks = [p for p in out.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert not leaks
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    write_errors = [e for e in errors if e["stage"] == "write"]
    assert {e["id"] for e in write_errors} == failing
    assert all("HTTP 400" in e["reason"] and "Bearer ***" in e["reason"] for e in write_errors)
    summary = json.loads((out / "build.json").read_text())
    assert summary["writer"]["writer"] == "openai" and summary["writer"]["usage_this_run"]["cost"] > 0
    assert summary["config"]["write"]["api_key_env"] == KEY_ENV

    # A refused key stops the stage; the exception and its traceback hold no key either.
    with LLMServer(lambda *a: Action("unauthorized")) as server:
        os.environ[KEY_ENV] = secret
        try:
            with pytest.raises(WriteError) as caught:
                write_with_llm(records[:3], Workspace(tmp_path / "ws"), llm_config(server), progress=False)
        finally:
            del os.environ[KEY_ENV]
    text = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert "401" in text and secret not in text


def test_redactor_hides_keys_and_bearer_tokens():
    redact = Redactor("sk-abcdef")
    assert redact("key sk-abcdef in text; Authorization: Bearer other-token") == "key *** in text; Authorization: Bearer ***"


# ---------------------------------------------------------------- dry run, kill and resume


def test_dry_run_sends_nothing(demo_build, records, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(demo_build, ws)
    with LLMServer() as server:
        proc = subprocess.run(
            [sys.executable, "-m", "emotioncot", "generate", str(ws), "--writer", "openai", "--base-url",
             server.base_url, "--model", "m", "--dry-run", "2", "--price-input-per-mtok", "1",
             "--price-output-per-mtok", "1"],
            env=_env(), capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert server.count() == 0
    out = proc.stdout
    assert out.count("===== ") == 5  # 2 records x (caption, rationale) + the summary
    assert records[0]["transcript"] in out and "estimated prompt tokens" in out
    assert "432 requests to send" in out and "at most" in out


def test_kill_mid_run_then_resume_sends_only_missing_requests(demo_build, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(demo_build, ws)
    journal = ws / "journal" / "write.jsonl"
    assert not journal.exists()  # the template writer keeps its shards in stages/write/: only this test's answers count
    # no repair rounds: repair requests are not what this test counts. Chunks of 50 records (100 requests): the
    # kill falls in a later chunk than the first, and the resumed run goes through every chunk again
    cmd = [sys.executable, "-c", CHUNKS_OF_50, "generate", str(ws), "--writer", "openai", "--model", "m",
           "--concurrency", "4", "--repair-rounds", "0", "-q"]
    with LLMServer(delay_s=0.03) as server:
        cmd += ["--base-url", server.base_url]
        proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while server.count() < 120 and time.time() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        done_before = {json.loads(line)["key"] for line in journal.read_text().splitlines() if line.strip()}
        assert 100 <= len(done_before) < 432  # 120 requests came: the first chunk had ended
        time.sleep(0.2)
        before = len(server.log)

        loud = [arg for arg in cmd if arg != "-q"]  # its stderr says how the writer runs
        proc = subprocess.run(loud, env=_env(), capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        after = server.log[before:]
    sent_keys = [r.key for r in after]
    assert not set(sent_keys) & done_before  # nothing already answered is sent again
    assert len(sent_keys) == len(set(sent_keys)) == 432 - len(done_before)  # only the missing ones, once
    assert "216 written by openai, 0 failed" in proc.stdout
    assert "216 records, 50 at a time" in proc.stderr
    ids = [rec["id"] for rec in load_records(Workspace(ws), with_texts=False)]
    assert pq.read_table(ws / "stages" / "write.parquet", columns=["id"]).column("id").to_pylist() == ids


# ---------------------------------------------------------------- prompt files


def test_prompt_files_are_checked(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("---\nid: x\n---\n# user\nSay {transcrpit}\n")
    with pytest.raises(PromptError, match=r"bad.md: unknown placeholder\(s\) \{transcrpit\}"):
        load_prompt(bad, "caption")
    leaky = tmp_path / "leaky.md"
    leaky.write_text("---\nlabel_mode: blind\n---\n# user\n{transcript} is {emotion}\n")
    with pytest.raises(PromptError, match="must not contain"):
        load_prompt(leaky, "rationale", "blind")
    with pytest.raises(PromptError, match="label_mode 'blind'"):
        load_prompt(leaky, "rationale", "aware")
    with pytest.raises(PromptError, match="not found"):
        load_prompt(tmp_path / "missing.md", "caption")
    for name, task, mode in (("rationale.md", "rationale", "aware"), ("rationale_blind.md", "rationale", "blind"),
                             ("caption.md", "caption", None)):
        prompt = load_prompt(REPO / "prompts" / name, task, mode)
        assert prompt.id and len(prompt.hash) == 16 and prompt.max_tokens >= 200


def test_custom_prompt_is_used_and_recorded(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-x")
    custom = tmp_path / "my_caption.md"
    custom.write_text("---\nid: my-caption-v7\ntask: caption\nmax_tokens: 77\n---\n# user\nDescribe \"{transcript}\" by {speaker}.\n")
    with LLMServer() as server:
        rows, errors, info = write_with_llm(records[:2], Workspace(tmp_path / "ws"),
                                            llm_config(server, caption_prompt=custom), progress=False)
        # requests run concurrently: pick the first record's own caption request
        caption_bodies = [r.body for r in server.log if r.task == "caption" and r.record == records[0]["id"]]
    assert not errors and rows[0]["prompt_id"] == "rationale-aware-v4+my-caption-v7"
    assert info["prompts"]["caption"]["id"] == "my-caption-v7"
    assert caption_bodies[0]["max_tokens"] == 77
    assert caption_bodies[0]["messages"] == [{"role": "system", "content": ""},
                                             {"role": "user", "content": f"Describe \"{records[0]['transcript']}\" by a young adult male speaker."}]


def test_a_prompt_edited_in_place_is_written_again_on_rerun(records, tmp_path, monkeypatch):
    """The write stage's skip key covers the prompt files' contents: the same path with new text is a new
    prompt, not the last run's answers."""
    from emotioncot.pipeline import run_write

    monkeypatch.setenv(KEY_ENV, "sk-x")
    custom = tmp_path / "my_caption.md"
    prompt = "---\nid: my-caption-v1\ntask: caption\n---\n# user\nWORDING \"{transcript}\" by {speaker}.\n"
    custom.write_text(prompt.replace("WORDING", "Describe"))
    ws = Workspace(tmp_path / "ws")
    with LLMServer() as server:
        cfg = llm_config(server, caption_prompt=custom)
        run_write(ws, records[:2], cfg, progress=False)
        assert server.count() == 4
        run_write(ws, records[:2], cfg, progress=False)
        assert server.count() == 4  # unchanged: skipped
        custom.write_text(prompt.replace("WORDING", "Portray"))
        run_write(ws, records[:2], cfg, progress=False)
        sent = [r.body["messages"][-1]["content"] for r in server.log[4:] if r.task == "caption"]
    assert server.count() == 6 and len(sent) == 2 and all(m.startswith("Portray") for m in sent)


def test_answer_checks():
    ok = "The voice rises and the tempo is quick, with the words tumbling out. " * 3 + "So this is happy."
    assert check_answer(ok, "stop", "rationale", "aware", "happy")[2] is None
    assert "first sentence" in check_answer("Happy is what I hear. " + ok, "stop", "rationale", "aware", "happy")[2]
    # the label inside the quoted transcript does not count as opening with it
    assert check_answer('She says "I am so happy." ' + ok, "stop", "rationale", "aware", "happy")[2] is None
    assert "truncated" in check_answer(ok, "length", "rationale", "aware", "happy")[2]
    assert check_answer("  ", "stop", "caption", "aware", None)[2] == "empty answer"
    text, inferred, problem = check_answer(ok + "\n**Emotion:** Anger.", "stop", "rationale", "blind", None)
    assert problem is None and inferred == "angry" and "Emotion" not in text


def test_unreachable_endpoint_stops_the_stage_with_a_clear_error(records, tmp_path, monkeypatch):
    import socket

    monkeypatch.setenv(KEY_ENV, "sk-x")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = BuildConfig()
    cfg.write = cfg.write.model_validate({**cfg.write.model_dump(), "writer": "openai", "model": "m",
                                          "base_url": f"http://127.0.0.1:{port}/v1", "api_key_env": KEY_ENV,
                                          "max_retries": 1, "backoff_base_s": 0.01, "concurrency": 4})
    started = time.perf_counter()
    with pytest.raises(WriteError, match=rf"no answer from http://127.0.0.1:{port}/v1: 8 requests in a row failed"):
        write_with_llm(records[:40], Workspace(tmp_path), cfg, progress=False)
    assert time.perf_counter() - started < 20


def test_send_audio_attaches_the_clip_as_wav(records, tmp_path, monkeypatch):
    import base64
    import io

    import soundfile as sf

    monkeypatch.setenv(KEY_ENV, "sk-x")
    rec = records[0]
    with LLMServer() as server:
        rows, errors, info = write_with_llm([rec], Workspace(tmp_path), llm_config(server, send_audio=True), progress=False)
        bodies = [r.body for r in server.log]
    assert not errors and info["send_audio"] is True
    for body in bodies:
        parts = body["messages"][-1]["content"]
        assert parts[0]["type"] == "text" and rec["transcript"] in parts[0]["text"]
        assert parts[1]["type"] == "input_audio" and parts[1]["input_audio"]["format"] == "wav"
        samples, rate = sf.read(io.BytesIO(base64.b64decode(parts[1]["input_audio"]["data"])))
        assert abs(len(samples) / rate - rec["duration_s"]) < 0.05
    # the audio is part of the request key: the same record without audio is a different request
    with LLMServer() as server:
        write_with_llm([rec], Workspace(tmp_path), llm_config(server), progress=False)
        assert server.count() == 2


def test_build_dry_run_stops_before_writing_and_sends_nothing(demo_corpus, tmp_path):
    out = tmp_path / "b"
    with LLMServer() as server:
        proc = subprocess.run(
            [sys.executable, "-m", "emotioncot", "build", "-c", "demo", "-o", str(out), "--writer", "openai",
             "--base-url", server.base_url, "--model", "m", "--label-mode", "blind", "--dry-run", "1", "-q"],
            env=_env(), capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert server.count() == 0
    assert "rationale-blind-v4" in proc.stdout and "EMOTION:" in proc.stdout and "432 requests to send" in proc.stdout
    assert "gold emotion" not in proc.stdout.lower()
    assert not (out / "build.json").exists() and not (out / "stages" / "write.parquet").exists()


def test_a_429_pauses_every_worker_for_its_retry_after(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-x")
    first = records[0]["id"]

    def plan(record, task, attempt):
        return Action("rate_limit" if (record, task, attempt) == (first, "caption", 1) else "ok", retry_after=1.0)

    with LLMServer(plan, delay_s=0.01) as server:
        rows, errors, _ = write_with_llm(records[:30], Workspace(tmp_path), llm_config(server, concurrency=4), progress=False)
        limited = next(r.t for r in server.log if r.action == "rate_limit")
        quiet = [r for r in server.log if limited + 0.1 < r.t < limited + 0.95]
    assert not errors and len(rows) == 30
    assert quiet == []  # nobody sent anything while the server had asked for a pause


def test_non_ascii_record_ids_and_transcripts_go_through(records, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-x")
    rec = {**records[0], "id": "casia_王_生气/01 ü", "transcript": "Das ist nicht fair, 真的!"}
    with LLMServer() as server:
        rows, errors, _ = write_with_llm([rec], Workspace(tmp_path), llm_config(server), progress=False)
        assert server.count(rec["id"]) == 2
    assert not errors and rows[0]["id"] == rec["id"] and "真的" in rows[0]["caption"]
