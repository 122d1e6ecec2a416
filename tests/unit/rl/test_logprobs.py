"""token_logprobs: chunked projection equals the plain logits path; padding does not matter."""

from __future__ import annotations

import pytest
import torch

from stepcode.models import LoraSpec, apply_lora, build_tiny_model, train_tokenizer
from stepcode.rl.logprobs import pack_rollouts, token_logprobs
from stepcode.types import Rollout


@pytest.fixture(scope="module")
def policy():
    tok = train_tokenizer(["def f(x):\n    return [x, x * 2]\n"] * 30, vocab_size=300)
    return build_tiny_model(tok, seed=0).eval(), tok


def _reference_logprobs(model, ids):
    """Unpadded single sequence: log_softmax over the full logits, the textbook way."""
    with torch.no_grad():
        logits = model(input_ids=ids[None]).logits[0]
    return torch.log_softmax(logits[:-1].float(), -1).gather(-1, ids[1:, None]).squeeze(-1)


def test_padded_batch_matches_each_sequence_alone(policy):
    model, tok = policy
    g = torch.Generator().manual_seed(0)
    rollouts = [
        Rollout(
            task_id=str(i),
            sample_idx=0,
            prompt="",
            completion="",
            prompt_ids=tuple(torch.randint(5, len(tok), (p,), generator=g).tolist()),
            completion_ids=tuple(torch.randint(5, len(tok), (c,), generator=g).tolist()),
        )
        for i, (p, c) in enumerate([(3, 5), (6, 2), (1, 4)])
    ]
    batch = pack_rollouts(rollouts, pad_id=tok.pad_token_id)
    assert batch.input_ids.shape == (3, 6 + 5) and batch.completion_mask.sum() == 11
    with torch.no_grad():
        lp = token_logprobs(model, batch.input_ids, batch.attention_mask, batch.completion_mask)
        plain = token_logprobs(
            model, batch.input_ids, batch.attention_mask, batch.completion_mask, chunk_rows=10**6
        )
    assert torch.allclose(lp, plain, atol=1e-6)
    for row, r in enumerate(rollouts):
        ids = torch.tensor(r.prompt_ids + r.completion_ids)
        ref = _reference_logprobs(model, ids)[-len(r.completion_ids) :]
        assert torch.allclose(lp[row, : len(r.completion_ids)], ref, atol=1e-4)
        assert torch.all(lp[row, len(r.completion_ids) :] == 0)


def test_temperature_divides_logits(policy):
    model, tok = policy
    ids = torch.randint(5, len(tok), (1, 8))
    attn = torch.ones_like(ids)
    cmask = torch.ones(1, 4, dtype=torch.bool)
    with torch.no_grad():
        hot = token_logprobs(model, ids, attn, cmask, temperature=2.0)
        logits = model(input_ids=ids).logits[0, -5:-1] / 2.0
    ref = torch.log_softmax(logits, -1).gather(-1, ids[0, -4:, None]).squeeze(-1)
    assert torch.allclose(hot[0], ref, atol=1e-5)


def test_peft_wrapped_model_and_chunked_backward(policy):
    _, tok = policy
    model = apply_lora(build_tiny_model(tok, seed=1), LoraSpec(r=2, alpha=4, dropout=0.0))
    ids = torch.randint(5, len(tok), (5, 9))
    attn = torch.ones_like(ids)
    cmask = torch.ones(5, 4, dtype=torch.bool)
    lp = token_logprobs(model, ids, attn, cmask, chunk_rows=2)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[:, -5:-1]
    ref = torch.log_softmax(logits, -1).gather(-1, ids[:, -4:, None]).squeeze(-1)
    assert torch.allclose(lp.detach(), ref, atol=1e-5)
    lp.sum().backward()
    grads = [p.grad for n, p in model.named_parameters() if "lora_B" in n]
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_rows_sharing_a_prompt_give_the_textbook_logprobs_and_gradients(policy, arch):
    """The G samples of a prompt share its forward pass (one prompt run once with a cache):
    values and parameter gradients equal each row run alone through ``model(...).logits``."""
    _, tok = policy
    model = build_tiny_model(tok, arch=arch, seed=2)
    g = torch.Generator().manual_seed(3)

    def ids(n):
        return tuple(torch.randint(5, len(tok), (n,), generator=g).tolist())

    prompts = [ids(6), ids(3), ids(4)]  # different lengths: left padding in the batch
    rows = [(0, 5), (0, 2), (0, 5), (1, 4), (1, 1), (2, 3)]  # (prompt, completion length)
    rollouts = [
        Rollout(task_id=str(p), sample_idx=i, prompt="", completion="",
                prompt_ids=prompts[p], completion_ids=ids(c))
        for i, (p, c) in enumerate(rows)
    ]  # fmt: skip
    batch = pack_rollouts(rollouts, pad_id=tok.pad_token_id)
    weights = torch.linspace(0.5, 1.5, batch.completion_mask.numel()).view_as(batch.completion_mask)

    lp = token_logprobs(model, batch.input_ids, batch.attention_mask, batch.completion_mask)
    (lp * weights).sum().backward()
    shared = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)

    total = 0.0
    for row, r in enumerate(rollouts):
        seq = torch.tensor(r.prompt_ids + r.completion_ids)
        logits = model(input_ids=seq[None]).logits[0, :-1].float()
        ref = torch.log_softmax(logits, -1).gather(-1, seq[1:, None]).squeeze(-1)
        ref = ref[-len(r.completion_ids) :]
        assert torch.allclose(lp[row, : len(ref)].detach(), ref.detach(), atol=1e-5)
        total = total + (ref * weights[row, : len(ref)]).sum()
    total.backward()
    for name, p in model.named_parameters():
        assert torch.allclose(shared[name], p.grad, atol=1e-5, rtol=1e-4), name


def test_gradient_checkpointing_model_takes_the_full_row_path(policy):
    """transformers drops the cache under gradient checkpointing; the result must not change."""
    _, tok = policy
    model = build_tiny_model(tok, seed=4)
    ids = torch.randint(5, len(tok), (1, 9)).repeat(3, 1)
    ids[:, -3:] = torch.randint(5, len(tok), (3, 3))
    attn, cmask = torch.ones_like(ids), torch.ones(3, 3, dtype=torch.bool)
    model.eval()
    with torch.no_grad():
        plain = token_logprobs(model, ids, attn, cmask)
    model.gradient_checkpointing_enable()
    model.train()
    lp = token_logprobs(model, ids, attn, cmask)
    assert torch.allclose(lp.detach(), plain, atol=1e-5)
    lp.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
