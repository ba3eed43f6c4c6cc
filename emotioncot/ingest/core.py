"""Reading sources, checking audio headers in parallel, and assigning splits.

A source spec is one of ``demo``, ``NAME=PATH`` (a corpus in its distribution layout), ``jsonl:PATH``,
``csv:PATH`` or ``hf:OWNER/NAME[:config]`` / ``hf:PATH`` (a ``save_to_disk`` folder). Any spec may end in
``?key=value&key=value`` options for its reader (``iemocap=/data/IEMOCAP?fold=4``,
``hf:org/set?emotion=style``, ``jsonl:list.jsonl?corpus=mine``).
"""

from __future__ import annotations

from collections import Counter

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from pydantic import ValidationError
from tqdm import tqdm

from emotioncot.audio.io import AudioError, audio_info
from emotioncot.config import IngestConfig
from emotioncot.ingest.splits import assign_splits
from emotioncot.ingest.sources import READERS, canonical_name, get_reader
from emotioncot.ingest.sources._common import walk_files
from emotioncot.schema import Utterance
from emotioncot.wording import count


@dataclass(frozen=True)
class Source:
    name: str
    path: Path | None
    spec: str
    options: dict = field(default_factory=dict)


def _split_options(text: str) -> tuple[str, dict]:
    head, sep, query = text.rpartition("?")
    if sep and query and all("=" in part for part in query.split("&")):
        return head, dict(parse_qsl(query, keep_blank_values=True))
    return text, {}


def _bare_path_example(body: str) -> str:
    """An example NAME=PATH only where the folder's own name is a corpus name: any other example would name the
    wrong reader for the user's folder (an EmoDB folder was offered ``ravdess=...``)."""
    folder = Path(body.rstrip("/\\")).name
    return f"here probably {canonical_name(folder)}={body}; " if canonical_name(folder) in READERS else ""


def parse_source(spec: str) -> Source:
    """``demo``, ``NAME=PATH``, ``jsonl:PATH``, ``csv:PATH`` or ``hf:TARGET[:config]``, each with ``?options``."""
    body, options = _split_options(spec.strip())
    if body.startswith(("jsonl:", "csv:")):
        kind, _, path = body.partition(":")
        return Source(kind, Path(path), spec, options)
    if body.startswith("hf:"):
        target = body[3:]
        config = None
        if not Path(target).exists() and target.count(":") == 1:
            target, config = target.split(":")
        options = {**options, "hf_target": target, "hf_config": config}
        return Source("hf", Path(target) if Path(target).exists() else None, spec, options)
    if "=" in body:
        name, _, path = body.partition("=")
        return Source(canonical_name(name), Path(path).expanduser(), spec, options)
    if canonical_name(body) not in READERS and ("/" in body or "\\" in body or Path(body).expanduser().exists()):
        # A bare path: which reader applies cannot be guessed from a folder, so say how to name it.
        raise ValueError(
            f"--corpus {spec!r} is a path, not a source: write NAME={body} with the corpus name "
            f"({_bare_path_example(body)}`emotioncot corpora` lists the names), or jsonl:{body} / csv:{body} for a list of clips"
        )
    return Source(canonical_name(body), None, spec, options)


def _with_header(row: dict) -> dict:
    info = audio_info(row["audio_path"])
    row.setdefault("meta", {})
    row["meta"].update({"sample_rate": info.sample_rate, "channels": info.channels})
    if row.get("end_s") is not None:
        if row["end_s"] > info.duration_s + 0.05:
            raise AudioError(f"{row['audio_path']}: segment ends at {row['end_s']} s, after the file's end ({info.duration_s:.2f} s)")
        row["duration_s"] = row["end_s"] - (row.get("start_s") or 0.0)
    else:
        row["duration_s"] = info.duration_s - (row.get("start_s") or 0.0)
    if row["duration_s"] <= 0:
        raise AudioError(f"{row['audio_path']}: no audio (duration {info.duration_s:.3f} s)")
    return row


def _at_row(row: dict, reason: str) -> str:
    """The reason led by the list row the item came from (``FILE:LINE``), where it came from a list."""
    where = (row.get("meta") or {}).get("list_row")
    return f"{where}: {reason}" if where else reason


