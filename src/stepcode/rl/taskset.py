"""The tasks a run trains and evaluates on: synthesized (embedded default) or a built dataset.

Synthesized: the ``data build`` pipeline (``data.build.build_items``, in memory) per level:
verified programs, each (code, input) pair once and each code with at most
``data.max_inputs_per_program`` inputs, turned into execution-aligned
output-prediction tasks; programs with more anchor lines than ``data.max_anchor_lines`` (the
paper keeps <= 10) or none are dropped (``build_config`` spells the settings out). The held-out programs come from
``data.eval_seed``, the same for every ``run.seed`` (held-out sets drawn per run seed differed in
difficulty by 2x: one model scored 4.9 % on one and 11.0 % on another), minus any (code, input)
pair the run trains on. With ``data.grpo_levels`` the GRPO phase samples its own tasks (fresh
programs of those levels, seed ``run.seed + GRPO_SEED_OFFSET``; the held-out set excludes them too)
instead of the SFT tasks. The sets are written to ``run_dir/data/*.jsonl`` so that a resumed run
trains on exactly the same tasks.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stepcode.data.build import Progress, build_items
from stepcode.data.codegen import (
    SynthCodegenConfig,
    near_keys,
    problems_from_rows,
    read_rows,
    synth_codegen_tasks,
)
from stepcode.data.config import DataBuildConfig, FilterSection, SplitSection, SynthSection
from stepcode.errors import DataError
from stepcode.io import read_jsonl, write_jsonl
from stepcode.rl.config import CodegenConfig, DataConfig
from stepcode.types import Task

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class TaskSets:
    train: tuple[Task, ...]
    eval: tuple[Task, ...]
    grpo: tuple[Task, ...] = ()
    """the GRPO tasks when ``data.grpo_levels`` is set (else GRPO samples ``train``)"""

    @property
    def rl(self) -> tuple[Task, ...]:
        return self.grpo or self.train


GRPO_SEED_OFFSET = 1_000_003
"""the GRPO programs' synthesis seed is ``run.seed + GRPO_SEED_OFFSET``: fresh programs"""


def load_or_build(
    cfg: DataConfig, seed: int, run_dir: Path, progress: Progress | None = None
) -> TaskSets:
    return _cached(run_dir / "data", "", lambda: build_task_sets(cfg, seed, progress))


def _cached(data_dir: Path, prefix: str, build: Callable[[], TaskSets]) -> TaskSets:
    """``data_dir/{prefix}{train,eval,grpo}.jsonl``: read back, or built once."""
    train_p, eval_p, grpo_p = (data_dir / f"{prefix}{n}.jsonl" for n in ("train", "eval", "grpo"))
    if train_p.is_file() and eval_p.is_file():
        return TaskSets(
            train=tuple(Task.from_dict(d) for d in read_jsonl(train_p)),
            eval=tuple(Task.from_dict(d) for d in read_jsonl(eval_p)),
            grpo=tuple(Task.from_dict(d) for d in read_jsonl(grpo_p)) if grpo_p.is_file() else (),
        )
    sets = build()
    write_jsonl(train_p, [t.to_dict() for t in sets.train])
    write_jsonl(eval_p, [t.to_dict() for t in sets.eval])
    if sets.grpo:
        write_jsonl(grpo_p, [t.to_dict() for t in sets.grpo])
    return sets


def build_task_sets(cfg: DataConfig, seed: int, progress: Progress | None = None) -> TaskSets:
    """The run's train and held-out tasks (``progress(stage, done, total)`` while building)."""
    if cfg.dataset is not None:
        return _from_dataset(Path(cfg.dataset))
    train = [t for lv in cfg.levels for t in _tasks(cfg, lv, cfg.n_train, seed, progress)]
    grpo_seed = seed + GRPO_SEED_OFFSET
    grpo = [t for lv in cfg.grpo_levels for t in _tasks(cfg, lv, cfg.n_grpo, grpo_seed, progress)]
    held = [
        t for lv in cfg.eval_levels for t in _tasks(cfg, lv, cfg.n_eval, cfg.eval_seed, progress)
    ]
    seen = {t.reference.code + t.reference.input_args for t in (*train, *grpo)}
    held = [t for t in held if t.reference.code + t.reference.input_args not in seen]
    log.info("tasks: %d train, %d GRPO, %d held-out", len(train), len(grpo), len(held))
    return TaskSets(train=tuple(train), eval=tuple(held), grpo=tuple(grpo))


