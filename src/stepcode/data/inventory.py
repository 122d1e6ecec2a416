"""The operation inventory the synthesizer draws from (ExecVerify's method lists, as typed rules).

Each ``Op`` is a template over typed holes: ``{0}``, ``{1}`` are operands of the listed types,
``{c}`` a short string constant, ``{k}`` a small int constant. ``family`` groups the operations
of one builtin type; a level-1 program uses one family's "test method" only.
"""

from __future__ import annotations

from dataclasses import dataclass

# value types the generator knows; "lint" = list[int], "lstr" = list[str], "dict" = dict[str, int]
TYPES = ("str", "int", "float", "lint", "lstr", "dict", "set", "tuple", "bool")


@dataclass(frozen=True)
class Op:
    template: str
    args: tuple[str, ...]
    result: str
    family: str


def _ops(family: str, rows: list[tuple[str, tuple[str, ...], str]]) -> list[Op]:
    return [Op(t, a, r, family) for t, a, r in rows]


# fmt: off
INVENTORY: tuple[Op, ...] = tuple(
    _ops("str", [
        ("{0}.upper()", ("str",), "str"),
        ("{0}.lower()", ("str",), "str"),
        ("{0}.capitalize()", ("str",), "str"),
        ("{0}.swapcase()", ("str",), "str"),
        ("{0}.title()", ("str",), "str"),
        ("{0}.strip({c})", ("str",), "str"),
        ("{0}.lstrip({c})", ("str",), "str"),
        ("{0}.rstrip({c})", ("str",), "str"),
        ("{0}.replace({c}, {c2})", ("str",), "str"),
        ("{0}[::-1]", ("str",), "str"),
        ("{0}[{k}:]", ("str",), "str"),
        ("{0}[:{k}]", ("str",), "str"),
        ("{0} + {1}", ("str", "str"), "str"),
        ("{0} + {c}", ("str",), "str"),
        ("{0} * {k}", ("str",), "str"),
        ("{0}.zfill({k2})", ("str",), "str"),
        ("{0}.center({k2}, {c1})", ("str",), "str"),
        ("{0}.ljust({k2}, {c1})", ("str",), "str"),
        ("{0}.count({c1})", ("str",), "int"),
        ("{0}.find({c1})", ("str",), "int"),
        ("len({0})", ("str",), "int"),
        ("{0}.split({c1})", ("str",), "lstr"),
        ("{0}.startswith({c1})", ("str",), "bool"),
        ("{0}.endswith({c1})", ("str",), "bool"),
        ("{0}.isalpha()", ("str",), "bool"),
        ("{0}.isdigit()", ("str",), "bool"),
        ("{0}.islower()", ("str",), "bool"),
    ])
    + _ops("lint", [
        ("sorted({0})", ("lint",), "lint"),
        ("sorted({0}, reverse=True)", ("lint",), "lint"),
        ("{0}[::-1]", ("lint",), "lint"),
        ("{0}[{k}:]", ("lint",), "lint"),
        ("{0}[:{k}]", ("lint",), "lint"),
        ("{0} + {1}", ("lint", "lint"), "lint"),
        ("{0} + [{k}]", ("lint",), "lint"),
        ("{0} * 2", ("lint",), "lint"),
        ("sum({0})", ("lint",), "int"),
        ("len({0})", ("lint",), "int"),
        ("{0}.count({k})", ("lint",), "int"),
        ("max({0} + [{k}])", ("lint",), "int"),
        ("min({0} + [{k}])", ("lint",), "int"),
        ("list(reversed({0}))", ("lint",), "lint"),
        ("[x * {k} for x in {0}]", ("lint",), "lint"),
        ("[x for x in {0} if x % 2 == 0]", ("lint",), "lint"),
        ("list(filter(lambda x: x > {k}, {0}))", ("lint",), "lint"),
        ("list(range({k}))", (), "lint"),
        ("set({0})", ("lint",), "set"),
        ("tuple({0})", ("lint",), "tuple"),
        ("{k} in {0}", ("lint",), "bool"),
    ])
    + _ops("int", [
        ("{0} + {k}", ("int",), "int"),
        ("{0} - {k}", ("int",), "int"),
        ("{0} * {k}", ("int",), "int"),
        ("{0} // {k}", ("int",), "int"),
        ("{0} % {k}", ("int",), "int"),
        ("{0} + {1}", ("int", "int"), "int"),
        ("abs({0} - {k})", ("int",), "int"),
        ("max({0}, {k})", ("int",), "int"),
        ("min({0}, {1})", ("int", "int"), "int"),
        ("str({0})", ("int",), "str"),
        ("{0} > {k}", ("int",), "bool"),
        ("{0} % 2 == 0", ("int",), "bool"),
        ("divmod({0}, {k})", ("int",), "tuple"),
        ("float({0})", ("int",), "float"),
    ])
    + _ops("float", [
        ("round({0} * {k}, 1)", ("float",), "float"),
        ("{0} / 2", ("float",), "float"),
        ("int({0})", ("float",), "int"),
        ("abs({0})", ("float",), "float"),
        ("{0}.is_integer()", ("float",), "bool"),
    ])
    + _ops("lstr", [
        ("sorted({0})", ("lstr",), "lstr"),
        ("{c1}.join({0})", ("lstr",), "str"),
        ("len({0})", ("lstr",), "int"),
        ("[w.upper() for w in {0}]", ("lstr",), "lstr"),
        ("{0}[::-1]", ("lstr",), "lstr"),
        ("{0} + [{c}]", ("lstr",), "lstr"),
    ])
    + _ops("dict", [
        ("{0}.get({c1}, {k})", ("dict",), "int"),
        ("sorted({0})", ("dict",), "lstr"),
        ("list({0}.values())", ("dict",), "lint"),
        ("len({0})", ("dict",), "int"),
        ("{c1} in {0}", ("dict",), "bool"),
        ("dict(zip({1}, {2}))", ("dict", "lstr", "lint"), "dict"),
        ("{{**{0}, {c1}: {k}}}", ("dict",), "dict"),
    ])
    + _ops("set", [
        ("sorted({0})", ("set",), "lint"),
        ("len({0})", ("set",), "int"),
        ("{0} | {{{k}}}", ("set",), "set"),
        ("{0} - {{{k}}}", ("set",), "set"),
        ("{k} in {0}", ("set",), "bool"),
    ])
    + _ops("tuple", [
        ("{0} + ({k},)", ("tuple",), "tuple"),
        ("{0}[::-1]", ("tuple",), "tuple"),
        ("len({0})", ("tuple",), "int"),
        ("{0}.count({k})", ("tuple",), "int"),
        ("list({0})", ("tuple",), "lint"),
    ])
)
# fmt: on

