"""verl integration: Bi-Level GRPO as a registered verl advantage estimator + a reward manager.

verl (``volcengine/verl``, read at ``verl/trainer/ppo/core_algos.py`` and
``verl/workers/reward_manager/``) calls an advantage estimator with only
``token_level_rewards [N, T]``, ``response_mask [N, T]``, ``index`` (the per-row ``uid`` array from
``non_tensor_batch``) and ``config``. Per-step rewards do not fit that signature, so they travel on
the ``uid`` itself:

  * the reward manager (``register_reward_manager``) scores each response with stepcode's verifier,
    segments it into steps (``rl.segment``), writes the scalar reward at the last valid token
    exactly as verl's ``NaiveRewardManager`` does (so every verl metric stays correct), and returns
    ``reward_extra_info["uid"]``: an ``object`` array of ``StepUid`` strings. verl's trainer does
    ``non_tensor_batch.update({k: np.array(v) ...})``; ``np.array`` of an object array keeps the
    objects, so the uids now carry ``step_rewards``, ``step_mask`` and ``token_to_step``;
  * ``StepUid`` is a ``str`` equal to the original uid, so grouping, balancing and logging in verl
    behave as before;
  * the estimator (``register_bilevel_estimator``) groups rows by uid and calls the SAME pure
    functions as the native trainer (``rl.advantages.step_advantages`` / ``token_advantages``):
    there is no second implementation of the math.

Requirements and limits (stated, not guessed):
  * which verl: the reward-manager plumbing follows verl's ``RayPPOTrainer`` that calls
    ``reward_fn(batch, return_dict=True)`` and merges ``reward_extra_info`` into
    ``non_tensor_batch`` (``verl/trainer/ppo/ray_trainer.py`` up to 0.7.x, read at volcengine/verl
    b178a3c). Estimator registration and the estimator itself also run unchanged on verl 0.9.1
    (tested), but 0.9.1 computes rewards inside the agent loop (``experimental/reward_loop``),
    which writes one scalar per response into ``rm_scores``, and its V1 trainer hands the
    estimator plain ``uid`` strings; per-step rewards cannot reach the estimator there without a
    custom agent loop. The estimator then fails with a message saying so (no silent fallback);
  * use ``algorithm.adv_estimator=<registered name>``, ``reward_model.reward_manager=<registered
    name>`` and ``algorithm.use_kl_in_reward=False`` (use ``actor.use_kl_loss`` with
    ``kl_loss_type=low_var_kl`` for KL);
  * both ``register_*`` functions must run in the process that runs ``RayPPOTrainer.fit`` (verl's
    ``TaskRunner`` actor): pass a ``TaskRunner`` subclass whose ``run`` calls them first to
    ``verl.trainer.main_ppo.run_ppo(config, task_runner_class=...)``; verl is imported only inside
    the ``register_*`` functions;
  * dataset rows come from ``task_to_verl_row`` (the full stepcode ``Task`` rides in
    ``extra_info["stepcode_task"]``), prompts in chat form.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from stepcode.rl.advantages import step_advantages, token_advantages
from stepcode.types import Reward, Task

log = logging.getLogger(__name__)

TASK_KEY = "stepcode_task"


class StepUid(str):
    """A verl ``uid`` that also carries one response's step rewards and token->step map."""

    step_rewards: tuple[float, ...]
    """``[n + 1]`` anchor rewards then the terminal (outcome) reward"""
    step_mask: tuple[bool, ...]
    """``[n + 1]`` True where the step exists"""
    token_to_step: tuple[int, ...]
    """``[T_valid]`` step of each response token; ``n`` (the last index) = terminal"""

    def __new__(
        cls,
        uid: str,
        step_rewards: Sequence[float],
        step_mask: Sequence[bool],
        token_to_step: Sequence[int],
    ) -> StepUid:
        obj = super().__new__(cls, uid)
        obj.step_rewards = tuple(float(x) for x in step_rewards)
        obj.step_mask = tuple(bool(x) for x in step_mask)
        obj.token_to_step = tuple(int(x) for x in token_to_step)
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickles across Ray workers with its payload
        return (StepUid, (str(self), self.step_rewards, self.step_mask, self.token_to_step))


def encode_step_uid(uid: str, reward: Reward, token_to_step: Sequence[int]) -> StepUid:
    """Pack one scored response: anchors ``0..n-1`` then the outcome at index ``n``.

    ``token_to_step`` must use ``n`` as the terminal index (``segment_completion(..., n_anchors=n,
    terminal=n)``).
    """
    n = len(reward.steps)
    mask = reward.step_mask if len(reward.step_mask) == n else (True,) * n
    steps = [s if m else 0.0 for s, m in zip(reward.steps, mask, strict=True)]
    return StepUid(uid, (*steps, float(reward.outcome)), (*mask, True), token_to_step)


