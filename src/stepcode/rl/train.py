"""``train(cfg)``: the whole run, top to bottom.

1. run dir: ``config.yaml``, ``env.json``; resume from ``checkpoints/checkpoint.pt`` if present;
2. tasks: synthesized programs -> execution-aligned tasks (or a built dataset), cached in the run dir;
3. policy: the embedded tokenizer + tiny model built from scratch (saved with ``save_pretrained``
   and reloaded through ``from_pretrained``), or any HF causal LM by path / hub id;
4. greedy evaluation on held-out tasks by level (before);
5. SFT warm-up on interpreter targets (completion tokens only);
6. Bi-Level GRPO (``rl.grpo.grpo_step``), metrics to ``metrics.jsonl``, samples to ``samples/``;
7. stage II when ``codegen.steps`` > 0: the same ``grpo_step`` on code-generation tasks, rewarded
   by their unit tests (``rewards.codegen``; ``cfg.stage_two`` holds its lr and format bonus);
8. evaluation again (after), the before/after table, plots and ``report.html``.

With ``codegen`` enabled, code-generation problems are built too (``rl.taskset``), up to
``codegen.sft_examples`` of their gold solutions join the warm-up, and their held-out set is
evaluated before and after (rows ``codegen-L<level>``; ``final_acc`` = all tests pass).

Every step's randomness is a function of ``(run.seed, step)``, so a run killed at any point and
resumed gives the same metrics as an uninterrupted one.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from stepcode.config import config_to_dict, dump_config
from stepcode.io import write_json, write_jsonl
from stepcode.metrics import JsonlSink
from stepcode.models import (
    build_tiny_model,
    check_model_source,
    load_policy,
    save_policy,
    train_tokenizer,
)
from stepcode.rl import checkpoint as ckpt
from stepcode.rl.config import TrainConfig
from stepcode.rl.evaluate import evaluate_policy
from stepcode.rl.grpo import grpo_step, select_tasks
from stepcode.rl.optim import build_scheduler, build_sft_optimizer
from stepcode.rl.resume import check_resume
from stepcode.rl.sft import (
    build_examples,
    collate,
    load_teacher_completions,
    sample_batch,
    sft_autocast,
    sft_step,
)
from stepcode.rl.taskset import TaskSets, load_or_build, load_or_build_codegen
from stepcode.tasks import sft_target
from stepcode.types import SampleRecord, Task, TaskKind

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int, dict[str, float]], None]


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    run_dir: Path
    before: dict[str, dict[str, float]]
    after: dict[str, dict[str, float]]
    steps: int
    seconds: float
    warmup: dict[str, dict[str, float]] | None = None
    """held-out table at the end of the SFT warm-up (None when the run has no GRPO phase after
    one: then ``after`` is the warm-up's)"""


def train(cfg: TrainConfig, progress: Progress | None = None, *, force: bool = False) -> RunSummary:
    """Run (or resume) the whole pipeline in ``cfg.run.out``.

    A run dir resumes only with a config that leaves the stages that already ran as they were
    (``rl.resume``); ``force`` continues with the new settings anyway.
    """
    start = time.perf_counter()
    if cfg.model.path is not None:  # a model that cannot be loaded is found before any long work
        check_model_source(cfg.model.path)
    run_dir = Path(cfg.run.out)
    payload = ckpt.load_checkpoint(run_dir)
    changed = check_resume(run_dir, config_to_dict(cfg), payload, force=force)
    if changed:
        log.warning("%s resumes with changed settings: %s", run_dir, ", ".join(changed))
    _prepare_run_dir(cfg, run_dir)
    if cfg.run.threads:
        torch.set_num_threads(cfg.run.threads)
    torch.manual_seed(cfg.run.seed)

    sets = load_or_build(
        cfg.data, cfg.run.seed, run_dir,
        progress=(lambda stage, done, total: progress(stage, done, total, {})) if progress else None,
    )  # fmt: skip
    codegen = (
        load_or_build_codegen(cfg.codegen, cfg.data.template, cfg.run.seed, run_dir)
        if cfg.codegen.enabled
        else TaskSets(train=(), eval=())
    )
    warm = sets.train + codegen.train[: cfg.codegen.sft_examples]
    model, tok = _load_or_build_policy(cfg, run_dir, [t.prompt + sft_target(t) for t in warm])
    run = _Run(cfg=cfg, run_dir=run_dir, model=model, tok=tok, progress=progress,
               sink=JsonlSink(run_dir / "metrics.jsonl"),
               extra=dict(payload["extra"]) if payload else {}, tasks_eval=sets.eval)  # fmt: skip
    if payload is None:
        run.extra["before"], rows = _evaluate(cfg, model, tok, sets.eval + codegen.eval)
        write_jsonl(run_dir / "samples" / "eval_before.jsonl", rows)
    run.sink.truncate_after(payload["step"] if payload else 0)

    phase = payload["phase"] if payload else "sft"
    if phase == "done" and cfg.total_steps > payload["step"]:  # more steps: continue from the last
        phase = "grpo" if payload["step"] < cfg.sft.steps + cfg.grpo.steps else "codegen"
    if phase == "sft":
        _run_sft(run, warm, payload)
    if phase in ("sft", "grpo"):
        _run_grpo(run, sets.rl, payload if phase == "grpo" else None)
    if phase in ("sft", "grpo", "codegen") and cfg.codegen.steps > 0:
        _run_codegen(run, codegen.train, payload if phase == "codegen" else None)
    elif phase == "done":  # finished: only the evaluation and the report are redone
        model.load_state_dict(payload["model"])

    after, rows = _evaluate(cfg, model, tok, sets.eval + codegen.eval)
    write_jsonl(run_dir / "samples" / "eval_after.jsonl", rows)
    save_policy(model, tok, run_dir / "final")
    run.sink.close()
    summary = RunSummary(
        run_dir=run_dir, before=run.extra.get("before", {}), after=after,
        steps=cfg.total_steps, seconds=time.perf_counter() - start,
        warmup=run.extra.get("warmup") if cfg.grpo.steps else None,
    )  # fmt: skip
    write_json(
        run_dir / "summary.json",
        {
            "before": summary.before,
            "warmup": summary.warmup,
            "after": after,
            "steps": summary.steps,
        },
    )
    _write_report(run_dir, summary)
    return summary


@dataclass(kw_only=True)
class _Run:
    """What every phase of one run shares."""

    cfg: TrainConfig
    run_dir: Path
    model: Any
    tok: Any
    sink: JsonlSink
    progress: Progress | None
    extra: dict[str, Any]
    tasks_eval: tuple[Task, ...] = ()


def _run_sft(run: _Run, tasks: tuple[Task, ...], payload: dict | None) -> None:
    """SFT warm-up from step 0 or the checkpoint; ends on a resumable end-of-SFT checkpoint."""
    cfg = run.cfg
    opt, sched = _sft_optimizer(cfg, run.model)
    first = ckpt.restore(payload, run.model, opt, sched).step if payload else 0
    pairs = [(t, sft_target(t)) for t in tasks]
    if cfg.sft.teacher_jsonl:  # teacher reasoning that verifies by execution, beside the targets
        pairs += load_teacher_completions(cfg.sft.teacher_jsonl, tasks)
    autocast = sft_autocast(cfg.sft.precision, next(run.model.parameters()).device)
    examples = build_examples(
        [t.prompt for t, _ in pairs], [c for _, c in pairs], run.tok, cfg.sft.max_len
    )
    for step in range(first, cfg.sft.steps):
        batch = sample_batch(examples, cfg.sft.batch_size, cfg.run.seed, step)
        out = sft_step(
            run.model,
            collate(batch, run.tok.pad_token_id, cfg.sft_prompt_weight),
            opt,
            sched,
            cfg.optim.grad_clip,
            autocast,
        )
        _after_step(run, "sft", step + 1, {"phase": 0.0, **out}, opt, sched)
    state = ckpt.TrainState(step=cfg.sft.steps, phase="grpo", extra=run.extra)
    ckpt.save_checkpoint(run.run_dir, run.model, None, None, state)


def _run_grpo(run: _Run, tasks: tuple[Task, ...], payload: dict | None) -> None:
    """Bi-Level GRPO steps (``rl.grpo.grpo_step``) from the end of SFT or the checkpoint."""
    cfg = run.cfg
    opt = _grpo_optimizer(cfg, run.model)
    done = ckpt.restore(payload, run.model, opt, None).step if payload else cfg.sft.steps
    ref_model = copy.deepcopy(run.model).eval() if cfg.grpo.kl_coef > 0 else None
    if cfg.sft.steps and done == cfg.sft.steps and cfg.grpo.steps and "warmup" not in run.extra:
        _held_out(run, cfg.sft.steps, "warmup")  # the warm-up's own column (skipped without SFT)
    for step in range(done - cfg.sft.steps, cfg.grpo.steps):
        gstep = cfg.sft.steps + step + 1
        batch = select_tasks(tasks, cfg.rollout.tasks_per_step, cfg.run.seed, step)
        result = grpo_step(run.model, run.tok, batch, cfg, opt, step, ref_model)
        if (step + 1) % cfg.run.sample_every == 0 or step == 0:
            _dump_samples(run.run_dir, gstep, result)
        metrics = {"phase": 1.0, **result.metrics}
        every = cfg.run.eval_every
        if every and (step + 1) % every == 0 and step + 1 < cfg.grpo.steps:
            metrics |= _held_out(run, gstep, None)
        _after_step(run, "grpo", gstep, metrics, opt, None)
    if cfg.grpo.steps > 0:  # an SFT-only run stays resumable into GRPO (ablations branch here)
        phase = "codegen" if cfg.codegen.steps > 0 else "done"
        state = ckpt.TrainState(step=cfg.sft.steps + cfg.grpo.steps, phase=phase, extra=run.extra)
        ckpt.save_checkpoint(run.run_dir, run.model, opt, None, state)


def _run_codegen(run: _Run, tasks: tuple[Task, ...], payload: dict | None) -> None:
    """Stage II: ``grpo_step`` on code-generation tasks (unit-test rewards), from the end of
    stage I (or of the warm-up) or from a stage II checkpoint."""
    cfg, start = run.cfg.stage_two, run.cfg.sft.steps + run.cfg.grpo.steps
    opt = _grpo_optimizer(cfg, run.model)
    done = ckpt.restore(payload, run.model, opt, None).step if payload else start
    ref_model = copy.deepcopy(run.model).eval() if cfg.grpo.kl_coef > 0 else None
    for step in range(done - start, cfg.codegen.steps):
        gstep, seed_step = start + step + 1, cfg.grpo.steps + step  # stage I used 0..grpo.steps-1
        batch = select_tasks(tasks, cfg.rollout.tasks_per_step, cfg.run.seed, seed_step)
        result = grpo_step(run.model, run.tok, batch, cfg, opt, seed_step, ref_model)
        if (step + 1) % cfg.run.sample_every == 0 or step == 0:
            _dump_samples(run.run_dir, gstep, result)
        _after_step(run, "codegen", gstep, {"phase": 2.0, **result.metrics}, opt, None)
    state = ckpt.TrainState(step=cfg.total_steps, phase="done", extra=run.extra)
    ckpt.save_checkpoint(run.run_dir, run.model, opt, None, state)


def _held_out(run: _Run, step: int, key: str | None) -> dict[str, float]:
    """Greedy held-out evaluation during the run, rows to ``samples/eval_<key or step>.jsonl``.
    With ``key`` the table goes to ``run.extra[key]`` (checkpointed, in ``summary.json``), else
    its ``eval/*`` metrics are returned for the caller to log with the step's metrics."""
    table, rows = _evaluate(run.cfg, run.model, run.tok, run.tasks_eval)
    write_jsonl(run.run_dir / "samples" / f"eval_{key or f'step_{step:06d}'}.jsonl", rows)
    if key is not None:
        run.extra[key] = table
        return {}
    return eval_metrics(table)


def eval_metrics(table: dict[str, dict[str, float]]) -> dict[str, float]:
    """``eval/<level>/<quantity>`` of a held-out table (the curves of ``report`` and the tables)."""
    return {f"eval/{lv}/{k}": v for lv, m in table.items() for k, v in m.items() if k != "n"}


def _after_step(run: _Run, phase: str, step: int, metrics: dict, opt: Any, sched: Any) -> None:
    if step % run.cfg.run.log_every == 0 or phase in ("grpo", "codegen"):
        run.sink.log(step, metrics)
    if run.progress is not None:
        run.progress(phase, step, run.cfg.total_steps, metrics)
    if step % run.cfg.run.save_every == 0:
        state = ckpt.TrainState(step=step, phase=phase, extra=run.extra)
        ckpt.save_checkpoint(run.run_dir, run.model, opt, sched, state)


def _evaluate(cfg: TrainConfig, model: Any, tok: Any, tasks: tuple[Task, ...]):
    """``evaluate_policy`` by level; code-generation tasks in rows of their own
    (``codegen-L1``, ``codegen-all``)."""
    table: dict[str, dict[str, float]] = {}
    rows: list[dict[str, Any]] = []
    execution = tuple(t for t in tasks if t.kind is not TaskKind.CODEGEN)
    codegen = tuple(t for t in tasks if t.kind is TaskKind.CODEGEN)
    for part, prefix in ((execution, ""), (codegen, "codegen-")):
        if not part:
            continue
        got, got_rows = evaluate_policy(
            model, tok, part, max_new_tokens=cfg.run.eval_max_new_tokens, chat=cfg.model.chat,
            reward=cfg.reward,
        )  # fmt: skip
        for level, metrics in got.items():
            name = level if not prefix else f"{prefix}{level if level == 'all' else 'L' + level}"
            table[name] = metrics
        rows += got_rows
    return table, rows


def _sft_optimizer(cfg: TrainConfig, model: Any):
    opt = build_sft_optimizer(
        model,
        cfg.sft_optimizer,
        lr=cfg.sft.lr,
        muon_lr=cfg.sft.muon_lr,
        weight_decay=cfg.optim.weight_decay,
        betas=cfg.optim.betas,
    )
    if cfg.sft.steps == 0:
        return opt, None
    total, warm = cfg.sft.steps, max(1, cfg.sft.steps // 20)

    def schedule(step: int) -> float:  # linear warm-up, then cosine to 10 %
        if step < warm:
            return (step + 1) / warm
        progress = (step - warm) / max(1, total - warm)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return opt, build_scheduler(opt, schedule)


def _grpo_optimizer(cfg: TrainConfig, model: Any):
    return torch.optim.AdamW(
        model.parameters(), lr=cfg.grpo.lr, weight_decay=0.0, betas=cfg.optim.betas
    )


def _load_or_build_policy(cfg: TrainConfig, run_dir: Path, texts: list[str]):
    m = cfg.model
    if m.path is not None:
        from stepcode.models import LoraSpec

        lora = LoraSpec(r=m.lora_r, alpha=2 * m.lora_r) if m.lora_r else None
        return load_policy(m.path, dtype=m.dtype, device=m.device, lora=lora)
    init_dir = run_dir / "init"
    if not (init_dir / "config.json").is_file():
        tok = train_tokenizer(texts, vocab_size=m.vocab_size)
        model = build_tiny_model(tok, size=m.size, arch=m.arch, seed=cfg.run.seed)
        save_policy(model, tok, init_dir)
    # the exact path a hub id takes
    return load_policy(str(init_dir), dtype=m.dtype, device=m.device)


def _prepare_run_dir(cfg: TrainConfig, run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, run_dir / "config.yaml")
    env = {"python": platform.python_version(), "torch": torch.__version__, "seed": cfg.run.seed}
    try:
        import transformers

        env["transformers"] = transformers.__version__
        env["git_sha"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).parent,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        env["git_sha"] = ""
    write_json(run_dir / "env.json", env)


def _dump_samples(run_dir: Path, step: int, result: Any, limit: int = 8) -> None:
    rows = [
        SampleRecord.from_reward(
            item_id=t.task_id, sample_idx=r.sample_idx, generation=r.completion, reward=w,
            benchmark="train", group={"level": str(t.metadata.get("level", "?"))},
        ).to_dict()
        for t, r, w in list(zip(result.tasks, result.rollouts, result.rewards, strict=True))[:limit]
    ]  # fmt: skip
    write_jsonl(run_dir / "samples" / f"step_{step:06d}.jsonl", rows)


def _write_report(run_dir: Path, summary: RunSummary) -> None:
    try:
        from stepcode.rl.report import write_report

        write_report(run_dir, summary.before, summary.after, warmup=summary.warmup)
    except Exception as e:  # noqa: BLE001 - a plotting failure must not lose a finished run
        log.warning("report not written: %s", e)
    (run_dir / "DONE").write_text(json.dumps({"seconds": round(summary.seconds, 1)}))
