"""Verdicts by execution, reached on the trusted side wherever the program's result is a value.

1. The prediction is parsed by ``rewards.values``: an output is one value (``parse_value``), an
   input the values of exactly one call (``parse_call``). Model text never runs; what goes into a
   check is the canonical re-serialisation of the value, never the model's text.
2. The program runs once in the sandbox: ``f(<trusted input>)`` for an output prediction,
   ``f(<predicted arguments>)`` for an input prediction (their canonical text; when it calls a
   constructor, built by ``call_entry`` in a scope holding only the real ``set frozenset float
   range`` and the program's ``def``/``class``/``import`` names). The run hands back ``(True, result)`` when the result is
   made of exact builtin types only (``plain``: so its repr is the builtin one), else ``(False,)``.
   The G samples of a task that predict different outputs share this one run.
3. On the trusted side that repr is parsed (``parse_value``, bounded) and compared with the
   expected value: Python ``==`` (the official harnesses' rule) or, with ``strict=True``,
   ``equality.same_value`` (``1 != 1.0 != True`` all the way down). The expected value (the
   predicted output, the gold output) never enters the sandbox on this path.
4. Only when that cannot be done (the result is an object, a subclass, a function, holds
   ``inf``/``nan`` or has a repr over the sandbox's 10,000 characters; or the prediction names
   something of the program or holds a lambda) does the comparison run in the sandbox: the
   expected value is rebuilt there from its canonical text and compared by ``==`` or by
   ``same_value``'s own source (``equality.sandbox_source``).

Limits. The program shares its process with the check code (``plain``, ``same_value`` and the
glue below run in the same interpreter, in a namespace of their own, so a program's module-level
``def len`` or ``set = list`` cannot change them). A hostile *program* can still forge its own
result from inside that process: patch ``builtins``, reach the helpers through ``gc`` or frames
and rewrite them, return an object whose ``__eq__`` is always true (step 4 consults it, as the
official harnesses do), or read the expected value on the step-4 path. A predicted lambda runs
when the program calls it and may call public methods of whatever the program hands it. So a
verdict on a prediction is only as honest as the dataset program it runs, and a verdict on
*model-written programs* must not rest on this module: their expected values must stay outside
the process (the code-generation judge's job). What neither a program nor a prediction can do:
run model text on the trusted side, change the trusted parse or comparison of step 3, or make
the caller raise (every byte read back is parsed with bounds; a failed run is an
``exec_<status>`` verdict, a batch of N checks always gives N verdicts in order).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass

from stepcode.execution import Job, RawRun, run_jobs
from stepcode.rewards import equality
from stepcode.rewards.equality import same_value
from stepcode.rewards.values import (
    ValueParse,
    parse_call_for,
    parse_value,
    parse_value_for,
    program_names,
)
from stepcode.types import ExecStatus, Limits, Verdict

CHECK_LIMITS = Limits(timeout_s=3.0, memory_mb=512)


@dataclass(frozen=True, eq=False)
class Check:
    """A verdict still to be reached by running ``job`` (module docstring, steps 2-4)."""

    job: Job
    expected: ValueParse | None
    """compared with the run's result on the trusted side; None: ``job`` compares by itself"""
    strict: bool = False
    fallback: Job | None = None
    """the in-sandbox comparison, run only when the result is not a plain value"""


# ------------------------------------------------------------------ run inside the sandbox
# These functions use builtins and ``same_value`` only: their source is executed where the
# program runs (``_install``), and they run here too.
def plain(value: object, left: list, depth: int = 0) -> bool:
    """Is ``value`` made of exact builtin types only (at most ``left[0]`` parts, 100 deep)?"""
    left[0] -= 1
    t = type(value)
    if left[0] < 0 or depth > 100:
        return False
    if t is list or t is tuple or t is set or t is frozenset:
        return all(plain(x, left, depth + 1) for x in value)
    if t is dict:
        return all(
            plain(k, left, depth + 1) and plain(v, left, depth + 1) for k, v in value.items()
        )
    return value is None or any(t is k for k in (int, float, complex, str, bytes, bool, range))


def result(value: object) -> tuple:
    """What a run hands back: ``(True, value)`` for a plain value, else ``(False,)``."""
    return (True, value) if plain(value, [10_000]) else (False,)


def build_value(text: str, glb: dict, names: tuple) -> object:
    """The value of canonical ``text`` (from ``rewards.values``), built where the program runs."""
    scope = {n: glb[n] for n in names if n in glb}
    scope.update(__builtins__={}, set=set, frozenset=frozenset, float=float, range=range)
    return eval(text, scope)


