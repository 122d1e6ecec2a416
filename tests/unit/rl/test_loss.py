"""PPO-clip loss: a hand-computed example, KL, and where gradients flow."""

from __future__ import annotations

import math

import pytest
import torch

from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rl.logprobs import token_logprobs
from stepcode.rl.loss import k3_kl, policy_loss


def _example():
    old = torch.zeros(1, 4)
    logp = torch.tensor([[math.log(1.5), math.log(0.5), math.log(0.5), 3.0]], requires_grad=True)
    adv = torch.tensor([[1.0, 1.0, -1.0, 5.0]])
    mask = torch.tensor([[True, True, True, False]])
    return logp, old, adv, mask


def test_loss_matches_hand_computation():
    logp, old, adv, mask = _example()
    loss, stats = policy_loss(logp, old, adv, mask, clip_eps=0.2)
    # token 0: ratio 1.5, A=+1 -> min(1.5, 1.2) = 1.2 (clipped); token 1: ratio .5, A=+1 -> .5;
    # token 2: ratio .5, A=-1 -> min(-.5, -.8) = -.8 (clipped); token 3 masked.
    assert loss.item() == pytest.approx((-1.2 - 0.5 + 0.8) / 3, abs=1e-6)
    assert stats.clipfrac == pytest.approx(2 / 3)
    assert stats.kl == 0.0
    assert stats.ratio_mean == pytest.approx((1.5 + 0.5 + 0.5) / 3, abs=1e-6)
    loss.backward()
    # clipped tokens get no gradient; the unclipped one gets -A * ratio / n_tokens
    assert torch.allclose(logp.grad, torch.tensor([[0.0, -0.5 / 3, 0.0, 0.0]]), atol=1e-6)


def test_clip_higher_and_num_tokens_divisor():
    logp, old, adv, mask = _example()
    loss, _ = policy_loss(logp, old, adv, mask, clip_eps=0.2, clip_eps_high=0.6, num_tokens=6)
    assert loss.item() == pytest.approx((-1.5 - 0.5 + 0.8) / 6, abs=1e-6)


def test_k3_kl_term_hand_computed():
    logp = torch.zeros(1, 2, requires_grad=True)
    ref = torch.tensor([[math.log(2.0), 0.0]])
    adv = torch.zeros(1, 2)
    mask = torch.ones(1, 2, dtype=torch.bool)
    loss, stats = policy_loss(logp, logp.detach(), adv, mask, ref_logprobs=ref, kl_coef=0.1)
    k3 = 2.0 - math.log(2.0) - 1.0  # exp(ref - logp) - (ref - logp) - 1
    assert stats.kl == pytest.approx(k3 / 2, abs=1e-6)
    assert loss.item() == pytest.approx(0.1 * k3 / 2, abs=1e-6)
    assert torch.all(k3_kl(torch.randn(3, 5), torch.randn(3, 5)) >= 0)
    with pytest.raises(ValueError, match="ref_logprobs"):
        policy_loss(logp, logp.detach(), adv, mask, kl_coef=0.1)


def test_on_policy_first_step_is_minus_mean_advantage():
    logp = torch.randn(3, 5, requires_grad=True)
    adv = torch.randn(3, 5)
    mask = torch.rand(3, 5) > 0.3
    loss, stats = policy_loss(logp, logp.detach(), adv, mask)
    assert loss.item() == pytest.approx(-(adv[mask].mean().item()), abs=1e-5)
    assert stats.clipfrac == 0.0 and abs(stats.approx_kl) < 1e-7


def test_gradient_flows_only_through_completion_tokens():
    tok = train_tokenizer(["def f(x):\n    return x + 1\n"] * 30, vocab_size=300)
    model = build_tiny_model(tok, seed=0)
    torch.manual_seed(0)
    V = len(tok)
    # row 0: 2 left pads + 4 prompt + 3 completion + 1 right pad; row 1: no padding
    ids = torch.randint(5, V, (2, 10))
    attn = torch.ones(2, 10, dtype=torch.long)
    attn[0, :2] = 0
    attn[0, -1] = 0
    cmask = torch.tensor([[True, True, True, False], [True, True, True, True]])
    embeds = model.get_input_embeddings()
    captured = {}

    def keep_grad(_module, _inputs, output):
        output.retain_grad()
        captured["emb"] = output

    handle = embeds.register_forward_hook(keep_grad)
    lp = token_logprobs(model, ids, attn, cmask)
    handle.remove()
    adv = torch.randn(2, 4)
    loss, _ = policy_loss(lp, lp.detach(), adv, cmask)
    loss.backward()
    grad = captured["emb"].grad.abs().sum(-1)  # [N, T]
    assert torch.all(grad[0, :2] == 0)  # left padding is invisible
    assert torch.all(grad[0, -1] == 0)  # the right pad is not a target and feeds nothing
    assert torch.all(grad[1, -1] == 0)  # the last token predicts nothing
    assert torch.all(grad[0, 2:-2] > 0) and torch.all(grad[1, :-1] > 0)
    assert torch.all(lp[0, 3] == 0)
