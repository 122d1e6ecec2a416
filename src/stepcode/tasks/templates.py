"""All prompt text of stepcode's own tasks (benchmark prompts live in ``eval/benchmarks``).

Two styles: ``full`` (an instruction, for instruct models) and ``compact`` (just the program and
the assertion, for the tiny from-scratch model with a short context). Both end where the model's
completion starts; the completion formats are in ``FORMATS``.
"""

from __future__ import annotations

import re

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")

SYSTEM = "You are a Python expert. Simulate the execution of the program exactly; do not run it."

INSTRUCTIONS = {
    "output": (
        "Complete the assertion with a literal (no expressions, no function calls) equal to the value "
        "the function returns. Answer as:\n<answer>\nassert f(...) == <literal>\n</answer>"
    ),
    "input": (
        "Find any input such that executing f on it gives the output. Use literal arguments only. "
        "Answer as:\n<answer>\nassert f(<arguments>) == <output>\n</answer>"
    ),
    "output_aligned": (
        "The program prints its state at trace anchors. First write, in order, every line the print "
        "statements output for this call (at most {max_lines} lines), inside <trace>...</trace>, "
        "then complete the assertion with a literal inside <answer>...</answer>."
    ),
    "whitebox": (
        "Answer every question about the call below. In <answer>...</answer> write the completed "
        "assertion (a literal) on the first line, then one line per question, in order: "
        "`value; type` for value questions, the source text of a line (or -1) for next-line "
        "questions, YES or NO for coverage questions."
    ),
    "input_aligned": (
        "The program prints its state at trace anchors. Propose an input inside <input>f(...)</input>, "
        "then write, in order, every line the print statements output for YOUR input (at most "
        "{max_lines} lines) inside <trace>...</trace>, then the passing assertion inside "
        "<answer>...</answer>."
    ),
}


def normalize_repr(text: str) -> str:
    """Drop memory addresses from default reprs (``<map object at 0x7f..>`` -> ``<map object>``):
    they differ between runs, so neither a target nor a check may depend on them."""
    return _ADDRESS.sub("", text)


def program_block(code: str) -> str:
    return f"<code>\n{code.rstrip()}\n</code>\n"


def question_line(kind: str, entry: str, input_args: str, output: str) -> str:
    if kind.startswith("output"):
        return f"assert {entry}({input_args}) == ??\n"
    return f"assert {entry}(??) == {output}\n"


def task_prompt_text(
    kind: str, style: str, code: str, entry: str, input_args: str, output: str, max_lines: int
) -> str:
    body = program_block(code) + question_line(kind, entry, input_args, output)
    if style == "compact":
        return body
    return INSTRUCTIONS[kind].format(max_lines=max_lines) + "\n\n" + body


def numbered_block(code: str) -> str:
    """The program with REval/ExecVerify-style ``N<TAB>`` line numbers (original numbering)."""
    body = "".join(f"{i}\t{line}\n" for i, line in enumerate(code.rstrip().splitlines(), 1))
    return f"<code>\n{body}</code>\n"


QUESTIONS = {
    "value_type": (
        "What are the value and type of `{var}` after line {line} (`{src}`) runs for the {nth} "
        "time? Answer `value; type`."
    ),
    "next_line": (
        "Which line runs right after line {line} (`{src}`) has run for the {nth} time? Answer "
        "with its source text, or -1 if the run ends."
    ),
    "coverage": "Is line {line} (`{src}`) executed? Answer YES or NO.",
    "path": (
        "If line {line} (`{src}`) is executed, which line runs next? Answer with its source "
        "text, or -1 if it never runs or the run ends after it."
    ),
}
COMPACT_QUESTIONS = {  # for tiny models: the same question, a few tokens long
    "value_type": "{var} after L{line} #{k}?",
    "next_line": "next after L{line} #{k}?",
    "coverage": "L{line} runs?",
    "path": "next after L{line}?",
}


def question_text(kind: str, line: int, src: str, k: int = 1, var: str | None = None) -> str:
    """The full-style text of a white-box question (stored in ``Question.text``)."""
    return QUESTIONS[kind].format(line=line, src=src, nth=_nth(k), var=var)


def compact_question(kind: str, line: int, k: int = 1, var: str | None = None) -> str:
    return COMPACT_QUESTIONS[kind].format(line=line, k=k, var=var)


def _nth(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def render_whitebox_prompt(
    style: str, code: str, entry: str, input_args: str, questions: list[str]
) -> str:
    """``questions``: the question lines as the style wants them (``Question.text`` for full)."""
    body = numbered_block(code) + question_line("output", entry, input_args, "")
    body += "".join(f"Q{k}: {q}\n" for k, q in enumerate(questions, 1))
    if style == "compact":
        return body
    return INSTRUCTIONS["whitebox"] + "\n\n" + body


def whitebox_answer(entry: str, args: str, output: str, answers: list[str]) -> str:
    lines = "".join(f"{a}\n" for a in answers)
    return f"<answer>\nassert {entry}({args}) == {output}\n{lines}</answer>"


def trace_block(lines: list[tuple[str, str]]) -> str:
    return "<trace>\n" + "".join(f"{name}: {value}\n" for name, value in lines) + "</trace>\n"


def answer_block(entry: str, args: str, output: str) -> str:
    return f"<answer>\nassert {entry}({args}) == {output}\n</answer>"


def input_block(entry: str, args: str) -> str:
    return f"<input>\n{entry}({args})\n</input>\n"
