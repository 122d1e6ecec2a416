"""sample_group on a real tiny model: greedy equals HF generate, seeds, offsets, stops, chat."""

from __future__ import annotations

import pytest
import torch

from stepcode.errors import ConfigError
from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rollout.generate import SamplingConfig, derive_seed, render_prompt, sample_group
from stepcode.types import Reference, Task, TaskKind

CORPUS = [
    "def f(x):\n    return x + 1\n<trace>\nx: 3\n</trace>\n<answer>\nassert f(2) == 3\n</answer>"
]


@pytest.fixture(scope="module")
def policy():
    tok = train_tokenizer(CORPUS * 40 + ["é 漢字 ✓"] * 5, vocab_size=400)
    return build_tiny_model(tok, seed=0), tok


def _task(i: int, chat: bool = False) -> Task:
    messages = ({"role": "user", "content": f"predict {i}"},) if chat else ()
    return Task(
        task_id=f"t{i}",
        kind=TaskKind.OUTPUT,
        prompt="def f(x):\n" * (i + 1),
        messages=messages,
        reference=Reference(code="def f(x):\n    return x", input_args="1", output="1"),
    )


def test_greedy_matches_transformers_generate(policy):
    model, tok = policy
    tasks = [_task(0), _task(2)]
    rolls = sample_group(model, tok, tasks, 2, SamplingConfig(max_new_tokens=12, temperature=0))
    assert [r.task_id for r in rolls] == ["t0", "t0", "t2", "t2"]
    for r in rolls:
        ids = torch.tensor([r.prompt_ids])
        ref = model.generate(ids, max_new_tokens=12, do_sample=False, eos_token_id=[])
        assert list(r.completion_ids) == ref[0, ids.shape[1] :].tolist()
        assert r.finish_reason == "length"


def test_per_sample_seeds_do_not_depend_on_batch_mates(policy):
    model, tok = policy
    tasks = [_task(i) for i in range(3)]
    cfg = SamplingConfig(max_new_tokens=20)
    seeds = [derive_seed(7, 1, b, g) for b in range(3) for g in range(4)]
    full = sample_group(model, tok, tasks, 4, cfg, seeds=seeds)
    alone = sample_group(model, tok, tasks[1:2], 4, cfg, seeds=seeds[4:8])
    assert [r.completion_ids for r in full[4:8]] == [r.completion_ids for r in alone]
    again = sample_group(model, tok, tasks, 4, cfg, seeds=seeds)
    assert [r.completion_ids for r in again] == [r.completion_ids for r in full]
    assert len({r.completion_ids for r in full}) > 6  # samples of a group differ
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = sample_group(model, tok, tasks, 2, cfg, generator=g1)
    b = sample_group(model, tok, tasks, 2, cfg, generator=g2)
    assert [r.completion_ids for r in a] == [r.completion_ids for r in b]
    assert derive_seed(7, 1, 0, 0) != derive_seed(7, 1, 0, 1) != derive_seed(7, 2, 0, 1)


def test_offsets_cover_the_text_and_match_decode(policy):
    model, tok = policy
    rolls = sample_group(
        model, tok, [_task(0)], 8, SamplingConfig(max_new_tokens=40), seeds=range(8)
    )
    for r in rolls:
        assert len(r.completion_offsets) == len(r.completion_ids)
        assert "".join(r.completion[s:e] for s, e in r.completion_offsets) == r.completion
        assert r.completion == tok.decode(r.completion_ids, skip_special_tokens=True)


