"""CI's smoke run of ``benchmarks/paper_tables.py``: 2 SFT + 2 GRPO steps, one seed, every row.
Checks the files and the tables' shape (the numbers of a 2-step run mean nothing), and that a
second invocation reads the finished runs back instead of training again."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _paper_tables():
    sys.path.insert(0, str(REPO / "benchmarks"))  # spawned workers import it by name too
    import paper_tables

    return paper_tables


def test_smoke_writes_every_table_and_figure(tmp_path: Path) -> None:
    pt = _paper_tables()
    out = tmp_path / "tables"
    payload = pt.main(["--smoke", "--out", str(out)])
    for name in ("tables.md", "tables.json", "curves.png", "heatmap.png", "report.html"):
        assert (out / name).is_file(), name
    for png in ("curves.png", "heatmap.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG")
    tables = json.loads((out / "tables.json").read_text())["tables"]
    rows = list(pt.ROWS)
    assert list(tables["rows"]) == rows and tables["levels"] == ["1", "2", "3"]
    assert all(list(tables["table5"][r]) == ["1", "2", "3", "all"] for r in rows)
    assert all(set(tables["table6"][r]) == set(pt.METRICS) for r in rows)
    assert all(set(tables["table7"][r]) == {"aligned", "plain"} for r in rows)
    assert all(" ± " in tables["table14"][r]["tokens"] for r in rows)
    assert len(tables["paired"]) == len(rows) * (len(rows) - 1) // 2 * 4
    md = (out / "tables.md").read_text()
    for title in ("Table 5", "Table 6", "Table 7", "Table 14", "Paired comparisons"):
        assert title in md
    # every seed's rows share the warm-up and the held-out programs
    runs = payload["runs"]
    held = {name: set(r[0]["outcomes"]) for name, r in runs.items()}
    assert len({frozenset(v) for v in held.values()}) == 1 and len(held["sft"]) > 0
    n_held = len((out / "seed0" / "sft" / "data" / "eval.jsonl").read_text().splitlines())
    assert len(held["sft"]) == n_held  # one outcome per held-out program
    assert all(r[0]["curve"][0][0] == 0 for name, r in runs.items() if name != "sft")
    assert "id='sample-viewer'" in (out / "report.html").read_text()
    # each row's Table 7 / 14 extras are its own model's, never the warm-up's copied over
    for name in rows:
        run_dir = out / "seed0" / name
        final = (run_dir / "final" / "model.safetensors").stat().st_mtime
        assert (run_dir / "tables_extra.json").stat().st_mtime >= final, name

    t0 = time.perf_counter()
    again = pt.main(["--smoke", "--out", str(out)])  # resumable: finished runs are read back
    assert time.perf_counter() - t0 < 60
    assert again["tables"]["table5"] == tables["table5"]
