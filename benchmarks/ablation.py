"""Ablation: terminal vs step vs bilevel GRPO on the tiny default, over seeds.

For each seed, one SFT-only run (``grpo.steps=0``) is trained once; its run directory ends on a
resumable end-of-SFT checkpoint, so each mode is a copy of it resumed with ``grpo.mode=<mode>``:
every mode starts from the same warm-up and only the GRPO phase differs. Prints, per mode, the
held-out final (output) accuracy, step accuracy and their gap, mean +- std over seeds, beside the
SFT-only baseline measured in the same run.

    python benchmarks/ablation.py                        # configs/train/tiny_ablation.yaml, 3 seeds
    python benchmarks/ablation.py --seeds 1 --set sft.steps=100 --set grpo.steps=5   # quick look
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

MODES = ("terminal", "step", "bilevel")
KEYS = ("final_acc", "step_acc", "gap", "right_answer_wrong_steps")
REPO = Path(__file__).resolve().parents[1]


def run_seed(config: Path, overrides: list[str], out: Path, seed: int) -> dict[str, dict]:
    """{"sft": level table, mode: level table} for one seed."""
    base = [*overrides, f"run.seed={seed}"]
    sft_dir = out / f"seed{seed}" / "sft"
    sft = train(load_config(TrainConfig, config, [*base, "grpo.steps=0", f"run.out={sft_dir}"]))
    tables = {"sft": sft.after}
    for mode in MODES:
        mode_dir = out / f"seed{seed}" / mode
        if not (mode_dir / "DONE").exists():
            shutil.rmtree(mode_dir, ignore_errors=True)
            shutil.copytree(sft_dir, mode_dir, ignore=shutil.ignore_patterns("DONE", "final"))
        cfg = load_config(TrainConfig, config, [*base, f"grpo.mode={mode}", f"run.out={mode_dir}"])
        tables[mode] = train(cfg).after
    return tables


def summarise(per_seed: list[dict[str, dict]], level: str) -> list[tuple[str, dict[str, str]]]:
    rows = []
    for name in ("sft", *MODES):
        cells = {}
        for key in KEYS:
            vals = [100 * t[name][level][key] for t in per_seed if level in t[name]]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            cells[key] = f"{statistics.mean(vals):5.1f} +- {sd:4.1f}" if vals else "-"
        rows.append((name, cells))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "configs/train/tiny_ablation.yaml")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "runs/ablation")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    t0 = time.perf_counter()
    per_seed = [run_seed(args.config, args.overrides, args.out, s) for s in range(args.seeds)]
    levels = sorted({lv for t in per_seed for lv in t["sft"]})
    for level in levels:
        print(f"\nlevel {level}  (held-out, greedy; % mean +- std over {args.seeds} seeds)")
        print(f"{'run':10s} " + " ".join(f"{k:>26s}" for k in KEYS))
        for name, cells in summarise(per_seed, level):
            print(f"{name:10s} " + " ".join(f"{cells[k]:>26s}" for k in KEYS))
    best = {m: statistics.mean(t[m]["all"]["final_acc"] for t in per_seed) for m in MODES}
    base = statistics.mean(t["sft"]["all"]["final_acc"] for t in per_seed)
    print("\nfinal accuracy vs SFT-only baseline (all levels): " + ", ".join(
        f"{m} {100 * v:.1f}% ({100 * (v - base):+.1f})" for m, v in best.items()
    ))  # fmt: skip
    print(f"wall time {time.perf_counter() - t0:.0f} s; runs under {args.out}")
    (args.out / "ablation.json").write_text(json.dumps(per_seed, indent=1))


if __name__ == "__main__":
    main()