def build_config(cfg: DataConfig, level: int, n: int, seed: int) -> DataBuildConfig:
    """The ``data build`` settings of one level's tasks: synthesis only, distinct (code, input)
    pairs capped per code, exact dedup (near duplicates are what level 1 is made of), the anchor
    policy and cap, execution-aligned output prediction."""
    return DataBuildConfig(
        seed=seed,
        synth=SynthSection(levels=(level,), per_level=n, size=cfg.size, oversample=1.25),
        filters=FilterSection(
            max_anchor_lines=cfg.max_anchor_lines,
            near_dedup=False,
            max_inputs_per_program=cfg.max_inputs_per_program,
        ),
        split=SplitSection(kinds=("output_aligned",), template=cfg.template, anchors=cfg.anchors),
    )


def _tasks(cfg: DataConfig, level: int, n: int, seed: int, progress: Progress | None) -> list[Task]:
    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(f"data L{level}: {stage}", done, total)

    items = build_items(build_config(cfg, level, n, seed), progress=report, traces=False)
    return [t for _, _, tasks in items for t in tasks][:n]


def _from_dataset(path: Path) -> TaskSets:
    """A ``stepcode data build`` directory: ``rl.jsonl`` (or ``sft.jsonl``) and ``eval.jsonl``."""
    train_p = next(
        (p for p in (path / "rl.jsonl", path / "sft.jsonl", path / "train.jsonl") if p.is_file()),
        None,
    )
    eval_p = path / "eval.jsonl"
    if train_p is None or not eval_p.is_file():
        raise DataError(
            f"{path}: expected rl.jsonl (or sft.jsonl) and eval.jsonl from `stepcode data build`"
        )
    return TaskSets(
        train=tuple(Task.from_dict(d) for d in read_jsonl(train_p)),
        eval=tuple(Task.from_dict(d) for d in read_jsonl(eval_p)),
    )


def load_or_build_codegen(cfg: CodegenConfig, template: str, seed: int, run_dir: Path) -> TaskSets:
    """Stage II's code-generation tasks (``data.codegen``), cached in ``run_dir/data`` like the
    execution tasks: synthesized problems (held-out ones from ``cfg.eval_seed``, their codes
    never among the training ones), or a dataset's rows with the last ``n_eval`` held out."""
    return _cached(run_dir / "data", "codegen_", lambda: _codegen_sets(cfg, template, seed))


def _codegen_sets(cfg: CodegenConfig, template: str, seed: int) -> TaskSets:
    if cfg.dataset is not None:
        rows = read_rows(cfg.dataset)
        tasks = problems_from_rows(rows, cfg.schema, template=template, source=cfg.dataset)  # type: ignore[arg-type]
        cut = max(0, len(tasks) - cfg.n_eval)
        train, held = tasks[:cut], tasks[cut:]
    else:
        synth = SynthCodegenConfig(levels=cfg.levels, n=cfg.n_train, n_tests=cfg.n_tests,
                                   n_shown=cfg.n_shown, template=template, decontam=cfg.decontam)  # type: ignore[arg-type]  # fmt: skip
        train, drops = synth_codegen_tasks(synth, seed)
        log.info("code generation: %d training problems (dropped: %s)", len(train), dict(drops))
        held_cfg = dataclasses.replace(synth, n=cfg.n_eval, exclude=near_keys(train))
        held = synth_codegen_tasks(held_cfg, cfg.eval_seed)[0] if cfg.n_eval else []
    if not train:
        raise DataError("code generation: no training problems (check codegen.dataset / levels)")
    return TaskSets(train=tuple(train), eval=tuple(held))
