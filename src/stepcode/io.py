"""File helpers shared by every stage: JSONL reading/appending and atomic writes."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from stepcode.errors import DataError


def read_jsonl(path: str | Path, *, strict: bool = False) -> Iterator[dict[str, Any]]:
    """Yield one dict per non-blank line (``.gz`` files decompressed); a malformed line raises
    ``DataError`` naming it.

    A truncated *last* line (a writer killed mid-line) is skipped, so append-only logs stay
    readable after a crash; ``strict=True`` (benchmark and dataset files) raises for it too.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"file not found: {p}")
    if p.suffix == ".gz":
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            lines = fh.readlines()
    else:
        with p.open(encoding="utf-8") as fh:
            lines = fh.readlines()
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            if not strict and i == len(lines) and not line.endswith("\n"):
                return
            raise DataError(f"{p}:{i}: not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{p}:{i}: expected a JSON object, got {type(obj).__name__}")
        yield obj


def append_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Append records, one line each, flushed and fsynced (safe against kill -9 mid-run)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def write_atomic(path: str | Path, text: str | bytes) -> None:
    """Write a whole file so that readers see either the old or the new content, never half."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Atomically write a whole JSONL file."""
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def write_json(path: str | Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
