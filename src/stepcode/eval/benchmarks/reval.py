"""REval (DREval) coverage / state / path / output tasks and Incremental Consistency.

Re-implemented from the behaviour of r-eval/REval (``evaluation.py``, ``dynamics.py``; no licence,
none of its text shipped: prompts in ``reval_prompts``). Ground truth is computed at run time by
stepcode's tracer in the sandbox (``trace_batch``: REval's merged-state rules, program frames only).

Both parts: HumanEval (programs 0-84): prompts (path with ``N\\t`` line prefixes), answer parsing,
judging, per-task accuracy (+ precision / recall / F1 for coverage), output prediction executed in
the sandbox (never in-process), Incremental Consistency. ClassEval (85-153, ``reval_classeval``):
the test snippet after commented-out ``setUp`` code, ground truth from the test method traced over
the class code only, output answers run as a TestCase method in the sandbox. Pairs whose imports
(the ``reval`` extra: numpy, nltk, gensim, bs4, lxml, dateutil) are not installed are skipped and
counted by ``load_reval``.

Score modes (state questions; the other tasks are the same in both):

* ``official``: REval's values (``reval_values``: the cross product of a subscript's or tuple's
  parts over the line's states) and REval's ``_eq`` (the declared type must be among the actual
  types, the value is compared with every actual value).
* ``strict``: the values the expression really had in each state, compared with the actual values
  of the declared type only.

In both, an answer counts only by its value: it is parsed as a literal (``reval_answers``), never
evaluated, so an answer REval accepts only by running it (``1 + 1; int``) is wrong here.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from stepcode.errors import ConfigError
from stepcode.eval.benchmarks import reval_answers as ra
from stepcode.eval.benchmarks import reval_classeval as rc
from stepcode.eval.benchmarks import reval_values as rv
from stepcode.eval.benchmarks.base import EvalItem, ScoreMode, ScoreReport
from stepcode.eval.benchmarks.prompts import PromptSetName
from stepcode.eval.benchmarks.reval_data import (
    RevalItem,
    RevalPair,
    as_eval_item,
    read_official_log,
    reval_item,
)
from stepcode.eval.benchmarks.reval_load import load_reval
from stepcode.eval.benchmarks.reval_prompts import ENV as PROMPTS_ENV
from stepcode.eval.benchmarks.reval_prompts import (
    RevalPrompts,
    invocation,
    official_prompts,
    prompt_values,
    prompts,
    stepcode_prompts,
)
from stepcode.types import Limits, Trace

log = logging.getLogger(__name__)

__all__ = ["TASKS", "REval", "RevalPair", "invocation", "load_reval", "prompt_values", "prompts",
           "read_official_log", "score_reval"]  # fmt: skip

TASKS = ("coverage", "state", "path", "output")
PASS_CALL = rc.PASS
TRACE_LIMITS = Limits(timeout_s=60.0, max_trace_steps=200_000, max_repr_chars=20_000)
"""REval's sandbox allows 120 s; a tracer bound hit is reported (``truncated``). Reprs are kept
long so that the cross product can read the containers it indexes."""


def trace_items(pairs: Sequence[RevalPair], limits: Limits = TRACE_LIMITS) -> list[Trace]:
    """Ground-truth traces, one per pair, with what the state questions need watched."""
    from stepcode.execution import trace_batch

    watch = sorted({w for p in pairs for q in p.questions for w in rv.watch_expressions(q.var)})
    jobs = [
        rc.trace_job(p) if p.classeval is not None else (p.code, f"{p.entry_point}(*{p.input})")
        for p in pairs
    ]
    return trace_batch(jobs, limits, watch=watch)


@dataclass(frozen=True, kw_only=True)
class QuestionResult:
    item_id: str
    """the pair id"""
    task: str
    q: int
    generation: str
    response: Any
    expected: Any
    correct: bool
    exact: bool = True
    """state, official mode: False where REval's values could not be built (strict ones used)"""


_MAX_SHOWN = 20


