"""Graders of a rationale: four 1-5 grades (factual alignment, interpretative quality, caption completeness,
fluency and structure), from which the reasoning reward R_t is computed (``rewards.make_reasoning_reward``).

Three graders behind one interface, ``grade(texts, rows) -> list[Grades | None]``:
- ``OfflineGrader``: deterministic, no model; checks the acoustic claims against the record's measured levels.
  For tests and cheap runs; it rewards grounded, complete, well-formed rationales, not deep interpretation.
- ``OpenAIJudgeGrader``: an LLM judge over any OpenAI-compatible endpoint, with the rubric in
  ``prompts/judge_rubric.md`` (or your own file). The paper's grader is a fine-tuned Qwen2.5-Omni-3B: serve it
  (vLLM, llama.cpp ...) behind such an endpoint, or load it with ``LocalModelGrader``.
- ``LocalModelGrader``: a local transformers causal LM prompted with the same rubric.
``None`` means the grader could not grade that item (after retries); the reward is then missing, not zero.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import string
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from emotioncot.taxonomy import EMOTION_ALIASES
from emotioncot.train.rewards import GRADE_NAMES, parse_answer, parse_reasoning

logger = logging.getLogger("emotioncot.train.graders")


@dataclass(frozen=True)
class Grades:
    factual_alignment: float
    interpretative_quality: float
    caption_completeness: float
    fluency_structure: float

    def __post_init__(self):
        for name in GRADE_NAMES:
            value = getattr(self, name)
            if not (1.0 <= value <= 5.0):
                raise ValueError(f"grade {name}={value} is outside 1-5")

    def as_tuple(self) -> tuple[float, float, float, float]:
        return tuple(getattr(self, n) for n in GRADE_NAMES)

    def as_dict(self) -> dict:
        return {n: getattr(self, n) for n in GRADE_NAMES}


def _scale(fraction: float) -> float:
    """[0, 1] -> [1, 5]."""
    return round(1.0 + 4.0 * min(1.0, max(0.0, fraction)), 4)


# --- offline grader -------------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_LEVEL_COLUMNS = {"pitch": "pitch_level", "energy": "energy_level", "speed": "speed_level"}
_STOPWORDS = set(
    "the a an and or but of to in on at for with by from this that these those is are was were be been it its "
    "as says said speaker voice level sits stays while which who there their his her they them".split()
)
_EMOTION_WORDS = {alias: emotion for emotion, aliases in EMOTION_ALIASES.items() for alias in aliases if " " not in alias}
_EMOTION_WORDS.update({"contempt": "contempt or disgust", "disgust": "contempt or disgust"})


def level_claims(reasoning: str) -> dict[str, list[frozenset]]:
    """Per attribute (pitch, energy, speed), the set of levels each statement of the reasoning allows, read by
    the same grounding reader as the quality filter (negation and hedging included).
    ``level_claims("a low pitch and high energy")["pitch"] == [frozenset({"low"})]``."""
    from emotioncot.filter.grounding import level_statements

    return level_statements(reasoning)


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall((text or "").lower()) if len(w) >= 3 and w not in _STOPWORDS}


class OfflineGrader:
    """Deterministic grades from the record's own measurements (no model, no network).

    - factual alignment: per measured level (pitch, energy, speed) and the speaker's gender, a claim that
      matches scores 1, no claim 0.5, a contradicted one 0 (mixed claims 0.5); and the argument, by the same
      evidence table and reader as the filter's ``argument`` check (filter/argument.py): 1 when the balance
      of cues it states is the table's, 0 when it is not; grade = 1 + 4 * mean, and at most 3 (the middle of the
      scale) when any claim is contradicted: a rationale that says something false of the clip is not aligned with
      it, however much else it gets right (two false levels beside a true pace, gender and argument graded 3.4).
    - interpretative quality: mean of (the last emotion the reasoning names agrees with the answer: 1, none
      named: 0.5, another: 0), (share of the three cue families discussed), (share of the transcript's content
      words the reasoning uses).
    - caption completeness: share of the caption's content words present in the reasoning.
    - fluency and structure: mean of (length within 50-200 words, else proportionally less), (share of distinct
      word trigrams), (at least two sentences), (no stray format tags inside the reasoning).
    """

    name = "offline"

    def __init__(self, evidence: dict | None = None):
        self.evidence = evidence  # the build's evidence table (None: the documented prior)

    def grade(self, texts: Sequence[str], rows: Sequence[dict]) -> list[Optional[Grades]]:
        return [self.grade_one(t, r) for t, r in zip(texts, rows, strict=True)]

    def grade_one(self, text: str, row: dict) -> Grades:
        reasoning = parse_reasoning(text) if "<think>" in text else text
        answer = parse_answer(text)
        return Grades(
            factual_alignment=self.factual(reasoning, row, answer, self.evidence),
            interpretative_quality=self.interpretative(reasoning, answer, row),
            caption_completeness=self.caption(reasoning, row),
            fluency_structure=self.fluency(reasoning),
        )

    @staticmethod
    def factual(reasoning: str, row: dict, answer: Optional[str] = None, evidence: dict | None = None) -> float:
        claims = level_claims(reasoning)
        scores = []
        false = False  # some claim contradicts the clip
        for attribute, column in _LEVEL_COLUMNS.items():
            measured = row.get(column)
            if not measured:
                continue
            said = claims[attribute]
            if not said:
                scores.append(0.5)
            elif all(measured in allowed for allowed in said):
                scores.append(1.0)
            elif not any(measured in allowed for allowed in said):
                scores.append(0.0)
                false = True
            else:
                scores.append(0.5)
                false = True  # one of its claims is the other level
        gender = (row.get("gender") or "").lower()
        if gender in ("male", "female"):
            words = set(_WORD.findall(reasoning.lower()))
            said = {g for g, vocab in (("male", {"male", "man"}), ("female", {"female", "woman"})) if words & vocab}
            scores.append(0.5 if not said else (1.0 if said == {gender} else 0.0))
            false = false or bool(said and said != {gender})
        emotion = answer or row.get("emotion") or row.get("solution")  # the emotion the reasoning argues for
        if emotion:
            from emotioncot.filter.argument import argument_problems

            scores.append(0.0 if argument_problems({**row, "emotion": emotion, "cot_analysis": reasoning}, evidence)
                          else 1.0)
        if not scores:
            return 3.0
        grade = _scale(sum(scores) / len(scores))
        return min(grade, 3.0) if false else grade

    @staticmethod
    def interpretative(reasoning: str, answer: Optional[str], row: dict) -> float:
        named = [_EMOTION_WORDS[w] for w in _WORD.findall(reasoning.lower()) if w in _EMOTION_WORDS]
        if not named:
            consistent = 0.5
        else:
            consistent = 1.0 if answer is not None and named[-1] == answer else 0.0
        claims = level_claims(reasoning)
        cues = sum(1 for said in claims.values() if said) / len(claims)
        transcript_words = _content_words(row.get("transcript") or "")
        if transcript_words:
            content = len(transcript_words & _content_words(reasoning)) / len(transcript_words)
        else:
            content = 0.5
        return _scale((consistent + cues + content) / 3)

    @staticmethod
    def caption(reasoning: str, row: dict) -> float:
        caption_words = _content_words(row.get("caption") or "")
        if not caption_words:
            return 3.0
        return _scale(len(caption_words & _content_words(reasoning)) / len(caption_words))

    @staticmethod
    def fluency(reasoning: str) -> float:
        words = _WORD.findall(reasoning.lower())
        n = len(words)
        if n == 0:
            return 1.0
        length = 1.0 if 50 <= n <= 200 else (n / 50 if n < 50 else 200 / n)
        trigrams = [tuple(words[i : i + 3]) for i in range(max(0, n - 2))]
        distinct = len(set(trigrams)) / len(trigrams) if trigrams else 0.0
        sentences = [s for s in re.split(r"[.!?]+", reasoning) if len(_WORD.findall(s.lower())) >= 3]
        structure = 1.0 if len(sentences) >= 2 else 0.5 * len(sentences)
        clean = 0.0 if re.search(r"</?(think|answer)>", reasoning) else 1.0
        return _scale((length + distinct + structure + clean) / 4)


# --- LLM judges -----------------------------------------------------------------------------------------------

def default_rubric_path() -> Path:
    from emotioncot.config import project_root

    return project_root() / "prompts" / "judge_rubric.md"


def render_rubric(template: str, text: str, row: dict) -> str:
    """The judge prompt for one completion: the rubric with the record's reference information filled in."""
    levels = ", ".join(
        f"{name} {row.get(col)}"
        for name, col in (("pitch", "pitch_level"), ("energy", "energy_level"), ("speaking rate", "speed_level"),
                          ("intonation", "intonation"))
        if row.get(col)
    ) or "not measured"
    stressed = row.get("stressed_words") or []
    if stressed:
        levels += f"; stressed words: {', '.join(map(str, stressed))}"
    speaker = " ".join(str(x) for x in (row.get("age_level"), row.get("gender")) if x) or "unknown"
    return string.Template(template).safe_substitute(
        transcript=row.get("transcript") or "",
        speaker=speaker,
        levels=levels,
        caption=row.get("caption") or "(none)",
        reasoning=parse_reasoning(text) if "<think>" in text else text,
        answer=parse_answer(text) or "(no valid answer)",
    )


