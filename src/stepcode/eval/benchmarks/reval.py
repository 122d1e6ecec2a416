"""REval (DREval) coverage / state / path / output tasks and Incremental Consistency.

Re-implemented from the behaviour of r-eval/REval (``evaluation.py``, ``dynamics.py``; no licence,
prompts in ``reval_prompts``). Ground truth is computed at run time by stepcode's tracer in the
sandbox (``trace_batch``: REval's merged-state rules, program frames only); attribute / subscript /
tuple questions are evaluated in the frame as tracer ``watch`` expressions.

Done: both parts. HumanEval (programs 0-84): prompts (path with ``N\\t`` line prefixes), answer
parsing, judging, per-task accuracy (+ precision / recall / F1 for coverage), output prediction
executed in the sandbox (never in-process), Incremental Consistency. ClassEval (85-153, see
``reval_classeval``): the test snippet after commented-out ``setUp`` code, ground truth from the
test method traced over the class code only, output answers run as a TestCase method in the
sandbox. Pairs whose imports (the ``reval`` extra: numpy, nltk, gensim, bs4, lxml, dateutil) are
not installed are skipped and counted by ``load_reval``.
Not done: REval's cross product over occurrences for subscript / tuple questions asked on lines
that run several times (here each is evaluated per state, the diagonal of REval's product).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepcode.errors import DataError
from stepcode.eval.benchmarks import reval_answers as ra
from stepcode.eval.benchmarks import reval_classeval as rc
from stepcode.eval.benchmarks.base import EvalItem, ScoreReport
from stepcode.eval.benchmarks.reval_prompts import TEMPLATES
from stepcode.types import Limits, Trace

log = logging.getLogger(__name__)

TASKS = ("coverage", "state", "path", "output")
HUMANEVAL_END = 84
PARAMS = {
    "n": 1,
    "temperature": 0.8,
    "max_tokens": 256,
    "max_tokens_cot": 1024,
    "stop": ["[/ANSWER]"],
}
PASS_CALL = rc.PASS
TRACE_LIMITS = Limits(timeout_s=60.0, max_trace_steps=200_000)
"""REval's sandbox allows 120 s; a tracer bound hit is reported (``truncated``)"""


def load_reval(data_dir: str | Path, limit: int | None = None) -> tuple[list[EvalItem], int]:
    """(program, input) items of ``DREval_data.jsonl`` + ``DREval_tasks.jsonl`` (``limit``: first
    programs); and how many ClassEval pairs were skipped for third-party modules missing here."""
    d = Path(data_dir)
    files = [d / "DREval_data.jsonl", d / "DREval_tasks.jsonl"]
    for f in files:
        if not f.is_file():
            raise DataError(f"REval file not found: {f} (pass the directory holding both files)")
    data = [json.loads(x) for x in files[0].read_text(encoding="utf-8").splitlines() if x.strip()]
    tasks = [json.loads(x) for x in files[1].read_text(encoding="utf-8").splitlines() if x.strip()]
    items, skipped = [], 0
    for t in tasks[:limit] if limit else tasks:
        idx = int(t["idx"])
        prog = data[idx]
        missing = rc.missing_modules(prog["code"], prog["test"]) if idx > HUMANEVAL_END else []
        if missing:
            log.info("REval %d skipped: modules %s not installed (the reval extra)", idx, missing)
            skipped += len(t["tasks"])
            continue
        for pair in t["tasks"]:
            inp = prog["inputs"][pair["input_idx"]]
            data_ = {
                "idx": idx, "input_idx": pair["input_idx"], "code": prog["code"],
                "entry_point": prog["entry_point"], "input": inp, "questions": pair["task"],
                "output_pred": pair["output_pred"], "part": "humaneval",
                "gold_output": (prog.get("outputs") or [None] * 99)[pair["input_idx"]],
            }  # fmt: skip
            if idx > HUMANEVAL_END:
                data_ |= rc.classeval_fields(prog, pair["input_idx"])
            items.append(EvalItem(item_id=f"DREval/{idx}#{pair['input_idx']}", data=data_))
    return items, skipped


def is_classeval(item: EvalItem) -> bool:
    return item.data.get("part") == "classeval"


