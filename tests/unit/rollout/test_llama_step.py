"""rollout.llama_step: the fused decode step computes what the model's own forward computes."""

from __future__ import annotations

import pytest
import torch

from stepcode.models import LoraSpec, apply_lora, build_tiny_model, train_tokenizer
from stepcode.rollout.generate import _preallocate, sample_group
from stepcode.rollout.llama_step import LlamaStep
from stepcode.rollout.params import SamplingParams
from stepcode.types import Reference, Task, TaskKind

CORPUS = ["def f(x):\n    return x + 1\n<trace>\nx: 3\n</trace>\n<answer>\nf(2) == 3\n</answer>"]


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(CORPUS * 40, vocab_size=300)


def _gqa_llama(tok):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(1)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        attention_bias=True, mlp_bias=True,
    )  # fmt: skip
    return LlamaForCausalLM(cfg).eval()


def _model(tok, name):
    if name == "llama-gqa-bias":
        model = _gqa_llama(tok)  # 2 query heads per KV head, biases everywhere
    else:
        model = build_tiny_model(tok, arch=name, seed=0).eval()  # qwen2: q/k/v biases only
    # transformers initialises biases to 0 and norm weights to 1: make them count
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "bias" in n or "norm" in n:
                p.add_(0.3 * torch.randn(p.shape, generator=g))
    return model


def _prefill(model, prompt, mask, G, capacity):
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        out = model(input_ids=prompt, attention_mask=mask, position_ids=pos, use_cache=True)
    cache = out.past_key_values
    cache.batch_repeat_interleave(G)
    return cache, pos


@pytest.mark.parametrize("name", ["llama", "qwen2", "llama-gqa-bias"])
def test_decode_steps_match_the_models_forward(tok, name):
    model = _model(tok, name)
    B, G, P, steps = 2, 3, 7, 5
    prompt = torch.randint(5, len(tok), (B, P))
    mask = torch.ones(B, P, dtype=torch.long)
    mask[0, :3] = 0  # left padding on the first prompt
    fused_cache, pos = _prefill(model, prompt, mask, G, P + steps)
    _preallocate(fused_cache, P + steps)
    step = LlamaStep.build(model, fused_cache)
    assert step is not None
    ref_cache, _ = _prefill(model, prompt, mask, G, P + steps)  # transformers' own cache
    attn = mask.repeat_interleave(G, dim=0)
    next_pos = pos[:, -1:].repeat_interleave(G, dim=0) + 1
    for _ in range(steps):
        tokens = torch.randint(5, len(tok), (B * G,))
        attn = torch.cat([attn, attn.new_ones(B * G, 1)], dim=1)
        got = step(tokens, attn, next_pos)
        with torch.no_grad():
            ref = model(
                input_ids=tokens[:, None], attention_mask=attn, position_ids=next_pos,
                past_key_values=ref_cache, use_cache=True,
            ).logits[:, -1]  # fmt: skip
        assert torch.allclose(got, ref, atol=1e-5), (got - ref).abs().max()
        next_pos = next_pos + 1
    assert ref_cache.get_seq_length() == fused_cache.get_seq_length() == P + steps


def test_sample_group_on_qwen2_greedy_equals_generate(tok):
    model = _model(tok, "qwen2")
    task = Task(
        task_id="t", kind=TaskKind.OUTPUT, prompt="def f(x):\n    return",
        reference=Reference(code="def f(x):\n    return x", input_args="1", output="1"),
    )  # fmt: skip
    (roll,) = sample_group(model, tok, [task], SamplingParams(n=1, max_tokens=16, temperature=0))
    ids = torch.tensor([roll.prompt_ids])
    ref = model.generate(ids, max_new_tokens=16, do_sample=False, eos_token_id=[])
    assert list(roll.completion_ids) == ref[0, ids.shape[1] :].tolist()


def test_other_models_and_caches_keep_the_generic_path(tok):
    from transformers import DynamicCache, GPT2Config, GPT2LMHeadModel

    model = _model(tok, "llama")
    prompt, mask = torch.randint(5, len(tok), (1, 4)), torch.ones(1, 4, dtype=torch.long)
    plain_cache, _ = _prefill(model, prompt, mask, 1, 8)
    assert isinstance(plain_cache, DynamicCache)
    assert LlamaStep.build(model, plain_cache) is None  # not rollout.generate's buffered layers
    buffered, _ = _prefill(model, prompt, mask, 1, 8)
    _preallocate(buffered, 8)
    assert LlamaStep.build(model, buffered) is not None
    lora = apply_lora(build_tiny_model(tok, seed=1), LoraSpec(r=2, alpha=4, dropout=0.0))
    assert LlamaStep.build(lora, buffered) is None
    assert LlamaStep.build(lora.base_model.model, buffered) is None  # LoRA-wrapped Linear layers
    assert LlamaStep.build(build_tiny_model(tok, seed=2).to(torch.bfloat16), buffered) is None
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=1, n_head=2))
    assert LlamaStep.build(gpt2, buffered) is None
