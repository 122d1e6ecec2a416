"""Reading REval's data files into ``RevalPair`` records (``load_reval``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepcode.errors import DataError
from stepcode.eval.benchmarks import reval_classeval as rc
from stepcode.eval.benchmarks.reval_data import HUMANEVAL_END, RevalPair, RevalQuestion
from stepcode.io import read_jsonl

log = logging.getLogger(__name__)


def load_reval(data_dir: str | Path, limit: int | None = None) -> tuple[list[RevalPair], int]:
    """The pairs of ``DREval_data.jsonl`` + ``DREval_tasks.jsonl`` (``limit``: first programs) and
    how many ClassEval pairs were skipped because their third-party modules are missing here."""
    d = Path(data_dir)
    files = [d / "DREval_data.jsonl", d / "DREval_tasks.jsonl"]
    for f in files:
        if not f.is_file():
            raise DataError(f"REval file not found: {f} (pass the directory holding both files)")
    data = list(read_jsonl(files[0], strict=True))
    tasks = list(read_jsonl(files[1], strict=True))
    pairs, skipped = [], 0
    for n, t in enumerate(tasks[:limit] if limit else tasks, 1):
        try:
            idx = int(t["idx"])
            prog = data[idx]
            if idx > HUMANEVAL_END and rc.missing_modules(prog["code"], prog["test"]):
                log.info("REval %d skipped: modules %s not installed (the reval extra)", idx,
                         rc.missing_modules(prog["code"], prog["test"]))  # fmt: skip
                skipped += len(t["tasks"])
                continue
            pairs += [_pair(idx, prog, spec) for spec in t["tasks"]]
        except (KeyError, IndexError, TypeError, ValueError, SyntaxError) as e:
            raise DataError(
                f"{files[1]}:{n}: not an REval task record ({type(e).__name__}: {e})"
            ) from None
    return pairs, skipped


def _pair(idx: int, prog: Mapping[str, Any], spec: Mapping[str, Any]) -> RevalPair:
    k = int(spec["input_idx"])
    outputs = prog.get("outputs") or []
    return RevalPair(
        idx=idx,
        input_idx=k,
        code=str(prog["code"]),
        entry_point=str(prog["entry_point"]),
        input=str(prog["inputs"][k]),
        questions=tuple(
            RevalQuestion(lineno=int(q["lineno"]), var=str(q["var"])) for q in spec["task"]
        ),
        output_pred=str(spec["output_pred"]),
        gold_output=str(outputs[k]) if k < len(outputs) else None,
        classeval=rc.classeval_test(prog, k) if idx > HUMANEVAL_END else None,
    )
