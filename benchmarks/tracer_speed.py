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
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from stepcode.execution import coverage, next_lines, trace_batch
from stepcode.types import Limits

_DATA = "shared/benchmarks/cruxeval/cruxeval.jsonl"
DEFAULT_DATA = next(
    (p / _DATA for p in Path(__file__).resolve().parents if (p / _DATA).is_file()),
    Path(__file__).resolve().parents[2] / _DATA,
)
_SKIP = frozenset({"module", "function", "builtin_function_or_method"})
_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


def reval_style_trace(code, call) -> list[list]:
    """States ``[line, locals, return, exception]`` the way REval's ``dynamics.py`` records them.

    The program is defined first, then only the call is traced; a ``line`` event deep-copies the
    locals (modules, functions, builtins and iterators left out) into a new state, or over the
    last one when it is on the same line; ``return`` / ``exception`` events only set the return
    value / exception (a new, local-less state when on another line).
    """
    states: list[list] = []
    filename = "<internals>"

    def add(line: int, slot: int, value: object) -> None:
        if not states or states[-1][0] != line:
            states.append([line, {}, None, None])
        states[-1][slot] = value

    def local(frame, event, arg):
        if event == "line":
            snap = {}
            for k, v in frame.f_locals.items():
                if v.__class__.__name__ in _SKIP or isinstance(v, Iterator):
                    continue
                try:
                    snap[k] = copy.deepcopy(v)
                except Exception:  # noqa: BLE001 - REval itself would crash on a dict view
                    snap[k] = v
            add(frame.f_lineno, 1, snap)
        elif event == "return":
            add(frame.f_lineno, 2, arg)
        elif event == "exception":
            add(frame.f_lineno, 3, arg[0])

    def glob(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == filename:
            return local
        return None

    env: dict = {"__name__": "__main__"}
    try:
        exec(code, env)
        sys.settrace(glob)
        eval(call, env)
    except Exception:  # noqa: BLE001
        pass
    finally:
        sys.settrace(None)
    return states


def untraced_run(code, call) -> None:
    """The floor: the same run with no tracer at all."""
    env: dict = {"__name__": "__main__"}
    try:
        exec(code, env)
        eval(call, env)
    except Exception:  # noqa: BLE001
        pass


def load_recorder():
    """stepcode's recorder module, loaded the way the sandbox child loads it."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "src/stepcode/execution/_tracehook.py"
    spec = importlib.util.spec_from_file_location("_bench_tracehook", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stepcode_core_trace(recorder_mod, code, call) -> dict:
    """The tracer algorithm alone: stepcode's recorder in-process, no sandbox (the module frame
    is traced too, as in the sandbox child)."""
    rec = recorder_mod.Recorder("<internals>", 20_000, 100_000)
    env: dict = {"__name__": "__main__"}
    rec.start()
    try:
        exec(code, env)
        eval(call, env)
    except Exception:  # noqa: BLE001
        pass
    finally:
        rec.stop()
    return rec.payload()


def _same_value(a: str, b: str) -> bool:
    if _ADDR.sub("", a) == _ADDR.sub("", b):
        return True
    try:  # sets print in hash order, which differs between processes
        return ast.literal_eval(a) == ast.literal_eval(b)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _answers_from_reval(states) -> tuple[set, dict, list]:
    cov = {st[0] for st in states}
    nxt: dict[int, set] = {}
    for i, st in enumerate(states):
        nxt.setdefault(st[0], set()).add(states[i + 1][0] if i + 1 < len(states) else -1)
    reprs = [{k: repr(v) for k, v in st[1].items() if not k.startswith("__")} for st in states]
    return cov, nxt, reprs


def _best_of(reps: int, fn, compiled) -> tuple[float, list]:
    """Fastest of ``reps`` passes over all programs, in CPU seconds of this process (the host's
    cores are shared: wall time measures the neighbours, the minimum CPU time is the signal)."""
    best, out = float("inf"), []
    for _ in range(reps):
        t = time.process_time()
        out = [fn(code, call) for code, call in compiled]
        best = min(best, time.process_time() - t)
    return best, out


def _count_same(ours, theirs) -> int:
    same = 0
    for tr, states in zip(ours, theirs, strict=True):
        cov, nxt, reprs = _answers_from_reval(states)
        our = [{k: v.repr for k, v in e.locals.items()} for e in tr.events]
        same_states = len(our) == len(reprs) and all(
            a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
            for a, b in zip(our, reprs, strict=True)
        )
        same_exc = [e.exception for e in tr.events] == [
            getattr(st[3], "__name__", None) for st in states
        ]
        nxt_ours = {k: set(v) for k, v in next_lines(tr).items()}
        same += cov == set(coverage(tr)) and nxt == nxt_ours and same_states and same_exc
    return same


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--reps", type=int, default=5, help="passes per tracer; the fastest counts")
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found (CRUXEval data lives in ../shared/benchmarks)")
        return
    items = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    pairs = [(it["code"], f"f({it['input']})") for it in items]
    compiled = [
        (compile(code, "<internals>", "exec"), compile(call, "<call>", "eval"))
        for code, call in pairs
    ]
    recorder_mod = load_recorder()
    rows = [
        ("no tracer (floor)", untraced_run),
        ("REval-style (deepcopy every line)", reval_style_trace),
        ("stepcode recorder (in-process)", lambda c, k: stepcode_core_trace(recorder_mod, c, k)),
    ]
    for _, fn in rows:  # warm-up: imports the programs do, caches
        _best_of(1, fn, compiled)
    times = {name: _best_of(args.reps, fn, compiled) for name, fn in rows}
    limits = Limits(max_repr_chars=100_000)
    trace_batch(pairs[:20], limits)  # warm the pool
    t = time.perf_counter()
    ours = trace_batch(pairs, limits)
    t_sandbox = time.perf_counter() - t

    n_states = sum(len(t.events) for t in ours)
    print("in-process rows: best CPU seconds of --reps passes; sandboxed row: wall seconds")
    print(f"{'tracer':40s} {'programs':>8s} {'states':>8s} {'seconds':>8s} {'programs/s':>10s}")
    for name, (secs, _) in times.items():
        print(f"{name:40s} {len(pairs):8d} {n_states:8d} {secs:8.3f} {len(pairs) / secs:10.0f}")
    name = "stepcode trace_batch (sandboxed, e2e)"
    print(
        f"{name:40s} {len(pairs):8d} {n_states:8d} {t_sandbox:8.3f} {len(pairs) / t_sandbox:10.0f}"
    )
    floor = times["no tracer (floor)"][0]
    t_reval, theirs = times["REval-style (deepcopy every line)"]
    t_core = times["stepcode recorder (in-process)"][0]
    print(
        f"\nidentical answers (coverage, next, states, exceptions): {_count_same(ours, theirs)}/{len(ours)}"
    )
    print(f"speed ratio, traced run (in-process both): {t_reval / t_core:.2f}x (target >= 3x)")
    print(
        f"speed ratio, tracing overhead over the untraced run: "
        f"{(t_reval - floor) / max(t_core - floor, 1e-9):.2f}x"
    )
    print(f"end to end, ours isolated per program vs REval in-process: {t_reval / t_sandbox:.2f}x")


if __name__ == "__main__":
    main()
