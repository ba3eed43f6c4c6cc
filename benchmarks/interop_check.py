"""Interop check (not part of ``make test``): each training framework, in its own virtual environment, reads a
framework export of the demo build with its own stock loading and tokenising code.

    PYTHONPATH=. python benchmarks/interop_check.py install [FRAMEWORK ...]   # venvs under .interop/ (git-ignored)
    PYTHONPATH=. python benchmarks/interop_check.py run BUILD [FRAMEWORK ...]  # export + stock loader, per framework

``install`` makes ``.interop/<framework>/venv`` with the CPU torch wheel pip finds on disk (never a CUDA
torch), the framework from the package registry, and emotioncot itself with ``--no-deps`` (only for the reward
plugins, which import nothing but emotioncot's pure-Python reward code). ``run`` writes ``emotioncot export
BUILD --for NAME`` into ``.interop/<framework>/export`` and runs ``_interop_<framework>.py`` (next to this file)
inside that venv: the framework's own dataset loader and its Qwen2-Audio template on a locally built
Qwen2-Audio processor (the real Whisper feature extractor settings, a tokenizer trained on the export's text; no
download). Each step's output is printed as it is; the script exits 1 when any framework failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / ".interop"
PACKAGES = {"llamafactory": ["llamafactory", "torchcodec"], "ms-swift": ["ms-swift"], "verl": ["verl"]}
SHARED = ["librosa", "soundfile", "pyarrow"]


def _venv(framework: str) -> Path:
    return ROOT / framework / "venv"


def _sh(cmd: list[str], log: Path | None = None) -> int:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    start = time.time()
    with open(log, "a") if log else open("/dev/null", "w") as fh:
        proc = subprocess.run([str(c) for c in cmd], stdout=fh if log else None, stderr=subprocess.STDOUT if log else None)
    print(f"  -> exit {proc.returncode} in {time.time() - start:.0f} s" + (f" (log {log})" if log else ""), flush=True)
    return proc.returncode


def install(framework: str) -> int:
    venv = _venv(framework)
    log = ROOT / framework / "install.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    if not (venv / "bin" / "python").exists() and _sh([sys.executable, "-m", "venv", venv]):
        return 1
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    torch_wheels = sorted(Path("/opt/wheels").glob("torch-*+cpu-*.whl"))
    torch = [str(torch_wheels[-1])] if torch_wheels else ["torch", "--index-url", "https://download.pytorch.org/whl/cpu"]
    # The framework must not swap the CPU torch for a CUDA build (several GB, and nothing here uses a GPU).
    pin = ROOT / framework / "torch-pin.txt"
    pin.write_text(f"torch=={torch_wheels[-1].name.split('-')[1].split('+')[0]}\n" if torch_wheels else "")
    for step in (torch, ["-c", pin, *PACKAGES[framework], *SHARED], ["--no-deps", str(REPO)]):
        rc = _sh(pip + step, log)
        if rc:
            print(f"{framework}: install failed; last lines of {log}:")
            print("\n".join(log.read_text().splitlines()[-15:]))
            return rc
    return 0


def run(build: Path, framework: str) -> int:
    out = ROOT / framework / "export"
    rc = _sh([sys.executable, "-m", "emotioncot", "export", build, "--for", framework, "--out", out, "-q"])
    if rc:
        return rc
    script = Path(__file__).resolve().parent / f"_interop_{framework.replace('-', '_')}.py"
    return _sh([_venv(framework) / "bin" / "python", script, out, ROOT / framework / "processor", build])


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("install", "run"):
        print(__doc__)
        return 2
    if argv[0] == "install":
        names = argv[1:] or list(PACKAGES)
        return max(install(n) for n in names)
    build = Path(argv[1])
    names = argv[2:] or list(PACKAGES)
    print(f"interop check {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, build {build}")
    return max(run(build, n) for n in names)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
