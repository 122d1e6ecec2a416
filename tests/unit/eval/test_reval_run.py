"""``evaluate`` (``stepcode eval run``) on REval: the run records its prompt set and score mode,
and gold answers score 100 % through the front door in both modes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from stepcode.eval.benchmarks import get_benchmark, reval
from stepcode.eval.benchmarks.reval_data import reval_item
from stepcode.eval.config import EvalConfig, SamplingOverrides
from stepcode.eval.harness import evaluate
from stepcode.rollout.engines import Completion, GenerationParams


class GoldEngine:
    """Answers each prompt with the gold answer of the question it renders."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[list[Completion]]:
        return [[Completion(text=self.answers[p], finish_reason="stop", n_tokens=3)] * params.n
                for p in prompts]  # fmt: skip


@pytest.mark.parametrize(("prompts", "mode"), [("stepcode", "strict"), ("official", "official")])
def test_reval_state_run_records_prompts_and_mode(reval_dir: Path, tmp_path: Path,
                                                  prompts: str, mode: str) -> None:  # fmt: skip
    if prompts == "official" and not (reval_dir / "prompts" / "direct_state.txt").is_file():
        pytest.skip("REval's official prompts are not present")
    bench = get_benchmark("reval-state", prompts=prompts, harness=str(reval_dir))
    items = bench.load(str(reval_dir), limit=2)
    pairs = {reval_item(it).pair.pair_id: reval_item(it).pair for it in items}
    traces = dict(zip(pairs, reval.trace_items(list(pairs.values())), strict=True))
    gold = {k: reval.gold_generations(p, traces[k], "state", mode) for k, p in pairs.items()}  # type: ignore[arg-type]
    answers = {bench.prompt(it): gold[reval_item(it).pair.pair_id][reval_item(it).q or 0]
               for it in items}  # type: ignore[index]  # fmt: skip
    cfg = EvalConfig(data={"reval-state": str(reval_dir)}, limit=2, prompts=prompts,  # type: ignore[arg-type]
                     harness={"reval": str(reval_dir)}, score_mode=mode,  # type: ignore[arg-type]
                     sampling=SamplingOverrides(greedy=True))  # fmt: skip
    (res,) = evaluate(GoldEngine(answers), ["reval-state"], cfg, tmp_path / "out").results
    assert res.summary["state_acc"] == 100.0 and res.summary["state_n"] == len(items)
    assert res.settings["prompts"] == prompts and res.settings["prompt_digest"] == bench.prompt_info["prompt_digest"]  # fmt: skip
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["benchmarks"][
        "reval-state"
    ]
    assert summary["score_mode"] == mode and any(f"state values: {mode}" in n for n in summary["notes"])  # fmt: skip
