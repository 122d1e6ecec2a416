"""Run report: PNG curves from ``metrics.jsonl``, a step-accuracy heatmap, a sample viewer, and a
self-contained ``report.html`` (every image inlined, no script, opens from disk).

Pieces (``benchmarks/paper_tables.py`` builds its page from the same ones):

* ``curve_figure``: raw values (thin) with a centred moving average over them (thick), integer
  step axis;
* ``heatmap_figure``: held-out step accuracy by anchor position (rows) x a second axis (levels of
  each stage for a run, training steps for the tables);
* ``sample_viewer``: for a few held-out programs, the program, each ground-truth anchor state beside
  the model's predicted line, marked right or wrong, and the answer;
* ``accuracy_table``: final / step accuracy per level for each stage (at init, after the warm-up,
  after GRPO).

Everything derived from model text or programs goes through ``stepcode.display.html_text``.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stepcode.display import html_text
from stepcode.metrics import read_metrics

CURVES = (
    ("loss/sft", "SFT loss"),
    ("reward/outcome", "GRPO training outcome reward"),
    ("reward/step_acc", "GRPO training step accuracy"),
    ("reward/right_answer_wrong_steps", "right answer, wrong steps (training)"),
    ("policy/entropy", "policy entropy (nats / token)"),
    ("adv/abs_mean", "mean |token advantage|"),
    ("loss/policy", "policy loss"),
    ("rollout/len_mean", "completion length (tokens)"),
)
Table = Mapping[str, Mapping[str, float]]
STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
    "margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "figure{display:inline-block;margin:8px}pre{background:#f6f6f6;padding:6px;margin:4px 0}"
    ".right{background:#e3f6e3}.wrong{background:#fbe3e3}.sample{border:1px solid #ddd;"
    "padding:6px 10px;margin:8px 0}td.text{text-align:left;font-family:monospace}"
)


def write_report(
    run_dir: Path,
    before: Table,
    after: Table,
    *,
    warmup: Table | None = None,
    samples: int = 6,
) -> Path:
    """Write ``run_dir/report.html`` (and ``run_dir/plots/*.png``) for a training run.

    ``before`` / ``warmup`` / ``after`` are ``{level: metrics}`` tables (``rl.evaluate``) at init,
    after the SFT warm-up (None when the run has no separate warm-up evaluation) and at the end.
    The sample viewer and the heatmap read ``samples/eval_*.jsonl`` and ``data/eval.jsonl``.
    """
    plt = _pyplot()
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    rows = read_metrics(run_dir / "metrics.jsonl")
    images: list[tuple[str, Path]] = []
    for key, title in CURVES:
        pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        if pts:
            path = plots / (key.replace("/", "_") + ".png")
            curve_figure(plt, {"": pts}, title, path)
            images.append((title, path))
    held = _held_out_series(rows, warmup, after)
    if held:
        path = plots / "held_out_during_grpo.png"
        curve_figure(plt, held, "held-out final accuracy during GRPO", path, ylabel="%")
        images.append(("held-out final accuracy during GRPO (by level)", path))
    stages = {"init": before, **({"warm-up": warmup} if warmup is not None else {}), "final": after}
    if after:
        images.append(("held-out accuracy by level", _bar_plot(plt, plots, stages)))
    tasks = _tasks_by_id(run_dir / "data" / "eval.jsonl")
    stage_rows = {
        name: _read_jsonl(run_dir / "samples" / f"eval_{file}.jsonl")
        for name, file in (("init", "before"), ("warm-up", "warmup"), ("final", "after"))
    }
    columns = {
        f"{name} L{lv}": rs
        for name, rows_ in stage_rows.items()
        for lv, rs in _by_level(rows_).items()
    }
    if columns:
        path = plots / "step_accuracy_heatmap.png"
        heatmap_figure(plt, position_accuracy(columns), "held-out step accuracy", path)
        images.append(("step accuracy by anchor position (stage, level)", path))
    body = [
        f"<h1>stepcode run: {html_text(str(run_dir))}</h1>",
        "<h2>held-out accuracy (greedy)</h2>",
        accuracy_table(stages),
        figures_html(images),
        "<h2>samples (held-out, final model)</h2>",
        sample_viewer(stage_rows["final"], tasks, limit=samples),
    ]
    out = run_dir / "report.html"
    out.write_text(page_html("stepcode run", "".join(body)), encoding="utf-8")
    return out


def smooth(values: Sequence[float], window: int | None = None) -> list[float]:
    """Centred moving average (window ~ len/10, odd, at least 1); the ends average what exists."""
    n = len(values)
    w = window or max(1, (n // 10) | 1)
    half = w // 2
    out = []
    for i in range(n):
        part = values[max(0, i - half) : i + half + 1]
        out.append(sum(part) / len(part))
    return out


def curve_figure(
    plt: Any,
    series: Mapping[str, Sequence[tuple[float, float]]],
    title: str,
    path: Path,
    *,
    bands: Mapping[str, Sequence[tuple[float, float, float]]] | None = None,
    ylabel: str = "",
) -> Path:
    """One PNG: per series the raw points (thin) and their moving average (thick); ``bands``
    (``(step, low, high)`` per series) are shaded (e.g. the spread over seeds)."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(5, 3))
    for i, (label, pts) in enumerate(series.items()):
        colour = f"C{i}"
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        if bands and label in bands:
            b = bands[label]
            ax.fill_between([x for x, _, _ in b], [lo for _, lo, _ in b], [hi for _, _, hi in b],
                            color=colour, alpha=0.2, lw=0)  # fmt: skip
        ax.plot(xs, ys, lw=0.8, alpha=0.45, color=colour)
        ax.plot(xs, smooth(ys) if len(ys) > 4 else ys, lw=1.8, color=colour, label=label or None)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.set_xlabel("step")
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if any(series):
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def position_accuracy(
    columns: Mapping[str, Sequence[Mapping[str, Any]]], max_positions: int = 8
) -> tuple[list[str], list[list[float | None]]]:
    """``(column labels, rows)``: the share of right predictions at anchor position ``k`` (row k)
    over the eval rows of each column (``rows[k][j]`` is None where no task has a k-th anchor)."""
    labels = list(columns)
    grid: list[list[float | None]] = []
    for k in range(max_positions):
        line: list[float | None] = []
        for label in labels:
            vals = [r["steps"][k] for r in columns[label] if len(r.get("steps", ())) > k]
            line.append(sum(vals) / len(vals) if vals else None)
        grid.append(line)
    while grid and all(v is None for v in grid[-1]):
        grid.pop()
    return labels, grid


def heatmap_figure(
    plt: Any, data: tuple[list[str], list[list[float | None]]], title: str, path: Path
) -> Path:
    """Anchor position (rows) x columns, accuracy 0..1 as colour, the value written in each cell."""
    import numpy as np

    labels, grid = data
    arr = np.array([[np.nan if v is None else v for v in row] for row in grid] or [[np.nan]])
    fig, ax = plt.subplots(figsize=(max(4, 0.7 * len(labels) + 2), 0.45 * len(arr) + 1.6))
    im = ax.imshow(arr, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(arr)), [f"anchor {k + 1}" for k in range(len(arr))], fontsize=7)
    for (i, j), v in np.ndenumerate(arr):
        if not np.isnan(v):
            ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=6,
                    color="white" if v < 0.5 else "black")  # fmt: skip
    fig.colorbar(im, ax=ax, fraction=0.04)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def accuracy_table(stages: Mapping[str, Table]) -> str:
    """HTML table: one row per level, final and step accuracy for each stage."""
    names = [n for n, t in stages.items() if t]
    levels = list(next((t for t in reversed(list(stages.values())) if t), {}))
    head = "<tr><th>level</th><th>n</th>" + "".join(
        f"<th>final % {html.escape(n)}</th>" for n in names
    ) + "".join(f"<th>step % {html.escape(n)}</th>" for n in names) + "</tr>"  # fmt: skip
    body = []
    for lv in levels:
        n = next((int(stages[s][lv].get("n", 0)) for s in names if lv in stages[s]), 0)
        cells = [html.escape(str(lv)), str(n)]
        for key in ("final_acc", "step_acc"):
            cells += [_pct(stages[s].get(lv, {}).get(key)) for s in names]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table class='accuracy'>{head}{''.join(body)}</table>"


def sample_viewer(
    rows: Sequence[Mapping[str, Any]], tasks: Mapping[str, Any], *, limit: int = 6
) -> str:
    """HTML of a few held-out samples (``types.SampleRecord`` rows): program, true vs predicted
    anchor states (right/wrong), and the answer. Picks a mix: right answers, right answers through
    wrong steps, wrong answers."""
    from stepcode.rewards import parse_completion

    picked = _pick(rows, limit)
    parts = ["<div id='sample-viewer'>"]
    for row in picked:
        task = tasks.get(row.get("item_id"))
        if task is None:
            continue
        ref = task.reference
        parsed = parse_completion(task, str(row.get("generation", "")))
        lines = []
        for k, anchor in enumerate(ref.anchors):
            pred = parsed.steps[k] if k < len(parsed.steps) else None
            ok = k < len(row.get("steps", ())) and row["steps"][k] == 1
            pred_text = f"{pred[0]}: {pred[1]}" if pred else "(missing)"
            lines.append(
                f"<tr class='step {'right' if ok else 'wrong'}'><td>{k + 1}</td>"
                f"<td class='text'>{html_text(anchor.name)}: {html_text(anchor.value, 200)}</td>"
                f"<td class='text'>{html_text(pred_text, 200)}</td>"
                f"<td>{'right' if ok else 'wrong'}</td></tr>"
            )
        for extra in parsed.steps[len(ref.anchors) :]:
            lines.append(
                "<tr class='step wrong'><td>+</td><td class='text'>(no anchor)</td>"
                f"<td class='text'>{html_text(f'{extra[0]}: {extra[1]}', 200)}</td>"
                "<td>extra</td></tr>"
            )
        verdict = "right" if row.get("correct") else "wrong"
        parts.append(
            f"<div class='sample'><h3>{html_text(row.get('item_id'))} (level "
            f"{html_text(_level(row))}, {html_text(row.get('audit'))})</h3>"
            f"<pre class='program'>{html_text(ref.code, 4000)}</pre>"
            f"<p>call: <code>{html_text(ref.entry_point)}({html_text(ref.input_args, 300)})"
            "</code></p><table class='steps'><tr><th>#</th><th>true state</th>"
            f"<th>predicted</th><th></th></tr>{''.join(lines)}</table>"
            f"<p class='answer {verdict}'>answer: <code>{html_text(parsed.predicted, 300)}</code>"
            f" (true: <code>{html_text(ref.output, 300)}</code>) {verdict}</p>"
            f"<details><summary>completion</summary><pre>{html_text(row.get('generation'), 4000)}"
            "</pre></details></div>"
        )
    parts.append("</div>")
    return "".join(parts)


def figures_html(images: Sequence[tuple[str, Path]]) -> str:
    return "".join(
        f"<figure><img alt='{html.escape(t)}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}'><figcaption>{html.escape(t)}</figcaption>"
        "</figure>"
        for t, p in images
    )


def page_html(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _held_out_series(
    rows: Sequence[Mapping[str, Any]], warmup: Table | None, after: Table
) -> dict[str, list[tuple[float, float]]]:
    """``{level: [(step, final %)]}`` from the ``eval/*`` metrics (``run.eval_every``), with the
    warm-up's table at the first GRPO step's predecessor and the final table at the last step."""
    evals = [r for r in rows if any(k.startswith("eval/") for k in r)]
    if not evals:
        return {}
    grpo = [r["step"] for r in rows if "reward/outcome" in r]
    first, last = (min(grpo) - 1, max(grpo)) if grpo else (None, None)
    series: dict[str, list[tuple[float, float]]] = {}
    for lv in (k.split("/")[1] for k in evals[0] if k.endswith("/final_acc")):
        pts = [(r["step"], 100 * r[f"eval/{lv}/final_acc"]) for r in evals
               if r.get(f"eval/{lv}/final_acc") is not None]  # fmt: skip
        if warmup and lv in warmup and first is not None:
            pts.insert(0, (first, 100 * warmup[lv]["final_acc"]))
        if lv in after and last is not None:
            pts.append((last, 100 * after[lv]["final_acc"]))
        series[f"level {lv}" if lv != "all" else "all"] = pts
    return series


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _pick(rows: Sequence[Mapping[str, Any]], limit: int) -> list[Mapping[str, Any]]:
    """Up to ``limit`` rows, round-robin over audit classes (right, right-wrong-steps, wrong...)."""
    by_audit: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_audit.setdefault(str(r.get("audit", "")), []).append(r)
    out: list[Mapping[str, Any]] = []
    while len(out) < limit and any(by_audit.values()):
        for key in sorted(by_audit):
            if by_audit[key] and len(out) < limit:
                out.append(by_audit[key].pop(0))
    return out


def _by_level(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        out.setdefault(_level(r), []).append(r)
    return dict(sorted(out.items()))


def _level(row: Mapping[str, Any]) -> str:
    """The level label of a ``types.SampleRecord`` row (``group.level``)."""
    group = row.get("group")
    return str(group.get("level", "?")) if isinstance(group, Mapping) else "?"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _tasks_by_id(path: Path) -> dict[str, Any]:
    from stepcode.types import Task

    return {d["task_id"]: Task.from_dict(d) for d in _read_jsonl(path) if "task_id" in d}


def _bar_plot(plt: Any, plots_dir: Path, stages: Mapping[str, Table]) -> Path:
    after = list(stages.values())[-1]
    levels = [lv for lv in after if lv != "all"]
    bars = [(f"final {n}", t, "final_acc") for n, t in stages.items() if t]
    bars.append(("steps final", after, "step_acc"))
    width = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(6, 3))
    for i, (label, table, key) in enumerate(bars):
        ax.bar(
            [x + width * (i - (len(bars) - 1) / 2) for x in range(len(levels))],
            [100 * table.get(lv, {}).get(key, 0.0) for lv in levels],
            width,
            label=label,
        )
    ax.set_xticks(list(range(len(levels))), [f"level {lv}" for lv in levels])
    ax.set_ylabel("%")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = plots_dir / "accuracy_by_level.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
