"""REval's ClassEval part (programs 85-153): prompts' invocation text, sandbox harnesses, gold answers.

Re-implemented from the behaviour of r-eval/REval (``dataset.py`` ``ClassEval``, ``dynamics.py``
``ClassFactory`` / ``FunctionFactory.create_from_answer``, ``evaluation.py`` ``_classeval_task_impl``;
no licence). What REval does and what we do:

* The test classes of a program are the ``unittest.TestCase`` subclasses named ``{cls}Test*`` in
  definition order; pair ``input_idx`` is the ``input_idx``-th one, and its first ``test*`` method is
  the test that runs. ``inputs[input_idx]`` is that method's body with ``self.assert``->``assert``.
* Ground truth: REval runs ``setUp`` untraced, then the test method under ``sys.settrace``,
  recording only frames of the class code. Here the program is the class code, followed by two
  module-level lines that ``exec`` the test code and a harness compiled under other filenames
  (never traced): the harness picks the test class, runs ``setUp`` at module level (the tracer drops
  the module's own states, so ``setUp`` stays out of the trace) and the ``call`` runs the test method.
* Output: the answer becomes ``def dreval_output_pred(self):`` (lines tab-indented outside
  triple-quoted blocks, then *every* ``assert`` -> ``self.assert``, REval's textual replace), is
  set on a fresh test class, ``setUp`` runs, then the method; it passes iff nothing raises. All of
  it runs in the sandbox child, never in this process.
* Items whose class or test code imports a top-level module that is not installed here are
  skipped and counted (``missing_modules``), never run.

``ABBR``, ``PRELUDE`` and the ``setUp`` header are the short layout strings REval's
``evaluation.py`` (not its prompt files) puts around the test code: ``invocation`` uses them for the
official prompt set only, so that its prompts are REval's to the byte.

Not done: REval keeps every program's classes in one module namespace and reuses one class object
for all pairs of a program, so class-level state could leak between pairs there; here each pair
runs in a fresh child.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from stepcode.errors import DataError
from stepcode.eval.benchmarks import reval_answers as ra
from stepcode.eval.benchmarks import reval_literals as rl
from stepcode.eval.benchmarks.reval_data import ClassEvalTest, RevalPair
from stepcode.types import Limits

ASSERTS = ("assertEqual", "assertNotEqual", "assertAlmostEqual", "assertTrue", "assertFalse",
           "assertIsNone", "assertIsNotNone", "assertIn", "assertNotIn")  # fmt: skip
"""REval ``taskgen.ASSERTS``: the helpers whose expected argument becomes ``??``"""
ABBR = "the above test code"
PRELUDE = "\n# Test code starts here. Only write the completed test code in your answer.\n"
PASS = "'__stepcode_reval_passed__'"
_TEST_FILE, _HARNESS_FILE, _ANSWER_FILE = "<reval-test>", "<reval-harness>", "<reval-answer>"

_PICK = """
import re as _re, unittest as _ut
_tcls = [_v for _k, _v in list(globals().items()) if isinstance(_v, type)
         and _re.match({pattern!r}, _k) is not None and issubclass(_v, _ut.TestCase)][{index}]
_tname = [_k for _k in _tcls.__dict__ if _k.startswith('test')][0]
"""
_TRACE_TAIL = """
_tobj = _tcls()
_tobj.setUp()
__reval_test__ = getattr(_tobj, _tname)
"""
_OUTPUT_TAIL = """
exec(compile({method!r}, {answer_file!r}, 'exec'), globals())
_tcls.dreval_output_pred = dreval_output_pred
_tobj = _tcls()
_tobj.setUp()
_tobj.dreval_output_pred()
"""
_CAPTURE = """
__reval_caps__ = []
def __reval_cap__(value):
    __reval_caps__.append(repr(value))
    return value
