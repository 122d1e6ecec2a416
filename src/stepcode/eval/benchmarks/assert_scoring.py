"""The scoring both CRUXEval and LiveCodeBench execution use, run through stepcode's sandbox.

Per item, each generation ``g`` (already extracted) is either *skipped* by the benchmark's
anti-copy rule or checked by executing ``{prefix}{code}\\nassert {gold} == {g}`` (3 s). Official
mode reproduces the harnesses' quirk: skipped generations are dropped from the list, so ``n``
shrinks. Then CRUXEval (``evaluation/utils_general.py`` at HEAD) turns a list with no ``True``
into ``[False] * len(gs)`` (``fill="no_pass"``), LiveCodeBench only an *empty* list
(``fill="empty"``). Strict mode keeps skipped generations as failures. pass@k is the unbiased estimator, averaged over items, x100.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from stepcode.eval.benchmarks.base import EvalItem, SampleScore, ScoreMode, ScoreReport
from stepcode.eval.passk import estimate_pass_at_k
from stepcode.execution import Job, run_jobs
from stepcode.types import ExecStatus, Limits

OFFICIAL_LIMITS = Limits(timeout_s=3.0, memory_mb=1024)
PASS_CALL = "'__stepcode_assert_passed__'"


def score_asserts(
    name: str,
    items: Sequence[EvalItem],
    generations: Mapping[str, Sequence[str]],
    extracted: Mapping[str, Sequence[str | None]],
    *,
    program: Callable[[EvalItem, str], str],
    skip: Callable[[EvalItem, str], bool],
    mode: ScoreMode,
    ks: Sequence[int] = (1, 5),
    fill: Literal["no_pass", "empty"] = "no_pass",
    limits: Limits = OFFICIAL_LIMITS,
) -> ScoreReport:
    plans: list[tuple[EvalItem, int, str, str | None, bool]] = []
    jobs = []
    for item in items:
        for j, (gen, ext) in enumerate(
            zip(generations.get(item.item_id, ()), extracted.get(item.item_id, ()), strict=True)
        ):
            text = ext if ext is not None else ""
            skipped = skip(item, text)
            plans.append((item, j, gen, ext, skipped))
            if not skipped:
                jobs.append(Job(code=program(item, text), call=PASS_CALL, limits=limits))
    runs = iter(run_jobs(jobs)) if jobs else iter(())
    samples = []
    for item, j, gen, ext, skipped in plans:
        if skipped:
            samples.append(SampleScore(item_id=item.item_id, sample_idx=j, generation=gen, extracted=ext,
                                       correct=False, skipped=True, reason="skipped_anti_copy"))  # fmt: skip
            continue
        r = next(runs).result
        # the official check fails on any BaseException, SystemExit(0) included: a pass must
        # also reach the marker call after the program
        ok = r.status is ExecStatus.OK and r.return_value == PASS_CALL
        reason = "passed" if ok else (r.error or r.status.value).split(":")[0]
        if r.status is ExecStatus.OK and not ok:
            reason = "exited_early"
        samples.append(SampleScore(item_id=item.item_id, sample_idx=j, generation=gen, extracted=ext,
                                   correct=ok, skipped=False, reason=reason))  # fmt: skip
    summary = _pass_at_k(items, samples, mode, ks, fill)
    notes = (
        "official mode: generations skipped by the anti-copy rule are dropped from n, as the official scorer does"
        if mode == "official" else "strict mode: skipped generations count as failures",
    )  # fmt: skip
    return ScoreReport(
        benchmark=name, mode=mode, summary=summary, samples=tuple(samples), notes=notes
    )


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
