"""Models and tokenizers: the only module that calls ``from_pretrained``.

What is done here:
  * ``train_tokenizer``: a byte-level BPE tokenizer trained with ``tokenizers`` on in-memory texts,
    with pad/eos/bos special tokens and a ChatML-style chat template, returned as a transformers
    fast tokenizer (optionally saved with ``save_pretrained``).
  * ``build_tiny_model``: a random-init Qwen2 or Llama causal LM sized for 2-CPU training.
  * ``save_policy`` / ``load_policy``: the embedded default is saved with ``save_pretrained`` and
    reloaded through exactly the path a hub id takes (``AutoTokenizer`` / ``AutoModelForCausalLM``),
    with dtype/device selection, a chat-template fallback and optional LoRA (peft).

* ``check_model_source``: in seconds, whether ``load_policy`` will find a model (local dir, the
  Hugging Face cache, or the hub / ``HF_ENDPOINT`` mirror), before any long work starts.

What is not done here: no downloading logic of our own (hub ids go straight to transformers, which
uses its cache or the network), no quantisation, no multi-GPU sharding (verl/vLLM own that at scale).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from stepcode.errors import ConfigError

log = logging.getLogger(__name__)

PAD_TOKEN = "<|pad|>"
EOS_TOKEN = "<|im_end|>"
BOS_TOKEN = "<|endoftext|>"
CHAT_START = "<|im_start|>"
SPECIAL_TOKENS = (PAD_TOKEN, BOS_TOKEN, CHAT_START, EOS_TOKEN)

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""ChatML (the Qwen2.5 layout): an assistant turn ends with ``<|im_end|>``, which is also EOS."""

VALUE_SPLIT = (
    r'print\(f"|!r\}"\)'  # the fixed text of an anchor line ``print(f"x: {x!r}")``
    r"|</?(?:code|trace|answer)>\n?"  # the tags of the prompt and of the completion
    r"|[A-Za-z_][A-Za-z_0-9]*(?=(?:[^'\n]*'[^'\n]*')*[^'\n]*$)"  # a name: an even number of ' follow
    r"| {2,}"  # indentation
    r"| ?[^\w\s'\"]+ ?(?=(?:[^'\n]*'[^'\n]*')*[^'\n]*$)"  # outside literals: " = ", ", "
    r"|."  # everything else, one character at a time
)
"""Pre-tokenizer pieces of the ``char_values`` tokenizer; BPE merges only inside a piece."""

_PIPELINE_KEYS = ("normalizer", "pre_tokenizer", "decoder")
"""The parts of ``tokenizer.json`` a tokenizer class may rebuild on load (see ``load_tokenizer``)."""

_SIZES: dict[str, dict[str, int]] = {
    # Full multi-head attention (kv_heads == heads): at this size GQA saves nothing and its
    # per-step KV repeat costs ~15% of CPU decoding time.
    # ~1.4M parameters with a 4k vocabulary: a few ms per forward on one CPU core.
    "tiny": dict(hidden=128, layers=4, heads=4, kv_heads=4, intermediate=384),
    # ~6.5M parameters with a 4k vocabulary.
    "small": dict(hidden=256, layers=6, heads=8, kv_heads=8, intermediate=768),
}


@dataclass(frozen=True, kw_only=True)
class LoraSpec:
    """Optional LoRA adapters (peft) on top of a loaded policy."""

    r: int = 16
    """adapter rank"""
    alpha: int = 32
    """scaling numerator (effective scale alpha / r)"""
    dropout: float = 0.05
    """dropout on the adapter input"""
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    """module-name suffixes that get adapters (the attention projections of Qwen2/Llama)"""

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ConfigError(f"lora.r={self.r}: the rank must be >= 1 (try 8 or 16)")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora.dropout={self.dropout}: must be in [0, 1) (try 0.05)")
        if not self.target_modules:
            raise ConfigError("lora.target_modules is empty: name at least one module, e.g. q_proj")


