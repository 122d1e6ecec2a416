"""The SFT optimizer: AdamW, or Muon on the hidden weight matrices with AdamW on the rest.

Muon (``torch.optim.Muon``: momentum, then each 2-D update orthogonalised by Newton-Schulz) trains
the tiny model built from scratch far faster per step than AdamW. Measured on the embedded default's
data (with the tokenizer before ``models.VALUE_SPLIT`` merged tags and punctuation), SFT only, 900
steps x 32, held-out level 1 (n = 94, so +-5 points is noise; completion loss in nats/token, then
greedy output accuracy): Muon lr 0.02: 0.088 / 33 %; 0.01: 0.064 / 47 %; 0.005: 0.048 / 52 % (the
default); 0.0025 and 0.04 were far behind at step 500 (0.24, 0.44 vs 0.10) and were stopped. AdamW,
the previous default (lr 2.5e-3, tuned): 0.245 / 17 % after 800 steps. An update costs about what
AdamW's does here (~0.5 s per step either way). Muon only takes matrices, so the embeddings, the
(tied) output head and the norms stay on AdamW at ``sft.lr`` (1e-2 instead of 2.5e-3 made no
difference at step 500), as in Muon's reference recipe. A pretrained model keeps AdamW
(``sft.optimizer: auto``): the paper fine-tunes with AdamW, and Muon on AdamW-trained weights is not
measured here.

``build_sft_optimizer`` returns an object with the optimizer interface the trainer and the
checkpoint use (``step``, ``zero_grad``, ``param_groups``, ``state_dict``, ``load_state_dict``)
and a scheduler of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch

OptimizerKind = Literal["adamw", "muon"]


class Chain:
    """Optimizers (or LR schedulers) stepped, zeroed and checkpointed as one."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [g for p in self.parts for g in p.param_groups]

    def step(self) -> None:
        for p in self.parts:
            p.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parts:
            p.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        return {"parts": [p.state_dict() for p in self.parts]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        parts = state.get("parts", ())
        if len(parts) != len(self.parts):  # restore() says what to do
            raise ValueError(f"{len(parts)} optimizer parts, not {len(self.parts)}")
        for p, s in zip(self.parts, parts, strict=True):
            p.load_state_dict(s)


def muon_params(model: Any) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter]]:
    """``(matrices, rest)``: the 2-D weights Muon takes (not the embeddings or the output head,
    tied or not) and everything else."""
    skip = {id(model.get_input_embeddings().weight)}
    head = model.get_output_embeddings()
    if head is not None:
        skip.add(id(head.weight))
    mats, rest = [], []
    for p in model.parameters():
        if not p.requires_grad:
            continue
        (mats if p.ndim == 2 and id(p) not in skip else rest).append(p)
    return mats, rest


def build_sft_optimizer(
    model: Any,
    kind: OptimizerKind,
    *,
    lr: float,
    muon_lr: float,
    weight_decay: float,
    betas: tuple[float, float],
) -> Any:
    """AdamW over all parameters, or ``Chain(Muon(matrices), AdamW(rest))``."""
    if kind == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=betas)
    mats, rest = muon_params(model)
    if not mats:
        raise ValueError("sft.optimizer=muon: the model has no hidden weight matrices")
    muon = torch.optim.Muon(mats, lr=muon_lr, weight_decay=weight_decay)
    adamw = torch.optim.AdamW(rest, lr=lr, weight_decay=weight_decay, betas=betas)
    return Chain(muon, adamw)


def build_scheduler(optimizer: Any, factor: Callable[[int], float]) -> Any:
    """``LambdaLR(factor)`` on the optimizer, or on each part of a ``Chain``."""
    if isinstance(optimizer, Chain):
        return Chain(*(torch.optim.lr_scheduler.LambdaLR(p, factor) for p in optimizer.parts))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
