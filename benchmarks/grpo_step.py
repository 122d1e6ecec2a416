"""One GRPO step on the tiny model: stepcode vs TRL's GRPOTrainer, same model/batch/G/lengths.

    python benchmarks/grpo_step.py [--tasks 4] [--group 8] [--max-new 128] [--steps 3]

Both sides start from the same random-init weights and tokenizer, sample ``tasks x group``
completions of at most ``--max-new`` tokens at temperature 1, score them with the same reward, and
take one AdamW step with the token-level PPO-clip loss (no KL, one update per generation, so the old
log-probs are the detached current ones on both sides). We report completion tokens per second of
the whole step (sampling + reward + loss + backward + optimizer), the ratio, and the share of the
stepcode step spent in the reward (target < 10 %).

The reward is stepcode's verifier (``stepcode.rewards.score_batch``, execution in the sandbox) when
that module and ``stepcode.tasks`` are importable; otherwise a string check of the ``<answer>``
block (printed in the header) so the benchmark still runs while those stages are being built.
TRL is imported lazily; if it is missing the TRL column says why.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import time
from collections.abc import Callable, Sequence

import torch

from stepcode.models import build_tiny_model, train_tokenizer
from stepcode.rl.advantages import rollout_token_advantages
from stepcode.rl.logprobs import pack_rollouts, token_logprobs
from stepcode.rl.loss import policy_loss
from stepcode.rollout.generate import SamplingConfig, derive_seed, sample_group
from stepcode.types import Reference, Reward, Task, TaskKind

PROGRAMS = [
    ("def f(x):\n    y = x + 3\n    return y * 2\n", "4", "14"),
    ("def f(s):\n    t = s[::-1]\n    return t + s\n", "'ab'", "'baab'"),
    ("def f(xs):\n    out = [x * x for x in xs]\n    return sum(out)\n", "[1, 2, 3]", "14"),
    (
        "def f(n):\n    acc = 0\n    for i in range(n):\n        acc += i\n    return acc\n",
        "5",
        "10",
    ),
]


def make_tasks(n: int) -> list[Task]:
    tasks = []
    for i in range(n):
        code, arg, out = PROGRAMS[i % len(PROGRAMS)]
        q = f"{code}\nWhat does f({arg}) return? Trace it, then answer.\n<trace>\n"
        tasks.append(
            Task(
                task_id=f"bench{i}",
                kind=TaskKind.OUTPUT,
                prompt=q,
                messages=({"role": "user", "content": q},),
                reference=Reference(code=code, input_args=arg, output=out),
            )
        )
    return tasks


def make_reward_fn() -> tuple[str, Callable[[Sequence[Task], Sequence[str]], list[Reward]]]:
    """The verifier if the rewards stage exists, else a string check of the answer block."""
    try:
        from stepcode.rewards import score_batch

        return "stepcode.rewards.score_batch (sandboxed execution)", score_batch
    except ImportError:
        pass
    answer = re.compile(r"<answer>\s*assert f\((.*?)\) == (.*?)\s*</answer>", re.S)

    def string_reward(tasks: Sequence[Task], completions: Sequence[str]) -> list[Reward]:
        out = []
        for task, text in zip(tasks, completions, strict=True):
            m = answer.search(text)
            ok = bool(m) and m.group(2).strip() == task.reference.output
            out.append(Reward(outcome=float(ok), format_ok=bool(m), scalar=float(ok)))
        return out

    return "string match of <answer> (stepcode.rewards not importable yet)", string_reward


def stepcode_step(model, opt, tok, tasks, group, cfg, reward_fn, step) -> dict[str, float]:
    """One full step: sample -> reward -> advantages -> loss -> backward -> AdamW."""
    t0 = time.perf_counter()
    seeds = [derive_seed(0, step, b, g) for b in range(len(tasks)) for g in range(group)]
    rollouts = sample_group(model, tok, tasks, group, cfg, seeds=seeds)
    t1 = time.perf_counter()
    row_tasks = [tasks[i // group] for i in range(len(rollouts))]
    rewards = reward_fn(row_tasks, [r.completion for r in rollouts])
    t2 = time.perf_counter()
    batch = pack_rollouts(rollouts, tok.pad_token_id)
    parsed = _parse_all(row_tasks, rollouts)
    L = batch.completion_mask.shape[1]
    adv, _ = rollout_token_advantages(rollouts, rewards, parsed, group, L, lam=0.3, mode="bilevel")
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


def _parse_all(tasks, rollouts):
    try:
        from stepcode.rewards import parse_completion
    except ImportError:
        return [None] * len(rollouts)
    return [parse_completion(t, r.completion) for t, r in zip(tasks, rollouts, strict=True)]


def trl_steps(model, tok, tasks, group, max_new, steps, reward_fn, lr) -> list[dict[str, float]]:
    """Run TRL's GRPOTrainer for ``steps + 1`` steps (first = warm-up); time each step."""
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    by_prompt = {t.prompt: t for t in tasks}
    counts: list[int] = []

    def reward(prompts, completions, completion_ids, **_):
        counts.append(sum(len(c) for c in completion_ids))
        rewards = reward_fn([by_prompt[p] for p in prompts], completions)
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


def print_report(ours: list[dict], theirs: list[dict], trl_note: str) -> None:
    reward_share = sum(r["reward"] for r in ours) / sum(r["time"] for r in ours)
    sample_share = sum(r["sample"] for r in ours) / sum(r["time"] for r in ours)
    print(f"\n{'impl':<10}{'step s (median)':>16}{'tokens/step':>13}{'tokens/s':>11}")
    for name, rows in (("stepcode", ours), ("trl", theirs)):
        if rows:
            print(
                f"{name:<10}{statistics.median(r['time'] for r in rows):>16.2f}"
                f"{statistics.mean(r['tokens'] for r in rows):>13.0f}{_rate(rows):>11.0f}"
            )
    if theirs:
        print(f"\nspeed-up stepcode / trl: {_rate(ours) / _rate(theirs):.2f}x (target >= 2x)")
    else:
        print(f"trl: could not run: {trl_note}")
    print(
        f"stepcode step time in reward: {100 * reward_share:.1f}% (target < 10%), "
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
    corpus = [
        prog + "<trace>\ny: 7\n</trace>\n<answer>\nassert f(4) == 14\n</answer>"
        for prog, _, _ in PROGRAMS
    ]
    tok = train_tokenizer(corpus * 50, vocab_size=2048)
    tasks = make_tasks(a.tasks)
    reward_name, reward_fn = make_reward_fn()
    lr = 1e-4
    print(
        f"model={a.size} tasks={a.tasks} G={a.group} max_new={a.max_new} steps={a.steps} "
        f"threads={torch.get_num_threads()}\nreward: {reward_name}"
    )

    model = build_tiny_model(tok, size=a.size, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    cfg = SamplingConfig(max_new_tokens=a.max_new, temperature=1.0, chat=False)
    ours = [
        stepcode_step(model, opt, tok, tasks, a.group, cfg, reward_fn, s)
        for s in range(a.steps + 1)
    ][1:]

    trl_note = ""
    try:
        theirs = trl_steps(
            build_tiny_model(tok, size=a.size, seed=0),
            tok,
            tasks,
            a.group,
            a.max_new,
            a.steps,
            reward_fn,
            lr,
        )[1:]
    except Exception as exc:  # report exactly why TRL could not run, keep our numbers
        theirs, trl_note = [], f"{type(exc).__name__}: {exc}"

    print_report(ours, theirs, trl_note)


if __name__ == "__main__":
    main()
