"""The scoring both CRUXEval and LiveCodeBench execution use, run through stepcode's sandbox.

Per item, each generation ``g`` (already extracted) is either *skipped* by the benchmark's
anti-copy rule or checked by executing ``{prefix}{code}\\nassert {gold} == {g}`` (3 s). Official
mode reproduces the harnesses' quirk: skipped generations are dropped from the list, so ``n``
shrinks. Then CRUXEval (``evaluation/utils_general.py`` at HEAD) turns a list with no ``True``
into ``[False] * len(gs)`` (``fill="no_pass"``), LiveCodeBench only an *empty* list
(``fill="empty"``). Strict mode keeps skipped generations as failures. pass@k is the unbiased
estimator, averaged over items, x100. Equal checks (one answer sampled twice) run once and share
their result: the programs are deterministic (CRUXEval filters for it), so only the cost changes.

**Checked by value.** The official check runs the answer as *code* after the assert, so
``6 or True`` and ``print('[PASS]') or 5`` pass it. Beside it every kept generation is also judged
the way stepcode's rewards judge a prediction (``stepcode.rewards.verify``: the answer must be a
value, literal-only and bounded, compared on the trusted side with the value the program really
produces). Its verdict is the sample's ``audit`` (``by_value:pass`` or ``by_value:<why not>``); the
summary gives ``pass@k_by_value`` under the same skip and refill rules, and ``official_only``
counts the generations that pass only as code (``official_only(samples)`` lists them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Literal

from stepcode.eval.benchmarks.base import EvalItem, SampleScore, ScoreMode, ScoreReport
from stepcode.eval.passk import estimate_pass_at_k
from stepcode.execution import Job, run_jobs
from stepcode.rewards.verify import run_checks
from stepcode.types import ExecStatus, Limits, Verdict

OFFICIAL_LIMITS = Limits(timeout_s=3.0, memory_mb=1024)
PASS_CALL = "'__stepcode_assert_passed__'"
BY_VALUE_PASS = "by_value:pass"

ValueCheck = Callable[[EvalItem, str], "Job | Verdict"]
"""``(item, extracted answer)`` -> the by-value check job of ``stepcode.rewards.verify``"""


def score_asserts(
    name: str,
    items: Sequence[EvalItem],
    generations: Mapping[str, Sequence[str]],
    extracted: Mapping[str, Sequence[str | None]],
    *,
    program: Callable[[EvalItem, str], str],
    skip: Callable[[EvalItem, str], bool],
    mode: ScoreMode,
    value_check: ValueCheck | None = None,
    ks: Sequence[int] = (1, 5),
    fill: Literal["no_pass", "empty"] = "no_pass",
    limits: Limits = OFFICIAL_LIMITS,
) -> ScoreReport:
    plans: list[tuple[EvalItem, int, str, str | None, bool]] = []
    jobs, checks = [], []
    for item in items:
        for j, (gen, ext) in enumerate(
            zip(generations.get(item.item_id, ()), extracted.get(item.item_id, ()), strict=True)
        ):
            text = ext if ext is not None else ""
            skipped = skip(item, text)
            plans.append((item, j, gen, ext, skipped))
            if not skipped:
                jobs.append(Job(code=program(item, text), call=PASS_CALL, limits=limits))
                if value_check is not None:
                    checks.append(value_check(item, text))
    distinct = list(dict.fromkeys(jobs))  # equal checks (the same answer twice) run once
    ran = dict(zip(distinct, run_jobs(distinct), strict=True)) if distinct else {}
    runs = (ran[j] for j in jobs)
    verdicts = iter(run_checks(checks)) if checks else iter(())
    samples = []
    for item, j, gen, ext, skipped in plans:
        base = SampleScore(item_id=item.item_id, sample_idx=j, benchmark=name, generation=gen,
                           extracted=ext, correct=False, skipped=skipped)  # fmt: skip
        if skipped:
            samples.append(replace(base, reason="skipped_anti_copy"))
            continue
        r = next(runs).result
        # the official check fails on any BaseException, SystemExit(0) included: a pass must
        # also reach the marker call after the program
        ok = r.status is ExecStatus.OK and r.return_value == PASS_CALL
        reason = "passed" if ok else (r.error or r.status.value).split(":")[0]
        if r.status is ExecStatus.OK and not ok:
            reason = "exited_early"
        audit = ""
        if value_check is not None:
            v = next(verdicts)
            audit = BY_VALUE_PASS if v.correct else f"by_value:{v.reason}"
        samples.append(replace(base, correct=ok, reason=reason, audit=audit))
    summary = _pass_at_k(items, samples, mode, ks, fill)
    if value_check is not None:
        by_value = [replace(s, correct=s.audit == BY_VALUE_PASS) for s in samples]
        values = _pass_at_k(items, by_value, mode, ks, fill)
        summary.update({f"{k}_by_value": v for k, v in values.items() if k.startswith("pass@")})
        summary["official_only"] = float(len(official_only(samples)))
        summary["by_value_only"] = float(
            sum(not s.correct and not s.skipped and s.audit == BY_VALUE_PASS for s in samples)
        )
    notes = (
        "official mode: generations skipped by the anti-copy rule are dropped from n, as the official scorer does"
        if mode == "official" else "strict mode: skipped generations count as failures",
    )  # fmt: skip
    if value_check is not None:
        notes += (
            "pass@k_by_value: each answer checked as a value (literal only, compared with what the "
            "program returns), not run as code; official_only counts answers that pass only as code",
        )
    return ScoreReport(
        benchmark=name, mode=mode, summary=summary, samples=tuple(samples), notes=notes
    )


def official_only(samples: Sequence[SampleScore]) -> list[SampleScore]:
    """Samples the official check passes but the by-value check rejects (``6 or True``, ...)."""
    return [s for s in samples if s.correct and s.audit.startswith("by_value:")
            and s.audit != BY_VALUE_PASS]  # fmt: skip


def official_results(
    items: Sequence[EvalItem], samples: Sequence[SampleScore], mode: ScoreMode, fill: str
) -> list[list[bool]]:
    """Per item, the boolean list the official scorer would hand to ``pass_at_k``."""
    by_item: dict[str, list[SampleScore]] = {}
    for s in samples:
        by_item.setdefault(s.item_id, []).append(s)
    results: list[list[bool]] = []
    for item in items:
        ss = by_item.get(item.item_id, [])
        if mode != "official":
            results.append([s.correct for s in ss])
            continue
        kept = [s.correct for s in ss if not s.skipped]
        refill = (True not in kept) if fill == "no_pass" else not kept
        results.append([False] * len(ss) if refill else kept)
    return results


def _pass_at_k(
    items: Sequence[EvalItem], samples: Sequence[SampleScore], mode: ScoreMode,
    ks: Sequence[int], fill: str,
) -> dict[str, float]:  # fmt: skip
    results = official_results(items, samples, mode, fill)
    summary: dict[str, float] = {"n_items": float(len(items))}
    for k in ks:
        vals = [estimate_pass_at_k(len(r), r.count(True), k) for r in results if r]
        if vals and len(vals) == len(items) and (k == 1 or max(map(len, results)) >= k):
            summary[f"pass@{k}"] = 100.0 * sum(vals) / len(vals)
    summary["n_samples"] = float(len(samples))
    summary["skipped"] = float(sum(s.skipped for s in samples))
    return summary
