"""push-to-hub at the huggingface_hub boundary, without network: a fake ``HfApi`` records what would be
created and committed (real ``CommitOperationAdd`` / ``RepoFile`` / ``HfHubHTTPError`` objects)."""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile
from typer.testing import CliRunner

from emotioncot.export import export_records
from emotioncot.export import hub
from emotioncot.export.synthetic import synthetic_records
from conftest import distinct_audio  # not "tests.conftest": a dependency installs a top-level "tests" package
from emotioncot.schema import Record
from emotioncot.tables import validate_rows

SECRET = "hf_SECRETtoken1234567890"


def _http_error(status: int, message: str = "") -> HfHubHTTPError:
    request = httpx2.Request("POST", "https://hub.invalid/api/datasets/x/commit/main")
    return HfHubHTTPError(f"{status} error {message}", response=httpx2.Response(status, request=request))


def _real_signature(method):
    """Every call must also bind to the real ``HfApi`` method's signature (guards against API drift)."""

    @functools.wraps(method)
    def checked(self, *args, **kwargs):
        inspect.signature(getattr(HfApi, method.__name__)).bind(self, *args, **kwargs)
        return method(self, *args, **kwargs)

    return checked


class FakeHub:
    """The part of ``HfApi`` push-to-hub uses; remote content is kept per (repo, revision)."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.repos: dict[str, dict] = {}
        self.trees: dict[tuple[str, str], dict[str, bytes]] = {}
        self.fail_commits: list[Exception] = []  # raised by the next create_commit calls, in order
        self.tokens: set = set()

    @_real_signature
    def create_repo(self, repo_id, *, token=None, private=None, repo_type=None, exist_ok=False, **kw):
        self.tokens.add(token)
        self.calls.append(("create_repo", repo_id, repo_type, private))
        self.repos.setdefault(repo_id, {"private": private})
        self.trees.setdefault((repo_id, "main"), {})

    @_real_signature
    def create_branch(self, repo_id, *, branch, token=None, repo_type=None, exist_ok=False, **kw):
        self.calls.append(("create_branch", repo_id, branch, repo_type))
        self.trees.setdefault((repo_id, branch), dict(self.trees[(repo_id, "main")]))

    @_real_signature
    def list_repo_tree(self, repo_id, path_in_repo=None, *, recursive=False, revision=None, repo_type=None, token=None, **kw):
        self.calls.append(("list_repo_tree", repo_id, revision, repo_type))
        if repo_id not in self.repos:
            raise RepositoryNotFoundError("404", response=httpx2.Response(404, request=httpx2.Request("GET", "https://hub.invalid")))
        for path, data in self.trees[(repo_id, revision)].items():
            lfs = {"size": len(data), "oid": hashlib.sha256(data).hexdigest(), "pointerSize": 130} if path.endswith(".parquet") else None
            oid = hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()
            yield RepoFile(path=path, size=len(data), oid=oid, lfs=lfs)

    @_real_signature
    def create_commit(self, repo_id, operations, *, commit_message, token=None, repo_type=None, revision=None, **kw):
        self.tokens.add(token)
        ops = list(operations)
        self.calls.append(("create_commit", repo_id, revision, repo_type, [
            ("+" if isinstance(op, CommitOperationAdd) else "-") + op.path_in_repo for op in ops], commit_message))
        if self.fail_commits:
            raise self.fail_commits.pop(0)
        tree = self.trees[(repo_id, revision)]
        for op in ops:
            if isinstance(op, CommitOperationAdd):
                tree[op.path_in_repo] = Path(op.path_or_fileobj).read_bytes()
            else:
                assert isinstance(op, CommitOperationDelete)
                del tree[op.path_in_repo]

    def commits(self):
        return [c for c in self.calls if c[0] == "create_commit"]


@pytest.fixture
def export_dir(tmp_path):
    recs = validate_rows(distinct_audio(synthetic_records(400, __file__, seed=5), tmp_path / "audio"), Record)
    export_records(recs, tmp_path, shard_max_mb=0.1)
    return tmp_path


def _local_tree(export_dir: Path) -> dict[str, bytes]:
    files = sorted((export_dir / "parquet").glob("*.parquet")) + [export_dir / "emotioncot.jsonl", export_dir / "README.md"]
    return {p.relative_to(export_dir).as_posix(): p.read_bytes() for p in files}


def test_push_creates_repo_and_branch_and_commits_every_file(export_dir):
    api, logs = FakeHub(), []
    plan = hub.push_export(export_dir, "me/emo", token=SECRET, api=api, private=True, revision="v1",
                           max_commit_mb=0.2, log=logs.append, sleep=lambda s: None)
    assert api.calls[0] == ("create_repo", "me/emo", "dataset", True)
    assert ("create_branch", "me/emo", "v1", "dataset") in api.calls
    commits = api.commits()
    assert len(commits) >= 3 and all(c[1:4] == ("me/emo", "v1", "dataset") for c in commits)
    # Data first, the card alone in the last commit.
    assert commits[-1][4] == ["+README.md"]
    assert all("+README.md" not in c[4] for c in commits[:-1])
    assert api.trees[("me/emo", "v1")] == _local_tree(export_dir)
    assert api.trees[("me/emo", "main")] == {}  # nothing went to main
    assert api.tokens == {SECRET}
    assert SECRET not in "\n".join(logs) + plan.describe()


def test_broken_upload_resumes_without_resending(export_dir):
    api = FakeHub()
    # The second commit fails for good (every retry gets a 503).
    first = {"n": 0}
    original = api.create_commit

    def flaky(repo_id, operations, **kw):
        first["n"] += 1
        if first["n"] >= 2:
            raise _http_error(503, "unavailable")
        return original(repo_id, operations, **kw)

    api.create_commit = flaky
    with pytest.raises(hub.HubError, match="after 3 attempts"):
        hub.push_export(export_dir, "me/emo", token=SECRET, api=api, max_commit_mb=0.2, attempts=3,
                        sleep=lambda s: None, log=lambda m: None)
    uploaded_first = set(api.trees[("me/emo", "main")])
    assert uploaded_first and "README.md" not in uploaded_first
    api.create_commit = original
    n_before = len(api.commits())
    plan = hub.push_export(export_dir, "me/emo", token=SECRET, api=api, max_commit_mb=0.2, sleep=lambda s: None, log=lambda m: None)
    sent_again = {p[1:] for c in api.commits()[n_before:] for p in c[4]}
    assert sent_again.isdisjoint(uploaded_first)
    assert set(plan.unchanged) == uploaded_first
    assert api.trees[("me/emo", "main")] == _local_tree(export_dir)
    # Pushing an unchanged export again sends nothing.
    n_before = len(api.commits())
    plan = hub.push_export(export_dir, "me/emo", token=SECRET, api=api, log=lambda m: None)
    assert len(api.commits()) == n_before and plan.commits == []


def test_transient_failures_are_retried_with_backoff(export_dir):
    api, sleeps = FakeHub(), []
    api.fail_commits = [_http_error(503), httpx2.ConnectError("reset by peer")]
    hub.push_export(export_dir, "me/emo", token=SECRET, api=api, sleep=sleeps.append, log=lambda m: None)
    assert sleeps == [2.0, 4.0]
    assert api.trees[("me/emo", "main")] == _local_tree(export_dir)


def test_permanent_failure_stops_at_once_and_hides_the_token(export_dir):
    api, sleeps = FakeHub(), []
    api.fail_commits = [_http_error(403, f"forbidden for token {SECRET}")]
    with pytest.raises(hub.HubError) as info:
        hub.push_export(export_dir, "me/emo", token=SECRET, api=api, sleep=sleeps.append, log=lambda m: None)
    assert sleeps == [] and "403" in str(info.value) and SECRET not in str(info.value)


def test_stale_shards_of_an_earlier_export_are_deleted(export_dir):
    api = FakeHub()
    api.create_repo("me/emo", repo_type="dataset")
    api.trees[("me/emo", "main")]["parquet/train-00000-of-00099.parquet"] = b"old"
    api.trees[("me/emo", "main")]["notes.txt"] = b"keep me"
    hub.push_export(export_dir, "me/emo", token=SECRET, api=api, log=lambda m: None)
    tree = api.trees[("me/emo", "main")]
    assert "parquet/train-00000-of-00099.parquet" not in tree and tree["notes.txt"] == b"keep me"
    assert "-parquet/train-00000-of-00099.parquet" in api.commits()[-1][4]


def _cli(args, env):
    from emotioncot.cli import app

    return CliRunner().invoke(app, args, env=env)


def test_cli_dry_run_prints_the_plan_and_sends_nothing(export_dir, monkeypatch):
    def no_client():
        raise AssertionError("a dry run must not create a Hub client")

    monkeypatch.setattr(hub, "make_api", no_client)
    result = _cli(["push-to-hub", str(export_dir), "me/emo", "--revision", "exp", "--dry-run", "--token-env", "MY_TOKEN"],
                  {"MY_TOKEN": SECRET})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "nothing was sent" in out and "me/emo" in out and "revision:   exp" in out and "$MY_TOKEN (set)" in out
    for path in _local_tree(export_dir):
        assert f"+ {path}" in out
    assert "reference audio by local path" in out  # a referencing export: the Hub copy would have no audio
    assert SECRET not in out


def test_cli_push_through_the_client(export_dir, monkeypatch):
    api = FakeHub()
    monkeypatch.setattr(hub, "make_api", lambda: api)
    result = _cli(["push-to-hub", str(export_dir), "me/emo", "--private"], {"HF_TOKEN": SECRET})
    assert result.exit_code == 0, result.output
    assert api.calls[0] == ("create_repo", "me/emo", "dataset", True)
    assert api.trees[("me/emo", "main")] == _local_tree(export_dir)
    assert SECRET not in result.output


def test_cli_without_token_or_export_fails_clearly(export_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "make_api", lambda: FakeHub())
    result = _cli(["push-to-hub", str(export_dir), "me/emo"], {"HF_TOKEN": ""})
    assert result.exit_code != 0 and "HF_TOKEN" in result.output
    result = _cli(["push-to-hub", str(tmp_path / "nothing"), "me/emo", "--dry-run"], {})
    assert result.exit_code != 0 and "not a complete export" in result.output
