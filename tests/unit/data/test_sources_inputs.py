"""Real-code sources (files, jsonl, a local HF dataset) and execution-checked inputs."""

from __future__ import annotations

import ast
import json
import random

import pytest

from stepcode.data.build import verify_real_inputs
from stepcode.data.config import DataBuildConfig, InputsSection, SourceSpec
from stepcode.data.inputs import candidate_inputs, mutate_value, param_kinds
from stepcode.data.sources import clean_module, load_source
from stepcode.errors import ConfigError, DataError

TYPED = "def count_vowels(text: str, extra: list[int]) -> int:\n    return sum(c in 'aeiou' for c in text) + len(extra)\n"
SCRIPT = "import math\n\ndef area(r):\n    return round(math.pi * r * r, 2)\n\nprint(area(2))\n"


def test_clean_module_keeps_stdlib_definitions_only() -> None:
    code, entry = clean_module(SCRIPT)
    assert entry == "area" and "print(" not in code and "import math" in code
    assert clean_module("import numpy\n\ndef f(x):\n    return x\n") is None
    assert clean_module("x = 1\n") is None


def test_files_source_and_missing_dir(tmp_path) -> None:
    (tmp_path / "a.py").write_text(SCRIPT)
    (tmp_path / "b.py").write_text("def broken(:\n")
    progs, skipped = load_source(SourceSpec(kind="files", path=str(tmp_path)))
    assert [p.entry_point for p in progs] == ["area"] and skipped == 1
    with pytest.raises(DataError, match="not a directory"):
        load_source(SourceSpec(kind="files", path=str(tmp_path / "nope")))


def test_jsonl_and_hf_sources_with_column_mapping(tmp_path) -> None:
    rows = [{"src": TYPED, "example": "'banana', [1]"}, {"src": SCRIPT, "example": "3"}]
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = SourceSpec(
        kind="jsonl", path=str(tmp_path / "r.jsonl"), code_column="src", input_column="example"
    )
    progs, _ = load_source(spec)
    assert [p.input_args for p in progs] == ["'banana', [1]", "3"]
    import datasets

    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "ds.parquet"))
    hf = SourceSpec(kind="hf", path="parquet", data_files=str(tmp_path / "ds.parquet"), code_column="src",
                    input_column="example")  # fmt: skip
    hf_progs, _ = load_source(hf)
    assert [p.code for p in hf_progs] == [p.code for p in progs]
    with pytest.raises(DataError, match="no column"):
        load_source(SourceSpec(kind="hf", path="parquet", data_files=str(tmp_path / "ds.parquet")))
    with pytest.raises(ConfigError):
        SourceSpec(kind="jsonl", path="")


def test_param_kinds_from_annotations_examples_and_names() -> None:
    assert param_kinds(TYPED, "count_vowels") == ["str", "lint"]
    assert param_kinds("def f(a, b):\n    return a", "f", ["x", {"k": 1}]) == ["str", "dict"]
    assert param_kinds("def f(nums, s, k):\n    return k", "f") == ["lint", "str", "int"]


def test_mutation_keeps_type_and_candidates_are_distinct_literals() -> None:
    rng = random.Random(0)
    for v in (5, "hello", [1, 2, 3], ("a", 1), {"a": 1}, 2.5):
        assert type(mutate_value(v, rng)) is type(v)
    cands = candidate_inputs(TYPED, "count_vowels", "'banana', [1]", 6, random.Random(1))
    assert cands[0] == "'banana', [1]" and len(set(cands)) == len(cands) == 6
    for c in cands:
        ast.literal_eval(f"({c},)")


def test_verified_inputs_run_and_round_trip(tmp_path) -> None:
    flaky = "import random\n\ndef f(n: int):\n    return random.random() + n\n"
    slow = "def f(n: int):\n    while True:\n        n += 1\n"
    (tmp_path / "a.py").write_text(TYPED)
    (tmp_path / "b.py").write_text(flaky)
    (tmp_path / "c.py").write_text(slow)
    progs, _ = load_source(SourceSpec(kind="files", path=str(tmp_path)))
    cfg = DataBuildConfig(inputs=InputsSection(per_program=3, attempts=6), timeout_s=0.5)
    kept = verify_real_inputs(progs, cfg)
    assert {p.entry_point for p in kept} == {"count_vowels"}  # nondeterministic / endless dropped
    assert len(kept) == 3
    for p in kept:
        ns: dict = {}
        exec(p.code, ns)
        assert repr(ns[p.entry_point](*ast.literal_eval(f"({p.input_args},)"))) == p.output