"""


def test_classes(test_code: str, cls_name: str) -> list[ast.ClassDef]:
    """The ``{cls}Test*`` classes of the test file, first definition order (REval's globals order)."""
    seen: dict[str, ast.ClassDef] = {}
    for node in ast.parse(test_code).body:
        if isinstance(node, ast.ClassDef) and re.match(f"{cls_name}Test.*", node.name):
            seen.setdefault(node.name, node)
    return list(seen.values())


def setup_source(test_code: str, cls_name: str, index: int) -> str:
    """``inspect.getsource(test_cls.setUp)`` as REval gets it; '' when only TestCase's own hook."""
    classes = {c.name: c for c in ast.parse(test_code).body if isinstance(c, ast.ClassDef)}
    lines = test_code.split("\n")
    todo = [test_classes(test_code, cls_name)[index]]
    while todo:  # the class, then its bases defined in the same file (MRO-ish, enough here)
        node = todo.pop(0)
        for f in node.body:
            if isinstance(f, ast.FunctionDef) and f.name == "setUp":
                start = min([f.lineno] + [d.lineno for d in f.decorator_list])
                return "\n".join(lines[start - 1 : f.end_lineno]) + "\n"
        todo += [classes[b.id] for b in node.bases if isinstance(b, ast.Name) and b.id in classes]
    return ""


def classeval_test(prog: Mapping[str, Any], input_idx: int) -> ClassEvalTest:
    """The test a ClassEval pair runs (``test_index`` picks the test class)."""
    try:
        setup = setup_source(prog["test"], prog["entry_point"], input_idx)
    except (SyntaxError, IndexError):
        raise DataError(
            f"{prog['task_id']}: test code has no test class #{input_idx} named "
            f"{prog['entry_point']}Test* (is this REval's DREval_data.jsonl?)"
        ) from None
    return ClassEvalTest(test=str(prog["test"]), test_index=input_idx, setup=setup)


def setup_comment(setup_src: str, *, hashed_first: bool) -> str:
    """REval's commented-out ``setUp`` block (coverage/state omit the first line's ``# ``)."""
    if not setup_src:
        return ""
    head = "\n# setup code executed previously\n" + ("# " if hashed_first else "")
    return head + "\n# ".join(setup_src.split("\n")[1:])


def invocation(pair: RevalPair, task: str) -> str:
    """The text after the class code in the prompt's code block."""
    hashed = task in ("path", "output")
    setup = setup_comment(_test(pair).setup, hashed_first=hashed)
    if task == "output":
        return setup + PRELUDE + pair.output_pred
    return setup + "\n" + pair.input.rstrip()


def _test(pair: RevalPair) -> ClassEvalTest:
    if pair.classeval is None:
        raise ValueError(f"{pair.pair_id} is not a ClassEval pair")
    return pair.classeval


def missing_modules(*sources: str) -> list[str]:
    """Top-level modules imported by ``sources`` that cannot be found here (sorted)."""
    names: set[str] = set()
    for src in sources:
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return sorted(
        n
        for n in names
        if n not in sys.builtin_module_names and importlib.util.find_spec(n) is None
    )


def _program(pair: RevalPair, tail: str) -> str:
    test = _test(pair)
    pick = _PICK.format(pattern=f"{pair.entry_point}Test.*", index=test.test_index)
    return (
        f"{pair.code}\n"
        "__name__ = '__reval_test__'\n"  # the test file's `if __name__ == '__main__'` stays off
        f"exec(compile({test.test!r}, {_TEST_FILE!r}, 'exec'))\n"
        f"exec(compile({pick + tail!r}, {_HARNESS_FILE!r}, 'exec'))\n"
    )


def trace_job(pair: RevalPair) -> tuple[str, str]:
    """``(code, call)`` for the tracer: class code + untraced harness; the call runs the test."""
    return _program(pair, _TRACE_TAIL), "__reval_test__()"


def answer_method(answer: str) -> str:
    """REval ``FunctionFactory.create_from_answer``: the answer as ``dreval_output_pred(self)``."""
    src, in_string = "def dreval_output_pred(self):", False
    for line in answer.split("\n"):
        src += f"\n{line}" if in_string else f"\n\t{line}"
        if "'''" in line or '"""' in line:
            in_string = not in_string
    return src.replace("assert", "self.assert")


def output_job(pair: RevalPair, answer: str) -> tuple[str, str]:
    """``(code, call)`` that returns ``PASS`` iff the answer runs as REval's test method."""
    tail = _OUTPUT_TAIL.format(method=answer_method(answer), answer_file=_ANSWER_FILE)
    return _program(pair, tail), PASS


def _capture_snippet(snippet: str) -> str | None:
    """The snippet with each asked argument wrapped in ``__reval_cap__`` (REval's ``??`` choice)."""
    tree = ast.parse(snippet)
    n = 0
    for stmt in tree.body:
        expr = stmt.value if isinstance(stmt, ast.Expr) else None
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id in ASSERTS
        ):
            i = 1 if len(expr.args) >= 2 else 0
            cap = ast.Name(id="__reval_cap__", ctx=ast.Load())
            expr.args[i] = ast.Call(func=cap, args=[expr.args[i]], keywords=[])
            n += 1
    return ast.unparse(tree) if n else None


def capture_job(pair: RevalPair) -> tuple[str, str] | None:
    """``(code, call)`` whose call returns the reprs of the asked arguments, in order."""
    snippet = _capture_snippet(pair.input)
    if snippet is None:
        return None
    tail = _CAPTURE + _OUTPUT_TAIL.format(method=answer_method(snippet), answer_file=_ANSWER_FILE)
    return _program(pair, tail), "__reval_caps__"


def capture_values(pairs: Sequence[RevalPair]) -> list[list[str] | None]:
    """Per pair, the reprs of the asked arguments as the test computes them (sandbox, batched);
    None where the test did not run or asks nothing."""
    from stepcode.execution import Job, run_jobs

    jobs = [capture_job(p) for p in pairs]
    todo = [j for j in jobs if j is not None]
    runs = iter(run_jobs([Job(code=c, call=k, limits=Limits(timeout_s=30.0)) for c, k in todo]))
    out: list[list[str] | None] = []
    for job in jobs:
        r = next(runs).result if job is not None else None
        ok, caps = (
            rl.literal(r.return_value or "") if r and r.status.value == "ok" else (False, None)
        )
        good = ok and isinstance(caps, list) and all(isinstance(c, str) for c in caps)
        out.append(caps if good else None)  # None also for a bounded repr cut short
    return out


def gold_output(pair: RevalPair, captured: Sequence[str] | None) -> str:
    """A correct answer: ``??`` filled with the captured values; the original expression where a
    value is not a literal or would hit REval's penalty patterns (``assertTrue(True)``)."""
    question = pair.output_pred
    exprs = _asked_sources(pair.input)
    parts = question.split("??")
    if captured is None or len(parts) - 1 != len(exprs) or len(captured) != len(exprs):
        return pair.input.rstrip()
    out = parts[0]
    for k, (value, src) in enumerate(zip(captured, exprs, strict=True)):
        fill = value if _is_literal(value) else src
        trial = out + fill + parts[k + 1]
        out = out + (src if ra.penalised(trial, "") else fill) + parts[k + 1]
    return out


def _asked_sources(snippet: str) -> list[str]:
    out = []
    for stmt in ast.parse(snippet).body:
        expr = stmt.value if isinstance(stmt, ast.Expr) else None
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id in ASSERTS
        ):
            out.append(ast.unparse(expr.args[1 if len(expr.args) >= 2 else 0]))
    return out


def _is_literal(text: str) -> bool:
    return rl.literal(text)[0]
