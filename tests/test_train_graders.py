"""Graders: the offline grader on the real demo export, the LLM judge over real HTTP (openai client), metrics."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from emotioncot.train.graders import OfflineGrader, OpenAIJudgeGrader, level_claims, parse_grades
from emotioncot.train.metrics import compute_metrics


@pytest.fixture(scope="module")
def demo_rows(demo_build):
    from emotioncot.train.data import load_split

    ds = load_split(demo_build, "train").remove_columns("audio")
    return [dict(r) for r in ds]


def test_level_claims_nearest_attribute():
    claims = level_claims("The pitch sits high while the delivery is soft and quiet, and a rapid tempo.")
    assert claims == {"pitch": [{"high"}], "energy": [{"low"}, {"low"}], "speed": [{"fast"}]}
    assert level_claims("a low pitch and high energy")["pitch"] == [{"low"}]
    assert level_claims("a low pitch and high energy")["energy"] == [{"high"}]
    # negation is read, as in the quality filter: "not particularly fast" allows slow or normal
    assert level_claims("The tempo is not particularly fast.")["speed"] == [{"slow", "normal"}]


def test_offline_grader_rewards_grounded_rationales(demo_rows, demo_build):
    from emotioncot.calibrate.evidence import load_evidence

    # the argument is graded by the table the rationales were written with: the build's (issue 26)
    grader = OfflineGrader(load_evidence(demo_build / "thresholds.json"))
    swap = {"high": "low", "low": "high", "normal": "high", "fast": "slow", "slow": "fast"}
    rows = [r for r in demo_rows if r["pitch_level"] and r["energy_level"]][:40]
    assert len(rows) == 40
    contradicted = 0
    for row in rows:
        good = row["messages"][-1]["content"]
        # The template rationales describe exactly the measured levels.
        assert grader.grade_one(good, row).factual_alignment == 5.0
        # The same rationale told against other measured levels is graded lower.
        wrong = dict(row, pitch_level=swap[row["pitch_level"]], energy_level=swap[row["energy_level"]])
        assert grader.grade_one(good, wrong).factual_alignment < 5.0
        contradicted += grader.grade_one(good, wrong).factual_alignment <= 3.0
    assert contradicted == 40


def test_a_false_level_keeps_factual_alignment_at_most_the_middle():
    """Two false levels beside a true pace, gender and a valid argument were graded 3.4: above the middle of the
    scale for a rationale that says something false of the clip."""
    row = {"pitch_level": "high", "energy_level": "high", "speed_level": "normal", "gender": "Male"}
    text = ("A male speaker says it. The pitch is low and the vocal effort is weak; the pace is average. "
            "These say little either way. The emotion is given as neutral.")
    false = OfflineGrader.factual(text, row, "neutral")
    true = OfflineGrader.factual(text, {**row, "pitch_level": "low", "energy_level": "low"}, "neutral")
    assert false <= 3.0 < true


def test_offline_grader_other_criteria(demo_rows):
    grader = OfflineGrader()
    row = demo_rows[0]
    gold = row["messages"][-1]["content"]
    good = grader.grade_one(gold, row)
    assert good.caption_completeness >= 4.0 and good.fluency_structure >= 4.5
    terse = grader.grade_one("<think>It is fine.</think><answer>sad</answer>", row)
    assert terse.caption_completeness < 2.0 and terse.fluency_structure < good.fluency_structure
    # reasoning that names one emotion and answers another is not a sensible interpretation
    other = "happy" if row["emotion"] != "happy" else "sad"
    clash = gold.replace(f"<answer>{row['emotion']}</answer>", f"<answer>{other}</answer>")
    assert grader.grade_one(clash, row).interpretative_quality < good.interpretative_quality


class _JudgeHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint: grades factual alignment 5 when the prompt's measured pitch level is
    restated in the reasoning, else 2; fails (500) on the first request of each prompt when asked to."""

    prompts: list = []
    flaky: set = set()
    garbage = False

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        type(self).prompts.append((prompt, self.headers.get("Authorization")))
        if prompt in self.flaky:
            self.flaky.discard(prompt)
            self.send_response(500)
            self.end_headers()
            return
        level = re.search(r"Measured levels[^:]*: pitch (\w+)", prompt).group(1)
        reasoning = prompt.split("<<<")[1].split(">>>")[0]
        factual = 5 if f"pitch is {level}" in reasoning else 2
        content = "garbage" if self.garbage else (
            f'Grades: {{"factual_alignment": {factual}, "interpretative_quality": 4, '
            f'"caption_completeness": 3, "fluency_structure": 4}}'
        )
        reply = {
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def judge_server():
    _JudgeHandler.prompts = []
    _JudgeHandler.flaky = set()
    _JudgeHandler.garbage = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JudgeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_openai_judge_over_http(judge_server, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", "sk-test-secret")
    judge = OpenAIJudgeGrader(judge_server, "judge-model", api_key_env="JUDGE_KEY", concurrency=2)
    row = {"transcript": "Open the door.", "pitch_level": "high", "energy_level": "low", "speed_level": "fast",
           "caption": "A female speaker.", "gender": "Female", "age_level": "Elderly"}
    texts = ["<think>The pitch is high and the voice soft.</think><answer>fear</answer>",
             "<think>The pitch is low.</think><answer>sad</answer>"]
    grades = judge.grade(texts, [row, row])
    assert [g.as_tuple() for g in grades] == [(5.0, 4.0, 3.0, 4.0), (2.0, 4.0, 3.0, 4.0)]
    prompt, auth = _JudgeHandler.prompts[0]
    assert auth == "Bearer sk-test-secret"
    assert "Open the door." in prompt and "energy low" in prompt and "Elderly Female" in prompt
    assert "<think>" not in prompt.split("<<<")[1]  # the judge sees the reasoning, not the tags


def test_openai_judge_retries_then_gives_up(judge_server):
    judge = OpenAIJudgeGrader(judge_server, "judge-model", max_retries=2)
    row = {"transcript": "Hi.", "pitch_level": "normal"}
    text = "<think>The pitch is normal.</think><answer>neutral</answer>"
    from emotioncot.train.graders import default_rubric_path, render_rubric

    _JudgeHandler.flaky = {render_rubric(default_rubric_path().read_text(), text, row)}
    assert judge.grade([text], [row])[0].factual_alignment == 5.0  # first try 500, second ok
    assert len(_JudgeHandler.prompts) == 2
    _JudgeHandler.garbage = True
    assert judge.grade([text], [row]) == [None]


def test_parse_grades():
    assert parse_grades("no json") is None
    assert parse_grades('{"factual_alignment": 4}') is None
    g = parse_grades('x {"factual_alignment": 0, "interpretative_quality": "3", "caption_completeness": 5, '
                     '"fluency_structure": 2.5} y')
    assert g.as_tuple() == (1.0, 3.0, 5.0, 2.5)


def test_metrics_hand_computed():
    golds = ["angry", "angry", "angry", "sad", "neutral"]
    texts = [
        "<think>a</think><answer>angry</answer>",
        "<think>a</think><answer>sad</answer>",
        "<answer>Anger</answer>",
        "<think>a</think><answer>sad</answer>",
        "nothing",
    ]
    m = compute_metrics(golds, texts)
    # WA = 3/5; UA = mean(angry 2/3, sad 1, neutral 0) = 0.5556; format = 3/5
    assert m["weighted_accuracy"] == 0.6
    assert m["unweighted_accuracy"] == pytest.approx(0.5556, abs=1e-4)
    assert m["format_rate"] == 0.6
    assert m["confusion"]["angry"] == {"angry": 2, "sad": 1}
    assert m["confusion"]["neutral"] == {"(no valid answer)": 1}
    from emotioncot.train.graders import Grades

    m = compute_metrics(golds[:2], texts[:2], [Grades(5, 4, 3, 2), None])
    assert m["graded"] == 1 and m["reasoning_grades"]["factual_alignment"] == 5.0
