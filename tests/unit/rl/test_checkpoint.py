"""Checkpoints restore model, optimizer, scheduler and every RNG; the metrics file resumes exactly."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from stepcode.metrics import JsonlSink, read_metrics
from stepcode.rl import checkpoint as ckpt


def _setup(seed: int):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def _step(model, opt, sched) -> float:
    """One step whose data come from the global RNGs (python, numpy, torch)."""
    x = torch.randn(8, 4) + float(np.random.rand()) + random.random()
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
    sched.step()
    opt.zero_grad()
    return loss.item()


def test_resume_continues_bit_identically(tmp_path: Path) -> None:
    model, opt, sched = _setup(0)
    random.seed(1)
    np.random.seed(1)
    straight = [_step(model, opt, sched) for _ in range(6)]

    model, opt, sched = _setup(0)
    random.seed(1)
    np.random.seed(1)
    resumed = [_step(model, opt, sched) for _ in range(3)]
    ckpt.save_checkpoint(
        tmp_path, model, opt, sched, ckpt.TrainState(step=3, phase="sft", extra={"a": 1})
    )
    for _ in range(2):  # the work a killed run did after its checkpoint is lost
        _step(model, opt, sched)

    model2, opt2, sched2 = _setup(99)  # a fresh process: different init and RNG state
    state = ckpt.restore(ckpt.load_checkpoint(tmp_path), model2, opt2, sched2)
    assert (state.step, state.phase, state.extra) == (3, "sft", {"a": 1})
    resumed += [_step(model2, opt2, sched2) for _ in range(3)]
    assert resumed == straight
    assert opt2.param_groups[0]["lr"] == 1e-2 * 0.5**3


def test_no_checkpoint_is_none_and_a_torn_temp_file_is_ignored(tmp_path: Path) -> None:
    assert ckpt.load_checkpoint(tmp_path) is None
    model, opt, sched = _setup(0)
    ckpt.save_checkpoint(
        tmp_path, model, opt, sched, ckpt.TrainState(step=5, phase="grpo", extra={})
    )
    # a kill -9 in the middle of the next save leaves only a partial temp file
    (tmp_path / "checkpoints" / f".{ckpt.CHECKPOINT}.tmp").write_bytes(b"\x80partial")
    payload = ckpt.load_checkpoint(tmp_path)
    assert payload is not None and payload["step"] == 5


def test_jsonl_sink_truncates_to_the_checkpoint_step(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    sink = JsonlSink(path)
    for step in range(1, 6):
        sink.log(step, {"loss": step / 10, "bad": float("nan")})
    sink.close()
    with path.open("a") as fh:
        fh.write('{"step": 6, "loss"')  # torn last line of a killed run
    sink = JsonlSink(path)
    sink.truncate_after(3)
    sink.log(4, {"loss": 0.0})
    sink.close()
    rows = read_metrics(path)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["bad"] is None and rows[3]["loss"] == 0.0