def judge(pair: RevalPair, trace: Trace, task: str, gens: Sequence[str], cot: bool,
          mode: ScoreMode = "official") -> list[QuestionResult]:  # fmt: skip
    """Judge one pair's generations for ``task`` (non-output tasks: one per question, in order)."""
    from stepcode.execution import coverage, next_lines_of

    lines = pair.code.split("\n")
    cov = coverage(trace)
    out = []
    for q, (question, gen) in enumerate(zip(pair.questions, gens, strict=False)):
        line, exact = question.lineno, True
        if task == "coverage":
            resp, exp = ra.parse_coverage(gen, cot), line in cov
            ok = resp == exp
        elif task == "path":
            resp, exp = ra.parse_path(gen, cot, lines), sorted(next_lines_of(trace, line))
            ok = any(r in exp for r in resp)
        else:
            resp = ra.parse_state(gen, cot)
            vals = rv.question_values(trace, line, question.var, mode, ra.parse_actual)
            exact = vals.exact
            ok = ra.state_equal(resp, vals.values, mode)
            exp = None if vals.values is None else _shown(vals.values)
            resp = resp if isinstance(resp, str) else [repr(resp[0]), resp[1]]
        out.append(QuestionResult(item_id=pair.pair_id, task=task, q=q, generation=gen,
                                  response=resp, expected=exp, correct=ok, exact=exact))  # fmt: skip
    return out


def _shown(values: Sequence[Any]) -> list[tuple[str, str]]:
    seen = dict.fromkeys((v.repr, v.type) for v in values)
    return list(seen)[:_MAX_SHOWN]


def judge_outputs(pairs: Sequence[RevalPair], gens: Mapping[str, str], cot: bool) -> list[QuestionResult]:  # fmt: skip
    """Output prediction: the padded answer runs after the program in the sandbox; passes iff no
    exception and not penalised."""
    from stepcode.execution import Job, run_jobs

    plans, jobs = [], []
    for p in pairs:
        gen = gens.get(p.pair_id, "")
        ans = ra.pad_output(ra.output_answer(gen, cot), p.output_pred)
        bad = ra.penalised(ans, p.output_pred)
        plans.append((p, gen, ans, bad))
        if not bad:
            code, call = (
                rc.output_job(p, ans)
                if p.classeval is not None
                else (f"{p.code}\n{ans}", PASS_CALL)
            )
            jobs.append(Job(code=code, call=call, limits=Limits(timeout_s=10.0)))
    runs = iter(run_jobs(jobs)) if jobs else iter(())
    out = []
    for p, gen, ans, bad in plans:
        ok = False
        if not bad:
            r = next(runs).result
            ok = r.status.value == "ok" and r.return_value == PASS_CALL
        out.append(QuestionResult(item_id=p.pair_id, task="output", q=0, generation=gen,
                                  response=ans, expected=None, correct=ok))  # fmt: skip
    return out


def task_metrics(task: str, results: Sequence[QuestionResult]) -> dict[str, float]:
    n = len(results)
    acc = sum(r.correct for r in results) / n if n else 0.0
    m = {"acc": 100.0 * acc, "n": float(n)}
    if task == "coverage" and n:
        tp = sum(r.response and r.expected for r in results)
        fp = sum(r.response and not r.expected for r in results)
        fn = sum(not r.response and r.expected for r in results)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        m |= {"prec": 100.0 * prec, "rec": 100.0 * rec, "f1": 100.0 * f1}
    if task == "state":
        m["inexact"] = float(sum(not r.exact for r in results))
    return m


def incremental_consistency(
    pairs: Sequence[RevalPair], by_task: Mapping[str, Sequence[QuestionResult]]
) -> float:
    """REval IC: per (line, var) question 1 / .5 / .25 / .125 for C S P O / C S P / C S / C prefixes."""
    idx = {t: {(r.item_id, r.q): r.correct for r in by_task[t]} for t in TASKS}
    total, score = 0, 0.0
    for p in pairs:
        o = idx["output"].get((p.pair_id, 0), False)
        for q in range(len(p.questions)):
            c, s, pa = (idx[t].get((p.pair_id, q), False) for t in ("coverage", "state", "path"))
            total += 1
            score += ic_score(c, s, pa, o)
    return 100.0 * score / total if total else 0.0


def ic_score(c: bool, s: bool, p: bool, o: bool) -> float:
    pattern = (c, s, p, o)
    table = {(True, True, True, True): 1.0, (True, True, True, False): 0.5,
             (True, True, False, False): 0.25, (True, False, False, False): 0.125}  # fmt: skip
    return table.get(pattern, 0.0)


