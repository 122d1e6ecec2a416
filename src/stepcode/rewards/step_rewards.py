"""Score completions: outcome by execution, one reward per anchor step, format, audit class.

* Output tasks: outcome = ``verify_output(trusted code, trusted input, parsed literal)``.
* Input tasks: outcome = ``verify_input(trusted code, trusted output, parsed arguments)``; for the
  aligned form the steps are compared with the trace of the model's OWN input (many inputs are
  right), obtained by running the instrumented program on it.
* Steps: predicted trace line ``k`` against ground-truth anchor ``k`` (by position): the name must
  match and the value must be the same value with its type (``rewards.values`` parses both,
  ``rewards.equality.same_value`` compares: ``1 != 1.0 != True``); when the ground truth is not a
  plain value (e.g. an object repr) the texts are compared, memory addresses dropped
  (``tasks.templates.normalize_repr``). Missing lines score
  0; extra lines are not rewarded and make the audit say the steps were wrong.
* White-box tasks: outcome = the assertion (as for output tasks); one step per question, scored by
  ``rewards.whitebox.score_answer`` (``value; type`` with type check, source line text, YES/NO).
* Audit: ``unparsable`` when no answer could be read; otherwise right/wrong answer x right/wrong
  steps (steps are right when every step scores 1 and no line is extra; plain tasks count as
  right steps). ``audit_summary`` gives the share of each class.
* ``Reward.reason``: the verdict's reason (or the parse failure), plus ``;wrong_step_count`` /
  ``;name_mismatch`` / ``;no_trace_block`` when the steps are malformed.
* ``RewardConfig.combine`` turns (outcome, steps, format) into the logged scalar:
  ``terminal`` = outcome; ``mean`` = ``w_final * outcome + w_steps * mean(steps)`` (so a right answer
  through wrong steps scores strictly lower than through right ones); ``gated`` = ExecVerify's
  ``outcome * ((1 - alpha) + alpha * mean(steps))``. The per-step vector always reaches RL as is.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from stepcode.errors import ConfigError
from stepcode.execution import instrument, run_jobs
from stepcode.rewards.equality import same_value_repr
from stepcode.rewards.parse import FORMAT_OK_REASONS, Parsed, parse_completion
from stepcode.rewards.verify import (
    CHECK_LIMITS,
    Check,
    input_check_job,
    output_check_job,
    predicted_call_job,
    run_checks,
)
from stepcode.rewards.whitebox import score_answer
from stepcode.types import AnchorHit, Reward, Task, TaskKind, Verdict

AUDIT = ("right_answer_right_steps", "right_answer_wrong_steps", "wrong_answer_right_steps",
         "wrong_answer_wrong_steps", "unparsable")  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class RewardConfig:
    combine: Literal["terminal", "mean", "gated"] = "mean"
    """how outcome and steps make the scalar reward"""
    w_final: float = 0.5
    """mean: weight of the outcome"""
    w_steps: float = 0.5
    """mean: weight of the mean step reward"""
    alpha: float = 0.5
    """gated: share of the white-box/step part (ExecVerify uses 0.5)"""
    format_bonus: float = 0.0
    """added when the completion parses (ExecVerify stage II uses 0.05)"""
    strict_types: bool = False
    """outcome equality with REval's type rule instead of plain =="""

    def __post_init__(self) -> None:
        if self.combine not in ("terminal", "mean", "gated"):
            raise ConfigError(f"combine={self.combine!r}: use terminal, mean or gated")
        if min(self.w_final, self.w_steps, self.alpha, self.format_bonus) < 0:
            raise ConfigError(
                f"w_final={self.w_final}, w_steps={self.w_steps}, alpha={self.alpha}, "
                f"format_bonus={self.format_bonus}: reward weights must be >= 0"
            )
        if self.alpha > 1:
            raise ConfigError(f"alpha={self.alpha}: the gated share of the steps must be in [0, 1]")


def score_completion(task: Task, completion: str, cfg: RewardConfig = RewardConfig()) -> Reward:  # noqa: B008
    return score_batch([task], [completion], cfg)[0]


def score_batch(
    tasks: Sequence[Task], completions: Sequence[str], cfg: RewardConfig = RewardConfig()
) -> list[Reward]:  # noqa: B008
    """Score many completions; all executions go through the pool in two batches."""
    parsed = [parse_completion(t, c) for t, c in zip(tasks, completions, strict=True)]
    checks = [_outcome_job(t, p, cfg) for t, p in zip(tasks, parsed, strict=True)]
    verdicts = run_checks(checks)
    own_traces = _own_input_traces(tasks, parsed)
    return [
        _reward(t, p, v, own_traces.get(i), cfg)
        for i, (t, p, v) in enumerate(zip(tasks, parsed, verdicts, strict=True))
    ]


def _outcome_job(task: Task, parsed: Parsed, cfg: RewardConfig) -> Check | Verdict:
    if parsed.predicted is None:
        return Verdict(correct=False, reason=parsed.reason)
    ref = task.reference
    if task.kind in (TaskKind.INPUT, TaskKind.INPUT_ALIGNED):
        return input_check_job(
            ref.code, ref.output, parsed.predicted, entry=ref.entry_point, strict=cfg.strict_types
        )
    return output_check_job(
        ref.code, ref.input_args, parsed.predicted, entry=ref.entry_point, strict=cfg.strict_types
    )


