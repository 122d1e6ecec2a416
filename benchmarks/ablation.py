"""Ablation of the GRPO mode alone: SFT only vs terminal vs step vs Bi-Level, over seeds.

A shortcut into ``benchmarks/paper_tables.py`` (the same runs, the same tables, one implementation):
every mode of a seed starts from that seed's end-of-SFT checkpoint and only the GRPO phase
differs; the RL-only row is left out.

    python benchmarks/ablation.py                        # configs/train/tiny_ablation.yaml, 3 seeds
    python benchmarks/ablation.py --seeds 1 --set grpo.steps=5 --out /tmp/abl   # quick look
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import paper_tables  # noqa: E402

ROWS = "sft,terminal,step,bilevel"


def main(argv: list[str] | None = None) -> dict:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--config" not in args:
        args = ["--config", str(paper_tables.REPO / "configs/train/tiny_ablation.yaml"), *args]
    if "--out" not in args:
        args = ["--out", str(paper_tables.REPO / "runs/ablation"), *args]
    return paper_tables.main(["--rows", ROWS, *args])


if __name__ == "__main__":
    main()
