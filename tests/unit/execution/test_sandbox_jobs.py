"""``Job`` features of the sandbox: anchors, trace payloads, filenames, bounded return values."""

from __future__ import annotations

import pytest

from stepcode.execution import Job, run_job, run_program
from stepcode.types import ExecStatus, Limits

FAST = Limits(timeout_s=1.0, memory_mb=256)


def test_anchor_hits_are_recorded_in_order_and_never_printed():
    code = "def f(n):\n    for i in range(n):\n        __stepcode_anchor__(0, 'i', i)\n    return n"
    r = run_job(Job(code=code, call="f(3)", anchors=True, limits=FAST)).result
    assert r.status is ExecStatus.OK and r.return_value == "3" and r.stdout == ""
    assert [(a.anchor_id, a.name, a.value) for a in r.anchors] == [
        (0, "i", "0"),
        (0, "i", "1"),
        (0, "i", "2"),
    ]


def test_program_printing_anchor_and_protocol_lines_cannot_forge_anchors():
    code = (
        "print('i: 99')\nprint('__stepcode_anchor__(0, \"i\", 99)')\n"
        'import sys\nsys.stderr.write(\'\\x00\\x00\\x00\\x10{"status":"ok"}\')\n'
        "__stepcode_anchor__(1, 'x', 'real')\nraise ValueError('after')"
    )
    r = run_job(Job(code=code, anchors=True, limits=FAST)).result
    assert r.status is ExecStatus.ERROR and r.error == "ValueError: after"
    assert [(a.anchor_id, a.name, a.value) for a in r.anchors] == [(1, "x", "'real'")]
    assert "i: 99" in r.stdout


def test_anchor_hits_beyond_the_cap_are_cut_and_flagged():
    code = "for i in range(1000):\n    __stepcode_anchor__(0, 'i', i)"
    limits = Limits(timeout_s=1.0, max_anchor_hits=5)
    r = run_job(Job(code=code, anchors=True, limits=limits)).result
    assert len(r.anchors) == 5 and r.truncated is True


def test_anchor_helper_is_absent_unless_asked_for():
    r = run_program("__stepcode_anchor__(0, 'x', 1)", FAST)
    assert r.status is ExecStatus.ERROR and r.error.startswith("NameError")


def test_a_timed_out_traced_run_still_returns_its_partial_trace():
    code = "def f():\n    x = 1\n    import time\n    time.sleep(100)\n"
    raw = run_job(Job(code=code, call="f()", trace=True, filename="p.py", limits=FAST))
    assert raw.result.status is ExecStatus.TIMEOUT
    lines = [state[0] for state in raw.trace_payload["states"]]
    assert 2 in lines and 4 in lines


def test_the_program_is_compiled_under_its_filename():
    r = run_program("import inspect", FAST, call="inspect.currentframe().f_code.co_filename")
    assert r.return_value == "'<call>'"
    r = run_job(Job(code="def f():\n    1 / 0", call="f()", filename="prog.py", limits=FAST))
    assert "ZeroDivisionError" in r.result.error
    tb = "import traceback\ndef f():\n    return traceback.extract_stack()[-1].filename"
    assert (
        run_job(Job(code=tb, call="f()", filename="prog.py", limits=FAST)).result.return_value
        == "'prog.py'"
    )


def test_globals_are_a_fresh_main_namespace_per_run():
    assert run_program("x = 1", FAST, call="__name__").return_value == "'__main__'"
    assert run_program("", FAST, call="'x' in globals()").return_value == "False"


@pytest.mark.parametrize("size", [100, 50_000])
def test_return_values_are_bounded_at_10k_chars(size):
    r = run_program("", FAST, call=f"'a' * {size}")
    assert r.status is ExecStatus.OK
    assert len(r.return_value) <= 10_000 + len("...<truncated>")
    assert r.return_value.startswith("'aaa") and (size < 10_000) == r.return_value.endswith("'")
