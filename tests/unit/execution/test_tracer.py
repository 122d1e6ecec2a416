"""Tracer semantics on hand-checked small programs (REval rules)."""

from __future__ import annotations

from stepcode.execution import coverage, next_lines, next_lines_of, states_after, trace_program
from stepcode.types import ExecStatus, Limits


def _lines(trace, func=None):
    return [e.line for e in trace.events if func is None or e.func == func]


def test_loop_with_continue_and_for_else():
    code = (
        "def f(xs):\n"  # 1
        "    total = 0\n"  # 2
        "    for x in xs:\n"  # 3
        "        if x % 2:\n"  # 4
        "            continue\n"  # 5
        "        total += x\n"  # 6
        "    else:\n"  # 7
        "        total += 100\n"  # 8
        "    return total\n"  # 9
    )
    t = trace_program(code, "f([1, 2])")
    assert t.return_value == "102"
    assert _lines(t, "f") == [2, 3, 4, 5, 3, 4, 6, 3, 8, 9]
    assert coverage(t) == {2, 3, 4, 5, 6, 8, 9}  # with a call, only the call is traced (REval)
    assert next_lines_of(t, 3) == {4, 8}
    assert next_lines_of(t, 4) == {5, 6}
    assert next_lines_of(t, 9) == {-1}
    assert next_lines_of(t, 7) == {-1}  # never a traced line: REval's "not executed"
    assert [s["total"].repr for s in states_after(t, 6)] == ["2"]
    assert [s["total"].repr for s in states_after(t, 8)] == ["102"]


def test_break_skips_else():
    code = "def f(xs):\n    for x in xs:\n        if x > 1:\n            break\n    else:\n        return -1\n    return x\n"
    t = trace_program(code, "f([1, 2, 3])")
    assert t.return_value == "2"
    assert 6 not in coverage(t)
    assert next_lines_of(t, 4) == {7}


def test_try_finally_and_exception_mid_loop():
    code = (
        "def f(xs):\n"  # 1
        "    out = []\n"  # 2
        "    try:\n"  # 3
        "        for x in xs:\n"  # 4
        "            out.append(10 // x)\n"  # 5
        "    finally:\n"  # 6
        "        out.append('done')\n"  # 7
        "    return out\n"  # 8
    )
    t = trace_program(code, "f([5, 0, 1])")
    assert t.status is ExecStatus.ERROR and "ZeroDivisionError" in t.result.error
    assert 7 in coverage(t) and 8 not in coverage(t)
    assert [e.exception for e in t.events if e.line == 5] == [None, "ZeroDivisionError"]
    # line 7 is the last state: REval reads it itself, with the locals from before it ran
    assert t.events[-1].line == 7 and t.events[-1].event == "return"
    assert [s["out"].repr for s in states_after(t, 7)] == ["[2]"]


def test_recursion_records_every_frame():
    code = "def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\n"
    t = trace_program(code, "fact(3)")
    assert t.return_value == "6"
    frames = {e.frame_id for e in t.events if e.func == "fact"}
    assert len(frames) == 3
    assert next_lines_of(t, 2) == {3, 4}


def test_closure_with_nonlocal_and_helper_frames():
    code = (
        "def f():\n"  # 1
        "    count = 0\n"  # 2
        "    def bump():\n"  # 3
        "        nonlocal count\n"  # 4
        "        count += 1\n"  # 5
        "    bump()\n"  # 6
        "    bump()\n"  # 7
        "    return count\n"  # 8
    )
    t = trace_program(code, "f()")
    assert t.return_value == "2"
    assert [e.func for e in t.events if e.line == 5] == ["bump", "bump"]
    assert next_lines_of(t, 6) == {5}  # the next state is the helper's line
    assert next_lines_of(t, 5) == {7, 8}


