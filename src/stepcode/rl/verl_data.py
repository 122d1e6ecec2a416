"""What crosses verl's boundary: dataset rows in, one scored response's payload out.

* Rows: one per task, in the layout verl's ``RLHFDataset`` reads (``data_source``, ``prompt`` as
  chat messages, ``ability``, ``reward_model``, ``extra_info``); the parquet files
  ``verl.trainer.main_ppo`` trains on. The whole ``Task`` rides in ``extra_info["stepcode_task"]``
  as JSON: the reward manager (``rl.verl_reward``) rebuilds it and judges the response by execution
  from this trusted copy, never from the prompt text.
* Payload: ``score_response`` scores a response's exact token ids and maps them to steps
  (``rl.steps.row_steps``); ``reward_extra_info`` is what verl carries per sample from the reward
  worker to the trainer: always the same keys, the ``RowSteps`` as a JSON string (the one value
  type that survives verl's ``np.array`` gathering, TransferQueue and the trainer unchanged).

No verl import here: these functions run (and are tested) without verl installed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from stepcode.errors import DataError
from stepcode.io import read_jsonl
from stepcode.rewards.step_rewards import RewardConfig
from stepcode.rewards.summary import sample_step_acc
from stepcode.rl.steps import RowSteps, TraceLines, row_steps
from stepcode.types import Reward, Task

TASK_KEY = "stepcode_task"
"""``extra_info`` key holding the task's JSON (``Task.to_dict``)"""
DATA_SOURCE = "stepcode"
STEPS_KEY = "stepcode_steps"
"""``reward_extra_info`` key holding ``RowSteps.to_json()``"""
EXTRA_KEYS = (STEPS_KEY, "outcome", "step_acc", "has_steps", "format_ok", "audit")
"""every ``reward_extra_info`` has exactly these keys (verl gathers them per key across samples)"""


def task_to_verl_row(task: Task, split: str = "train", index: int = 0) -> dict[str, Any]:
    """One verl RL dataset row for ``task`` (chat prompt; the task itself in ``extra_info``)."""
    messages = [dict(m) for m in task.messages] or [{"role": "user", "content": task.prompt}]
    return {
        "data_source": DATA_SOURCE,
        "prompt": messages,
        "ability": "code_execution_reasoning",
        "reward_model": {"style": "rule", "ground_truth": task.reference.output},
        "extra_info": {
            "split": split,
            "index": index,
            "task_id": task.task_id,
            TASK_KEY: json.dumps(task.to_dict()),
        },
    }


def task_from_extra_info(extra_info: Any) -> Task:
    """The ``Task`` a row carries (``task_to_verl_row``); ``DataError`` when it carries none."""
    text = extra_info.get(TASK_KEY) if isinstance(extra_info, dict) else None
    if not isinstance(text, str):
        raise DataError(
            f"verl row has no extra_info[{TASK_KEY!r}]: write the dataset with "
            "`stepcode verl export` (stepcode.rl.verl_data.write_verl_parquet)"
        )
    return Task.from_dict(json.loads(text))


def write_verl_parquet(tasks: Sequence[Task], path: str | Path, split: str = "train") -> Path:
    """Write ``tasks`` as one verl parquet file (``data.train_files`` / ``data.val_files``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not tasks:
        raise DataError(f"no tasks to write to {path}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [task_to_verl_row(t, split, i) for i, t in enumerate(tasks)]
    pq.write_table(pa.Table.from_pylist(rows), out)
    return out


def export_dataset(dataset_dir: str | Path, out_dir: str | Path) -> dict[str, int]:
    """A ``stepcode data build`` directory -> ``out_dir/{train,val}.parquet`` for verl.

    ``rl.jsonl`` (or ``sft.jsonl``) becomes ``train.parquet`` and ``eval.jsonl`` ``val.parquet``.
    Returns the row count per file.
    """
    src = Path(dataset_dir)
    train = next(
        (src / n for n in ("rl.jsonl", "sft.jsonl", "train.jsonl") if (src / n).is_file()), None
    )
    if train is None or not (src / "eval.jsonl").is_file():
        raise DataError(
            f"{src}: expected rl.jsonl (or sft.jsonl / train.jsonl) and eval.jsonl "
            "(a `stepcode data build` output or a run's data/ directory)"
        )
    counts = {}
    for name, file, split in (
        ("train.parquet", train, "train"),
        ("val.parquet", src / "eval.jsonl", "test"),
    ):
        tasks = [Task.from_dict(d) for d in read_jsonl(file, strict=True)]
        write_verl_parquet(tasks, Path(out_dir) / name, split)
        counts[name] = len(tasks)
    return counts


def score_response(
    task: Task,
    response_ids: Sequence[int],
    tokenizer: Any,
    cfg: RewardConfig = RewardConfig(),  # noqa: B008
    *,
    terminal_from: Literal["outcome", "scalar"] = "outcome",
    trace_lines: TraceLines = "exact",
) -> tuple[Reward, RowSteps]:
    """Judge one response from its exact token ids; ``RowSteps`` has one step per id.

    The text and each token's char span come from ``rollout.detokenize`` (the rule the native
    sampler uses), so the step spans are the native trainer's. Ids after an EOS keep the terminal
    step. ``terminal_from`` and ``trace_lines`` are ``row_steps``'s.
    """
    from stepcode.rewards import score_completion
    from stepcode.rollout.detokenize import detokenize

    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    text, offsets = detokenize(tokenizer, response_ids, eos)
    reward = score_completion(task, text, cfg)
    offsets = (*offsets, *[(len(text), len(text))] * (len(response_ids) - len(offsets)))
    return reward, row_steps(reward, offsets, terminal_from=terminal_from, trace_lines=trace_lines)


def reward_extra_info(reward: Reward, row: RowSteps) -> dict[str, float | str]:
    """The per-sample payload (``EXTRA_KEYS``): the step JSON plus the numbers verl logs."""
    acc = sample_step_acc(reward)
    return {
        STEPS_KEY: row.to_json(),
        "outcome": float(reward.outcome),
        "step_acc": acc if acc is not None else 0.0,
        "has_steps": float(acc is not None),
        "format_ok": float(reward.format_ok),
        "audit": reward.audit,
    }


def reward_from_extra_info(info: Any) -> tuple[Reward, RowSteps]:
    """Read a payload back (trainer side): the ``RowSteps`` and a ``Reward`` for ``summarize``.

    Raises ``ValueError`` naming the fix when ``info`` is not stepcode's payload.
    """
    text = info.get(STEPS_KEY) if isinstance(info, dict) else None
    if not isinstance(text, str):
        raise ValueError(
            f"reward_extra_info has no {STEPS_KEY!r}: the responses were not scored by stepcode's "
            "reward manager; set reward.reward_manager.source=importlib "
            "reward.reward_manager.name=StepcodeRewardManager "
            "reward.reward_manager.module.path=pkg://stepcode.rl.verl_reward"
        )
    row = RowSteps.from_json(text)
    n = row.n_anchors
    reward = Reward(
        outcome=float(info["outcome"]), steps=row.rewards[:n], step_mask=row.mask[:n],
        format_ok=bool(info["format_ok"]), audit=str(info["audit"]),
    )  # fmt: skip
    return reward, row