def test_eos_and_stop_strings_end_a_row(policy):
    model, tok = policy
    eos = tok.eos_token_id
    try:  # an output bias makes EOS overwhelmingly likely; removed afterwards
        bias = torch.zeros(len(tok))
        bias[eos] = 1e4
        model.lm_head.bias = torch.nn.Parameter(bias)
        rolls = sample_group(model, tok, [_task(0)], 2, SamplingConfig(max_new_tokens=10))
    finally:
        model.lm_head.bias = None
    for r in rolls:
        assert r.completion_ids == (eos,) and r.completion == "" and r.finish_reason == "stop"
        assert r.completion_offsets == ((0, 0),)
    greedy = sample_group(
        model, tok, [_task(1)], 1, SamplingConfig(max_new_tokens=30, temperature=0)
    )
    text = greedy[0].completion
    stop = text[5:8]
    assert stop and len(text) > 8
    cut = sample_group(
        model, tok, [_task(1)], 1, SamplingConfig(max_new_tokens=30, temperature=0, stop=(stop,))
    )
    r = cut[0]
    assert r.finish_reason == "stop" and r.completion == text[: text.index(stop)]
    assert all(e <= len(r.completion) for _, e in r.completion_offsets)
    assert len(r.completion_ids) < len(greedy[0].completion_ids)


def test_chat_prompt_rendering(policy):
    model, tok = policy
    text, is_chat = render_prompt(_task(1, chat=True), tok)
    assert is_chat and text.endswith("<|im_start|>assistant\n") and "predict 1" in text
    assert render_prompt(_task(1, chat=True), tok, chat=False) == (_task(1).prompt, False)
    rolls = sample_group(model, tok, [_task(1, chat=True)], 1, SamplingConfig(max_new_tokens=3))
    assert rolls[0].prompt == text
    assert list(rolls[0].prompt_ids) == tok.encode(text, add_special_tokens=False)
    with pytest.raises(ConfigError, match="chat"):
        render_prompt(_task(1), tok, chat=True)


def test_bad_sampling_config_fails_fast(policy):
    model, tok = policy
    empty = Task(task_id="e", kind=TaskKind.OUTPUT, prompt="", reference=_task(0).reference)
    with pytest.raises(ConfigError, match="empty prompt"):
        sample_group(model, tok, [empty], 2)
    with pytest.raises(ConfigError, match="top_p"):
        SamplingConfig(top_p=0)
    with pytest.raises(ConfigError, match="temperature"):
        SamplingConfig(temperature=-1)


def test_inverse_cdf_sampling_follows_top_k_top_p_distributions():
    from stepcode.rollout.generate import _sample_next

    probs = torch.tensor([0.5, 0.3, 0.15, 0.05, 0.0])
    logits = probs.log().expand(1000, 5)
    u = (torch.arange(1000, dtype=torch.float64) + 0.5) / 1000  # an even grid of uniforms

    def shares(**kw):
        picks = _sample_next(logits, SamplingConfig(**kw), u)
        return torch.bincount(picks, minlength=5).float() / 1000

    assert torch.allclose(shares(), probs, atol=2e-3)  # zero-probability token never drawn
    assert torch.allclose(shares(top_k=2), torch.tensor([0.625, 0.375, 0, 0, 0]), atol=2e-3)
    assert torch.allclose(shares(top_p=0.7), torch.tensor([0.625, 0.375, 0, 0, 0]), atol=2e-3)
    assert torch.allclose(shares(top_p=0.4), torch.tensor([1.0, 0, 0, 0, 0]))
    edge = _sample_next(logits[:2], SamplingConfig(top_k=2), torch.tensor([1.0, 0.0]))
    assert edge.tolist() == [1, 0]  # u == 1 never lands on a filtered-out token
    hot = shares(temperature=2.0)
    expected = probs.sqrt() / probs.sqrt().sum()
    assert torch.allclose(hot, expected, atol=2e-3)


def test_detokenize_matches_sampled_offsets(policy):
    from stepcode.rollout.detokenize import detokenize

    model, tok = policy
    for r in sample_group(
        model, tok, [_task(0)], 4, SamplingConfig(max_new_tokens=30), seeds=range(4)
    ):
        assert detokenize(tok, r.completion_ids, [tok.eos_token_id]) == (
            r.completion,
            r.completion_offsets,
        )
