"""The unit-test judge: right solutions pass, wrong ones fail, hostile ones score 0 and the batch
around them comes back whole; io tests and code tests (HumanEval style) alike."""

from __future__ import annotations

import time

import pytest

from stepcode.rewards.codegen import score_codegen_batch
from stepcode.rewards.unit_tests import Submission, judge
from stepcode.tasks.codegen import make_codegen_task
from stepcode.types import Limits, UnitTest

PROMPT = '''def double(x):
    return 2 * x


def shout(word: str, n: int) -> str:
    """Return word in capitals followed by double(n) exclamation marks."""
'''
CANONICAL = "    return word.upper() + '!' * double(n)\n"
# every expected value goes through the helper, so rebinding it would fool an in-process harness
TEST = """

METADATA = {}


def check(candidate):
    assert candidate('hi', 1) == 'HI' + '!' * double(1)
    assert candidate('XYZZY', 3) == 'XYZZY!!!!!!'
    assert candidate('a', 2) == 'A' + '!' * double(2)
"""
CODE_TESTS = (UnitTest(kind="code", code=TEST, call="check(shout)"),)
IO_TESTS = (
    UnitTest(args="'hi', 1", expected="'HI!!'"),
    UnitTest(args="'XYZZY', 3", expected="'XYZZY!!!!!!'"),
    UnitTest(args="'a', 2", expected="'A!!!!'"),
)
LIMITS = Limits(timeout_s=1.5, memory_mb=256)

HOSTILE = {
    "exit_at_import": "    return word\nimport sys\nsys.exit(0)\n",
    "exit_in_call": "    import sys\n    sys.exit(0)\n",
    "os_exit": "    import os\n    os._exit(0)\n",
    "raise_systemexit_ok": "    raise SystemExit(0)\n",
    "patch_assertion_error": (
        "    return None\nimport builtins\nbuiltins.AssertionError = type('E', (Exception,), {})\n"
    ),
    "always_equal": (
        "    class Yes(str):\n        def __eq__(self, o): return True\n"
        "        def __ne__(self, o): return False\n"
        "        def __repr__(self): return 'Yes()'\n"
        "    return Yes()\n"
    ),
    "rebind_helper": "    return word.upper()\ndouble = lambda x: 0\n",
    "rebind_check": (
        "    return word\nimport builtins\nbuiltins.check = lambda c: None\n"
        "def check(candidate):\n    pass\n"
    ),
    "forge_result_fd": (
        "    return word\nimport os, json\n"
        "os.write(3, json.dumps({'status': 'ok', 'anchors': [[0, 'value', \"'HI!!'\"]]}).encode())\n"
        "os._exit(0)\n"
    ),
    # looks for the run's nonce up the stack and writes a well-formed result frame claiming
    # values: refused (a crash) when the nonce is not the run's; were it accepted, it would carry
    # only "the solution's outputs", judged like any
    "forge_result_with_nonce": (
        "    import sys, os, json\n    f, nonce = sys._getframe(), None\n"
        "    while f is not None and nonce is None:\n"
        "        nonce, f = f.f_locals.get('nonce'), f.f_back\n"
        "    hits = [[i, 'value', repr('PASS')] for i in range(8)]\n"
        "    os.write(3, json.dumps({'status': 'ok', 'error': None, 'return_value': None,\n"
        "                            'nonce': nonce, 'anchors': hits}).encode())\n"
        "    os._exit(0)\n"
    ),
    "forge_anchor_channel": (
        "    return word\nfor i in range(50):\n    __stepcode_anchor__(i, 'value', 'PASS')\n"
    ),
    "print_pass_markers": (
        "    print('passed'); print('[PASS]'); print('{\"status\": \"ok\"}')\n    return word\n"
    ),
    "delete_files": (
        "    import os, glob\n"
        "    for p in glob.glob('/tmp/**', recursive=True) + glob.glob('*'):\n"
        "        try:\n            os.remove(p)\n        except OSError:\n            pass\n"
        "    return word\n"
    ),
    "read_the_test_in_memory": (
        "    import gc\n"
        "    for o in gc.get_objects():\n"
        "        for c in getattr(getattr(o, '__code__', None), 'co_consts', ()) or ():\n"
        "            if isinstance(c, str) and c.startswith('XYZZY!'):\n"
        "                return c\n"
        "    return word.lower()\n"
    ),
    "sleep_forever": "    import time\n    time.sleep(10 ** 6)\n",
    "spin_forever": "    while True:\n        pass\n",
    "allocate_forever": "    x = []\n    while True:\n        x.append('a' * 10 ** 6)\n",
    "syntax_error": "    return (\n",
    "wrong_answer": "    return word.upper() + '!' * n\n",
}


def _sub(completion: str, tests: tuple[UnitTest, ...]) -> Submission:
    return Submission(program=PROMPT + completion, entry_point="shout", tests=tests,
                      context=PROMPT, reference=PROMPT + CANONICAL)  # fmt: skip


