"""The three held-out columns of a run (init, after the warm-up, after GRPO) and the held-out curve
during GRPO (``run.eval_every``), on a tiny CPU run."""

from __future__ import annotations

import json
from pathlib import Path

from stepcode.config import load_config
from stepcode.metrics import read_metrics
from stepcode.rl.config import TrainConfig
from stepcode.rl.evaluate import format_table
from stepcode.rl.train import train

TINY = [
    "data.n_train=16", "data.n_eval=3", "data.eval_levels=[1]", "sft.steps=2", "sft.batch_size=4",
    "rollout.group_size=2", "rollout.tasks_per_step=2", "rollout.max_new_tokens=16",
    "run.eval_max_new_tokens=8", "run.log_every=1", "run.threads=1",
]  # fmt: skip


def test_warmup_column_and_held_out_curve(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cfg = load_config(TrainConfig, None, [*TINY, "grpo.steps=3", "run.eval_every=2",
                                          f"run.out={out}"])  # fmt: skip
    summary = train(cfg)
    assert summary.warmup is not None and summary.warmup["1"]["n"] == 3
    saved = json.loads((out / "summary.json").read_text())
    assert saved["warmup"] == summary.warmup
    evals = [r for r in read_metrics(out / "metrics.jsonl") if "eval/1/final_acc" in r]
    assert [r["step"] for r in evals] == [4]  # GRPO step 2 of 3 (the end is summary.after)
    names = {p.name for p in (out / "samples").glob("eval_*.jsonl")}
    assert names == {"eval_before.jsonl", "eval_warmup.jsonl", "eval_step_000004.jsonl",
                     "eval_after.jsonl"}  # fmt: skip
    header, rows = format_table(summary.before, summary.after, summary.warmup)
    assert header[2:5] == ["final % init", "final % warm-up", "final % GRPO"]
    assert [r[0] for r in rows] == ["1", "all"] and all(len(r) == len(header) for r in rows)
    header, joined = format_table(summary.before, summary.after, summary.warmup, joined=True)
    assert header[2:4] == ["final % init / warm-up / GRPO", "step % init / warm-up / GRPO"]
    assert joined[0][2] == " / ".join(rows[0][2:5])
    page = (out / "report.html").read_text()
    assert "final % warm-up" in page and "id='sample-viewer'" in page


def test_sft_only_run_has_no_separate_warmup_column(tmp_path: Path) -> None:
    cfg = load_config(TrainConfig, None, [*TINY, "grpo.steps=0", f"run.out={tmp_path / 'r'}"])
    summary = train(cfg)
    assert summary.warmup is None
    header, _ = format_table(summary.before, summary.after, summary.warmup)
    assert header[2:4] == ["final % init", "final % after"]


def test_grpo_levels_give_the_rl_stage_its_own_tasks(tmp_path: Path) -> None:
    out = tmp_path / "run"
    sets = [*TINY, "grpo.steps=1", "data.grpo_levels=[2]", "data.n_grpo=6", f"run.out={out}"]
    train(load_config(TrainConfig, None, sets))
    rows = [json.loads(x) for x in (out / "data" / "grpo.jsonl").read_text().splitlines()]
    assert rows and {r["metadata"]["level"] for r in rows} == {2}
    grpo_ids = {r["task_id"] for r in rows}
    step_file = out / "samples" / "step_000003.jsonl"
    sampled = [json.loads(x) for x in step_file.read_text().splitlines()]
    assert sampled and {r["item_id"] for r in sampled} <= grpo_ids
    held = [json.loads(x)["reference"] for x in
            (out / "data" / "eval.jsonl").read_text().splitlines()]  # fmt: skip
    grpo_pairs = {r["reference"]["code"] + r["reference"]["input_args"] for r in rows}
    assert not {h["code"] + h["input_args"] for h in held} & grpo_pairs


def test_rl_only_run_has_no_warmup_column(tmp_path: Path) -> None:
    sets = [*TINY, "sft.steps=0", "grpo.steps=1", f"run.out={tmp_path / 'r'}"]
    summary = train(load_config(TrainConfig, None, sets))
    assert (
        summary.warmup is None and not (tmp_path / "r" / "samples" / "eval_warmup.jsonl").exists()
    )
