"""Real-code sources -> unverified ``Program`` records (inputs and outputs come later).

* ``files``: every ``*.py`` under a directory (sorted); the module is kept when it parses and
  imports only the standard library; non-definition top-level statements (scripts, ``if
  __name__``) are dropped; the entry point is the last top-level function.
* ``jsonl``: records with ``code`` and optional ``input`` / ``output`` / ``entry_point`` keys
  (names configurable).
* ``hf``: ``datasets.load_dataset(path, split=..., data_files=...)`` with the same column mapping
  (imported lazily).
A broken source (missing path, unreadable file, missing code column) is a ``DataError``; a single
record that does not parse is skipped and counted.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stepcode.data.config import SourceSpec
from stepcode.errors import DataError
from stepcode.io import read_jsonl
from stepcode.types import Program

log = logging.getLogger(__name__)
_KEEP = (ast.FunctionDef, ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.ClassDef)


def clean_module(code: str, entry_point: str | None = None) -> tuple[str, str] | None:
    """``(code, entry_point)`` reduced to stdlib imports + definitions, or None when unusable."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    body = []
    for node in tree.body:
        if not isinstance(node, _KEEP):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            if node_level(node) or any(
                m.split(".")[0] not in sys.stdlib_module_names for m in mods
            ):
                return None
        body.append(node)
    funcs = [n.name for n in body if isinstance(n, ast.FunctionDef)]
    if not funcs or (entry_point and entry_point not in funcs):
        return None
    return ast.unparse(ast.Module(body=body, type_ignores=[])) + "\n", entry_point or funcs[-1]


def node_level(node: ast.AST) -> int:
    return getattr(node, "level", 0) or 0


def _program(spec: SourceSpec, source: str, key: str, rec: Mapping[str, Any]) -> Program | None:
    code = rec.get(spec.code_column)
    if not isinstance(code, str):
        return None
    entry = rec.get(spec.entry_point_column) if spec.entry_point_column else None
    cleaned = clean_module(code, entry if isinstance(entry, str) and entry else None)
    if cleaned is None:
        return None
    inp = rec.get(spec.input_column) if spec.input_column else None
    out = rec.get(spec.output_column) if spec.output_column else None
    digest = hashlib.sha1(cleaned[0].encode()).hexdigest()[:10]
    return Program(
        program_id=f"{source}-{key}-{digest}",
        code=cleaned[0],
        entry_point=cleaned[1],
        input_args=inp if isinstance(inp, str) and inp.strip() else None,
        output=out if isinstance(out, str) and out.strip() else None,
        source=source,
    )


def _records(spec: SourceSpec) -> Iterable[tuple[str, Mapping[str, Any]]]:
    path = Path(spec.path)
    if spec.kind == "files":
        if not path.is_dir():
            raise DataError(f"source files: {path} is not a directory")
        for p in sorted(path.rglob("*.py")):
            yield p.relative_to(path).as_posix(), {spec.code_column: p.read_text(errors="replace")}
    elif spec.kind == "jsonl":
        if not path.is_file():
            raise DataError(f"source jsonl: {path} does not exist")
        for i, rec in enumerate(read_jsonl(path, strict=True)):
            yield str(i), rec
    else:
        yield from _hf_records(spec)


def _hf_records(spec: SourceSpec) -> Iterable[tuple[str, Mapping[str, Any]]]:
    import datasets  # lazy: heavy

    kwargs: dict[str, Any] = {"split": spec.split}
    if spec.data_files:
        kwargs["data_files"] = spec.data_files
    try:
        ds = datasets.load_dataset(spec.path, **kwargs)
    except Exception as e:  # noqa: BLE001 - any loader failure is an operator error here
        raise DataError(f"source hf {spec.path!r}: cannot load ({type(e).__name__}: {e})") from None
    if spec.code_column not in ds.column_names:
        raise DataError(
            f"source hf {spec.path!r}: no column {spec.code_column!r}; columns are {ds.column_names}"
        )
    for i, rec in enumerate(ds):
        yield str(i), rec


def check_source(spec: SourceSpec) -> None:
    """Fail fast (``DataError``) on a local source path that cannot be read, before any work."""
    path = Path(spec.path)
    if spec.kind == "files" and not path.is_dir():
        raise DataError(f"source files: {path} is not a directory")
    if spec.kind == "jsonl" and not path.is_file():
        raise DataError(f"source jsonl: {path} does not exist")


def load_source(spec: SourceSpec) -> tuple[list[Program], int]:
    """``(programs, skipped)`` from one source, in a deterministic order."""
    name = {"files": "files", "jsonl": "jsonl"}.get(spec.kind, f"hf:{spec.path}")
    out: list[Program] = []
    skipped = 0
    for key, rec in _records(spec):
        if spec.limit and len(out) >= spec.limit:
            break
        if spec.kind == "jsonl" and spec.code_column not in rec:
            raise DataError(f"{spec.path}: record {key} has no {spec.code_column!r} key")
        prog = _program(spec, name, key.replace("/", "_"), rec)
        if prog is None:
            skipped += 1
        else:
            out.append(prog)
    log.info("source %s: %d programs, %d skipped", spec.path, len(out), skipped)
    return out, skipped