@pytest.mark.parametrize("tests", [CODE_TESTS, IO_TESTS], ids=["code", "io"])
def test_hostile_solutions_score_zero_and_the_batch_comes_back_whole(tests) -> None:
    names = ["canonical", *HOSTILE, "canonical_again"]
    comps = [CANONICAL, *HOSTILE.values(), CANONICAL]
    t0 = time.monotonic()
    results = judge([_sub(c, tests) for c in comps], limits=LIMITS)
    assert time.monotonic() - t0 < 60
    assert len(results) == len(comps)
    by_name = dict(zip(names, results, strict=True))
    assert all(r.passed for r in by_name.pop("canonical"))
    assert all(r.passed for r in by_name.pop("canonical_again"))
    for name, res in by_name.items():
        assert len(res) == len(tests), name
        # "read_the_test_in_memory" finds no expected value in its process: it answers lower case
        assert not any(r.passed for r in res), (name, res)


def test_failure_reasons_say_what_happened() -> None:
    # one huge allocation fails at once (a slow climb may meet the wall clock first on a busy host)
    huge = "    return 'a' * (1 << 40)\n"
    res = judge([_sub(c, IO_TESTS) for c in (HOSTILE["spin_forever"], huge, HOSTILE["wrong_answer"],
                 HOSTILE["always_equal"], HOSTILE["exit_in_call"])], limits=LIMITS)  # fmt: skip
    assert res[0][0].reason == "exec_timeout", res
    assert res[1][0].reason in ("exec_memory", "raised:MemoryError"), res
    assert [r.reason for r in res[2]] == ["wrong_value", "wrong_value", "wrong_value"]
    assert res[3][0].reason == "not_a_value", res
    assert res[4][0].reason == "no_result", res


def test_code_test_runs_calls_in_one_process_like_the_official_harness() -> None:
    # a solution with state across calls is right on the first call only: the test fails
    stateful = "    global SEEN\n    SEEN += 1\n    return word.upper() + '!' * double(n) * SEEN\n"
    res = judge([_sub(stateful + "SEEN = 0\n", CODE_TESTS)], limits=LIMITS)
    assert not res[0][0].passed and res[0][0].reason == "test_failed"


def test_adaptive_tests_and_tests_without_a_reference() -> None:
    # the second call's argument is the first call's result: a wrong first answer changes the
    # calls the test makes, found in a second round
    ctx = 'def inc(x: int) -> int:\n    """x + 1"""\n'
    test = "def check(candidate):\n    y = candidate(1)\n    assert candidate(y) == 3\n"
    tests = (UnitTest(kind="code", code=test, call="check(inc)"),)
    right, wrong = ctx + "    return x + 1\n", ctx + "    return x + 2\n"
    for reference in (right, None):
        subs = [Submission(program=p, entry_point="inc", tests=tests, context=ctx,
                           reference=reference) for p in (right, wrong)]  # fmt: skip
        res = judge(subs, limits=LIMITS)
        assert res[0][0].passed and not res[1][0].passed, (reference, res)


def test_unseeded_random_tests_ask_for_the_same_calls() -> None:
    ctx = 'def add(x: int, y: int) -> int:\n    """x + y"""\n'
    test = ("def check(candidate):\n    import random\n    for _ in range(50):\n"
            "        x, y = random.randint(0, 99), random.randint(0, 99)\n"
            "        assert candidate(x, y) == x + y\n")  # fmt: skip
    tests = (UnitTest(kind="code", code=test, call="check(add)"),)
    subs = [Submission(program=ctx + body, entry_point="add", tests=tests, context=ctx,
                       reference=ctx + "    return x + y\n")
            for body in ("    return x + y\n", "    return x + y if x < 90 else 0\n")]  # fmt: skip
    res = judge(subs, limits=LIMITS)
    assert res[0][0].passed and res[0][0].reason == "passed"
    assert not res[1][0].passed


def _task(tests: tuple[UnitTest, ...]):
    return make_codegen_task(task_id="t", problem=PROMPT, entry_point="shout", tests=tests,
                             context=PROMPT, solution=PROMPT + CANONICAL)  # fmt: skip


def test_reward_scalar_is_fraction_passed_plus_format_bonus_and_zero_is_a_score() -> None:
    task = _task(IO_TESTS)
    fn = "def shout(word, n):\n    return word.upper() + '!' * {}\n"
    comps = [
        f"<answer>\n```python\n{fn.format('double(n)')}```\n</answer>",  # all pass
        f"<answer>\n```python\n{fn.format('(n + 1)')}```\n</answer>",  # 1 of 3
        "<answer>\n```python\ndef shout(word, n):\n    return 0\n```\n</answer>",  # none
        "no answer at all",
        f"```python\n{fn.format('double(n)')}```",  # right code, no answer tags
    ]
    rewards = score_codegen_batch([task] * len(comps), comps, format_bonus=0.05, limits=LIMITS)
    assert [r.outcome for r in rewards] == [1.0, 0.0, 0.0, 0.0, 1.0]  # all tests pass or not
    assert [round(r.scalar, 4) for r in rewards] == [1.05, 0.3833, 0.05, 0.0, 1.0]
    assert [r.format_ok for r in rewards] == [True, True, True, False, False]
    assert rewards[2].reason == "wrong_value" and rewards[3].reason == "no_answer_block"