def _own_input_traces(
    tasks: Sequence[Task], parsed: Sequence[Parsed]
) -> dict[int, tuple[AnchorHit, ...]]:
    """Input-aligned: the anchor hits the model's own predicted input produces."""
    idx, jobs = [], []
    for i, (t, p) in enumerate(zip(tasks, parsed, strict=True)):
        if t.kind is not TaskKind.INPUT_ALIGNED or p.predicted is None:
            continue
        policy = t.reference.anchor_policy
        if policy is None:  # not built by tasks.make_tasks: no instrumentation to replay
            continue
        try:
            inst = instrument(t.reference.code, policy)
        except (SyntaxError, ConfigError, ValueError):
            continue
        limits = dataclasses.replace(CHECK_LIMITS, max_anchor_hits=policy.max_hits)
        ref = t.reference
        job = predicted_call_job(inst.runtime_source, ref.entry_point, p.predicted,
                                 program=ref.code, limits=limits, anchors=True)  # fmt: skip
        # only hits from the instrumented anchor lines count (others mark the run anchor_forged)
        jobs.append(dataclasses.replace(job, anchor_lines=inst.job(None, limits).anchor_lines))
        idx.append(i)
    runs = run_jobs(jobs) if jobs else []
    # a run whose program forged or hid its anchors has no ground truth to score steps against
    return {
        i: tuple(r.result.anchors)
        for i, r in zip(idx, runs, strict=True)
        if r.result.integrity == "ok"
    }


def _reward(
    task: Task,
    parsed: Parsed,
    verdict: Verdict,
    own: tuple[AnchorHit, ...] | None,
    cfg: RewardConfig,
) -> Reward:
    steps, steps_right, trace_reason = _steps(task, parsed, own)
    outcome = 1.0 if verdict.correct else 0.0
    format_ok = parsed.ok or parsed.reason in FORMAT_OK_REASONS
    if not format_ok:
        audit = "unparsable"
    else:
        audit = (
            f"{'right' if outcome else 'wrong'}_answer_{'right' if steps_right else 'wrong'}_steps"
        )
    mean_steps = sum(steps) / len(steps) if steps else outcome
    if cfg.combine == "terminal":
        scalar = outcome
    elif cfg.combine == "mean":
        scalar = cfg.w_final * outcome + cfg.w_steps * mean_steps
    else:
        scalar = outcome * ((1 - cfg.alpha) + cfg.alpha * mean_steps)
    scalar += cfg.format_bonus if parsed.ok else 0.0
    reason = verdict.reason if parsed.ok else parsed.reason
    if parsed.ok and trace_reason != "ok":
        reason = f"{reason};{trace_reason}"
    return Reward(
        outcome=outcome, steps=steps, step_mask=tuple(True for _ in steps), format_ok=format_ok,
        reason=reason, audit=audit, scalar=scalar, parse=parsed,
    )  # fmt: skip


def _steps(
    task: Task, parsed: Parsed, own: tuple[AnchorHit, ...] | None
) -> tuple[tuple[float, ...], bool, str]:
    """([S] step rewards, all steps right with no extra line, trace reason)."""
    got = parsed.steps
    if task.kind is TaskKind.WHITEBOX:
        qs = task.reference.questions
        steps = tuple(score_answer(q, got[k][1]) if k < len(got) else 0.0 for k, q in enumerate(qs))
        return steps, len(got) == len(qs) and all(s == 1.0 for s in steps), parsed.trace_reason
    if task.kind not in (TaskKind.OUTPUT_ALIGNED, TaskKind.INPUT_ALIGNED):
        return (), True, "ok"
    truth = task.reference.anchors if task.kind is TaskKind.OUTPUT_ALIGNED else (own or ())
    steps = tuple(
        step_correct(got[k], truth[k]) if k < len(got) else 0.0 for k in range(len(truth))
    )
    right = len(got) == len(truth) and all(s == 1.0 for s in steps)
    if not parsed.has_trace:
        reason = "no_trace_block"
    elif len(got) != len(truth):
        reason = "wrong_step_count"
    elif any(g[0] != h.name for g, h in zip(got, truth, strict=True)):
        reason = "name_mismatch"
    else:
        reason = "ok"
    return steps, right, reason


def step_correct(predicted: tuple[str, str], truth: AnchorHit) -> float:
    """1.0 if a predicted ``(name, value)`` line states the ground-truth anchor exactly."""
    name, value = predicted
    if name != truth.name:
        return 0.0
    return 1.0 if same_value_repr(value.strip(), truth.value.strip()) else 0.0


def audit_summary(rewards: Sequence[Reward]) -> dict[str, float]:
    """Share of each audit class; ``right_answer_wrong_steps`` is the reward hacking to watch."""
    counts = Counter(r.audit for r in rewards)
    n = max(1, len(rewards))
    return {f"audit/{k}": counts.get(k, 0) / n for k in AUDIT}
