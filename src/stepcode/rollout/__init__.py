"""③ rollout: producing completions from a policy.

* ``rollout.generate``: ``sample_group`` — RL group sampling in-process with token offsets.
* ``rollout.llama_step``: ``LlamaStep`` — the fused decode step ``sample_group`` uses for fp32
  Llama/Qwen2 models (same logits as ``model(...)``, fewer ops per token).
* ``rollout.detokenize``: ``TokenStream`` / ``detokenize`` — completion text and each token's char
  span, the same rule for ids sampled here and ids from vLLM or verl.
* ``rollout.engines``: ``GenerationParams``, ``Completion``, the ``Engine`` protocol and the
  ``HFEngine`` / ``VLLMEngine`` / ``OpenAIEngine`` backends used by evaluation (``make_engine``).

Nothing is imported here at package import (torch/openai/vllm load only when used).
"""
