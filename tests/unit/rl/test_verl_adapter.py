"""verl adapter: the uid-borne step payload reproduces the native advantage path exactly."""

from __future__ import annotations

import importlib.util
import json
import pickle

import numpy as np
import pytest
import torch

from stepcode.rl.segment import segment_completion
from stepcode.rl.steps import AdvantageSpec, RowSteps, batch_token_advantages, stack_rows
from stepcode.rl.verl_adapter import (
    TASK_KEY,
    StepUid,
    bilevel_token_advantages,
    encode_step_uid,
    task_to_verl_row,
)
from stepcode.types import Reference, Reward, Task, TaskKind

# (outcome, anchor rewards, token->anchor layout with -1 = terminal) for 2 tasks x 3 samples
SAMPLES = [
    (1.0, (1.0, 1.0), [0, 0, 1, 1, -1, -1]),
    (1.0, (0.0, 0.0), [0, 1, -1]),
    (0.0, (1.0, 0.0), [0, 0, 0, 1, -1]),
    (0.0, (0.0,), [0, -1, -1, -1]),
    (1.0, (1.0,), [0, 0, -1]),
    (1.0, (1.0,), [-1, -1]),
]


def _rows():
    rewards = [Reward(outcome=o, steps=s, step_mask=(True,) * len(s)) for o, s, _ in SAMPLES]
    layouts = [[len(s) if k < 0 else k for k in lay] for _, s, lay in SAMPLES]
    uids = [
        encode_step_uid(f"task{i // 3}", r, lay)
        for i, (r, lay) in enumerate(zip(rewards, layouts, strict=True))
    ]
    T = 7
    mask = torch.zeros(len(SAMPLES), T, dtype=torch.bool)
    for i, (_, _, lay) in enumerate(SAMPLES):
        mask[i, : len(lay)] = True
    return rewards, layouts, uids, mask


