"""verl 0.9.1's real data path on CPU: reward-loop actors -> agent-loop post-processing ->
TransferQueue -> the V1 trainer's ``_compute_advantage`` through stepcode's trainer mode.

Replaced: only the rollout server (the responses are fixed: gold, one wrong anchor value, wrong
answer) and the FSDP update after the advantages (verl has no CPU platform). Everything in
between is verl's own code: the dataset rows go through ``RLHFDataset``, the reward manager is
loaded inside ``RewardLoopWorker`` Ray actors from the config the way ``main_ppo`` configures it,
the scored samples are stored by ``AgentLoopWorkerTQ._agent_loop_postprocess``, and the trainer is
built with its real ``__init__``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("verl") is None
        or importlib.util.find_spec("transfer_queue") is None,
        reason="needs verl[verl-core]==0.9.1 (pip install -e '.[verl]')",
    ),
]

G = 3


def _variants(gold: str) -> list[str]:
    """gold; the first trace line's value wrong; the answer wrong."""
    wrong_anchor = re.sub(r"(<trace>\n[^:\n]+: )[^\n]+", r"\g<1>98765", gold, count=1)
    wrong_answer = re.sub(r"== [^\n]+\n</answer>", "== 424242\n</answer>", gold)
    assert wrong_anchor != gold and wrong_answer != gold
    return [gold, wrong_anchor, wrong_answer]


@pytest.fixture(scope="module")
def verl_world(tmp_path_factory):
    """Ray + TransferQueue + the composed main_ppo config + 2 tasks in a verl parquet file."""
    import ray
    import transfer_queue as tq
    from hydra import compose, initialize_config_module

    from stepcode.data.synth import synthesize_programs
    from stepcode.execution import AnchorPolicy
    from stepcode.models import build_tiny_model, save_policy, train_tokenizer
    from stepcode.rl.verl_data import write_verl_parquet
    from stepcode.tasks import make_tasks_batch, sft_target
    from stepcode.types import TaskKind

    root = tmp_path_factory.mktemp("verl")
    programs = synthesize_programs(1, 2, 0, "small")
    policy = AnchorPolicy.parse("first_k:2", max_hits=11)
    tasks = [
        t
        for ts in make_tasks_batch(programs, [TaskKind.OUTPUT_ALIGNED], policy=policy, seed=0)
        for t in ts
    ][:2]
    texts = [m["content"] for t in tasks for m in t.messages] + [sft_target(t) for t in tasks] * 4
    tok = train_tokenizer(texts, vocab_size=400)
    save_policy(build_tiny_model(tok), tok, root / "model")
    parquet = write_verl_parquet(tasks, root / "train.parquet")

    overrides = [
        f"actor_rollout_ref.model.path={root / 'model'}",
        f"data.train_files={parquet}",
        f"data.val_files={parquet}",
        f"actor_rollout_ref.rollout.n={G}",
        "actor_rollout_ref.rollout.name=vllm",  # config only: no rollout server runs here
        "algorithm.adv_estimator=stepcode_bilevel",
        "+algorithm.stepcode.lam=0.3",
        "trainer.v1.trainer_mode=stepcode_sync",
        "reward.reward_manager.source=importlib",
        "reward.reward_manager.name=StepcodeRewardManager",
        "reward.reward_manager.module.path=pkg://stepcode.rl.verl_reward",
        "reward.num_workers=1",
        "transfer_queue.backend.SimpleStorage.num_data_storage_units=1",
    ]
    with initialize_config_module("verl.trainer.config", version_base=None):
        config = compose("ppo_trainer", overrides=overrides)
    # TaskRunner, TQ controller and storage take CPU slots: fewer than ~6 hangs without an error
    ray.init(num_cpus=6, include_dashboard=False, log_to_driver=False)
    config.transfer_queue.enable = True
    tq.init(config.transfer_queue)
    try:
        from verl.experimental.reward_loop.reward_loop import RewardLoopManager

        workers = RewardLoopManager(config).reward_loop_workers  # real actors, manager by importlib
        yield config, tasks, tok, [_variants(sft_target(t)) for t in tasks], workers
    finally:
        tq.close()
        ray.shutdown()


