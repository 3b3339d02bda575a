import json

import pytest

from photo3d.data.sources import asset_source, prompt_source, read_prompt_records, safe_key
from photo3d.errors import InputError


def test_diffusiondb_formats(tmp_path):
    (tmp_path / "bench.json").write_text(json.dumps([{"id": "005695-0057", "prompt": "a concept art of a vehicle"},
                                                     {"id": "005784-0093", "prompt": "desolate space"}]))
    (tmp_path / "refl.json").write_text(json.dumps([{"text": "brittle, abstract ", "image": "000044-0048"}]))
    (tmp_path / "db.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"diffusiondb_id": "005695-0057", "subset": "benchmark", "prompt": "a cat"},
        {"diffusiondb_id": "005695-0057", "subset": "test", "prompt": "a cat"},       # exact duplicate: dropped
        {"diffusiondb_id": "005695-0057", "subset": "refl", "prompt": "another cat"},  # same id, new prompt
    ]) + "\n")
    (tmp_path / "lines.txt").write_text("a red chair\n\na blue vase\n")
    bench = prompt_source(tmp_path / "bench.json")
    assert [(s.key, s.index) for s in bench] == [("005695-0057", 0), ("005784-0093", 1)]
    refl = prompt_source(tmp_path / "refl.json")
    assert refl[0].key == "000044-0048" and refl[0].prompt == "brittle, abstract"
    db = prompt_source(tmp_path / "db.jsonl")
    assert [s.key for s in db] == ["005695-0057", "005695-0057~1"]
    assert db[0].meta["subset"] == "benchmark"
    txt = prompt_source(tmp_path / "lines.txt")
    assert [s.prompt for s in txt] == ["a red chair", "a blue vase"] and txt[1].key == "000001"
    lst = prompt_source(["x", "y", "z"], offset=1, limit=1)
    assert [(s.key, s.index, s.prompt) for s in lst] == [("000001", 0, "y")]


def test_parquet_and_errors(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"image_name": ["f3a1.png", "b2c4.png"], "prompt": ["a mug", "a lamp"]}),
                   tmp_path / "metadata.parquet")
    recs = read_prompt_records(tmp_path / "metadata.parquet")
    assert recs[0][:2] == ("f3a1", "a mug")
    (tmp_path / "bad.json").write_text("[{\"nope\": 1}]")
    with pytest.raises(InputError, match="bad.json"):
        prompt_source(tmp_path / "bad.json")
    with pytest.raises(InputError, match="no such prompt file"):
        prompt_source(tmp_path / "missing.txt")
    key = safe_key("../a b/c")
    assert "/" not in key and not key.startswith(".") and key.endswith("a_b_c")


def test_asset_source(tiny_assets, tmp_path):
    (tmp_path / "names.json").write_text(json.dumps({"obj_01": "a ceramic cylinder"}))
    samples = asset_source(tiny_assets, asset_prompts=tmp_path / "names.json")
    assert [s.key for s in samples] == ["obj_00", "obj_01", "obj_02", "obj_03"]
    assert samples[1].prompt == "a ceramic cylinder" and samples[0].prompt == "obj 00"
    with pytest.raises(InputError):
        asset_source(tmp_path / "nothing")
