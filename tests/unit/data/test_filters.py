"""Normalisation, duplicates and decontamination (renamed benchmark programs are still caught)."""

from __future__ import annotations

import json

from stepcode.data.filters import Decontaminator, load_benchmark_programs, near_key, normalize_code

CRUX_LIKE = """def f(text):
    new_text = list(text)
    for i in '+':
        if i in new_text:
            new_text.remove(i)
    return ''.join(new_text)
"""
RENAMED = '''def solve(s):
    """Drop plus signs."""
    chars = list(s)
    for ch in '+':
        if ch in chars:
            chars.remove(ch)
    return ''.join(chars)
'''


def test_normalize_renames_identifiers_but_keeps_builtins_and_methods() -> None:
    assert normalize_code(CRUX_LIKE) == normalize_code(RENAMED)
    norm = normalize_code(CRUX_LIKE)
    assert "list(" in norm and ".remove(" in norm and "text" not in norm
    assert normalize_code("def f(:") is None


def test_near_key_ignores_constants_but_not_structure() -> None:
    assert near_key("def f(x):\n    return x + 1") == near_key("def g(y):\n    return y + 7")
    assert near_key("def f(x):\n    return x + 1") != near_key("def f(x):\n    return x * 1")


def test_decontaminator_names_the_overlapping_item() -> None:
    dec = Decontaminator(10)
    dec.add("bench", [("item_a", "def f(a):\n    return sorted(a)[::-1]"), ("item_b", CRUX_LIKE)])
    hit = dec.check("mine", RENAMED)
    assert hit is not None and (hit.benchmark, hit.item_id) == ("bench", "item_b")
    assert hit.shared_ngrams > 5
    assert (
        dec.check(
            "other",
            "def f(n):\n    total = 0\n    while n:\n        total += n % 10\n        n //= 10\n    return total",
        )
        is None
    )


def test_planted_cruxeval_program_is_caught_with_renamed_variables(cruxeval_path) -> None:
    items = load_benchmark_programs(str(cruxeval_path), "cruxeval")
    assert len(items) == 800
    dec = Decontaminator(10)
    dec.add("cruxeval", items)
    item_id, code = items[137]
    renamed = normalize_code(code)  # every identifier renamed to v0, v1, ...
    hit = dec.check("planted", renamed.replace("v0", "my_func").replace("v1", "arg"))
    assert hit is not None and hit.item_id == item_id
    # a fresh synthesized program shares no 10-gram with CRUXEval
    from stepcode.data.synth import synthesize_programs

    clean = [
        p for p in synthesize_programs(3, 8, seed=1) if dec.check(p.program_id, p.code) is None
    ]
    assert len(clean) >= 7


def test_benchmark_programs_load_from_jsonl_and_dirs(tmp_path) -> None:
    (tmp_path / "b.jsonl").write_text(json.dumps({"task_id": "t1", "code": CRUX_LIKE}) + "\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.py").write_text(CRUX_LIKE)
    assert load_benchmark_programs(str(tmp_path / "b.jsonl"), "b") == [("t1", CRUX_LIKE)]
    assert load_benchmark_programs(str(tmp_path / "d"), "d") == [("x.py", CRUX_LIKE)]
