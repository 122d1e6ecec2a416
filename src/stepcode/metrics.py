"""Metric sinks: ``MetricSink.log(step, values)``; the default writes ``run_dir/metrics.jsonl``."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol


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
        kept = []
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a half-written line from a killed run
                if row.get("step", 0) <= step:
                    kept.append(line)
        self.path.write_text("".join(k + "\n" for k in kept), encoding="utf-8")
        self._fh = self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        self._fh.close()


def read_metrics(path: str | Path) -> list[dict]:
    rows = []
    p = Path(path)
    if not p.exists():
        return rows
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows
