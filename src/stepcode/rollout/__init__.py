"""③ rollout: producing completions from a policy.

* ``rollout.params``: ``SamplingParams`` — the one sampling-settings type of every backend.
* ``rollout.render``: ``render_prompt`` — raw text, chat messages or a task as model input text.
* ``rollout.positions``: ``position_ids`` — the one position formula of sampling and training.
* ``rollout.generate``: ``decode_prompts`` — the in-process decoder — and ``sample_group`` (RL
  groups of tasks with token offsets) on top of it.
* ``rollout.llama_step``: ``LlamaStep`` — the fused decode step ``sample_group`` uses for fp32
  Llama/Qwen2 models (same logits as ``model(...)``, fewer ops per token).
* ``rollout.detokenize``: ``TokenStream`` / ``detokenize`` — completion text and each token's char
  span, the same rule for ids sampled here and ids from vLLM or verl.
* ``rollout.engines``: ``Completion``, the ``Engine`` protocol and the ``HFEngine`` (the same
  decoder) / ``VLLMEngine`` / ``OpenAIEngine`` backends used by evaluation (``make_engine``).

Nothing is imported here at package import (torch/openai/vllm load only when used).
"""
