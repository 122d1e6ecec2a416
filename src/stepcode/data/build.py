"""``build_dataset(cfg, out_dir)``: synthesize + load real code, verify inputs, filter, decontaminate,
trace, make tasks, split, write (what ``stepcode data build`` runs).

Stages (each one's output is checkpointed under ``out_dir/.work/`` keyed by the config hash, so an
interrupted build continues where it stopped): ``programs`` (synthesis per level, real sources
with execution-checked inputs), ``filters`` (size caps, exact/near duplicates, decontamination),
``traces`` (tracer re-run; the traced return value must equal the verified output, no
hash-order-dependent values), ``tasks`` (tasks stage; anchor-count cap), ``difficulty``
(optional pass-count filter). ``output.write_outputs`` writes the JSONL, parquet and manifest.
The same seed and config give byte-identical files.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stepcode.config import config_to_dict
from stepcode.data.config import DataBuildConfig
from stepcode.data.filters import (
    Contamination,
    Decontaminator,
    exact_key,
    load_benchmark_programs,
    near_key,
)
from stepcode.data.inputs import candidate_inputs
from stepcode.data.sources import check_source, load_source
from stepcode.data.synth import synthesize_programs, verify_programs
from stepcode.execution import tamper_reason, trace_batch
from stepcode.io import read_jsonl, write_json, write_jsonl
from stepcode.tasks import make_tasks_batch
from stepcode.types import AnchorPolicy, ExecStatus, Limits, Program, Task, TaskKind, Trace, to_dict

_ALIGNED = (TaskKind.OUTPUT_ALIGNED, TaskKind.INPUT_ALIGNED)

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: the CLI draws bars from it; the library never prints"""


@dataclasses.dataclass
class BuildState:
    """Counters the manifest reports: per level / per filter, and timings per stage."""

    removed: dict[str, int] = dataclasses.field(default_factory=dict)
    per_level: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    contamination: list[Contamination] = dataclasses.field(default_factory=list)

    def drop(self, reason: str, n: int = 1) -> None:
        self.removed[reason] = self.removed.get(reason, 0) + n

    def count(self, stage: str, programs: Sequence[Program]) -> None:
        for p in programs:
            lv = _level_key(p)
            self.per_level.setdefault(lv, {})[stage] = self.per_level.get(lv, {}).get(stage, 0) + 1


def _level_key(p: Program) -> str:
    return f"L{p.level}" if p.level is not None else "real"


def config_hash(cfg: DataBuildConfig) -> str:
    return hashlib.sha256(json.dumps(config_to_dict(cfg), sort_keys=True).encode()).hexdigest()[:16]


def _limits(cfg: DataBuildConfig) -> Limits:
    return Limits(
        timeout_s=cfg.timeout_s, memory_mb=256, max_trace_steps=cfg.filters.max_trace_steps + 1
    )


class _Checkpoints:
    """``out_dir/.work/<config hash>/<name>.jsonl``: one stage's records, written atomically
    (``out_dir=None``: an in-memory build, nothing kept)."""

    def __init__(self, out_dir: Path | None, key: str) -> None:
        self.dir = out_dir / ".work" / key if out_dir is not None else None

    def get(self, name: str) -> list[dict[str, Any]] | None:
        if self.dir is None:
            return None
        p = self.dir / f"{name}.jsonl"
        return list(read_jsonl(p)) if p.is_file() else None

    def put(self, name: str, records: Sequence[dict[str, Any]]) -> None:
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(self.dir / f"{name}.jsonl", records)


_MAX_ROUNDS = 8


def synthesize_distinct(
    level: int, n: int, *, seed: int, size: str, limits: Limits, max_per_code: int = 0
) -> list[Program]:
    """``n`` verified programs of ``level`` with distinct (code, input) pairs and at most
    ``max_per_code`` inputs per code (0 = no cap), drawing more rounds while repeats are dropped.

    Fewer come back when the level's program space is too small (logged).
    """
    kept: list[Program] = []
    per_code: dict[str, int] = {}
    seen: set[tuple[str, str | None]] = set()
    for round_ in range(_MAX_ROUNDS):
        for p in synthesize_programs(level, n, seed + 104_729 * round_, size, limits):  # type: ignore[arg-type]
            key = (p.code, p.input_args)
            if key in seen or (max_per_code and per_code.get(p.code, 0) >= max_per_code):
                continue
            seen.add(key)
            per_code[p.code] = per_code.get(p.code, 0) + 1
            kept.append(p)
        if len(kept) >= n:
            return kept[:n]
    log.warning(
        "level %d: %d distinct programs after %d rounds (asked for %d): the level's program "
        "space is small; allow more inputs per program for more",
        level, len(kept), _MAX_ROUNDS, n,
    )  # fmt: skip
    return kept


