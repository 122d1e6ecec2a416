"""State questions read as REval reads them (official: the cross product over a line's states) and
as they really were at run time (strict); checked against an in-process REval-style reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from reval_reference import reval_states, reval_values, run_time_values, value_set

from stepcode.eval.benchmarks import reval
from stepcode.eval.benchmarks import reval_answers as ra
from stepcode.eval.benchmarks import reval_values as rv
from stepcode.types import Trace, TraceEvent, VarState

# the HumanEval-part questions where REval's product holds values no single state had
CROSS = {("DREval/29#0", "frq[i]"), ("DREval/29#1", "frq[i]"), ("DREval/29#4", "frq[i]"),
         ("DREval/59#1", "count_digit[i]"), ("DREval/59#2", "count_digit[i]"),
         ("DREval/59#3", "count_digit[i]"), ("DREval/59#4", "count_digit[i]"),
         ("DREval/69#0", "(start, end)"), ("DREval/69#1", "(start, end)"),
         ("DREval/69#2", "(start, end)"), ("DREval/69#3", "(start, end)"),
         ("DREval/69#4", "(start, end)")}  # fmt: skip


def _humaneval(reval_dir: Path, idxs: set[int] | None = None) -> tuple[list, list]:
    pairs, _ = reval.load_reval(reval_dir, limit=85)
    pairs = [p for p in pairs if idxs is None or p.idx in idxs]
    return pairs, reval.trace_items(pairs)


def _ours(trace: Trace, line: int, var: str, mode: str) -> set | None:
    vals = rv.question_values(trace, line, var, mode, ra.parse_actual)  # type: ignore[arg-type]
    assert vals.exact
    return None if vals.values is None else {(v.repr, v.type) for v in vals.values}


def _agreement(pairs: list, traces: list) -> tuple[int, set, int]:
    """(questions, those where REval's values differ from the run-time ones, disagreements)"""
    n, cross, wrong = 0, set(), 0
    for p, tr in zip(pairs, traces, strict=True):
        states = reval_states(p.code, f"{p.entry_point}(*{p.input})")
        for q in p.questions:
            n += 1
            official = value_set(reval_values(states, q.lineno, q.var))
            strict = value_set(run_time_values(states, q.lineno, q.var))
            wrong += _ours(tr, q.lineno, q.var, "official") != official
            wrong += _ours(tr, q.lineno, q.var, "strict") != strict
            if official != strict:
                cross.add((p.pair_id, q.var))
    return n, cross, wrong


def test_cross_product_questions_read_as_reval_reads_them(reval_dir: Path) -> None:
    pairs, traces = _humaneval(reval_dir, {29, 59, 69})
    n, cross, wrong = _agreement(pairs, traces)
    assert cross == CROSS and wrong == 0 and n >= 12


@pytest.mark.slow
def test_every_humaneval_state_question_agrees_with_reval(reval_dir: Path) -> None:
    pairs, traces = _humaneval(reval_dir)
    n, cross, wrong = _agreement(pairs, traces)
    assert (n, cross, wrong) == (1157, CROSS, 0)


def _judge(pair, trace, answers: list[str], mode: str) -> list[bool]:
    gens = [f"{a}\n[/ANSWER]" for a in answers]
    return [r.correct for r in reval.judge(pair, trace, "state", gens, cot=False, mode=mode)]  # type: ignore[arg-type]


def test_official_credits_what_reval_credits_strict_what_ran(reval_dir: Path) -> None:
    """``search([4, 1, 2, 2, 3, 1])``: ``frq[i]`` on line 15 runs with ``frq = [0, 2, 2, 1, 1]``
    and ``i`` 1..4; REval pairs every ``frq`` with every ``i``, and the ``frq`` of the first
    iteration still holds zeros, so ``0; int`` is right for REval, never true at run time."""
    pairs, traces = _humaneval(reval_dir, {29, 69})
    by_id = {p.pair_id: (p, t) for p, t in zip(pairs, traces, strict=True)}
    pair, trace = by_id["DREval/29#0"]
    q = next(i for i, x in enumerate(pair.questions) if x.var == "frq[i]")
    padded = [""] * len(pair.questions)
    for answer, official, strict in (("0; int", True, False), ("2; int", True, True), ("7; int", False, False)):  # fmt: skip
        padded[q] = answer
        assert _judge(pair, trace, padded, "official")[q] is official, answer
        assert _judge(pair, trace, padded, "strict")[q] is strict, answer
    pair, trace = by_id["DREval/69#0"]  # fix_spaces: (start, end) pairs across iterations
    q = next(i for i, x in enumerate(pair.questions) if x.var == "(start, end)")
    padded = [""] * len(pair.questions)
    padded[q] = "(1, 3); tuple"
    assert (
        _judge(pair, trace, padded, "official")[q] and not _judge(pair, trace, padded, "strict")[q]
    )


def test_summary_says_which_values_were_used(reval_dir: Path) -> None:
    from stepcode.eval.benchmarks import get_benchmark

    bench = get_benchmark("reval-state")
    items = bench.load(str(reval_dir), limit=1)
    for mode in ("official", "strict"):
        report = bench.score(items, {it.item_id: ["Nil"] for it in items}, mode=mode)  # type: ignore[arg-type]
        assert report.mode == mode and any(f"state values: {mode}" in n for n in report.notes)
        assert report.summary["state_inexact"] == 0.0


def _trace(states: list[dict[str, str]], line: int = 2) -> Trace:
    """A trace whose line ``line`` runs once per entry of ``states`` (locals as reprs), each
    followed by a state of line 3 holding them."""
    from stepcode.types import ExecStatus, ExecutionResult

    events = []
    for s in states:
        events.append(TraceEvent(line=line, func="f", frame_id=1, locals={}))
        events.append(TraceEvent(line=3, func="f", frame_id=1,
                                 locals={k: VarState(repr=v, type=type(eval(v)).__name__) for k, v in s.items()}))  # noqa: S307  # fmt: skip
    result = ExecutionResult(status=ExecStatus.OK)
    return Trace(code="", call=None, result=result, events=tuple(events))


@pytest.mark.parametrize(
    ("var", "official", "strict"),
    [("a[i]", {"10", "20", "11", "21"}, {"10", "21"}),
     ("(i, a[0])", {"(0, 10)", "(1, 10)", "(0, 11)", "(1, 11)"}, {"(0, 10)", "(1, 11)"}),
     ("a[i:]", None, {"[10, 20]", "[21]"}),  # REval reads no slice: Nil
     ("a[i + 1]", None, {"20"}),  # nor an expression index
     ("a[5]", None, None), ("d['k']", {"1"}, {"1"}), ("a + a", None, {"[10, 20, 10, 20]", "[11, 21, 11, 21]"})],
)  # fmt: skip
def test_interpreter_forms(var: str, official: set | None, strict: set | None) -> None:
    tr = _trace([{"a": "[10, 20]", "i": "0", "d": "{'k': 1}"}, {"a": "[11, 21]", "i": "1"}])
    watched = _watch(tr, var)
    got = {m: rv.question_values(watched, 2, var, m, ra.parse_actual).values for m in ("official", "strict")}  # type: ignore[arg-type]  # fmt: skip
    assert (None if got["official"] is None else {v.repr for v in got["official"]}) == official
    assert (None if got["strict"] is None else {v.repr for v in got["strict"]}) == strict


def _watch(tr: Trace, var: str) -> Trace:
    """What the tracer's ``watch`` adds: the expression evaluated in each state's locals."""
    import dataclasses

    events = []
    for e in tr.events:
        env = {k: eval(v.repr) for k, v in e.locals.items()}  # noqa: S307
        extra = {}
        for w in rv.watch_expressions(var):
            try:
                value = eval(w, {}, env)  # noqa: S307
            except Exception:  # noqa: BLE001
                continue
            extra[w] = VarState(repr=repr(value), type=type(value).__name__)
        events.append(dataclasses.replace(e, locals={**e.locals, **extra}))
    return dataclasses.replace(tr, events=tuple(events))


def test_parts_with_no_literal_fall_back_to_strict_and_are_counted() -> None:
    tr = _trace([{"i": "0"}, {"i": "1"}])
    obj = VarState(repr="<Box object at 0x1>", type="Box")
    events = [e if e.line != 3 else type(e)(line=3, func="f", frame_id=1, locals={**e.locals, "b": obj})
              for e in tr.events]  # fmt: skip
    import dataclasses

    tr = dataclasses.replace(tr, events=tuple(events))
    vals = rv.question_values(tr, 2, "b[i]", "official", ra.parse_actual)
    assert not vals.exact and vals.values is None  # b[i] never evaluated in a state: strict Nil
    one = dataclasses.replace(tr, events=tr.events[:2])
    assert rv.question_values(one, 2, "b[i]", "official", ra.parse_actual).exact  # one state


def test_huge_products_are_bounded() -> None:
    states = [{"a": repr(list(range(k, k + 3))), "i": str(k % 3)} for k in range(400)]
    tr = _trace(states)
    vals = rv.question_values(tr, 2, "(a, i, a)", "official", ra.parse_actual)
    assert not vals.exact  # 400 * 3 * 400 distinct combinations > MAX_PRODUCT: strict stands in
    vals = rv.question_values(tr, 2, "a[i]", "official", ra.parse_actual)
    assert vals.exact and {v.repr for v in vals.values} == {str(x) for x in range(402)}


def test_equality_official_compares_every_actual_strict_only_same_type() -> None:
    mixed = [VarState(repr="True", type="bool"), VarState(repr="2", type="int")]
    assert ra.state_equal((1, "int"), mixed, "official")  # REval: 1 in [True, 2]
    assert not ra.state_equal((1, "int"), mixed, "strict")
    nums = [VarState(repr="2", type="int"), VarState(repr="2.5", type="float")]
    assert ra.state_equal((2.0, "float"), nums, "official")  # abs(2.0 - 2) < 1e-6
    assert not ra.state_equal((2.0, "float"), nums, "strict")
    assert not ra.state_equal((2, "int"), [VarState(repr="2.0", type="float")], "official")