@pytest.mark.parametrize("mode", ["terminal", "step", "bilevel", "process"])
@pytest.mark.parametrize("rule", ["span", "suffix_sum"])
def test_verl_path_equals_native_path(mode, rule):
    rewards, layouts, uids, mask = _rows()
    # native: rewards -> [B, G, S]; token layout with the terminal at S - 1
    rows = [
        RowSteps((*r.steps, r.outcome), (True,) * (len(r.steps) + 1), tuple(lay))
        for r, lay in zip(rewards, layouts, strict=True)
    ]
    batch = stack_rows(rows, [i // 3 for i in range(6)], mask.shape[1])
    native = batch_token_advantages(batch, mask, AdvantageSpec(mode=mode, lam=0.3, token_rule=rule))
    # verl: the uid array survives verl's `np.array(v)` and a pickle round trip (Ray)
    index = pickle.loads(pickle.dumps(np.array(np.array(uids, dtype=object))))
    assert all(isinstance(u, StepUid) for u in index) and index[0] == "task0"
    shuffled = [5, 0, 3, 1, 4, 2]  # verl may reorder rows (balance_batch): groups come from uids
    got = bilevel_token_advantages(
        mask[shuffled], list(index[shuffled]), lam=0.3, mode=mode, token_rule=rule
    )
    assert torch.allclose(got, native[shuffled], atol=1e-6)


def test_plain_uids_fail_with_the_fix_in_the_message():
    with pytest.raises(ValueError, match="reward_manager"):
        bilevel_token_advantages(torch.ones(2, 3, dtype=torch.bool), ["a", "a"])


def test_segmentation_output_plugs_in_with_terminal_index_n():
    reward = Reward(outcome=1.0, steps=(1.0, 0.0), step_mask=(True, True))
    tts = segment_completion([(0, 1), (1, 2), (2, 3)], [(0, 1), (1, 2)], None, 2, 2)
    uid = encode_step_uid("u", reward, tts)
    assert uid.token_to_step == (0, 1, 2) and uid.step_rewards == (1.0, 0.0, 1.0)


def test_task_row_round_trips_the_task():
    task = Task(
        task_id="t1",
        kind=TaskKind.OUTPUT,
        prompt="p",
        messages=({"role": "user", "content": "q"},),
        reference=Reference(code="def f(x):\n    return x", input_args="1", output="1"),
    )
    row = task_to_verl_row(task, index=4)
    assert row["prompt"] == [{"role": "user", "content": "q"}]
    assert Task.from_dict(json.loads(row["extra_info"][TASK_KEY])) == task


@pytest.mark.skipif(importlib.util.find_spec("verl") is None, reason="verl is not installed")
def test_registers_with_verl():
    from verl.trainer.ppo.core_algos import get_adv_estimator_fn

    from stepcode.rl.verl_adapter import register_bilevel_estimator, register_reward_manager

    fn = register_bilevel_estimator("stepcode_bilevel_test")
    assert get_adv_estimator_fn("stepcode_bilevel_test") is fn
    _, _, uids, mask = _rows()
    adv, ret = fn(
        token_level_rewards=torch.zeros(mask.shape),
        response_mask=mask,
        index=np.array(uids, dtype=object),
    )
    assert adv.shape == mask.shape and torch.equal(adv, ret)
    from verl.workers.reward_manager import get_reward_manager_cls

    assert get_reward_manager_cls(
        register_reward_manager("stepcode_test").__name__ and "stepcode_test"
    )


@pytest.mark.skipif(importlib.util.find_spec("verl") is None, reason="verl is not installed")
def test_reward_manager_feeds_the_estimator_through_verl_dataproto():
    from verl import DataProto

    from stepcode.rl.verl_adapter import register_bilevel_estimator, register_reward_manager

    task = Task(
        task_id="t",
        kind=TaskKind.OUTPUT,
        prompt="p",
        reference=Reference(code="def f(x):\n    return x", input_args="1", output="1"),
    )

    def score(task, ids, tokenizer, cfg):  # outcome = first token is even; one anchor = 2nd even
        steps = [0] * (len(ids) // 2) + [1] * (len(ids) - len(ids) // 2)
        r = Reward(
            outcome=float(ids[0] % 2 == 0), steps=(float(ids[1] % 2 == 0),), step_mask=(True,)
        )
        return r, steps

    manager = register_reward_manager("stepcode_dp_test", score_fn=score)(None, 0)
    prompts = torch.ones(4, 3, dtype=torch.long)
    responses = torch.tensor([[2, 2, 5, 0], [3, 2, 0, 0], [2, 3, 1, 1], [4, 4, 4, 0]])
    resp_mask = (responses != 0) | torch.tensor(
        [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1], [1, 1, 1, 0]]
    ).bool()
    data = DataProto.from_dict(
        tensors={
            "prompts": prompts,
            "responses": responses,
            "attention_mask": torch.cat([torch.ones(4, 3, dtype=torch.long), resp_mask.long()], 1),
        },
        non_tensors={
            "uid": np.array(["a", "a", "b", "b"], dtype=object),
            "extra_info": np.array([{TASK_KEY: json.dumps(task.to_dict())}] * 4, dtype=object),
        },
    )
    out = manager(data, return_dict=True)
    lengths = resp_mask.sum(-1)
    for i in range(4):  # scalar reward at the last valid token only (verl's convention)
        assert out["reward_tensor"][i].nonzero().flatten().tolist() in ([], [int(lengths[i]) - 1])
    data.non_tensor_batch.update({k: np.array(v) for k, v in out["reward_extra_info"].items()})
    fn = register_bilevel_estimator("stepcode_dp_test", mode="step")
    adv, _ = fn(
        token_level_rewards=out["reward_tensor"],
        response_mask=resp_mask,
        index=data.non_tensor_batch["uid"],
    )
    # group a: anchor rewards [1, 1] -> 0; outcome [1, 0] -> +-0.707 on the terminal tokens
    assert torch.allclose(adv[0], torch.tensor([0.0, 0.70710, 0.70710, 0.0]), atol=1e-4)
    assert torch.allclose(adv[1], torch.tensor([0.0, -0.70710, 0.0, 0.0]), atol=1e-4)
