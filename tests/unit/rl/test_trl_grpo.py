"""TRL: stepcode's reward functions in a real ``GRPOTrainer``, and ``BiLevelGRPOTrainer``'s token
advantages equal the native trainer's. Two real optimizer steps each on the tiny model.

Generation goes through TRL's ``rollout_func`` hook with fixed completions (gold, one wrong anchor
value, wrong answer): a random-init model never writes a parseable answer, so every advantage
would be 0. Everything after it (reward functions, advantages, loss, optimizer) is TRL's own.
"""

from __future__ import annotations

import importlib.util
import inspect
import re

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("trl") is None, reason="needs trl (pip install -e '.[trl]')"
    ),
]

G = 3


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from stepcode.data.synth import synthesize_programs
    from stepcode.execution import AnchorPolicy
    from stepcode.models import build_tiny_model, load_policy, save_policy, train_tokenizer
    from stepcode.tasks import make_tasks_batch, sft_target
    from stepcode.types import TaskKind

    programs = synthesize_programs(1, 2, 0, "small")
    per = make_tasks_batch(
        programs, [TaskKind.OUTPUT_ALIGNED], policy=AnchorPolicy.parse("first_k:2"), seed=0
    )
    tasks = [t for ts in per for t in ts][:2]
    golds = [sft_target(t) for t in tasks]
    tok = train_tokenizer(
        [m["content"] for t in tasks for m in t.messages] + golds * 4, vocab_size=400
    )
    path = save_policy(build_tiny_model(tok), tok, tmp_path_factory.mktemp("trl") / "m")
    variants = {}
    for t, gold in zip(tasks, golds, strict=True):
        wrong_anchor = re.sub(r"(<trace>\n[^:\n]+: )[^\n]+", r"\g<1>98765", gold, count=1)
        wrong_answer = re.sub(r"== [^\n]+\n</answer>", "== 424242\n</answer>", gold)
        variants[t.messages[-1]["content"]] = [gold, wrong_anchor, wrong_answer]
    return tasks, variants, path, load_policy


def _rollout(variants):
    """TRL ``rollout_func``: the g-th copy of a prompt gets the g-th fixed completion."""

    def rollout(prompts, trainer):
        tok = trainer.processing_class
        seen: dict[str, int] = {}
        out = {"prompt_ids": [], "completion_ids": [], "logprobs": None}
        for p in prompts:
            key = p[-1]["content"]
            g = seen.get(key, 0)
            seen[key] = g + 1
            chat = tok.apply_chat_template(p, add_generation_prompt=True, tokenize=False)
            out["prompt_ids"].append(tok.encode(chat, add_special_tokens=False))
            text = variants[key][g % G]
            out["completion_ids"].append(
                tok.encode(text, add_special_tokens=False) + [tok.eos_token_id]
            )
        return out

    return rollout


def _args(tmp_path, **kw):
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=2 * G, num_generations=G,
        max_completion_length=96, max_steps=2, learning_rate=1e-3, beta=0.0, logging_steps=1,
        report_to=[], save_strategy="no", use_cpu=True, bf16=False, seed=0, **kw,
    )  # fmt: skip


def _recording(cls):
    """A subclass that keeps what ``_compute_loss`` was given (the advantages it used)."""

    class Recording(cls):
        seen: list = []

        def _compute_loss(self, model, inputs):
            self.seen.append(
                {
                    k: inputs[k].detach().clone()
                    for k in ("completion_ids", "completion_mask", "advantages")
                }
            )
            return super()._compute_loss(model, inputs)

    return Recording


def test_pinned_trl_hooks():
    from trl import GRPOTrainer

    assert list(inspect.signature(GRPOTrainer._generate_and_score_completions).parameters) == [
        "self",
        "inputs",
    ]
    src = inspect.getsource(GRPOTrainer._generate_and_score_completions)
    assert '"advantages": advantages' in src and '"completion_mask": completion_mask' in src
    assert "if advantages.dim() == 1:" in inspect.getsource(GRPOTrainer._compute_loss)
    calc = inspect.getsource(GRPOTrainer._calculate_rewards)
    assert "completion_ids=completion_ids_list, **reward_kwargs" in calc