def call_entry(glb: dict, entry: str, args_text: str, names: tuple) -> object:
    """``entry(<args_text>)`` with the predicted arguments built by ``build_value``."""
    args, kwargs = build_value(f"(lambda *a, **k: (a, k))({args_text})", glb, names)
    return glb[entry](*args, **kwargs)


def compare(got: object, want: object, strict: bool) -> bool:
    """The in-sandbox comparison: ``got == want`` (as the official harnesses), or ``same_value``."""
    return same_value(got, want) if strict else bool(got == want) is True


_NEEDS = {"result": (plain, result), "call": (build_value, call_entry),
          "compare": (build_value, same_value, compare)}  # fmt: skip


@functools.cache
def _install(parts: tuple[str, ...]) -> str:
    """Appended to the program: the helpers ``parts`` need, executed from their source into a
    namespace of their own, ``__stepcode_h``. Only what a job uses is shipped: compiling costs
    every run (~0.1 ms for ``plain``). No ``import``: the child pre-imports whenever a job's text
    holds the word."""
    fns = dict.fromkeys(fn for part in parts for fn in _NEEDS[part])
    source = "".join(
        equality.sandbox_source() if fn is same_value else inspect.getsource(fn) for fn in fns
    )
    return f"\n\n__stepcode_h = {{}}\nexec({source!r}, __stepcode_h)\n"


def _job(code: str, call: str, parts: tuple[str, ...], limits: Limits, *,
         anchors: bool = False) -> Job:  # fmt: skip
    return Job(code=code + _install(parts) if parts else code, call=call, limits=limits,
               anchors=anchors)  # fmt: skip


def _result(got: str) -> str:
    return f"__stepcode_h['result']({got})"


def _compare(got: str, want_text: str, names: tuple[str, ...], strict: bool) -> str:
    want = f"__stepcode_h['build_value']({want_text!r}, globals(), {names!r})"
    return f"__stepcode_h['compare']({got}, {want}, {strict!r})"


def _entry_call(entry: str, args_text: str, names: tuple[str, ...]) -> str:
    return f"__stepcode_h['call_entry'](globals(), {entry!r}, {args_text!r}, {names!r})"


_CONSTRUCTOR_CALLS = ("set(", "frozenset(", "float(", "range(")


def _predicted_call(
    code: str, entry: str, args_text: str, needs_program: bool
) -> tuple[str, tuple[str, ...]]:
    """The expression calling ``entry`` on canonical predicted arguments, and the helpers it needs.

    Canonical arguments are displays, constants, constructor calls, program names and restricted
    lambdas: evaluated in the program's namespace they build exactly their values, unless the
    program rebinds a constructor name (``set = list``). So arguments that call no constructor
    are written out as the call; the others go through ``call_entry`` and the real builtins.
    """
    if not any(c in args_text for c in _CONSTRUCTOR_CALLS):
        return f"{entry}({args_text})", ()
    names = tuple(sorted(program_names(code))) if needs_program else ()
    return _entry_call(entry, args_text, names), ("call",)


def predicted_call_job(
    code: str, entry: str, args_text: str, *, program: str, limits: Limits, anchors: bool = False
) -> Job:
    """A job that runs ``code`` then ``entry`` on predicted arguments (``parse_call``'s
    ``args_text``), called the way verdicts call it (the input-aligned trace replay uses it);
    ``program`` is the trusted program ``code`` was made from (its names)."""
    needs_program = parse_call_for(program, f"{entry}({args_text})", entry).needs_program
    call, parts = _predicted_call(program, entry, args_text, needs_program)
    return _job(code, call, parts, limits, anchors=anchors)


# ------------------------------------------------------------------ building checks
def output_check_job(code: str, input_args: str, predicted_output: str, *, entry: str = "f",
                 strict: bool = False, limits: Limits = CHECK_LIMITS) -> Check | Verdict:  # fmt: skip
    """The check of an output prediction, or a Verdict when it is refused before any run."""
    pv = parse_value_for(code, predicted_output)
    if not pv.ok:
        return Verdict(correct=False, reason=pv.reason)
    got = f"{entry}({input_args})"
    names = tuple(sorted(program_names(code))) if pv.needs_program else ()
    in_sandbox = _compare(got, pv.text, names, strict)
    compare_job = _job(code, in_sandbox, ("compare",), limits)
    if pv.needs_program:
        return Check(job=compare_job, expected=None, strict=strict)
    first = _job(code, _result(got), ("result",), limits)
    return Check(job=first, expected=pv, strict=strict, fallback=compare_job)


def input_check_job(code: str, output: str, predicted_input_args: str, *, entry: str = "f",
                strict: bool = False, limits: Limits = CHECK_LIMITS) -> Check | Verdict:  # fmt: skip
    """The check of an input prediction (CRUXEval ``input`` text: the arguments of one call)."""
    if not isinstance(predicted_input_args, str):
        return Verdict(correct=False, reason="not_a_call")
    cp = parse_call_for(code, f"{entry}({predicted_input_args})", entry)
    if not cp.ok:
        return Verdict(correct=False, reason=cp.reason)
    want = parse_value(output)
    if not want.ok:
        return Verdict(correct=False, reason="bad_reference_output")
    got, parts = _predicted_call(code, entry, cp.args_text, cp.needs_program)
    fallback = _job(code, _compare(got, want.text, (), strict), (*parts, "compare"), limits)
    first = _job(code, _result(got), (*parts, "result"), limits)
    return Check(job=first, expected=want, strict=strict, fallback=fallback)


# ------------------------------------------------------------------ reaching verdicts
def run_checks(items: Sequence[Check | Verdict]) -> list[Verdict]:
    """Verdicts for ``items`` in order; Verdicts pass through.

    Equal jobs run once and share their result (the G samples of a task share the program's
    run), all in one pooled batch, plus one more batch for the few results that are not values.
    """
    out: list[Verdict | None] = [i if isinstance(i, Verdict) else None for i in items]
    checks = [(k, i) for k, i in enumerate(items) if isinstance(i, Check)]
    first = _run_distinct([c.job for _, c in checks])
    pending: dict[int, Job] = {}
    for k, check in checks:
        run = first[check.job]
        if check.expected is None:
            out[k] = _sandbox_verdict(run)
        elif run.result.status is not ExecStatus.OK:
            out[k] = Verdict(correct=False, reason=f"exec_{run.result.status.value}")
        else:
            got = _result_value(run)
            if got is not None:
                out[k] = _trusted_verdict(got, check.expected, check.strict)
            elif check.fallback is not None:
                pending[k] = check.fallback
            else:
                out[k] = Verdict(correct=False, reason="wrong_value")
    second = _run_distinct(list(pending.values()))
    for k, job in pending.items():
        out[k] = _sandbox_verdict(second[job])
    return [v for v in out if v is not None]


def _run_distinct(jobs: Sequence[Job]) -> dict[Job, RawRun]:
    distinct = list(dict.fromkeys(jobs))
    runs = run_jobs(distinct) if distinct else []
    return dict(zip(distinct, runs, strict=True))


def _result_value(run: RawRun) -> ValueParse | None:
    """The run's result as a value: its return value is the repr of ``result``'s tuple."""
    got = parse_value(run.result.return_value or "")
    pair = got.value if got.ok else None
    if type(pair) is not tuple or len(pair) != 2 or pair[0] is not True:
        return None
    return ValueParse(ok=True, value=pair[1])


def _trusted_verdict(got: ValueParse, want: ValueParse, strict: bool) -> Verdict:
    try:
        ok = same_value(got.value, want.value) if strict else bool(got.value == want.value)
    except (RecursionError, MemoryError, TypeError, ValueError):  # values built here: a bound hit
        ok = False
    return Verdict(correct=ok, reason="correct" if ok else "wrong_value")


def _sandbox_verdict(run: RawRun) -> Verdict:
    r = run.result
    if r.status is ExecStatus.OK:
        ok = r.return_value == "True"
        return Verdict(correct=ok, reason="correct" if ok else "wrong_value")
    return Verdict(correct=False, reason=f"exec_{r.status.value}")


def verify_output(
    code: str, input_args: str, predicted_output: str, *, entry: str = "f", strict: bool = False
) -> Verdict:
    """Is ``entry(input_args) == predicted_output`` when the trusted ``code`` runs?"""
    return run_checks(
        [output_check_job(code, input_args, predicted_output, entry=entry, strict=strict)]
    )[0]


def verify_input(
    code: str, output: str, predicted_input_args: str, *, entry: str = "f", strict: bool = False
) -> Verdict:
    """Does the trusted ``code`` give ``output`` on ``predicted_input_args`` (CRUXEval ``input`` text)?"""
    return run_checks(
        [input_check_job(code, output, predicted_input_args, entry=entry, strict=strict)]
    )[0]


def verify_outputs(items: Sequence[tuple[str, str, str]], *, strict: bool = False) -> list[Verdict]:
    """Batch ``verify_output`` over ``(code, input_args, predicted_output)`` through the pool."""
    return run_checks([output_check_job(c, i, p, strict=strict) for c, i, p in items])


def verify_inputs(items: Sequence[tuple[str, str, str]], *, strict: bool = False) -> list[Verdict]:
    """Batch ``verify_input`` over ``(code, output, predicted_input_args)`` through the pool."""
    return run_checks([input_check_job(c, o, p, strict=strict) for c, o, p in items])
