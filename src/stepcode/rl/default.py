"""The embedded default run: what ``stepcode train`` does with no arguments.

Pipeline (all in ``rl.train.train``, configured by ``TrainConfig()``'s defaults, spelled out in
``configs/train/default.yaml``):

1. data: level-1 programs from the typed synthesizer (``data.synth``, small value ranges) through
   the data-build pipeline (``rl.taskset``), each (code, input) pair once and at most 3 inputs per
   program, instrumented into execution-aligned output-prediction tasks with at most two anchored
   hits per loop line (``first_k:2``); held-out programs per level from ``data.eval_seed`` (the
   same for every run seed), minus any pair seen in training;
2. tokenizer + model: a byte-level BPE trained on the training prompts and targets whose merges stay
   inside names, tags, indentation, spaced punctuation and the anchor ``print`` text (values are one
   token per character), and a ~0.9 M-parameter Llama-style model from random init (saved, then
   reloaded through the same ``load_policy`` path a hub id takes);
3. SFT warm-up on interpreter targets (``<trace>`` anchor states, then
   ``<answer>assert f(...) == value</answer>``) and, because this model has never seen Python, on
   the prompt tokens too (``sft.prompt_loss_weight`` auto); Muon on the hidden weight matrices and
   AdamW on embeddings and norms (``sft.optimizer`` auto, ``rl.optim``);
4. 20 Bi-Level GRPO steps (``rl.grpo.grpo_step``; a trace with another line count than the
   program prints earns no terminal reward, ``grpo.trace_lines`` exact);
5. greedy held-out evaluation by level at init, after the warm-up and after GRPO (final/output
   accuracy, step accuracy, their gap), plots and ``report.html``.

What each default was measured to do, with the commands: ``docs/main-job.md``.
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
