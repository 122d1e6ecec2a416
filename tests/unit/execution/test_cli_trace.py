"""`stepcode trace` / `instrument` / `doctor` as a user runs them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from stepcode.cli import get_app

runner = CliRunner()
PROGRAM = "def f(n):\n    acc = []\n    for i in range(n):\n        acc.append(i)\n    print('acc: [7]')\n    return acc\n"


def test_trace_json_has_the_documented_keys(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM)
    res = runner.invoke(
        get_app(), ["trace", str(prog), "--call", "f(2)", "--anchors", "every", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "ok" and out["return_value"] == "[0, 1]" and out["error"] is None
    assert out["anchors"] == [{"name": "acc", "value": "[]"}, {"name": "return", "value": "[0, 1]"}]
    assert out["coverage"] == [2, 3, 4, 5, 6]  # with --call only the call is traced (REval)
    assert out["next"]["3"] == [4, 5] and out["next"]["6"] == [-1]
    assert out["truncated"] is False and out["duration_s"] > 0


def test_trace_without_call_runs_the_module(tmp_path):
    prog = tmp_path / "m.py"
    prog.write_text("x = 1\nwhile True:\n    x += 1\n")
    res = runner.invoke(get_app(), ["trace", str(prog), "--timeout", "0.5", "--json"])
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert out["status"] == "timeout" and out["truncated"] is True


def test_a_raising_program_is_judged_with_exit_0(tmp_path):
    prog = tmp_path / "r.py"
    prog.write_text("def f(xs):\n    t = 0\n    for x in xs:\n        t += 10 // x\n    return t\n")
    res = runner.invoke(
        get_app(), ["trace", str(prog), "--call", "f([1, 0])", "--anchors", "first_k:1", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "error" and out["error"].startswith("ZeroDivisionError")
    assert out["return_value"] is None
    assert out["anchors"] == [{"name": "t", "value": "0"}, {"name": "t", "value": "10"}]
    assert out["coverage"] == [2, 3, 4] and out["next"]["4"] == [-1, 3]


def test_trace_human_rendering(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM.replace("'acc: [7]'", "'[bold]x'"))
    res = runner.invoke(get_app(), ["trace", str(prog), "--call", "f(1)", "--anchors", "every"])
    assert res.exit_code == 0 and "status" in res.stdout and "coverage" in res.stdout
    assert "print('[bold]x')" in res.stdout  # program text is shown as written, never as markup
    assert "acc=[0]" in res.stdout  # the states table


def test_bad_operator_input_exits_2(tmp_path):
    res = runner.invoke(get_app(), ["trace", str(tmp_path / "missing.py")])
    assert res.exit_code == 2
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM)
    res = runner.invoke(get_app(), ["trace", str(prog), "--call", "f((1"])
    assert res.exit_code == 2
    res = runner.invoke(get_app(), ["trace", str(prog), "--anchors", "sometimes"])
    assert res.exit_code == 2


def test_instrument_prints_the_anchored_program(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM)
    res = runner.invoke(get_app(), ["instrument", str(prog), "--anchors", "none"])
    assert res.exit_code == 0
    assert 'print(f"acc: {acc!r}")' in res.stdout and "_ret = acc" in res.stdout
    compile(res.stdout, "shown", "exec")


def test_doctor_reports_isolation_layers():
    res = runner.invoke(get_app(), ["doctor"])
    assert res.exit_code == 0
    assert "sandbox: network_namespace" in res.stdout and "python" in res.stdout


LONG = (
    "def largest_prime_factor(n):\n"
    "    def is_prime(k):\n"
    "        for j in range(2, k - 1):\n"
    "            if k % j == 0:\n"
    "                return False\n"
    "        return k >= 2\n"
    "    largest = 1\n"
    "    for j in range(2, n + 1):\n"
    "        if n % j == 0 and is_prime(j):\n"
    "            largest = max(largest, j)\n"
    "    return largest\n"
)


def test_the_step_bound_is_a_flag_and_a_cut_trace_says_so(tmp_path):
    prog = tmp_path / "lpf.py"
    prog.write_text(LONG)
    call = ["trace", str(prog), "--call", "largest_prime_factor(13195)"]
    cut = runner.invoke(get_app(), [*call, "--max-steps", "500"])
    assert cut.exit_code == 0, cut.output
    assert "trace cut by the step bound: 500 states (--max-steps)" in " ".join(cut.stdout.split())
    whole = runner.invoke(get_app(), [*call, "--max-steps", "200000", "--json"])
    out = json.loads(whole.stdout)
    assert out["status"] == "ok" and out["return_value"] == "29"
    assert out["truncated"] is False and out["cut"] is None and out["max_steps"] == 200000
    assert runner.invoke(get_app(), [*call, "--max-steps", "0"]).exit_code == 2


HOSTILE = (
    "class R:\n"
    "    def __repr__(self):\n"
    "        return '\\x1b[2J[bold red]repr\\u202e\\x07'\n"
    "def f():\n"
    "    print('\\x1b]0;pwned\\x07\\x1b[2J\\rout')\n"
    "    r = R()\n"
    "    raise type('\\x1b[31mBoom', (Exception,), {})('\\x1b[2Jerr\\r\\x9b')\n"
)
RAW = ("\x1b", "\x07", "\r", "\u202e", "\x9b")


def test_terminal_escapes_from_a_program_never_reach_the_terminal(tmp_path):
    prog = tmp_path / "h.py"
    prog.write_text(HOSTILE)
    plain = runner.invoke(get_app(), ["trace", str(prog), "--call", "f()", "--anchors", "every"])
    assert plain.exit_code == 0, plain.output
    assert not [c for c in RAW if c in plain.stdout], repr(plain.stdout)
    assert "\\x1b[2J[bold red]repr" in plain.stdout  # shown, escaped, never as markup
    assert "\\x1b[31mBoom" in plain.stdout and "out" in plain.stdout
    as_json = runner.invoke(get_app(), ["trace", str(prog), "--call", "f()", "--json"])
    assert not [c for c in RAW if c in as_json.stdout]
    assert json.loads(as_json.stdout)["error"].startswith("\x1b[31mBoom")  # the value is exact
