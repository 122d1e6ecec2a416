"""Greedy evaluation of a policy on held-out tasks, by level: final and step accuracy.

Final accuracy is the outcome checked by execution; step accuracy is the share of ground-truth
anchor lines predicted right; their gap and the "right answer, wrong steps" share are the paper's
Table 6 quantities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from stepcode.rewards import RewardConfig, score_batch
from stepcode.rewards.summary import summarize
from stepcode.rollout.generate import sample_group
from stepcode.rollout.params import SamplingParams
from stepcode.types import SampleRecord, Task

BENCHMARK = "train-eval"
"""``SampleRecord.benchmark`` of the trainer's held-out evaluation rows"""


def evaluate_policy(
    model: Any,
    tokenizer: Any,
    tasks: Sequence[Task],
    *,
    max_new_tokens: int = 160,
    chat: bool = False,
    batch_tasks: int = 50,
    reward: RewardConfig | None = None,
) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]]]:
    """``({level: metrics}, per-sample rows)``; level ``"all"`` aggregates every task. Rows are
    ``types.SampleRecord`` dicts (the ``samples.jsonl`` schema of ``eval run``), grouped by level."""
    greedy = SamplingParams(n=1, temperature=0.0, max_tokens=max_new_tokens)
    rollouts = sample_group(model, tokenizer, tasks, greedy, batch_tasks=batch_tasks, chat=chat)
    rewards = score_batch(list(tasks), [r.completion for r in rollouts], reward or RewardConfig())
    by_level: dict[str, list] = defaultdict(list)
    rows = []
    for task, roll, rew in zip(tasks, rollouts, rewards, strict=True):
        level = str(task.metadata.get("level", "?"))
        by_level[level].append(rew)
        by_level["all"].append(rew)
        rows.append(
            SampleRecord.from_reward(
                item_id=task.task_id, generation=roll.completion, reward=rew, benchmark=BENCHMARK,
                prompt=roll.prompt, group={"level": level},
            ).to_dict()
        )  # fmt: skip
    table = {level: _summarise(rs) for level, rs in sorted(by_level.items())}
    return table, rows


def _summarise(rewards: Sequence[Any]) -> dict[str, float]:
    m = summarize(rewards)
    return {
        "n": float(m.n),
        "final_acc": m.final_acc,
        "step_acc": m.step_acc,
        "gap": m.gap,
        "right_answer_wrong_steps": m.right_answer_wrong_steps,
    }


def format_table(
    before: Mapping[str, Mapping[str, float]],
    after: Mapping[str, Mapping[str, float]],
    warmup: Mapping[str, Mapping[str, float]] | None = None,
    *,
    joined: bool = False,
) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)`` of the held-out table: per level, final and step accuracy at init, after
    the warm-up (when given) and at the end, then "right answer, wrong steps" at the end.
    ``joined``: one cell per metric, the stages as ``a / b / c`` (fits an 80-column terminal)."""
    stages = [("init", before), *([("warm-up", warmup)] if warmup else []),
              ("GRPO" if warmup else "after", after)]  # fmt: skip
    names = [name for name, _ in stages]
    header = ["level", "n"]
    for metric in ("final %", "step %"):
        header += [f"{metric} {' / '.join(names)}"] if joined else [f"{metric} {n}" for n in names]
    header.append("right answer, wrong steps %")
    rows = []
    for level, a in after.items():
        cells = [level, f"{int(a['n'])}"]
        for key in ("final_acc", "step_acc"):
            values = [f"{100 * t.get(level, {}).get(key, 0.0):.1f}" for _, t in stages]
            cells += [" / ".join(values)] if joined else values
        cells.append(f"{100 * a['right_answer_wrong_steps']:.1f}")
        rows.append(cells)
    return header, rows