def gold_generations(pair: RevalPair, trace: Trace, task: str, mode: ScoreMode = "official") -> list[str]:  # fmt: skip
    """Correct answers in the official answer formats (for tests and sanity checks)."""
    from stepcode.execution import coverage, next_lines_of

    if task == "output":
        if pair.classeval is not None:
            return [_wrap(gold_outputs([pair])[pair.pair_id])]
        return [_wrap(pair.output_pred.replace("??", pair.gold_output or "??"))]
    lines = pair.code.split("\n")
    out = []
    for q in pair.questions:
        line = q.lineno
        if task == "coverage":
            out.append(_wrap("YES" if line in coverage(trace) else "NO"))
        elif task == "path":
            nxt = min(next_lines_of(trace, line))
            out.append(_wrap("-1" if nxt == -1 else lines[nxt - 1].strip()))
        else:
            vals = rv.question_values(trace, line, q.var, mode, ra.parse_actual).values
            out.append(_wrap("Nil" if vals is None else ra.gold_state(vals[0])))
    return out


def gold_outputs(pairs: Sequence[RevalPair]) -> dict[str, str]:
    """ClassEval output answers that pass: ``??`` filled with the values the test computes (one
    sandbox run per pair, batched)."""
    ce = [p for p in pairs if p.classeval is not None]
    caps = rc.capture_values(ce)
    return {p.pair_id: rc.gold_output(p, c) for p, c in zip(ce, caps, strict=True)}


def _wrap(ans: str) -> str:
    return f"{ans}\n[/ANSWER]"


def score_reval(
    pairs: Sequence[RevalPair],
    traces: Sequence[Trace | None],
    generations: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    cot: bool = False,
    mode: ScoreMode = "official",
) -> tuple[dict[str, float], list[QuestionResult]]:
    """``generations[task][pair_id]`` -> raw generations; summary has ``{task}_acc`` (+ coverage
    prec/rec/f1, state ``inexact``), ``avg_acc`` over the tasks given and ``ic`` when all four are."""
    by_task: dict[str, list[QuestionResult]] = {}
    for task, gens in generations.items():
        if task == "output":
            firsts = {k: (v[0] if v else "") for k, v in gens.items()}
            by_task[task] = judge_outputs(pairs, firsts, cot)
            continue
        res: list[QuestionResult] = []
        for p, tr in zip(pairs, traces, strict=True):
            assert tr is not None, "coverage / state / path need the pair's trace"
            padded = list(gens.get(p.pair_id, ())) + [""] * len(p.questions)
            res.extend(judge(p, tr, task, padded, cot, mode))
        by_task[task] = res
    summary: dict[str, float] = {"n_items": float(len(pairs))}
    ce = [i for i, p in enumerate(pairs) if p.classeval is not None]
    summary["classeval_pairs"] = float(len(ce))
    if ce and any(t is not None for t in traces):
        failed = [
            pairs[i].pair_id for i in ce if (t := traces[i]) and t.result.status.value != "ok"
        ]
        if failed:  # REval asserts the test passes; here (e.g. numpy 2 removed np.mat) it did not
            log.warning("REval ClassEval tests that failed to run here: %s", failed)
        summary["classeval_test_errors"] = float(len(failed))
    for task in TASKS:
        if task in by_task:
            for k, v in task_metrics(task, by_task[task]).items():
                summary[f"{task}_{k}"] = v
    accs = [summary[f"{t}_acc"] for t in TASKS if t in by_task]
    if accs:
        summary["avg_acc"] = sum(accs) / len(accs)
    if all(t in by_task for t in TASKS):
        summary["ic"] = incremental_consistency(pairs, by_task)
    return summary, [r for t in TASKS for r in by_task.get(t, [])]


def mode_note(mode: ScoreMode) -> str:
    if mode == "official":
        return ("state values: official (REval's cross product over the line's states, REval's "
                "_eq); answers read as literals, never run")  # fmt: skip
    return "state values: strict (each state's run-time value, same-typed comparison)"


