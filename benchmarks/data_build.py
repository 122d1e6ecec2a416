"""Verified (program, input, output, trace) triples per second, with the time split per stage.

Stages: synthesis (typed random generation, in process), execution (two sandboxed runs per
candidate over the warm pool, output round-trip check), filtering (size caps, near-dup keys,
CRUXEval-style decontamination index when ../shared is present), tracing (line tracer over the
pool). Baseline measured in the same run: the execution stage done one program at a time
(``run_program`` per candidate, no batching). Target: >= 200 verified triples/s on 2 cores.

    python benchmarks/data_build.py [--n 600] [--levels 1,2,3,4,5,6]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from stepcode.data.build import BuildState, filter_programs
from stepcode.data.config import DataBuildConfig, DecontamSection
from stepcode.data.filters import Decontaminator, load_benchmark_programs
from stepcode.data.synth import synthesize_candidates, verify_programs
from stepcode.execution import get_default_pool, run_program, trace_batch
from stepcode.types import Limits

CRUX = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "benchmarks"
    / "cruxeval"
    / "cruxeval.jsonl"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600, help="candidates (spread over the levels)")
    ap.add_argument("--levels", default="1,2,3,4,5,6")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    limits = Limits(timeout_s=1.0, memory_mb=256)
    get_default_pool()  # warm the workers outside the timings
    verify_programs(synthesize_candidates(1, 4, 99), limits)

    t = {}
    t0 = time.perf_counter()
    cands = [p for lv in levels for p in synthesize_candidates(lv, args.n // len(levels), seed=0)]
    t["synthesis"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    verified = verify_programs(cands, limits, batch=32)
    t["execution"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cfg = DataBuildConfig(decontam=DecontamSection(cruxeval=str(CRUX) if CRUX.is_file() else ""))
    dec = None
    if cfg.decontam.cruxeval:
        dec = Decontaminator(cfg.decontam.ngram, cfg.decontam.min_overlap)
        dec.add("cruxeval", load_benchmark_programs(cfg.decontam.cruxeval, "cruxeval"))
    t["decontam index"] = time.perf_counter() - t0  # one-time per build, not per program
    t0 = time.perf_counter()
    kept = filter_programs(verified, cfg, dec, BuildState())
    t["filtering"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    traces = trace_batch([(p.code, f"f({p.input_args})") for p in kept], limits)
    good = sum(tr.ok if hasattr(tr, "ok") else tr.status.value == "ok" for tr in traces)
    t["tracing"] = time.perf_counter() - t0
    total = sum(t.values())

    # baseline: the execution stage one program at a time, on a slice of the same candidates
    sub = cands[: max(20, len(cands) // 10)]
    t0 = time.perf_counter()
    for p in sub:
        run_program(p.code, limits, call=f"f({p.input_args})")
        run_program(p.code, limits, call=f"f({p.input_args})")
    base_per_prog = (time.perf_counter() - t0) / len(sub)
    pool_per_prog = t["execution"] / len(cands)

    print(f"{'stage':<16}{'seconds':>10}{'share':>8}")
    for k, v in t.items():
        print(f"{k:<16}{v:>10.3f}{v / total:>8.1%}")
    print(f"{'total':<16}{total:>10.3f}")
    print(
        f"candidates {len(cands)}  verified {len(verified)}  after filters {len(kept)}  traced ok {good}"
    )
    per_build = total - t["decontam index"]
    print(
        f"verified triples/s: {good / total:.1f} ({good / per_build:.1f} without the index)  (target >= 200)"
    )
    print(
        f"execution per candidate: pool {pool_per_prog * 1e3:.2f} ms vs one-at-a-time "
        f"{base_per_prog * 1e3:.2f} ms  -> x{base_per_prog / pool_per_prog:.1f}"
    )


if __name__ == "__main__":
    main()
