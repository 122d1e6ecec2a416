"""verl rows and the per-response payload (no verl needed), and ``import stepcode`` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stepcode.rl.steps import RowSteps
from stepcode.rl.verl_data import (
    EXTRA_KEYS,
    STEPS_KEY,
    TASK_KEY,
    export_dataset,
    reward_extra_info,
    reward_from_extra_info,
    score_response,
    task_from_extra_info,
    task_to_verl_row,
    write_verl_parquet,
)
from stepcode.types import Reference, Task, TaskKind


@pytest.fixture(scope="module")
def aligned():
    """Two real execution-aligned tasks, their gold completions and a tokenizer trained on them."""
    from stepcode.data.synth import synthesize_programs
    from stepcode.execution import AnchorPolicy
    from stepcode.models import train_tokenizer
    from stepcode.tasks import make_tasks_batch, sft_target

    programs = synthesize_programs(1, 2, 0, "small")
    per = make_tasks_batch(
        programs, [TaskKind.OUTPUT_ALIGNED], policy=AnchorPolicy.parse("first_k:2"), seed=0
    )
    tasks = [t for ts in per for t in ts][:2]
    golds = [sft_target(t) for t in tasks]
    return tasks, golds, train_tokenizer([t.prompt for t in tasks] + golds * 4, vocab_size=300)


def test_import_stepcode_imports_no_verl_vllm_or_trl():
    code = (
        "import sys, stepcode, stepcode.rl, stepcode.rl.verl_data, stepcode.cli\n"
        "stepcode.cli.get_app()\n"
        "print(sorted(m for m in ('verl', 'vllm', 'trl', 'ray', 'transfer_queue') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_row_carries_the_task_and_parquet_reads_back(tmp_path):
    import pyarrow.parquet as pq

    task = Task(
        task_id="t1", kind=TaskKind.OUTPUT, prompt="p", messages=({"role": "user", "content": "q"},),
        reference=Reference(code="def f(x):\n    return x", input_args="1", output="1"),
    )  # fmt: skip
    row = task_to_verl_row(task, index=4)
    assert row["prompt"] == [{"role": "user", "content": "q"}] and row["data_source"] == "stepcode"
    assert task_from_extra_info(row["extra_info"]) == task
    path = write_verl_parquet([task, task], tmp_path / "x.parquet")
    back = pq.read_table(path).to_pylist()
    assert [r["extra_info"]["index"] for r in back] == [0, 1]
    assert task_from_extra_info(back[1]["extra_info"]) == task


def test_export_dataset_from_a_run_data_dir(tmp_path, aligned):
    from stepcode.errors import DataError
    from stepcode.io import write_jsonl

    tasks, _, _ = aligned
    write_jsonl(tmp_path / "train.jsonl", [t.to_dict() for t in tasks])
    write_jsonl(tmp_path / "eval.jsonl", [tasks[0].to_dict()])
    assert export_dataset(tmp_path, tmp_path / "verl") == {"train.parquet": 2, "val.parquet": 1}
    with pytest.raises(DataError, match="eval.jsonl"):
        export_dataset(tmp_path / "verl", tmp_path / "x")
    with pytest.raises(DataError, match="stepcode verl export"):
        task_from_extra_info({"index": 0})


def test_payload_survives_json_and_numpy_gathering(aligned):
    import numpy as np

    tasks, golds, tok = aligned
    ids = tok.encode(golds[0], add_special_tokens=False) + [tok.eos_token_id]
    reward, row = score_response(tasks[0], ids, tok)
    assert reward.outcome == 1.0 and all(s == 1.0 for s in reward.steps)
    assert len(row.token_to_step) == len(ids) and row.token_to_step[-1] == row.n_anchors
    assert set(row.token_to_step) == set(range(row.n_anchors + 1))  # every anchor has tokens
    info = reward_extra_info(reward, row)
    assert tuple(info) == EXTRA_KEYS
    gathered = np.array([info[STEPS_KEY]] * 3)
    assert RowSteps.from_json(str(gathered[1])) == row  # verl's np.array keeps the string whole
    back, row_back = reward_from_extra_info(json.loads(json.dumps(info)))
    assert row_back == row and back.steps == reward.steps and back.outcome == reward.outcome
    with pytest.raises(ValueError, match="StepcodeRewardManager"):
        reward_from_extra_info({"acc": 1.0})
    assert TASK_KEY == "stepcode_task"


def test_ids_after_eos_and_wrong_answers_score_as_native(aligned):
    from stepcode.rewards import score_completion

    tasks, golds, tok = aligned
    wrong = golds[1].replace("</answer>", "").rsplit("==", 1)[0] + "== 424242\n</answer>"
    ids = tok.encode(wrong, add_special_tokens=False) + [tok.eos_token_id, tok.pad_token_id]
    reward, row = score_response(tasks[1], ids, tok)
    assert reward == score_completion(tasks[1], wrong)
    assert reward.outcome == 0.0 and row.token_to_step[-2:] == (row.n_anchors,) * 2


def test_cli_export_writes_both_files(tmp_path, aligned):
    from typer.testing import CliRunner

    from stepcode.cli import get_app
    from stepcode.io import write_jsonl

    tasks, _, _ = aligned
    write_jsonl(tmp_path / "rl.jsonl", [t.to_dict() for t in tasks])
    write_jsonl(tmp_path / "eval.jsonl", [t.to_dict() for t in tasks[:1]])
    result = CliRunner().invoke(
        get_app(), ["verl", "export", str(tmp_path), "--out", str(tmp_path / "v")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "v" / "train.parquet").is_file() and "1 rows ->" in result.output
    bad = CliRunner().invoke(
        get_app(), ["verl", "export", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert bad.exit_code == 2


def test_verl_reward_takes_trace_lines_exact_as_the_native_trainer(aligned):
    """A right answer after a padded trace: terminal 1 with ``free``, 0 with ``exact`` (the
    native trainer's ``grpo.trace_lines``), through the verl reward's own ``score_response``."""
    tasks, golds, tok = aligned
    last = golds[0].split("</trace>")[0].rstrip("\n").rsplit("\n", 1)[-1]
    padded = golds[0].replace("</trace>", f"{last}\n</trace>", 1)
    ids = tok.encode(padded, add_special_tokens=False)
    free, free_row = score_response(tasks[0], ids, tok, trace_lines="free")
    _, exact_row = score_response(tasks[0], ids, tok)  # exact is the default
    assert free.outcome == 1.0 and free_row.rewards[-1] == 1.0
    assert exact_row.rewards[:-1] == free_row.rewards[:-1] and exact_row.rewards[-1] == 0.0