_JSON_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)


def parse_grades(reply: str) -> Optional[Grades]:
    """Grades from a judge's reply: the first JSON object holding the four grades (numbers clipped to 1-5).

    >>> parse_grades('Sure: {"factual_alignment": 4, "interpretative_quality": 3, '
    ...              '"caption_completeness": 5, "fluency_structure": 9}').as_tuple()
    (4.0, 3.0, 5.0, 5.0)
    """
    for candidate in _JSON_OBJECT.findall(reply or ""):
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        try:
            values = [float(data[name]) for name in GRADE_NAMES]
        except (KeyError, TypeError, ValueError):
            continue
        if all(math.isfinite(v) for v in values):
            return Grades(*[min(5.0, max(1.0, v)) for v in values])
    return None


class OpenAIJudgeGrader:
    """An LLM judge over any OpenAI-compatible chat endpoint. The API key is read from the environment variable
    named ``api_key_env`` and never logged."""

    name = "openai"

    def __init__(
        self,
        base_url: Optional[str],
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        rubric_path: Optional[Path] = None,
        concurrency: int = 8,
        max_retries: int = 3,
        timeout_s: float = 60.0,
        max_tokens: int = 96,
        structured: bool = True,
    ):
        import openai

        if not model:
            raise ValueError("the OpenAI judge needs a model name (grader.model)")
        self.model = model
        self.rubric = Path(rubric_path or default_rubric_path()).read_text(encoding="utf-8")
        self.concurrency = max(1, concurrency)
        self.max_retries = max(1, max_retries)
        self.client = openai.OpenAI(
            base_url=base_url, api_key=os.environ.get(api_key_env) or "EMPTY", timeout=timeout_s, max_retries=0
        )
        self.max_tokens = max_tokens
        # The four grades as a JSON schema (response_format): an endpoint that honours it (llama.cpp, vLLM,
        # OpenAI) cannot answer anything else, so even a small judge model gives parseable grades.
        self.structured = structured
        self._format = {"type": "json_schema", "json_schema": {"name": "grades", "strict": True, "schema": {
            "type": "object", "additionalProperties": False, "required": list(GRADE_NAMES),
            "properties": {name: {"type": "integer", "enum": [1, 2, 3, 4, 5]} for name in GRADE_NAMES}}}}

    def _grade_one(self, prompt: str) -> Optional[Grades]:
        import openai

        last_error = None
        for _ in range(self.max_retries):
            extra = {"response_format": self._format} if self.structured else {}
            try:
                reply = self.client.chat.completions.create(
                    model=self.model,
                    messages=[{"role": "user", "content": prompt}],
                    temperature=0.0,
                    max_tokens=self.max_tokens,
                    **extra,
                )
                grades = parse_grades(reply.choices[0].message.content or "")
                if grades is not None:
                    return grades
                last_error = "reply held no valid grades"
            except openai.BadRequestError as exc:
                if not extra:
                    last_error = f"{type(exc).__name__}: {exc}"
                    continue
                self.structured = False  # the endpoint refuses response_format: plain text from now on
                last_error = "response_format refused"
            except Exception as exc:  # network, HTTP status, malformed reply: retried, then given up
                last_error = f"{type(exc).__name__}: {exc}"
        logger.warning("judge gave no grades after %d tries (%s)", self.max_retries, last_error)
        return None

    def grade(self, texts: Sequence[str], rows: Sequence[dict]) -> list[Optional[Grades]]:
        prompts = [render_rubric(self.rubric, t, r) for t, r in zip(texts, rows, strict=True)]
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(self._grade_one, prompts))


