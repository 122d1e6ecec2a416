"""Forged and malformed result frames, tracer-state injection: the run is its own crash (or, for
a well-formed frame with the stolen nonce, its own bounded result) and the batch comes back whole."""

from __future__ import annotations

import pytest
from attack_kit import FAST, batch_around

from stepcode.execution import Job, trace_batch
from stepcode.types import ExecStatus, Limits

STEAL_NONCE = """
import os, sys, json
def nonce():
    f = sys._getframe()
    while f is not None:
        ctx = f.f_locals.get("ctx")
        if isinstance(ctx, dict) and "nonce" in ctx:
            return ctx["nonce"]
        f = f.f_back
def send(data):
    os.write(3, data)
    os._exit(0)
RUN = {"status": "ok", "error": None, "return_value": "42", "anchors": [],
       "anchors_truncated": False, "integrity": "ok"}
"""

FORGERIES = {
    "wrong types": "send(json.dumps({**RUN, 'nonce': nonce(), 'anchors': [['0', 1, None]]}).encode())",
    "unknown status": "send(json.dumps({**RUN, 'nonce': nonce(), 'status': 'great'}).encode())",
    "extra key": "send(json.dumps({**RUN, 'nonce': nonce(), 'stdout': 'x'}).encode())",
    "huge": "send(json.dumps({**RUN, 'nonce': nonce(), 'error': 'x' * (9 << 20)}).encode())",
    "over the repr cap": "send(json.dumps({**RUN, 'nonce': nonce(), 'return_value': 'x' * 10**5}).encode())",
    "deep nesting": "send(b'[' * 200000 + b']' * 200000)",
    "non-UTF-8": "send(b'\\xff\\xfe\\x00{\"status\": \"ok\"}')",
    "forged nonce": "send(json.dumps({**RUN, 'nonce': '0' * 32}).encode())",
    "no nonce": "send(json.dumps(RUN).encode())",
    "two frames": "os.write(3, json.dumps({**RUN, 'nonce': nonce()}).encode())",
    "not an object": "send(json.dumps([1, 2, 3]).encode())",
    "big ints": "send(b'{\"status\": ' + b'9' * 10000 + b'}')",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_a_malformed_or_forged_frame_is_that_runs_crash(name):
    attack = Job(code=STEAL_NONCE + FORGERIES[name], call="1", limits=FAST)
    (run,) = batch_around([attack])
    assert run.result.status is ExecStatus.CRASH, run.result
    assert run.result.return_value is None
    assert "frame" in run.result.error or "nonce" in run.result.error, run.result.error


def test_a_well_formed_frame_with_the_stolen_nonce_is_only_the_programs_own_bounded_result():
    """The documented limit: a program can replace its own result, within the schema."""
    attack = Job(code=STEAL_NONCE + "send(json.dumps({**RUN, 'nonce': nonce()}).encode())",
                 call="1", limits=FAST)  # fmt: skip
    (run,) = batch_around([attack])
    assert run.result.status is ExecStatus.OK and run.result.return_value == "42"


def test_garbage_before_the_real_frame_is_a_crash_not_a_result():
    attack = Job(code='import os\nos.write(3, b\'{"status": "ok", \')', call="7", limits=FAST)
    (run,) = batch_around([attack])
    assert run.result.status is ExecStatus.CRASH and "frame" in run.result.error


INJECT = "import sys\nrec = sys.gettrace().__self__\n"
INJECTIONS = {
    "state of the wrong length": "rec.states.append([1, 2])",
    "locals not a mapping": "rec.states.append([1, 'f', 0, 'line', 'x', None, None])",
    "repr not a string": "rec.states.append([1, 'f', 0, 'line', {'x': [1, 'int']}, None, None])",
    "an object in the state": "rec.states.append([1, 'f', 0, 'line', {'x': [object(), 'o']}, None, None])",
    "a huge repr": "rec.states.append([1, 'f', 0, 'line', {'x': ['y' * 10**6, 'str']}, None, None])",
    "a bad event": "rec.states.append([1, 'f', 0, 'teleport', {}, None, None])",
    "module_end past the end": "rec.module_end = 10**6",
    "a replaced payload": "rec.payload = lambda: {'states': 'all good'}",
    "a self-referencing state": "s = []\ns.append(s)\nrec.states.append(s)",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(INJECTIONS))
def test_tracer_state_injection_is_that_runs_crash(name):
    code = INJECT + INJECTIONS[name] + "\ndef f(x):\n    return x\n"
    attack = Job(code=code, call="f(1)", limits=FAST, trace=True, filename="<program>")
    (run,) = batch_around([attack])
    assert run.result.status is ExecStatus.CRASH, (run.result, run.trace_payload)
    assert run.trace_payload is None


def test_injected_states_never_reach_a_trace_batch_as_exceptions():
    good = "def f(x):\n    y = x + 1\n    return y\n"
    bad = INJECT + INJECTIONS["locals not a mapping"] + "\n" + good
    traces = trace_batch([(good, "f(1)"), (bad, "f(1)"), (good, "f(2)")], Limits(timeout_s=2))
    assert [t.status for t in traces] == [ExecStatus.OK, ExecStatus.CRASH, ExecStatus.OK]
    assert traces[1].events == () and traces[1].truncated
    assert [t.return_value for t in traces] == ["2", None, "3"]
