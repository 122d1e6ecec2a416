"""The sandbox: one adversarial property per test. Each run ends as a scored result in bounded
time, the host and the pool survive, and nothing is written outside the run's temp dir."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from stepcode.execution import detect_isolation, run_program
from stepcode.types import ExecStatus, Limits

FAST = Limits(timeout_s=1.0, memory_mb=256)


def _run(code: str, limits: Limits = FAST, call: str | None = None):
    start = time.monotonic()
    result = run_program(code, limits, call=call)
    assert time.monotonic() - start < limits.timeout_s + 10, "the run was not bounded in time"
    return result


def _pool_still_works() -> None:
    assert run_program("x = 1", call="x + 1").return_value == "2"


def test_returns_value_stdout_and_duration():
    r = _run("def f(x):\n    print('hi', x)\n    return [x, x * 2]", call="f(3)")
    assert r.status is ExecStatus.OK
    assert r.return_value == "[3, 6]"
    assert r.stdout == "hi 3\n"
    assert 0 < r.duration_s < 1


def test_exception_is_an_error_status_with_type_and_message():
    r = _run("def f():\n    return 1 // 0", call="f()")
    assert r.status is ExecStatus.ERROR
    assert r.error.startswith("ZeroDivisionError")


def test_syntax_error_is_an_error_status():
    r = _run("def f(:\n  pass")
    assert r.status is ExecStatus.ERROR and r.error.startswith("SyntaxError")


def test_infinite_loop_times_out():
    r = _run("while True:\n    pass")
    assert r.status is ExecStatus.TIMEOUT
    _pool_still_works()


def test_sleeping_forever_times_out():
    r = _run("import time\ntime.sleep(10**6)")
    assert r.status is ExecStatus.TIMEOUT


def test_ignoring_sigterm_does_not_help():
    r = _run("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(100)")
    assert r.status is ExecStatus.TIMEOUT


def test_swallowing_the_soft_timeout_still_gets_killed():
    code = (
        "while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass"
    )
    assert _run(code).status is ExecStatus.TIMEOUT


def test_50gb_allocation_is_a_memory_status():
    assert _run("x = bytearray(50 * 2**30)").status is ExecStatus.MEMORY


def test_huge_list_is_a_memory_status():
    assert _run("x = [0] * 10**10").status is ExecStatus.MEMORY


def test_gradual_allocation_hits_the_cap():
    assert _run("xs = []\nwhile True:\n    xs.append(' ' * 10**6)").status is ExecStatus.MEMORY


def test_giant_int_print_is_bounded():
    r = _run("print(10**(10**7))")
    assert r.status in (ExecStatus.ERROR, ExecStatus.TIMEOUT)


def test_deep_recursion_is_an_error():
    r = _run("def f(n):\n    return f(n + 1)\nf(0)")
    assert r.status is ExecStatus.ERROR and "RecursionError" in r.error


def test_stdout_flood_is_cut_at_the_cap():
    r = _run("while True:\n    print('x' * 1000)", Limits(timeout_s=2, max_output_bytes=100_000))
    assert r.status is ExecStatus.OUTPUT_LIMIT
    assert len(r.stdout) <= 100_000


def test_large_legitimate_output_within_cap_is_kept_whole():
    r = _run("print('y' * 500_000)", Limits(timeout_s=2))
    assert r.status is ExecStatus.OK and len(r.stdout) == 500_001


def test_os_exit_is_a_crash():
    r = _run("import os\nos._exit(0)")
    assert r.status is ExecStatus.CRASH
    _pool_still_works()


@pytest.mark.parametrize(
    ("code", "status"), [("import sys\nsys.exit(0)", "ok"), ("import sys\nsys.exit(3)", "error")]
)
def test_sys_exit(code, status):
    assert _run(code).status.value == status


@pytest.mark.parametrize("sig", ["signal.SIGSEGV", "signal.SIGRTMIN + 5", "signal.SIGKILL"])
def test_dying_by_a_signal_is_a_crash_naming_it(sig):
    r = _run(f"import os, signal\nos.kill(os.getpid(), {sig})")
    assert r.status is ExecStatus.CRASH and r.error.startswith("killed by signal")
    _pool_still_works()


def test_killing_the_parent_does_not_kill_the_pool():
    r = _run("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    assert r.status in (ExecStatus.ERROR, ExecStatus.CRASH)
    _pool_still_works()


def test_killing_the_process_group_is_a_crash_and_the_pool_survives():
    r = _run("import os, signal\nos.killpg(0, signal.SIGKILL)")
    assert r.status is ExecStatus.CRASH
    _pool_still_works()


def test_fork_bomb_cannot_fork():
    r = _run("import os\nwhile True:\n    os.fork()")
    assert r.status in (ExecStatus.ERROR, ExecStatus.CRASH, ExecStatus.TIMEOUT)
    _pool_still_works()


def test_threads_that_never_end_do_not_outlive_the_run():
    code = "import threading, time\nthreading.Thread(target=lambda: time.sleep(10**6)).start()"
    r = _run(code)
    assert r.status in (ExecStatus.ERROR, ExecStatus.OK, ExecStatus.TIMEOUT)
    _pool_still_works()


def test_shelling_out_is_blocked():
    r = _run(
        "import subprocess\nprint(subprocess.run(['echo', 'pwned'], capture_output=True).stdout)"
    )
    assert "pwned" not in r.stdout
    r = _run("import os\nprint(os.system('echo pwned'))")
    assert "pwned" not in r.stdout


def test_writing_outside_the_temp_dir_leaves_no_trace_on_the_host(tmp_path):
    targets = [Path("/tmp") / f"stepcode-escape-{uuid.uuid4().hex}", tmp_path / "escape.txt",
               Path.cwd() / f"escape-{uuid.uuid4().hex}.txt"]  # fmt: skip
    for target in targets:
        _run(f"open({str(target)!r}, 'w').write('x')")
        assert not target.exists(), f"program wrote {target}"


def test_writing_inside_its_own_cwd_works_and_is_cleaned_up():
    r = _run("import os\nopen('a.txt', 'w').write('hi')\nprint(os.getcwd())")
    assert r.status is ExecStatus.OK
    assert not Path(r.stdout.strip()).exists()


def test_file_size_cap():
    r = _run(
        "open('big', 'wb').write(b'x' * (50 * 2**20))", Limits(timeout_s=2, max_file_bytes=2**20)
    )
    assert r.status is not ExecStatus.OK


def test_socket_cannot_reach_the_network():
    code = "import socket\ns = socket.create_connection(('127.0.0.1', 22), timeout=0.5)\nprint('connected')"
    if not detect_isolation().layers["network_namespace"]:
        pytest.skip("no network namespace on this host")
    r = _run(code)
    assert r.status is ExecStatus.ERROR and "connected" not in r.stdout


def test_environment_is_scrubbed():
    os.environ["STEPCODE_TEST_SECRET"] = "hunter2"
    try:
        r = _run("import os\nprint(dict(os.environ))")
        assert "hunter2" not in r.stdout
    finally:
        del os.environ["STEPCODE_TEST_SECRET"]


def test_stdin_is_closed():
    r = _run("import sys\nprint(repr(sys.stdin.read()))")
    assert r.status is ExecStatus.OK and r.stdout.strip() == "''"


def test_program_output_that_looks_like_protocol_cannot_forge_a_result():
    r = _run('print(\'{"status": "ok", "return_value": "42"}\')\nraise ValueError("real")')
    assert r.status is ExecStatus.ERROR and r.return_value is None


def test_program_writing_a_result_to_the_result_pipe_cannot_forge_it():
    forged = '{"status": "ok", "error": null, "return_value": "42", "anchors": []}'
    for fd in range(3, 10):
        code = (
            f"import os\ntry:\n    os.write({fd}, {forged!r}.encode())\nexcept OSError:\n    pass\n"
        )
        r = _run(code + "os._exit(0)", call="1")
        assert r.status is ExecStatus.CRASH and r.return_value is None, fd


def test_hostile_repr_does_not_break_the_run():
    code = "class X:\n    def __repr__(self):\n        raise RuntimeError('no')\nx = X()"
    r = _run(code, call="x")
    assert r.status is ExecStatus.OK and "repr failed" in r.return_value


def test_stdlib_and_installed_imports_work():
    r = _run("import collections, itertools, heapq\nprint(heapq.nlargest(1, [3, 1]))")
    assert r.stdout == "[3]\n"
    assert _run("import numpy\nprint(numpy.int64(2) + 1)", Limits(timeout_s=20)).stdout == "3\n"
