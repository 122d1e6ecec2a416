"""Verification by execution, from trusted code only.

The check is rebuilt from the trusted program plus the *parsed* piece of the answer, re-serialised
from its value (never pasted model text): the predicted output must be a literal, the predicted
input the literal arguments of exactly one call. So a prediction cannot close the call, add
statements, exit, rebind ``f``, patch builtins or bring an always-equal object. A predicted
input's arguments are evaluated first, then ``f`` runs from a fresh execution of the program,
so arguments that mutate module state (``SEEN.append(1) or 1``) cannot change what ``f`` sees. The comparison
runs inside the sandbox (``f`` may return any object): Python ``==``, plus with ``strict=True``
REval's type rule (``1 != 1.0 != True``, recursively through containers).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from stepcode.execution import Job, RawRun, run_jobs
from stepcode.rewards.parse import canonical_literal, is_literal
from stepcode.rewards.safe_args import check_call
from stepcode.types import ExecStatus, Limits, Verdict

CHECK_LIMITS = Limits(timeout_s=3.0, memory_mb=512)
# strict = plain ``==`` and the same types all the way down (set elements and dict keys by their
# own type; inside a set element only ``==``), so it never accepts what ``==`` rejects.
_STRICT_EQ = """
def __stepcode_tagged(s):
    return {(type(x), x) for x in s}

def __stepcode_same(a, b):
    if type(a) is not type(b) or not bool(a == b):
        return False
    if isinstance(a, (list, tuple)):
        return all(__stepcode_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (set, frozenset)):
        return __stepcode_tagged(a) == __stepcode_tagged(b)
    if isinstance(a, dict):
        kb = {(type(k), k): v for k, v in b.items()}
        return all((type(k), k) in kb and __stepcode_same(v, kb[(type(k), k)]) for k, v in a.items())
    return True
"""


def output_check_job(code: str, input_args: str, predicted_output: str, *, entry: str = "f",
                     strict: bool = False, limits: Limits = CHECK_LIMITS) -> Job | Verdict:  # fmt: skip
    """The sandbox job that checks an output prediction, or a Verdict if it cannot be built."""
    if not isinstance(predicted_output, str) or not is_literal(predicted_output.strip()):
        return Verdict(correct=False, reason="not_literal")
    expected = canonical_literal(ast.literal_eval(predicted_output.strip()))
    return _check_job(code, f"{entry}({input_args})", expected, strict, limits)


def input_check_job(code: str, output: str, predicted_input_args: str, *, entry: str = "f",
                    strict: bool = False, limits: Limits = CHECK_LIMITS,
                    literal_only: bool = False) -> Job | Verdict:  # fmt: skip
    """The sandbox job that checks an input prediction: the arguments of exactly one call, each
    passing ``safe_args`` (or a plain literal with ``literal_only``), re-serialised."""
    if not isinstance(predicted_input_args, str):
        return Verdict(correct=False, reason="not_a_call")
    args, reason = check_call(
        f"{entry}({predicted_input_args})", entry, code, literal_only=literal_only
    )
    if args is None:
        return Verdict(correct=False, reason=reason)
    if not is_literal(output):
        return Verdict(correct=False, reason="bad_reference_output")
    expected = canonical_literal(ast.literal_eval(output))
    call = f"__stepcode_fresh({code!r})[{entry!r}](*__stepcode_args[0], **__stepcode_args[1])"
    args_expr = f"(lambda *a, **k: (a, k))({args})"
    return _check_job(code, call, expected, strict, limits, args_expr=args_expr)


_FRESH = """
def __stepcode_fresh(src):
    ns = {"__name__": __name__, "__builtins__": __builtins__}
    exec(compile(src, "<program>", "exec"), ns)
    return ns
"""


def _check_job(code: str, call: str, expected: str, strict: bool, limits: Limits,
               *, args_expr: str | None = None) -> Job:  # fmt: skip
    """``args_expr`` (input checks): evaluated into ``__stepcode_args`` before ``call`` runs."""
    compare = (
        "__stepcode_same(__stepcode_got, __stepcode_want)"
        if strict
        else "__stepcode_got == __stepcode_want"
    )
    check = (
        f"{code}\n{_STRICT_EQ if strict else ''}\n{_FRESH if args_expr else ''}\n"
        f"def __stepcode_check():\n"
        f"    __stepcode_want = {expected}\n"
        + (f"    __stepcode_args = {args_expr}\n" if args_expr else "")
        + f"    __stepcode_got = {call}\n"
        f"    return bool({compare}) is True\n"
    )
    return Job(code=check, call="__stepcode_check()", limits=limits)


def verdict_of(run: RawRun) -> Verdict:
    r = run.result
    if r.status is ExecStatus.OK:
        ok = r.return_value == "True"
        return Verdict(correct=ok, reason="correct" if ok else "wrong_value")
    return Verdict(correct=False, reason=f"exec_{r.status.value}")


def run_checks(items: Sequence[Job | Verdict]) -> list[Verdict]:
    """Run the distinct jobs among ``items`` in one pooled batch; Verdicts pass through.

    Equal jobs (the G samples of a task that predict the same value) run once and share the
    verdict, so agreeing samples cost one execution and always score alike.
    """
    jobs = list(dict.fromkeys(i for i in items if isinstance(i, Job)))
    runs = run_jobs(jobs) if jobs else []
    verdicts = {job: verdict_of(run) for job, run in zip(jobs, runs, strict=True)}
    return [verdicts[i] if isinstance(i, Job) else i for i in items]


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
