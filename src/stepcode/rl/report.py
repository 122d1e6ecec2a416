"""Run report: PNG curves from ``metrics.jsonl`` and a self-contained ``report.html``."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path

from stepcode.metrics import read_metrics

CURVES = (
    ("loss/sft", "SFT loss"),
    ("reward/outcome", "GRPO outcome reward"),
    ("reward/step_acc", "GRPO step accuracy"),
    ("reward/right_answer_wrong_steps", "right answer, wrong steps"),
    ("loss/policy", "policy loss"),
    ("rollout/len_mean", "completion length"),
)


def write_report(
    run_dir: Path,
    before: Mapping[str, Mapping[str, float]],
    after: Mapping[str, Mapping[str, float]],
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir / "metrics.jsonl")
    plots_dir = run_dir / "plots"
    plots_dir.mkdir(exist_ok=True)
    images = []
    for key, title in CURVES:
        pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        if not pts:
            continue
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1.2)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = plots_dir / (key.replace("/", "_") + ".png")
        fig.savefig(path, dpi=90)
        plt.close(fig)
        images.append((title, path))
    if after:
        images.append(("held-out accuracy by level", _bar_plot(plt, plots_dir, before, after)))
    out = run_dir / "report.html"
    out.write_text(_html(run_dir, before, after, images), encoding="utf-8")
    return out


def _bar_plot(plt, plots_dir: Path, before, after) -> Path:
    levels = [lv for lv in after if lv != "all"]
    fig, ax = plt.subplots(figsize=(6, 3))
    xs = range(len(levels))
    for offset, (label, table, key) in enumerate(
        [
            ("final before", before, "final_acc"),
            ("final after", after, "final_acc"),
            ("steps after", after, "step_acc"),
        ]  # fmt: skip
    ):
        ax.bar(
            [x + 0.27 * (offset - 1) for x in xs],
            [100 * table.get(lv, {}).get(key, 0.0) for lv in levels],
            0.27,
            label=label,
        )
    ax.set_xticks(list(xs), [f"level {lv}" for lv in levels])
    ax.set_ylabel("%")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = plots_dir / "accuracy_by_level.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _html(run_dir: Path, before, after, images) -> str:
    head = "<tr><th>level</th><th>n</th><th>final before</th><th>final after</th><th>step before</th><th>step after</th><th>right answer, wrong steps</th></tr>"
    body = []
    for level, a in after.items():
        b = before.get(level, {})
        cells = [level, str(int(a.get("n", 0)))] + [
            f"{100 * x:.1f}%"
            for x in (
                b.get("final_acc", 0),
                a["final_acc"],
                b.get("step_acc", 0),
                a["step_acc"],
                a["right_answer_wrong_steps"],
            )
        ]
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    figs = "".join(
        f"<figure><img src='data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}'>"
        f"<figcaption>{html.escape(t)}</figcaption></figure>"
        for t, p in images
    )
    style = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}figure{display:inline-block;margin:8px}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>stepcode run</title><style>{style}</style></head>"
        f"<body><h1>stepcode run: {html.escape(str(run_dir))}</h1><table>{head}{''.join(body)}</table>{figs}</body></html>"
    )
