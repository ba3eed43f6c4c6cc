"""Exports that training frameworks read with their own stock loaders: LLaMA-Factory, ms-swift, verl, lhotse
(``emotioncot export BUILD --for NAME --out DIR``; docs/export.md, "Framework exports").

Every export holds its audio as portable clips (``clips.py``) under ``DIR/audio/<split>/``, referenced by
paths relative to ``DIR``, one set of files per split, and ``export_info.json`` (what was written, how many
rows, which records were left out and why). The frameworks run in their own environments (their version pins
differ from emotioncot's), so the files are plain JSON Lines / Parquet / lhotse manifests that need no
emotioncot code to read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from tqdm import tqdm

from emotioncot.audio.io import AudioError
from emotioncot.export.frameworks.clips import Clip, write_clip
from emotioncot.export.frameworks.records import iter_records
from emotioncot.export.views import DEFAULT_STYLE, prompt_style, sft_messages
from emotioncot.export.writer import row_problem
from emotioncot.tables import write_json_atomic
from emotioncot.taxonomy import SPLITS

DEFAULT_SAMPLE_RATE = 16000
INFO_FILE = "export_info.json"

# rows of one split: (record, its clip)
SplitRows = dict[str, list[tuple[dict, Clip]]]


def _writers() -> dict[str, Callable[[Path, SplitRows, str], list[str]]]:
    from emotioncot.export.frameworks import lhotse_manifests, llamafactory, ms_swift, verl

    return {"llamafactory": llamafactory.write, "ms-swift": ms_swift.write, "verl": verl.write,
            "lhotse": lhotse_manifests.write}


FRAMEWORKS = ("llamafactory", "ms-swift", "verl", "lhotse")


def export_for_framework(
    build_dir: Path, framework: str, out: Path, sample_rate: int = DEFAULT_SAMPLE_RATE,
    style: str = DEFAULT_STYLE, progress: bool = False, webdataset_shard_size: Optional[int] = None,
) -> dict:
    """Write the ``framework`` export of the build at ``build_dir`` into ``out``; return ``export_info.json``'s
    content. A record whose audio cannot be read, or that has no split or 9-class emotion, is left out and
    listed there with its reason; the others are written. ``webdataset_shard_size`` (lhotse only): also write
    each split's cuts with their audio as WebDataset shards of that many cuts."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r} (choose one of {', '.join(FRAMEWORKS)})")
    if webdataset_shard_size is not None and (framework != "lhotse" or webdataset_shard_size <= 0):
        raise ValueError(f"WebDataset shards are written for lhotse only, with a positive shard size "
                         f"(got --for {framework}, shard size {webdataset_shard_size})")
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    prompt_style(style)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows: SplitRows = {split: [] for split in SPLITS}
    left_out: list[dict] = []
    for rec in tqdm(iter_records(build_dir), desc=f"export --for {framework}", unit="record", disable=not progress):
        problem = row_problem(rec)
        try:
            if problem:
                raise ValueError(problem)
            sft_messages(rec, style)  # the assistant turn must be well formed
            clip = write_clip(rec, out, sample_rate)
        except (AudioError, ValueError, OSError) as exc:
            left_out.append({"id": rec.get("id"), "path": rec.get("audio_path"), "reason": f"export: {exc}"})
            continue
        rows[rec["split"]].append((rec, clip))
    writer = _writers()[framework]
    files = (writer(out, rows, style, shard_size=webdataset_shard_size) if webdataset_shard_size is not None
             else writer(out, rows, style))
    info = {
        "framework": framework,
        "sample_rate": sample_rate,
        "prompt_style": style,
        "counts": {split: len(r) for split, r in rows.items()},
        "files": sorted(files),
        "webdataset_shard_size": webdataset_shard_size,
        "left_out": left_out,
    }
    write_json_atomic(out / INFO_FILE, info)
    return info
