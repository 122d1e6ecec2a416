"""Code-generation rewards: read the solution out of a completion, run its unit tests, score.

Completion format (``tasks.codegen``)::

    [<reasoning>...</reasoning>]
    <answer>
    ```python
    def f(...):
        ...
    ```
    </answer>

The solution is the first fenced block inside the last ``<answer>`` block, or the block's whole
text when it has no fence; without an answer block, the first fenced ``python`` block of the
completion (``format_ok`` is then False). The program judged is the task's trusted context (the
problem's imports and helpers) followed by the solution.

Reward (ExecVerify stage II, ``code_gen.py:compute_score_prime``, with its bug fixed: 0 tests
passed is a valid score of 0, never an unassigned one): ``scalar`` = fraction of the task's tests
passed (``rewards.unit_tests.judge``: each test in its own processes, judged by value), plus
``format_bonus`` when the answer block is well formed: what GRPO optimises (native, verl, TRL).
``outcome`` = 1.0 only when every test passes: the verdict pass@1 counts, so ``final_acc`` means
the same for code generation as for every other task. ``Reward.reason`` is
``passed`` or the first failing test's reason (``wrong_value``, ``raised:TypeError``,
``exec_timeout``, ...), or why no solution could be read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stepcode.rewards.unit_tests import Submission, TestResult, judge
from stepcode.types import Limits, Parsed, Reward, Task

_ANSWER = re.compile(r"<answer>(.*?)(</answer>|\Z)", re.S)
_FENCE = re.compile(r"```[ \t]*(?:python|py|Python|python3)?[ \t]*\n(.*?)(?:```|\Z)", re.S)
CODEGEN_LIMITS = Limits(timeout_s=3.0, memory_mb=512)
MAX_COMPLETION_CHARS = 200_000
"""a longer completion is not read (``too_long``), as ``rewards.parse`` does"""


def parse_solution(completion: str) -> Parsed:
    """The solution code in ``completion`` (``Parsed.predicted``). Never raises."""
    try:
        return _parse(completion)
    except Exception as e:  # noqa: BLE001 - model output must never crash the trainer
        return Parsed(ok=False, reason=f"parser_error:{type(e).__name__}")


def _parse(text: str) -> Parsed:
    if not isinstance(text, str) or len(text) > MAX_COMPLETION_CHARS:
        return Parsed(ok=False, reason="too_long")
    answers = list(_ANSWER.finditer(text))
    if not answers:
        fence = _FENCE.search(text)
        if fence and fence.group(1).strip():
            return Parsed(ok=False, reason="no_answer_block", predicted=fence.group(1))
        return Parsed(ok=False, reason="no_answer_block")
    m = answers[-1]
    body = m.group(1)
    fence = _FENCE.search(body)
    code = fence.group(1) if fence else body
    if not code.strip():
        return Parsed(ok=False, reason="empty_answer", answer_span=(m.start(), m.end()))
    closed = bool(m.group(2))
    return Parsed(ok=closed, reason="ok" if closed else "unclosed_answer",
                  predicted=code.strip("\n") + "\n", answer_span=(m.start(), m.end()))  # fmt: skip


def solution_program(task: Task, code: str) -> str:
    """What runs for a solution: the task's trusted context, then the model's code."""
    context = task.reference.code
    return f"{context.rstrip()}\n\n{code}" if context.strip() else code


def score_codegen_batch(
    tasks: Sequence[Task],
    completions: Sequence[str],
    *,
    format_bonus: float = 0.0,
    limits: Limits = CODEGEN_LIMITS,
) -> list[Reward]:
    """One ``Reward`` per completion (never raises for bad completions or bad solutions)."""
    parsed = [parse_solution(c) for c in completions]
    idx = [i for i, p in enumerate(parsed) if p.predicted is not None]
    subs = [_submission(tasks[i], parsed[i].predicted or "") for i in idx]
    results = dict(zip(idx, judge(subs, limits=limits), strict=True)) if subs else {}
    return [_reward(p, results.get(i), format_bonus) for i, p in enumerate(parsed)]


def _submission(task: Task, code: str) -> Submission:
    ref = task.reference
    return Submission(program=solution_program(task, code), entry_point=ref.entry_point,
                      tests=ref.tests, context=ref.code, reference=ref.solution)  # fmt: skip


def _reward(parsed: Parsed, results: tuple[TestResult, ...] | None, bonus: float) -> Reward:
    if results is None:
        return Reward(
            outcome=0.0, format_ok=False, reason=parsed.reason, audit="unparsable", parse=parsed
        )
    passed = sum(r.passed for r in results)
    fraction = passed / len(results) if results else 0.0
    first_fail = next((r.reason for r in results if not r.passed), "passed")
    if not results:
        first_fail = "no_tests"
    # no steps: as for plain tasks, the audit is the answer's class (all tests passed or not)
    right = bool(results) and passed == len(results)
    audit = "right_answer_right_steps" if right else "wrong_answer_right_steps"
    return Reward(
        outcome=1.0 if right else 0.0, format_ok=parsed.ok,
        reason=first_fail if parsed.ok else f"{first_fail};{parsed.reason}",
        audit=audit, scalar=fraction + (bonus if parsed.ok else 0.0), parse=parsed,
    )  # fmt: skip
