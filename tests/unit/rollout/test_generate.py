"""sample_group on a real tiny model: greedy equals HF generate, seeds, offsets, stops, chat."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from stepcode.errors import ConfigError
from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rollout.generate import derive_seed, sample_group
from stepcode.rollout.params import SamplingParams
from stepcode.rollout.render import render_prompt
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
    rolls = sample_group(model, tok, tasks, SamplingParams(n=2, max_tokens=12, temperature=0))
    assert [r.task_id for r in rolls] == ["t0", "t0", "t2", "t2"]
    for r in rolls:
        ids = torch.tensor([r.prompt_ids])
        ref = model.generate(ids, max_new_tokens=12, do_sample=False, eos_token_id=[])
        assert list(r.completion_ids) == ref[0, ids.shape[1] :].tolist()
        assert r.finish_reason == "length"


def test_per_sample_seeds_do_not_depend_on_batch_mates(policy):
    model, tok = policy
    tasks = [_task(i) for i in range(3)]
    cfg = SamplingParams(max_tokens=20, temperature=1.0)
    seeds = [derive_seed(7, 1, b, g) for b in range(3) for g in range(4)]
    full = sample_group(model, tok, tasks, replace(cfg, n=4), seeds=seeds)
    alone = sample_group(model, tok, tasks[1:2], replace(cfg, n=4), seeds=seeds[4:8])
    assert [r.completion_ids for r in full[4:8]] == [r.completion_ids for r in alone]
    again = sample_group(model, tok, tasks, replace(cfg, n=4), seeds=seeds)
    assert [r.completion_ids for r in again] == [r.completion_ids for r in full]
    assert len({r.completion_ids for r in full}) > 6  # samples of a group differ
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = sample_group(model, tok, tasks, replace(cfg, n=2), generator=g1)
    b = sample_group(model, tok, tasks, replace(cfg, n=2), generator=g2)
    assert [r.completion_ids for r in a] == [r.completion_ids for r in b]
    assert derive_seed(7, 1, 0, 0) != derive_seed(7, 1, 0, 1) != derive_seed(7, 2, 0, 1)


def test_offsets_cover_the_text_and_match_decode(policy):
    model, tok = policy
    rolls = sample_group(
        model, tok, [_task(0)], SamplingParams(n=8, max_tokens=40, temperature=1.0), seeds=range(8)
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
        rolls = sample_group(
            model, tok, [_task(0)], SamplingParams(n=2, max_tokens=10, temperature=1.0)
        )
    finally:
        model.lm_head.bias = None
    for r in rolls:
        assert r.completion_ids == (eos,) and r.completion == "" and r.finish_reason == "stop"
        assert r.completion_offsets == ((0, 0),)
    greedy = sample_group(model, tok, [_task(1)], SamplingParams(n=1, max_tokens=30, temperature=0))
    text = greedy[0].completion
    stop = text[5:8]
    assert stop and len(text) > 8
    cut = sample_group(
        model, tok, [_task(1)], SamplingParams(max_tokens=30, temperature=0, stop=(stop,))
    )
    r = cut[0]
    assert r.finish_reason == "stop" and r.completion == text[: text.index(stop)]
    assert all(e <= len(r.completion) for _, e in r.completion_offsets)
    assert len(r.completion_ids) < len(greedy[0].completion_ids)


def test_chat_prompt_rendering(policy):
    model, tok = policy
    text, is_chat = render_prompt(tok, _task(1, chat=True))
    assert is_chat and text.endswith("<|im_start|>assistant\n") and "predict 1" in text
    assert render_prompt(tok, _task(1, chat=True), chat=False) == (_task(1).prompt, False)
    rolls = sample_group(
        model, tok, [_task(1, chat=True)], SamplingParams(max_tokens=3, temperature=1.0)
    )
    assert rolls[0].prompt == text
    assert list(rolls[0].prompt_ids) == tok.encode(text, add_special_tokens=False)
    with pytest.raises(ConfigError, match="chat"):
        render_prompt(tok, _task(1), chat=True)


def test_bad_sampling_config_fails_fast(policy):
    model, tok = policy
    empty = Task(task_id="e", kind=TaskKind.OUTPUT, prompt="", reference=_task(0).reference)
    with pytest.raises(ConfigError, match="empty prompt"):
        sample_group(model, tok, [empty], SamplingParams(n=2))
    with pytest.raises(ConfigError, match="top_p"):
        SamplingParams(top_p=0)
    with pytest.raises(ConfigError, match="temperature"):
        SamplingParams(temperature=-1)


def test_inverse_cdf_sampling_follows_top_k_top_p_distributions():
    from stepcode.rollout.generate import _sample_next

    probs = torch.tensor([0.5, 0.3, 0.15, 0.05, 0.0])
    logits = probs.log().expand(1000, 5)
    u = (torch.arange(1000, dtype=torch.float64) + 0.5) / 1000  # an even grid of uniforms

    def shares(**kw):
        picks = _sample_next(logits, SamplingParams(**{"temperature": 1.0, **kw}), u)
        return torch.bincount(picks, minlength=5).float() / 1000

    assert torch.allclose(shares(), probs, atol=2e-3)  # zero-probability token never drawn
    assert torch.allclose(shares(top_k=2), torch.tensor([0.625, 0.375, 0, 0, 0]), atol=2e-3)
    assert torch.allclose(shares(top_p=0.7), torch.tensor([0.625, 0.375, 0, 0, 0]), atol=2e-3)
    assert torch.allclose(shares(top_p=0.4), torch.tensor([1.0, 0, 0, 0, 0]))
    edge = _sample_next(
        logits[:2], SamplingParams(top_k=2, temperature=1.0), torch.tensor([1.0, 0.0])
    )
    assert edge.tolist() == [1, 0]  # u == 1 never lands on a filtered-out token
    hot = shares(temperature=2.0)
    expected = probs.sqrt() / probs.sqrt().sum()
    assert torch.allclose(hot, expected, atol=2e-3)


def test_detokenize_matches_sampled_offsets(policy):
    from stepcode.rollout.detokenize import detokenize

    model, tok = policy
    for r in sample_group(
        model, tok, [_task(0)], SamplingParams(n=4, max_tokens=30, temperature=1.0), seeds=range(4)
    ):
        assert detokenize(tok, r.completion_ids, [tok.eos_token_id]) == (
            r.completion,
            r.completion_offsets,
        )


def test_hf_engine_decodes_with_the_same_decoder_as_sample_group(policy):
    from stepcode.rollout.engines import HFEngine

    model, tok = policy
    tasks = [_task(0), _task(2), _task(1)]
    params = SamplingParams(n=2, temperature=1.0, max_tokens=15, seed=5)
    seeds = [derive_seed(5, 0, b, g) for b in range(3) for g in range(2)]
    rolls = sample_group(model, tok, tasks, params, seeds=seeds, batch_tasks=2)
    comps = HFEngine(model, tok, batch_size=3).generate([t.prompt for t in tasks], params)
    assert [c.text for group in comps for c in group] == [r.completion for r in rolls]
    assert [c.n_tokens for group in comps for c in group] == [len(r.completion_ids) for r in rolls]
