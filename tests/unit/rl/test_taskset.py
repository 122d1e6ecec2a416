"""rl.taskset: synthesized task sets are distinct, capped per program, reproducible, held out."""

from __future__ import annotations

from collections import Counter

from stepcode.rl.config import DataConfig
from stepcode.rl.taskset import build_task_sets


def test_each_pair_once_and_each_program_capped() -> None:
    cfg = DataConfig(n_train=300, n_eval=40, eval_levels=(1,), max_inputs_per_program=2)
    sets = build_task_sets(cfg, seed=5)
    pairs = [(t.reference.code, t.reference.input_args) for t in sets.train]
    assert len(sets.train) == 300 and len(set(pairs)) == len(pairs)
    assert max(Counter(code for code, _ in pairs).values()) <= 2
    # the held-out tasks never repeat a training (code, input) pair
    held = {(t.reference.code, t.reference.input_args) for t in sets.eval}
    assert held and not held & set(pairs)
    again = build_task_sets(cfg, seed=5)
    assert [t.prompt for t in again.train] == [t.prompt for t in sets.train]


def test_a_cap_of_one_gives_distinct_programs() -> None:
    sets = build_task_sets(DataConfig(n_train=120, n_eval=1, max_inputs_per_program=1), seed=1)
    codes = [t.reference.code for t in sets.train]
    assert len(codes) == 120 and len(set(codes)) == 120


def test_runs_with_different_seeds_share_one_held_out_set() -> None:
    cfg = DataConfig(n_train=60, n_eval=30, eval_levels=(1,))
    a, b = build_task_sets(cfg, seed=0), build_task_sets(cfg, seed=1)
    assert [t.prompt for t in a.train] != [t.prompt for t in b.train]
    shared = {t.prompt for t in a.eval} & {t.prompt for t in b.eval}
    assert len(shared) >= 0.8 * min(len(a.eval), len(b.eval))  # only training overlaps differ
    moved = build_task_sets(DataConfig(n_train=60, n_eval=30, eval_levels=(1,), eval_seed=3), 0)
    assert {t.prompt for t in moved.eval} != {t.prompt for t in a.eval}