class LocalModelGrader:
    """A local causal LM (a transformers folder) prompted with the rubric, greedy decoding."""

    name = "local"

    def __init__(self, model_path: str, rubric_path: Optional[Path] = None, max_new_tokens: int = 96, device=None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.rubric = Path(rubric_path or default_rubric_path()).read_text(encoding="utf-8")
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.model = AutoModelForCausalLM.from_pretrained(model_path)
        if device is not None:
            self.model.to(device)
        self.model.eval()
        self.max_new_tokens = max_new_tokens

    def grade(self, texts: Sequence[str], rows: Sequence[dict]) -> list[Optional[Grades]]:
        out = []
        for text, row in zip(texts, rows, strict=True):
            prompt = render_rubric(self.rubric, text, row)
            ids = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            ids = {k: v.to(self.model.device) for k, v in ids.items()}
            with self.torch.no_grad():
                generated = self.model.generate(**ids, max_new_tokens=self.max_new_tokens, do_sample=False)
            reply = self.tokenizer.decode(generated[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
            out.append(parse_grades(reply))
        return out


def _evidence_for(cfg, data_dir: Path | None) -> dict | None:
    """The evidence table the offline grader weighs the argument by: ``evidence_file``, else the thresholds.json
    of the build that holds ``data_dir`` (the folder itself or its parent, for ``BUILD/dataset``), else None
    (the prior)."""
    from emotioncot.calibrate.evidence import load_evidence

    if cfg.evidence_file:
        if not Path(cfg.evidence_file).exists():
            raise FileNotFoundError(f"{cfg.evidence_file}: evidence file (thresholds.json) not found")
        return load_evidence(cfg.evidence_file)
    for folder in ([Path(data_dir), Path(data_dir).parent] if data_dir else []):
        if (folder / "thresholds.json").is_file():
            return load_evidence(folder / "thresholds.json")
    return None


def make_grader(cfg, data_dir: Path | None = None) -> object:
    """The grader a ``GraderConfig`` describes; ``data_dir``: the data it grades (its build's evidence table)."""
    if cfg.kind == "offline":
        return OfflineGrader(_evidence_for(cfg, data_dir))
    if cfg.kind == "openai":
        return OpenAIJudgeGrader(
            cfg.base_url, cfg.model, cfg.api_key_env, cfg.rubric_prompt, cfg.concurrency, cfg.max_retries, cfg.timeout_s
        )
    if cfg.kind == "local":
        if not cfg.model:
            raise ValueError("the local grader needs grader.model (a transformers model folder)")
        return LocalModelGrader(cfg.model, cfg.rubric_prompt, cfg.max_new_tokens)
    raise ValueError(f"unknown grader kind {cfg.kind!r}")
