"""③ rollout: producing completions from a policy.

* ``rollout.generate``: ``sample_group`` — RL group sampling in-process with token offsets.
* ``rollout.engines``: ``GenerationParams``, ``Completion``, the ``Engine`` protocol and the
  ``HFEngine`` / ``VLLMEngine`` / ``OpenAIEngine`` backends used by evaluation (``make_engine``).

Nothing is imported here at package import (torch/openai/vllm load only when used).
"""
