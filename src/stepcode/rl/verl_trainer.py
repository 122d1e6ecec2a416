"""Bi-Level GRPO inside verl 0.9's V1 trainer: a trainer mode and the ``stepcode_bilevel`` estimator.

verl calls a registered advantage estimator with ``token_level_rewards``, ``response_mask``,
``index`` (the uids) and ``config`` only (``verl/trainer/ppo/ray_trainer.py::compute_advantage``):
no per-step rewards, no token spans. Those travel as a JSON string in each sample's
``reward_extra_info`` (``rl.verl_reward``), which the agent loop stores in TransferQueue under
``extra_fields``, a field ``PPOTrainer._compute_advantage`` does not read. So:

1. ``StepcodeAdvantage`` (a mixin on verl's trainer modes, registered as ``stepcode_sync``,
   ``stepcode_colocate_async``, ``stepcode_separate_async``) overrides only
   ``_compute_advantage``: it fetches the batch's ``extra_fields`` once, puts the payloads in a
   context variable, and calls verl's own method through ``super()``, so KL-in-reward, rollout
   correction and the write-back stay verl's. It also logs ``stepcode/*`` metrics
   (``rewards.summary.summarize``, the one metric).
2. ``compute_stepcode_advantage`` (``algorithm.adv_estimator=stepcode_bilevel``) reads that
   variable, checks that the payload rows are the estimator's rows (key prefix == uid, lengths fit
   the response mask), and calls ``rl.steps``: ``stack_rows`` grouped by uid, then
   ``batch_token_advantages``, the functions the native trainer calls. Without the trainer mode it
   raises, saying what to set.

Settings: ``+algorithm.stepcode.{mode,lam,token_rule,eps}`` (``rl.steps.AdvantageSpec``; defaults
are the paper's bilevel, lam = 0.3, span) and verl's ``algorithm.norm_adv_by_std_in_grpo``.

verl's ``PPOTrainer`` branches on the *name* of the mode (``trainer_mode == "sync"`` picks the
replay buffer, refill and checkpoint behaviour; ``trainer.v1.<mode>`` holds its settings). A
stepcode mode is verl's mode with another advantage step, so its ``__init__`` hands verl a copy of
the config whose ``trainer.v1.trainer_mode`` is the base mode's name; that is the only other method
overridden.

Limits: single-output agent loops only (the default ``single_turn_agent``; a multi-output
trajectory has one payload for several responses), and the streaming reward path (no colocated
reward model). The private method relied on, ``PPOTrainer._compute_advantage(self, batch,
metrics)``, is pinned by ``tests/unit/rl/test_verl_plugin.py``.
"""

from __future__ import annotations

import contextvars
import copy
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
import transfer_queue as tq
from omegaconf import DictConfig, OmegaConf, open_dict
from verl.trainer.ppo.core_algos import register_adv_est
from verl.trainer.ppo.v1 import (
    PPOTrainerColocateAsync,
    PPOTrainerSeparateAsync,
    PPOTrainerSync,
    register_trainer,
)

from stepcode.errors import ConfigError
from stepcode.rewards.summary import summarize
from stepcode.rl.advantages import MODES
from stepcode.rl.steps import AdvantageSpec, RowSteps, batch_token_advantages, stack_rows
from stepcode.rl.verl_data import reward_from_extra_info

log = logging.getLogger(__name__)

ESTIMATOR = "stepcode_bilevel"
_SPEC_KEYS = ("mode", "lam", "token_rule", "eps", "intra")
_PAYLOADS: contextvars.ContextVar[tuple[list[str], list[RowSteps]] | None] = contextvars.ContextVar(
    "stepcode_verl_payloads", default=None
)


def advantage_spec(algorithm: Any) -> AdvantageSpec:
    """``AdvantageSpec`` from ``algorithm.stepcode`` (+ ``norm_adv_by_std_in_grpo``); checked."""
    raw = algorithm.get("stepcode", None) or {}
    values = dict(OmegaConf.to_container(raw) if isinstance(raw, DictConfig) else raw)
    unknown = sorted(set(values) - set(_SPEC_KEYS))
    if unknown:
        raise ConfigError(
            f"algorithm.stepcode: unknown key(s) {unknown}; known: {list(_SPEC_KEYS)}"
        )
    spec = AdvantageSpec(**values, norm_by_std=bool(algorithm.get("norm_adv_by_std_in_grpo", True)))
    if spec.mode not in MODES or spec.token_rule not in ("span", "suffix_sum"):
        raise ConfigError(
            f"algorithm.stepcode: mode={spec.mode!r} token_rule={spec.token_rule!r}; "
            f"use mode in {MODES} and token_rule span or suffix_sum"
        )
    return spec


