"""``emotioncot pull``: fetch a public corpus into the layout ``ingest`` reads.

Downloads go to ``DIR/.downloads/<file>.part`` and resume with an HTTP ``Range`` request after an
interruption (in the same run, up to ``retries`` times, or in a later run). A finished download is checked
against the manifest's sha256 before it is renamed to its final name; a mismatch deletes it and fails. Where a
manifest pins no checksum, the computed sha256 is printed and recorded in ``DIR/.pull.json`` so a later pull
can be pinned. Archives (zip, tar, tar.gz) are unpacked into ``DIR`` (nested archives, as in MELD.Raw, too);
a ``.downloads/<file>.unpacked`` marker is written only after an archive unpacked completely, so a killed
unpack is redone. Licence-gated corpora are never downloaded: ``GatedCorpus`` carries what to request,
from whom, and where to put the files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm import tqdm

from emotioncot.ingest.manifest import load_manifest
from emotioncot.tables import write_json_atomic

CHUNK = 1 << 20


class PullError(RuntimeError):
    """A download or unpack failed; the message says what to do."""


class ChecksumError(PullError):
    """A downloaded file does not match its pinned sha256."""


class GatedCorpus(PullError):
    """The corpus cannot be downloaded without a licence; the message says how to get it."""


@dataclass
class PullResult:
    name: str
    root: Path
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    unpinned: list[str] = field(default_factory=list)
    ingest_spec: str = ""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def gated_instructions(manifest: dict, dest: Path | None = None) -> str:
    where = dest or Path("DIR")
    layout = (manifest.get("layout") or "").replace("DIR", str(where)).rstrip()
    return (
        f"{manifest.get('title', manifest['name'])} is licence-gated; emotioncot cannot download it.\n"
        f"What to request and from whom: {' '.join(str(manifest.get('request') or '').split())}\n"
        f"Homepage: {manifest.get('homepage')}\nLicence: {manifest.get('licence')}\n"
        f"Put the files here:\n{layout}\n"
        f"Then: emotioncot ingest --corpus {str(manifest.get('ingest') or manifest['name'] + '=DIR').split()[0].replace('DIR', str(where))} --out BUILD"
    )


def download(url: str, target: Path, sha256: str | None = None, retries: int = 3, timeout: float = 60.0,
             progress: bool | None = None, log: Callable[[str], None] = print) -> str:
    """``url`` -> ``target`` with resume and checksum; returns the file's sha256."""
    target = Path(target)
    if target.is_file():
        digest = sha256_of(target)
        if sha256 is None or digest == sha256.lower():
            return digest
        target.unlink()  # a stale or corrupt earlier download
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    attempt = 0
    while True:
        try:
            _fetch(url, part, timeout, progress)
            break
        except (URLError, OSError, PullError) as exc:
            if isinstance(exc, HTTPError) and exc.code not in (408, 429, 500, 502, 503, 504):
                raise PullError(f"{url}: HTTP {exc.code} {exc.reason}") from None
            attempt += 1
            have = part.stat().st_size if part.exists() else 0
            if attempt > retries:
                raise PullError(_gave_up(url, exc, have, part)) from None
            what = f"download interrupted after {have:,} bytes" if have else f"could not download ({_why(exc)})"
            log(f"{what}; {'resuming' if have else 'trying again'} (try {attempt} of {retries})")
            time.sleep(min(5.0, 0.2 * attempt))
    digest = sha256_of(part)
    if sha256 is not None and digest != sha256.lower():
        part.unlink()
        raise ChecksumError(
            f"{url}: checksum mismatch for {target.name}: expected sha256 {sha256.lower()}, got {digest}. "
            "The file was deleted; run again to download it afresh, or check the manifest's checksum."
        )
    os.replace(part, target)
    return digest


def _why(exc: BaseException) -> str:
    """What went wrong, in the user's words: no network and a failed name lookup read "interrupted after 0
    bytes" before."""
    import socket

    reason = exc.reason if isinstance(exc, URLError) and not isinstance(exc, HTTPError) else exc
    if isinstance(reason, socket.gaierror):
        return f"the server's name could not be looked up: no network, or a DNS failure ({reason})"
    if isinstance(reason, (ConnectionRefusedError, ConnectionResetError, TimeoutError, socket.timeout)):
        return f"no connection to the server ({type(reason).__name__}: {reason})"
    if isinstance(reason, OSError) and reason.errno in (101, 113):  # network / host unreachable
        return f"no network route to the server ({reason})"
    return str(exc)


def _gave_up(url: str, exc: BaseException, have: int, part: Path) -> str:
    if not have:  # nothing arrived: there is no .part file to resume from
        part.unlink(missing_ok=True)
        return f"{url}: nothing downloaded: {_why(exc)}; run the same command again once the server can be reached"
    return (f"{url}: download interrupted after {have:,} bytes ({_why(exc)}); run the same command again to resume "
            f"from {part}")


