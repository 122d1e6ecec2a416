"""StepCodeReasoner's tables in miniature: Tables 5, 6, 7, 14 and the training curves, over seeds.

For each seed, one SFT warm-up run (``grpo.steps=0``) is trained once and every GRPO row starts
from a copy of it (resumed with that row's ``grpo.*`` settings), so the rows of a seed differ only
in their RL stage; "RL only" starts from the same random init (a copy of the warm-up's ``init/``
and ``data/``). Every seed evaluates on the same held-out programs (``data.eval_seed``).

Rows (Table 5): SFT only; RL only from the random init (Bi-Level); SFT + terminal GRPO;
SFT + step GRPO (lam 0); SFT + Bi-Level GRPO (lam 0.3); terminal and Bi-Level again at lr 1e-4
(the config's lr is 3e-5). Bi-Level without the execution-aligned
prompt is not a row: without the anchor prints in the prompt the tasks have no anchors to reward
(``tasks`` has no plain-prompt-with-trace task kind), so that ablation cannot be run here.

Per row and seed: held-out greedy final and step accuracy by level (Tables 5, 6), "right answer,
wrong steps", the same model on plain output-prediction prompts (no anchors: Table 7), mean
completion tokens (Table 14), and held-out accuracy every ``run.eval_every`` GRPO steps (curves,
a band over seeds). Paired comparisons per pair of rows: the mean and std over seeds of the
per-seed difference, and the held-out programs one row gets right and the other wrong, pooled over
seeds, with a two-sided exact sign test on them.

    python benchmarks/paper_tables.py                   # configs/train/paper_tables.yaml, 3 seeds
    python benchmarks/paper_tables.py --smoke --out /tmp/tables   # 2 steps, 1 seed (CI's test)

Writes ``tables.md``, ``tables.json``, ``curves.png``, ``heatmap.png`` and ``report.html`` under
``--out``; resumable (finished runs are read back, unfinished ones resume from their checkpoints).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import shutil
import statistics
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "train" / "paper_tables.yaml"
SMOKE = (
    "data.n_train=24", "data.n_eval=4", "sft.steps=2", "sft.batch_size=4", "grpo.steps=2",
    "rollout.group_size=2", "rollout.tasks_per_step=2", "rollout.max_new_tokens=16",
    "run.eval_max_new_tokens=12", "run.eval_every=1",
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    label: str
    start: str
    """``warmup`` (a copy of the seed's SFT run) or ``init`` (its random init: no SFT)"""
    overrides: tuple[str, ...]


ROWS = {
    "sft": Row("SFT only", "warmup", ()),
    "rl_only": Row("RL only (random init, Bi-Level)", "init", ("sft.steps=0", "grpo.mode=bilevel")),
    "terminal": Row("SFT + terminal GRPO", "warmup", ("grpo.mode=terminal",)),
    "step": Row("SFT + step GRPO (lam 0)", "warmup", ("grpo.mode=step",)),
    "bilevel": Row("SFT + Bi-Level GRPO (lam 0.3)", "warmup", ("grpo.mode=bilevel",)),
    # the same two modes at a 3x larger step: where terminal credit let the trace rot in the
    # phase-1 search (docs/results.md, finding 4) and Bi-Level kept it
    "terminal_lr1e-4": Row(
        "SFT + terminal GRPO, lr 1e-4", "warmup", ("grpo.mode=terminal", "grpo.lr=0.0001")
    ),
    "bilevel_lr1e-4": Row(
        "SFT + Bi-Level GRPO, lr 1e-4", "warmup", ("grpo.mode=bilevel", "grpo.lr=0.0001")
    ),
}
METRICS = ("final_acc", "step_acc", "gap", "right_answer_wrong_steps")


# ----------------------------------------------------------------- runs (in worker processes) ---


def run_warmup(config: str, overrides: list[str], seed_dir: str, seed: int) -> str:
    """The seed's SFT-only run (resumable); returns its dir."""
    from stepcode.config import load_config
    from stepcode.rl.config import TrainConfig
    from stepcode.rl.train import train

    out = Path(seed_dir) / "sft"
    sets = [*overrides, f"run.seed={seed}", "grpo.steps=0", f"run.out={out}"]
    if not (out / "DONE").is_file():
        train(load_config(TrainConfig, config, sets))
    _row_extras(out)
    return str(out)


def run_row(config: str, overrides: list[str], seed_dir: str, seed: int, name: str) -> str:
    """One GRPO row of one seed, from a copy of the seed's warm-up (or its init); returns its dir."""
    from stepcode.config import load_config
    from stepcode.rl.config import TrainConfig
    from stepcode.rl.train import train

    row, src, out = ROWS[name], Path(seed_dir) / "sft", Path(seed_dir) / name
    if not (out / "DONE").is_file():
        if not (out / "checkpoints").is_dir():  # not started (or never got past its copy)
            shutil.rmtree(out, ignore_errors=True)
            if row.start == "warmup":
                keep = shutil.ignore_patterns(
                    "DONE", "final", "report.html", "plots", "summary.json", "tables_extra.json"
                )
                shutil.copytree(src, out, ignore=keep)
            else:
                out.mkdir(parents=True)
                for part in ("init", "data"):
                    shutil.copytree(src / part, out / part)
        sets = [*overrides, f"run.seed={seed}", *row.overrides, f"run.out={out}"]
        train(load_config(TrainConfig, config, sets))
    _row_extras(out)
    return str(out)


def _row_extras(run_dir: Path) -> dict[str, Any]:
    """Table 7 (plain prompts) and Table 14 (tokens) for a finished run, cached in the run dir."""
    path = run_dir / "tables_extra.json"
    if path.is_file():
        return json.loads(path.read_text())
    from stepcode.config import load_config
    from stepcode.io import read_jsonl
    from stepcode.models import load_policy
    from stepcode.rl.config import TrainConfig
    from stepcode.rl.evaluate import evaluate_policy
    from stepcode.types import Task

    cfg = load_config(TrainConfig, run_dir / "config.yaml", [])
    model, tok = load_policy(str(run_dir / "final"), device=cfg.model.device)
    aligned = [Task.from_dict(d) for d in read_jsonl(run_dir / "data" / "eval.jsonl")]
    plain, _ = evaluate_policy(
        model, tok, plain_tasks(aligned, cfg.data.template),
        max_new_tokens=cfg.run.eval_max_new_tokens, chat=cfg.model.chat, reward=cfg.reward,
    )  # fmt: skip
    rows = list(read_jsonl(run_dir / "samples" / "eval_after.jsonl"))  # read twice below
    level_of = {t.task_id: str(t.metadata.get("level", "?")) for t in aligned}
    tokens: dict[str, list[int]] = {}
    for r in rows:
        n = len(tok.encode(r["generation"], add_special_tokens=False))
        for key in (level_of.get(r["item_id"], "?"), "all"):
            tokens.setdefault(key, []).append(n)
    extra = {
        "plain": plain,
        "tokens": {lv: statistics.mean(v) for lv, v in tokens.items()},
        "outcomes": {r["item_id"]: float(r["correct"]) for r in rows},
    }
    path.write_text(json.dumps(extra))
    return extra


def plain_tasks(aligned: list[Any], template: str) -> list[Any]:
    """The plain output-prediction task (no anchors in the prompt) of each held-out program."""
    from stepcode.tasks import make_tasks_batch
    from stepcode.types import Program, TaskKind

    programs = [
        Program(program_id=t.task_id, code=t.reference.code, entry_point=t.reference.entry_point,
                input_args=t.reference.input_args, output=t.reference.output,
                level=t.metadata.get("level"), source="synth")
        for t in aligned
    ]  # fmt: skip
    built = make_tasks_batch(programs, [TaskKind.OUTPUT], template=template)  # type: ignore[arg-type]
    return [t for ts in built for t in ts]


# ----------------------------------------------------------------------- collecting results ---


def collect(run_dir: Path) -> dict[str, Any]:
    """Everything the tables need from one finished run dir."""
    from stepcode.metrics import read_metrics

    summary = json.loads((run_dir / "summary.json").read_text())
    extra = _row_extras(run_dir)
    config = (run_dir / "config.yaml").read_text()
    sft_steps = _yaml_int(config, "sft", "steps")
    curve = []  # (GRPO step, {level: final_acc}) from the warm-up (or init) to the end
    start = summary.get("warmup") or summary["before"]
    if summary.get("warmup") or sft_steps == 0:
        curve.append((0, {lv: m["final_acc"] for lv, m in start.items()}))
    for r in read_metrics(run_dir / "metrics.jsonl"):
        levels = {k.split("/")[1]: v for k, v in r.items() if k.startswith("eval/") and
                  k.endswith("/final_acc")}  # fmt: skip
        if levels:
            curve.append((r["step"] - sft_steps, levels))
    if curve:
        curve.append((summary["steps"] - sft_steps, {lv: m["final_acc"] for lv, m in
                                                     summary["after"].items()}))  # fmt: skip
    steps_by_eval = {}  # GRPO step -> the held-out rows' step vectors (for the heatmap)
    for path in sorted((run_dir / "samples").glob("eval_*.jsonl")):
        tag = path.stem.removeprefix("eval_")
        if tag == "warmup" or (tag == "before" and sft_steps == 0):
            at = 0
        elif tag.startswith("step_"):
            at = int(tag.removeprefix("step_")) - sft_steps
        elif tag == "after" and summary["steps"] > sft_steps:
            at = summary["steps"] - sft_steps
        else:
            continue
        steps_by_eval[at] = [r["steps"] for r in _read_rows(path)]
    return {"after": summary["after"], **extra, "curve": curve, "dir": str(run_dir),
            "position_steps": steps_by_eval}  # fmt: skip


def _yaml_int(text: str, section: str, key: str) -> int:
    import yaml

    return int((yaml.safe_load(text) or {}).get(section, {}).get(key, 0))


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample std (0 for a single value)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def fmt(values: list[float], scale: float = 100.0, digits: int = 1) -> str:
    if not values:
        return "-"
    m, s = mean_sd([scale * v for v in values])
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial sign test p-value of ``wins`` vs ``losses`` (ties dropped)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired(results: dict[str, dict[int, dict]], a: str, b: str, level: str) -> dict[str, Any]:
    """Row ``a`` minus row ``b`` at ``level``: per-seed differences, and programs pooled over seeds
    that exactly one of the two gets right (``level`` "all" pools every level)."""
    seeds = sorted(set(results[a]) & set(results[b]))
    diffs = [results[a][s]["after"][level]["final_acc"] - results[b][s]["after"][level]["final_acc"]
             for s in seeds if level in results[a][s]["after"]]  # fmt: skip
    wins = losses = 0
    for s in seeds:
        oa, ob = results[a][s]["outcomes"], results[b][s]["outcomes"]
        for tid in oa.keys() & ob.keys():
            if level != "all" and results[a][s]["levels"].get(tid) != level:
                continue
            wins += oa[tid] > ob[tid]
            losses += oa[tid] < ob[tid]
    m, sd = mean_sd([100 * d for d in diffs]) if diffs else (0.0, 0.0)
    return {"a": a, "b": b, "level": level, "diff_mean": m, "diff_sd": sd, "seeds": len(diffs),
            "a_only": wins, "b_only": losses, "p_sign": sign_test(wins, losses)}  # fmt: skip


# ------------------------------------------------------------------------------ the tables ---


def build_tables(results: dict[str, dict[int, dict]], levels: list[str]) -> dict[str, Any]:
    names = [n for n in ROWS if results.get(n)]

    def vals(name: str, key: str, level: str, source: str = "after") -> list[float]:
        return [r[source][level][key] for r in results[name].values() if level in r[source]]

    t5 = {n: {lv: fmt(vals(n, "final_acc", lv)) for lv in [*levels, "all"]} for n in names}
    t6 = {n: {k: fmt(vals(n, k, "all")) for k in METRICS} for n in names}
    t7 = {n: {"aligned": fmt(vals(n, "final_acc", "all")),
              "plain": fmt(vals(n, "final_acc", "all", "plain"))} for n in names}  # fmt: skip
    t14 = {n: {"tokens": fmt([r["tokens"]["all"] for r in results[n].values()], 1.0),
               "final": fmt(vals(n, "final_acc", "all"))} for n in names}  # fmt: skip
    pairs = [paired(results, a, b, lv) for a, b in itertools.combinations(names, 2)
             for lv in [*levels, "all"]]  # fmt: skip
    return {"table5": t5, "table6": t6, "table7": t7, "table14": t14, "paired": pairs,
            "levels": levels, "rows": {n: ROWS[n].label for n in names}}  # fmt: skip


def markdown(tables: dict[str, Any], header: str) -> str:
    rows, levels = tables["rows"], tables["levels"]
    out = [header, "", "## Table 5: final accuracy by level (held-out, greedy, %)", ""]
    cols = [*[f"L{lv}" for lv in levels], "all"]
    out += _md(["row", *cols], [[rows[n], *tables["table5"][n].values()] for n in rows])
    out += ["", "## Table 6: step vs final accuracy (all levels, %)", ""]
    out += _md(["row", "final", "step", "gap (final - step)", "right answer, wrong steps"],
               [[rows[n], *(tables["table6"][n][k] for k in METRICS)] for n in rows])  # fmt: skip
    out += ["", "## Table 7: the same models without anchors in the prompt (all levels, %)", ""]
    out += _md(["row", "with anchors (aligned)", "without (plain output prediction)"],
               [[rows[n], tables["table7"][n]["aligned"], tables["table7"][n]["plain"]]
                for n in rows])  # fmt: skip
    out += ["", "## Table 14: mean completion tokens (held-out, greedy, aligned prompts)", ""]
    out += _md(["row", "tokens", "final %"],
               [[rows[n], tables["table14"][n]["tokens"], tables["table14"][n]["final"]]
                for n in rows])  # fmt: skip
    out += [
        "",
        "## Paired comparisons: A - B in final accuracy points, mean ± sd of the per-seed "
        "differences [programs only A / only B gets right, pooled over seeds; sign-test p]",
        "",
    ]
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for p in tables["paired"]:
        cells.setdefault((p["a"], p["b"]), {})[p["level"]] = (
            f"{p['diff_mean']:+.1f} ± {p['diff_sd']:.1f} [{p['a_only']}/{p['b_only']}; "
            f"p={p['p_sign']:.2g}]"
        )
    out += _md(["A", "B", *cols], [[a, b, *(c.get(lv, "-") for lv in [*levels, "all"])]
                                   for (a, b), c in cells.items()])  # fmt: skip
    return "\n".join(out) + "\n"


def _md(head: list[str], body: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + [
        "| " + " | ".join(str(c) for c in row) + " |" for row in body
    ]


# ----------------------------------------------------------------------------- the figures ---


def write_figures(results: dict[str, dict[int, dict]], levels: list[str], out: Path) -> list:
    """``curves.png`` (held-out final accuracy per GRPO step, a band over seeds, per level) and
    ``heatmap.png`` (held-out step accuracy by anchor position x GRPO step, Bi-Level, seed mean)."""
    from stepcode.rl.report import _pyplot, heatmap_figure, position_accuracy

    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    panels = [*levels, "all"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    for ax, lv in zip(axes[0], panels, strict=True):
        for i, name in enumerate(n for n in ROWS if n != "sft" and results.get(n)):
            by_step: dict[int, list[float]] = {}
            for r in results[name].values():
                for step, accs in r["curve"]:
                    if lv in accs:
                        by_step.setdefault(step, []).append(100 * accs[lv])
            if not by_step:
                continue
            xs = sorted(by_step)
            mean = [statistics.mean(by_step[x]) for x in xs]
            sd = [statistics.stdev(by_step[x]) if len(by_step[x]) > 1 else 0.0 for x in xs]
            ax.fill_between(xs, [m - s for m, s in zip(mean, sd, strict=True)],
                            [m + s for m, s in zip(mean, sd, strict=True)], color=f"C{i}",
                            alpha=0.2, lw=0)  # fmt: skip
            ax.plot(xs, mean, color=f"C{i}", lw=1.6, marker=".", label=name)
        sft = [100 * r["after"][lv]["final_acc"] for r in results.get("sft", {}).values()
               if lv in r["after"]]  # fmt: skip
        if sft:
            ax.axhline(statistics.mean(sft), color="grey", ls="--", lw=1, label="sft")
        ax.set_title(f"held-out level {lv}" if lv != "all" else "held-out, all levels")
        ax.set_xlabel("GRPO step")
        ax.set_ylabel("final accuracy %")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    curves = out / "curves.png"
    fig.savefig(curves, dpi=90)
    plt.close(fig)
    images = [("held-out final accuracy during GRPO (mean ± sd over seeds)", curves)]
    mode = "bilevel" if results.get("bilevel") else next(iter(results))
    columns: dict[int, list[dict]] = {}
    for r in results[mode].values():
        for at, vectors in r["position_steps"].items():
            columns.setdefault(int(at), []).extend({"steps": v} for v in vectors)
    heat = out / "heatmap.png"
    data = position_accuracy({f"step {at}": columns[at] for at in sorted(columns)})
    heatmap_figure(plt, data, f"held-out step accuracy, {mode}", heat)
    images.append((f"held-out step accuracy by anchor position x GRPO step ({mode}, seeds "
                   "pooled)", heat))  # fmt: skip
    return images


def _read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_html(out: Path, md: str, images: list, results: dict[str, dict[int, dict]]) -> Path:
    from stepcode.display import html_text
    from stepcode.rl.report import _tasks_by_id, figures_html, page_html, sample_viewer

    mode = "bilevel" if results.get("bilevel") else next(iter(results))
    first = results[mode][min(results[mode])]
    run_dir = Path(first["dir"])
    viewer = sample_viewer(_read_rows(run_dir / "samples" / "eval_after.jsonl"),
                           _tasks_by_id(run_dir / "data" / "eval.jsonl"))  # fmt: skip
    body = (f"<h1>stepcode: paper tables in miniature</h1><pre class='tables'>{html_text(md)}"
            f"</pre>{figures_html(images)}<h2>samples ({html_text(mode)}, seed "
            f"{min(results[mode])}, held-out)</h2>{viewer}")  # fmt: skip
    path = out / "report.html"
    path.write_text(page_html("stepcode paper tables", body), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ main ---


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=CONFIG)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "paper_tables")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (one CPU thread each)")
    ap.add_argument("--rows", default=",".join(ROWS), help="comma-separated subset of " +
                    ", ".join(ROWS))  # fmt: skip
    ap.add_argument("--smoke", action="store_true", help="2 steps, 1 seed: checks the plumbing")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    seeds = 1 if args.smoke else args.seeds
    overrides = [*(SMOKE if args.smoke else ()), "run.threads=1", *args.overrides]
    names = [n for n in args.rows.split(",") if n]
    unknown = set(names) - set(ROWS)
    if unknown:
        ap.error(f"unknown rows {sorted(unknown)}: use {', '.join(ROWS)}")
    config = str(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    dirs = run_all(config, overrides, args.out, seeds, [n for n in names if n != "sft"],
                   args.jobs)  # fmt: skip
    results: dict[str, dict[int, dict]] = {}
    for (name, seed), run_dir in sorted(dirs.items()):
        if name == "sft" and "sft" not in names:
            continue
        r = collect(Path(run_dir))
        r["levels"] = _levels_of(Path(run_dir))
        results.setdefault(name, {})[seed] = r
    levels = sorted({lv for rs in results.values() for r in rs.values() for lv in r["after"]
                     if lv != "all"})  # fmt: skip
    tables = build_tables(results, levels)
    wall = time.perf_counter() - t0
    cmd = "python benchmarks/paper_tables.py " + " ".join(sys.argv[1:] if argv is None else argv)
    header = (
        f"# Paper tables in miniature\n\n`{cmd}` ({seeds} seed(s), config "
        f"`{Path(config).name}`, overrides {overrides}); wall time {wall:.0f} s this "
        "invocation (finished runs are read back). Mean ± sample std over seeds."
    )
    md = markdown(tables, header)
    (args.out / "tables.md").write_text(md)
    payload = {"tables": tables, "runs": results, "seeds": seeds, "config": config,
               "overrides": overrides, "wall_s": wall}  # fmt: skip
    (args.out / "tables.json").write_text(json.dumps(payload, indent=1, default=str))
    images = write_figures(results, levels, args.out)
    write_html(args.out, md, images, results)
    print(md)
    print(f"wrote {args.out}/tables.md, tables.json, curves.png, heatmap.png, report.html")
    return payload


def run_all(config: str, overrides: list[str], out: Path, seeds: int, rows: list[str],
            jobs: int) -> dict[tuple[str, int], str]:  # fmt: skip
    """Warm-ups first (``jobs`` at a time), then each seed's rows as soon as its warm-up is done."""
    done: dict[tuple[str, int], str] = {}
    ctx = get_context("spawn")  # a fresh interpreter per worker: torch threads, no forked state
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=ctx) as pool:
        pending: dict[Future, tuple[str, int]] = {
            pool.submit(run_warmup, config, overrides, str(out / f"seed{s}"), s): ("sft", s)
            for s in range(seeds)
        }
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                name, seed = pending.pop(fut)
                done[(name, seed)] = fut.result()
                if name == "sft":
                    for row in rows:
                        f = pool.submit(run_row, config, overrides, str(out / f"seed{seed}"),
                                        seed, row)  # fmt: skip
                        pending[f] = (row, seed)
    return done


def _levels_of(run_dir: Path) -> dict[str, str]:
    return {d["task_id"]: str(d.get("metadata", {}).get("level", "?"))
            for d in _read_rows(run_dir / "data" / "eval.jsonl")}  # fmt: skip


if __name__ == "__main__":
    main()