def test_plain_grpo_trainer_with_stepcode_reward_funcs(world, tmp_path):
    import torch
    from trl import GRPOTrainer

    from stepcode.rewards import score_completion
    from stepcode.rl.trl_grpo import REWARD_FUNCS, trl_dataset

    tasks, variants, path, load_policy = world
    model, tok = load_policy(path, device="cpu")
    before = [p.detach().clone() for p in model.parameters()]
    trainer = _recording(GRPOTrainer)(
        model=model, processing_class=tok, reward_funcs=list(REWARD_FUNCS),
        args=_args(tmp_path, reward_weights=[0.5, 0.0, 0.5]), train_dataset=trl_dataset(tasks),
        rollout_func=_rollout(variants),
    )  # fmt: skip
    trainer.train()
    assert trainer.state.global_step == 2 and len(trainer.seen) == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    # TRL logged stepcode's own judgement per function
    logs = [h for h in trainer.state.log_history if "rewards/outcome_reward/mean" in h]
    rewards = [score_completion(t, v) for t in tasks for v in variants[t.messages[-1]["content"]]]
    assert logs[0]["rewards/outcome_reward/mean"] == pytest.approx(
        sum(r.outcome for r in rewards) / 6
    )
    assert logs[0]["rewards/format_reward/mean"] == pytest.approx(1.0)
    assert trainer.seen[0]["advantages"].dim() == 1  # TRL's scalar advantage


def test_bilevel_trainer_uses_the_native_token_advantages(world, tmp_path):
    import torch

    from stepcode.rewards import score_batch
    from stepcode.rl.steps import AdvantageSpec, batch_token_advantages, row_steps, stack_rows
    from stepcode.rl.trl_grpo import BiLevelGRPOTrainer, trl_dataset
    from stepcode.rollout.detokenize import detokenize

    tasks, variants, path, load_policy = world
    model, tok = load_policy(path, device="cpu")
    before = [p.detach().clone() for p in model.parameters()]
    spec = AdvantageSpec(mode="bilevel", lam=0.3)
    trainer = _recording(BiLevelGRPOTrainer)(
        model=model, processing_class=tok, args=_args(tmp_path), train_dataset=trl_dataset(tasks),
        rollout_func=_rollout(variants), advantage_spec=spec,
    )  # fmt: skip
    trainer.seen = []
    trainer.train()
    assert trainer.state.global_step == 2 and len(trainer.seen) == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    by_text = {v: t for t in tasks for v in variants[t.messages[-1]["content"]]}
    for used in trainer.seen:  # each step's batch, in TRL's shuffled order
        ids, mask, adv = used["completion_ids"], used["completion_mask"].bool(), used["advantages"]
        assert adv.shape == ids.shape
        # the native trainer on the same completions, grouped by task
        texts_offsets = [
            detokenize(tok, ids[i][mask[i]].tolist(), [tok.eos_token_id]) for i in range(len(ids))
        ]
        row_tasks = [by_text[text] for text, _ in texts_offsets]
        rewards = score_batch(row_tasks, [text for text, _ in texts_offsets])
        rows = [
            row_steps(w, (*o, (len(t), len(t))) if len(o) < int(m.sum()) else o)
            for w, (t, o), m in zip(rewards, texts_offsets, mask, strict=True)
        ]
        native = batch_token_advantages(
            stack_rows(rows, [t.task_id for t in row_tasks], ids.shape[1]), mask, spec
        )
        assert torch.equal(adv, native)
        assert (adv != 0).any()
    metrics = [h for h in trainer.state.log_history if "stepcode/final_acc" in h]
    assert metrics and metrics[0]["stepcode/final_acc"] == pytest.approx(4 / 6)