def _cached_programs(
    ck: _Checkpoints, name: str, make: Callable[[], list[Program]]
) -> list[Program]:
    got = ck.get(name)
    if got is not None:
        return [Program(**r) for r in got]
    progs = make()
    ck.put(name, [to_dict(p) for p in progs])
    return progs


def verify_real_inputs(programs: Sequence[Program], cfg: DataBuildConfig) -> list[Program]:
    """Execution-checked inputs for real programs: up to ``inputs.per_program`` per program."""
    cands: list[Program] = []
    for p in programs:
        rng = random.Random(f"{cfg.seed}:{p.program_id}")
        texts = candidate_inputs(
            p.code, p.entry_point, p.input_args, cfg.inputs.attempts, rng, cfg.inputs.size
        )
        cands += [
            dataclasses.replace(p, program_id=f"{p.program_id}-i{k}", input_args=t)
            for k, t in enumerate(texts)
        ]
    kept: dict[str, list[Program]] = {}
    for v in verify_programs(cands, _limits(cfg)):
        base = v.program_id.rsplit("-i", 1)[0]
        if len(kept.setdefault(base, [])) < cfg.inputs.per_program and hash_order_free(v.output):
            kept[base].append(v)
    return [v for p in programs for v in kept.get(p.program_id, [])]


def hash_order_free(text: str | None) -> bool:
    """False when a value's repr may depend on PYTHONHASHSEED (a set of 2+ non-int items)."""
    if text is None:
        return True
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return "{'" not in text and '{"' not in text
    return _order_free(value)


def _order_free(v: object) -> bool:
    if isinstance(v, set | frozenset):
        return len(v) < 2 or all(isinstance(x, int) for x in v)
    if isinstance(v, list | tuple):
        return all(_order_free(x) for x in v)
    if isinstance(v, dict):
        return all(_order_free(x) for x in v.values())
    return True


def collect_programs(
    cfg: DataBuildConfig, ck: _Checkpoints, st: BuildState, progress: Progress
) -> list[Program]:
    """Real sources first (a broken dataset fails before minutes of synthesis), then synthesis;
    the result lists synthesized programs first, then real ones."""
    real: list[Program] = []
    for j, spec in enumerate(cfg.sources):
        progress("real code", j, len(cfg.sources))

        def make(spec=spec) -> list[Program]:
            progs, skipped = load_source(spec)
            st.drop("source_unusable", skipped)
            return verify_real_inputs(progs, cfg)

        real += _cached_programs(ck, f"source-{j}", make)
    if cfg.sources:
        progress("real code", len(cfg.sources), len(cfg.sources))
    synth: list[Program] = []
    n_synth = math.ceil(cfg.synth.per_level * cfg.synth.oversample)
    for i, level in enumerate(cfg.synth.levels):
        progress("synthesis", i, len(cfg.synth.levels))
        synth += _cached_programs(
            ck, f"synth-L{level}",
            lambda lv=level: synthesize_distinct(
                lv, n_synth, seed=cfg.seed, size=cfg.synth.size, limits=_limits(cfg),
                max_per_code=cfg.filters.max_inputs_per_program,
            ),
        )  # fmt: skip
    progress("synthesis", len(cfg.synth.levels), len(cfg.synth.levels))
    out = synth + real
    st.count("verified", out)
    return out


def load_decontaminator(cfg: DataBuildConfig) -> Decontaminator | None:
    d = cfg.decontam
    named = [("cruxeval", d.cruxeval), ("lcb", d.lcb), ("reval", d.reval)]
    named += [(Path(x).stem, x) for x in d.extra]
    named = [(b, p) for b, p in named if p]
    if not named:
        return None
    dec = Decontaminator(d.ngram, d.min_overlap)
    for bench, path in named:
        dec.add(bench, load_benchmark_programs(path, bench))
    return dec