def _store_responses(config, tasks, tok, responses, reward_workers, prefix):
    """Each task's G fixed responses through verl's agent-loop post-processing into TQ."""
    from verl.experimental.agent_loop.agent_loop import AgentLoopMetrics, AgentLoopOutput
    from verl.trainer.ppo.v1 import AgentLoopWorkerTQ
    from verl.utils.dataset.rl_dataset import RLHFDataset

    dataset = RLHFDataset(config.data.train_files, tok, config.data)
    worker = AgentLoopWorkerTQ.__ray_actor_class__(
        config, llm_client=None, reward_loop_worker_handles=reward_workers
    )
    keys, ids = [], []

    async def run():
        for b in range(len(tasks)):
            row = dataset[b]
            chat = tok.apply_chat_template(
                row["raw_prompt"], add_generation_prompt=True, tokenize=False
            )
            prompt_ids = tok.encode(chat, add_special_tokens=False)
            for g, text in enumerate(responses[b]):
                resp = tok.encode(text, add_special_tokens=False) + [tok.eos_token_id]
                out = AgentLoopOutput(
                    prompt_ids=prompt_ids, response_ids=resp, response_mask=[1] * len(resp),
                    metrics=AgentLoopMetrics(),
                )  # fmt: skip
                await worker._agent_loop_postprocess(
                    out, False, **row, uid=f"{prefix}-{b}", session_id=g, global_steps=1
                )
                keys.append(f"{prefix}-{b}_{g}_0")
                ids.append(resp)

    asyncio.run(run())
    return keys, ids


def test_bilevel_advantages_through_verl_equal_the_native_trainer(verl_world):
    import torch
    import transfer_queue as tq
    from transfer_queue import KVBatchMeta

    from stepcode.rewards import score_batch
    from stepcode.rl.steps import AdvantageSpec, batch_token_advantages, row_steps, stack_rows
    from stepcode.rl.verl_trainer import StepcodeTrainerSync
    from stepcode.rollout.detokenize import detokenize

    config, tasks, tok, responses, workers = verl_world
    keys, ids = _store_responses(config, tasks, tok, responses, workers, "task")

    trainer = StepcodeTrainerSync(config)  # verl's real __init__
    assert trainer.trainer_mode == "sync"  # verl's sync replay buffer / refill / checkpointing
    order = [4, 0, 5, 2, 1, 3]  # verl may reorder rows (balance_batch): groups come from the uids
    batch = KVBatchMeta(partition_id="train", keys=[keys[i] for i in order], tags=[{}] * len(order))
    metrics: dict = {}
    trainer._compute_advantage(batch, metrics)
    got = tq.kv_batch_get(
        keys=batch.keys, partition_id="train", select_fields=["advantages", "rm_scores"]
    )
    adv_verl = got["advantages"].to_padded_tensor(padding=0.0)
    rm_scores = got["rm_scores"].to_padded_tensor(padding=0.0)

    # the native trainer on the same responses: score_batch -> row_steps -> stack_rows -> advantages
    row_tasks = [t for t in tasks for _ in range(G)]
    texts, offsets = zip(*(detokenize(tok, r, [tok.eos_token_id]) for r in ids), strict=True)
    rewards = score_batch(row_tasks, list(texts))
    L = max(len(r) for r in ids)
    rows = [
        row_steps(w, (*o, (len(t), len(t))))
        for w, o, t in zip(rewards, offsets, texts, strict=True)
    ]
    mask = torch.zeros(len(ids), L, dtype=torch.bool)
    for i, r in enumerate(ids):
        mask[i, : len(r)] = True
    native = batch_token_advantages(
        stack_rows(rows, [b for b in range(len(tasks)) for _ in range(G)], L), mask,
        AdvantageSpec(mode="bilevel", lam=0.3),
    )  # fmt: skip

    L_verl = adv_verl.shape[1]
    assert torch.equal(adv_verl, native[order][:, :L_verl])
    assert not native[:, L_verl:].any()
    for j, i in enumerate(order):  # verl's rm_scores: Reward.scalar (float32) at the last token
        scalar = torch.tensor(rewards[i].scalar, dtype=torch.float32)
        assert rm_scores[j].sum() == scalar and rm_scores[j, len(ids[i]) - 1] == scalar
    # the three kinds of response are what they claim, and the step reward moved the advantages
    assert [r.outcome for r in rewards[:G]] == [1.0, 1.0, 0.0]
    assert rewards[1].steps[0] == 0.0 and all(s == 1.0 for s in rewards[0].steps)
    first_anchor = [k for k, s in enumerate(rows[1].token_to_step) if s == 0]
    assert (
        first_anchor and (native[1, first_anchor] < 0).all() and (native[0, first_anchor] > 0).all()
    )
    assert metrics["stepcode/final_acc"] == pytest.approx(4 / 6)


def test_plain_sync_mode_fails_saying_what_to_set(verl_world):
    from transfer_queue import KVBatchMeta
    from verl.trainer.ppo.v1 import PPOTrainerSync

    config, tasks, tok, responses, workers = verl_world
    plain = config.copy()
    plain.trainer.v1.trainer_mode = "sync"
    keys, _ = _store_responses(plain, tasks[:1], tok, responses[:1], workers, "plain")
    trainer = PPOTrainerSync(plain)
    batch = KVBatchMeta(partition_id="train", keys=keys, tags=[{}] * len(keys))
    with pytest.raises(ValueError, match="trainer.v1.trainer_mode=stepcode_sync"):
        trainer._compute_advantage(batch, {})
