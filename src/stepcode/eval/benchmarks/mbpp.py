"""MBPP (google-research/mbpp) code generation, when the user gives its data.

* Data: ``--data mbpp=PATH``: a JSONL(.gz) file of the original or sanitized release (``task_id,
  text`` or ``prompt``, ``code, test_list, test_setup_code`` [+ ``test_imports``]) or a dataset
  name / dir for ``datasets.load_dataset`` (split ``test``); nothing is bundled.
* Prompt (raw): the description and the first test inside a docstring, as the bigcode harness's
  ``mbpp`` task writes it; the completion is the whole solution. Chat: the stage II instruction
  around the description and all tests.
* Verdict: every assert of ``test_list`` passes (``challenge_test_list`` is not used), judged by
  value as HumanEval is (``eval.benchmarks.humaneval.score_codegen``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from stepcode.errors import DataError
from stepcode.eval.benchmarks.base import EvalItem, ScoreMode, ScoreReport
from stepcode.eval.benchmarks.humaneval import load_problems, score_codegen
from stepcode.rewards.codegen import parse_solution, solution_program
from stepcode.tasks import templates

STOP = ["\nclass", "\nassert", '\n"""', "\nprint", "\nif", "\n```"]


@dataclass(frozen=True)
class MBPP:
    prompt_style: Literal["raw", "chat"] = "raw"
    default_params: Mapping[str, Any] = field(default_factory=dict)
    name: str = "mbpp"

    def __post_init__(self) -> None:
        if not self.default_params:
            params = {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": 512,
                      "stop": STOP if self.prompt_style == "raw" else []}  # fmt: skip
            object.__setattr__(self, "default_params", params)

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        if path is None:
            raise DataError("mbpp: pass its data with --data mbpp=PATH (a JSONL file or dataset)")
        return load_problems(path, "mbpp", limit)

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        if self.prompt_style == "raw":
            d = item.data
            return f'"""\n{d.get("text") or d.get("prompt")}\n{d["test_list"][0]}\n"""\n'
        return [{"role": "system", "content": templates.CODEGEN_SYSTEM},
                {"role": "user", "content": item.data["task"].prompt}]  # fmt: skip

    def extract(self, item: EvalItem, generation: str) -> str | None:
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
        by_id = {it.item_id: it for it in items}
        programs = {k: [self.extract(by_id[k], g) for g in gs] for k, gs in generations.items()
                    if k in by_id}  # fmt: skip
        return score_codegen(self.name, items, generations, programs, ks=(1, 10))
