"""Candidate inputs for real code: type-directed random values and mutations of an example.

Types come, in order, from the parameter annotations (``int``, ``str``, ``list[int]``, ...), from
the example input's values, then from parameter-name heuristics (``s``/``text`` -> str,
``nums``/``arr`` -> list[int], ...). Mutation perturbs an example input (ints +-, characters
swapped, list items dropped/added/shuffled). Values use ExecVerify's ranges by default
(``size="paper"``). Nothing here executes code: ``synth.verify_programs`` keeps the candidates
that run OK, deterministically, with a literal-round-tripping output.
"""

from __future__ import annotations

import ast
import random
import string
from collections.abc import Sequence

from stepcode.data.synth import Size, random_value, render_args

_ANNOTATIONS = {
    "int": "int", "float": "float", "str": "str", "bool": "bool", "list": "lint",
    "list[int]": "lint", "List[int]": "lint", "list[str]": "lstr", "List[str]": "lstr",
    "dict": "dict", "dict[str, int]": "dict", "Dict[str, int]": "dict", "set": "set",
    "set[int]": "set", "tuple": "tuple", "tuple[int, ...]": "tuple", "list[float]": "lint",
}  # fmt: skip
_NAMES = {
    "str": ("s", "st", "string", "text", "word", "name", "line", "sentence", "chars", "prefix"),
    "int": ("n", "k", "m", "num", "number", "x", "i", "j", "count", "size", "index", "start"),
    "lint": ("nums", "arr", "array", "lst", "l", "a", "numbers", "values", "xs", "data", "items"),
    "lstr": ("words", "strings", "names", "strs", "lines", "tokens"),
    "dict": ("d", "dic", "dct", "mapping", "counts", "table"),
}


def function_params(code: str, entry_point: str) -> list[tuple[str, str | None]]:
    """``(name, annotation text or None)`` of the entry point's positional parameters."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            args = node.args.posonlyargs + node.args.args
            return [(a.arg, ast.unparse(a.annotation) if a.annotation else None) for a in args]
    return []


def _kind_of_value(v: object) -> str | None:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, list):
        return "lstr" if v and all(isinstance(x, str) for x in v) else "lint"
    if isinstance(v, dict):
        return "dict"
    if isinstance(v, set):
        return "set"
    if isinstance(v, tuple):
        return "tuple"
    return None


def param_kinds(code: str, entry_point: str, example: Sequence[object] | None = None) -> list[str]:
    """One generator kind per parameter (annotation, else example value, else name, else int)."""
    kinds = []
    for i, (name, ann) in enumerate(function_params(code, entry_point)):
        kind = _ANNOTATIONS.get(ann or "")
        if kind is None and example is not None and i < len(example):
            kind = _kind_of_value(example[i])
        if kind is None:
            kind = next((k for k, names in _NAMES.items() if name.lower() in names), "int")
        kinds.append(kind)
    return kinds


def parse_args(input_args: str) -> list[object] | None:
    """The literal values of a CRUXEval argument text, or None when it is not all literals."""
    try:
        value = ast.literal_eval(f"({input_args},)") if input_args.strip() else ()
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    return list(value)


def mutate_value(v: object, rng: random.Random) -> object:
    """A small random perturbation of one literal value (same type)."""
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return v + rng.choice((-3, -2, -1, 1, 2, 3))
    if isinstance(v, float):
        return round(v + rng.uniform(-2, 2), 2)
    if isinstance(v, str):
        chars = list(v) or ["a"]
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.4:
            chars[i] = rng.choice(string.ascii_letters)
        elif op < 0.7:
            chars.insert(i, rng.choice(string.ascii_lowercase))
        elif len(chars) > 1:
            del chars[i]
        return "".join(chars)
    if isinstance(v, list | tuple):
        items = list(v)
        op = rng.random()
        if items and op < 0.35:
            i = rng.randrange(len(items))
            items[i] = mutate_value(items[i], rng)
        elif items and op < 0.55:
            del items[rng.randrange(len(items))]
        elif op < 0.8:
            items.append(mutate_value(items[-1], rng) if items else rng.randint(0, 9))
        else:
            rng.shuffle(items)
        return type(v)(items)
    if isinstance(v, dict) and v:
        key = rng.choice(sorted(v, key=repr))
        return {**v, key: mutate_value(v[key], rng)}
    if isinstance(v, set) and v:
        return set(mutate_value(sorted(v, key=repr), rng))  # type: ignore[arg-type]
    return v


def candidate_inputs(
    code: str,
    entry_point: str,
    example: str | None,
    n: int,
    rng: random.Random,
    size: Size = "paper",
) -> list[str]:
    """Up to ``n`` distinct argument texts: the example first, then mutations and random values."""
    values = parse_args(example) if example else None
    kinds = param_kinds(code, entry_point, values)
    out: list[str] = [example] if example and values is not None else []
    for i in range(n * 3):
        if len(out) >= n:
            break
        if values is not None and i % 2 == 0:
            args = [mutate_value(v, rng) if rng.random() < 0.7 else v for v in values]
        else:
            args = [
                random_value(k, rng, size) if k != "bool" else rng.random() < 0.5 for k in kinds
            ]
        text = render_args(args)
        if text not in out:
            out.append(text)
    return out