def train_tokenizer(
    texts: Iterable[str],
    vocab_size: int = 4096,
    out_dir: str | Path | None = None,
    *,
    char_values: bool = True,
) -> Any:
    """Train a byte-level BPE tokenizer on ``texts``.

    The result is a ``transformers`` fast tokenizer with ``pad``/``eos``/``bos`` tokens, EOS equal to
    the chat turn terminator ``<|im_end|>`` and a ChatML chat template. Byte-level means every string
    round-trips (``decode(encode(s)) == s``). Saved to ``out_dir`` with ``save_pretrained`` if given.

    ``char_values`` (the default) lets BPE merge only identifiers, the ``<code>``/``<trace>``/
    ``<answer>`` tags, indentation, and punctuation with a space either side (``" = "``,
    ``", "``), all outside string literals (``VALUE_SPLIT``): every digit and every character
    inside a single-quoted literal is a token of its own. A model that executes code computes values
    character by character (``s[::-1]``, ``s.upper()``, ``n + 3``); plain BPE cuts ``'bcfaf'`` into
    ``'b|cf|af'`` here and ``'bc|fa|f'`` there, which a tiny model cannot line up. Measured on the
    embedded default: see ``rl.default``. ``char_values=False`` is plain GPT-2-style byte-level BPE.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 256 + len(SPECIAL_TOKENS):
        raise ConfigError(f"vocab_size={vocab_size}: byte-level BPE needs >= 260 (try 4096)")
    raw = Tokenizer(models.BPE())
    if char_values:
        raw.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(VALUE_SPLIT), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(iter(texts), trainer=trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        pad_token=PAD_TOKEN,
        eos_token=EOS_TOKEN,
        bos_token=BOS_TOKEN,
        additional_special_tokens=[CHAT_START],
        clean_up_tokenization_spaces=False,
        model_max_length=1024,
    )
    tok.chat_template = CHAT_TEMPLATE
    if out_dir is not None:
        tok.save_pretrained(str(out_dir))
    return tok


def build_tiny_model(
    tokenizer: Any,
    size: Literal["tiny", "small"] = "tiny",
    arch: Literal["qwen2", "llama"] = "llama",
    seed: int = 0,
    max_positions: int = 1024,
) -> Any:
    """A random-init causal LM for ``tokenizer`` (tied embeddings, context ``max_positions``).

    ``seed`` fixes the initial weights: the same arguments give the same parameters.
    """
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    if size not in _SIZES:
        raise ConfigError(f"model size {size!r}: choose one of {sorted(_SIZES)}")
    if arch not in ("qwen2", "llama"):
        raise ConfigError(f"model arch {arch!r}: choose 'qwen2' or 'llama'")
    dims = _SIZES[size]
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=dims["hidden"],
        intermediate_size=dims["intermediate"],
        num_hidden_layers=dims["layers"],
        num_attention_heads=dims["heads"],
        num_key_value_heads=dims["kv_heads"],
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    config = Qwen2Config(**common) if arch == "qwen2" else LlamaConfig(**common)
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    log.info("built %s/%s model: %.2fM parameters", arch, size, count_parameters(model) / 1e6)
    return model


def count_parameters(model: Any) -> int:
    """Number of parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())