def decode_step_index(
    index: Sequence[Any], response_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[list[int]]]:
    """Rebuild the native tensors from ``StepUid`` rows.

    Returns ``(step_rewards [B, Gmax, S], step_mask [B, Gmax, S], token_to_step [N, T] long,
    groups)`` where ``groups[b]`` lists the row numbers of uid group ``b`` (verl's grouping) and the
    terminal step sits at ``S - 1`` as ``rl.advantages`` expects. Rows of short groups are masked.
    """
    missing = [i for i, u in enumerate(index) if not isinstance(u, StepUid)]
    if missing:
        raise ValueError(
            f"{len(missing)} rows have plain uids (first: row {missing[0]}): the bi-level estimator "
            "needs stepcode's reward manager (reward_model.reward_manager=<the name passed to "
            "register_reward_manager>), algorithm.use_kl_in_reward=False and a trainer that merges "
            "reward_extra_info into non_tensor_batch (verl <= 0.7 RayPPOTrainer; not the 0.9 "
            "agent-loop/V1 path, see the stepcode.rl.verl_adapter docstring)"
        )
    groups: dict[str, list[int]] = {}
    for row, uid in enumerate(index):
        groups.setdefault(str(uid), []).append(row)
    order = list(groups.values())
    S = max(len(u.step_rewards) for u in index)
    G = max(len(g) for g in order)
    rewards = torch.zeros(len(order), G, S)
    mask = torch.zeros(len(order), G, S, dtype=torch.bool)
    N, T = response_mask.shape
    tts = torch.full((N, T), -1, dtype=torch.long)
    for b, rows in enumerate(order):
        for g, row in enumerate(rows):
            u = index[row]
            n = len(u.step_rewards) - 1
            rewards[b, g, :n] = torch.tensor(u.step_rewards[:n])
            mask[b, g, :n] = torch.tensor(u.step_mask[:n], dtype=torch.bool)
            rewards[b, g, S - 1] = u.step_rewards[n]
            mask[b, g, S - 1] = u.step_mask[n]
            steps = torch.tensor(u.token_to_step[:T], dtype=torch.long)
            tts[row, : len(steps)] = torch.where(steps == n, S - 1, steps)
    return rewards, mask, tts, order


def bilevel_token_advantages(
    response_mask: torch.Tensor,
    index: Sequence[Any],
    *,
    lam: float = 0.3,
    mode: str = "bilevel",
    token_rule: str = "span",
    eps: float = 1e-6,
    norm_by_std: bool = True,
) -> torch.Tensor:
    """The estimator body without verl: ``[N, T]`` advantages from ``StepUid`` rows.

    Calls ``rl.advantages.step_advantages`` and ``token_advantages``, the native trainer's path.
    """
    rewards, mask, tts, groups = decode_step_index(index, response_mask)
    adv_bgs = step_advantages(rewards, mask, lam=lam, mode=mode, eps=eps, norm_by_std=norm_by_std)
    S = rewards.shape[-1]
    per_row = torch.zeros(response_mask.shape[0], S)
    for b, rows in enumerate(groups):
        per_row[rows] = adv_bgs[b, : len(rows)]
    tts = tts.to(response_mask.device)
    out = token_advantages(per_row.to(response_mask.device), tts, response_mask.bool(), token_rule)
    return out.to(torch.float32)


def task_to_verl_row(task: Task, split: str = "train", index: int = 0) -> dict[str, Any]:
    """One verl RL dataset row (write a list of them to parquet) for a stepcode task."""
    messages = [dict(m) for m in task.messages] or [{"role": "user", "content": task.prompt}]
    return {
        "data_source": "stepcode",
        "prompt": messages,
        "ability": "code_execution_reasoning",
        "reward_model": {"style": "rule", "ground_truth": task.reference.output},
        "extra_info": {"split": split, "index": index, TASK_KEY: json.dumps(task.to_dict())},
    }


def score_response(
    task: Task, response_ids: Sequence[int], tokenizer: Any, reward_cfg: Any = None
) -> tuple[Reward, list[int]]:
    """Score one verl response with stepcode's verifier and map its tokens to steps.

    Returns ``(Reward, token_to_step)`` with the terminal step at index ``len(Reward.steps)``.
    """
    from stepcode.rewards import parse_completion, score_completion
    from stepcode.rl.segment import segment_completion
    from stepcode.rollout.detokenize import detokenize

    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    text, offsets = detokenize(tokenizer, response_ids, eos)
    reward = (
        score_completion(task, text)
        if reward_cfg is None
        else score_completion(task, text, reward_cfg)
    )
    parsed = parse_completion(task, text)
    n = len(reward.steps)
    spans = tuple(getattr(parsed, "step_spans", ()) or ())
    steps = segment_completion(offsets, spans, getattr(parsed, "answer_span", None), n, n)
    steps += [n] * (len(response_ids) - len(steps))  # tokens after EOS (should be none)
    return reward, steps


