"""models.py: tokenizer training, tiny model build, save -> load_policy round trip, LoRA."""

from __future__ import annotations

import pytest
import torch

from stepcode.errors import ConfigError
from stepcode.models import (
    EOS_TOKEN,
    LoraSpec,
    build_tiny_model,
    count_parameters,
    load_policy,
    resolve_dtype,
    save_policy,
    train_tokenizer,
)

CORPUS = [
    "def f(x):\n    y = x + 1\n    return y * 2\n",
    "def f(s):\n    return s.upper() + 'é'\n",
    "<trace>\nx: 3\nres: [1, 2]\n</trace>\n<answer>\nassert f(3) == 8\n</answer>",
] * 20


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(CORPUS, vocab_size=400)


def test_tokenizer_round_trips_any_text_and_has_special_tokens(tok):
    text = "def g(a):\n    return a ** 2  # ünïcode ✓ 漢字\n"
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.decode(ids) == text
    assert tok.pad_token_id is not None and tok.eos_token == EOS_TOKEN
    assert len({tok.pad_token_id, tok.eos_token_id, tok.bos_token_id}) == 3
    assert len(tok) <= 400


def _pieces(tokenizer, text: str) -> list[str]:
    return [tokenizer.decode([i]) for i in tokenizer.encode(text, add_special_tokens=False)]


def test_values_are_character_tokens_and_names_merge(tok):
    """Digits and the characters of string literals are single tokens; names, tags and the
    punctuation between values (`` = ``, ``, ``, ``== ``) merge, but never inside a literal."""
    text = "    y = s.upper() + 'deaf'\nassert f('return', 123) == 'R, E'\n"
    pieces = _pieces(tok, text)
    assert "".join(pieces) == text
    assert {"upper", "assert", "    ", " = ", ", ", "== "} <= set(pieces)
    literal = pieces[pieces.index("'") + 1 : pieces.index("'") + 5]
    assert literal == ["d", "e", "a", "f"]
    assert pieces[19:27] == ["'", "r", "e", "t", "u", "r", "n", "'"]  # a keyword in quotes
    assert pieces[28:31] == ["1", "2", "3"]
    assert pieces[-7:-1] == ["'", "R", ",", " ", "E", "'"]  # punctuation inside a literal
    assert _pieces(tok, "<trace>\n")[0] == "<trace>\n"


def test_anchor_print_text_is_whole_pieces(tok):
    """VALUE_SPLIT spells the anchor line's fixed text (models may not import execution): an
    anchor line as ``execution.instrument`` renders it must still split into those pieces."""
    from stepcode.execution import instrument

    source = instrument("def f(x):\n    y = x + 1\n    return y\n").source
    anchors = [line for line in source.splitlines() if "print(" in line]
    assert len(anchors) == 2
    for line in anchors:
        spans = tok.backend_tokenizer.pre_tokenizer.pre_tokenize_str(line)
        assert {'print(f"', '!r}")'} <= {line[a:b] for _, (a, b) in spans}


def test_plain_bpe_merges_inside_values():
    plain = train_tokenizer(CORPUS + ["x = 'deaf deaf deaf' + 'deaf'"] * 20, 400, char_values=False)
    pieces = _pieces(plain, "'deaf'")
    assert "".join(pieces) == "'deaf'" and len(pieces) < 6


def test_chat_template_renders_generation_prompt(tok):
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n" + (
        "<|im_start|>assistant\n"
    )
    ids = tok.encode(text, add_special_tokens=False)
    assert ids.count(tok.eos_token_id) == 2  # each closed turn ends in EOS, a single token


def test_tiny_model_sizes_and_seed(tok):
    a = build_tiny_model(tok, size="tiny", seed=1)
    b = build_tiny_model(tok, size="tiny", seed=1)
    c = build_tiny_model(tok, size="tiny", seed=2)
    wa, wb, wc = (m.model.layers[0].mlp.up_proj.weight for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    small = build_tiny_model(tok, size="small", arch="llama")
    assert small.config.model_type == "llama"
    assert count_parameters(small) > count_parameters(a)
    assert 0.3e6 < count_parameters(a) < 3e6
    with pytest.raises(ConfigError, match="size"):
        build_tiny_model(tok, size="huge")


def test_save_then_load_policy_gives_same_logits(tok, tmp_path):
    model = build_tiny_model(tok, seed=3).eval()
    save_policy(model, tok, tmp_path / "policy")
    loaded, tok2 = load_policy(tmp_path / "policy", dtype="auto", device="auto")
    loaded.eval()
    assert next(loaded.parameters()).dtype == torch.float32  # CPU -> fp32
    assert tok2.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False)
    ids = torch.tensor([tok.encode("def f(x):\n    return x", add_special_tokens=False)])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, loaded(ids).logits, atol=1e-5)
    assert tok2.eos_token_id == tok.eos_token_id and tok2.pad_token_id == tok.pad_token_id


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_reloaded_tokenizer_splits_exactly_as_trained(tok, tmp_path, arch):
    """transformers maps a qwen2 directory to Qwen2Tokenizer, which swaps in Qwen's pre-tokenizer;
    the reloaded tokenizer must still cut text where the trained one did."""
    save_policy(build_tiny_model(tok, arch=arch), tok, tmp_path / arch)
    _, reloaded = load_policy(tmp_path / arch)
    for text in [*CORPUS[:3], "a: 'face'\n    print(f\"a: {a!r}\")\n"]:
        assert _pieces(reloaded, text) == _pieces(tok, text)
    assert _pieces(reloaded, "'face'") == ["'", "f", "a", "c", "e", "'"]
    if arch == "llama":  # what vLLM, TRL and verl read: plain AutoTokenizer
        from transformers import AutoTokenizer

        plain = AutoTokenizer.from_pretrained(tmp_path / arch)
        assert [_pieces(plain, t) for t in CORPUS[:3]] == [_pieces(tok, t) for t in CORPUS[:3]]


def test_load_policy_with_lora_trains_only_adapters(tok, tmp_path):
    save_policy(build_tiny_model(tok), tok, tmp_path / "p")
    model, _ = load_policy(tmp_path / "p", lora=LoraSpec(r=4, alpha=8))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)


def test_bad_operator_input_fails_fast(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy(tmp_path / "missing")
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy("runs/no/such/policy")  # not a hub id (org/name): a missing local dir
    with pytest.raises(ConfigError, match="dtype"):
        resolve_dtype("fp8")
    with pytest.raises(ConfigError, match="rank"):
        LoraSpec(r=0)
    assert resolve_dtype("bf16") is torch.bfloat16
