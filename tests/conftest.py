"""Shared fixtures: the real recordings in ../shared/data, the demo corpus, a built demo workspace."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _test_data() -> Path:
    return Path(os.environ.get("EMOTIONCOT_TEST_DATA", REPO.parent / "shared" / "data"))


def pytest_collection_modifyitems(session, config, items):
    """The Ray tests run last: ``ray.shutdown()`` leaves about ten native threads (gRPC's) in the process, and
    every later test that forks a process pool would fork them too (a fork copies whatever lock a thread held)."""
    def uses_ray(item) -> bool:
        return Path(str(item.fspath)).name == "test_executors_ray.py" or bool(re.search(r"(^|_)ray(_|$)", item.name))

    items.sort(key=uses_ray)


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The real recordings. Missing: skip, except under CI where it must fail."""
    path = _test_data()
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test data folder {path} is missing under CI")
        pytest.skip(f"real recordings not found at {path} (set EMOTIONCOT_TEST_DATA)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _cache(tmp_path_factory):
    """Tests share one cache (the demo corpus is synthesised once per session), never the user's."""
    cache = os.environ.get("EMOTIONCOT_TEST_CACHE") or str(tmp_path_factory.mktemp("cache"))
    os.environ["EMOTIONCOT_CACHE"] = cache
    yield


@pytest.fixture(scope="session")
def demo_corpus(_cache) -> Path:
    from emotioncot.demo.corpus import ensure_demo_corpus

    return ensure_demo_corpus(progress=False)


@pytest.fixture(scope="session")
def demo_build(demo_corpus, tmp_path_factory) -> Path:
    """A complete demo build, shared by tests that only read it."""
    from emotioncot.pipeline import build

    out = tmp_path_factory.mktemp("demo-build")
    build(["demo"], out, progress=False, log=lambda m: None)
    return out


def distinct_audio(records: list[dict], folder: Path) -> list[dict]:
    """Synthetic records all name one file and mix speakers across splits; give each its own file name (a
    symlink to it) and each speaker one split, so that an export of them validates (push-to-hub refuses
    what does not)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for rec in records:
        link = folder / f"{rec['id']}{Path(rec['audio_path']).suffix}"
        if not link.exists():
            link.symlink_to(Path(rec["audio_path"]).resolve())
        digit = int(rec["speaker_id"][-1]) if str(rec.get("speaker_id", ""))[-1:].isdigit() else 0
        split = "validation" if digit == 8 else "test" if digit == 9 else "train"
        out.append({**rec, "audio_path": str(link), "split": split})
    return out


@pytest.fixture(scope="session")
def real_build(test_data, tmp_path_factory) -> tuple[Path, str]:
    """One build of the real EmoDB and RAVDESS recordings (read in place), through the CLI so that its
    stdout can be checked: (build folder, stdout). Shared by every test that only reads it."""
    from typer.testing import CliRunner

    from emotioncot.cli import app

    out = tmp_path_factory.mktemp("real-build")
    result = CliRunner().invoke(app, ["build", "--corpus", f"emodb={test_data / 'emodb'}",
                                      "--corpus", f"ravdess={test_data / 'ravdess'}", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="session")
def real_llm(tmp_path_factory):
    """A real llama.cpp server (xllamacpp) serving SmolLM2-135M-Instruct on 127.0.0.1, one per session
    (tests/real_llm.py): ``real_llm.base_url``, ``real_llm.model``. Missing wheels: skip, except under CI."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from real_llm import RealServer, unavailable

    why = unavailable()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real inference server cannot run under CI: {why}")
        pytest.skip(why)
    server = RealServer(n_parallel=2).start(log_dir=tmp_path_factory.mktemp("real-llm"))
    yield server
    server.stop()
