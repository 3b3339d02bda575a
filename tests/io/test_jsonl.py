"""JSON-lines files: one reader/writer; appends are linear and survive a torn last line."""

from __future__ import annotations

import pytest

from photo3d.errors import InputError
from photo3d.io import append_jsonl, read_jsonl, write_jsonl


def test_append_read_and_rewrite(tmp_path):
    path = tmp_path / "log.jsonl"
    assert read_jsonl(path) == []
    append_jsonl(path, [{"a": 1}])
    append_jsonl(path, [{"a": 2}, {"a": float("inf")}])
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}, {"a": float("inf")}]
    write_jsonl(path, [{"b": 1}])
    assert path.read_text() == '{"b": 1}\n'


def test_a_torn_last_line_is_dropped_and_repaired(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"id": 1}\n{"id": 2, "metr')  # a crash in the middle of an append
    assert read_jsonl(path) == [{"id": 1}]
    with pytest.raises(InputError, match="results.jsonl:2: not JSON"):
        read_jsonl(path, torn_tail="error")
    append_jsonl(path, [{"id": 3}])
    assert path.read_text() == '{"id": 1}\n{"id": 3}\n'


def test_a_bad_line_in_the_middle_names_file_and_line(tmp_path):
    path = tmp_path / "manifest.jsonl"
    path.write_text('{"id": 1}\nnot json\n{"id": 3}\n')
    with pytest.raises(InputError, match=r"manifest.jsonl:2: not JSON"):
        read_jsonl(path)
    with pytest.raises(InputError, match="no such file"):
        read_jsonl(tmp_path / "missing.jsonl", missing_ok=False)
