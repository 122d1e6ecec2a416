"""The worker side is stdlib only: it runs as ``python -I -S _worker.py`` and loads its siblings
by file, so none of them may import stepcode (or anything outside the standard library)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import stepcode.execution

HERE = Path(stepcode.execution.__file__).parent
WORKER_SIDE = ("_worker.py", "_child.py", "_jail.py", "_seccomp.py", "_wire.py", "_tracehook.py")
SIBLINGS = {name.removesuffix(".py") for name in WORKER_SIDE}


def test_worker_side_modules_import_only_the_stdlib_and_each_other():
    for name in WORKER_SIDE:
        for node in ast.walk(ast.parse((HERE / name).read_text())):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{name}: relative import"
                mods = [node.module or ""]
            else:
                continue
            for mod in mods:
                top = mod.split(".")[0]
                assert top in sys.stdlib_module_names or top in SIBLINGS or top == "__future__", (
                    f"{name} imports {mod}"
                )
