"""Secrets never reach a file or an output, even when the server echoes them in a good answer or they sit
in the base URL; a server that accepts connections and never answers stops the stage on a deadline, with
its retries shown on the progress bar. Real `emotioncot build` processes, a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import Action, LLMServer  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
KEY_ENV = "EMOTIONCOT_TEST_CANARY_KEY"


@pytest.fixture(scope="module")
def small_list(demo_corpus, tmp_path_factory) -> Path:
    meta = [json.loads(line) for line in (demo_corpus / "metadata.jsonl").read_text().splitlines()]
    path = tmp_path_factory.mktemp("list") / "six.jsonl"
    rows = [{"id": r["id"], "audio_path": str(demo_corpus / r["audio_path"]), "transcript": r["transcript"],
             "emotion": r["emotion"], "speaker_id": r["speaker_id"], "gender": r["gender"]} for r in meta[::36]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _forms(secret: str) -> list[bytes]:
    return [secret.encode(), base64.b64encode(secret.encode()).rstrip(b"=")]


def test_a_canary_key_echoed_by_the_server_and_a_url_password_appear_nowhere(small_list, tmp_path):
    key, password = "sk-CANARY-9d2e71b4c0", "pw-CANARY-51f0aa"
    out = tmp_path / "build"
    with LLMServer(lambda *a: Action("echo_key")) as server:
        url = server.base_url.replace("http://", f"http://someone:{password}@")
        env = {**os.environ, "PYTHONPATH": str(REPO), KEY_ENV: key}
        env.pop("OPENAI_API_KEY", None)
        proc = subprocess.run(
            [sys.executable, "-m", "emotioncot", "build", "-c", f"jsonl:{small_list}", "-o", str(out),
             "--writer", "openai", "--base-url", url, "--model", "test-model", "--api-key-env", KEY_ENV,
             "--max-retries", "1", "--workers", "1"],
            env=env, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert server.log and all(r.authorization == f"Bearer {key}" for r in server.log)  # really sent
        assert all(r.action == "echo_key" for r in server.log)  # ... and really echoed in 200 answers
    output = (proc.stdout + proc.stderr).encode()
    for secret in (key, password, f"someone:{password}"):
        for form in _forms(secret):
            assert form not in output, (secret, form)
            leaks = [p for p in out.rglob("*") if p.is_file() and form in p.read_bytes()]
            assert not leaks, (secret, form, leaks)
    journal = [json.loads(line) for line in (out / "journal" / "write.jsonl").read_text().splitlines()]
    assert journal and all("request authorised by Bearer ***" in e["text"] for e in journal if e.get("text"))


def test_a_server_that_never_answers_stops_the_stage_on_the_no_progress_deadline(demo_build, tmp_path, monkeypatch,
                                                                                  capsys):
    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import load_records
    from emotioncot.workspace import Workspace
    from emotioncot.write.llm import WriteError, write_with_llm

    records = load_records(Workspace(demo_build), with_texts=False)[:6]
    monkeypatch.setenv(KEY_ENV, "sk-x")
    cfg = BuildConfig()
    with LLMServer(lambda *a: Action("slow", slow_s=60)) as server:
        cfg.write = cfg.write.model_validate({
            **cfg.write.model_dump(), "writer": "openai", "base_url": server.base_url, "model": "m",
            "api_key_env": KEY_ENV, "max_retries": 50, "timeout_s": 0.3, "backoff_base_s": 0.01,
            "backoff_max_s": 0.02, "no_progress_s": 2.0, "concurrency": 2,
        })
        started = time.perf_counter()
        with pytest.raises(WriteError, match=r"no answer from http://127\.0\.0\.1:\d+/v1 for 2 s \(\d+ retries"):
            write_with_llm(records, Workspace(tmp_path), cfg, progress=True)
        took = time.perf_counter() - started
        assert server.log  # it was reached: connections accepted, never answered
    assert 2.0 <= took < 8.0
    assert "retries " in capsys.readouterr().err  # the bar said so while it waited
