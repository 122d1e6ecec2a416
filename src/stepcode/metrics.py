"""Metric sinks: ``MetricSink.log(step, values)``; the default writes ``run_dir/metrics.jsonl``."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from stepcode.io import read_jsonl


class MetricSink(Protocol):
    def log(self, step: int, values: Mapping[str, float]) -> None: ...

    def close(self) -> None: ...


class JsonlSink:
    """Appends one JSON line per ``log`` call (flushed; safe to read while a run is going).

    ``truncate_after(step)`` drops lines logged after ``step``, so a resumed run continues the file
    exactly where its checkpoint was taken.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")

    def log(self, step: int, values: Mapping[str, float]) -> None:
        row = {"step": step}
        for k, v in values.items():
            v = float(v)
            row[k] = v if math.isfinite(v) else None
        self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def truncate_after(self, step: int) -> None:
        self._fh.close()
        kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
        self._fh = self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        self._fh.close()


def read_metrics(path: str | Path) -> list[dict]:
    """The rows of a metrics log (none if it does not exist; a torn last line is skipped)."""
    p = Path(path)
    return list(read_jsonl(p)) if p.exists() else []
