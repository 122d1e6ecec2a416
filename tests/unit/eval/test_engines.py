"""HFEngine on a real tiny model; GenerationParams validation; the vLLM missing-package message."""

from __future__ import annotations

import importlib.util

import pytest

from stepcode.errors import ConfigError
from stepcode.models import build_tiny_model, save_policy, train_tokenizer
from stepcode.rollout.engines import (
    GenerationParams,
    HFEngine,
    VLLMEngine,
    cut_at_stop,
    make_engine,
)

CORPUS = [
    "def f(x):\n    y = x + 1\n    return y * 2\nassert f(3) == 8\n",
    "def f(s):\n    return s.upper()\n[ANSWER]\nassert f('a') == 'A'\n[/ANSWER]\n",
] * 20


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    tok = train_tokenizer(CORPUS, vocab_size=400)
    model = build_tiny_model(tok, seed=1, max_positions=512)
    return save_policy(model, tok, tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def engine(model_dir):
    return HFEngine.from_pretrained(str(model_dir), device="cpu", batch_size=8)


PROMPTS = [
    "def f(x):\n    return x",
    "assert f(",
    "def f(s):\n    y = s.upper()\n    return y + y\n",
]


def test_greedy_is_deterministic_and_batching_does_not_change_it(engine):
    p = GenerationParams(max_tokens=12)
    batched = engine.generate(PROMPTS, p)
    one = HFEngine(engine.model, engine.tokenizer, batch_size=1)
    single = [one.generate([q], p)[0] for q in PROMPTS]
    assert [[c.text for c in cs] for cs in batched] == [[c.text for c in cs] for cs in single]
    assert batched == engine.generate(PROMPTS, p)
    for cs in batched:
        assert len(cs) == 1 and 1 <= cs[0].n_tokens <= 12
        assert cs[0].finish_reason in ("stop", "length")
        if cs[0].finish_reason == "length":
            assert cs[0].n_tokens == 12


def test_stop_string_cuts_text_and_ends_early(engine):
    free = engine.generate(PROMPTS[:1], GenerationParams(max_tokens=24))[0][0]
    assert len(free.text) >= 4, free
    stop = free.text[2:4]
    cut = engine.generate(PROMPTS[:1], GenerationParams(max_tokens=24, stop=(stop,)))[0][0]
    assert cut.text == free.text[: free.text.find(stop)]
    assert cut.finish_reason == "stop"
    assert cut.n_tokens <= free.n_tokens


def test_stop_strings_never_match_across_the_prompt_boundary(engine):
    """Like OpenAI servers and vLLM: a stop string formed by the prompt's tail and the first
    generated characters is not a stop (transformers' own ``stop_strings`` would stop there)."""
    free = engine.generate(PROMPTS[:1], GenerationParams(max_tokens=12))[0][0]
    straddle = PROMPTS[0][-3:] + free.text[:1]
    assert free.text and straddle not in free.text, free
    same = engine.generate(PROMPTS[:1], GenerationParams(max_tokens=12, stop=(straddle,)))[0][0]
    assert same == free


def test_sampling_n_and_seed(engine):
    p = GenerationParams(n=4, temperature=1.0, top_p=0.95, max_tokens=10, seed=7)
    a = engine.generate(PROMPTS[:2], p)
    assert [len(x) for x in a] == [4, 4]
    assert a == engine.generate(PROMPTS[:2], p)
    assert len({c.text for c in a[0]}) > 1  # temperature 1 on a random model: samples differ


def test_chat_prompt_uses_the_template(engine):
    msgs = [{"role": "user", "content": "def f(x): return x"}]
    direct = engine.generate(
        [engine.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)],
        GenerationParams(max_tokens=8),
    )
    assert engine.generate([msgs], GenerationParams(max_tokens=8)) == direct


def test_params_validation_and_defaults():
    with pytest.raises(ConfigError, match="top_p"):
        GenerationParams(top_p=0)
    with pytest.raises(ConfigError, match="temperature"):
        GenerationParams(temperature=-1)
    with pytest.raises(ConfigError, match="unknown generation settings"):
        GenerationParams.from_mapping({"nn": 1})
    p = GenerationParams.from_mapping({"n": 10, "temperature": 0.2, "stop": ["[/ANSWER]"]})
    assert p.stop == ("[/ANSWER]",) and p.greedy().n == 1 and p.greedy().temperature == 0
    assert cut_at_stop("ab[/X]cd[/Y]", ["[/Y]", "[/X]"]) == ("ab", True)
    assert cut_at_stop("abc", ["z"]) == ("abc", False)


def test_empty_prompt_and_unknown_backend_are_operator_errors(engine):
    with pytest.raises(ConfigError, match="empty"):
        engine.generate([""], GenerationParams())
    with pytest.raises(ConfigError, match="backend"):
        make_engine("tgi", "x")


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm installed")
def test_vllm_missing_gives_a_clear_message():
    with pytest.raises(ConfigError, match=r"pip install .*vllm"):
        VLLMEngine.from_pretrained("some/model")


@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm not installed")
def test_vllm_engine_generates(model_dir):
    eng = VLLMEngine.from_pretrained(str(model_dir), enforce_eager=True, gpu_memory_utilization=0.2)
    out = eng.generate(PROMPTS, GenerationParams(n=2, temperature=0.8, max_tokens=8, seed=0))
    assert [len(x) for x in out] == [2, 2, 2]
