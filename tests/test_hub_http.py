"""push-to-hub end to end through the real ``huggingface_hub`` client and its HTTP layer, against a small
Hub-like server on 127.0.0.1 (``HF_ENDPOINT``): repository and branch creation, tree listing, card YAML
validation, preupload, ndjson commits, a transient 503, and the token only ever in the Authorization header."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest
from typer.testing import CliRunner

from emotioncot.export import export_records
from emotioncot.export.synthetic import synthetic_records
from conftest import distinct_audio  # not "tests.conftest": a dependency installs a top-level "tests" package
from emotioncot.schema import Record
from emotioncot.tables import validate_rows

SECRET = "hf_HTTPsecret0987654321"


class HubState:
    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.trees: dict[tuple[str, str], dict[str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        self.commits: list[tuple[str, str, list[str]]] = []
        self.fail_next_commits = 0
        self.auth: set = set()


def make_handler(state: HubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, obj, status=200):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _route(self, method):
            path = urlparse(self.path).path
            state.requests.append((method, path))
            state.auth.add(self.headers.get("Authorization"))
            body = self._body() if method == "POST" else b""
            parts = path.strip("/").split("/")
            if path == "/api/repos/create":
                req = json.loads(body)
                repo = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                if repo in state.repos:
                    return self._json({"error": "You already created this dataset repo", "url": f"http://{self.headers['Host']}/datasets/{repo}"}, 409)
                # huggingface_hub 2.x sends "visibility"; older clients sent "private".
                private = req.get("visibility") == "private" if "visibility" in req else req.get("private")
                state.repos[repo] = {"private": private, "type": req.get("type")}
                state.trees[(repo, "main")] = {}
                return self._json({"url": f"http://{self.headers['Host']}/datasets/{repo}", "name": repo})
            if path == "/api/validate-yaml":
                content = json.loads(body)["content"]
                ok = content.startswith("---\n") and "license:" in content and "configs:" in content
                return self._json({"errors": [] if ok else [{"message": "bad card"}], "warnings": []}, 200 if ok else 400)
            if parts[:2] != ["api", "datasets"] or len(parts) < 6:
                return self._json({"error": f"unknown route {path}"}, 404)
            repo, action, rev = f"{parts[2]}/{parts[3]}", parts[4], parts[5]
            if repo not in state.repos:
                return self._json({"error": "Repository not found"}, 404)
            if action == "branch":
                state.trees.setdefault((repo, rev), dict(state.trees[(repo, "main")]))
                return self._json({})
            if action == "tree":
                if (repo, rev) not in state.trees:
                    return self._json({"error": "Revision not found"}, 404)
                entries = []
                for p, data in sorted(state.trees[(repo, rev)].items()):
                    entry = {"type": "file", "path": p, "size": len(data),
                             "oid": hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()}
                    if p.endswith(".parquet"):
                        entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                    entries.append(entry)
                return self._json(entries)
            if action == "preupload":
                files = json.loads(body)["files"]
                return self._json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
            if action == "commit":
                if state.fail_next_commits:
                    state.fail_next_commits -= 1
                    return self._json({"error": "Service Unavailable"}, 503)
                lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                tree = state.trees[(repo, rev)]
                changed = []
                for item in lines[1:]:
                    if item["key"] == "file":
                        tree[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                        changed.append("+" + item["value"]["path"])
                    elif item["key"] == "deletedFile":
                        tree.pop(item["value"]["path"], None)
                        changed.append("-" + item["value"]["path"])
                state.commits.append((repo, rev, changed))
                return self._json({"commitUrl": f"http://127.0.0.1/datasets/{repo}/commit/{len(state.commits):040d}",
                                   "commitOid": f"{len(state.commits):040d}"})
            return self._json({"error": f"unknown action {action}"}, 404)

        def do_GET(self):
            self._route("GET")

        def do_POST(self):
            self._route("POST")

    return Handler


@pytest.fixture
def hub_server(monkeypatch):
    state = HubState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_push_through_the_real_client_over_http(hub_server, tmp_path, monkeypatch):
    from emotioncot.cli import app
    from emotioncot.export import hub

    monkeypatch.setattr(hub.time, "sleep", lambda s: None)  # the backoff of the retried 503
    recs = validate_rows(distinct_audio(synthetic_records(120, __file__, seed=9), tmp_path / "audio"), Record)
    export_records(recs, tmp_path, shard_max_mb=0.05)
    local = {p.relative_to(tmp_path).as_posix(): p.read_bytes()
             for p in [*sorted((tmp_path / "parquet").glob("*.parquet")), tmp_path / "emotioncot.jsonl", tmp_path / "README.md"]}
    hub_server.fail_next_commits = 1
    result = CliRunner().invoke(app, ["push-to-hub", str(tmp_path), "me/emo", "--private", "--revision", "exp",
                                      "--max-commit-mb", "0.1", "--token-env", "MY_TOKEN"], env={"MY_TOKEN": SECRET})
    assert result.exit_code == 0, result.output
    assert hub_server.repos["me/emo"] == {"private": True, "type": "dataset"}
    assert hub_server.trees[("me/emo", "exp")] == local
    assert hub_server.trees[("me/emo", "main")] == {}
    assert "transient failure" in result.output and "retry 1/4" in result.output
    assert hub_server.commits[-1][2] == ["+README.md"] and len(hub_server.commits) >= 3
    assert ("POST", "/api/validate-yaml") in hub_server.requests  # the Hub checked our card's YAML
    assert hub_server.auth == {f"Bearer {SECRET}"}
    assert SECRET not in result.output

    # A second push of the same export: the repository exists, every file matches, nothing is committed.
    n = len(hub_server.commits)
    result = CliRunner().invoke(app, ["push-to-hub", str(tmp_path), "me/emo", "--revision", "exp", "--token-env", "MY_TOKEN"],
                                env={"MY_TOKEN": SECRET})
    assert result.exit_code == 0, result.output
    assert len(hub_server.commits) == n and f"skipped): {len(local)} files" in result.output
