"""Code-generation tasks: a problem, its entry point, unit tests and a trusted reference.

``make_codegen_task`` builds the ``Task`` (kind ``codegen``) every source uses: HumanEval/MBPP
rows (``data.codegen``), stepcode's synthesized functions, or one verified ``Program``
(``make_tasks_batch(..., [TaskKind.CODEGEN])``). ``Reference.code`` is the trusted context the
tests run with (a HumanEval prompt and its helpers; empty for synthesized functions),
``Reference.tests`` the unit tests, ``Reference.solution`` the reference program.

``spec_from_examples`` writes a synthesized function's spec: its signature and a docstring
written from it and from execution-checked examples (doctest style), never its body.
``codegen_target`` is the gold completion (the reference solution in the answer block) in the
format ``rewards.codegen.parse_solution`` reads. Prompt text lives in ``tasks.templates``.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from stepcode.errors import DataError
from stepcode.tasks import templates
from stepcode.types import Program, Reference, Task, TaskKind, UnitTest

Style = Literal["compact", "full"]


def make_codegen_task(
    *,
    task_id: str,
    problem: str,
    entry_point: str,
    tests: Sequence[UnitTest],
    context: str = "",
    solution: str | None = None,
    template: Style = "full",
    metadata: Mapping[str, Any] | None = None,
) -> Task:
    """A code-generation task; ``DataError`` for an unusable record (operator input)."""
    if not entry_point.isidentifier():
        raise DataError(f"{task_id}: entry point {entry_point!r} is not a Python name")
    if not tests:
        raise DataError(f"{task_id}: a code-generation task needs at least one test")
    for t in tests:
        if (
            t.kind not in ("io", "code")
            or (t.kind == "io" and not t.expected)
            or (t.kind == "code" and not (t.code or t.call))
        ):
            raise DataError(f"{task_id}: malformed unit test {t}")
    prompt = templates.render_codegen_prompt(template, problem)
    return Task(
        task_id=task_id,
        kind=TaskKind.CODEGEN,
        prompt=prompt,
        messages=(
            {"role": "system", "content": templates.CODEGEN_SYSTEM},
            {"role": "user", "content": prompt},
        ),
        reference=Reference(
            code=context,
            entry_point=entry_point,
            input_args="",
            output="",
            tests=tuple(tests),
            solution=solution,
        ),  # fmt: skip
        metadata={**(metadata or {}), "template": template, "n_tests": len(tests)},
    )


def codegen_target(task: Task) -> str:
    """The gold completion: the reference solution inside the answer block."""
    solution = task.reference.solution
    if solution is None:
        raise DataError(f"{task.task_id}: no reference solution to teach")
    return templates.codegen_answer(str(task.metadata.get("template", "full")), solution)


def spec_from_examples(
    code: str, entry_point: str, examples: Sequence[tuple[str, str]], *, describe: bool = True
) -> str:
    """``def f(a, b):`` plus a docstring from the signature and ``(args, output repr)`` examples.

    ``describe``: a first sentence naming the parameters' and the result's types (inferred from
    the examples); off, the docstring holds only the ``>>>`` examples (the compact form)."""
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        raise DataError(f"spec: the program does not parse ({e.msg})") from None
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point),
              None)  # fmt: skip
    if fn is None:
        raise DataError(f"spec: no function {entry_point!r} in the program")
    stub = copy.copy(fn)
    stub.body, stub.decorator_list = [ast.Pass()], []
    header = ast.unparse(stub).splitlines()[0]
    lines = []
    if describe:
        lines += [_sentence(fn, examples), ""]
    for args, output in examples:
        lines += [f">>> {entry_point}({args})", output]
    doc = "\n".join(f"    {ln}" if ln else "" for ln in lines)
    return f'{header}\n    """{doc.lstrip()}\n    """\n'


def _sentence(fn: ast.FunctionDef, examples: Sequence[tuple[str, str]]) -> str:
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    first = _values(f"({examples[0][0]},)") if examples else None
    out = _values(examples[0][1]) if examples else None
    parts = [
        f"{n} ({_type_name(first[k])})" if first is not None and k < len(first) else n
        for k, n in enumerate(names)
    ]
    result = f" and returns {_type_name(out)}" if out is not None else ""
    return f"Takes {', '.join(parts) or 'no arguments'}{result}."


def _values(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _type_name(v: object) -> str:
    if isinstance(v, bool):
        return "a bool"
    simple = {int: "an int", float: "a float", str: "a str", type(None): "None"}
    if type(v) in simple:
        return simple[type(v)]
    if isinstance(v, list | tuple | set | frozenset):
        kinds = sorted({_type_name(x).split(" ", 1)[-1] for x in v})
        of = f" of {kinds[0]}" if len(kinds) == 1 else ""
        return f"a {type(v).__name__}{of}"
    if isinstance(v, dict):
        return "a dict"
    return f"a {type(v).__name__}"


def program_codegen_task(p: Program, template: Style = "compact") -> Task:
    """One verified program as a code-generation task: its example is the spec and the test."""
    if p.input_args is None or p.output is None:
        raise DataError(f"{p.program_id}: a code-generation task needs a verified input/output")
    problem = spec_from_examples(p.code, p.entry_point, [(p.input_args, p.output)],
                                 describe=template == "full")  # fmt: skip
    return make_codegen_task(
        task_id=f"{p.program_id or 'p'}:{TaskKind.CODEGEN.value}", problem=problem,
        entry_point=p.entry_point, tests=[UnitTest(args=p.input_args, expected=p.output)],
        solution=p.code, template=template, metadata={"level": p.level, "source": p.source},
    )  # fmt: skip