def _duplicate(row: dict, first: dict) -> str:
    """Why a row with an id already taken is left out, naming both rows (list line, else the audio file)."""
    same_clip = (row["audio_path"], row.get("start_s"), row.get("end_s")) == \
        (first["audio_path"], first.get("start_s"), first.get("end_s"))
    earlier = (first.get("meta") or {}).get("list_row") or first["audio_path"]
    what = f"the same clip as {earlier}" if same_clip else f"id {row['id']!r} is already used by {earlier}"
    return _at_row(row, f"{what}; this row is left out (duplicate id {row['id']})")


def read_headers(rows: list[dict], workers: int, progress: bool | None = None) -> tuple[list[dict], list[dict]]:
    """Duration, rate and channels of every row's audio from file headers only, many files at a time
    (header reads wait on the disk, not the CPU, so threads overlap them). Unreadable files -> errors."""

    def check(row):
        try:
            return _with_header(row), None
        except AudioError as exc:
            return None, {"id": row["id"], "path": row["audio_path"], "reason": _at_row(row, str(exc)), "corpus": row["corpus"]}

    kept, errors = [], []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(check, rows, chunksize=64)
        for row, err in tqdm(results, total=len(rows), desc="ingest: audio headers", unit="file", disable=True if progress is False else None):
            if err:
                errors.append(err)
            else:
                kept.append(row)
    return kept, errors


def read_source(spec: str, progress: bool | None = False) -> tuple[list[dict], list[dict]]:
    """Validated rows and per-item errors of one source (no audio is opened)."""
    source = parse_source(spec)
    reader = get_reader(source.name)
    options = {"corpus_name": source.options.get("corpus"), **source.options}
    if source.name in ("csv", "jsonl"):
        options["list_kind"] = source.name  # csv:clips.tsv is CSV whatever its suffix
    corpus = options.get("corpus_name") or source.name
    rows, errors = [], []
    items = tqdm(reader(source.path, options), desc=f"ingest: {corpus}", unit="item", disable=True if progress is False else None)
    for item in items:
        if "error" in item:
            errors.append({"id": item.get("id"), "path": item.get("path"), "reason": item["error"],
                           "corpus": item.get("corpus") or corpus})  # a list's corpus is its file's stem, not "csv"
            continue
        try:
            rows.append(Utterance.model_validate(item).model_dump())
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            errors.append({"id": item.get("id"), "path": item.get("audio_path"), "reason": f"invalid row: {problems}", "corpus": corpus})
    return rows, errors


def ingest_sources(
    specs: list[str], config: IngestConfig | None = None, progress: bool | None = None
) -> tuple[list[dict], list[dict]]:
    """All utterances of all sources (validated, with durations and splits) and the items left out."""
    config = config or IngestConfig()
    rows, errors = [], []
    for spec in specs:
        source_rows, source_errors = read_source(spec, progress)
        rows.extend(source_rows)
        errors.extend(source_errors)
    kept, header_errors = read_headers(rows, max(4, config.workers * 4), progress)
    errors.extend(header_errors)
    seen: dict[str, dict] = {}
    unique = []
    for row in kept:
        if row["id"] in seen:
            errors.append({"id": row["id"], "path": row["audio_path"], "reason": _duplicate(row, seen[row["id"]]),
                           "corpus": row["corpus"]})
            continue
        seen[row["id"]] = row
        unique.append(row)
    from emotioncot.ingest.estimates import fill_unstated  # speakers, language, age: before splits

    fill_unstated(unique, config, progress)
    assign_splits(unique, config.split_ratios, config.seed, config.text_disjoint)
    return unique, errors


# ---------------------------------------------------------------- summary


def _label_status(corpus: str, native: str | None, cache: dict) -> str:
    if native is None:
        return "no label"
    if corpus not in cache:
        from emotioncot.ingest.manifest import load_manifest

        try:
            cache[corpus] = load_manifest(corpus)
        except FileNotFoundError:
            cache[corpus] = None
    manifest = cache[corpus]
    if manifest is not None and native in (manifest.get("excluded") or []):
        return "excluded by manifest"
    from emotioncot.ingest.sources._common import STATES_OF_THEIR_OWN, label_key

    if label_key(native) in STATES_OF_THEIR_OWN:
        return "kept apart (?labels=)"  # known, but no class unless the source maps it: not an unknown label
    return "unknown label"


