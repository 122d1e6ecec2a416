"""GRPO update: micro-batched gradient accumulation equals one full-batch backward."""

from __future__ import annotations

import pytest
import torch

from stepcode.config import load_config
from stepcode.errors import ConfigError
from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rl.config import TrainConfig
from stepcode.rl.grpo import accumulate_policy_grad, select_tasks
from stepcode.rl.logprobs import PackedBatch


def _grads(model, batch, adv, cfg, ref=None) -> tuple[float, dict, list[torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss, stats = accumulate_policy_grad(model, batch, adv, cfg, ref)
    return loss, stats, [p.grad.clone() for p in model.parameters() if p.grad is not None]


@pytest.mark.parametrize("kl_coef", [0.0, 0.1])
def test_micro_batches_give_the_full_batch_gradient(kl_coef: float) -> None:
    tok = train_tokenizer(["def f(x):\n    return x + 1\n"] * 4, vocab_size=300)
    model = build_tiny_model(tok, size="tiny", seed=0)
    ref = build_tiny_model(tok, size="tiny", seed=1).eval() if kl_coef else None
    gen = torch.Generator().manual_seed(0)
    N, P, L = 6, 5, 7
    ids = torch.randint(3, 200, (N, P + L), generator=gen)
    attn = torch.ones(N, P + L, dtype=torch.long)
    attn[0, :2] = 0  # a left-padded prompt
    mask = torch.ones(N, L, dtype=torch.bool)
    mask[1, 4:] = False  # a shorter completion
    mask[3, 2:] = False
    batch = PackedBatch(ids, attn, mask)
    adv = torch.randn(N, L, generator=gen) * mask

    full_cfg = load_config(TrainConfig, None, [f"grpo.kl_coef={kl_coef}"])
    loss_full, stats_full, g_full = _grads(model, batch, adv, full_cfg, ref)
    micro_cfg = load_config(
        TrainConfig, None,
        [f"grpo.kl_coef={kl_coef}", "grpo.micro_batch=2", "rollout.tasks_per_step=3",
         "rollout.group_size=2"],
    )  # fmt: skip
    loss_micro, stats_micro, g_micro = _grads(model, batch, adv, micro_cfg, ref)

    assert loss_micro == pytest.approx(loss_full, rel=1e-5, abs=1e-7)
    assert any(g.abs().sum() > 0 for g in g_full)
    for a, b in zip(g_full, g_micro, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert stats_micro["kl"] == pytest.approx(stats_full["kl"], rel=1e-5, abs=1e-7)
    if kl_coef:
        assert stats_full["kl"] > 0


def test_micro_batch_must_divide_the_step_batch() -> None:
    with pytest.raises(ConfigError, match="does not divide"):
        load_config(TrainConfig, None, ["grpo.micro_batch=5"])  # 8 tasks x 6 samples = 48


def test_task_selection_is_a_function_of_seed_and_step() -> None:
    tasks = list(range(50))
    assert select_tasks(tasks, 8, 0, 3) == select_tasks(tasks, 8, 0, 3)
    assert select_tasks(tasks, 8, 0, 3) != select_tasks(tasks, 8, 0, 4)
    assert len(set(select_tasks(tasks, 8, 0, 3))) == 8
