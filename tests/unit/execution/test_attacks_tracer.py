"""Programs that tamper with the tracer or the anchors get a flagged run, never a silently
wrong trace, and the batch around them comes back whole."""

from __future__ import annotations

import pytest
from attack_kit import FAST, batch_around

from stepcode.execution import (
    AnchorPolicy,
    Job,
    instrument,
    run_instrumented,
    trace_batch,
    trace_program,
)
from stepcode.types import ExecStatus

BODY = "def f(x):\n    y = x + 1\n    return y\n"
TAMPER = {
    "hook_removed": "import sys\nsys.settrace(None)\n",
    "hook_replaced": "import sys\nsys.settrace(lambda *a: None)\n",
    "settrace": (  # off and back on: the lines in between were never seen
        "import sys\nold = sys.gettrace()\nsys.settrace(None)\nz = 1\nsys.settrace(old)\n"
    ),
    "settrace_from_c": "import ctypes\nctypes.pythonapi.PyEval_SetTrace(None, None)\n",
    "line_tracing_off": "import sys\nsys._getframe().f_trace_lines = False\nz = 1\n",
    "frame_untraced": "import sys\nsys._getframe().f_trace = None\nz = 1\n",
    "foreign_code": "exec(compile('def g():\\n    return 99\\n', '<program>', 'exec'))\ng()\n",
    "foreign_code_swap": (
        "def h():\n    return 1\n"
        "h.__code__ = compile('def h():\\n    return 2\\n', '<program>', 'exec').co_consts[0]\nh()\n"
    ),
    "threads": "import threading\ntry:\n    threading.Thread(target=print).start()\nexcept RuntimeError:\n    pass\n",
}  # fmt: skip
FLAG = {"settrace_from_c": "hook_removed", "foreign_code_swap": "foreign_code"}


@pytest.mark.parametrize("name", sorted(TAMPER))
def test_tampering_with_the_tracer_is_flagged(name):
    attack = Job(code=TAMPER[name] + BODY, call="f(1)", limits=FAST, trace=True)
    (run,) = batch_around([attack])
    assert run.result.status is ExecStatus.OK, run.result
    assert run.result.integrity == FLAG.get(name, name)


def test_tampering_inside_the_call_is_flagged_too():
    code = "import sys\ndef f(x):\n    sys.settrace(None)\n    return x\n"
    assert trace_program(code, "f(1)").result.integrity in ("settrace", "hook_removed")


def test_honest_programs_are_not_flagged():
    code = (
        "import collections, functools\n"
        "Point = collections.namedtuple('Point', 'x y')\n"
        "@functools.lru_cache\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
        "def gen(n):\n    for i in range(n):\n        yield i\n"
        "class A:\n    def __init__(self):\n        self.v = [p for p in gen(3)]\n"
        "def f(n):\n    try:\n        1 / 0\n    except ZeroDivisionError:\n        pass\n"
        "    g = gen(5)\n    next(g)\n    return fib(n), A().v, Point(1, 2), sum(x for x in gen(4))\n"
    )  # fmt: skip
    traces = trace_batch([(code, "f(10)"), (BODY, "f(1)"), (code, None)])
    assert [t.result.integrity for t in traces] == ["ok"] * 3
    assert traces[0].status is ExecStatus.OK and not traces[0].truncated


def test_a_cut_or_timed_out_trace_is_not_called_tampered():
    loop = "def f():\n    while True:\n        pass\n"
    t = trace_program(loop, "f()")
    assert t.status is ExecStatus.TIMEOUT and t.truncated and t.result.integrity == "ok"


POLICY = AnchorPolicy(loops="every", max_hits=50)
PROG = "def f(x):\n    y = x + 1\n    z = y * 2\n    return z\n"


def _anchored(code: str, call: str = "f(1)"):
    inst = instrument(code, POLICY)
    return inst, run_instrumented(inst, call, FAST)


def test_honest_anchors_are_ok():
    _, r = _anchored(PROG)
    assert r.integrity == "ok" and [(h.name, h.value) for h in r.anchors] == [
        ("y", "2"), ("z", "4"), ("return", "4")]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "flag"),
    [
        ("__stepcode_anchor__(0, 'y', 999, 0)\n" + PROG, "anchor_forged"),
        ("globals()['__stepcode_' + 'anchor__'](1, 'z', 999)\n" + PROG, "anchor_forged"),
        ("real = globals()['__stepcode_anchor__']\n"
         "globals()['__stepcode_anchor__'] = lambda i, n, v, k=0: real(i, n, -1, k)\n" + PROG,
         "anchor_forged"),
        ("globals()['__stepcode_anchor__'] = lambda *a: None\n" + PROG, "anchor_rebound"),
        ("import builtins\nbuiltins.__stepcode_anchor__ = print\n"
         "del globals()['__stepcode_anchor__']\n" + PROG, "anchor_rebound"),
    ],
)  # fmt: skip
def test_forged_or_hidden_anchor_hits_are_flagged(code, flag):
    inst = instrument(code, POLICY)
    (run,) = batch_around([inst.job("f(1)", FAST)])
    assert run.result.integrity == flag, run.result