def filter_programs(
    programs: Sequence[Program], cfg: DataBuildConfig, dec: Decontaminator | None, st: BuildState
) -> list[Program]:
    """Size caps, hash-order check, exact + near duplicates (by base program), decontamination."""
    f = cfg.filters
    seen_exact: set[str] = set()
    near_owner: dict[str, str] = {}
    kept = []
    for p in programs:
        base = p.program_id.rsplit("-i", 1)[0] if p.level is None else p.program_id
        if len(p.code) > f.max_code_chars or p.code.count("\n") > f.max_code_lines:
            st.drop("too_long")
            continue
        if p.output is None or len(p.output) > f.max_output_chars:
            st.drop("output_too_long")
            continue
        ek = exact_key(p.code + "\0" + (p.input_args or ""))
        nk = near_key(p.code)
        near = f.near_dedup and near_owner.setdefault(nk, base) != base
        if f.dedup and (ek in seen_exact or near):
            st.drop("duplicate")
            continue
        seen_exact.add(ek)
        hit = dec.check(p.program_id, p.code) if dec is not None else None
        if hit is not None:
            st.contamination.append(hit)
            st.drop(f"contaminated:{hit.benchmark}")
            continue
        kept.append(p)
    st.count("filtered", kept)
    return kept


def trace_programs(
    programs: Sequence[Program],
    cfg: DataBuildConfig,
    ck: _Checkpoints,
    st: BuildState,
    progress: Progress,
) -> list[tuple[Program, Trace]]:
    """Trace every program (chunked, checkpointed); keep the ones whose trace re-verifies."""
    kept: list[tuple[Program, Trace]] = []
    for start in range(0, len(programs), cfg.chunk):
        progress("tracing", start, len(programs))
        chunk = programs[start : start + cfg.chunk]
        name = f"traces-{start // cfg.chunk}"
        got = ck.get(name)
        if got is None:
            traces = trace_batch(
                [(p.code, f"{p.entry_point}({p.input_args})") for p in chunk], _limits(cfg)
            )
            traces = [_timeless(t) for t in traces]
            got = [
                {"ok": _trace_ok(p, t, cfg), "trace": to_dict(t)}
                for p, t in zip(chunk, traces, strict=True)
            ]
            ck.put(name, got)
        for p, rec in zip(chunk, got, strict=True):
            if rec["ok"] != "ok":
                st.drop(rec["ok"])
            else:
                kept.append((p, trace_from_dict(rec["trace"])))
    progress("tracing", len(programs), len(programs))
    st.count("traced", [p for p, _ in kept])
    return kept


def _timeless(t: Trace) -> Trace:
    """Drop the run's wall time: it would make the dataset differ between identical builds."""
    return dataclasses.replace(t, result=dataclasses.replace(t.result, duration_s=0.0))


def _trace_ok(p: Program, t: Trace, cfg: DataBuildConfig) -> str:
    tampered = tamper_reason(t.result)
    if tampered is not None:  # its trace is not ground truth
        return tampered
    if t.status is not ExecStatus.OK or t.return_value != p.output:
        return "trace_mismatch"
    if t.truncated or len(t.events) > cfg.filters.max_trace_steps:
        return "trace_too_long"
    if not all(hash_order_free(s.repr) for e in t.events for s in e.locals.values()):
        return "hash_order_dependent"
    return "ok"


def trace_from_dict(d: dict[str, Any]) -> Trace:
    from stepcode.types import ExecutionResult, TraceEvent, VarState

    res = dict(d["result"])
    res["status"] = ExecStatus(res["status"])
    res["anchors"] = ()
    events = tuple(
        TraceEvent(**{**e, "locals": {k: VarState(**v) for k, v in e["locals"].items()}})
        for e in d["events"]
    )
    return Trace(
        code=d["code"],
        call=d["call"],
        result=ExecutionResult(**res),
        events=events,
        truncated=d["truncated"],
    )


