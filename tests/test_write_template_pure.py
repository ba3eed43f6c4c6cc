"""The template writer is a pure function of the record's TEMPLATE_INPUTS (issue 32: the write stage runs
in shards on the executor): it reads no other field, changes nothing, and shards give the rows of one pass,
in this process and in a fresh one."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from emotioncot.write.template import TEMPLATE_INPUTS, write_template, write_template_batch


class Reads(dict):
    """A record that notes every field read from it."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


@pytest.fixture(scope="module")
def records(demo_build) -> list[dict]:
    from emotioncot.pipeline import load_records
    from emotioncot.workspace import Workspace

    return load_records(Workspace(demo_build), with_texts=False)


def test_the_writer_reads_only_its_inputs_and_changes_nothing(records):
    read: set[str] = set()
    for rec in records:
        before = copy.deepcopy(rec)
        probe = Reads(rec)
        row = write_template(probe)
        read |= probe.read
        assert rec == before
        # the same text from the inputs alone, which is all the write stage hands its workers
        assert write_template({k: rec[k] for k in TEMPLATE_INPUTS if k in rec}) == row
    assert read <= set(TEMPLATE_INPUTS), read - set(TEMPLATE_INPUTS)
    assert {"id", "emotion", "pitch_level", "f0_median_hz", "level_group"} <= read


def test_shards_and_a_fresh_process_give_the_rows_of_one_pass(records, tmp_path):
    rows, errors = write_template_batch(records)
    assert len(rows) == len(records) and errors == []
    shards = [write_template_batch(records[i : i + 17]) for i in range(0, len(records), 17)]
    assert [r for shard_rows, _ in shards for r in shard_rows] == rows
    assert write_template_batch(records[::-1])[0] == rows[::-1]
    # another process, another hash seed: the same text
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records[:40], default=str))
    code = ("import json, sys; from emotioncot.write.template import write_template_batch; "
            f"print(json.dumps(write_template_batch(json.load(open({str(path)!r})))[0]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == rows[:40]


def test_a_record_the_writer_cannot_write_is_an_error_of_its_batch(records):
    bad = {**records[0], "id": "no-label", "emotion": None, "audio_path": "/data/x.wav"}
    rows, errors = write_template_batch([records[1], bad, records[2]])
    assert [r["id"] for r in rows] == [records[1]["id"], records[2]["id"]]
    assert errors == [{"id": "no-label", "path": "/data/x.wav",
                       "reason": "the template writer needs the gold emotion (label-aware mode); use --writer openai "
                                 "for label-blind rationales"}]
