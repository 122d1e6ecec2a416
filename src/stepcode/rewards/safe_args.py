"""Predicted inputs: the arguments of exactly one call, checked against a whitelist, re-serialised.

A predicted input is accepted only as ``entry(<args>)`` where every argument is built from:

* literals and displays (``1``, ``-2.5``, ``'a'``, ``[..]``, ``(..)``, ``{..}``, ``set()``);
* the operators ``+ - * / // %``, comparisons, ``and``/``or``/``not``, ``x if c else y``,
  subscripts and slices (``'abc'[::-1]``);
* calls of a few pure builtins (``dict list tuple set frozenset range str int float bool len
  sorted reversed min max sum abs zip enumerate map filter chr ord round``) and of public methods
  (``'-'.join(...)``, ``'$78'.upper()``);
* ``lambda`` and comprehensions (their parameters become names inside them);
* names the trusted program defines at module level (CRUXEval sample_258 passes a global list).

Not accepted (``unsafe_expression``): any other name (``__import__``, ``exit``, ``globals``,
``type``, ``setattr``, the entry point itself), attributes starting with ``_``, ``**``, ``<<``,
walrus, ``*args``/``**kwargs``, f-strings, ``await``/``yield``. So a prediction cannot rebind the
entry point, patch builtins, exit the interpreter or build an object whose ``__eq__`` is always
true; resource attacks (``'a' * 1000000000``) are left to the sandbox's memory and time limits.

``literal_only=True`` accepts plain literals only (what output predictions must be). The accepted
call is re-serialised from its syntax tree (``ast.unparse``): model text is never pasted into a
check.
"""

from __future__ import annotations

import ast

MAX_CALL_CHARS = 20_000
MAX_NODES = 4_000

SAFE_BUILTINS = frozenset(
    ("dict", "list", "tuple", "set", "frozenset", "range", "str", "int", "float", "bool", "len",
     "sorted", "reversed", "min", "max", "sum", "abs", "zip", "enumerate", "map", "filter", "chr",
     "ord", "round", "True", "False", "None")
)  # fmt: skip
_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
_PLAIN = (
    ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp, ast.BoolOp,
    ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Load, ast.expr_context, ast.unaryop,
    ast.cmpop, ast.boolop, ast.Call, ast.Attribute, ast.Name, ast.Lambda, ast.arguments, ast.arg,
    ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, ast.comprehension, ast.keyword,
)  # fmt: skip


def module_names(code: str) -> frozenset[str]:
    """Names the trusted program binds at module level (functions, classes, assignments)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        for sub in ast.walk(node) if isinstance(node, ast.Assign | ast.AnnAssign) else ():
            if isinstance(sub, ast.Name):
                names.add(sub.id)
    return frozenset(names)


def check_call(
    call_text: str, entry: str, code: str = "", *, literal_only: bool = False
) -> tuple[str | None, str]:
    """``(re-serialised args, "ok")`` for an acceptable ``entry(...)`` call, else ``(None, reason)``.

    Reasons: ``too_long``, ``not_a_call`` (no single call of ``entry``), ``not_literal``
    (``literal_only`` and an argument is not a literal), ``unsafe_expression``.
    """
    if len(call_text) > MAX_CALL_CHARS:
        return None, "too_long"
    try:
        node = ast.parse(call_text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, "not_a_call"
    if not (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry
    ):
        return None, "not_a_call"
    args = [*node.args, *(k.value for k in node.keywords)]
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        return None, "unsafe_expression"
    try:
        if sum(1 for _ in ast.walk(node)) > MAX_NODES:
            return None, "too_long"
        if literal_only:
            if not all(_is_literal_node(a) for a in args):
                return None, "not_literal"
        else:
            allowed = (SAFE_BUILTINS | module_names(code)) - {entry}
            if not all(_safe(a, allowed, entry) for a in args):
                return None, "unsafe_expression"
        parts = [ast.unparse(a) for a in node.args]
        parts += [f"{k.arg}={ast.unparse(k.value)}" for k in node.keywords]
    except (RecursionError, MemoryError, ValueError):
        return None, "unsafe_expression"
    return ", ".join(parts), "ok"


def _is_literal_node(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _safe(node: ast.AST, names: frozenset[str], entry: str) -> bool:
    """Recursive whitelist walk; ``names`` grows inside lambdas and comprehensions."""
    if not isinstance(node, _PLAIN):
        return False
    if isinstance(node, ast.Name):
        return node.id in names and node.id != entry and isinstance(node.ctx, ast.Load)
    if isinstance(node, ast.Attribute):
        return not node.attr.startswith("_") and _safe(node.value, names, entry)
    if isinstance(node, ast.BinOp):
        return (
            isinstance(node.op, _OPS)
            and _safe(node.left, names, entry)
            and _safe(node.right, names, entry)
        )
    if isinstance(node, ast.Constant):
        return node.value is not Ellipsis
    if isinstance(node, ast.Call) and (
        any(isinstance(a, ast.Starred) for a in node.args)
        or any(k.arg is None for k in node.keywords)
    ):
        return False
    if isinstance(node, ast.Lambda):
        a = node.args
        if a.vararg or a.kwarg:
            return False
        params = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
        if any(p.startswith("_") or p == entry for p in params):
            return False
        inner = names | frozenset(params)
        defaults = [*a.defaults, *(d for d in a.kw_defaults if d is not None)]
        return all(_safe(d, names, entry) for d in defaults) and _safe(node.body, inner, entry)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        return _safe_comprehension(node, names, entry)
    return all(_safe(child, names, entry) for child in ast.iter_child_nodes(node))


def _safe_comprehension(node: ast.AST, names: frozenset[str], entry: str) -> bool:
    scope = names
    for gen in node.generators:  # type: ignore[attr-defined]
        if gen.is_async or not _safe(gen.iter, scope, entry):
            return False
        targets = [t for t in ast.walk(gen.target) if isinstance(t, ast.Name)]
        if not all(isinstance(t, ast.Name | ast.Tuple | ast.Store) for t in ast.walk(gen.target)):
            return False
        if any(t.id.startswith("_") or t.id == entry for t in targets):
            return False
        scope = scope | frozenset(t.id for t in targets)
        if not all(_safe(c, scope, entry) for c in gen.ifs):
            return False
    parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]  # type: ignore[attr-defined]
    return all(_safe(p, scope, entry) for p in parts)
