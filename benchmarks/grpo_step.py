"""One GRPO step on the tiny model: stepcode vs TRL's GRPOTrainer, same model/batch/G/lengths.

    python benchmarks/grpo_step.py [--tasks 4] [--group 8] [--max-new 128] [--steps 3]

Both sides start from the same random-init weights and tokenizer, sample ``tasks x group``
completions of at most ``--max-new`` tokens at temperature 1, score them with the same reward, and
take one AdamW step with the token-level PPO-clip loss (no KL, one update per generation, so the old
log-probs are the detached current ones on both sides). We report completion tokens per second of
the whole step (sampling + reward + loss + backward + optimizer), the ratio, and the share of the
stepcode step spent in the reward (target < 10 %). Our ``--steps`` steps run half before and half
after TRL's (the machine's speed drifts by 10-20 % over a minute on a shared VM).

The tasks are the main job's (synthesized level-1 programs, execution-aligned prompts) and the
reward is stepcode's verifier (``stepcode.rewards.score_batch``, execution in the sandbox) on both
sides. The reward share is printed twice: on the sampled completions, and with ``tasks x group``
gold completions of as many different tasks (every one parses and runs a distinct check: the most
reward work a trained policy can cause, since equal checks in a batch run once).
TRL is imported lazily; if it is missing the TRL column says why.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Sequence

import torch

from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rewards import score_batch
from stepcode.rl.logprobs import pack_rollouts, token_logprobs
from stepcode.rl.loss import policy_loss
from stepcode.rl.steps import AdvantageSpec, batch_token_advantages, row_steps, stack_rows
from stepcode.rollout.generate import derive_seed, sample_group
from stepcode.rollout.params import SamplingParams
from stepcode.tasks import sft_target
from stepcode.types import Reward, Task


def make_tasks(n: int) -> list[Task]:
    """``n`` execution-aligned output-prediction tasks on synthesized level-1 programs (the main
    job's training distribution)."""
    from stepcode.rl.config import DataConfig
    from stepcode.rl.taskset import build_task_sets

    cfg = DataConfig(n_train=n, n_eval=1, eval_levels=(1,))
    return list(build_task_sets(cfg, seed=0).train[:n])


def timed_reward(tasks: Sequence[Task], completions: Sequence[str]) -> tuple[list[Reward], float]:
    t0 = time.perf_counter()
    rewards = score_batch(list(tasks), list(completions))
    return rewards, time.perf_counter() - t0


def stepcode_step(model, opt, tok, tasks, group, cfg, step) -> dict[str, float]:
    """One full step: sample -> reward -> advantages -> loss -> backward -> AdamW."""
    t0 = time.perf_counter()
    seeds = [derive_seed(0, step, b, g) for b in range(len(tasks)) for g in range(group)]
    rollouts = sample_group(model, tok, tasks, cfg, seeds=seeds, batch_tasks=len(tasks), chat=False)
    t1 = time.perf_counter()
    row_tasks = [tasks[i // group] for i in range(len(rollouts))]
    rewards = score_batch(row_tasks, [r.completion for r in rollouts])
    t2 = time.perf_counter()
    batch = pack_rollouts(rollouts, tok.pad_token_id)
    rows = [row_steps(w, r.completion_offsets) for r, w in zip(rollouts, rewards, strict=True)]
    steps = stack_rows(rows, [i // group for i in range(len(rows))], batch.completion_mask.shape[1])
    adv = batch_token_advantages(
        steps, batch.completion_mask, AdvantageSpec(mode="bilevel", lam=0.3)
    )
    model.train()
    lp = token_logprobs(model, batch.input_ids, batch.attention_mask, batch.completion_mask)
    loss, _ = policy_loss(lp, lp.detach(), adv, batch.completion_mask)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    t3 = time.perf_counter()
    tokens = sum(len(x.completion_ids) for x in rollouts)
    return {"time": t3 - t0, "sample": t1 - t0, "reward": t2 - t1, "tokens": tokens}


def trl_steps(model, tok, tasks, group, max_new, steps, lr) -> list[dict[str, float]]:
    """Run TRL's GRPOTrainer for ``steps + 1`` steps (first = warm-up); time each step."""
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    by_prompt = {t.prompt: t for t in tasks}
    counts: list[int] = []

    def reward(prompts, completions, completion_ids, **_):
        counts.append(sum(len(c) for c in completion_ids))
        rewards = score_batch([by_prompt[p] for p in prompts], completions)
        return [rw.scalar for rw in rewards]

    times: list[float] = []

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            times.append(time.perf_counter() - self.t0)

    n = len(tasks) * group
    args = GRPOConfig(
        output_dir="/tmp/stepcode_bench_trl",
        per_device_train_batch_size=n,
        num_generations=group,
        gradient_accumulation_steps=1,
        max_completion_length=max_new,
        temperature=1.0,
        beta=0.0,
        num_iterations=1,
        loss_type="dapo",
        learning_rate=lr,
        max_grad_norm=1.0,
        max_steps=steps + 1,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=10**6,
        shuffle_dataset=False,
        disable_tqdm=True,
        seed=0,
    )
    data = Dataset.from_list([{"prompt": t.prompt} for t in tasks] * (steps + 1))
    trainer = GRPOTrainer(
        model=model, reward_funcs=reward, args=args, train_dataset=data, processing_class=tok
    )
    trainer.add_callback(Timer())
    trainer.train()
    return [{"time": t, "tokens": c} for t, c in zip(times, counts, strict=False)]


def _rate(rows: list[dict[str, float]]) -> float:
    """Completion tokens per second over all timed steps."""
    return sum(r["tokens"] for r in rows) / sum(r["time"] for r in rows) if rows else float("nan")


def print_report(
    ours: list[dict], theirs: list[dict], trl_note: str, gold_reward_s: float, half: int
) -> None:
    step_s = sum(r["time"] for r in ours) / len(ours)
    reward_s = sum(r["reward"] for r in ours) / len(ours)
    sample_share = sum(r["sample"] for r in ours) / sum(r["time"] for r in ours)
    print(f"\n{'impl':<10}{'step s (median)':>16}{'tokens/step':>13}{'tokens/s':>11}")
    for name, rows in (("stepcode", ours), ("trl", theirs)):
        if rows:
            print(
                f"{name:<10}{statistics.median(r['time'] for r in rows):>16.2f}"
                f"{statistics.mean(r['tokens'] for r in rows):>13.0f}{_rate(rows):>11.0f}"
            )
    if theirs:
        halves = f"{_rate(ours[:half]):.0f} before trl, {_rate(ours[half:]):.0f} after"
        print(f"stepcode tokens/s by half: {halves}")
        print(f"\nspeed-up stepcode / trl: {_rate(ours) / _rate(theirs):.2f}x (target >= 2x)")
    else:
        print(f"trl: could not run: {trl_note}")
    # A random-init policy rarely writes a parseable answer, so its reward is cheap; gold
    # completions of distinct tasks all parse and run distinct checks: the worst case.
    worst = gold_reward_s / (step_s - reward_s + gold_reward_s)
    print(
        f"stepcode step time in reward: {100 * reward_s / step_s:.1f}% on the sampled completions, "
        f"{100 * worst:.1f}% if every completion were the gold one (target < 10%); "
        f"in sampling: {100 * sample_share:.1f}%"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=4)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--max-new", type=int, default=128)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--size", default="tiny", choices=["tiny", "small"])
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.manual_seed(0)
    # the tokenizer's training texts; the batch is its head, the gold rows its first tasks x group
    corpus = make_tasks(max(400, a.tasks * a.group))
    tasks = corpus[: a.tasks]
    tok = train_tokenizer([t.prompt + sft_target(t) for t in corpus], vocab_size=512)
    lr = 1e-4
    print(
        f"model={a.size} tasks={a.tasks} G={a.group} max_new={a.max_new} steps={a.steps} "
        f"threads={torch.get_num_threads()}\nreward: stepcode.rewards.score_batch (sandboxed)"
    )

    model = build_tiny_model(tok, size=a.size, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    cfg = SamplingParams(n=a.group, max_tokens=a.max_new, temperature=1.0)
    # Our steps run in two halves, before and after TRL's, so that a slow spell of this shared
    # machine weighs on both sides of the ratio (step 0 is the warm-up).
    half = max(1, a.steps // 2)
    ours = [stepcode_step(model, opt, tok, tasks, a.group, cfg, s) for s in range(half + 1)][1:]
    rows = corpus[: a.tasks * a.group]  # distinct tasks: no two checks are equal
    gold = [sft_target(t) for t in rows]
    gold_rewards, gold_s = timed_reward(rows, gold)
    assert all(r.outcome == 1.0 for r in gold_rewards), "gold completions must verify"

    trl_note = ""
    try:
        theirs = trl_steps(
            build_tiny_model(tok, size=a.size, seed=0), tok, tasks, a.group, a.max_new, a.steps, lr
        )[1:]
    except Exception as exc:  # report exactly why TRL could not run, keep our numbers
        theirs, trl_note = [], f"{type(exc).__name__}: {exc}"

    after = range(half + 1, a.steps + 1)
    ours += [stepcode_step(model, opt, tok, tasks, a.group, cfg, s) for s in after]
    print_report(ours, theirs, trl_note, gold_s, half)


if __name__ == "__main__":
    main()