def taxonomy_exclusions(rows: list[dict]) -> list[dict]:
    """Rows without a 9-class emotion, counted per corpus and native label with why they have none
    (``excluded by manifest``: the taxonomy leaves the label out on purpose, e.g. EmoDB boredom, RAVDESS calm;
    ``unknown label``; ``no label``). These are exclusions, not errors."""
    return exclusions_from_counts(unclassed_counts(rows))


def unclassed_counts(rows: list[dict]) -> Counter:
    """(corpus, native label) -> clips, of the rows without a 9-class emotion (``taxonomy_exclusions``'s counts,
    which a streamed stage adds up batch by batch)."""
    return Counter((r.get("corpus") or "?", r.get("native_label")) for r in rows if not r.get("emotion"))


def exclusions_from_counts(counts: Counter) -> list[dict]:
    cache: dict = {}
    return [{"corpus": c, "native_label": n, "why": _label_status(c, n, cache), "clips": k}
            for (c, n), k in sorted(counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))]


def _reason_kind(reason: str) -> str:
    """A reason without the paths and numbers that make every line unique, to count alike reasons."""
    text = re.sub(r"(?:[A-Za-z]:)?[\w.\-~]*/[^\s:,;()]*", "<path>", reason)
    text = re.sub(r"^[\w.\-]+\.\w{2,5}:", "<file>:", text)  # "03a01Fa.wav: not a RAVDESS file name": one kind
    text = re.sub(r"(?<![=\d])(?<!\.mp)(?<!\.m)\d+(?:\.\d+)?", "N", text)  # keep ?song=1, .mp4, .m4a
    return text[:110]


def summarize(rows: list[dict], errors: list[dict]) -> dict:
    """Counts for the ingest summary: utterances per corpus x emotion x split, rows without a class (why),
    and items left out (grouped by reason)."""
    by_class, without_class, left_out, example = {}, {}, {}, {}
    cache: dict = {}
    for r in rows:
        key = (r["corpus"], r.get("emotion") or "(none)", r.get("split") or "(no split)")
        by_class[key] = by_class.get(key, 0) + 1
        if r.get("emotion") is None:
            k = (r["corpus"], _label_status(r["corpus"], r.get("native_label"), cache), r.get("native_label") or "")
            without_class[k] = without_class.get(k, 0) + 1
    for e in errors:
        corpus = e.get("corpus") or "?"
        k = (corpus, _reason_kind(e.get("reason", "")))
        left_out[k] = left_out.get(k, 0) + 1
        example.setdefault(k, e.get("reason", ""))
    return {"utterances": by_class, "without_class": without_class, "left_out": left_out, "example": example}


def speaker_leaks(rows: list[dict]) -> list[str]:
    """One line per speaker the source's own split column puts in more than one split (the dealt splits never do):
    such a build fails ``validate`` (``speaker_leak``), so ingest says so at once and how to deal the splits."""
    from emotioncot.ingest.splits import speakers_in_several_splits

    return [f"speaker {spk!r} of {corpus} is in {len(s)} splits ({', '.join(sorted(s))}) as the source's split column "
            f"says; `validate` will fail (speaker_leak): add ?splits=reassign to the source to deal speaker-disjoint "
            f"splits" for (corpus, spk), s in speakers_in_several_splits(rows).items()]