def compute_stepcode_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray | None = None,
    config: Any = None,
    **_: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bi-Level token advantages ``[N, L]`` (returned twice: advantages and returns).

    ``token_level_rewards`` is not read: the step rewards come from the payloads that
    ``StepcodeAdvantage._compute_advantage`` put in context (module docstring).
    """
    shipped = _PAYLOADS.get()
    if shipped is None:
        raise ValueError(
            f"algorithm.adv_estimator={ESTIMATOR} needs stepcode's trainer mode to bring the step "
            "rewards: set trainer.v1.trainer_mode=stepcode_sync (or stepcode_colocate_async / "
            "stepcode_separate_async), and have `import verl` load stepcode's plugin "
            "(pip install 'stepcode[verl]'; or VERL_USE_EXTERNAL_MODULES=stepcode.rl.verl_plugin)"
        )
    if index is None:
        raise ValueError(f"{ESTIMATOR}: verl passed no uid index")
    keys, rows = shipped
    uids = [str(u) for u in index]
    _check_alignment(keys, uids, rows, response_mask)
    spec = advantage_spec(config) if config is not None else AdvantageSpec()
    with torch.no_grad():
        batch = stack_rows(rows, uids, response_mask.shape[1])
        adv = batch_token_advantages(batch, response_mask.bool(), spec).to(response_mask.device)
    return adv, adv


def _check_alignment(
    keys: Sequence[str], uids: Sequence[str], rows: Sequence[RowSteps], mask: torch.Tensor
) -> None:
    """The payload of row ``i`` belongs to row ``i`` of the estimator's batch, or raise."""
    if not len(keys) == len(uids) == len(rows) == mask.shape[0]:
        raise ValueError(
            f"{ESTIMATOR}: {len(rows)} payloads for {mask.shape[0]} rows ({len(uids)} uids)"
        )
    for i, (key, uid, row) in enumerate(zip(keys, uids, rows, strict=True)):
        parts = key.rsplit("_", 2)  # verl's agent loop writes {uid}_{session_id}_{output index}
        prefix, out_index = (parts[0], parts[2]) if len(parts) == 3 else (key, "?")
        if prefix != uid:
            raise ValueError(f"{ESTIMATOR}: row {i} has uid {uid!r} but its payload key is {key!r}")
        if out_index != "0":
            raise ValueError(
                f"{ESTIMATOR}: key {key!r} is output {out_index} of a multi-output agent loop; "
                "stepcode's step payload supports single-output agent loops only"
            )
        n_tokens = len(row.token_to_step)
        if n_tokens > mask.shape[1] or bool(mask[i, n_tokens:].any()):
            raise ValueError(
                f"{ESTIMATOR}: row {i} ({key!r}) has {n_tokens} scored tokens but its response mask "
                f"covers {int(mask[i].sum())}: the payload is not this response's"
            )


class StepcodeAdvantage:
    """Mixin for verl's trainer modes: step payloads from TransferQueue to the estimator."""

    verl_mode: ClassVar[str]
    """the verl mode this one runs as (``sync``, ``colocate_async``, ``separate_async``)"""
    config: Any

    def __init__(self, config: DictConfig) -> None:
        mode = config.trainer.v1.trainer_mode
        config = copy.deepcopy(config)
        with open_dict(config):
            config.trainer.v1.trainer_mode = self.verl_mode  # verl branches on this name
        if config.algorithm.adv_estimator == ESTIMATOR:
            _check_settings(config)
        log.info("trainer mode %s: verl's %r with stepcode's advantage step", mode, self.verl_mode)
        super().__init__(config)  # type: ignore[call-arg]

    def _compute_advantage(self, batch: Any, metrics: dict) -> Any:
        if self.config.algorithm.adv_estimator != ESTIMATOR:
            return super()._compute_advantage(batch, metrics)  # type: ignore[misc]
        data = tq.kv_batch_get(
            keys=batch.keys, partition_id=batch.partition_id, select_fields=["extra_fields"]
        )
        extras = data.pop("extra_fields").tolist()
        read = [reward_from_extra_info(_reward_info(e)) for e in extras]
        metrics.update(summarize([r for r, _ in read]).as_dict("stepcode/"))
        token = _PAYLOADS.set((list(batch.keys), [row for _, row in read]))
        try:
            return super()._compute_advantage(batch, metrics)  # type: ignore[misc]
        finally:
            _PAYLOADS.reset(token)


def _reward_info(extra_fields: Any) -> Any:
    return extra_fields.get("reward_extra_info") if isinstance(extra_fields, dict) else None


def _check_settings(config: DictConfig) -> None:
    """Fail at start-up, not after the first rollout, on settings the estimator cannot honour."""
    advantage_spec(config.algorithm)
    if config.algorithm.get("use_kl_in_reward", False):
        raise ConfigError(
            f"algorithm.adv_estimator={ESTIMATOR} with algorithm.use_kl_in_reward=True: the step "
            "rewards do not include verl's per-token KL penalty; set algorithm.use_kl_in_reward="
            "False and use actor_rollout_ref.actor.use_kl_loss=True for a KL term"
        )
    if config.reward.reward_model.get("enable", False) and not config.reward.reward_model.get(
        "enable_resource_pool", False
    ):
        raise ConfigError(
            f"algorithm.adv_estimator={ESTIMATOR} with a colocated reward model: that path does "
            "not store reward_extra_info per sample; disable reward.reward_model or give it its "
            "own resource pool"
        )


class StepcodeTrainerSync(StepcodeAdvantage, PPOTrainerSync):
    verl_mode = "sync"


class StepcodeTrainerColocateAsync(StepcodeAdvantage, PPOTrainerColocateAsync):
    verl_mode = "colocate_async"


class StepcodeTrainerSeparateAsync(StepcodeAdvantage, PPOTrainerSeparateAsync):
    verl_mode = "separate_async"


TRAINER_MODES: dict[str, type] = {
    "stepcode_sync": StepcodeTrainerSync,
    "stepcode_colocate_async": StepcodeTrainerColocateAsync,
    "stepcode_separate_async": StepcodeTrainerSeparateAsync,
}


def register() -> list[str]:
    """Register the estimator and the trainer modes with verl (idempotent); returns the names."""
    register_adv_est(ESTIMATOR)(compute_stepcode_advantage)
    for name, cls in TRAINER_MODES.items():
        register_trainer(name)(cls)
    return [ESTIMATOR, *TRAINER_MODES]
