"""stepcode's reward manager for verl 0.9's reward loop (``RewardManagerBase.run_single``).

verl builds it inside every ``RewardLoopWorker`` actor (``verl/experimental/reward_loop``) from
``config.reward.reward_manager``; the agent loop hands it one finished sample at a time, as token
ids plus the dataset row. It judges the response with stepcode's verifier from the task the row
carries (``rl.verl_data``) and returns

* ``reward_score = Reward.scalar``: verl writes it at the response's last token (``rm_scores``),
  so verl's score metrics, DAPO filtering and any plain estimator see stepcode's scalar reward;
* ``reward_extra_info``: the step payload (``rl.verl_data.reward_extra_info``), which verl's
  agent loop stores per sample in TransferQueue (``extra_fields["reward_extra_info"]``) where
  stepcode's trainer mode (``rl.verl_trainer``) reads it.

Configure (``main_ppo`` overrides)::

    reward.reward_manager.source=importlib
    reward.reward_manager.name=StepcodeRewardManager
    reward.reward_manager.module.path=pkg://stepcode.rl.verl_reward
    +reward.reward_kwargs.stepcode.combine=mean      # any RewardConfig field, terminal_from, trace_lines

(or ``reward.reward_manager.name=stepcode`` with the default ``source=register`` when the
``verl.plugins`` entry point is loaded). Scoring runs in the event loop's thread pool: the
sandbox pool is thread-safe, so concurrent samples of one worker score in parallel.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from omegaconf import DictConfig, OmegaConf
from verl import DataProto
from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase

from stepcode.errors import ConfigError
from stepcode.rewards.step_rewards import RewardConfig
from stepcode.rl.verl_data import reward_extra_info, score_response, task_from_extra_info

REGISTERED_NAME = "stepcode"


class StepcodeRewardManager(RewardManagerBase):
    """Judges each response by execution; scalar reward plus the step payload (module docstring)."""

    def __init__(
        self,
        config: DictConfig,
        tokenizer: Any,
        compute_score: Any = None,
        reward_router_address: str | None = None,
        reward_model_tokenizer: Any = None,
        **_: Any,
    ) -> None:
        super().__init__(config, tokenizer, compute_score)
        self.reward_cfg, self.row_rule = reward_settings(config)

    async def run_single(self, data: DataProto) -> dict[str, Any]:
        item = data[-1]  # a multi-output trajectory is judged on its last output, as verl's naive
        responses = item.batch["responses"]
        length = int(item.batch["attention_mask"][-responses.shape[-1] :].sum())
        ids = responses[:length].tolist()
        task = task_from_extra_info(item.non_tensor_batch.get("extra_info"))
        reward, row = await self.loop.run_in_executor(
            None,
            lambda: score_response(task, ids, self.tokenizer, self.reward_cfg, **self.row_rule),
        )
        return {
            "reward_score": float(reward.scalar),
            "reward_extra_info": reward_extra_info(reward, row),
        }


# row_steps' settings a verl config may set (the first choice is the default)
ROW_RULES = {"terminal_from": ("outcome", "scalar"), "trace_lines": ("exact", "free")}


def reward_settings(config: Any) -> tuple[RewardConfig, dict[str, str]]:
    """``RewardConfig`` and ``row_steps``'s ``terminal_from`` / ``trace_lines`` from
    ``reward.reward_kwargs.stepcode`` (all optional)."""
    kwargs = config.reward.get("reward_kwargs", None) or {}
    raw = kwargs.get("stepcode", None) or {}
    values = dict(OmegaConf.to_container(raw) if isinstance(raw, DictConfig) else raw)
    row_rule = {key: str(values.pop(key, choices[0])) for key, choices in ROW_RULES.items()}
    for key, choices in ROW_RULES.items():
        if row_rule[key] not in choices:
            raise ConfigError(
                f"reward.reward_kwargs.stepcode.{key}={row_rule[key]!r}: use one of {choices}"
            )
    fields = {f.name for f in dataclasses.fields(RewardConfig)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigError(
            f"reward.reward_kwargs.stepcode: unknown key(s) {unknown}; known: "
            f"{sorted(fields | set(ROW_RULES))}"
        )
    return RewardConfig(**values), row_rule


def register_reward_manager() -> type[StepcodeRewardManager]:
    """Register under ``reward.reward_manager.name=stepcode`` (``source=register``)."""
    from verl.experimental.reward_loop.reward_manager import register

    return register(REGISTERED_NAME)(StepcodeRewardManager)
