"""``emotioncot pull`` against a real HTTP server on 127.0.0.1 serving a miniature corpus archive: Range
resume after an interrupted download, checksum rejection of a corrupt archive, unpacking into the layout
``ingest`` reads, nested archives, and the licence-gated message."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import soundfile as sf

from emotioncot.config import IngestConfig
from emotioncot.ingest import ingest_sources
from emotioncot.ingest.pull import ChecksumError, GatedCorpus, PullError, pull


def _wav_bytes(seconds=0.3, rate=16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, 0.1 * np.sin(np.arange(int(seconds * rate)) / 5.0), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def ravdess_zip() -> bytes:
    """A miniature Audio_Speech_Actors_01-24.zip: Actor_NN/ folders as in the real archive."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # stored: large enough to cut mid-way
        for name in ("Actor_01/03-01-05-01-01-01-01.wav", "Actor_01/03-01-01-01-02-01-01.wav", "Actor_02/03-01-04-02-01-02-02.wav"):
            zf.writestr(name, _wav_bytes(1.0))
    return buf.getvalue()


class Server:
    """Serves ``files`` (path -> bytes) with Range support; ``cut_first`` paths send only part of the body
    on their first request and then drop the connection."""

    def __init__(self, files: dict[str, bytes], cut_first: set[str] = frozenset(), honour_range: bool = True):
        self.files, self.cut = files, set(cut_first)
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                outer.requests.append((self.path, rng))
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if rng and honour_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if self.path in outer.cut:
                    outer.cut.discard(self.path)
                    self.wfile.write(body[start:start + (len(body) - start) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _manifest(url: str, sha: str | None, **extra) -> dict:
    return {"name": "ravdess", "access": "public", "ingest": "ravdess=DIR",
            "download": [{"url": url, "filename": "Audio_Speech_Actors_01-24.zip", "sha256": sha, **extra}]}


def test_interrupted_download_resumes_with_range_and_unpacks(tmp_path):
    archive = ravdess_zip()
    sha = hashlib.sha256(archive).hexdigest()
    with Server({"/ravdess.zip": archive}, cut_first={"/ravdess.zip"}) as server:
        manifest = _manifest(server.url + "/ravdess.zip", sha)
        # no retries: the first run stops with a message saying how to resume, keeping the partial file
        with pytest.raises(PullError, match="run the same command again to resume"):
            pull("ravdess", tmp_path, manifest=manifest, retries=0, progress=False, log=lambda m: None)
        part = tmp_path / ".downloads" / "Audio_Speech_Actors_01-24.zip.part"
        have = part.stat().st_size
        assert 0 < have < len(archive) and not (tmp_path / "Actor_01").exists()
        result = pull("ravdess", tmp_path, manifest=manifest, retries=0, progress=False, log=lambda m: None)
    assert server.requests == [("/ravdess.zip", None), ("/ravdess.zip", f"bytes={have}-")]
    assert (tmp_path / ".downloads" / "Audio_Speech_Actors_01-24.zip").read_bytes() == archive
    assert result.files == {"Audio_Speech_Actors_01-24.zip": sha} and result.ingest_spec == f"ravdess={tmp_path}"
    rows, errors = ingest_sources([result.ingest_spec], IngestConfig(workers=1), progress=False)
    assert errors == [] and sorted(r["id"] for r in rows) == [
        "ravdess_03-01-01-01-02-01-01", "ravdess_03-01-04-02-01-02-02", "ravdess_03-01-05-01-01-01-01"]


def test_resume_within_one_run_and_rerun_is_a_no_op(tmp_path):
    archive = ravdess_zip()
    sha = hashlib.sha256(archive).hexdigest()
    messages = []
    with Server({"/r.zip": archive}, cut_first={"/r.zip"}) as server:
        pull("ravdess", tmp_path, manifest=_manifest(server.url + "/r.zip", sha), retries=2, progress=False, log=messages.append)
        assert [rng is not None for _, rng in server.requests] == [False, True]
        assert any("resuming" in m for m in messages)
        pull("ravdess", tmp_path, manifest=_manifest(server.url + "/r.zip", sha), progress=False, log=messages.append)
        assert len(server.requests) == 2  # verified file on disk: nothing downloaded again
    assert (tmp_path / "Actor_02" / "03-01-04-02-01-02-02.wav").is_file()


def test_corrupt_archive_rejected_by_checksum(tmp_path):
    archive = ravdess_zip()
    corrupt = archive[:1000] + bytes([archive[1000] ^ 0xFF]) + archive[1001:]
    with Server({"/r.zip": corrupt}) as server:
        with pytest.raises(ChecksumError, match="checksum mismatch") as info:
            pull("ravdess", tmp_path, manifest=_manifest(server.url + "/r.zip", hashlib.sha256(archive).hexdigest()),
                 progress=False, log=lambda m: None)
    assert hashlib.sha256(corrupt).hexdigest() in str(info.value)
    assert not (tmp_path / "Actor_01").exists()
    assert not list((tmp_path / ".downloads").glob("*"))  # nothing left that looks complete


def test_server_ignoring_range_restarts_cleanly(tmp_path):
    archive = ravdess_zip()
    with Server({"/r.zip": archive}, cut_first={"/r.zip"}, honour_range=False) as server:
        pull("ravdess", tmp_path, manifest=_manifest(server.url + "/r.zip", hashlib.sha256(archive).hexdigest()),
             retries=1, progress=False, log=lambda m: None)
    assert (tmp_path / ".downloads" / "Audio_Speech_Actors_01-24.zip").read_bytes() == archive


def test_nested_archives_unpack_like_meld_raw(tmp_path):
    def tar_gz(members: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    inner = tar_gz({"dev_splits_complete/dia0_utt0.mp4": b"not really a video"})
    outer = tar_gz({"MELD.Raw/dev.tar.gz": inner, "MELD.Raw/dev_sent_emo.csv": b"Sr No.,Utterance\n"})
    manifest = {"name": "meld", "access": "public", "root": "MELD.Raw", "ingest": "meld=DIR/MELD.Raw",
                "download": [{"url": None, "filename": "MELD.Raw.tar.gz", "sha256": None, "nested": ["MELD.Raw/dev.tar.gz"]}]}
    with Server({"/MELD.Raw.tar.gz": outer}) as server:
        manifest["download"][0]["url"] = server.url + "/MELD.Raw.tar.gz"
        log = []
        result = pull("meld", tmp_path, manifest=manifest, progress=False, log=log.append)
    assert (tmp_path / "MELD.Raw" / "dev_splits_complete" / "dia0_utt0.mp4").read_bytes() == b"not really a video"
    assert result.root == tmp_path / "MELD.Raw" and result.ingest_spec == f"meld={tmp_path / 'MELD.Raw'}"
    assert result.unpinned == ["MELD.Raw.tar.gz"] and any("no pinned checksum" in m for m in log)
    assert "MELD.Raw.tar.gz" in (tmp_path / ".pull.json").read_text()


def test_archive_escaping_its_folder_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.txt", b"x")
    with Server({"/e.zip": buf.getvalue()}) as server:
        with pytest.raises(PullError, match="outside"):
            pull("ravdess", tmp_path / "d", manifest=_manifest(server.url + "/e.zip", None), progress=False, log=lambda m: None)
    assert not (tmp_path / "evil.txt").exists()


def test_http_error_is_reported(tmp_path):
    with Server({}) as server:
        with pytest.raises(PullError, match="HTTP 404"):
            pull("ravdess", tmp_path, manifest=_manifest(server.url + "/none.zip", None), progress=False, log=lambda m: None)


def test_gated_corpus_prints_what_to_request(tmp_path):
    with pytest.raises(GatedCorpus) as info:
        pull("iemocap", tmp_path, progress=False)
    text = str(info.value)
    assert "sail.usc.edu" in text and str(tmp_path / "IEMOCAP_full_release" / "Session1") in text


def test_cli_pull_with_url_override_and_gated_message(tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    archive = ravdess_zip()
    with Server({"/mirror.zip": archive}) as server:
        result = CliRunner().invoke(app, ["pull", "ravdess", "--to", str(tmp_path / "r"), "--url", server.url + "/mirror.zip",
                                          "--sha256", hashlib.sha256(archive).hexdigest()])
        assert result.exit_code == 0, result.output
        assert f"--corpus ravdess={tmp_path / 'r'}" in result.output
        bad = CliRunner().invoke(app, ["pull", "ravdess", "--to", str(tmp_path / "s"), "--url", server.url + "/mirror.zip",
                                       "--sha256", "0" * 64])
        assert bad.exit_code != 0 and "checksum mismatch" in bad.output
    assert (tmp_path / "r" / "Actor_01" / "03-01-05-01-01-01-01.wav").is_file()
    gated = CliRunner().invoke(app, ["pull", "msp_podcast", "--to", str(tmp_path / "m")])
    assert gated.exit_code == 0 and "licence-gated" in gated.output and "Labels/labels_consensus.csv" in gated.output


def test_per_file_downloads_from_a_list_and_a_range(tmp_path):
    """CREMA-D style (one file per row of a downloaded CSV) and EARS style (numbered archives)."""
    clip = _wav_bytes(0.4)
    table = b'"Stimulus_Number","Filename"\n1,"1001_IEO_NEU_XX"\n2,"1002_DFA_ANG_XX"\n'

    def speaker_zip(n: int) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"p{n:03d}/emo_anger_sentences.wav", clip)
        return buf.getvalue()

    files = {"/SentenceFilenames.csv": table, "/AudioWAV/1001_IEO_NEU_XX.wav": clip, "/AudioWAV/1002_DFA_ANG_XX.wav": clip,
             "/p001.zip": speaker_zip(1), "/p002.zip": speaker_zip(2)}
    with Server(files) as server:
        crema = {"name": "crema_d", "access": "public", "download": [
            {"url": server.url + "/SentenceFilenames.csv", "filename": "SentenceFilenames.csv", "sha256": hashlib.sha256(table).hexdigest()},
            {"each_row_of": "SentenceFilenames.csv", "column": "Filename", "url": server.url + "/AudioWAV/{value}.wav",
             "filename": "AudioWAV/{value}.wav", "sha256": None},
        ]}
        result = pull("crema_d", tmp_path / "crema", manifest=crema, progress=False, log=lambda m: None)
        ears = {"name": "ears", "access": "public", "download": [
            {"range": [1, 2], "url": server.url + "/p{n:03d}.zip", "filename": "p{n:03d}.zip", "sha256": None}]}
        pull("ears", tmp_path / "ears", manifest=ears, progress=False, log=lambda m: None)
    assert (tmp_path / "crema" / "AudioWAV" / "1002_DFA_ANG_XX.wav").read_bytes() == clip
    assert sorted(result.files) == ["AudioWAV/1001_IEO_NEU_XX.wav", "AudioWAV/1002_DFA_ANG_XX.wav", "SentenceFilenames.csv"]
    assert result.unpinned == ["AudioWAV/1001_IEO_NEU_XX.wav", "AudioWAV/1002_DFA_ANG_XX.wav"]
    assert (tmp_path / "ears" / "p002" / "emo_anger_sentences.wav").read_bytes() == clip


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:  # bound, then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_server_to_reach_says_nothing_was_downloaded_and_names_no_part_file(tmp_path):
    logs: list[str] = []
    url = f"http://127.0.0.1:{_closed_port()}/Audio_Speech_Actors_01-24.zip"
    with pytest.raises(PullError) as info:
        pull("ravdess", tmp_path, manifest=_manifest(url, None), retries=1, progress=False, log=logs.append)
    text = str(info.value)
    assert "nothing downloaded" in text and "no connection to the server" in text, text
    assert ".part" not in text and "interrupted" not in text
    assert not list((tmp_path / ".downloads").glob("*.part"))  # the message names no file, and none is there
    assert logs and "resuming" not in logs[0] and "trying again (try 1 of 1)" in logs[0], logs


def test_a_failed_name_lookup_is_called_what_it_is(tmp_path, monkeypatch):
    import socket

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # what an offline machine's resolver answers
    with pytest.raises(PullError) as info:
        pull("ravdess", tmp_path, manifest=_manifest("http://zenodo.example/a.zip", None), retries=0, progress=False,
             log=lambda m: None)
    assert "could not be looked up: no network, or a DNS failure" in str(info.value)
    assert "0 bytes" not in str(info.value)
