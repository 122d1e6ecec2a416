"""CRUXEval-O and -I, extracted and scored exactly as facebookresearch/cruxeval (MIT) does.

* Prompts: stepcode's own wording by default (``prompts="stepcode"``); ``prompts="official"`` renders
  the official ``prompts.py`` templates from the user's copy of the harness (``eval.benchmarks.prompts``).
  Stop word ``[/ANSWER]`` either way.
* Extraction (``inference/tasks/*_prediction.py``): CoT takes the text after ``[ANSWER]``; output
  mode keeps ``split("==")[1].strip()``; input mode keeps ``split("==")[0]`` and, if ``assert f`` is
  there, ``"f" + split("assert f")[1]``.
* Scoring (``evaluation/utils_general.py``): input mode skips generations without ``f(``; output
  mode skips those containing ``f({input})``; the rest run ``{code}\\nassert {output} == {g}``
  (3 s) in stepcode's sandbox (never in-process). pass@1 / pass@5 unbiased, x100. Beside it, each
  answer checked by value (``assert_scoring``).
* Official sampling (``inference/scripts``): n 10, temperature 0.2 (pass@1) / 0.8 (pass@5),
  top_p 0.95, max new tokens 1024 direct / 2048 CoT, raw prompts without a chat template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from stepcode.errors import DataError
from stepcode.eval.benchmarks.assert_scoring import score_asserts
from stepcode.eval.benchmarks.base import (
    EvalItem,
    ScoreMode,
    ScoreReport,
    hf_rows,
    read_id_keyed_json,
)
from stepcode.eval.benchmarks.prompts import PromptSet, PromptSetName
from stepcode.eval.benchmarks.wording import SYSTEM, prompt_set
from stepcode.io import read_jsonl
from stepcode.rewards.verify import input_check_job, output_check_job
from stepcode.types import Verdict

HF_DATASET = "cruxeval-org/cruxeval"
__all__ = ["SYSTEM", "CRUXEval", "extract_cruxeval", "load_cruxeval", "score_generations"]


def load_cruxeval(path: str | None = None, limit: int | None = None) -> list[EvalItem]:
    """800 items from a local ``cruxeval.jsonl`` or the Hugging Face dataset (split ``test``)."""
    if path is not None:
        if not Path(path).is_file():
            raise DataError(f"CRUXEval file not found: {path}")
        rows = list(read_jsonl(path, strict=True))
    else:
        rows = hf_rows(HF_DATASET, "test")
    items = []
    for i, r in enumerate(rows):
        missing = {"code", "input", "output"} - set(r)
        if missing:
            raise DataError(f"CRUXEval record {i}: missing {sorted(missing)}")
        items.append(EvalItem(item_id=str(r.get("id", f"sample_{i}")), data=dict(r)))
    return items[:limit] if limit else items


@dataclass(frozen=True)
class CRUXEval:
    """``mode="output"`` (CRUXEval-O) or ``"input"`` (CRUXEval-I); ``cot`` picks the CoT prompt."""

    mode: Literal["output", "input"] = "output"
    cot: bool = False
    prompt_style: Literal["raw", "chat"] = "raw"
    prompts: PromptSetName = "stepcode"
    """stepcode (built in) | official (from ``harness``, the user's copy of the CRUXEval repo)"""
    harness: str | None = None
    """the user's copy of facebookresearch/cruxeval (default: ``STEPCODE_CRUXEVAL_HARNESS``)"""
    default_params: Mapping[str, Any] = field(default_factory=dict)
    prompt_set: PromptSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.default_params:
            params = {"n": 10, "temperature": 0.2, "top_p": 0.95,
                      "max_tokens": 2048 if self.cot else 1024, "stop": ["[/ANSWER]"]}  # fmt: skip
            object.__setattr__(self, "default_params", params)
        object.__setattr__(self, "prompt_set", prompt_set("cruxeval", self.prompts, self.harness))

    @property
    def name(self) -> str:
        return f"cruxeval-{self.mode[0]}" + ("-cot" if self.cot else "")

    @property
    def prompt_info(self) -> dict[str, str]:
        return self.prompt_set.info

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        return load_cruxeval(path, limit)

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        key = ("cot_" if self.cot else "direct_") + self.mode
        values = {"code": item.data["code"], "input": item.data["input"],
                  "output": item.data["output"]}  # fmt: skip
        return self.prompt_set.render(key, values, self.prompt_style)

    def extract(self, item: EvalItem, generation: str) -> str | None:
        return extract_cruxeval(generation, self.mode, self.cot)

    def read_generations_file(
        self, path: str | Path, items: Sequence[EvalItem]
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """The official ``generations.json``: answers already extracted (what
        ``evaluate_generations.py`` reads), so they are scored as they are."""
        gens = read_id_keyed_json(path, items)
        return gens, gens

    def score(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        *,
        mode: ScoreMode = "official",
    ) -> ScoreReport:
        extracted = {
            k: [self.extract(EvalItem(item_id=k), g) for g in gs] for k, gs in generations.items()
        }
        return self.score_extracted(items, generations, extracted, mode=mode)

    def score_extracted(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        extracted: Mapping[str, Sequence[str | None]],
        *,
        mode: ScoreMode = "official",
    ) -> ScoreReport:
        return score_generations(self.name, self.mode, items, generations, extracted, mode=mode)


def extract_cruxeval(generation: str, mode: str, cot: bool) -> str:
    """The official post-processing of one generation (``[/ANSWER]`` is a stop word upstream)."""
    g = generation.split("[/ANSWER]")[0]
    if cot and "[ANSWER]" in g:
        g = g.split("[ANSWER]")[1]
    if mode == "output":
        if "==" in g:
            g = g.split("==")[1]
        return g.strip()
    if "==" in g:
        g = g.split("==")[0]
    if "assert f" in g:
        g = "f" + g.split("assert f")[1]
    return g.strip()


def call_arguments(call: str, entry: str) -> str | Verdict:
    """``entry(<args>)`` -> ``<args>`` (the judge re-parses the whole call: one call, values only)."""
    text = call.strip()
    if not (text.startswith(f"{entry}(") and text.endswith(")")):
        return Verdict(correct=False, reason="not_a_call")
    return text[len(entry) + 1 : -1]


def score_generations(name: str, task_mode: str, items: Sequence[EvalItem], generations: Mapping[str, Sequence[str]],
                      extracted: Mapping[str, Sequence[str | None]], *, mode: ScoreMode) -> ScoreReport:  # fmt: skip
    """Score already-extracted generations (the official JSON holds extracted answers)."""

    def skip(item: EvalItem, g: str) -> bool:
        if task_mode == "input":
            return "f(" not in g
        return f"f({item.data['input']})" in g

    def program(item: EvalItem, g: str) -> str:
        return f"{item.data['code']}\nassert {item.data['output']} == {g}"

    def by_value(item: EvalItem, g: str):  # noqa: ANN202 - Job | Verdict
        d = item.data
        if task_mode == "output":
            return output_check_job(d["code"], d["input"], g)
        args = call_arguments(g, "f")
        return args if isinstance(args, Verdict) else input_check_job(d["code"], d["output"], args)

    return score_asserts(name, items, generations, extracted, program=program, skip=skip,
                         mode=mode, value_check=by_value)  # fmt: skip