def format_summary(rows: list[dict], errors: list[dict]) -> str:
    s = summarize(rows, errors)
    lines = [count(len(rows), "utterance")]
    totals = {}
    for (c, _, _), n in s["utterances"].items():
        totals[c] = totals.get(c, 0) + n
    lines.append(f"  {'corpus':14s} {'emotion':22s} {'train':>7s} {'valid.':>7s} {'test':>7s} {'no split':>8s}")
    grid = {}
    for (c, e, sp), n in s["utterances"].items():
        grid.setdefault((c, e), {})[sp] = n
    for (c, e), cells in sorted(grid.items()):
        lines.append(
            f"  {c:14s} {e:22s} {cells.get('train', 0):7d} {cells.get('validation', 0):7d} {cells.get('test', 0):7d} {cells.get('(no split)', 0):8d}"
        )
    for c, n in sorted(totals.items()):
        lines.append(f"  {c:14s} {'(all)':22s} {n:7d} total")
    if s["without_class"]:
        lines.append("kept without a 9-class emotion (native label kept):")
        for (c, status, native), n in sorted(s["without_class"].items()):
            lines.append(f"  {c:14s} {status:22s} {native!r:20s} {n}")
        if any(status in ("unknown label", "kept apart (?labels=)") for _, status, _ in s["without_class"]):
            lines.append("  (a label of a list or hf: source gets a class with ?labels=NATIVE:CLASS on the source, "
                         "e.g. jsonl:clips.jsonl?labels=calm:neutral; empty CLASS: excluded; docs/corpora.md)")
    from emotioncot.ingest.speakers import clustering_summary, describe

    lines += [f"speakers: {line}" for line in describe(clustering_summary(rows))]
    lines += [f"warning: {line}" for line in speaker_leaks(rows)]
    no_split = sum(n for (c, e, sp), n in s["utterances"].items() if sp == "(no split)")
    if no_split:
        lines.append(f"{count(no_split, 'utterance')} {'has' if no_split == 1 else 'have'} no split (their speaker and sentence fell in different splits under --text-disjoint)")
    if errors:
        lines.append(f"left out: {count(len(errors), 'item')}")
        lines += _left_out_lines(s)
    return "\n".join(lines)


def _left_out_lines(summary: dict) -> list[str]:
    # the counted kind hides paths; the user needs to see which file, so one full reason goes with it
    return [f"  {c:14s} {n:6d}  {example if n == 1 or example == kind else f'{kind} (e.g. {example})'}"
            for c, kind, n, example in left_out_kinds(summary)]


def failures_by_reason(errors_jsonl: Path) -> str:
    """The lines of a build's errors.jsonl grouped by reason, one full reason each, for the build's summary."""
    import json

    errors = [json.loads(line) for line in Path(errors_jsonl).read_text().splitlines() if line.strip()]
    for e in errors:
        e.setdefault("corpus", e.get("stage"))
    return "\n".join(_left_out_lines(summarize([], errors)))


def left_out_kinds(summary: dict) -> list[tuple[str, str, int, str]]:
    """(corpus, kind of reason, how many, one full reason), most frequent first."""
    ranked = sorted(summary["left_out"].items(), key=lambda kv: (-kv[1], kv[0]))
    return [(c, kind, n, summary["example"][(c, kind)]) for (c, kind), n in ranked]


def failure_summary(errors: list[dict], most: int = 3) -> str:
    """The items that failed, in one line a message can carry: the commonest reasons with one full example each
    (a build that kept nothing removes its folder, errors.jsonl included, so the message must say why itself)."""
    if not errors:  # "0 items failed: " said nothing of why nothing was there
        return "the sources gave no items at all (an empty list, or a folder with no clips where its layout puts them)"
    kinds = left_out_kinds(summarize([], errors))
    parts = [f"{c}: {count(n, 'item')} such as {example!r}" for c, _, n, example in kinds[:most]]
    more = f"; and {count(len(kinds) - most, 'other reason')}" if len(kinds) > most else ""
    return f"{count(len(errors), 'item')} failed: " + "; ".join(parts) + more


def source_fingerprint(spec: str) -> list | None:
    """What a source's content looks like on disk, cheaply (file count, total size, newest mtime), so that a
    cached ingest is redone when files are added, removed or changed under a corpus folder."""
    source = parse_source(spec)
    path = source.path
    if path is None or not Path(path).exists():
        return None
    path = Path(path)
    if path.is_file():
        st = path.stat()
        return [1, st.st_size, int(st.st_mtime)]
    files = size = newest = 0
    for file in walk_files(path):  # follows symlinked folders, as the readers do
        try:
            st = file.stat()
        except OSError:
            continue
        files, size, newest = files + 1, size + st.st_size, max(newest, int(st.st_mtime))
    return [files, size, newest]
