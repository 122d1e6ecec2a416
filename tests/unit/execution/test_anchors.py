"""Trace anchors: behaviour preserved, values equal the tracer's states, loop policies, caps."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepcode.errors import ConfigError
from stepcode.execution import (
    AnchorPolicy,
    Job,
    instrument,
    occurrences,
    run_instrumented,
    run_jobs,
    run_program,
    trace_batch,
    trace_program,
)
from stepcode.types import ExecStatus

LOOPY = (
    "def f(xs):\n"
    "    total, n = 0, len(xs)\n"
    "    for x in xs:\n"
    "        total += x\n"
    "    while n > 2:\n"
    "        n -= 1\n"
    "    return total * n\n"
)


def test_display_and_runtime_share_line_numbers_and_map_original_lines():
    inst = instrument(LOOPY, AnchorPolicy(loops="every", max_hits=100))
    shown, run = inst.source.splitlines(), inst.runtime_source.splitlines()
    assert len(shown) == len(run)
    for orig_no, orig in enumerate(LOOPY.splitlines(), 1):
        if "return" not in orig:
            assert shown[inst.line_map[orig_no] - 1] == orig
    for spec in inst.anchors:
        assert shown[spec.line - 1].strip().startswith('print(f"')
        assert "__stepcode_anchor__" in run[spec.line - 1]


def test_tuple_targets_get_one_anchor_per_name_and_return_value_is_evaluated_once():
    code = "def f():\n    calls = []\n    a, b = 1, 2\n    return calls.append(a) or len(calls)\n"
    inst = instrument(code)
    r = run_instrumented(inst, "f()")
    assert r.return_value == "1"  # evaluated twice would give 2
    assert [(h.name, h.value) for h in r.anchors] == [
        ("calls", "[]"),
        ("a", "1"),
        ("b", "2"),
        ("return", "1"),
    ]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (AnchorPolicy(loops="none"), ["total", "n", "return"]),
        (AnchorPolicy(loops="first_k", k=1), ["total", "n", "total", "n", "return"]),
        (
            AnchorPolicy(loops="every", max_hits=100),
            ["total", "n", "total", "total", "total", "total", "n", "n", "return"],
        ),
    ],
)
def test_loop_policies(policy, expected):
    r = run_instrumented(instrument(LOOPY, policy), "f([1, 2, 3, 4])")
    assert [h.name for h in r.anchors] == expected
    assert r.return_value == "20"


def test_total_hits_are_capped_and_reported():
    r = run_instrumented(
        instrument(LOOPY, AnchorPolicy(loops="every", max_hits=3)), "f(list(range(50)))"
    )
    assert len(r.anchors) == 3 and r.truncated


def test_program_prints_never_mix_with_anchor_output():
    code = "def f(x):\n    print('y: 41')\n    y = x + 1\n    print('return: nope')\n    return y\n"
    r = run_instrumented(instrument(code), "f(1)")
    assert [(h.name, h.value) for h in r.anchors] == [("y", "2"), ("return", "2")]
    assert r.stdout == "y: 41\nreturn: nope\n"


def test_exceptions_mid_loop_keep_the_anchors_so_far():
    code = "def f(xs):\n    out = 0\n    for x in xs:\n        out += 10 // x\n    return out\n"
    r = run_instrumented(instrument(code, AnchorPolicy(loops="every")), "f([1, 0])")
    assert r.status is ExecStatus.ERROR
    assert [h.value for h in r.anchors] == ["0", "10"]


def test_policy_parsing():
    assert AnchorPolicy.parse("first_k:3").k == 3
    assert AnchorPolicy.parse("none").loops == "none"
    with pytest.raises(ConfigError):
        AnchorPolicy.parse("sometimes")


def test_unparsable_program_raises_syntax_error():
    with pytest.raises(SyntaxError):
        instrument("def f(:\n")


# ---- properties: same behaviour, anchors equal the tracer's states -------------------------

_names = st.sampled_from(["a", "b", "c", "d"])


@st.composite
def _programs(draw):
    lines = ["def f(x):", "    a = x", "    b = 1", "    c = []", "    d = ''"]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["assign", "aug", "for", "if", "tuple"]))
        n, m = draw(_names), draw(_names)
        expr = draw(
            st.sampled_from(
                [
                    f"len(str({m}))",
                    f"{m} if isinstance({m}, int) else 3",
                    "x * 2",
                    "[x, 1]",
                    "str(x)",
                ]
            )
        )
        if kind == "assign":
            lines.append(f"    {n} = {expr}")
        elif kind == "aug":
            lines.append(f"    {n} = {n} + {n}")
        elif kind == "tuple":
            lines.append(f"    {n}, {m} = {m}, {n}")
        elif kind == "for":
            lines += [f"    for i in range({draw(st.integers(0, 3))}):", f"        {n} = {expr}"]
        else:
            lines += [f"    if {m}:", f"        {n} = {expr}", "    else:", f"        {n} = x"]
    lines.append(f"    return [{draw(_names)}, {draw(_names)}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=_programs(), x=st.integers(-3, 5), policy=st.sampled_from(["none", "first_k", "every"]))
def test_instrumented_programs_behave_like_the_original(code, x, policy):
    inst = instrument(code, AnchorPolicy.parse(policy, max_hits=1000))
    call = f"f({x})"
    original, anchored = (
        r.result
        for r in run_jobs(
            [Job(code=code, call=call), Job(code=inst.runtime_source, call=call, anchors=True)]
        )
    )
    assert (original.status, original.return_value, original.stdout) == (
        anchored.status,
        anchored.return_value,
        anchored.stdout,
    )
    _assert_anchor_values_match_tracer(code, call, inst, anchored)


def _assert_anchor_values_match_tracer(code, call, inst, anchored):
    # the call as the program's last line: module-level anchors and the call's are one trace
    trace = trace_program(f"{code}\n_ = {call}\n")
    by_id = {a.anchor_id: a for a in inst.anchors}
    seen: dict[int, int] = {}
    for hit in anchored.anchors:
        spec = by_id[hit.anchor_id]
        k = seen.get(hit.anchor_id, 0)
        seen[hit.anchor_id] = k + 1
        if spec.kind == "return":
            continue
        idx = occurrences(trace, spec.orig_line)[k]
        after = trace.events[idx + 1] if idx + 1 < len(trace.events) else trace.events[idx]
        if after.frame_id == trace.events[idx].frame_id and spec.name in after.locals:
            assert after.locals[spec.name].repr == hit.value, (spec, hit)


def test_cruxeval_programs_keep_their_outputs_when_instrumented(cruxeval_path):
    _check_cruxeval([json.loads(line) for line in cruxeval_path.read_text().splitlines()][:200])


@pytest.mark.slow
def test_all_800_cruxeval_programs_keep_their_outputs_when_instrumented(cruxeval_path):
    _check_cruxeval([json.loads(line) for line in cruxeval_path.read_text().splitlines()])


def _check_cruxeval(items):
    jobs = []
    for it in items:
        inst = instrument(it["code"], AnchorPolicy(loops="every", max_hits=10_000))
        jobs.append(Job(code=inst.runtime_source, call=f"f({it['input']})", anchors=True))
    results = run_jobs(jobs)
    gold = run_jobs([Job(code=it["code"], call=f"f({it['input']})") for it in items])
    mismatches = [
        it["id"]
        for it, r, g in zip(items, results, gold, strict=True)
        if r.result.return_value != g.result.return_value
    ]
    assert not mismatches
    traces = trace_batch([(it["code"], f"f({it['input']})") for it in items[:150]])
    for it, tr in zip(items[:150], traces, strict=True):
        inst = instrument(it["code"], AnchorPolicy(loops="every", max_hits=10_000))
        anchored = run_instrumented(inst, f"f({it['input']})")
        _assert_anchor_values_match_tracer(it["code"], f"f({it['input']})", inst, anchored)
        assert tr.status is ExecStatus.OK
    assert run_program("x = 1", call="x").return_value == "1"
