"""The package layout is the data flow: a stage imports only shared modules and earlier stages."""

from __future__ import annotations

import ast
from pathlib import Path

import stepcode

PKG = Path(stepcode.__file__).parent
SHARED = {"types", "errors", "config", "io", "metrics", "models", "display"}
ALLOWED = {
    "execution": set(),
    "tasks": {"execution"},
    "rollout": {"execution", "tasks"},
    "rewards": {"execution", "tasks", "rollout"},
    "rl": {"execution", "tasks", "rollout", "rewards", "data"},
    "data": {"execution", "tasks", "rollout", "rewards"},
    "eval": {"execution", "tasks", "rollout", "rewards", "data"},
}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m.split(".")[1] for m in out if m.startswith("stepcode.")}


def test_stages_import_only_earlier_stages_and_shared_modules():
    bad = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        top = rel.parts[0].removesuffix(".py")
        used = _imports(path)
        if "cli" in used and top not in ("cli", "__main__"):
            bad.append(f"{rel} imports stepcode.cli")
        if top in SHARED:
            allowed = SHARED - {"models"} if top != "models" else SHARED
            stray = used - allowed
        elif top in ALLOWED:
            stray = used - SHARED - ALLOWED[top] - {top}
        else:
            continue
        if stray:
            bad.append(f"{rel} imports {sorted(stray)}")
    assert not bad, "\n".join(bad)


def test_child_modules_import_nothing_from_stepcode():
    for name in ("_child.py", "_tracehook.py"):
        path = PKG / "execution" / name
        if path.exists():
            assert not _imports(path), f"{name} must be stdlib-only"
