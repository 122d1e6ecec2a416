"""One metric: the trainer's evaluation and `stepcode eval run ... cruxeval-o-aligned` give the same
numbers for the same model on the same tasks (rewards.summary behind both)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.config import load_config
from stepcode.io import read_jsonl
from stepcode.models import load_policy
from stepcode.rl.config import TrainConfig
from stepcode.rl.evaluate import evaluate_policy
from stepcode.rl.train import train
from stepcode.types import Task

MAX_NEW = 40


@pytest.mark.slow
def test_trainer_evaluation_and_eval_run_agree(tmp_path: Path) -> None:
    run = tmp_path / "run"
    # a warm-up long enough to get some of its own training tasks right (non-trivial numbers)
    sets = ["data.n_train=12", "data.n_eval=2", "data.eval_levels=[1]", "sft.steps=150",
            "sft.batch_size=12", "grpo.steps=0", "run.threads=1", "run.save_every=1000",
            f"run.eval_max_new_tokens={MAX_NEW}", f"run.out={run}"]  # fmt: skip
    train(load_config(TrainConfig, None, sets))
    tasks = [Task.from_dict(d) for d in read_jsonl(run / "data" / "train.jsonl")]
    model, tok = load_policy(str(run / "final"))
    table, _ = evaluate_policy(model, tok, tasks, max_new_tokens=MAX_NEW)
    mine = table["all"]
    assert 0 < mine["final_acc"] < 1 or 0 < mine["step_acc"] < 1  # not a trivial agreement

    out = tmp_path / "eval"
    result = CliRunner().invoke(get_app(), [
        "eval", "run", "--model", str(run / "final"), "--benchmarks", "cruxeval-o-aligned",
        "--data", f"cruxeval-o-aligned={run / 'data' / 'train.jsonl'}", "--greedy",
        "--set", f"max_tokens={MAX_NEW}", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    theirs = json.loads((out / "cruxeval-o-aligned" / "summary.json").read_text())
    theirs = theirs.get("summary", theirs)
    for key in ("final_acc", "step_acc", "gap", "right_answer_wrong_steps"):
        assert theirs[key] == pytest.approx(mine[key]), key
