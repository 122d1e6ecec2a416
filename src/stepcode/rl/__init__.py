"""rl stage: rewards -> advantages -> loss -> optimizer step.

Pure algorithm cores (tensors in, tensors out; no model state, no config objects):
  ``rl.advantages``  Bi-Level GRPO step advantages and their token assignment
  ``rl.loss``        token-level PPO-clip surrogate + k3 KL, token-mean aggregation
  ``rl.segment``     char spans of trace lines -> the step of each token
  ``rl.steps``       scored records -> step tensors -> token advantages (every trainer's path)
  ``rl.logprobs``    ``token_logprobs(model, ...)`` and ``pack_rollouts`` (the model-facing glue)
  ``rl.verl_plugin`` Bi-Level GRPO inside verl 0.9 (entry point; ``verl_data``, ``verl_reward``,
                     ``verl_trainer``) for multi-GPU runs; ``rl.trl_grpo`` the same inside TRL

One on-policy step with these pieces (what ``benchmarks/grpo_step.py`` times)::

    seeds = [derive_seed(run_seed, step, b, g) for b in range(B) for g in range(G)]
    rollouts = sample_group(model, tok, tasks, SamplingParams(n=G, ...), seeds=seeds)  # task-major
    rewards = score_batch(row_tasks, [r.completion for r in rollouts])  # each carries its parse
    batch = pack_rollouts(rollouts, tok.pad_token_id)
    rows = [row_steps(w, r.completion_offsets) for r, w in zip(rollouts, rewards)]
    steps = stack_rows(rows, [i // G for i in range(len(rows))], batch.completion_mask.shape[1])
    adv = batch_token_advantages(steps, batch.completion_mask, AdvantageSpec(mode="bilevel"))
    lp = token_logprobs(model, batch.input_ids, batch.attention_mask, batch.completion_mask,
                        temperature=sampling_temperature)
    loss, stats = policy_loss(lp, old_lp_or_lp_detached, adv, batch.completion_mask)

This package init imports nothing so that ``import stepcode.rl`` stays cheap; import the modules.
"""
