"""Code-generation cases several test files share (imported by module name: pytest puts ``tests/``
on the path through its conftest, and a package named ``tests`` may already exist in site-packages)."""

from __future__ import annotations

MBPP_ROWS = [
    {"task_id": 11, "text": "Write a python function to remove first and last occurrence of a "
     "given character from the string.", "code": "def remove_Occ(s,ch): \r\n    for i in "
     "range(len(s)): \r\n        if (s[i] == ch): \r\n            s = s[0 : i] + s[i + 1:] "
     "\r\n            break\r\n    for i in range(len(s) - 1,-1,-1):  \r\n        if (s[i] == ch):"
     " \r\n            s = s[0 : i] + s[i + 1:] \r\n            break\r\n    return s ",
     "test_list": ['assert remove_Occ("hello","l") == "heo"',
                   'assert remove_Occ("abcda","a") == "bcd"', 'assert remove_Occ("PHP","P") == "H"'],
     "test_setup_code": "", "challenge_test_list": []},
    {"task_id": 17, "text": "Write a function to find the perimeter of a square.",
     "code": "def square_perimeter(a):\r\n  perimeter=4*a\r\n  return perimeter",
     "test_list": ["assert square_perimeter(10)==40", "assert square_perimeter(5)==20",
                   "assert math.isclose(square_perimeter(4.5), 18.0)"],
     "test_setup_code": "import math", "challenge_test_list": []},
]  # fmt: skip

CODEGEN_COMPLETIONS = ["<answer>\ndef f(x):\n    return x + 1\n</answer>",
                       "<answer>\ndef f(x):\n    return 2\n</answer>", "def f(x): return x"]  # fmt: skip


def codegen_task():
    from stepcode.tasks.codegen import make_codegen_task
    from stepcode.types import UnitTest

    return make_codegen_task(
        task_id="t", problem="def f(x):\n    \"\"\"x + 1\"\"\"\n", entry_point="f",
        tests=[UnitTest(args="1", expected="2"), UnitTest(args="5", expected="6")],
        solution="def f(x):\n    return x + 1\n", template="compact",
    )  # fmt: skip
