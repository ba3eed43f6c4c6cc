"""``validate``'s text check: every rationale and caption read again by the filter's own per-record checks.

The filter stage judged the rows once, with the emotioncot of its day. ``validate`` reads them again with
this one, so a dataset built by an older release, edited by hand or put together from several builds is
held to today's reader: a number beside a level that contradicts it, a level the record does not have, a
leaked label or a broken format is named per row, with the filter's own reason code (``text_<code>``, see
``emotioncot.filter.checks.REASON_CODES``). Near-duplicates are a property of the whole set and stay with the
filter stage.

The filter settings are the build's own (``config.filter`` in ``build.json`` beside the data), so a build is
read exactly as its filter read it; elsewhere the defaults. The ``argument`` check weighs cues by the evidence
table of the ``thresholds.json`` beside the data, as the build's filter did; data without one (a dataset saved
elsewhere, a JSONL file) is not held to the argument check: its rationales were weighed by a table that is not
there, and the literature prior would call them wrong where the build's own clips differ from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from emotioncot.config import FilterConfig


def build_filter_config(path: Path) -> tuple[FilterConfig, str]:
    """The filter settings of the build that ``path`` (a build folder, its ``dataset/`` or its JSONL) belongs
    to, and where they came from."""
    path = Path(path)
    folder = path.parent if path.is_file() or path.name == "dataset" else path
    build_json = folder / "build.json"
    if build_json.is_file():
        try:
            section = json.loads(build_json.read_text(encoding="utf-8")).get("config", {}).get("filter")
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{build_json}: cannot be read ({exc})") from None
        if section is not None:
            return _with_evidence(FilterConfig.model_validate(section), folder), str(build_json)
    return _with_evidence(FilterConfig(), folder), "defaults"


def _with_evidence(config: FilterConfig, folder: Path) -> FilterConfig:
    """The build's thresholds.json as the argument check's evidence file, where none is set and one is there;
    the argument check off where there is none."""
    if config.evidence_file is None and (folder / "thresholds.json").is_file():
        return config.model_copy(update={"evidence_file": folder / "thresholds.json"})
    if config.evidence_file is None:
        return config.model_copy(update={"check_argument": False})
    return config


def text_problems(rows: list[dict], config: FilterConfig, progress: bool = False) -> list[dict]:
    """One problem per reason per row (rows under canonical field names, as ``validate`` reads them)."""
    from tqdm import tqdm

    from emotioncot.filter.checks import record_problems

    from emotioncot.calibrate.evidence import load_evidence

    config = config.model_copy(update={"check_schema": False})  # the schema is validate's own first check
    evidence = load_evidence(config.evidence_file) if config.evidence_file else None
    problems = []
    for i, row in enumerate(tqdm(rows, desc="validate text", unit="row", disable=not progress)):
        found, _ = record_problems(row, config, evidence)
        rid = str(row.get("id") or f"row {i + 1}")
        problems += [{"code": f"text_{code}", "id": rid, "message": message} for code, message in found]
    return problems
