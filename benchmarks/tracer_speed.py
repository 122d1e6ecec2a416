"""Full line traces of the 800 CRUXEval programs: stepcode's tracer vs a REval-style tracer.

The baseline re-implements REval's ``dynamics.py`` approach in this process: ``sys.settrace``
over the program's frames, a ``copy.deepcopy`` of the locals on every line event, states merged
when consecutive events share a line. stepcode's tracer runs each program in the sandbox (a
fresh isolated child per program, over the warm pool) and keeps bounded reprs. Both must give
identical answers: coverage, next-line sets and the reprs of the locals after every state.

    python benchmarks/tracer_speed.py [--data PATH]
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import sys
import time
import types
from pathlib import Path

from stepcode.execution import coverage, next_lines, trace_batch
from stepcode.types import Limits

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/benchmarks/cruxeval/cruxeval.jsonl"
_SKIP = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type, types.GeneratorType)


def reval_style_trace(code: str, call: str) -> list[tuple[int, dict]]:
    """States (line, deep-copied locals) the way REval records them, in-process."""
    states: list[list] = []
    filename = "<internals>"

    def snapshot(frame) -> dict:
        out = {}
        for k, v in frame.f_locals.items():
            if k.startswith(".") or (k.startswith("__") and k.endswith("__")):
                continue
            if isinstance(v, _SKIP) or (
                hasattr(type(v), "__next__") and hasattr(type(v), "__iter__")
            ):
                continue
            try:
                out[k] = copy.deepcopy(v)
            except Exception:  # noqa: BLE001
                out[k] = v
        return out

    def local(frame, event, arg):
        if event in ("line", "return", "exception"):
            if states and states[-1][0] == frame.f_lineno:
                states[-1][1] = snapshot(frame)
            else:
                states.append([frame.f_lineno, snapshot(frame)])
        return local

    def glob(frame, event, arg):
        return local if frame.f_code.co_filename == filename else None

    env: dict = {"__name__": "__main__"}
    sys.settrace(glob)
    try:
        exec(compile(code, filename, "exec"), env)
        eval(compile(call, "<call>", "eval"), env)
    except Exception:  # noqa: BLE001
        pass
    finally:
        sys.settrace(None)
    return [(line, loc) for line, loc in states]


def load_recorder():
    """stepcode's recorder module, loaded the way the sandbox child loads it."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "src/stepcode/execution/_tracehook.py"
    spec = importlib.util.spec_from_file_location("_bench_tracehook", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stepcode_core_trace(recorder_mod, code: str, call: str) -> dict:
    """The tracer algorithm alone: stepcode's recorder in-process, no sandbox."""
    rec = recorder_mod.Recorder("<internals>", 20_000, 100_000)
    env: dict = {"__name__": "__main__"}
    rec.start()
    try:
        exec(compile(code, "<internals>", "exec"), env)
        eval(compile(call, "<call>", "eval"), env)
    except Exception:  # noqa: BLE001
        pass
    finally:
        rec.stop()
    return rec.payload()


def _same_value(a: str, b: str) -> bool:
    if a == b:
        return True
    try:  # sets print in hash order, which differs between processes
        return ast.literal_eval(a) == ast.literal_eval(b)
    except (ValueError, SyntaxError):
        return False


def _answers_from_reval(states) -> tuple[set, dict, list]:
    cov = {line for line, _ in states}
    nxt: dict[int, set] = {}
    for i, (line, _) in enumerate(states):
        nxt.setdefault(line, set()).add(states[i + 1][0] if i + 1 < len(states) else -1)
    reprs = [{k: repr(v) for k, v in loc.items()} for _, loc in states]
    return cov, nxt, reprs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (CRUXEval data lives in ../shared/benchmarks)")
        return
    items = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    pairs = [(it["code"], f"f({it['input']})") for it in items]
    limits = Limits(max_repr_chars=100_000)

    trace_batch(pairs[:20], limits)  # warm the pool
    t = time.perf_counter()
    ours = trace_batch(pairs, limits)
    t_ours = time.perf_counter() - t

    t = time.perf_counter()
    theirs = [reval_style_trace(code, call) for code, call in pairs]
    t_theirs = time.perf_counter() - t

    recorder_mod = load_recorder()
    t = time.perf_counter()
    for code, call in pairs:
        stepcode_core_trace(recorder_mod, code, call)
    t_core = time.perf_counter() - t

    same = 0
    for tr, states in zip(ours, theirs, strict=True):
        cov, nxt, reprs = _answers_from_reval(states)
        our = [{k: v.repr for k, v in e.locals.items()} for e in tr.events]
        same_states = len(our) == len(reprs) and all(
            a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
            for a, b in zip(our, reprs, strict=True)
        )
        if (
            cov == set(coverage(tr))
            and nxt == {k: set(v) for k, v in next_lines(tr).items()}
            and same_states
        ):
            same += 1
    n_states = sum(len(t.events) for t in ours)
    print(f"{'tracer':40s} {'programs':>8s} {'states':>8s} {'seconds':>8s} {'programs/s':>10s}")
    print(
        f"{'stepcode (sandboxed, bounded reprs)':40s} {len(ours):8d} {n_states:8d} {t_ours:8.2f} {len(ours) / t_ours:10.0f}"
    )
    print(
        f"{'stepcode recorder alone (in-process)':40s} {len(ours):8d} {n_states:8d} {t_core:8.2f} {len(ours) / t_core:10.0f}"
    )
    print(
        f"{'REval-style (in-process, deepcopy)':40s} {len(theirs):8d} {sum(map(len, theirs)):8d} {t_theirs:8.2f} {len(theirs) / t_theirs:10.0f}"
    )
    print(f"\nidentical answers (coverage, next lines, states): {same}/{len(ours)}")
    print(
        f"speed ratio, tracer algorithm (in-process both): {t_theirs / t_core:.2f}x (target >= 3x)"
    )
    print(f"speed ratio, end to end (ours isolated per program): {t_theirs / t_ours:.2f}x")


if __name__ == "__main__":
    main()
