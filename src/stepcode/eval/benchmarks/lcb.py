"""LiveCodeBench code execution, extracted and scored as LiveCodeBench/LiveCodeBench (MIT) does.

* Data: ``datasets.load_dataset("livecodebench/execution-v2", split="test")`` or a local
  JSONL/parquet with the same fields (``code``, ``input`` = the whole call, ``output``, ``id``...),
  sorted by the number in ``id`` as the runner does.
* Prompts: stepcode's own wording by default; ``prompts="official"`` renders the templates of
  ``lcb_runner/prompts/code_execution.py`` (direct and CoT, and its system message for chat) from the
  user's copy of the harness (``eval.benchmarks.prompts``).
* Extraction: ``extract_execution_code``: CoT keeps the text after ``[ANSWER]``; then the part
  after ``==``; then cut at ``[/ANSWER]`` or keep the first line.
* Scoring: ``compute_code_execution_metrics.py``: a generation containing the input call is
  skipped (dropped; all skipped -> all False); the rest run ``BASE_IMPORTS + code + assert
  {output} == {g}`` (official 3 s; we allow 10 s for the numpy/pandas import, ``LCB_LIMITS``).
  pass@1 = mean c/n x100; beside it each answer checked by value (``assert_scoring``). Defaults
  n 10, temperature 0.2, top_p 0.95, max_tokens 2000, stop ``###`` (the vLLM runner's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from stepcode.errors import DataError
from stepcode.eval.benchmarks.assert_scoring import score_asserts
from stepcode.eval.benchmarks.base import EvalItem, ScoreMode, ScoreReport, hf_rows
from stepcode.eval.benchmarks.cruxeval import call_arguments
from stepcode.eval.benchmarks.prompts import PromptSet, PromptSetName
from stepcode.eval.benchmarks.wording import prompt_set
from stepcode.io import read_jsonl
from stepcode.rewards.verify import output_check_job
from stepcode.types import Limits, Verdict

HF_DATASET = "livecodebench/execution-v2"
LCB_LIMITS = Limits(timeout_s=10.0, memory_mb=2048)
"""official: 3 s, but that includes importing numpy + pandas (BASE_IMPORTS), which alone takes
1-4 s on a loaded machine; 10 s keeps gold answers from timing out (programs here are tiny)"""
FIELDS = ("code", "input", "output")

# The names LiveCodeBench's ``BASE_IMPORTS`` binds before every check (programs use ``List``,
# ``inf``, ``Counter`` ... without importing them), written here as a table: module -> names.
_FROM_IMPORTS = {
    "bisect": "bisect bisect_left bisect_right insort",
    "collections": "Counter OrderedDict defaultdict deque",
    "copy": "deepcopy",
    "functools": "cache lru_cache partial reduce",
    "heapq": "heapify heappop heappush merge",
    "itertools": "accumulate chain combinations count cycle groupby islice permutations product "
    "repeat zip_longest",
    "math": "ceil comb floor gcd inf isqrt log log10 log2 prod sqrt",
    "operator": "iand itemgetter sub",
    "os.path": "commonprefix",
    "random": "randrange shuffle",
    "string": "ascii_lowercase",
    "typing": "Any Callable Dict Generator Iterable Iterator List Optional Set Tuple Union",
}
# imported after the names above, so ``bisect``, ``copy``, ``random`` ... end up as the modules
_MODULES = ("bisect", "collections", "copy", "functools", "heapq", "itertools", "math", "operator",
            "random", "re", "string", "sys", "numpy as np", "pandas as pd")  # fmt: skip
BASE_IMPORTS = (
    "\n".join(
        [f"from {m} import {', '.join(names.split())}" for m, names in _FROM_IMPORTS.items()]
        + ["from re import search as re_search"]
        + [f"import {m}" for m in _MODULES]
    )
    + "\n"
)
"""the prelude of every LiveCodeBench check: the same names bound to the same objects"""


def load_lcb(path: str | None = None, limit: int | None = None) -> list[EvalItem]:
    if path is None:
        rows = hf_rows(HF_DATASET, "test")
    else:
        p = Path(path)
        if not p.exists():
            raise DataError(f"LiveCodeBench execution file not found: {p}")
        if p.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(p).to_pylist()
        else:
            rows = list(read_jsonl(p, strict=True))
    for i, r in enumerate(rows):
        missing = set(FIELDS) - set(r)
        if missing:
            raise DataError(f"LiveCodeBench record {i}: missing {sorted(missing)}")
    rows.sort(key=lambda r: _id_number(str(r.get("id", ""))))
    items = [EvalItem(item_id=str(r.get("id", f"sample_{i}")), data=r) for i, r in enumerate(rows)]
    return items[:limit] if limit else items


def _id_number(text: str) -> int:
    tail = text.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def extract_lcb(generation: str, cot: bool) -> str:
    out = generation
    if cot and "[ANSWER]" in out:
        out = out.split("[ANSWER]")[1].strip()
    if "==" in out:
        out = out.split("==")[1].strip()
    cut = "[/ANSWER]" if "[/ANSWER]" in out else "\n"
    out = out.split(cut)[0].strip()
    return out.strip()


@dataclass(frozen=True)
class LiveCodeBenchExecution:
    cot: bool = False
    prompt_style: Literal["raw", "chat"] = "raw"
    prompts: PromptSetName = "stepcode"
    """stepcode (built in) | official (from ``harness``, the user's copy of LiveCodeBench)"""
    harness: str | None = None
    """the user's copy of LiveCodeBench/LiveCodeBench (default: ``STEPCODE_LCB_HARNESS``)"""
    default_params: Mapping[str, Any] = field(
        default_factory=lambda: {
            "n": 10,
            "temperature": 0.2,
            "top_p": 0.95,
            "max_tokens": 2000,
            "stop": ["###"],
        }
    )
    prompt_set: PromptSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompt_set", prompt_set("lcb", self.prompts, self.harness))

    @property
    def name(self) -> str:
        return "lcb" + ("-cot" if self.cot else "")

    @property
    def prompt_info(self) -> dict[str, str]:
        return self.prompt_set.info

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        return load_lcb(path, limit)

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        key = "cot_output" if self.cot else "direct_output"
        values = {"code": item.data["code"], "input": item.data["input"]}
        return self.prompt_set.render(key, values, self.prompt_style)

    def extract(self, item: EvalItem, generation: str) -> str | None:
        return extract_lcb(generation, self.cot)

    def score(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        *,
        mode: ScoreMode = "official",
    ) -> ScoreReport:
        extracted = {k: [extract_lcb(g, self.cot) for g in gs] for k, gs in generations.items()}
        return self.score_extracted(items, generations, extracted, mode=mode)

    def score_extracted(
        self,
        items: Sequence[EvalItem],
        generations: Mapping[str, Sequence[str]],
        extracted: Mapping[str, Sequence[str | None]],
        *,
        mode: ScoreMode = "official",
    ) -> ScoreReport:
        return score_extracted(self.name, items, generations, extracted, mode=mode)


def _by_value(item: EvalItem, g: str):  # noqa: ANN202 - Job | Verdict
    """The output check as a value: ``entry(<args of the input call>) == g`` on the trusted side."""
    call = str(item.data["input"])
    entry = str(item.data.get("function_name") or call.split("(", 1)[0]).strip()
    args = call_arguments(call, entry)
    if isinstance(args, Verdict):
        return Verdict(correct=False, reason="bad_reference_call")
    code = f"{BASE_IMPORTS}\n{item.data['code']}"
    return output_check_job(code, args, g, entry=entry, limits=LCB_LIMITS)


def score_extracted(name: str, items: Sequence[EvalItem], generations: Mapping[str, Sequence[str]],
                    extracted: Mapping[str, Sequence[str | None]], *, mode: ScoreMode) -> ScoreReport:  # fmt: skip
    return score_asserts(
        name, items, generations, extracted,
        program=lambda it, g: f"{BASE_IMPORTS}\n{it.data['code']}\nassert {it.data['output']} == {g}",
        skip=lambda it, g: it.data["input"] in g,
        mode=mode, value_check=_by_value, ks=(1,), fill="empty", limits=LCB_LIMITS,
    )  # fmt: skip
