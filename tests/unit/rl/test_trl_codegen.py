"""TRL's reward functions give stage II's reward: scalar_reward + 0.05 * format_reward is the
native fraction of tests passed + format bonus (runs where trl is installed: .ci/run's venv)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from codegen_cases import CODEGEN_COMPLETIONS, codegen_task  # noqa: E402


def test_trl_reward_functions_give_the_native_codegen_reward() -> None:
    from stepcode.rewards import RewardConfig, score_batch
    from stepcode.rl.trl_grpo import format_reward, scalar_reward, task_to_trl_row

    task, comps = codegen_task(), CODEGEN_COMPLETIONS
    native = score_batch([task] * 3, comps, RewardConfig(format_bonus=0.05))
    column = [task_to_trl_row(task)["stepcode_task"]] * 3  # what GRPOTrainer passes
    got = [s + 0.05 * f for s, f in zip(scalar_reward(comps, stepcode_task=column),
                                        format_reward(comps, stepcode_task=column), strict=True)]  # fmt: skip
    assert got == pytest.approx([w.scalar for w in native]) == [1.05, 0.55, 0.0]
    assert json.loads(column[0])["kind"] == "codegen"
