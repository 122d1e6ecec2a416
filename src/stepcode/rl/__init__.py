"""rl stage: rewards -> advantages -> loss -> optimizer step.

Pure algorithm cores (tensors in, tensors out; no model state, no config objects):
  ``rl.advantages``  Bi-Level GRPO step advantages and their token assignment
  ``rl.loss``        token-level PPO-clip surrogate + k3 KL, token-mean aggregation
  ``rl.segment``     char spans of trace lines -> ``token_to_step [N, L]``
  ``rl.logprobs``    ``token_logprobs(model, ...)`` and ``pack_rollouts`` (the model-facing glue)
  ``rl.verl_adapter`` the same estimator registered into verl for multi-GPU runs (lazy import)

This package init imports nothing so that ``import stepcode.rl`` stays cheap; import the modules.
"""
