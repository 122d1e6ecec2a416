"""The embedded default run: what ``stepcode train`` does with no arguments.

Pipeline (all in ``rl.train.train``, configured by ``TrainConfig()``'s defaults, spelled out in
``configs/train/default.yaml``):

1. data: 2400 level-1 programs from the typed synthesizer (``data.synth``, small value ranges),
   executed and instrumented into execution-aligned output-prediction tasks with at most two
   anchored hits per loop line (``first_k:2``); 100 held-out programs per level 1-3 from another
   seed;
2. tokenizer + model: a 512-token byte-level BPE trained on the training prompts and targets, and
   a ~0.9 M-parameter Qwen2-style model from random init (saved, then reloaded through the same
   ``load_policy`` path a hub id takes);
3. SFT warm-up: 900 steps x 32 sequences of completion-only cross-entropy on interpreter targets
   (``<trace>`` anchor states, then ``<answer>assert f(...) == value</answer>``), lr 4e-3 with
   linear warm-up and cosine decay;
4. Bi-Level GRPO: 20 steps x 8 tasks x G=6 samples, lam 0.3, no KL, lr 3e-4;
5. greedy evaluation before and after by level (final/output accuracy, step accuracy, their gap),
   plots and ``report.html``.

Why these sizes (measured on 2 CPU threads while developing): prompts are compact (instrumented
code + ``assert f(...) == ??``), ~150 tokens per example with the 512-token vocabulary (max ~300);
one SFT step of 32 sequences takes ~0.45 s uncontended, so the warm-up fits in ~6-7 minutes and
the SFT loss falls from ~6.3 to ~0.2. Measured end to end (idle machine): 8 min 52 s, held-out
level-1 output accuracy 0 % -> 10.2 % (step accuracy 12.5 %). 8,000 programs with 850 steps gave
7.1 % (the held-out set keeps only programs unseen in training, so it shrinks and hardens as the
training set grows). Larger vocabularies split values into rarer tokens; larger models do not
converge within the budget.

Not done here: anything beyond the one-process CPU/GPU trainer (multi-GPU goes through
``rl.verl_adapter``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from stepcode.config import load_config
from stepcode.rl.config import TrainConfig
from stepcode.rl.train import Progress, RunSummary, train


def default_config(out: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """The embedded default, with ``key.sub=value`` overrides and an optional run directory."""
    sets = [*overrides, *([f"run.out={out}"] if out is not None else [])]
    return load_config(TrainConfig, None, sets)


def run_default(
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    progress: Progress | None = None,
) -> RunSummary:
    """Run the whole default pipeline (resumes when ``out`` holds a checkpoint)."""
    return train(default_config(out, overrides), progress=progress)
