"""Splits and files of a built dataset.

``split_items``: per level (``L1``..``L6``, ``real``) a seeded shuffle holds out
``split.eval_per_level`` programs for ``eval.jsonl``; of the rest, ``rl_fraction`` go to
``rl.jsonl`` and the others to ``sft.jsonl`` (a program's tasks never straddle splits).
``write_outputs`` writes ``programs.jsonl``, ``traces.jsonl``, ``{sft,rl,eval}.jsonl`` (``Task``
dicts, readable with ``Task.from_dict``), ``hf/<split>.parquet`` (flat columns with the gold
completion; ``datasets.load_dataset("parquet", data_files=...)`` reads them) and
``manifest.json`` (resolved config, counts per level and per filter, sha256 of every file). Run
timings go to ``timings.json`` so the rest stays byte-identical across runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stepcode.config import config_to_dict
from stepcode.data.config import DataBuildConfig
from stepcode.io import write_json, write_jsonl
from stepcode.tasks import sft_target
from stepcode.types import Program, Task, Trace, to_dict

SPLITS = ("sft", "rl", "eval")
Item = tuple[Program, Trace, list[Task]]


def _level_key(p: Program) -> str:
    return f"L{p.level}" if p.level is not None else "real"


def split_items(items: Sequence[Item], cfg: DataBuildConfig) -> dict[str, list[Item]]:
    by_level: dict[str, list[Item]] = {}
    for it in items:
        by_level.setdefault(_level_key(it[0]), []).append(it)
    out: dict[str, list[Item]] = {s: [] for s in SPLITS}
    for lv in sorted(by_level):
        group = list(by_level[lv])
        random.Random(f"{cfg.seed}:split:{lv}").shuffle(group)
        n_eval = min(cfg.split.eval_per_level, len(group) // 2)
        out["eval"] += group[:n_eval]
        rest = group[n_eval:]
        n_rl = round(len(rest) * cfg.split.rl_fraction)
        out["rl"] += rest[:n_rl]
        out["sft"] += rest[n_rl:]
    return out


def _task_record(task: Task, p: Program, split: str) -> dict[str, Any]:
    meta = {
        **task.metadata,
        "program_id": p.program_id,
        "level": p.level,
        "source": p.source,
        "split": split,
    }
    return to_dict(dataclasses.replace(task, metadata=meta))


def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = ("task_id", "kind", "prompt", "completion", "level", "source", "program_id", "task_json")
    table = pa.table(
        {
            c: pa.array([r[c] for r in rows], type=pa.int64() if c == "level" else pa.string())
            for c in cols
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_outputs(
    out: Path, cfg: DataBuildConfig, splits: dict[str, list[Item]], state: Any
) -> dict[str, Any]:
    programs, traces = [], []
    task_counts: dict[str, dict[str, int]] = {}
    for split in SPLITS:
        records, flat = [], []
        for p, t, tasks in splits[split]:
            programs.append({**to_dict(p), "split": split})
            traces.append({"program_id": p.program_id, "trace": to_dict(t)})
            for task in tasks:
                rec = _task_record(task, p, split)
                records.append(rec)
                flat.append({
                    "task_id": task.task_id, "kind": task.kind.value, "prompt": task.prompt,
                    "completion": sft_target(task), "level": p.level, "source": p.source,
                    "program_id": p.program_id, "task_json": json.dumps(rec, sort_keys=True),
                })  # fmt: skip
                kinds = task_counts.setdefault(split, {})
                kinds[task.kind.value] = kinds.get(task.kind.value, 0) + 1
        write_jsonl(out / f"{split}.jsonl", records)
        _write_parquet(out / "hf" / f"{split}.parquet", flat)
    write_jsonl(out / "programs.jsonl", programs)
    write_jsonl(out / "traces.jsonl", traces)
    files = [
        "programs.jsonl",
        "traces.jsonl",
        *(f"{s}.jsonl" for s in SPLITS),
        *(f"hf/{s}.parquet" for s in SPLITS),
    ]
    per_level = {lv: dict(v) for lv, v in sorted(state.per_level.items())}
    for split in SPLITS:
        for p, _, _ in splits[split]:
            lv = per_level.setdefault(_level_key(p), {})
            lv[split] = lv.get(split, 0) + 1
    manifest = {
        "config": config_to_dict(cfg),
        "counts": {
            "programs_per_split": {s: len(splits[s]) for s in SPLITS},
            "tasks_per_split": task_counts,
            "per_level": per_level,
            "removed": dict(sorted(state.removed.items())),
        },
        "contamination": [to_dict(c) for c in state.contamination],
        "sha256": {f: _sha256(out / f) for f in files},
    }
    write_json(out / "manifest.json", manifest)
    write_json(out / "timings.json", state.seconds)
    return manifest
