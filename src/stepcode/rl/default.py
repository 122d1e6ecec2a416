"""The embedded default run: what ``stepcode train`` does with no arguments.

Pipeline (all in ``rl.train.train``, configured by ``TrainConfig()``'s defaults, spelled out in
``configs/train/default.yaml``):

1. data: 8000 level-1 programs from the typed synthesizer (``data.synth``, small value ranges),
   each (code, input) pair once and at most 3 inputs per program, executed and instrumented into
   execution-aligned output-prediction tasks with at most two anchored hits per loop line
   (``first_k:2``); 100 held-out programs per level 1-3 from ``data.eval_seed`` (the same for
   every run seed), minus any pair seen in training;
2. tokenizer + model: a byte-level BPE trained on the training prompts and targets whose merges
   stay inside names, indentation, punctuation and the anchor ``print`` text (values are one token
   per character), and a ~0.9 M-parameter Llama-style model from random init (saved, then reloaded
   through the same ``load_policy`` path a hub id takes);
3. SFT warm-up: 1000 steps x 32 sequences of cross-entropy on interpreter targets (``<trace>``
   anchor states, then ``<answer>assert f(...) == value</answer>``) and, because this model has
   never seen Python, on the prompt tokens too (``sft.prompt_loss_weight`` auto); lr 2.5e-3 with
   linear warm-up and cosine decay;
4. Bi-Level GRPO: 20 steps x 8 tasks x G=6 samples, lam 0.3, no KL, lr 1e-4;
5. greedy evaluation before and after by level (final/output accuracy, step accuracy, their gap),
   plots and ``report.html``.

Measured end to end on 2 CPU cores (``time stepcode train``): 8 min 56 s; held-out level-1 output
accuracy 0 % -> 24.5 % (step accuracy 23.2 %), levels 2 / 3: 1.0 / 2.0 %. One SFT step (32
sequences, ~140 tokens) takes ~0.45 s and is compute-bound, so the warm-up gets ~7.5 of the 9
minutes; a GRPO step takes ~1.3 s (reward ~6 % of it).

What moved it (SFT only, 800 steps, held-out level 1, n = 94, so +-4 points of accuracy is noise;
the teacher-forced held-out loss on the completion is the steadier number):
- the reloaded tokenizer split text as trained (``models.load_tokenizer``; transformers loaded a
  qwen2 dir with Qwen's pre-tokenizer, so string values were cut ``f|ac|e``): 6.4 % -> 14.9 %
  (loss 0.29), and the input copied into the answer went from 13 % to 6 % wrong tokens;
- prompt tokens in the loss: loss 0.29 -> 0.26, 14.9 % -> 17.0 %;
- lr 2.5e-3 (loss 0.245) over 4e-3 (0.26) and 6e-3 (0.36).
No gain: 8 heads of 16 dims (0.34), RoPE theta 500 (0.27), warmup-stable-decay instead of cosine
(0.31), batch 16 x 1600 steps (0.34) or 64 x 400 (worse at half-way) at equal compute. Earlier
(with the broken tokenizer): lr 1e-2, bf16 autocast on CPU (~6 % faster, twice the memory);
GRPO lr 3e-4 undid the warm-up (1e-4 and 3e-5 kept it). The model is still learning when the
budget ends (held-out loss falling ~0.05 per 100 steps); the issue's 60 % is not reached.

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