def save_policy(model: Any, tokenizer: Any, out_dir: str | Path) -> Path:
    """Save model and tokenizer with ``save_pretrained`` so ``load_policy(out_dir)`` reloads them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; anything else is checked and returned."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={device!r} but CUDA is not available here: use 'auto' or 'cpu'")
    if not (device == "cpu" or device.startswith("cuda") or device == "mps"):
        raise ConfigError(f"device={device!r}: use auto, cpu, cuda, cuda:N or mps")
    return device


def resolve_dtype(dtype: str = "auto", device: str = "cpu") -> Any:
    """``auto`` -> bf16 on CUDA devices that support it, else fp32. Accepts fp32/bf16/fp16 names."""
    import torch

    names = {
        "fp32": torch.float32,
        "float32": torch.float32,
        "bf16": torch.bfloat16,
        "bfloat16": torch.bfloat16,
        "fp16": torch.float16,
        "float16": torch.float16,
    }
    if dtype == "auto":
        cuda_bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if cuda_bf16 else torch.float32
    if dtype not in names:
        raise ConfigError(f"dtype={dtype!r}: use one of auto, {', '.join(sorted(names))}")
    return names[dtype]


def ensure_chat_template(tokenizer: Any) -> Any:
    """Give a tokenizer without a chat template the ChatML one, and a pad token if it has none."""
    if getattr(tokenizer, "chat_template", None) is None:
        log.warning("tokenizer has no chat template: using ChatML")
        tokenizer.chat_template = CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


_WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "adapter_config.json")


def check_model_source(path_or_id: str | Path, *, timeout_s: float = 10.0) -> str:
    """Find out, in seconds, whether ``load_policy(path_or_id)`` can get the model.

    Returns where it will come from (``local``, ``cache`` or ``hub``); raises ``ConfigError`` with
    one line naming the path or hub id and how to provide it otherwise. A local dir needs
    ``config.json`` and weights; a hub id needs its ``config.json`` in the Hugging Face cache or
    one answer from the hub (``HF_ENDPOINT`` for a mirror) within ``timeout_s``.
    """
    import os

    path = str(path_or_id)
    local = Path(path).expanduser()
    provide = "a local dir (model.path=/path/to/model)"
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ConfigError(
                f"model path {path!r} has no config.json: not a Hugging Face model dir"
            )
        if not any(next(local.glob(p), None) for p in _WEIGHTS):
            raise ConfigError(f"model path {path!r} has config.json but no weights (*.safetensors)")
        return "local"
    if local.is_absolute() or path.startswith((".", "~")) or path.count("/") > 1:
        raise ConfigError(
            f"model path {path!r} does not exist: give {provide} or a hub id like org/name"
        )
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(path, "config.json"), str):
        return "cache"
    cache = f"the Hugging Face cache ({constants.HF_HUB_CACHE})"
    if constants.HF_HUB_OFFLINE:
        raise ConfigError(
            f"model {path!r} is not in {cache} and HF_HUB_OFFLINE is set: give {provide}, or "
            f"download it where there is network (hf download {path}) into that cache"
        )
    try:
        get_hf_file_metadata(hf_hub_url(path, "config.json"), timeout=timeout_s)
    except Exception as e:  # noqa: BLE001 - any failure means the later load fails too
        reason = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        endpoint = os.environ.get("HF_ENDPOINT", constants.ENDPOINT)
        raise ConfigError(
            f"model {path!r} cannot be loaded: not a local dir, not in {cache}, and {endpoint} "
            f"answered: {reason}; give {provide}, fill the cache and set HF_HUB_OFFLINE=1, or "
            "set HF_ENDPOINT to a mirror (HF_TOKEN for gated models)"
        ) from None
    return "hub"


def load_policy(
    path_or_id: str | Path,
    *,
    dtype: str = "auto",
    device: str = "auto",
    lora: LoraSpec | None = None,
    trust_remote_code: bool = False,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` from a local dir or a hub id, on ``device`` in ``dtype``.

    Local dirs and hub ids take the same path. The model is returned in train mode with
    ``use_cache`` left on (generation turns it on per call). With ``lora`` the model is wrapped by
    peft and only adapter weights are trainable.
    """
    from transformers import AutoModelForCausalLM

    path = str(path_or_id)
    local = Path(path)
    looks_local = local.is_absolute() or path.startswith(".") or path.count("/") > 1
    if looks_local and not local.exists():
        raise ConfigError(f"model path {path!r} does not exist: check the path or use a hub id")
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    tokenizer = load_tokenizer(path, trust_remote_code=trust_remote_code)
    ensure_chat_template(tokenizer)
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=torch_dtype, trust_remote_code=trust_remote_code
    )
    model.to(dev)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    if lora is not None:
        model = apply_lora(model, lora)
    log.info("loaded %s on %s as %s", path, dev, torch_dtype)
    return model, tokenizer


def load_tokenizer(path_or_id: str | Path, *, trust_remote_code: bool = False) -> Any:
    """``AutoTokenizer.from_pretrained``, checked against the directory's ``tokenizer.json``.

    transformers 5 maps every ``model_type: qwen2`` directory to ``Qwen2Tokenizer``, which rebuilds
    the pre-tokenizer with Qwen's regex whatever ``tokenizer.json`` says. For a real Qwen checkpoint
    that is the same pipeline; for a tokenizer trained here (``train_tokenizer``) it silently
    re-splits the text so the learned merges no longer apply (``'face'`` became ``f|ac|e``). When the
    loaded pipeline differs from the saved one, the saved file wins (``PreTrainedTokenizerFast``).
    """
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tokenizer = AutoTokenizer.from_pretrained(str(path_or_id), trust_remote_code=trust_remote_code)
    saved = Path(path_or_id) / "tokenizer.json"
    if saved.is_file() and getattr(tokenizer, "backend_tokenizer", None) is not None:
        want = json.loads(saved.read_text(encoding="utf-8"))
        have = json.loads(tokenizer.backend_tokenizer.to_str())
        if any(want.get(k) != have.get(k) for k in _PIPELINE_KEYS):
            log.info("%s: tokenizer.json's pipeline differs from %s's; loading the file as saved",
                     path_or_id, type(tokenizer).__name__)  # fmt: skip
            tokenizer = PreTrainedTokenizerFast.from_pretrained(str(path_or_id))
    return tokenizer


def apply_lora(model: Any, spec: LoraSpec) -> Any:
    """Wrap ``model`` with peft LoRA adapters; base weights are frozen."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        target_modules=list(spec.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)
