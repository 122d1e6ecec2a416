"""SFT warm-up pieces: loss on completion tokens only, resume-safe batches, teacher filtering."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from stepcode.errors import DataError
from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rl.config import DataConfig
from stepcode.rl.sft import (
    SFTExample,
    build_examples,
    collate,
    load_teacher_completions,
    sample_batch,
    sft_autocast,
    sft_step,
)
from stepcode.rl.taskset import build_task_sets
from stepcode.tasks import sft_target


@pytest.fixture(scope="module")
def tasks():
    return build_task_sets(DataConfig(n_train=6, n_eval=1, eval_levels=(1,)), seed=3).train


def test_loss_weights_cover_the_target_and_eos_only(tasks) -> None:
    prompts, targets = [t.prompt for t in tasks], [sft_target(t) for t in tasks]
    tok = train_tokenizer([p + c for p, c in zip(prompts, targets, strict=True)], vocab_size=300)
    examples = build_examples(prompts, targets, tok, max_len=10_000)
    batch = collate(examples[:3], tok.pad_token_id)
    for row, e in enumerate(examples[:3]):
        weights, ids = batch["loss_weights"][row], batch["input_ids"][row]
        n_prompt, n_target = len(e.prompt_ids), len(e.target_ids)
        assert (weights[:n_prompt] == 0).all()
        assert (weights[n_prompt : n_prompt + n_target] == 1).all()
        assert batch["target_mask"][row].nonzero().flatten().tolist() == list(
            range(n_prompt, n_prompt + n_target)
        )
        assert ids[n_prompt : n_prompt + n_target].tolist() == list(e.target_ids)
        assert e.target_ids[-1] == tok.eos_token_id
        assert (weights[n_prompt + n_target :] == 0).all()
        assert int(batch["attention_mask"][row].sum()) == n_prompt + n_target
    weighted = collate(examples[:3], tok.pad_token_id, prompt_weight=0.25)["loss_weights"]
    n_prompt = len(examples[0].prompt_ids)
    assert weighted[0, 0] == 0 and (weighted[0, 1:n_prompt] == 0.25).all()
    assert torch.equal(weighted[0, n_prompt:], batch["loss_weights"][0, n_prompt:])
    assert tok.decode(list(examples[0].target_ids[:-1])) == targets[0]
    assert build_examples(prompts, targets, tok, max_len=5) == []

    model = build_tiny_model(tok, size="tiny", seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = sft_step(model, collate(examples, tok.pad_token_id), opt, None, 1.0)
    for _ in range(5):
        last = sft_step(model, collate(examples, tok.pad_token_id), opt, None, 1.0)
    assert last["loss/sft"] < first["loss/sft"]
    assert first["sft/target_tokens"] == sum(len(e.target_ids) for e in examples)


def test_completion_only_loss_equals_the_models_own_label_loss(tasks) -> None:
    """With prompt weight 0 the weighted loss is HF's ``labels`` loss with -100 on the prompt."""
    prompts, targets = [t.prompt for t in tasks], [sft_target(t) for t in tasks]
    tok = train_tokenizer([p + c for p, c in zip(prompts, targets, strict=True)], vocab_size=300)
    examples = build_examples(prompts, targets, tok, max_len=10_000)
    batch = collate(examples, tok.pad_token_id)
    labels = batch["input_ids"].masked_fill(batch["loss_weights"] == 0, -100)
    model = build_tiny_model(tok, size="tiny", seed=0)
    with torch.no_grad():
        expected = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels
        ).loss
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    got = sft_step(model, batch, opt, None, 1.0)["loss/sft"]
    assert got == pytest.approx(float(expected), rel=1e-5)


def test_batches_depend_on_seed_and_step_only(tasks) -> None:
    examples = [SFTExample(prompt_ids=(i,) * (i % 7 + 1), target_ids=(i,)) for i in range(20)]
    assert sample_batch(examples, 5, 0, 7) == sample_batch(examples, 5, 0, 7)
    assert sample_batch(examples, 5, 0, 7) != sample_batch(examples, 5, 0, 8)


def test_teacher_completions_are_kept_only_when_they_verify(tasks, tmp_path: Path) -> None:
    good, bad = tasks[0], tasks[1]
    wrong = sft_target(bad).replace(bad.reference.output, repr("not the output"))
    path = tmp_path / "teacher.jsonl"
    rows = [
        {"task_id": good.task_id, "completion": sft_target(good)},
        {"task_id": bad.task_id, "completion": wrong},
        {"task_id": "no-such-task", "completion": "x"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    kept = load_teacher_completions(path, tasks)
    assert [(t.task_id, c) for t, c in kept] == [(good.task_id, sft_target(good))]

    path.write_text(json.dumps({"completion": "x"}) + "\n")
    with pytest.raises(DataError, match="task_id"):
        load_teacher_completions(path, tasks)


def test_bf16_autocast_trains_and_keeps_fp32_weights(tasks) -> None:
    prompts, targets = [t.prompt for t in tasks], [sft_target(t) for t in tasks]
    tok = train_tokenizer([p + c for p, c in zip(prompts, targets, strict=True)], vocab_size=300)
    batch = collate(build_examples(prompts, targets, tok, max_len=10_000), tok.pad_token_id)
    model = build_tiny_model(tok, size="tiny", seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = sft_step(model, batch, opt, None, 1.0, autocast=torch.bfloat16)
    for _ in range(5):
        last = sft_step(model, batch, opt, None, 1.0, autocast=torch.bfloat16)
    assert math.isfinite(first["loss/sft"]) and last["loss/sft"] < first["loss/sft"]
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_precision_names() -> None:
    cpu = torch.device("cpu")
    assert sft_autocast("fp32", cpu) is None
    assert sft_autocast("bf16", cpu) is torch.bfloat16
    assert sft_autocast("auto", cpu) is None  # measured: not worth twice the memory on CPU
