"""Attacks on REval's answer parsing: a state answer (model text) and a tracer repr (program text)
count only by their value, are read within bounds, and never run, raise or stall the scorer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepcode.eval.benchmarks import reval
from stepcode.eval.benchmarks import reval_answers as ra
from stepcode.eval.benchmarks import reval_literals as rl
from stepcode.types import VarState

LIMIT_S = 2.0
"""far above what any of these takes (milliseconds); a parse that evaluates would take minutes"""

HOSTILE_VALUES = [
    " + ".join(["bytes(100000000)"] * 2000),  # the long bytes(...) sum REval would evaluate
    " + ".join(["b'aaaaaaaaaa'"] * 20000),
    "b'a' * 10**10",
    "bytearray(10**10)",
    "bytearray(99999999999)",
    "bytearray([0] * 10**9)",
    "9**9**9**9",
    "10**10**10",
    "2**100000000",
    "[" * 50_000 + "]" * 50_000,
    "(" * 5000 + "1" + ")" * 5000,
    "{'a': " * 3000 + "1" + "}" * 3000,
    "().__class__.__base__.__subclasses__()",
    "(lambda: 0).__globals__",
    "(g for g in ()).gi_frame.f_globals['__builtins__']",
    "[c for c in ().__class__.__mro__[1].__subclasses__()]",
    "__import__('os').system('touch /tmp/reval_pwned')",
    "globals()",
    "open('/etc/passwd').read()",
    "f'{().__class__}'",
    "'{0.__class__}'.format(1)",
    "type('X', (), {'__eq__': lambda s, o: True})()",
    "float('1e999999999')",
    "\x00\x1b[2J",
]
TYPES = ["int", "str", "list", "bytes", "bytearray", "dict", "tuple", "numpy.ndarray",
         "numpy.memmap", "collections.deque", "datetime.datetime", "float"]  # fmt: skip


def _timed(fn, *args):  # noqa: ANN001, ANN202
    t = time.perf_counter()
    out = fn(*args)
    assert time.perf_counter() - t < LIMIT_S, (fn.__name__, str(args)[:80])
    return out


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=lambda v: v[:30])
def test_hostile_state_answers_are_wrong_quickly(value: str) -> None:
    actual = [VarState(repr="1", type="int"), VarState(repr="'x'", type="str")]
    for typ in TYPES:
        ans = _timed(ra.parse_state, f"{value}; {typ}\n[/ANSWER]", False)
        assert ans == ra.ERROR or isinstance(ans, tuple)
        if isinstance(ans, tuple) and "." not in typ and typ != "str":  # a literal, never code
            assert rl.literal(value)[0] or rl.constructed(value, rl.ANSWER_CONSTRUCTORS)[0]
        if typ == "collections.deque" and isinstance(ans, tuple):  # REval's T(text) fallback
            assert ans[0] == __import__("collections").deque(value)
        for mode in ("official", "strict"):
            assert not _timed(ra.state_equal, ans, actual, mode)


def test_hostile_types_and_lengths_are_bounded() -> None:
    for resp in (
        "1; " + "[" * 500_000,
        "1; <class '" + "a" * 1_000_000 + "'>",
        "x" * 1_000_000 + "; datetime.datetime",
        "1" * 200_000 + "; int",
        "[ANSWER]" * 100_000,
        ";" * 1_000_000,
    ):
        assert _timed(ra.parse_state, resp, False) == ra.ERROR, resp[:40]


def test_answers_are_values_not_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"__import__('pathlib').Path({str(marker)!r}).touch() or 1; int"
    assert ra.parse_state(text, False) == ra.ERROR and not marker.exists()
    assert ra.parse_state("1 + 1; int", False) == ra.ERROR  # REval evaluates it; we never do
    assert ra.parse_state("bytearray(b'ab'); bytearray", False) == (bytearray(b"ab"), "bytearray")
    assert ra.parse_state("len; str", False) == ra.ERROR  # REval's eval gives the builtin
    assert ra.parse_state("hello; str", False) == ("hello", "str")


@pytest.mark.parametrize(
    "text",
    ["bytearray(10**9)", "bytearray(999999999999)", "deque([0] * 10**9)", "array([" * 20_000,
     "datetime.datetime(*range(10**9))", "np.float64(" + "9" * 100_000 + ")",
     "Box(__import__('os').system('x'))", "array([1, 2], dtype=__import__('os'))",
     "deque(maxlen=10**12)", "<object at 0x1>"],
    ids=lambda v: v[:30],
)  # fmt: skip
def test_hostile_tracer_reprs_have_no_value(text: str) -> None:
    """A program's ``__repr__`` can print anything: it is read by the same bounded rules."""
    ok, _ = _timed(rl.actual_value, text)
    assert not ok
    assert not _timed(ra.state_equal, (1, "int"), [VarState(repr=text, type="int")], "official")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(["(", ")", "[", "]", "{", "}", ",", ":", ".", "__class__", "__globals__",
                         "lambda", "x", "for", "in", "**", "*", "+", "9", "10", "b'a'", "'s'",
                         "bytes", "bytearray", "deque", "array", "np.float64", "datetime.datetime",
                         "set", "frozenset", "float", "range", "()", "f'", "{0}", ";", "\\", "#"]),
        max_size=60,
    ),
    st.sampled_from(TYPES),
)  # fmt: skip
def test_any_answer_text_parses_within_bounds(parts: list[str], typ: str) -> None:
    text = " ".join(parts)
    ans = _timed(ra.parse_state, f"[ANSWER]{text}; {typ}[/ANSWER]", False)
    assert ans in (ra.ERROR, ra.NIL) or isinstance(ans, tuple)
    actual = [VarState(repr=text, type=typ.rsplit(".", 1)[-1]), VarState(repr="[1]", type="list")]
    for mode in ("official", "strict"):
        _timed(ra.state_equal, ans, actual, mode)
    _timed(rl.actual_value, text)


def test_hostile_answers_through_the_scorer(reval_dir: Path) -> None:
    """A batch of hostile state answers scores 0 % and comes back whole."""
    pairs, _ = reval.load_reval(reval_dir, limit=2)
    traces = reval.trace_items(pairs)
    gens = {
        p.pair_id: [f"{HOSTILE_VALUES[i % len(HOSTILE_VALUES)]}; int" for i in range(len(p.questions))]
        for p in pairs
    }  # fmt: skip
    t = time.perf_counter()
    summary, results = reval.score_reval(pairs, traces, {"state": gens})
    assert time.perf_counter() - t < 30.0
    assert summary["state_acc"] == 0.0 and len(results) == sum(len(p.questions) for p in pairs)
