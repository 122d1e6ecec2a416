"""Trace anchors: a deterministic AST pass that inserts print-based anchors into a program.

``instrument(code, policy) -> Instrumented`` inserts, as new lines (the original lines are kept
verbatim, so the program reads as written):

* after each assignment (``=``, ``+=``, annotated), one anchor per assigned name (each name of a
  tuple target; ``d[k] = v`` anchors ``d``; ``self.x = v`` anchors ``self.x``);
* before each ``return <expr>``: the statement becomes ``_ret = <expr>`` / anchor / ``return _ret``,
  so the value is evaluated exactly once;
* inside ``for``/``while`` bodies by ``policy.loops``: ``none`` (the paper's rule: no anchors in
  loops; returns still get one), ``first_k`` (each anchor in a loop fires for its first ``k`` hits;
  the display says so in a comment) or ``every``.

Two renderings share every line number: ``source`` (what a model sees: ``print(f"x: {x!r}")``) and
``runtime_source`` (each anchor is ``__stepcode_anchor__(id, "x", x, limit)``, recorded by the
sandbox child apart from stdout, so program prints can never corrupt a trace). ``line_map`` maps
each original line to its line in both. Statements that share a line with their block header
(``if x: y = 1``) get no anchor. ``policy.max_hits`` caps the total anchor hits of a run
(``ExecutionResult.truncated`` says when it was hit; the paper keeps samples of <= 10 lines).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from stepcode.execution.sandbox import Job, run_job
from stepcode.types import AnchorPolicy, ExecutionResult, Limits

RUNTIME_HOOK = "__stepcode_anchor__"


@dataclass(frozen=True, kw_only=True)
class AnchorSpec:
    anchor_id: int
    name: str
    line: int
    """line of the anchor in the instrumented program"""
    orig_line: int
    """line of the statement it reports on, in the original program"""
    kind: str
    """assign | return"""
    in_loop: bool = False


@dataclass(frozen=True, kw_only=True)
class Instrumented:
    source: str
    runtime_source: str
    line_map: Mapping[int, int] = field(default_factory=dict)
    anchors: tuple[AnchorSpec, ...] = ()
    policy: AnchorPolicy = AnchorPolicy()

    def job(self, call: str | None, limits: Limits = Limits()) -> Job:  # noqa: B008 - frozen
        """The sandbox job that runs the runtime rendering: hits capped by the policy, and only
        a hit from its own anchor line counts (any other marks the run ``anchor_forged``)."""
        capped = dataclasses.replace(
            limits, max_anchor_hits=min(limits.max_anchor_hits, self.policy.max_hits)
        )
        return Job(
            code=self.runtime_source,
            call=call,
            limits=capped,
            anchors=True,
            anchor_lines=tuple(spec.line for spec in self.anchors),
        )


def instrument(code: str, policy: AnchorPolicy = AnchorPolicy()) -> Instrumented:  # noqa: B008
    """Insert anchors. Raises ``SyntaxError`` only when ``code`` itself does not parse."""
    tree = ast.parse(code)
    lines = code.splitlines()
    plan = _Planner(lines, policy, _free_name(code))
    plan.visit_block(tree.body, parent_line=0, in_loop=False)
    return plan.render()


def run_instrumented(
    inst: Instrumented,
    call: str | None,
    limits: Limits = Limits(),  # noqa: B008 - frozen
) -> ExecutionResult:
    """Run the runtime rendering in the sandbox; anchor hits come back in ``result.anchors``
    (``result.integrity`` says when the program forged or hid them)."""
    return run_job(inst.job(call, limits)).result


def _free_name(code: str) -> str:
    name = "_ret"
    while name in code:
        name += "_"
    return name


def _target_names(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Tuple | ast.List):
        return [n for elt in node.elts for n in _target_names(elt)]
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    if isinstance(node, ast.Subscript):
        root = node.value
        while isinstance(root, ast.Subscript | ast.Attribute):
            root = root.value
        return [root.id] if isinstance(root, ast.Name) else []
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return [f"{node.value.id}.{node.attr}"]
    return []


def _byte_col_to_char(line: str, col: int) -> int:
    return len(line.encode("utf-8")[:col].decode("utf-8", "replace"))


class _Planner:
    def __init__(self, lines: list[str], policy: AnchorPolicy, ret_name: str) -> None:
        self.lines = lines
        self.policy = policy
        self.ret = ret_name
        self.after: dict[int, list[tuple[str, str, int, bool]]] = {}  # line -> (indent, name, ...)
        self.returns: dict[int, ast.Return] = {}

    def visit_block(self, body: list[ast.stmt], parent_line: int, in_loop: bool) -> None:
        for stmt in body:
            self.visit_stmt(stmt, parent_line, in_loop)

    def visit_stmt(self, stmt: ast.stmt, parent_line: int, in_loop: bool) -> None:
        inline = stmt.lineno == parent_line  # `if x: y = 1` shares the header's line
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.visit_block(stmt.body, stmt.lineno, False)
            return
        if isinstance(stmt, ast.For | ast.AsyncFor | ast.While):
            self.visit_block(stmt.body, stmt.lineno, True)
            self.visit_block(stmt.orelse, stmt.lineno, in_loop)
            return
        if isinstance(stmt, ast.If):
            self.visit_block(stmt.body, stmt.lineno, in_loop)
            self.visit_block(stmt.orelse, stmt.lineno, in_loop)
            return
        if isinstance(stmt, ast.With | ast.AsyncWith):
            self.visit_block(stmt.body, stmt.lineno, in_loop)
            return
        if isinstance(stmt, ast.Try | ast.TryStar):
            self.visit_block(stmt.body, stmt.lineno, in_loop)
            for handler in stmt.handlers:
                self.visit_block(handler.body, handler.lineno, in_loop)
            self.visit_block(stmt.orelse, stmt.lineno, in_loop)
            self.visit_block(stmt.finalbody, stmt.lineno, in_loop)
            return
        if isinstance(stmt, ast.Match):
            for case in stmt.cases:
                self.visit_block(case.body, case.pattern.lineno, in_loop)
            return
        if inline:
            return
        if isinstance(stmt, ast.Return):
            if stmt.value is not None and stmt.end_lineno is not None:
                self.returns[stmt.lineno] = stmt
            return
        if in_loop and self.policy.loops == "none":
            return
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = list(stmt.targets)
        elif isinstance(stmt, ast.AugAssign) or (
            isinstance(stmt, ast.AnnAssign) and stmt.value is not None
        ):
            targets = [stmt.target]
        names = [n for t in targets for n in _target_names(t)]
        indent = self._indent(stmt.lineno)
        for name in dict.fromkeys(names):
            end = stmt.end_lineno or stmt.lineno
            self.after.setdefault(end, []).append((indent, name, stmt.lineno, in_loop))

    def _indent(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip())]

    def _anchor_lines(self, aid: int, indent: str, name: str, in_loop: bool) -> tuple[str, str]:
        limit = self.policy.k if in_loop and self.policy.loops == "first_k" else 0
        note = f"  # first {limit} iterations" if limit else ""
        display = f'{indent}print(f"{name}: {{{name}!r}}"){note}'
        runtime = f"{indent}{RUNTIME_HOOK}({aid}, {name!r}, {name}, {limit})"
        return display, runtime

    def render(self) -> Instrumented:
        shown: list[str] = []
        run: list[str] = []
        line_map: dict[int, int] = {}
        specs: list[AnchorSpec] = []
        i = 1
        while i <= len(self.lines):
            ret = self.returns.get(i)
            if ret is not None:
                i = self._emit_return(ret, shown, run, line_map, specs)
                continue
            line_map[i] = len(shown) + 1
            shown.append(self.lines[i - 1])
            run.append(self.lines[i - 1])
            for indent, name, orig, in_loop in self.after.get(i, ()):
                display, runtime = self._anchor_lines(len(specs), indent, name, in_loop)
                shown.append(display)
                run.append(runtime)
                specs.append(
                    AnchorSpec(
                        anchor_id=len(specs),
                        name=name,
                        line=len(shown),
                        orig_line=orig,
                        kind="assign",
                        in_loop=in_loop,
                    )  # fmt: skip
                )
            i += 1
        return Instrumented(
            source="\n".join(shown) + "\n",
            runtime_source="\n".join(run) + "\n",
            line_map=line_map,
            anchors=tuple(specs),
            policy=self.policy,
        )

    def _emit_return(self, ret: ast.Return, shown, run, line_map, specs) -> int:
        assert ret.value is not None and ret.end_lineno is not None
        first = self.lines[ret.lineno - 1]
        indent = self._indent(ret.lineno)
        ret_col = _byte_col_to_char(first, ret.col_offset)
        head, rest = first[:ret_col], first[ret_col + len("return") :]
        rewritten = [f"{head}{self.ret} = {rest.lstrip()}"]
        rewritten += self.lines[ret.lineno : ret.end_lineno]
        for k, text in enumerate(rewritten):
            line_map[ret.lineno + k] = len(shown) + 1
            shown.append(text)
            run.append(text)
        aid = len(specs)
        display = f'{indent}print(f"return: {{{self.ret}!r}}")'
        shown.append(display)
        run.append(f"{indent}{RUNTIME_HOOK}({aid}, 'return', {self.ret}, 0)")
        specs.append(
            AnchorSpec(
                anchor_id=aid,
                name="return",
                line=len(shown),
                orig_line=ret.lineno,
                kind="return",
                in_loop=False,
            )  # fmt: skip
        )
        shown.append(f"{indent}return {self.ret}")
        run.append(f"{indent}return {self.ret}")
        return ret.end_lineno + 1