def invocation(item: EvalItem) -> str:
    """HumanEval ``fn(args)``; ClassEval: the commented ``setUp`` then the test snippet."""
    if is_classeval(item):
        return rc.invocation(dict(item.data), "coverage")
    return f"{item.data['entry_point']}{item.data['input'][:-2]})"


def prompts(item: EvalItem, task: str, cot: bool = False) -> list[str]:
    """The official prompt(s): one per (line, var) question, one for ``output``."""
    tpl = TEMPLATES[("cot" if cot else "direct", task)]
    code: str = item.data["code"]
    ce = is_classeval(item)
    if task == "output":
        inv = rc.invocation(dict(item.data), task) if ce else "\n" + item.data["output_pred"]
        return [tpl.format(code=code, invocation=inv)]
    lines = code.split("\n")
    numbered = task == "path" and not ce
    shown = "".join(f"{i + 1}\t{s}\n" for i, s in enumerate(lines)) if numbered else code
    inv = rc.invocation(dict(item.data), task) if ce else invocation(item)
    return [
        tpl.format(
            code=shown,
            invocation=inv,
            invocation_abbr=rc.ABBR if ce else inv,
            line=q["lineno"],
            codeline=lines[q["lineno"] - 1],
            var=q["var"],
        )  # fmt: skip
        for q in item.data["questions"]
    ]


def trace_items(items: Sequence[EvalItem], limits: Limits = TRACE_LIMITS) -> list[Trace]:
    """Ground-truth traces, one per item, with every asked expression watched."""
    from stepcode.execution import trace_batch

    watch = sorted({q["var"] for it in items for q in it.data["questions"]})
    pairs = [
        rc.trace_job(dict(it.data))
        if is_classeval(it)
        else (it.data["code"], f"{it.data['entry_point']}(*{it.data['input']})")
        for it in items
    ]
    return trace_batch(pairs, limits, watch=watch)


@dataclass(frozen=True, kw_only=True)
class QuestionResult:
    item_id: str
    task: str
    q: int
    generation: str
    response: Any
    expected: Any
    correct: bool


def judge(item: EvalItem, trace: Trace, task: str, gens: Sequence[str], cot: bool) -> list[QuestionResult]:  # fmt: skip
    """Judge one item's generations for ``task`` (non-output tasks: one per question, in order)."""
    from stepcode.execution import coverage, next_lines_of, value_after

    lines = item.data["code"].split("\n")
    cov = coverage(trace)
    out = []
    for q, (question, gen) in enumerate(zip(item.data["questions"], gens, strict=False)):
        line = question["lineno"]
        if task == "coverage":
            resp, exp = ra.parse_coverage(gen, cot), line in cov
            ok = resp == exp
        elif task == "path":
            resp, exp = ra.parse_path(gen, cot, lines), sorted(next_lines_of(trace, line))
            ok = any(r in exp for r in resp)
        else:
            resp = ra.parse_state(gen, cot)
            vals = value_after(trace, line, question["var"]) if line in cov else None
            exp = None if vals is None else [(v.repr, v.type) for v in vals]
            ok = ra.state_equal(resp, vals)
            resp = resp if isinstance(resp, str) else [repr(resp[0]), resp[1]]
        out.append(QuestionResult(item_id=item.item_id, task=task, q=q, generation=gen,
                                  response=resp, expected=exp, correct=ok))  # fmt: skip
    return out


