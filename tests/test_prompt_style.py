"""``--prompt-style emotionthinker``: the exported views carry the released EmotionThinker model's system prompt,
question and answer format string for string (quoted from its inference script below, not built from our
constants), the style is recorded in the card and build.json, and ``evaluate`` runs on it with a tiny local
model and, through a served endpoint, with the clip attached."""

from __future__ import annotations

import base64
import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from emotioncot.audio.io import read_audio
from emotioncot.export import load_dataset_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))

# From the released inference script (scripts/emotionthinker_infer.py of the EmotionThinker repository).
RELEASED_SYSTEM = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
    "assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
    "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think><answer> answer here </answer>."
)
RELEASED_PROMPT = (
    "<audio>What is the emotion expressed in this audio clip? Please choose one from the following options: "
    "neutral, happy, sad, angry, contempt or disgust, confused, whisper, surprise, fear."
)


@pytest.fixture(scope="module")
def thinker_build(demo_build, tmp_path_factory):
    """A copy of the demo build, rebuilt with --prompt-style emotionthinker (every stage but export is reused)."""
    from typer.testing import CliRunner

    from emotioncot.cli import app

    out = tmp_path_factory.mktemp("thinker") / "build"
    shutil.copytree(demo_build, out)
    result = CliRunner().invoke(app, ["build", "--corpus", "demo", "--out", str(out), "--prompt-style", "emotionthinker", "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_views_are_the_released_prompt_string_for_string(thinker_build):
    dd = load_dataset_dir(thinker_build)
    n = 0
    for split in dd:
        for row in dd[split]:
            system, user, assistant = row["messages"]
            assert system == {"role": "system", "content": RELEASED_SYSTEM}
            assert user == {"role": "user", "content": RELEASED_PROMPT}
            assert assistant["content"] == f"<think>{row['cot_analysis'].strip()}</think><answer>{row['emotion']}</answer>"
            assert row["prompt"] == [system, user]
            n += 1
    assert n == 216


def test_style_recorded_in_card_and_build_json(thinker_build, demo_build):
    summary = json.loads((thinker_build / "build.json").read_text())
    assert summary["prompt_style"] == "emotionthinker"
    assert summary["config"]["export"]["prompt_style"] == "emotionthinker"
    assert "Prompt style of the training views: `emotionthinker`" in (thinker_build / "README.md").read_text()
    assert json.loads((demo_build / "build.json").read_text())["prompt_style"] == "emotioncot"


def test_cli_rejects_an_unknown_style(demo_build):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    result = CliRunner().invoke(app, ["export", str(demo_build), "--prompt-style", "thinker"])
    assert result.exit_code == 2 and "emotioncot or emotionthinker" in result.output


def test_restyle_at_training_time_equals_the_styled_export(demo_build, thinker_build):
    from emotioncot.train.data import load_split

    restyled = load_split(demo_build, "test", prompt_style="emotionthinker")
    exported = load_split(thinker_build, "test")
    assert restyled["messages"] == exported["messages"] and restyled["prompt"] == exported["prompt"]


def test_evaluate_with_a_tiny_local_model(thinker_build, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from emotioncot.train.data import load_split, text_prompt
    from emotioncot.train.evaluate import run_evaluate
    from emotioncot.train.tiny import build_tiny_text_policy

    model = build_tiny_text_policy(thinker_build, tmp_path / "tiny")
    report = run_evaluate(thinker_build, str(model), split="test", limit=4, max_new_tokens=8, output=tmp_path / "r.json",
                          progress=False)
    assert report["n"] == 4 and report["split"] == "test"
    assert set(report) >= {"weighted_accuracy_ci", "unweighted_accuracy_ci", "per_corpus", "per_class"}
    assert list(report["per_corpus"]) == ["demo"]
    assert (tmp_path / "r.md").read_text().startswith("# Evaluation:")
    # What the text policy read: the released system prompt and question, the audio placeholder replaced by cues.
    prompt = text_prompt(dict(load_split(thinker_build, "test")[0]))
    assert prompt[0]["content"] == RELEASED_SYSTEM
    assert prompt[1]["content"].endswith(RELEASED_PROMPT[len("<audio>"):]) and "<audio>" not in prompt[1]["content"]


def test_evaluate_against_an_audio_endpoint(thinker_build, tmp_path):
    """A scripted server on 127.0.0.1 hears each clip (decoded from the request) and answers the gold label for
    clips it recognises as even-numbered rows, a wrong label otherwise, and fails one row: WA is known."""
    import soundfile as sf

    from emotioncot.train.config import TrainConfig
    from emotioncot.train.data import load_split
    from emotioncot.train.evaluate import run_evaluate
    from llm_server import Action, LLMServer

    rows = [dict(r) for r in load_split(thinker_build, "test").select(range(10))]
    by_clip = {}
    for i, r in enumerate(rows):
        y, _ = read_audio(r["audio_path"])
        by_clip[(len(y), round(float(np.abs(y).sum()), 2))] = (i, r["emotion"])
    seen = []

    def answer(body: dict) -> str:
        system, user = body["messages"]
        audio_part, text_part = user["content"]
        assert system["content"] == RELEASED_SYSTEM and text_part == {"type": "text", "text": RELEASED_PROMPT}
        y, _ = sf.read(io.BytesIO(base64.b64decode(audio_part["input_audio"]["data"])), dtype="float32")
        i, gold = by_clip[(len(y), round(float(np.abs(y).sum()), 2))]  # PCM16 rounding stays far below 0.01
        seen.append(i)
        label = gold if i % 2 == 0 else ("sad" if gold != "sad" else "happy")
        return f"<think>heard clip {i}</think><answer>{label}</answer>"

    failing = rows[4]["id"]
    plan = lambda record, task, attempt: Action("server_error" if record == failing else "ok")  # noqa: E731
    cfg = TrainConfig()
    cfg.evaluate.max_retries = 0
    cfg.evaluate.concurrency = 3
    with LLMServer(plan, answer=answer) as server:
        cfg.evaluate.base_url = server.base_url
        report = run_evaluate(thinker_build, "served-model", split="test", cfg=cfg, limit=10, progress=False,
                              output=tmp_path / "endpoint.json")
    assert sorted(seen) == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    # rows 0, 2, 6, 8 right; row 4 failed (no valid answer); the odd rows wrong.
    assert report["weighted_accuracy"] == 0.4 and report["failed_requests"] == 1
    assert report["policy"] == "endpoint" and report["endpoint"] == server.base_url
    lo, hi = report["weighted_accuracy_ci"]
    assert lo < 0.4 < hi
    lines = (tmp_path / "endpoint.predictions.jsonl").read_text().splitlines()
    assert json.loads(lines[4])["completion"] == "" and "heard clip 0" in json.loads(lines[0])["completion"]