@dataclass(frozen=True)
class REval:
    """One REval task as a ``Benchmark``: items are single questions (``DREval/i#j:q``; output:
    one per pair), so each has one prompt. ``load(path)`` needs the REval data directory."""

    task: Literal["coverage", "state", "path", "output"] = "coverage"
    cot: bool = False
    prompt_style: Literal["raw", "chat"] = "raw"
    prompts: PromptSetName = "stepcode"
    """stepcode (built in) | official (REval's templates, from the user's copy: ``harness``)"""
    harness: str | None = None
    """the user's copy of r-eval/REval or its prompts/ folder (default: ``STEPCODE_REVAL_HARNESS``,
    else the prompts/ folder beside the data directory given to ``load``)"""
    prompt_set: RevalPrompts | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"REval task={self.task!r}: choose one of {', '.join(TASKS)}")
        if self.prompts not in ("stepcode", "official"):
            raise ConfigError(f"prompts={self.prompts!r}: choose stepcode or official")
        if self.prompts == "stepcode":
            object.__setattr__(self, "prompt_set", stepcode_prompts())
        elif self.harness or _env_harness():
            object.__setattr__(self, "prompt_set", official_prompts(self.harness))

    @property
    def name(self) -> str:
        return f"reval-{self.task}" + ("-cot" if self.cot else "")

    @property
    def default_params(self) -> Mapping[str, Any]:
        return {"n": 1, "temperature": 0.8, "max_tokens": 1024 if self.cot else 256,
                "stop": ["[/ANSWER]"]}  # fmt: skip

    @property
    def prompt_info(self) -> dict[str, str]:
        if self.prompt_set is None:
            return {"prompts": "official", "prompt_source": "(not found yet)", "prompt_digest": ""}
        return self.prompt_set.info

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        if path is None:
            raise ConfigError(
                "REval has no hub dataset: pass the directory with DREval_data/tasks.jsonl"
            )
        if self.prompt_set is None:  # official prompts beside the data, as in a clone of REval
            object.__setattr__(self, "prompt_set", official_prompts(None, path))
        pairs, skipped = load_reval(path, limit)
        if self.task == "output":
            recs = [RevalItem(pair=p, skipped_missing_deps=skipped) for p in pairs]
        else:
            recs = [RevalItem(pair=p, q=q, skipped_missing_deps=skipped)
                    for p in pairs for q in range(len(p.questions))]  # fmt: skip
        return [as_eval_item(r) for r in recs]

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        rec = reval_item(item)
        ps = self.prompt_set
        if ps is None:
            raise ConfigError("REval official prompts: load() the data first or set harness")
        text = prompts(rec.pair, self.task, self.cot, ps)[rec.q or 0]
        if self.prompt_style != "chat":
            return text
        if ps.system is None:
            raise ConfigError(f"chat prompts need REval's system message, which {ps.source} does "
                              "not hold (REval keeps it in inference.py): use prompt_style: raw")  # fmt: skip
        return [{"role": "system", "content": ps.system}, {"role": "user", "content": text}]

    def extract(self, item: EvalItem, generation: str) -> str | None:
        return ra.answer_text(generation)

    def read_generations_file(
        self, path: str | Path, items: Sequence[EvalItem]
    ) -> tuple[dict[str, list[str]], None]:
        """An official ``model_generations/{task}@{model}/*.jsonl`` log -> each item's generation
        (the log holds one per question of each pair, in order)."""
        log = read_official_log(path)
        out: dict[str, list[str]] = {}
        for it in items:
            rec = reval_item(it)
            gens = log.get(rec.pair.pair_id, [])
            q = rec.q or 0
            out[it.item_id] = [gens[q]] if q < len(gens) else []
        return out, None

    def score(self, items: Sequence[EvalItem], generations: Mapping[str, Sequence[str]], *,
              mode: ScoreMode = "official") -> ScoreReport:  # fmt: skip
        from stepcode.eval.benchmarks.base import SampleScore

        recs = [reval_item(it) for it in items]
        pairs = {r.pair.pair_id: r.pair for r in recs}
        gens: dict[str, list[str]] = {}
        for r in recs:
            first = (generations.get(r.item_id) or [""])[0]
            gens.setdefault(r.pair.pair_id, [""] * len(r.pair.questions))[r.q or 0] = first
        plist = list(pairs.values())
        traces = trace_items(plist) if self.task != "output" else [None] * len(plist)
        summary, results = score_reval(plist, traces, {self.task: gens}, cot=self.cot, mode=mode)
        summary["classeval_skipped_missing_deps"] = float(
            max((r.skipped_missing_deps for r in recs), default=0)
        )
        samples = tuple(
            SampleScore(item_id=r.item_id if self.task == "output" else f"{r.item_id}:{r.q}", sample_idx=0,
                        benchmark=self.name, generation=r.generation, extracted=json.dumps(r.response), correct=r.correct,
                        skipped=False, reason=f"expected {json.dumps(r.expected)}")
            for r in results
        )  # fmt: skip
        notes = ("ground truth from stepcode's tracer (REval rules)", mode_note(mode))
        return ScoreReport(benchmark=self.name, mode=mode, summary=summary, samples=samples,
                           notes=notes)  # fmt: skip


def _env_harness() -> str | None:
    return os.environ.get(PROMPTS_ENV)