def test_generators_and_comprehensions_are_traced():
    code = (
        "def gen(n):\n"
        "    for i in range(n):\n"
        "        yield i * i\n"
        "def f(n):\n"
        "    squares = [v for v in gen(n)]\n"
        "    return squares\n"
    )
    t = trace_program(code, "f(3)")
    assert t.return_value == "[0, 1, 4]"
    assert {"gen", "<listcomp>", "f"} <= {e.func for e in t.events}
    assert all(not k.startswith(".") for e in t.events for k in e.locals)


def test_classes_methods_and_watched_attributes():
    code = (
        "class Box:\n"
        "    def __init__(self, v):\n"
        "        self.v = v\n"
        "    def grow(self):\n"
        "        self.v += 1\n"
        "        return self.v\n"
        "def f():\n"
        "    b = Box(1)\n"
        "    b.grow()\n"
        "    return b.v\n"
    )
    t = trace_program(code, "f()", watch=("self.v",))
    assert t.return_value == "2"
    assert [s["self.v"].repr for s in states_after(t, 5)] == ["2"]
    assert "__init__" in {e.func for e in t.events}


def test_aliasing_and_mutation_are_seen_in_later_states():
    code = "def f():\n    a = [1]\n    b = a\n    b.append(2)\n    return a\n"
    t = trace_program(code, "f()")
    assert [s["a"].repr for s in states_after(t, 4)] == ["[1, 2]"]
    assert states_after(t, 4)[0]["a"].type == "list"


def test_same_line_events_merge_into_one_state():
    code = "def f():\n    i = 0\n    while i < 5: i += 1\n    return i\n"
    t = trace_program(code, "f()")
    assert _lines(t, "f") == [2, 3, 4]
    assert next_lines(t)[3] == {4}


def test_programs_that_print_anchor_like_text_trace_normally():
    code = "def f(x):\n    print('x: 999')\n    y = x + 1\n    print('y: -1', flush=True)\n    return y\n"
    t = trace_program(code, "f(1)")
    assert t.return_value == "2" and "x: 999" in t.result.stdout
    assert states_after(t, 3)[0]["y"].repr == "2"


def test_infinite_loop_is_truncated_not_hung():
    t = trace_program(
        "def f():\n    while True:\n        pass\n", "f()", Limits(timeout_s=2, max_trace_steps=500)
    )
    assert t.truncated
    assert len(t.events) <= 500


def test_long_values_are_bounded():
    t = trace_program(
        "def f():\n    s = 'a' * 100000\n    return len(s)\n", "f()", Limits(max_repr_chars=50)
    )
    assert all(len(v.repr) <= 53 for e in t.events for v in e.locals.values())
    assert t.return_value == "100000"


def test_programs_that_print_a_lot_keep_their_trace():
    code = (
        "def f(n):\n    for i in range(n):\n        print('state: ' + 'x' * 40, i)\n    return n\n"
    )
    t = trace_program(code, "f(5000)", Limits(timeout_s=10))
    assert t.status is ExecStatus.OK and t.return_value == "5000" and not t.truncated
    assert len(t.result.stdout.splitlines()) == 5000
    assert _lines(t) == [2, 3] * 5000 + [2, 4]
    assert [s["i"].repr for s in states_after(t, 3)][-1] == "4999"


def test_output_flood_is_a_status_in_bounded_time():
    code = "def f():\n    while True:\n        print('x' * 1000)\n"
    t = trace_program(code, "f()", Limits(timeout_s=5, max_output_bytes=1 << 16))
    assert t.status is ExecStatus.OUTPUT_LIMIT
    assert t.truncated  # the run was cut: its trace is not complete


def test_growing_values_stay_within_memory_and_payload_bounds():
    code = "def f(n):\n    s = []\n    for i in range(n):\n        s = s + [i]\n    return len(s)\n"
    t = trace_program(code, "f(9000)", Limits(timeout_s=20, memory_mb=256))
    assert t.status is ExecStatus.OK and t.return_value == "9000"
    assert t.truncated  # the payload bound cut the trace, the run itself finished
    assert [s["s"].repr for s in states_after(t, 4)][:3] == ["[0]", "[0, 1]", "[0, 1, 2]"]