def judge_outputs(items: Sequence[EvalItem], gens: Mapping[str, str], cot: bool) -> list[QuestionResult]:  # fmt: skip
    """Output prediction: the padded answer runs after the program in the sandbox; passes iff no
    exception and not penalised."""
    from stepcode.execution import Job, run_jobs

    plans, jobs = [], []
    for it in items:
        gen = gens.get(it.item_id, "")
        ans = ra.pad_output(ra.output_answer(gen, cot), it.data["output_pred"])
        bad = ra.penalised(ans, it.data["output_pred"])
        plans.append((it, gen, ans, bad))
        if not bad:
            code, call = (
                rc.output_job(dict(it.data), ans)
                if is_classeval(it)
                else (f"{it.data['code']}\n{ans}", PASS_CALL)
            )
            jobs.append(Job(code=code, call=call, limits=Limits(timeout_s=10.0)))
    runs = iter(run_jobs(jobs)) if jobs else iter(())
    out = []
    for it, gen, ans, bad in plans:
        ok = False
        if not bad:
            r = next(runs).result
            ok = r.status.value == "ok" and r.return_value == PASS_CALL
        out.append(QuestionResult(item_id=it.item_id, task="output", q=0, generation=gen,
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
    return m


def incremental_consistency(
    items: Sequence[EvalItem], by_task: Mapping[str, Sequence[QuestionResult]]
) -> float:
    """REval IC: per (line, var) question 1 / .5 / .25 / .125 for C S P O / C S P / C S / C prefixes."""
    idx = {t: {(r.item_id, r.q): r.correct for r in by_task[t]} for t in TASKS}
    total, score = 0, 0.0
    for it in items:
        o = idx["output"].get((it.item_id, 0), False)
        for q in range(len(it.data["questions"])):
            c, s, p = (idx[t].get((it.item_id, q), False) for t in ("coverage", "state", "path"))
            total += 1
            score += ic_score(c, s, p, o)
    return 100.0 * score / total if total else 0.0


def ic_score(c: bool, s: bool, p: bool, o: bool) -> float:
    pattern = (c, s, p, o)
    table = {(True, True, True, True): 1.0, (True, True, True, False): 0.5,
             (True, True, False, False): 0.25, (True, False, False, False): 0.125}  # fmt: skip
    return table.get(pattern, 0.0)


def read_official_log(path: str | Path) -> dict[str, list[str]]:
    """An official ``model_generations/{task}@{model}/*.jsonl`` log: item id -> raw generations."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"REval generations log not found: {p}")
    out: dict[str, list[str]] = {}
    for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{p}:{i}: not JSON ({e.msg})") from None
        if "task_id" not in rec:
            continue  # the trailing metrics line
        for g in rec.get("generation", []):
            key = f"{rec['task_id']}#{g['input_idx']}"
            out[key] = [str(r.get("generated", "")) for r in g.get("results", [])]
    return out


def gold_generations(item: EvalItem, trace: Trace, task: str) -> list[str]:
    """Correct answers in the official answer formats (for tests and sanity checks)."""
    from stepcode.execution import coverage, next_lines_of, value_after

    if task == "output":
        if is_classeval(item):
            return [_wrap(gold_outputs([item])[item.item_id])]
        return [_wrap(item.data["output_pred"].replace("??", item.data.get("gold_output", "??")))]
    lines = item.data["code"].split("\n")
    out = []
    for q in item.data["questions"]:
        line = q["lineno"]
        if task == "coverage":
            out.append(_wrap("YES" if line in coverage(trace) else "NO"))
        elif task == "path":
            nxt = min(next_lines_of(trace, line))
            out.append(_wrap("-1" if nxt == -1 else lines[nxt - 1].strip()))
        else:
            vals = value_after(trace, line, q["var"]) if line in coverage(trace) else None
            out.append(_wrap("Nil" if vals is None else ra.gold_state(vals[0])))
    return out


def gold_outputs(items: Sequence[EvalItem]) -> dict[str, str]:
    """ClassEval output answers that pass: ``??`` filled with the values the test computes (one
    sandbox run per item, batched)."""
    ce = [dict(it.data) for it in items if is_classeval(it)]
    ids = [it.item_id for it in items if is_classeval(it)]
    caps = rc.capture_values(ce)
    return {k: rc.gold_output(d, c) for k, d, c in zip(ids, ce, caps, strict=True)}


def _wrap(ans: str) -> str:
    return f"{ans}\n[/ANSWER]"


def score_reval(
    items: Sequence[EvalItem],
    traces: Sequence[Trace],
    generations: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    cot: bool = False,
) -> tuple[dict[str, float], list[QuestionResult]]:
    """``generations[task][item_id]`` -> raw generations; summary has ``{task}_acc`` (+ coverage
    prec/rec/f1), ``avg_acc`` over the tasks given and ``ic`` when all four are given."""
    by_task: dict[str, list[QuestionResult]] = {}
    for task, gens in generations.items():
        if task == "output":
            by_task[task] = judge_outputs(
                items, {k: (v[0] if v else "") for k, v in gens.items()}, cot
            )
            continue
        res: list[QuestionResult] = []
        for it, tr in zip(items, traces, strict=True):
            res.extend(
                judge(
                    it,
                    tr,
                    task,
                    list(gens.get(it.item_id, ())) + [""] * len(it.data["questions"]),
                    cot,
                )
            )
        by_task[task] = res
    summary: dict[str, float] = {"n_items": float(len(items))}
    ce = [i for i, it in enumerate(items) if is_classeval(it)]
    summary["classeval_pairs"] = float(len(ce))
    if traces and ce and any(t is not None for t in traces):
        failed = [items[i].item_id for i in ce if traces[i].result.status.value != "ok"]
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
        summary["ic"] = incremental_consistency(items, by_task)
    return summary, [r for t in TASKS for r in by_task.get(t, [])]


@dataclass(frozen=True)
class REval:
    """One REval task as a ``Benchmark``: items are single questions (``DREval/i#j:q``; output:
    one per pair), so each has one prompt. ``load(path)`` needs the REval data directory."""

    task: str = "coverage"
    cot: bool = False
    prompt_style: str = "raw"

    @property
    def name(self) -> str:
        return f"reval-{self.task}" + ("-cot" if self.cot else "")

    @property
    def default_params(self) -> Mapping[str, Any]:
        return {
            "n": 1,
            "temperature": 0.8,
            "max_tokens": 1024 if self.cot else 256,
            "stop": ["[/ANSWER]"],
        }

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        if path is None:
            raise DataError(
                "REval has no hub dataset: pass the directory with DREval_data/tasks.jsonl"
            )
        pairs, skipped = load_reval(path, limit)
        if skipped:  # carried on every item so that score() can report it
            pairs = [EvalItem(item_id=p.item_id, data={**p.data, "skipped_missing_deps": skipped})
                     for p in pairs]  # fmt: skip
        if self.task == "output":
            return pairs
        return [EvalItem(item_id=f"{p.item_id}:{q}", data={**p.data, "pair_id": p.item_id, "q": q})
                for p in pairs for q in range(len(p.data["questions"]))]  # fmt: skip

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        text = prompts(item, self.task, self.cot)[item.data.get("q", 0)]
        if self.prompt_style == "chat":
            from stepcode.eval.benchmarks.cruxeval import SYSTEM

            return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
        return text

    def extract(self, item: EvalItem, generation: str) -> str | None:
        return ra.answer_text(generation)

    def score(self, items: Sequence[EvalItem], generations: Mapping[str, Sequence[str]], *,
              mode: str = "official") -> ScoreReport:  # fmt: skip
        from stepcode.eval.benchmarks.base import SampleScore

        pairs: dict[str, EvalItem] = {}
        gens: dict[str, list[str]] = {}
        for it in items:
            pid = it.data.get("pair_id", it.item_id)
            pairs.setdefault(pid, EvalItem(item_id=pid, data=it.data))
            first = (generations.get(it.item_id) or [""])[0]
            gens.setdefault(pid, [""] * len(it.data["questions"]))[it.data.get("q", 0)] = first
        plist = list(pairs.values())
        traces = trace_items(plist) if self.task != "output" else [None] * len(plist)
        summary, results = score_reval(plist, traces, {self.task: gens}, cot=self.cot)  # type: ignore[arg-type]
        summary["classeval_skipped_missing_deps"] = float(
            max((it.data.get("skipped_missing_deps", 0) for it in items), default=0)
        )
        samples = tuple(
            SampleScore(item_id=r.item_id if self.task == "output" else f"{r.item_id}:{r.q}", sample_idx=0,
                        generation=r.generation, extracted=json.dumps(r.response), correct=r.correct,
                        skipped=False, reason=f"expected {json.dumps(r.expected)}")
            for r in results
        )  # fmt: skip
        return ScoreReport(benchmark=self.name, mode="official", summary=summary, samples=samples,
                           notes=("ground truth from stepcode's tracer (REval rules)",))  # fmt: skip
