"""SFT optimizer: Muon takes the hidden matrices only; the AdamW+Muon chain trains and resumes exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from stepcode.errors import ConfigError
from stepcode.rl import checkpoint as ckpt
from stepcode.rl.optim import Chain, build_scheduler, build_sft_optimizer, muon_params


def _model(tied: bool = True, seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=tied,
    )  # fmt: skip
    return LlamaForCausalLM(cfg)


def _opt(model):
    opt = build_sft_optimizer(
        model, "muon", lr=1e-2, muon_lr=0.02, weight_decay=0.01, betas=(0.9, 0.95)
    )
    return opt, build_scheduler(opt, lambda s: 0.5 ** (s // 10))


def _step(model, opt, sched, batch: torch.Tensor) -> float:
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    opt.step()
    sched.step()
    opt.zero_grad()
    return loss.item()


@pytest.mark.parametrize("tied", [True, False])
def test_muon_takes_the_hidden_matrices_and_adamw_the_rest(tied: bool) -> None:
    model = _model(tied)
    mats, rest = muon_params(model)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(p.ndim == 2 for p in mats)
    assert {names[id(p)].rsplit(".", 2)[-2] for p in mats} == {
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
    }  # fmt: skip
    assert id(model.get_input_embeddings().weight) in {id(p) for p in rest}
    assert id(model.get_output_embeddings().weight) in {id(p) for p in rest}
    assert any("norm" in names[id(p)] for p in rest)
    assert len(mats) + len(rest) == len(list(model.parameters()))  # each parameter exactly once


def test_muon_chain_lowers_the_loss_and_schedules_both_parts() -> None:
    model = _model()
    opt, sched = _opt(model)
    batch = torch.randint(0, 40, (4, 12), generator=torch.Generator().manual_seed(0))
    losses = [_step(model, opt, sched, batch) for _ in range(15)]
    assert losses[-1] < 0.7 * losses[0]
    assert isinstance(opt, Chain)
    muon, adamw = opt.parts
    assert isinstance(muon, torch.optim.Muon) and isinstance(adamw, torch.optim.AdamW)
    assert muon.param_groups[0]["lr"] == pytest.approx(0.02 / 2)
    assert adamw.param_groups[0]["lr"] == pytest.approx(1e-2 / 2)


def test_muon_chain_resumes_bit_identically(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(1)
    batches = [torch.randint(0, 40, (4, 12), generator=gen) for _ in range(6)]
    model = _model()
    opt, sched = _opt(model)
    straight = [_step(model, opt, sched, b) for b in batches]

    model = _model()
    opt, sched = _opt(model)
    resumed = [_step(model, opt, sched, b) for b in batches[:3]]
    ckpt.save_checkpoint(
        tmp_path, model, opt, sched, ckpt.TrainState(step=3, phase="sft", extra={})
    )
    _step(model, opt, sched, batches[3])  # lost with the killed process

    model2 = _model(seed=7)
    opt2, sched2 = _opt(model2)
    ckpt.restore(ckpt.load_checkpoint(tmp_path), model2, opt2, sched2)
    resumed += [_step(model2, opt2, sched2, b) for b in batches[3:]]
    assert resumed == straight


def test_an_adamw_checkpoint_resumed_with_muon_is_refused_with_the_reason(tmp_path: Path) -> None:
    model = _model()
    adamw = build_sft_optimizer(
        model, "adamw", lr=1e-3, muon_lr=0.02, weight_decay=0.0, betas=(0.9, 0.95)
    )
    ckpt.save_checkpoint(
        tmp_path, model, adamw, None, ckpt.TrainState(step=1, phase="sft", extra={})
    )
    opt, _ = _opt(model)
    with pytest.raises(ConfigError, match="another sft.optimizer"):
        ckpt.restore(ckpt.load_checkpoint(tmp_path), model, opt, None)


def test_a_muon_checkpoint_resumed_with_adamw_is_refused_with_the_reason(tmp_path: Path) -> None:
    model = _model()
    opt, sched = _opt(model)
    _step(model, opt, sched, torch.randint(0, 40, (2, 8)))
    ckpt.save_checkpoint(
        tmp_path, model, opt, sched, ckpt.TrainState(step=1, phase="sft", extra={})
    )
    adamw = build_sft_optimizer(
        model, "adamw", lr=1e-3, muon_lr=0.02, weight_decay=0.0, betas=(0.9, 0.95)
    )
    with pytest.raises(ConfigError, match="another sft.optimizer"):
        ckpt.restore(ckpt.load_checkpoint(tmp_path), _model(), adamw, None)
