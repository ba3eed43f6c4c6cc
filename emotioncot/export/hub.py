"""Pushing an export to the Hugging Face Hub (a dataset repository) with ``huggingface_hub``.

What goes up: the card ``README.md`` (its YAML points the Hub at the Parquet shards), ``parquet/*.parquet``
and ``emotioncot.jsonl``. ``dataset/`` (the ``load_from_disk`` folder) stays local: the Hub serves Parquet.

Resuming: the files are sent in several commits of bounded size, each atomic on the Hub, data first and
the card last. Before committing, the remote tree is listed and every file whose content already matches
(sha256 of LFS files, git blob id of small ones) is skipped, so a rerun after a broken upload sends only
what is missing. Stale shards of an earlier export (``parquet/`` files the new export does not have) are
deleted in the last commit, or ``load_dataset`` would read them too.

Retries: transient failures (connection errors, timeouts, HTTP 408/425/429/5xx) are retried with
exponential backoff; anything else stops at once with its message.

The token is read from an environment variable (``--token-env``, default ``HF_TOKEN``), passed to
``huggingface_hub`` and never printed; error messages are scrubbed of it.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

DEFAULT_TOKEN_ENV = "HF_TOKEN"
REPO_TYPE = "dataset"
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
DEFAULT_MAX_COMMIT_MB = 2048.0


class HubError(RuntimeError):
    """The push cannot go on; the message says why (never with the token in it)."""


@dataclass(frozen=True)
class LocalFile:
    path_in_repo: str
    local_path: Path
    size: int
    sha256: str
    git_sha1: str


@dataclass
class PushPlan:
    repo_id: str
    revision: str
    private: bool
    files: list[LocalFile]
    commits: list[list[LocalFile]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)
    remote_checked: bool = False
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        total = sum(f.size for c in self.commits for f in c)
        lines = [
            f"repository: {self.repo_id} (dataset, {'private' if self.private else 'public unless it exists'})",
            f"revision:   {self.revision}",
            f"upload:     {sum(len(c) for c in self.commits)} files, {total / 1e6:.1f} MB in {len(self.commits)} commit(s)"
            + ("" if self.remote_checked else " (remote not checked: every file listed)"),
        ]
        for i, commit in enumerate(self.commits, 1):
            dels = self.deletions if i == len(self.commits) else []
            lines.append(f"  commit {i}/{len(self.commits)}:")
            lines += [f"    + {f.path_in_repo} ({f.size} bytes)" for f in commit]
            lines += [f"    - {p}" for p in dels]
        if self.unchanged:
            lines.append(f"unchanged on the Hub (skipped): {len(self.unchanged)} files")
        if self.deletions and not self.commits:
            lines.append("  deletions: " + ", ".join(self.deletions))
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _hashes(path: Path) -> tuple[str, str]:
    """sha256 of the content, and git's blob sha1 (``blob <size>\\0<content>``)."""
    size = path.stat().st_size
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(f"blob {size}\0".encode())
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha256.update(block)
            sha1.update(block)
    return sha256.hexdigest(), sha1.hexdigest()


def export_files(export_dir: Path) -> list[LocalFile]:
    """The files of an export to upload, data first and the card last."""
    export_dir = Path(export_dir)
    card = export_dir / "README.md"
    shards = sorted((export_dir / "parquet").glob("*.parquet"))
    missing = [str(p) for p, ok in ((card, card.is_file()), (export_dir / "parquet", bool(shards))) if not ok]
    if missing:
        raise HubError(f"{export_dir}: not a complete export (missing {', '.join(missing)}); run `emotioncot export` first")
    paths = shards + [p for p in (export_dir / "emotioncot.jsonl",) if p.is_file()] + [card]
    out = []
    for p in paths:
        sha256, sha1 = _hashes(p)
        out.append(LocalFile(p.relative_to(export_dir).as_posix(), p, p.stat().st_size, sha256, sha1))
    return out


def refuse_unless_valid(export_dir: Path) -> None:
    """A build that does not validate (a relabelled, cut or stray shard, a damaged dataset/) is never
    uploaded: the Hub copy is what others download."""
    from emotioncot.validate import validate_path

    report = validate_path(Path(export_dir))
    if not report["ok"]:
        first = report["problems"][0]
        raise HubError(f"{export_dir} does not validate ({len(report['problems'])} problem(s); first: "
                       f"[{first['code']}] {first['message']}); run `emotioncot validate {export_dir}`, "
                       f"then rebuild or re-export")


def audio_warning(files: list[LocalFile]) -> str | None:
    """A warning when the shards reference audio by local path (the Hub copy would have no audio)."""
    import pyarrow.parquet as pq

    for f in files:
        if not f.path_in_repo.startswith("parquet/"):
            continue
        pf = pq.ParquetFile(f.local_path)
        if pf.metadata.num_rows == 0 or "audio" not in pf.schema_arrow.names:
            continue
        cells = pf.read_row_group(0, columns=["audio"])["audio"].to_pylist()
        if any(c and not c.get("bytes") and c.get("path") for c in cells):
            return ("the Parquet shards reference audio by local path; the Hub copy carries those paths but no audio "
                    "(re-export with --embed-audio for a self-contained dataset, where the corpus licences allow it)")
        return None
    return None


def remote_files(api, repo_id: str, revision: str, token: str | None) -> dict[str, Any]:
    """``path -> RepoFile`` of the remote revision; empty when the repository or revision has no files yet."""
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        entries = list(api.list_repo_tree(repo_id, recursive=True, revision=revision, repo_type=REPO_TYPE, token=token))
    except (RevisionNotFoundError, EntryNotFoundError, RepositoryNotFoundError):
        return {}
    return {e.path: e for e in entries if hasattr(e, "blob_id")}


