"""CRUXEval-O and -I exactly as facebookresearch/cruxeval (MIT) prompts, extracts and scores.

* Prompts: ``prompts.py`` (direct and CoT), reproduced verbatim; stop word ``[/ANSWER]``.
* Extraction (``inference/tasks/*_prediction.py``): CoT takes the text after ``[ANSWER]``; output
  mode keeps ``split("==")[1].strip()``; input mode keeps ``split("==")[0]`` and, if ``assert f`` is
  there, ``"f" + split("assert f")[1]``.
* Scoring (``evaluation/utils_general.py``): input mode skips generations without ``f(``; output
  mode skips those containing ``f({input})``; the rest run ``{code}\\nassert {output} == {g}``
  (3 s) in stepcode's sandbox (never in-process). pass@1 / pass@5 unbiased, x100.
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
from stepcode.eval.benchmarks.base import EvalItem, ScoreMode, ScoreReport, hf_rows
from stepcode.io import read_jsonl

HF_DATASET = "cruxeval-org/cruxeval"
SYSTEM = (
    "You are an expert at Python programming, code execution, test case generation, and fuzzing."
)

DIRECT_OUTPUT = """You are given a Python function and an assertion containing an input to the function. Complete the assertion with a literal (no unsimplified expressions, no function calls) containing the output when executing the provided code on the given input, even if the function is incorrect or incomplete. Do NOT output any extra information. Provide the full assertion with the correct output in [ANSWER] and [/ANSWER] tags, following the examples.

[PYTHON]
def f(n):
    return n
assert f(17) == ??
[/PYTHON]
[ANSWER]
assert f(17) == 17
[/ANSWER]

[PYTHON]
def f(s):
    return s + "a"
assert f("x9j") == ??
[/PYTHON]
[ANSWER]
assert f("x9j") == "x9ja"
[/ANSWER]

[PYTHON]
{code}
assert f({input}) == ??
[/PYTHON]
[ANSWER]
"""

COT_OUTPUT = """You are given a Python function and an assertion containing an input to the function. Complete the assertion with a literal (no unsimplified expressions, no function calls) containing the output when executing the provided code on the given input, even if the function is incorrect or incomplete. Do NOT output any extra information. Execute the program step by step before arriving at an answer, and provide the full assertion with the correct output in [ANSWER] and [/ANSWER] tags, following the examples.

[PYTHON]
def f(s):
    s = s + s
    return "b" + s + "a"
assert f("hi") == ??
[/PYTHON]
[THOUGHT]
Let's execute the code step by step:

1. The function f is defined, which takes a single argument s.
2. The function is called with the argument "hi", so within the function, s is initially "hi".
3. Inside the function, s is concatenated with itself, so s becomes "hihi".
4. The function then returns a new string that starts with "b", followed by the value of s (which is now "hihi"), and ends with "a".
5. The return value of the function is therefore "bhihia".
[/THOUGHT]
[ANSWER]
assert f("hi") == "bhihia"
[/ANSWER]

[PYTHON]
{code}
assert f({input}) == ??
[/PYTHON]
[THOUGHT]
"""

DIRECT_INPUT = """You will be given a function f and an output in the form f(??) == output. Find any input such that executing f on the input leads to the given output. There may be multiple answers, but you should only output one. In [ANSWER] and [/ANSWER] tags, complete the assertion with one such input that will produce the output when executing the function.

[PYTHON]
def f(my_list):
    count = 0
    for i in my_list:
        if len(i) % 2 == 0:
            count += 1
    return count
assert f(??) == 3
[/PYTHON]
[ANSWER]
assert f(["mq", "px", "zy"]) == 3
[/ANSWER]

[PYTHON]
def f(s1, s2):
    return s1 + s2
assert f(??) == "banana"
[/PYTHON]
[ANSWER]
assert f("ba", "nana") == "banana"
[/ANSWER]

[PYTHON]
{code}
assert f(??) == {output}
[/PYTHON]
[ANSWER]
"""

COT_INPUT = """You will be given a function f and an output in the form f(??) == output. Your task is to find any input such that executing f on the input leads to the given output. There may be multiple answers, but only output one. First, think step by step. You MUST surround the answer with [ANSWER] and [/ANSWER] tags. Express your answer as a passing assertion containing the input and the given output.

[PYTHON]
def f(x):
    return x + 1
assert f(??) == 17
[/PYTHON]
[THOUGHT]
To find an input such that executing f on the input leads to the given output, we can work backwards from the given assertion. We know that f(??) == 17. 

Since the function f(x) returns x + 1, for f(??) to be equal to 17, the value of ?? should be 16. 
[/THOUGHT]
[ANSWER]
assert f(16) == 17
[/ANSWER]

[PYTHON]
{code}
assert f(??) == {output}
[/PYTHON]
[THOUGHT]
"""


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
    default_params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.default_params:
            params = {"n": 10, "temperature": 0.2, "top_p": 0.95,
                      "max_tokens": 2048 if self.cot else 1024, "stop": ["[/ANSWER]"]}  # fmt: skip
            object.__setattr__(self, "default_params", params)

    @property
    def name(self) -> str:
        return f"cruxeval-{self.mode[0]}" + ("-cot" if self.cot else "")

    def load(self, path: str | None = None, limit: int | None = None) -> list[EvalItem]:
        return load_cruxeval(path, limit)

    def prompt(self, item: EvalItem) -> str | list[dict[str, str]]:
        d = item.data
        if self.mode == "output":
            text = (COT_OUTPUT if self.cot else DIRECT_OUTPUT).format(
                code=d["code"], input=d["input"]
            )
        else:
            text = (COT_INPUT if self.cot else DIRECT_INPUT).format(
                code=d["code"], output=d["output"]
            )
        if self.prompt_style == "chat":
            return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
        return text

    def extract(self, item: EvalItem, generation: str) -> str | None:
        return extract_cruxeval(generation, self.mode, self.cot)

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


def score_generations(name: str, task_mode: str, items: Sequence[EvalItem], generations: Mapping[str, Sequence[str]],
                      extracted: Mapping[str, Sequence[str | None]], *, mode: ScoreMode) -> ScoreReport:  # fmt: skip
    """Score already-extracted generations (the official JSON holds extracted answers)."""

    def skip(item: EvalItem, g: str) -> bool:
        if task_mode == "input":
            return "f(" not in g
        return f"f({item.data['input']})" in g

    def program(item: EvalItem, g: str) -> str:
        return f"{item.data['code']}\nassert {item.data['output']} == {g}"

    return score_asserts(name, items, generations, extracted, program=program, skip=skip, mode=mode)
