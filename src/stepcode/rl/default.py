"""The embedded default run: what ``stepcode train`` does with no arguments.

Pipeline (all in ``rl.train.train``, configured by ``TrainConfig()``'s defaults, spelled out in
``configs/train/default.yaml``):

1. data: 8000 level-1 programs from the typed synthesizer (``data.synth``, small value ranges),
   each (code, input) pair once and at most 3 inputs per program, executed and instrumented into
   execution-aligned output-prediction tasks with at most two anchored hits per loop line
   (``first_k:2``); 100 held-out programs per level 1-3 from ``data.eval_seed`` (the same for
   every run seed), minus any pair seen in training;
2. tokenizer + model: a byte-level BPE trained on the training prompts and targets whose merges stay
   inside names, tags, indentation, spaced punctuation and the anchor ``print`` text (values are one
   token per character), and a ~0.9 M-parameter Llama-style model from random init (saved, then
   reloaded through the same ``load_policy`` path a hub id takes);
3. SFT warm-up: 1250 steps x 32 sequences of cross-entropy on interpreter targets (``<trace>``
   anchor states, then ``<answer>assert f(...) == value</answer>``) and, because this model has
   never seen Python, on the prompt tokens too (``sft.prompt_loss_weight`` auto); Muon (lr 0.005)
   on the hidden weight matrices and AdamW (lr 2.5e-3) on embeddings and norms
   (``sft.optimizer`` auto, ``rl.optim``), linear warm-up and cosine decay;
4. Bi-Level GRPO: 20 steps x 8 tasks x G=6 samples, lam 0.3, no KL, AdamW lr 1e-5;
5. greedy evaluation before and after by level (final/output accuracy, step accuracy, their gap),
   plots and ``report.html``.

Measured end to end on 2 CPU cores (``time stepcode train``): 9 min 6 s; held-out level-1 output
accuracy 0 % -> 71.3 % (step accuracy 75.1 %), levels 2 / 3: 9 / 0 %. One SFT step (32
sequences, ~170 padded tokens) takes ~0.4 s and is compute-bound, so the warm-up gets ~8.3 of the
9 minutes; a GRPO step takes ~1 s (reward ~8 % of it, the policy now answers most tasks).
The same run stopped after the warm-up (``--set grpo.steps=0``) scores 70.2 % (step 73.0 %): the 20
GRPO steps add 1.1 / 2.1 points, within the noise. Resumed from that end-of-SFT checkpoint: GRPO at
lr 1e-5 moves no weight by more than 2e-4 and flips one held-out program whether it runs 20 or 40
steps and in every mode (terminal, step, bilevel: 71.3 % each); lr 3e-5 gives 69.1 % (40 steps:
71.3 %), lr 1e-4 67.0 %. At this size and budget the warm-up does the learning; GRPO at a rate that
does not undo it changes little (``benchmarks/ablation.py`` compares the modes over seeds).

What moved it (held-out level 1, n = 94, so +-5 points of accuracy is noise; the teacher-forced
held-out loss on the completion is the steadier number):
- merging the tags and the spaced punctuation in the tokenizer (``models.VALUE_SPLIT``; values
  stay one character per token): 146 -> 109 tokens per example (the completion 58 -> 40), 1.23x
  the SFT steps per second, and a lower held-out loss at equal steps (SFT only, step 500 of 900:
  5.58 vs 6.26 nats per example); with 1,250 SFT steps in the time 1,000 took, the main job went
  from 56.4 % to 71.3 % on level 1;
- Muon instead of AdamW for the SFT (900 steps, SFT only): loss 0.245 -> 0.048, accuracy
  17 % -> 52 % (lr sweep in ``rl.optim``). With it the old GRPO lr 1e-4 undid a third of the
  warm-up (52.1 % -> 41.5 %); from that same checkpoint lr 3e-5 gave 54.3 %, 1e-5 56.4 % (60
  steps: 55.3 %), 3e-6 52.1 %: GRPO's gain here is within the noise;
- the reloaded tokenizer split text as trained (``models.load_tokenizer``; transformers loaded a
  qwen2 dir with Qwen's pre-tokenizer, so string values were cut ``f|ac|e``): 6.4 % -> 14.9 %;
- prompt tokens in the loss (loss 0.29 -> 0.26) and AdamW lr 2.5e-3 (0.245) before Muon.
No gain (SFT only, step 500 of 900, same data): zero-initialised ``o_proj``/``down_proj`` (held-out
loss 0.143 vs 0.101 nats/token); ReLU^2 instead of SwiGLU (10.2 vs 5.6 nats per example);
``torch.compile`` (8-12 % faster steps, ~12 s to compile each new padded length). Before the
tokenizer change: batches of similar length (30 % less padding, 1.36x the steps per second, but
worse at equal time: loss 0.113 after 1,400 Muon steps vs 0.088 after 900 random ones); packing
several examples per row with block-diagonal attention (0.50 vs 0.55 s per step, 36 % vs 33 %,
within the noise; not worth the code); AdamW lr 1e-2 for the embeddings beside Muon; 8 heads of 16
dims, RoPE theta 500, warmup-stable-decay, batch 16 x 1600 or 64 x 400 (all with AdamW); bf16
autocast on CPU (~6 % faster, twice the memory).

By operation (level 1, final model of a 71.3 % run): ``len`` 10 of 10 right, ``.upper()`` 7/7,
slices 18/24, ``[::-1]`` 8/12 (2/12 before the tokenizer change), ``.lower()`` 9/12, ``sorted`` 3/5,
``*`` 6/14 (string repetition), ``sum`` 3/9: repetition and sums are what is left.

Not done here: anything beyond the one-process CPU/GPU trainer (multi-GPU goes through
``rl.verl_plugin``, see examples/verl/).
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
