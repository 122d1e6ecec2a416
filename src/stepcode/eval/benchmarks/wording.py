"""stepcode's own prompts for CRUXEval-O/-I and LiveCodeBench execution (the default prompt set).

Written for stepcode. They keep the answer format that the official extraction reads: the code in
``[PYTHON] ... [/PYTHON]``, the completed assertion in ``[ANSWER] ... [/ANSWER]`` (``[/ANSWER]`` is
the stop word), reasoning in ``[THOUGHT] ... [/THOUGHT]`` for the chain-of-thought variants, which
end with an open ``[THOUGHT]``. ``{code}``, ``{input}`` and ``{output}`` are the item's fields.
"""

from __future__ import annotations

from stepcode.errors import ConfigError
from stepcode.eval.benchmarks.prompts import PromptSet, PromptSetName, Template, official_prompts

SYSTEM = "You read Python code carefully and say exactly what it does when it runs."

_OUTPUT_TASK = (
    "Work out what a Python function returns. Below is the function and an assertion that calls "
    "it with ?? in place of the result. Replace ?? with the returned value, written as a plain "
    "Python literal (a number, string, list, dict, ...; no variables, operators or calls), even if "
    "the function looks wrong or unfinished."
)
_INPUT_TASK = (
    "Find an input for a Python function. Below is the function f and an assertion "
    "f(??) == value. Replace ?? with arguments for which f returns that value. More than one "
    "input may work: give just one."
)
_DIRECT = "Reply with the whole completed assertion between [ANSWER] and [/ANSWER], as in the examples, and nothing else."  # fmt: skip
_COT = (
    "First reason through the execution one step at a time between [THOUGHT] and [/THOUGHT]; then "
    "give the whole completed assertion between [ANSWER] and [/ANSWER], as in the example."
)


def _shot(code: str, question: str, answer: str, thought: str = "") -> str:
    block = f"[PYTHON]\n{code}\n{question}\n[/PYTHON]\n"
    if thought:
        block += f"[THOUGHT]\n{thought}\n[/THOUGHT]\n"
    return block + f"[ANSWER]\n{answer}\n[/ANSWER]\n\n"


_CRUX_OUT_SHOTS = _shot(
    "def f(a, b):\n    return a * b - 1", "assert f(3, 4) == ??", "assert f(3, 4) == 11"
) + _shot(
    "def f(items):\n    return [x for x in items if x % 2 == 0]",
    "assert f([3, 8, 5, 2]) == ??",
    "assert f([3, 8, 5, 2]) == [8, 2]",
)
_CRUX_OUT_COT_SHOT = _shot(
    "def f(word):\n    out = word.upper()\n    return out[::-1] + '!'",
    "assert f('cab') == ??",
    "assert f('cab') == 'BAC!'",
    thought="f is called with word = 'cab'.\nout = 'cab'.upper() = 'CAB'.\nout[::-1] is 'BAC'; "
    "adding '!' gives 'BAC!', which f returns.",
)
_CRUX_IN_SHOTS = _shot(
    "def f(n):\n    return n // 2 + 3", "assert f(??) == 7", "assert f(8) == 7"
) + _shot(
    "def f(text, sep):\n    return text.split(sep)",
    "assert f(??) == ['a', 'b']",
    "assert f('a-b', '-') == ['a', 'b']",
)
_CRUX_IN_COT_SHOT = _shot(
    "def f(xs):\n    return sum(xs) * 2",
    "assert f(??) == 10",
    "assert f([2, 3]) == 10",
    thought="f doubles the sum of xs, so the sum must be 10 / 2 = 5. The list [2, 3] sums to 5.",
)
_LCB_SHOTS = _shot(
    "def countVowels(word: str) -> int:\n    return sum(c in 'aeiou' for c in word)",
    'assert countVowels(word = "banana") == ??',
    'assert countVowels(word = "banana") == 3',
) + _shot(
    "def pairSums(nums: List[int]) -> List[int]:\n"
    "    return [nums[i] + nums[i + 1] for i in range(len(nums) - 1)]",
    "assert pairSums(nums = [1, 2, 4]) == ??",
    "assert pairSums(nums = [1, 2, 4]) == [3, 6]",
)
_LCB_COT_SHOT = _shot(
    "def lastDigits(n: int) -> str:\n    d = n % 100\n    return str(d) * 2",
    "assert lastDigits(n = 1234) == ??",
    'assert lastDigits(n = 1234) == "3434"',
    thought='lastDigits is called with n = 1234.\nd = 1234 % 100 = 34.\nstr(d) is "34"; '
    'repeated twice it is "3434", the return value.',
)

_OUT_Q = "[PYTHON]\n{code}\nassert f({input}) == ??\n[/PYTHON]\n"
_IN_Q = "[PYTHON]\n{code}\nassert f(??) == {output}\n[/PYTHON]\n"
_LCB_Q = "[PYTHON]\n{code}\nassert {input} == ??\n[/PYTHON]\n"


def _set(templates: dict[str, str]) -> PromptSet:
    return PromptSet(name="stepcode", templates={k: Template.parse(v) for k, v in templates.items()},
                     system=SYSTEM)  # fmt: skip


STEPCODE_PROMPTS = {
    "cruxeval": _set({
        "direct_output": f"{_OUTPUT_TASK} {_DIRECT}\n\n{_CRUX_OUT_SHOTS}{_OUT_Q}[ANSWER]\n",
        "cot_output": f"{_OUTPUT_TASK} {_COT}\n\n{_CRUX_OUT_COT_SHOT}{_OUT_Q}[THOUGHT]\n",
        "direct_input": f"{_INPUT_TASK} {_DIRECT}\n\n{_CRUX_IN_SHOTS}{_IN_Q}[ANSWER]\n",
        "cot_input": f"{_INPUT_TASK} {_COT}\n\n{_CRUX_IN_COT_SHOT}{_IN_Q}[THOUGHT]\n",
    }),
    "lcb": _set({
        "direct_output": f"{_OUTPUT_TASK} {_DIRECT}\n\n{_LCB_SHOTS}{_LCB_Q}[ANSWER]\n",
        "cot_output": f"{_OUTPUT_TASK} {_COT}\n\n{_LCB_COT_SHOT}{_LCB_Q}[THOUGHT]\n",
    }),
}  # fmt: skip
"""family -> the default prompt set"""


def prompt_set(family: str, name: PromptSetName, harness: str | None = None) -> PromptSet:
    """``stepcode`` (the wording above) or ``official`` (read from the user's harness copy,
    ``prompts.official_prompts``) prompts for ``family``."""
    if name == "official":
        return official_prompts(family, harness)
    if name != "stepcode":
        raise ConfigError(f"prompts={name!r}: choose stepcode or official")
    return STEPCODE_PROMPTS[family]
