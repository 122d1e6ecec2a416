"""The embedded default run: what ``stepcode train`` does with no arguments.

Pipeline (all in ``rl.train.train``, configured by ``TrainConfig()``'s defaults, spelled out in
``configs/train/default.yaml``):

1. data: 8000 level-1 programs from the typed synthesizer (``data.synth``, small value ranges),
   each (code, input) pair once and at most 3 inputs per program, executed and instrumented into
   execution-aligned output-prediction tasks with at most two anchored hits per loop line
   (``first_k:2``); 100 held-out programs per level 1-3 from ``data.eval_seed`` (the same for
   every run seed), minus any pair seen in training;
2. tokenizer + model: a byte-level BPE trained on the training prompts and targets whose merges
   stay inside names, indentation and punctuation (values are one token per character), and a
   ~0.9 M-parameter Qwen2-style model from random init (saved, then reloaded through the same
   ``load_policy`` path a hub id takes);
3. SFT warm-up: 800 steps x 32 sequences of completion-only cross-entropy on interpreter targets
   (``<trace>`` anchor states, then ``<answer>assert f(...) == value</answer>``), lr 4e-3 with
   linear warm-up and cosine decay;
4. Bi-Level GRPO: 20 steps x 8 tasks x G=6 samples, lam 0.3, no KL, lr 1e-4;
5. greedy evaluation before and after by level (final/output accuracy, step accuracy, their gap),
   plots and ``report.html``.

Why these sizes (measured on 2 CPU threads): one SFT step of 32 sequences (~170 tokens each)
takes ~0.6 s and is compute-bound (matmuls and attention are ~75 % of it), so the warm-up gets
~7 of the ~9 minutes; a GRPO step takes ~1.4 s (reward ~5 % of it). Measured end to end: 8 min
40 s, held-out level-1 output accuracy 0 % -> 6.4 % after SFT -> 9.6 % after GRPO (step accuracy
11.6 %).

What was tried, SFT only, seed 0, held-out level 1 (n ~ 90, so +-3 points is noise): 400 steps
with plain BPE 4.5 %, with character-level values 5.7 % (plain BPE cut ``'bcfaf'`` into
``'b|cf|af'`` and the model could not copy inputs; the character-level split is kept because
copying is what every level-1 value needs); 2,400 tasks at 900 steps 10.2 % (train loss 0.12 vs
held-out 14.8 % by 1,500 steps: memorisation); 12,000 tasks
at 900 steps 15.5 %, but with repeats (349 copies of ``a = n + n``), hence distinct (code, input)
pairs now. No gain from the prompt's tokens in the loss (``sft.prompt_loss_weight``), lr 1e-2,
batch 16 at equal compute, or bf16 autocast on CPU (~6 % faster, twice the memory). GRPO from the
same SFT checkpoint (6.4 %): lr 3e-4 -> 4.3 %, 1e-4 -> 9.6 %, 3e-5 -> 9.6 %, 40 steps at 1e-4 ->
10.6 %. The model is still learning when the budget ends; the issue's 60 % is not reached.

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
