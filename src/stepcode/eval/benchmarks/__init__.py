"""Benchmarks, one file each: load + official prompt + official extraction + official score."""

from __future__ import annotations

from typing import Any

from stepcode.errors import ConfigError
from stepcode.eval.benchmarks.base import Benchmark, EvalItem, SampleScore, ScoreReport

NAMES = (
    "cruxeval-o", "cruxeval-i", "cruxeval-o-cot", "cruxeval-i-cot", "lcb", "lcb-cot",
    "reval-coverage", "reval-state", "reval-path", "reval-output",
    "reval-coverage-cot", "reval-state-cot", "reval-path-cot", "reval-output-cot",
    "cruxeval-o-aligned", "cruxeval-i-aligned", "humaneval", "mbpp",
)  # fmt: skip


def get_benchmark(name: str, **opts: Any) -> Benchmark:
    """A benchmark by name (``cruxeval-o``, ``cruxeval-i``, ``lcb``, ``reval-{coverage,state,path,output}``,
    each with a ``-cot`` variant; ``cruxeval-{o,i}-aligned``; ``humaneval``, ``mbpp``)."""
    from stepcode.eval.benchmarks.cruxeval import CRUXEval
    from stepcode.eval.benchmarks.lcb import LiveCodeBenchExecution

    if name in ("humaneval", "mbpp"):
        from stepcode.eval.benchmarks.humaneval import CodeGeneration

        return CodeGeneration(dataset=name, **opts)
    if name in ("cruxeval-o-aligned", "cruxeval-i-aligned"):  # stepcode's execution-aligned forms
        from stepcode.eval.benchmarks.aligned import AlignedCRUXEval

        return AlignedCRUXEval(mode="output" if name.startswith("cruxeval-o") else "input", **opts)
    cot = name.endswith("-cot")
    base = name.removesuffix("-cot")
    if base == "cruxeval-o":
        return CRUXEval(mode="output", cot=cot, **opts)
    if base == "cruxeval-i":
        return CRUXEval(mode="input", cot=cot, **opts)
    if base == "lcb":
        return LiveCodeBenchExecution(cot=cot, **opts)
    if base.startswith("reval-") and base.removeprefix("reval-") in (
        "coverage",
        "state",
        "path",
        "output",
    ):
        from stepcode.eval.benchmarks.reval import REval

        return REval(task=base.removeprefix("reval-"), cot=cot, **opts)
    raise ConfigError(f"unknown benchmark {name!r}: choose from {', '.join(NAMES)}")


__all__ = ["NAMES", "Benchmark", "EvalItem", "SampleScore", "ScoreReport", "get_benchmark"]
