"""stepcode's execution-aligned CRUXEval variants: ``cruxeval-o-aligned`` and ``cruxeval-i-aligned``.

Each CRUXEval item becomes a ``Task`` of kind ``output_aligned`` / ``input_aligned`` through
``stepcode.tasks.make_tasks_batch`` (the instrumented program is shown; the model writes the anchor
states, then the answer). Completions are scored with ``stepcode.rewards.score_batch`` (execution
from trusted code through the sandbox pool; input-aligned steps are checked against the trace of
the model's OWN input). The summary reports, in percent over samples:

* ``final_accuracy`` (= ``pass@1`` over all samples): the answer is right;
* ``step_accuracy``: mean per-sample share of anchor states that are right (samples whose task has
  ground-truth steps);
* ``gap`` = final - step accuracy (the paper's Table 6 reading: answers right more often than the
  reasoning that should produce them);
* ``right_answer_wrong_steps``: share of samples with a right answer and at least one wrong step.

Items whose program cannot be instrumented or whose instrumented run does not reproduce the
recorded output are dropped at load time (counted in ``notes``). These are NOT official numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from stepcode.eval.benchmarks.base import EvalItem, SampleScore, ScoreMode, ScoreReport
from stepcode.eval.benchmarks.cruxeval import load_cruxeval
from stepcode.types import Program, Task, TaskKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlignedCRUXEval:
    """``mode="output"`` -> ``cruxeval-o-aligned``; ``"input"`` -> ``cruxeval-i-aligned``."""

    mode: Literal["output", "input"] = "output"
    prompt_style: Literal["raw", "chat"] = "raw"
    template: Literal["compact", "full"] = "full"
    default_params: Mapping[str, Any] = field(
        default_factory=lambda: {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": 1024}
    )
    dropped: list[str] = field(default_factory=list, compare=False)

    @property
    def name(self) -> str:
        return f"cruxeval-{self.mode[0]}-aligned"

    @property
    def kind(self) -> TaskKind:
        return TaskKind.OUTPUT_ALIGNED if self.mode == "output" else TaskKind.INPUT_ALIGNED

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        """CRUXEval items with their aligned ``Task`` in ``data["task"]`` (as a dict)."""
        from stepcode.tasks import make_tasks_batch

        rows = load_cruxeval(path, limit)
        programs = [Program(program_id=it.item_id, code=it.data["code"], entry_point="f",
                            input_args=it.data["input"], output=it.data["output"],
                            source="cruxeval") for it in rows]  # fmt: skip
        built = make_tasks_batch(programs, [self.kind], template=self.template)
        items = []
        self.dropped.clear()
        for it, tasks in zip(rows, built, strict=True):
            if tasks:
                items.append(EvalItem(item_id=it.item_id,
                                      data={**it.data, "task": tasks[0].to_dict()}))  # fmt: skip
            else:
                self.dropped.append(it.item_id)
        if self.dropped:
            log.info("%s: %d items without an aligned task", self.name, len(self.dropped))
        return items

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        task = Task.from_dict(item.data["task"])
        if self.prompt_style == "chat" and task.messages:
            return [dict(m) for m in task.messages]
        return task.prompt

    def extract(self, item: EvalItem, generation: str) -> str | None:
        from stepcode.rewards import parse_completion

        parsed = parse_completion(Task.from_dict(item.data["task"]), generation)
        return parsed.predicted if parsed.ok else None

    def score(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        *,
        mode: ScoreMode = "official",
    ) -> ScoreReport:
        from stepcode.rewards import parse_completion, score_batch

        flat: list[tuple[EvalItem, Task, int, str]] = []
        for it in items:
            task = Task.from_dict(it.data["task"])
            flat.extend((it, task, s, g) for s, g in enumerate(generations.get(it.item_id, ())))
        rewards = score_batch([t for _, t, _, _ in flat], [g for *_, g in flat])
        samples, step_accs, rawsteps = [], [], 0
        for (it, task, s, g), r in zip(flat, rewards, strict=True):
            parsed = parse_completion(task, g)
            right = r.outcome >= 1.0
            steps = [x for x, m in zip(r.steps, r.step_mask, strict=False) if m]
            if steps:
                step_accs.append(sum(steps) / len(steps))
                rawsteps += right and min(steps) < 1.0
            samples.append(SampleScore(
                item_id=it.item_id, sample_idx=s, generation=g,
                extracted=parsed.predicted if parsed.ok else None, correct=right, skipped=False,
                reason=f"{r.reason}; audit={r.audit}" if r.audit else r.reason,
            ))  # fmt: skip
        return ScoreReport(
            benchmark=self.name, mode=mode, samples=tuple(samples),
            summary=summarize(samples, step_accs, rawsteps, len(items)),
            notes=(f"{len(self.dropped)} CRUXEval items had no aligned task and were dropped",
                   "stepcode variant: not an official CRUXEval number"),
        )  # fmt: skip


def summarize(
    samples: Sequence[SampleScore], step_accs: Sequence[float], right_wrong: int, n_items: int
) -> dict[str, float]:
    """Final accuracy, step accuracy, their gap and the right-answer-wrong-steps share (percent)."""
    n = max(1, len(samples))
    final = 100.0 * sum(s.correct for s in samples) / n
    step = 100.0 * sum(step_accs) / max(1, len(step_accs))
    return {
        "pass@1": final,
        "final_accuracy": final,
        "step_accuracy": step,
        "gap": final - step,
        "right_answer_wrong_steps": 100.0 * right_wrong / n,
        "n_items": float(n_items),
        "n_samples": float(len(samples)),
    }
