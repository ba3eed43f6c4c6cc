"""The building blocks of resumability: the journal, atomic validated tables, stable keys."""

from __future__ import annotations

import json

import pytest

from emotioncot.schema import Measurements, Utterance
from emotioncot.tables import TableValidationError, read_table, write_table
from emotioncot.workspace import Journal, stable_hash


def test_journal_drops_a_line_torn_by_a_kill_and_appends_cleanly(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.append("a", {"v": 1})
        j.append("b", {"v": 2})
    with open(path, "a") as fh:
        fh.write('{"key": "c", "v": 3')  # no newline: the process died mid-write
    j2 = Journal(path)
    assert "a" in j2 and "b" in j2 and "c" not in j2
    j2.append("c", {"v": 3})
    j2.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b", "c"]


def test_stable_hash_ignores_dict_order_and_sees_values():
    assert stable_hash({"a": 1, "b": 2}) == stable_hash({"b": 2, "a": 1})
    assert stable_hash({"a": 1}) != stable_hash({"a": 2})


def test_write_table_round_trips_dict_fields_and_names_a_bad_record(tmp_path):
    rows = [
        {"id": "u1", "corpus": "c", "audio_path": "/x.wav", "meta": {"k": [1, 2]}, "soft_labels": {"angry": 0.5}},
    ]
    path = write_table(tmp_path / "t.parquet", rows, Utterance)
    back = read_table(path, Utterance)
    assert back[0]["meta"] == {"k": [1, 2]} and back[0]["soft_labels"] == {"angry": 0.5}
    with pytest.raises(TableValidationError, match=r"'u2'.*emotion"):
        write_table(tmp_path / "bad.parquet", [{"id": "u2", "corpus": "c", "audio_path": "/x", "emotion": "ecstatic"}], Utterance)
    assert not (tmp_path / "bad.parquet").exists()
    assert not list(tmp_path.glob(".bad.parquet.*"))  # no temporary left behind


def test_measurements_reject_unknown_fields(tmp_path):
    with pytest.raises(TableValidationError, match="pitch_guess"):
        write_table(tmp_path / "m.parquet", [{"id": "x", "pitch_guess": 1.0}], Measurements)


def test_a_reopened_journal_holds_keys_not_texts(tmp_path):
    """Millions of LLM answers must not sit in memory: a journal reads an entry from its file when asked."""
    import tracemalloc

    path = tmp_path / "journal.jsonl"
    text = "x" * 10_000
    with Journal(path) as journal:
        for i in range(1000):
            journal.append(f"k{i}", {"id": f"r{i}", "text": f"{i} {text}"})
    tracemalloc.start()
    reopened = Journal(path)
    _, peak = tracemalloc.get_traced_memory()
    kept = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(stat.size for stat in kept.statistics("filename"))
    assert held < 1_000_000  # 10 MB of text in the file, well under 1 MB held
    assert peak < 2_000_000
    assert reopened.get("k517") == {"key": "k517", "id": "r517", "text": f"517 {text}"}
    assert len(reopened) == 1000 and "k999" in reopened and reopened.get("nope") is None
    reopened.close()