def make_program_tasks(
    pairs: Sequence[tuple[Program, Trace | None]],
    cfg: DataBuildConfig,
    st: BuildState,
    progress: Progress,
) -> list[Item]:
    """Tasks per program; drop programs over the anchor cap or with no task of a wanted kind."""
    kinds = [TaskKind(k) for k in cfg.split.kinds]
    cap = cfg.filters.max_anchor_lines
    policy = AnchorPolicy.parse(cfg.split.anchors, max_hits=cap + 1)  # cap + 1: see who is over
    out = []
    for start in range(0, len(pairs), cfg.chunk):
        progress("tasks", start, len(pairs))
        chunk = pairs[start : start + cfg.chunk]
        tampered: dict[int, str] = {}
        per = make_tasks_batch(
            [p for p, _ in chunk],
            kinds,
            policy=policy,
            seed=cfg.seed,
            limits=_limits(cfg),
            template=cfg.split.template,
            traces=[t for _, t in chunk],  # white-box questions reuse the traces of this build
            dropped=tampered,
        )
        for k, ((p, t), tasks) in enumerate(zip(chunk, per, strict=True)):
            if k in tampered:
                st.drop(tampered[k])
            elif any(len(x.reference.anchors) > cap for x in tasks):
                st.drop("too_many_anchors")
            elif any(x.kind in _ALIGNED and not x.reference.anchors for x in tasks):
                st.drop("no_anchors")
            elif len({x.kind for x in tasks}) < len(kinds):
                st.drop("no_task")
            else:
                out.append((p, t, tasks))
    progress("tasks", len(pairs), len(pairs))
    st.count("tasks", [p for p, _, _ in out])
    return out


def cap_per_level(items: Sequence[Any], cap: int, st: BuildState) -> list[Any]:
    """At most ``cap`` synthesized programs per level (first in order); real code is not capped."""
    seen: dict[int, int] = {}
    out = []
    for it in items:
        lv = it[0].level
        if lv is not None:
            seen[lv] = seen.get(lv, 0) + 1
            if seen[lv] > cap:
                st.drop("over_per_level")
                continue
        out.append(it)
    return out


Item = tuple[Program, Trace | None, list[Task]]


def build_items(
    cfg: DataBuildConfig,
    out_dir: Path | None = None,
    *,
    progress: Progress | None = None,
    st: BuildState | None = None,
    traces: bool = True,
) -> list[Item]:
    """The pipeline up to the tasks: ``(program, trace, tasks)`` per kept program, in order.

    ``out_dir`` holds the resumable stage checkpoints (None: build in memory). ``st`` collects
    what was dropped and why. ``build_dataset`` and the training run's task sets both run this.
    ``traces=False`` skips the tracing stage (and its re-verification) when neither the output nor a
    task kind needs traces and every program is synthesized (verified twice by the synthesizer);
    the items then carry ``None``.
    """
    from stepcode.data.difficulty import filter_by_difficulty

    prog: Progress = progress or (lambda stage, done, total: None)
    st = st if st is not None else BuildState()
    ck = _Checkpoints(out_dir, config_hash(cfg))
    for spec in cfg.sources:
        check_source(spec)  # fail fast on a broken source or benchmark path, before any work
    dec = load_decontaminator(cfg)
    t0 = time.perf_counter()
    programs = collect_programs(cfg, ck, st, prog)
    t1 = time.perf_counter()
    programs = filter_programs(programs, cfg, dec, st)
    t2 = time.perf_counter()
    if traces or cfg.sources or "whitebox" in cfg.split.kinds:
        pairs: list[tuple[Program, Trace | None]] = list(
            trace_programs(programs, cfg, ck, st, prog)
        )
    else:
        pairs = [(p, None) for p in programs]
    t3 = time.perf_counter()
    items = make_program_tasks(pairs, cfg, st, prog)
    items = filter_by_difficulty(items, cfg.filters.difficulty, st)
    items = cap_per_level(items, cfg.synth.per_level, st)
    t4 = time.perf_counter()
    st.seconds = {"programs": t1 - t0, "filtering": t2 - t1, "tracing": t3 - t2, "tasks": t4 - t3}
    return items


def build_dataset(
    cfg: DataBuildConfig, out_dir: str | Path, *, progress: Progress | None = None
) -> dict[str, Any]:
    """Run the whole pipeline into ``out_dir``; returns the manifest (also ``manifest.json``)."""
    from stepcode.data.output import split_items, write_outputs

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    st = BuildState()
    items = build_items(cfg, out, progress=progress, st=st)
    splits = split_items(items, cfg)
    manifest = write_outputs(out, cfg, splits, st)
    write_json(out / "decontamination.json", [to_dict(c) for c in st.contamination])
    return manifest
