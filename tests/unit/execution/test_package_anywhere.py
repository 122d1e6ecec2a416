"""The sandbox works from wherever stepcode lives: a copy of the package under /tmp (where each
run gets its private tmpfs) traces, anchors and checks like the installed one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import stepcode

SCRIPT = """
import json
import stepcode
from stepcode.execution import instrument, run_instrumented, run_program, trace_program
code = "def f(x):\\n    y = x + 1\\n    return y\\n"
t = trace_program(code, "f(2)")
a = run_instrumented(instrument(code), "f(2)")
r = run_program("import os", call="os.path.exists(" + repr(stepcode.__file__) + ")")
print(json.dumps([stepcode.__file__, t.status.value, t.return_value, len(t.events),
                  [h.value for h in a.anchors], r.return_value]))
"""


def test_a_copy_of_the_package_under_tmp_runs_the_sandbox():
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="stepcode-copy-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(Path(stepcode.__file__).parent, src / "stepcode")
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=tmp, env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        where, status, value, states, anchors, seen = json.loads(out.stdout)
    assert where.startswith(tmp)  # the copy, not the installed package
    assert (status, value, states, anchors) == ("ok", "3", 2, ["3", "3"])
    assert seen in ("False", "True")  # False where the filesystem view hides the checkout
