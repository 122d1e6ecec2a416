"""stepcode's execution-aligned CRUXEval variants: ``cruxeval-o-aligned`` and ``cruxeval-i-aligned``.

Each CRUXEval item becomes a ``Task`` of kind ``output_aligned`` / ``input_aligned`` through
``stepcode.tasks.make_tasks_batch`` (the instrumented program is shown; the model writes the anchor
states, then the answer). ``load`` also takes a stepcode task file (JSONL of ``Task`` records, e.g. a
training run's ``data/eval.jsonl``): those tasks are evaluated as they are, so ``eval run`` and the
trainer's evaluation see the same tasks.

Completions are scored with ``stepcode.rewards.score_batch`` (execution from trusted code through
the sandbox; input-aligned steps are checked against the trace of the model's OWN input), and the
summary is ``stepcode.rewards.summary.summarize`` of those rewards, the one Table-6 metric the
trainer reports too: ``final_acc``, ``step_acc``, ``gap``, ``right_answer_wrong_steps``,
``format_ok`` (fractions), plus ``pass@1`` = 100 x ``final_acc`` for the leaderboard-style tables.
Each sample row keeps the reward's parse (the extracted answer), its steps and its audit class.

Items whose program cannot be instrumented or whose instrumented run does not reproduce the
recorded output are dropped at load time (their count is on every item as ``n_dropped``, and in
the notes). These are NOT official numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from stepcode.errors import DataError
from stepcode.eval.benchmarks.base import EvalItem, SampleScore, ScoreMode, ScoreReport
from stepcode.eval.benchmarks.cruxeval import load_cruxeval
from stepcode.io import read_jsonl
from stepcode.types import Program, Task, TaskKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlignedCRUXEval:
    """``mode="output"`` -> ``cruxeval-o-aligned``; ``"input"`` -> ``cruxeval-i-aligned``."""

    mode: Literal["output", "input"] = "output"
    prompt_style: Literal["raw", "chat"] = "raw"
    template: Literal["compact", "full"] = "full"
    """prompt template of the tasks built from CRUXEval rows (task files keep their own)"""
    strict_types: bool = False
    """outcome equality with REval's type rule (``RewardConfig.strict_types``, as in training)"""
    default_params: Mapping[str, Any] = field(
        default_factory=lambda: {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": 1024}
    )

    @property
    def name(self) -> str:
        return f"cruxeval-{self.mode[0]}-aligned"

    @property
    def kind(self) -> TaskKind:
        return TaskKind.OUTPUT_ALIGNED if self.mode == "output" else TaskKind.INPUT_ALIGNED

    @property
    def prompt_info(self) -> dict[str, str]:
        return {"prompts": "stepcode", "prompt_source": f"stepcode.tasks ({self.template})"}

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        """Items with their aligned ``Task`` in ``data["task"]``: from a task file, or built from
        CRUXEval rows (a local ``cruxeval.jsonl`` or the hub dataset)."""
        tasks = _task_file(path, self.kind) if path is not None else None
        if tasks is not None:
            tasks = tasks[:limit] if limit else tasks
            return [EvalItem(item_id=t.task_id, data={"task": t, "code": t.reference.code,
                                                      "n_dropped": 0}) for t in tasks]  # fmt: skip
        from stepcode.tasks import make_tasks_batch

        rows = load_cruxeval(path, limit)
        programs = [Program(program_id=it.item_id, code=it.data["code"], entry_point="f",
                            input_args=it.data["input"], output=it.data["output"],
                            source="cruxeval") for it in rows]  # fmt: skip
        built = make_tasks_batch(programs, [self.kind], template=self.template)
        dropped = sum(not t for t in built)
        if dropped:
            log.info("%s: %d items without an aligned task", self.name, dropped)
        return [EvalItem(item_id=it.item_id, data={**it.data, "task": ts[0], "n_dropped": dropped})
                for it, ts in zip(rows, built, strict=True) if ts]  # fmt: skip

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        task: Task = item.data["task"]
        if self.prompt_style == "chat" and task.messages:
            return [dict(m) for m in task.messages]
        return task.prompt

    def extract(self, item: EvalItem, generation: str) -> str | None:
        from stepcode.rewards import parse_completion

        parsed = parse_completion(item.data["task"], generation)
        return parsed.predicted if parsed.ok else None

    def score(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        *,
        mode: ScoreMode = "official",
    ) -> ScoreReport:
        from stepcode.rewards import RewardConfig, score_batch
        from stepcode.rewards.summary import summarize

        flat = [(it, s, g) for it in items for s, g in enumerate(generations.get(it.item_id, ()))]
        cfg = RewardConfig(strict_types=self.strict_types)
        rewards = score_batch([it.data["task"] for it, _, _ in flat], [g for *_, g in flat], cfg)
        samples = tuple(
            SampleScore.from_reward(item_id=it.item_id, sample_idx=s, benchmark=self.name,
                                    generation=g, reward=r)
            for (it, s, g), r in zip(flat, rewards, strict=True)
        )  # fmt: skip
        metrics = summarize(rewards)
        dropped = max((int(it.data.get("n_dropped", 0)) for it in items), default=0)
        summary = {"pass@1": 100.0 * metrics.final_acc, **metrics.as_dict(),
                   "n_items": float(len(items)), "n_samples": float(len(samples))}  # fmt: skip
        return ScoreReport(
            benchmark=self.name, mode=mode, samples=samples, summary=summary,
            notes=(f"{dropped} CRUXEval items had no aligned task and were dropped",
                   "stepcode variant: not an official CRUXEval number; final_acc, step_acc, gap, "
                   "right_answer_wrong_steps and format_ok are fractions (rewards.summary)"),
        )  # fmt: skip


def _task_file(path: str, kind: TaskKind) -> list[Task] | None:
    """The tasks of a stepcode task JSONL, or None when ``path`` holds CRUXEval rows instead."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"aligned benchmark data not found: {p}")
    rows = list(read_jsonl(p, strict=True))
    if not rows or "reference" not in rows[0]:
        return None
    tasks = []
    for i, row in enumerate(rows, 1):
        try:
            task = Task.from_dict(row)
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"{p}:{i}: not a stepcode task record ({e})") from None
        if task.kind is not kind:
            raise DataError(f"{p}:{i}: task {task.task_id} is {task.kind.value}, not {kind.value}")
        tasks.append(task)
    return tasks
