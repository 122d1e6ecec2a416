"""Benchmarks, one file each: load + prompt + official extraction + official score.

``get_benchmark(name)`` is the one front door (``eval run``, ``eval score``, the library). A new
benchmark is one line in ``REGISTRY``: its name, the module under ``stepcode.eval.benchmarks``, the
class, and the constructor arguments that make this variant.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Any

from stepcode.errors import ConfigError
from stepcode.eval.benchmarks.base import Benchmark, EvalItem, SampleScore, ScoreReport

REGISTRY: dict[str, tuple[str, str, dict[str, Any]]] = {
    "cruxeval-o": ("cruxeval", "CRUXEval", {"mode": "output"}),
    "cruxeval-i": ("cruxeval", "CRUXEval", {"mode": "input"}),
    "cruxeval-o-cot": ("cruxeval", "CRUXEval", {"mode": "output", "cot": True}),
    "cruxeval-i-cot": ("cruxeval", "CRUXEval", {"mode": "input", "cot": True}),
    "lcb": ("lcb", "LiveCodeBenchExecution", {}),
    "lcb-cot": ("lcb", "LiveCodeBenchExecution", {"cot": True}),
    "reval-coverage": ("reval", "REval", {"task": "coverage"}),
    "reval-state": ("reval", "REval", {"task": "state"}),
    "reval-path": ("reval", "REval", {"task": "path"}),
    "reval-output": ("reval", "REval", {"task": "output"}),
    "reval-coverage-cot": ("reval", "REval", {"task": "coverage", "cot": True}),
    "reval-state-cot": ("reval", "REval", {"task": "state", "cot": True}),
    "reval-path-cot": ("reval", "REval", {"task": "path", "cot": True}),
    "reval-output-cot": ("reval", "REval", {"task": "output", "cot": True}),
    "cruxeval-o-aligned": ("aligned", "AlignedCRUXEval", {"mode": "output"}),
    "cruxeval-i-aligned": ("aligned", "AlignedCRUXEval", {"mode": "input"}),
}
"""benchmark name -> (module, class, constructor arguments)"""
ALIASES = {"reval": ("reval-coverage", "reval-state", "reval-path", "reval-output")}
"""names that stand for several benchmarks (``eval run --benchmarks reval``)"""
NAMES = tuple(REGISTRY)


def benchmark_class(name: str) -> type:
    if name not in REGISTRY:
        raise ConfigError(f"unknown benchmark {name!r}: choose from {', '.join(REGISTRY)}")
    module, cls, _ = REGISTRY[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def get_benchmark(name: str, **opts: Any) -> Benchmark:
    """A benchmark by name (``NAMES``); ``opts`` go to its constructor (unknown ones are errors)."""
    cls = benchmark_class(name)
    try:
        return cls(**{**REGISTRY[name][2], **opts})
    except TypeError as e:
        raise ConfigError(f"benchmark {name!r}: {e}") from None


def accepted_options(name: str, opts: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``opts`` that ``name``'s constructor takes (config-wide options such as
    ``prompts`` or ``harness`` apply only to the benchmarks that have them)."""
    cls = benchmark_class(name)
    if dataclasses.is_dataclass(cls):
        known = {f.name for f in dataclasses.fields(cls) if f.init}
    else:
        known = set(inspect.signature(cls).parameters)
    return {k: v for k, v in opts.items() if k in known}


def expand_names(names: str | tuple[str, ...] | list[str]) -> list[str]:
    """``"cruxeval-o,reval"`` or a list -> benchmark names, aliases expanded, order kept."""
    parts = names.split(",") if isinstance(names, str) else list(names)
    out: list[str] = []
    for n in (p.strip() for p in parts):
        if n:
            out.extend(ALIASES.get(n, (n,)))
    return out


__all__ = ["NAMES", "REGISTRY", "Benchmark", "EvalItem", "SampleScore", "ScoreReport",
           "accepted_options", "expand_names", "get_benchmark"]  # fmt: skip