def _fetch(url: str, part: Path, timeout: float, progress: bool | None) -> None:
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "emotioncot-pull"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        if exc.code == 416 and offset:
            return  # nothing after what we have: the part file is complete
        raise
    with response:
        if offset and response.status == 206:
            content_range = response.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                raise PullError(f"{url}: server resumed at the wrong place ({content_range!r})")
            mode = "ab"
        else:
            mode, offset = "wb", 0  # the server ignored Range: start again
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length is not None else None
        received = offset
        with open(part, mode) as fh, tqdm(total=expected, initial=offset, unit="B", unit_scale=True,
                                         desc=f"pull {part.name[:-5]}", disable=True if progress is False else None) as bar:
            while True:
                try:
                    block = response.read(CHUNK)
                except Exception as exc:  # http.client.IncompleteRead, connection reset
                    raise PullError(f"connection broke ({type(exc).__name__})") from None
                if not block:
                    break
                fh.write(block)
                received += len(block)
                bar.update(len(block))
            fh.flush()
            os.fsync(fh.fileno())
        if expected is not None and received < expected:
            raise PullError(f"connection closed at {received} of {expected} bytes")


def is_archive(name: str) -> bool:
    return name.endswith((".zip", ".tar", ".tar.gz", ".tgz"))


def unpack(archive: Path, into: Path) -> None:
    """Unpack safely (no member may land outside ``into``)."""
    into.mkdir(parents=True, exist_ok=True)
    root = into.resolve()
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    if not (root / member).resolve().is_relative_to(root):
                        raise PullError(f"{archive}: member {member!r} would unpack outside {into}")
                zf.extractall(into)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(into, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError) as exc:
        raise PullError(f"{archive}: not a readable archive ({exc})") from None


def _expand(entries: list[dict], dest: Path) -> list[dict]:
    out = []
    for entry in entries:
        if "range" in entry:
            lo, hi = entry["range"]
            out += [{**entry, "url": entry["url"].format(n=n), "filename": entry["filename"].format(n=n)} for n in range(lo, hi + 1)]
        elif "each_row_of" in entry:
            table = dest / entry["each_row_of"]
            if not table.is_file():
                raise PullError(f"{table}: needed to list the files to download; it should have been downloaded first")
            with open(table, newline="", encoding="utf-8-sig") as fh:
                values = [row[entry["column"]] for row in csv.DictReader(fh) if row.get(entry["column"])]
            out += [{**entry, "url": entry["url"].format(value=v), "filename": entry["filename"].format(value=v)} for v in values]
        else:
            out.append(entry)
    return out


def pull(name: str, dest: Path, manifest: dict | None = None, url: str | None = None, sha256: str | None = None,
         retries: int = 3, timeout: float = 60.0, progress: bool | None = None,
         log: Callable[[str], None] = print) -> PullResult:
    """Download, verify and unpack corpus ``name`` into ``dest``. ``url``/``sha256`` replace the manifest's
    (only for a corpus with one download)."""
    manifest = manifest or load_manifest(name)
    dest = Path(dest)
    if manifest.get("access") == "gated" or not manifest.get("download"):
        raise GatedCorpus(gated_instructions(manifest, dest))
    entries = [dict(e) for e in manifest["download"]]
    if url or sha256:
        if len(entries) != 1:
            raise PullError(f"{name} has {len(entries)} downloads; --url/--sha256 apply only to a corpus with one")
        entries[0].update({k: v for k, v in (("url", url), ("sha256", sha256)) if v})
    downloads = dest / ".downloads"
    result = PullResult(name=name, root=dest / manifest["root"] if manifest.get("root") else dest)
    pending = list(entries)
    while pending:
        # ``each_row_of`` entries need the files before them, so expand lazily, one entry at a time.
        for entry in _expand([pending.pop(0)], dest):
            filename = entry["filename"]
            archive = is_archive(filename)
            target = (downloads if archive else dest) / filename
            digest = download(entry["url"], target, entry.get("sha256"), retries, timeout, progress, log)
            result.files[filename] = digest
            if not entry.get("sha256"):
                result.unpinned.append(filename)
            if archive:
                marker = downloads / f"{filename}.unpacked"
                if not marker.is_file():
                    log(f"unpacking {filename}")
                    unpack(target, dest)
                    for nested in entry.get("nested") or []:
                        inner = dest / nested
                        if not inner.is_file():
                            raise PullError(f"{inner}: nested archive listed in the manifest is missing from {filename}")
                        unpack(inner, inner.parent)
                    marker.write_text(digest + "\n")
    record_path = dest / ".pull.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    record[name] = {"files": result.files, "unpinned": result.unpinned}
    write_json_atomic(record_path, record)
    if result.unpinned:
        log(f"note: {len(result.unpinned)} file(s) have no pinned checksum in the manifest; their sha256 is in {record_path}")
    spec = str(manifest.get("ingest") or f"{name}=DIR").split()[0]
    result.ingest_spec = spec.replace("DIR", str(dest))
    return result


def remove_downloads(dest: Path) -> None:
    shutil.rmtree(Path(dest) / ".downloads", ignore_errors=True)