def register_bilevel_estimator(
    name: str = "stepcode_bilevel",
    *,
    lam: float = 0.3,
    mode: str = "bilevel",
    token_rule: str = "span",
) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """Register the estimator with verl's ``register_adv_est`` under ``name``; returns it."""
    from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY, register_adv_est

    def compute_stepcode_advantage(
        token_level_rewards: torch.Tensor,
        response_mask: torch.Tensor,
        index: np.ndarray | None = None,
        epsilon: float = 1e-6,
        norm_adv_by_std_in_grpo: bool = True,
        config: Any = None,
        **_: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if index is None:
            raise ValueError("the bi-level estimator needs verl's per-row uid index")
        norm = norm_adv_by_std_in_grpo
        if config is not None and hasattr(config, "get"):
            norm = config.get("norm_adv_by_std_in_grpo", norm)
        with torch.no_grad():
            adv = bilevel_token_advantages(
                response_mask, list(index), lam=lam, mode=mode, token_rule=token_rule,
                eps=epsilon, norm_by_std=norm,
            )  # fmt: skip
        return adv, adv

    if name in ADV_ESTIMATOR_REGISTRY:  # re-registration in the same process replaces ours
        del ADV_ESTIMATOR_REGISTRY[name]
    return register_adv_est(name)(compute_stepcode_advantage)


def register_reward_manager(
    name: str = "stepcode",
    reward_cfg: Any = None,
    score_fn: Callable[..., tuple[Reward, list[int]]] | None = None,
) -> type:
    """Define and register (verl ``reward_manager.register``) stepcode's reward manager.

    ``score_fn(task, response_ids, tokenizer, reward_cfg) -> (Reward, token_to_step)`` defaults to
    ``score_response`` (stepcode's verifier).
    """
    scorer = score_fn or score_response
    from verl.workers.reward_manager import register
    from verl.workers.reward_manager.abstract import AbstractRewardManager
    from verl.workers.reward_manager.registry import REWARD_MANAGER_REGISTRY

    class StepcodeRewardManager(AbstractRewardManager):
        """Scores with stepcode's verifier; carries step rewards on the uids (module docstring)."""

        def __init__(
            self, tokenizer, num_examine, compute_score=None, reward_fn_key="data_source", **kw
        ):
            self.tokenizer = tokenizer
            self.num_examine = num_examine

        def __call__(self, data: Any, return_dict: bool = False) -> Any:
            return _score_batch(self.tokenizer, data, reward_cfg, return_dict, scorer)

    REWARD_MANAGER_REGISTRY.pop(name, None)
    return register(name)(StepcodeRewardManager)


def _score_batch(
    tokenizer: Any, data: Any, reward_cfg: Any, return_dict: bool, scorer: Callable[..., Any]
) -> Any:
    """The reward manager's body: ``[N, T]`` scalar rewards at the last token + ``StepUid`` uids."""
    responses = data.batch["responses"]
    prompt_len = data.batch["prompts"].shape[-1]
    reward_tensor = torch.zeros_like(responses, dtype=torch.float32)
    uids, extra = [], {"outcome": [], "step_acc": [], "audit": []}
    for i in range(len(data)):
        length = int(data.batch["attention_mask"][i, prompt_len:].sum())
        ids = responses[i, :length].tolist()
        info = data.non_tensor_batch["extra_info"][i]
        task = Task.from_dict(json.loads(info[TASK_KEY]))
        reward, steps = scorer(task, ids, tokenizer, reward_cfg)
        if length > 0:
            reward_tensor[i, length - 1] = reward.scalar
        uids.append(encode_step_uid(str(data.non_tensor_batch["uid"][i]), reward, steps))
        valid = [s for s, m in zip(reward.steps, reward.step_mask, strict=False) if m]
        extra["outcome"].append(reward.outcome)
        extra["step_acc"].append(sum(valid) / len(valid) if valid else float("nan"))
        extra["audit"].append(reward.audit)
    extra["uid"] = np.array(uids, dtype=object)
    if return_dict:
        return {"reward_tensor": reward_tensor, "reward_extra_info": extra}
    return reward_tensor
