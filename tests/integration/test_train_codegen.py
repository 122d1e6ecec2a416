"""Stage II through the one training loop: execution GRPO then code-generation GRPO (or stage II
alone), rewarded by unit tests; checkpoints resume inside stage II to the same metrics."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from codegen_cases import CODEGEN_COMPLETIONS, codegen_task
from sigkill_train import SCRIPT as KILL_SCRIPT
from stepcode.config import load_config
from stepcode.errors import ConfigError
from stepcode.io import read_jsonl
from stepcode.metrics import read_metrics
from stepcode.rl.config import TrainConfig
from stepcode.rl.train import train

TINY = [
    "data.n_train=16", "data.n_eval=3", "data.eval_levels=[1]", "sft.steps=2", "sft.batch_size=4",
    "grpo.steps=2", "codegen.steps=2", "codegen.sft_examples=8", "codegen.n_train=8",
    "codegen.n_eval=3", "codegen.decontam=[]", "rollout.group_size=2", "rollout.tasks_per_step=2",
    "rollout.max_new_tokens=24", "run.eval_max_new_tokens=8", "run.save_every=1",
    "run.log_every=10", "run.sample_every=1", "run.threads=1",
]  # fmt: skip
WALL_CLOCK = ("perf/", "rollout/tokens_per_s")


def _cfg(out: Path, *extra: str) -> TrainConfig:
    return load_config(TrainConfig, None, [*TINY, f"run.out={out}", *extra])


@pytest.mark.slow
def test_stage_one_then_stage_two_trains_and_reports_both(tmp_path: Path) -> None:
    run = tmp_path / "run"
    summary = train(_cfg(run))
    rows = read_metrics(run / "metrics.jsonl")
    # every GRPO step of both stages is logged (SFT steps every run.log_every = 10)
    assert [r["step"] for r in rows] == [3, 4, 5, 6]
    assert [r["phase"] for r in rows] == [1.0, 1.0, 2.0, 2.0]
    assert all(math.isfinite(r["loss/policy"]) for r in rows)
    cg = [d for d in read_jsonl(run / "samples" / "step_000005.jsonl")]
    assert cg and all(d["item_id"].startswith("cg-") for d in cg)
    assert {"1", "codegen-L1", "codegen-all"} <= set(summary.after)
    assert summary.before["codegen-L1"]["n"] == 3
    assert len(list(read_jsonl(run / "data" / "codegen_train.jsonl"))) == 8
    init = load_file(run / "init" / "model.safetensors")
    final = load_file(run / "final" / "model.safetensors")
    assert any(not torch.equal(init[k], final[k]) for k in init)


@pytest.mark.slow
def test_stage_two_alone_and_its_settings_freeze_once_it_ran(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(_cfg(run, "grpo.steps=0"))
    assert [r["phase"] for r in read_metrics(run / "metrics.jsonl")] == [2.0, 2.0]
    train(_cfg(run, "grpo.steps=0", "codegen.steps=3"))  # more stage II steps: it continues
    assert [r["step"] for r in read_metrics(run / "metrics.jsonl")] == [3, 4, 5]
    with pytest.raises(ConfigError, match="codegen.n_train"):
        train(_cfg(run, "grpo.steps=0", "codegen.steps=3", "codegen.n_train=9"))
    with pytest.raises(ConfigError, match="codegen.lr"):
        train(_cfg(run, "grpo.steps=0", "codegen.steps=3", "codegen.lr=0.5"))


@pytest.mark.slow
def test_sigkill_in_stage_two_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    straight = tmp_path / "straight"
    train(_cfg(straight))
    killed = tmp_path / "killed"
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, "5", *TINY, f"run.out={killed}"],
                          capture_output=True, timeout=600)  # fmt: skip
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    train(_cfg(killed))

    def clean(rows):
        return [{k: v for k, v in r.items() if not k.startswith(WALL_CLOCK)} for r in rows]

    assert clean(read_metrics(killed / "metrics.jsonl")) == clean(
        read_metrics(straight / "metrics.jsonl")
    )
    a = load_file(straight / "final" / "model.safetensors")
    b = load_file(killed / "final" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_verl_gives_the_native_reward_for_code_generation() -> None:
    from stepcode.models import train_tokenizer
    from stepcode.rewards import RewardConfig, score_batch
    from stepcode.rl.verl_data import score_response

    task, comps = codegen_task(), CODEGEN_COMPLETIONS
    tok = train_tokenizer(comps * 20, vocab_size=300)
    cfg = RewardConfig(format_bonus=0.05)
    native = score_batch([task] * 3, comps, cfg)
    assert [w.scalar for w in native] == [1.05, 0.55, 0.0]
    for comp, want in zip(comps, native, strict=True):  # the terminal step is the scalar
        got, row = score_response(task, tok(comp)["input_ids"], tok, cfg, terminal_from="scalar")
        assert (got.outcome, got.scalar, got.reason) == (want.outcome, want.scalar, want.reason)
        assert row.n_anchors == 0 and row.rewards == (want.scalar,)
