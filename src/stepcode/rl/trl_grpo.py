"""stepcode inside TRL: reward functions for ``GRPOTrainer`` and a Bi-Level ``GRPOTrainer``.

* ``outcome_reward``, ``format_reward``, ``step_accuracy_reward`` are plain TRL reward functions
  (``f(completions, stepcode_task, **kwargs) -> list[float | None]``): the dataset needs a
  ``stepcode_task`` column (``trl_dataset``). Each batch is judged once by execution
  (``rewards.score_batch``) and the three functions read the same ``Reward`` records. With
  ``GRPOTrainer`` they give outcome GRPO on ``reward_weights``-weighted sums (TRL's advantage).
* ``BiLevelGRPOTrainer`` is a ``GRPOTrainer`` whose advantages are stepcode's per-token Bi-Level
  advantages (per-anchor group term + lam * intra-trajectory credit on each step's tokens),
  computed by ``rl.steps`` from the same records, the functions the native trainer and verl call.
  TRL's loss accepts ``[B, T]`` advantages from subclasses (``_compute_loss``: "To support
  subclasses that provide advantages with shape (B, T)"); the one TRL method overridden,
  ``_generate_and_score_completions(self, inputs)``, is pinned by ``tests/unit/rl/test_trl_grpo.py``.

Deviations: TRL's logged ``advantages`` column (completions table) keeps TRL's scalar values;
the ones used are logged as ``stepcode/*`` metrics. Token spans come from the completion's
exact ids (``rollout.detokenize``), so they match the native sampler's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import torch

from stepcode.rewards import score_batch
from stepcode.rewards.summary import sample_step_acc, summarize
from stepcode.rl.steps import AdvantageSpec, RowSteps, batch_token_advantages, row_steps, stack_rows
from stepcode.types import Reward, Task

TASK_COLUMN = "stepcode_task"


def task_to_trl_row(task: Task) -> dict[str, Any]:
    """One TRL dataset row: chat ``prompt`` plus the task as JSON (the judge's trusted copy)."""
    messages = [dict(m) for m in task.messages] or [{"role": "user", "content": task.prompt}]
    return {"prompt": messages, TASK_COLUMN: json.dumps(task.to_dict())}


def trl_dataset(tasks: Sequence[Task]) -> Any:
    """A ``datasets.Dataset`` of ``task_to_trl_row`` rows for ``GRPOTrainer(train_dataset=...)``."""
    from datasets import Dataset

    return Dataset.from_list([task_to_trl_row(t) for t in tasks])


def _text(completion: Any) -> str:
    """TRL passes a string, or for chat prompts a list of messages ending with the assistant's."""
    if isinstance(completion, str):
        return completion
    return "".join(str(m.get("content", "")) for m in completion if m.get("role") == "assistant")


@lru_cache(maxsize=8)
def _score(tasks_json: tuple[str, ...], texts: tuple[str, ...]) -> tuple[Reward, ...]:
    """One execution-judged batch; the three reward functions of a step share it (pure: cached)."""
    tasks = [Task.from_dict(json.loads(t)) for t in tasks_json]
    return tuple(score_batch(tasks, list(texts)))


def score_completions(completions: Sequence[Any], stepcode_task: Sequence[str]) -> list[Reward]:
    """``Reward`` of each completion (TRL's ``completions`` and the ``stepcode_task`` column)."""
    return list(_score(tuple(stepcode_task), tuple(_text(c) for c in completions)))


def outcome_reward(completions: list, stepcode_task: list[str], **_: Any) -> list[float]:
    """1.0 when the final answer is right by execution, else 0.0.

    Example::

        GRPOTrainer(model, reward_funcs=[outcome_reward, format_reward, step_accuracy_reward],
                    train_dataset=trl_dataset(tasks), args=GRPOConfig(reward_weights=[0.5, 0, 0.5]))
    """
    return [r.outcome for r in score_completions(completions, stepcode_task)]


def scalar_reward(completions: list, stepcode_task: list[str], **_: Any) -> list[float]:
    """``Reward.scalar`` (no format bonus here): for code generation the fraction of unit tests
    passed, so ``reward_funcs=[scalar_reward, format_reward]`` with ``reward_weights=[1, 0.05]``
    is ExecVerify's stage II reward, the one the native trainer and verl optimise."""
    return [r.scalar for r in score_completions(completions, stepcode_task)]


def format_reward(completions: list, stepcode_task: list[str], **_: Any) -> list[float]:
    """1.0 when the answer could be read (``Reward.format_ok``), else 0.0."""
    return [float(r.format_ok) for r in score_completions(completions, stepcode_task)]


def step_accuracy_reward(
    completions: list, stepcode_task: list[str], **_: Any
) -> list[float | None]:
    """Share of the ground-truth trace steps stated right; None (not applicable) without steps."""
    return [sample_step_acc(r) for r in score_completions(completions, stepcode_task)]


REWARD_FUNCS = (outcome_reward, format_reward, step_accuracy_reward)
"""the execution-reasoning rewards; code generation: ``scalar_reward`` + ``format_reward``"""


def _trainer_base() -> type:
    from trl import GRPOTrainer

    return GRPOTrainer


class BiLevelGRPOTrainer(_trainer_base()):  # type: ignore[misc]
    """``trl.GRPOTrainer`` with stepcode's per-token Bi-Level advantages (module docstring).

    Args (beyond ``GRPOTrainer``'s): ``advantage_spec`` (``rl.steps.AdvantageSpec``: mode, lam,
    token rule; default the paper's bilevel, lam = 0.3) and ``terminal_from`` (the answer step's
    reward: ``outcome`` or ``scalar``) and ``trace_lines`` (``exact``, the default, or ``free``:
    ``rl.steps.row_steps``). The dataset needs the ``stepcode_task`` column.
    """

    def __init__(
        self,
        *args: Any,
        advantage_spec: AdvantageSpec = AdvantageSpec(),  # noqa: B008
        terminal_from: str = "outcome",
        trace_lines: str = "exact",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("reward_funcs", list(REWARD_FUNCS))
        super().__init__(*args, **kwargs)
        self.advantage_spec = advantage_spec
        self.terminal_from = terminal_from
        self.trace_lines = trace_lines

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        output = super()._generate_and_score_completions(inputs)
        output["advantages"] = self._bilevel_advantages(inputs, output)
        return output

    def _bilevel_advantages(
        self, inputs: list[dict[str, Any]], output: dict[str, Any]
    ) -> torch.Tensor:
        """``[B_local, L]`` token advantages; groups are the G consecutive rows of the global batch."""
        from accelerate.utils import gather_object

        from stepcode.rollout.detokenize import detokenize

        mode = "train" if self.model.training else "eval"
        G = self.num_generations if mode == "train" else self.num_generations_eval
        ids, mask = output["completion_ids"], output["completion_mask"].bool()
        tok = self.processing_class
        eos = [tok.eos_token_id] if tok.eos_token_id is not None else []
        decoded = [detokenize(tok, ids[i][mask[i]].tolist(), eos) for i in range(len(ids))]
        tasks = [x[TASK_COLUMN] for x in inputs]
        rewards = score_completions([t for t, _ in decoded], tasks)
        rows = [
            row_steps(
                w,
                _pad_offsets(offsets, text, int(mask[i].sum())),
                terminal_from=self.terminal_from,  # type: ignore[arg-type]
                trace_lines=self.trace_lines,  # type: ignore[arg-type]
            )
            for i, (w, (text, offsets)) in enumerate(zip(rewards, decoded, strict=True))
        ]
        all_rows: list[RowSteps] = gather_object(rows)
        all_rewards: list[Reward] = gather_object(rewards)
        start = self.accelerator.process_index * len(rows)
        full_mask = torch.zeros(len(all_rows), mask.shape[1], dtype=torch.bool, device=mask.device)
        full_mask[start : start + len(rows)] = mask
        batch = stack_rows(all_rows, [i // G for i in range(len(all_rows))], mask.shape[1])
        adv = batch_token_advantages(batch, full_mask, self.advantage_spec)[
            start : start + len(rows)
        ]
        for key, value in summarize(all_rewards).as_dict("stepcode/").items():
            self._metrics[mode][key].append(value)
        self._metrics[mode]["stepcode/adv_abs_mean"].append(
            float(adv.abs().sum() / mask.sum().clamp(min=1))
        )
        return adv.to(mask.device)


def _pad_offsets(
    offsets: Sequence[tuple[int, int]], text: str, n: int
) -> tuple[tuple[int, int], ...]:
    """One span per counted token: ids after an EOS (kept by the mask) sit at the text's end."""
    return (*offsets, *[(len(text), len(text))] * (n - len(offsets)))