# in-place mutations usable as statements: (template, target type)
MUTATIONS: tuple[tuple[str, str], ...] = (
    ("{0}.append({k})", "lint"),
    ("{0}.insert(0, {k})", "lint"),
    ("{0}.reverse()", "lint"),
    ("{0}.sort()", "lint"),
    ("{0}.extend([{k}, {k2}])", "lint"),
    ("{0}.append({c})", "lstr"),
    ("{0}[{c1}] = {k}", "dict"),
    ("{0}.add({k})", "set"),
    ("{0}.discard({k})", "set"),
)

FAMILIES = ("str", "lint", "int", "lstr", "dict", "set", "tuple", "float")

# the tiny-model regime's level 1 ("small" size): operations a from-scratch model of ~1M
# parameters can learn to execute in minutes; every level >= 2 and the "paper" size use all
CORE: frozenset[str] = frozenset({
    "{0}.upper()", "{0}.lower()", "{0}[::-1]", "{0} + {c}", "{0} + {1}", "len({0})",
    "{0}.count({c1})", "{0}[{k}:]", "{0}[:{k}]",
    "sorted({0})", "{0} + [{k}]", "sum({0})", "max({0} + [{k}])", "min({0} + [{k}])",
    "{0} + {k}", "{0} - {k}", "{0} * {k}", "max({0}, {k})",
})  # fmt: skip