def same_content(local: LocalFile, remote) -> bool:
    lfs = getattr(remote, "lfs", None)
    if lfs is not None:
        return getattr(lfs, "sha256", None) == local.sha256
    return getattr(remote, "blob_id", None) == local.git_sha1


def plan_push(
    files: list[LocalFile], repo_id: str, revision: str = "main", private: bool = False,
    remote: dict[str, Any] | None = None, max_commit_mb: float = DEFAULT_MAX_COMMIT_MB,
) -> PushPlan:
    """Which files go in which commit (``remote`` None: not checked, everything is sent)."""
    plan = PushPlan(repo_id=repo_id, revision=revision, private=private, files=files, remote_checked=remote is not None)
    remote = remote or {}
    todo = []
    for f in files:
        if f.path_in_repo in remote and same_content(f, remote[f.path_in_repo]):
            plan.unchanged.append(f.path_in_repo)
        else:
            todo.append(f)
    local_paths = {f.path_in_repo for f in files}
    plan.deletions = sorted(p for p in remote if p.startswith("parquet/") and p not in local_paths)
    limit = max(1, int(max_commit_mb * 1e6))
    data = [f for f in todo if f.path_in_repo != "README.md"]
    batch, size = [], 0
    for f in data:
        if batch and size + f.size > limit:
            plan.commits.append(batch)
            batch, size = [], 0
        batch.append(f)
        size += f.size
    if batch:
        plan.commits.append(batch)
    card = [f for f in todo if f.path_in_repo == "README.md"]
    if card or (plan.deletions and not plan.commits):
        plan.commits.append(card)
    return plan


def _is_transient(exc: BaseException) -> bool:
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError):
        response = getattr(exc, "response", None)
        return getattr(response, "status_code", None) in TRANSIENT_STATUS
    try:
        import httpx2

        if isinstance(exc, httpx2.TransportError):
            return True
    except ImportError:  # older huggingface_hub uses requests / httpx
        pass
    return isinstance(exc, (ConnectionError, TimeoutError))


def scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def with_retries(fn: Callable[[], Any], what: str, token: str | None, attempts: int = 5, base_delay_s: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] = print):
    """``fn()``, retried on transient failures with exponential backoff (2, 4, 8 ... s, at most 60 s)."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            message = scrub(f"{type(exc).__name__}: {exc}", token)
            if not _is_transient(exc):
                raise HubError(f"{what} failed: {message}") from None
            if attempt == attempts:
                raise HubError(f"{what} failed after {attempts} attempts: {message}") from None
            delay = min(60.0, base_delay_s * 2 ** (attempt - 1))
            log(f"{what}: transient failure ({message.splitlines()[0]}); retry {attempt}/{attempts - 1} in {delay:.0f} s")
            sleep(delay)


def make_api():
    """The ``HfApi`` client (``HF_ENDPOINT`` selects the server, as everywhere in huggingface_hub)."""
    from huggingface_hub import HfApi

    # Read at call time (huggingface_hub reads it once, at import).
    return HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)


def push_export(
    export_dir: Path, repo_id: str, *, token: str | None, api=None, private: bool = False, revision: str | None = None,
    dry_run: bool = False, max_commit_mb: float = DEFAULT_MAX_COMMIT_MB, attempts: int = 5,
    sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] = print,
) -> PushPlan:
    """Upload an export to ``repo_id``; with ``dry_run`` only plan (nothing is sent, no client is made).
    Returns the plan that was (or would be) carried out."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    revision = revision or "main"
    files = export_files(export_dir)
    refuse_unless_valid(export_dir)
    warning = audio_warning(files)
    if dry_run:
        plan = plan_push(files, repo_id, revision, private, None, max_commit_mb)
        plan.warnings += [warning] if warning else []
        return plan
    if not token:
        raise HubError("no token: set the environment variable named by --token-env (default HF_TOKEN)")
    api = api if api is not None else make_api()

    def retried(fn, what):
        return with_retries(fn, what, token, attempts=attempts, sleep=sleep, log=log)

    retried(lambda: api.create_repo(repo_id, token=token, private=private, repo_type=REPO_TYPE, exist_ok=True), "create repository")
    if revision != "main":
        retried(lambda: api.create_branch(repo_id, branch=revision, token=token, repo_type=REPO_TYPE, exist_ok=True), "create branch")
    remote = retried(lambda: remote_files(api, repo_id, revision, token), "list remote files")
    plan = plan_push(files, repo_id, revision, private, remote, max_commit_mb)
    plan.warnings += [warning] if warning else []
    for i, batch in enumerate(plan.commits, 1):
        last = i == len(plan.commits)

        def operations(batch=batch, last=last):
            # Fresh objects on every attempt: create_commit mutates the operations it is given.
            ops = [CommitOperationAdd(path_in_repo=f.path_in_repo, path_or_fileobj=str(f.local_path)) for f in batch]
            if last:
                ops += [CommitOperationDelete(path_in_repo=p) for p in plan.deletions]
            return ops

        message = f"emotioncot export: part {i}/{len(plan.commits)}" + (" (dataset card)" if last else "")
        retried(
            lambda: api.create_commit(repo_id, operations(), commit_message=message, token=token, repo_type=REPO_TYPE, revision=revision),
            f"commit {i}/{len(plan.commits)}",
        )
        log(f"committed {i}/{len(plan.commits)}: {len(batch)} files")
    return plan


def token_from_env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None
