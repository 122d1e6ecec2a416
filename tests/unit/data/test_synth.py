"""The synthesizer: reproducible, valid, execution-verified, and the level controls difficulty."""

from __future__ import annotations

import ast
import statistics

import pytest

from stepcode.data.synth import LEVELS, synthesize_candidates, synthesize_programs
from stepcode.execution import run_batch, trace_batch


@pytest.fixture(scope="module")
def per_level():
    return {lv: synthesize_programs(lv, 24, seed=3) for lv in LEVELS}


def _cf_depth(code: str) -> int:
    """Nesting depth of control flow: deepest indentation inside ``def`` minus one (elif = same)."""
    indents = [len(x) - len(x.lstrip()) for x in code.splitlines() if x.strip()]
    return max(indents) // 4 - 1


def _ops(code: str) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            fn = node.func
            out.add(fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "?"))
        elif isinstance(node, ast.BinOp | ast.Compare | ast.Subscript):
            out.add(type(node).__name__ + type(getattr(node, "op", node)).__name__)
    return out


def test_same_seed_same_programs_and_other_seed_differs() -> None:
    a = synthesize_programs(2, 6, seed=11)
    b = synthesize_programs(2, 6, seed=11)
    c = synthesize_programs(2, 6, seed=12)
    assert a == b
    assert [p.code for p in a] != [p.code for p in c]


def test_every_level_gives_the_requested_count_of_valid_programs(per_level) -> None:
    for lv, progs in per_level.items():
        assert len(progs) == 24, lv
        for p in progs:
            assert p.level == lv and p.entry_point == "f"
            ast.parse(p.code)
            assert p.input_args is not None and p.output is not None
            assert ast.literal_eval(p.output) is not None or p.output == "None"


def test_emitted_triples_reverify_by_execution(per_level) -> None:
    sample = [p for progs in per_level.values() for p in progs[:6]]
    results = run_batch([(f"{p.code}\n__r = {p.entry_point}({p.input_args})") for p in sample])
    again = run_batch(
        [
            __import__("stepcode.execution", fromlist=["Job"]).Job(
                code=p.code, call=f"f({p.input_args})"
            )
            for p in sample
        ]
    )
    for p, r1, r2 in zip(sample, results, again, strict=True):
        assert r1.ok, (p.code, r1.error)
        assert r2.return_value == p.output, p.code


def test_level_controls_difficulty(per_level) -> None:
    depth = {lv: statistics.mean(_cf_depth(p.code) for p in ps) for lv, ps in per_level.items()}
    ops = {lv: statistics.mean(len(_ops(p.code)) for p in ps) for lv, ps in per_level.items()}
    steps = {}
    for lv, ps in per_level.items():
        traces = trace_batch([(p.code, f"f({p.input_args})") for p in ps])
        steps[lv] = statistics.mean(len(t.events) for t in traces)
    # control flow: none at 1-2, exactly 1, 2, 3 nested levels at 3, 4, 5
    assert depth[1] == depth[2] == 0
    assert depth[3] == 1 and depth[4] == 2 and depth[5] == 3
    assert ops[2] > ops[1]  # other builtin methods from level 2
    assert steps[5] > steps[3] > steps[1]
    assert all("def g(" in p.code and "g(" in p.code.split("def f(")[1] for p in per_level[6])


def test_small_level1_is_the_tiny_model_regime(per_level) -> None:
    for p in per_level[1]:
        assert len(p.code.splitlines()) <= 6
        assert len(p.input_args) <= 20 and len(p.output) <= 40, (p.input_args, p.output)


def test_paper_size_uses_execverify_ranges() -> None:
    progs = synthesize_candidates(2, 40, seed=5, size="paper")
    ints = [v for p in progs for v in ast.walk(ast.parse(p.input_args)) if isinstance(v, ast.List)]
    assert ints and all(5 <= len(x.elts) <= 15 for x in ints)


def test_bad_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="level"):
        synthesize_candidates(7, 1, 0)
