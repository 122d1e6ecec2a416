"""stepcode's own prompts for REval's coverage, state, path and output tasks (the default set).

Written for stepcode (see ``reval_prompts``). Each keeps the answer format REval's scorer reads and
ends where the answer begins: ``[ANSWER]`` for direct prompts, ``[THOUGHT]`` for chain of thought.
ClassEval questions name the test code ``ABBR``.
"""

from __future__ import annotations

ABBR = "the test code above"

_READ = (
    "Below is Python code followed by the code that runs it. Think about what really happens when "
    "it runs on that input, even where the code looks wrong or unfinished."
)
_DIRECT = "Give only the answer, between [ANSWER] and [/ANSWER], in the same form as the examples."
_COT = (
    "First reason about the execution in a few short steps between [THOUGHT] and [/THOUGHT] "
    "(summarise loops instead of walking every iteration); then give only the answer between "
    "[ANSWER] and [/ANSWER], in the same form as the example."
)
_ASK = {
    "coverage": "Answer YES if the line asked about runs at least once, NO if it never runs.",
    "state": (
        "Give the value the expression asked about holds right after the line runs, and its "
        "type, as `value; type`: the value as a plain Python literal, the type as a Python class "
        "name. If the line runs more than once, any one of its values will do. If it never runs, "
        "answer Nil."
    ),
    "path": (
        "Give the source text of the line that runs next inside the program (not a line of the "
        "test code), copied as it appears. Answer -1 if the line never runs or nothing runs "
        "after it."
    ),
    "output": (
        "Rewrite the test code at the end with every ?? replaced by the value it stands for, "
        "written as a Python literal. Keep everything else as it is."
    ),
}
_QUESTION = {
    "coverage": "Does line {line} ({codeline}) run when {invocation_abbr} is run?",
    "state": (
        "Does line {line} ({codeline}) run when {invocation_abbr} is run? If it does, what are the "
        "value and type of {var} right after it? If it does not, answer Nil."
    ),
    "path": "When {invocation_abbr} is run and the line `{codeline}` runs, which line runs next?",
}

_SHOT_CODE = "def clamp(x, lo, hi):\n    if x < lo:\n        x = lo\n    elif x > hi:\n        x = hi\n    return x\n"  # fmt: skip
_SHOT_CLASS = (
    "class Counter:\n    def __init__(self):\n        self.seen = {}\n\n    def add(self, key):\n"
    "        self.seen[key] = self.seen.get(key, 0) + 1\n        return self.seen[key]\n\n"
    "c = Counter()\nassertEqual(c.add('b'), 1)"
)
_SHOTS = {
    "coverage": [
        (_SHOT_CODE + "clamp(12, 0, 10)", "Does line 3 (        x = lo) run when clamp(12, 0, 10) is run?",
         "12 is not below 0, so the first branch is skipped and line 3 never runs.", "NO"),
        (_SHOT_CLASS, "Does line 6 (        self.seen[key] = self.seen.get(key, 0) + 1) run when the "
         "test code above is run?", "The test calls add('b'), whose first line is line 6.", "YES"),
    ],
    "state": [
        (_SHOT_CODE + "clamp(12, 0, 10)", "Does line 5 (        x = hi) run when clamp(12, 0, 10) "
         "is run? If it does, what are the value and type of x right after it? If it does not, "
         "answer Nil.", "12 > 10, so line 5 sets x to hi, which is 10, an int.", "10; int"),
        (_SHOT_CODE + "clamp(3, 0, 10)", "Does line 3 (        x = lo) run when clamp(3, 0, 10) is "
         "run? If it does, what are the value and type of x right after it? If it does not, answer "
         "Nil.", "3 is not below 0, so line 3 never runs.", "Nil"),
        (_SHOT_CLASS, "Does line 6 (        self.seen[key] = self.seen.get(key, 0) + 1) run when the "
         "test code above is run? If it does, what are the value and type of self.seen right after "
         "it? If it does not, answer Nil.", "add('b') counts 'b' once in the empty dict.",
         "{'b': 1}; dict"),
    ],
    "path": [
        (_SHOT_CODE + "clamp(12, 0, 10)", "When clamp(12, 0, 10) is run and the line `    elif x > hi:` "
         "runs, which line runs next?", "12 > 10 holds, so the elif branch runs next.", "x = hi"),
        (_SHOT_CODE + "clamp(5, 0, 10)", "When clamp(5, 0, 10) is run and the line `        x = hi` "
         "runs, which line runs next?", "5 is within the bounds, so line 5 never runs.", "-1"),
        (_SHOT_CLASS, "When the test code above is run and the line `        return self.seen[key]` "
         "runs, which line runs next?", "add returns to the test code, which is not asked about, "
         "and nothing in the class runs after it.", "-1"),
    ],
    "output": [
        ("def shout(word):\n    return word.upper() + '!'\n\nassert shout('hey') == ??", "",
         "shout upper-cases 'hey' and appends '!'.", "assert shout('hey') == 'HEY!'"),
        (_SHOT_CLASS.replace("assertEqual(c.add('b'), 1)", "# the test code\nassertEqual(c.add('b'), ??)"
         "\nassertEqual(c.add('b'), ??)"), "", "Each call counts 'b' once more: 1, then 2.",
         "c = Counter()\nassertEqual(c.add('b'), 1)\nassertEqual(c.add('b'), 2)"),
    ],
}  # fmt: skip
_TAIL = {
    "coverage": "[PYTHON]\n{code}\n{invocation}\n[/PYTHON]\n[QUESTION]\n" + _QUESTION["coverage"] + "\n[/QUESTION]\n",
    "state": "[PYTHON]\n{code}\n{invocation}\n[/PYTHON]\n[QUESTION]\n" + _QUESTION["state"] + "\n[/QUESTION]\n",
    "path": "[PYTHON]\n{code}\n{invocation}\n[/PYTHON]\n[QUESTION]\n" + _QUESTION["path"] + "\n[/QUESTION]\n",
    "output": "[PYTHON]\n{code}\n{invocation}\n[/PYTHON]\n",
}  # fmt: skip


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _shot(code: str, question: str, thought: str | None, answer: str) -> str:
    block = f"[PYTHON]\n{code}\n[/PYTHON]\n"
    if question:
        block += f"[QUESTION]\n{question}\n[/QUESTION]\n"
    if thought is not None:
        block += f"[THOUGHT]\n{thought}\n[/THOUGHT]\n"
    return _escape(block + f"[ANSWER]\n{answer}\n[/ANSWER]\n\n")


def _template(task: str, cot: bool) -> str:
    head = f"{_READ} {_ASK[task]} {_COT if cot else _DIRECT}\n\n"
    shots = _SHOTS[task][:1] if cot else _SHOTS[task]
    body = "".join(_shot(c, q, t if cot else None, a) for c, q, t, a in shots)
    return head + body + _TAIL[task] + ("[THOUGHT]" if cot else "[ANSWER]")


TEMPLATES = {
    f"{'cot' if cot else 'direct'}_{task}": _template(task, cot)
    for cot in (False, True)
    for task in ("coverage", "state", "path", "output")
}
"""``str.format`` templates (``reval_prompts.FIELDS``), one per ``{direct,cot}_{task}``"""
