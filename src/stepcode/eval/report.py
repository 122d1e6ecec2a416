"""``DIR/report.html`` + PNG plots from one or more scored runs (``summary.json`` + ``samples.jsonl``).

Plots (matplotlib, Agg backend, PNGs written next to the HTML and embedded in it as base64 so the
page is self-contained):

* per-benchmark bars of the headline metric (``pass@1``, else ``avg_acc``/``acc``);
* accuracy by difficulty, program length and synthesizer level, from each sample row's ``group``
  (``stepcode.types.SampleRecord``, written by ``eval run`` and ``eval score`` alike);
* a step-accuracy heatmap (samples x steps) for execution-aligned variants, from the rows' ``steps``;
* per benchmark, its numbers, notes and the generations that pass only under the official harness
  (``official_only_samples``). All text from a run is shown through ``stepcode.display.html_text``.

Not done: significance tests or comparisons across models beyond side-by-side bars.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stepcode.display import html_text
from stepcode.errors import DataError
from stepcode.eval.records import read_samples
from stepcode.io import write_json
from stepcode.types import SampleRecord

log = logging.getLogger(__name__)
HEADLINE = ("pass@1", "avg_acc", "acc", "output_acc")
GROUPS = ("difficulty", "length", "level")


def load_run(run_dir: str | Path) -> tuple[dict[str, Any], list[SampleRecord]]:
    d = Path(run_dir)
    summary_file = d / "summary.json"
    if not summary_file.is_file():
        raise DataError(f"{d}: no summary.json (pass a directory written by `stepcode eval score`)")
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{summary_file}: not JSON ({e})") from None
    samples_file = d / "samples.jsonl"
    return summary, read_samples(samples_file) if samples_file.is_file() else []


def headline(summary: Mapping[str, Any]) -> tuple[str, float] | None:
    for k in HEADLINE:
        if isinstance(summary.get(k), int | float):
            return k, float(summary[k])
    return None


def _plt():  # noqa: ANN202 - matplotlib.pyplot module
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_bars(runs: Mapping[str, Mapping[str, Any]], path: Path) -> bool:
    vals = {name: headline(s) for name, s in runs.items()}
    vals = {k: v for k, v in vals.items() if v is not None}
    if not vals:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(vals)), 3.5))
    names = list(vals)
    ax.bar(names, [vals[n][1] for n in names], color="#4a7bb7")
    for i, n in enumerate(names):
        ax.text(i, vals[n][1] + 1, f"{vals[n][1]:.1f}\n({vals[n][0]})", ha="center", fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("score (%)")
    ax.set_title("Per-benchmark score")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def accuracy_by(samples: Sequence[SampleRecord], key: str) -> dict[str, tuple[float, int]]:
    """Group -> (accuracy %, n) over non-skipped samples whose ``group`` has ``key``."""
    groups: dict[str, list[bool]] = {}
    for s in samples:
        if key in s.group and not s.skipped:
            groups.setdefault(s.group[key], []).append(s.correct)
    return {
        g: (100.0 * sum(v) / len(v), len(v))
        for g, v in sorted(groups.items(), key=lambda kv: _order(kv[0]))
    }


def _order(group: str) -> tuple[int, str]:
    rank = {"easy": 0, "medium": 1, "hard": 2}
    head = group.split("-")[0]
    return (rank.get(group, int(head) if head.isdigit() else 99), group)


def plot_groups(runs: Mapping[str, Sequence[SampleRecord]], key: str, path: Path) -> bool:
    data = {name: accuracy_by(samples, key) for name, samples in runs.items()}
    data = {k: v for k, v in data.items() if v}
    if not data:
        return False
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, groups in data.items():
        ax.plot(list(groups), [a for a, _ in groups.values()], marker="o", label=name)
    ax.set_ylim(0, 105)
    ax.set_xlabel(key)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"Accuracy by {key}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_step_heatmap(samples: Sequence[SampleRecord], path: Path, max_items: int = 60) -> bool:
    rows = [s.steps for s in samples if s.steps]
    if not rows:
        return False
    import numpy as np

    rows = rows[:max_items]
    width = max(len(r) for r in rows)
    grid = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        grid[i, : len(r)] = [float(x) for x in r]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(min(12, 2 + 0.3 * width), min(10, 1.5 + 0.15 * len(rows))))
    im = ax.imshow(grid, aspect="auto", cmap="RdYlGn", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xlabel("trace step")
    ax.set_ylabel("sample")
    ax.set_title("Step accuracy (green = correct, blank = no step)")
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _img(path: Path) -> str:
    b64 = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html_text(path.name)}" src="data:image/png;base64,{b64}"></figure>'


def _cell(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, float) else html_text(json.dumps(v), 2000)


_NOT_TABLED = ("notes", "official_only_samples", "settings")


def _section(name: str, summary: Mapping[str, Any]) -> str:
    """One benchmark: its numbers, its settings, notes, and the official-only generations."""
    rows = "".join(f"<tr><td>{html_text(k)}</td><td>{_cell(v)}</td></tr>"
                   for k, v in summary.items() if k not in _NOT_TABLED)  # fmt: skip
    out = f"<h2>{html_text(name)}</h2><table>{rows}</table>"
    if isinstance(summary.get("settings"), Mapping):
        out += f"<p class=note>settings: {html_text(json.dumps(summary['settings']), 2000)}</p>"
    out += "".join(f"<p class=note>{html_text(x, 2000)}</p>" for x in summary.get("notes", []))
    flagged = summary.get("official_only_samples") or []
    if flagged:
        items = "".join(
            f"<li><code>{html_text(f.get('item_id'))}#{html_text(f.get('sample_idx'))}</code>: "
            f"<code>{html_text(f.get('extracted'), 200)}</code> ({html_text(f.get('by_value'))})</li>"
            for f in flagged if isinstance(f, Mapping)
        )  # fmt: skip
        out += (f"<h3>Pass only under the official harness ({len(flagged)} listed)</h3>"
                f"<p class=note>run as code they pass; as values they do not</p><ul>{items}</ul>")  # fmt: skip
    return out


def expand_runs(run_dirs: Sequence[str | Path]) -> list[Path]:
    """An ``eval run`` output root (``OUT/<benchmark>/summary.json``) stands for its benchmarks."""
    found: list[Path] = []
    for d in map(Path, run_dirs):
        subs = (
            sorted(x for x in d.iterdir() if (x / "summary.json").is_file()) if d.is_dir() else []
        )
        found.extend(subs or [d])
    return found


def write_report(
    run_dirs: Sequence[str | Path] | str | Path, out_dir: str | Path | None = None
) -> Path:
    """Read each run, draw the plots that apply, write ``out_dir/report.html``; returns its path.

    ``write_report(OUT)`` (one directory, as ``eval run`` calls it) reports on ``OUT``'s benchmark
    subdirectories and writes into ``OUT``."""
    if isinstance(run_dirs, str | Path):
        out_dir = out_dir if out_dir is not None else run_dirs
        run_dirs = [run_dirs]
    run_dirs = expand_runs(run_dirs)
    if not run_dirs or out_dir is None:
        raise DataError("no run directories (or no output directory) given")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summaries, samples = {}, {}
    for d in run_dirs:
        s, rows = load_run(d)
        name = str(s.get("benchmark") or Path(d).name)
        name = name if name not in summaries else f"{name} ({Path(d).name})"
        summaries[name], samples[name] = s, rows
    figures = []
    if plot_bars(summaries, out / "scores.png"):
        figures.append(out / "scores.png")
    for key in GROUPS:
        if plot_groups(samples, key, out / f"accuracy_by_{key}.png"):
            figures.append(out / f"accuracy_by_{key}.png")
    for i, (name, rows) in enumerate(samples.items()):
        p = out / f"step_heatmap_{i}.png"
        if plot_step_heatmap(rows, p):
            figures.append(p)
            log.info("step heatmap for %s", name)
    sections = "".join(_section(n, s) for n, s in summaries.items())
    page = (
        "<!doctype html><html><head><meta charset=utf-8><title>stepcode evaluation report</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}td{padding:2px 10px}"
        "img{max-width:100%}.note{color:#666;font-size:90%}</style></head><body>"
        f"<h1>stepcode evaluation report</h1>{''.join(_img(f) for f in figures)}{sections}</body></html>"
    )
    target = out / "report.html"
    target.write_text(page, encoding="utf-8")
    write_json(
        out / "report_index.json",
        {"runs": [str(d) for d in run_dirs], "figures": [f.name for f in figures]},
    )
    return target
