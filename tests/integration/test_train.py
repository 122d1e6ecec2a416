"""End to end on CPU: a tiny run takes real SFT and GRPO steps, and a run killed with SIGKILL
resumes to exactly the metrics of an uninterrupted one."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sigkill_train import SCRIPT as KILL_SCRIPT
from stepcode.config import load_config
from stepcode.errors import ConfigError
from stepcode.metrics import read_metrics
from stepcode.rl.config import TrainConfig
from stepcode.rl.train import train

TINY = [
    "data.n_train=16",
    "data.n_eval=3",
    "data.eval_levels=[1]",
    "sft.steps=2",
    "sft.batch_size=4",
    "grpo.steps=2",
    "rollout.group_size=2",
    "rollout.tasks_per_step=2",
    "rollout.max_new_tokens=24",
    "run.eval_max_new_tokens=8",
    "run.save_every=1",
    "run.log_every=1",
    "run.sample_every=1",
    "run.threads=1",
]
WALL_CLOCK = ("perf/", "rollout/tokens_per_s")


def _cfg(out: Path, *extra: str) -> TrainConfig:
    return load_config(TrainConfig, None, [*TINY, f"run.out={out}", *extra])


def _deterministic(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if not k.startswith(WALL_CLOCK)} for r in rows]


@pytest.mark.slow
def test_two_steps_each_phase_train_and_write_everything(tmp_path: Path) -> None:
    run = tmp_path / "run"
    summary = train(_cfg(run))
    rows = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all(math.isfinite(r["loss/sft"]) for r in rows[:2])
    assert all(math.isfinite(r["loss/policy"]) and "reward/step_acc" in r for r in rows[2:])
    init = load_file(run / "init" / "model.safetensors")
    final = load_file(run / "final" / "model.safetensors")
    assert any(not torch.equal(init[k], final[k]) for k in init)
    for name in ("config.yaml", "env.json", "summary.json", "report.html", "DONE"):
        assert (run / name).is_file(), name
    assert (run / "samples" / "step_000003.jsonl").is_file()
    assert summary.before["1"]["n"] == 3 and set(summary.after) == set(summary.before)


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", [2, 4])  # in the SFT phase, in the GRPO phase
def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path: Path, kill_at: int) -> None:
    straight = tmp_path / "straight"
    train(_cfg(straight))

    killed = tmp_path / "killed"
    args = [*TINY, f"run.out={killed}"]
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(kill_at), *args], capture_output=True, timeout=600
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    assert not (killed / "DONE").exists()
    train(_cfg(killed))  # resume in this process

    assert _deterministic(read_metrics(killed / "metrics.jsonl")) == _deterministic(
        read_metrics(straight / "metrics.jsonl")
    )
    a = load_file(straight / "final" / "model.safetensors")
    b = load_file(killed / "final" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_a_finished_run_continues_when_grpo_steps_grow(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(_cfg(run, "grpo.steps=1"))
    train(_cfg(run, "grpo.steps=2"))
    steps = [r["step"] for r in read_metrics(run / "metrics.jsonl")]
    assert steps == [1, 2, 3, 4]
    with pytest.raises(ConfigError, match="grpo.lr"):
        train(_cfg(run, "grpo.steps=2", "grpo.lr=0.5"))
