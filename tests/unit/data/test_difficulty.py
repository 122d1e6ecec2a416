"""The pass-count difficulty filter, driven through the Engine protocol."""

from __future__ import annotations

from stepcode.data.build import BuildState
from stepcode.data.config import DifficultySection
from stepcode.data.difficulty import filter_by_difficulty
from stepcode.data.synth import synthesize_programs
from stepcode.rollout.engines import Completion, GenerationParams
from stepcode.tasks import make_tasks_batch, sft_target
from stepcode.types import TaskKind


class _SolvesSome:
    """Answers the gold completion for the first ``solved`` prompts, nonsense for the rest."""

    def __init__(self, tasks, solved: int) -> None:
        self.gold = {t.prompt: sft_target(t) for t in tasks}
        self.solved = solved

    def generate(self, prompts, params: GenerationParams):
        return [
            [
                Completion(
                    text=self.gold[p] if i < self.solved else "no idea",
                    finish_reason="stop",
                    n_tokens=3,
                )
            ]
            * params.n
            for i, p in enumerate(prompts)
        ]


def test_easy_programs_are_dropped_and_counted() -> None:
    progs = synthesize_programs(1, 6, seed=2)
    per = make_tasks_batch(progs, [TaskKind.OUTPUT])
    items = [(p, None, ts) for p, ts in zip(progs, per, strict=True)]
    state = BuildState()
    engine = _SolvesSome([t for ts in per for t in ts], solved=2)
    kept = filter_by_difficulty(
        items, DifficultySection(k=3, min_pass=0, max_pass=2), state, engine=engine
    )
    assert [p.program_id for p, _, _ in kept] == [p.program_id for p in progs[2:]]
    assert state.removed == {"difficulty": 2}
    assert filter_by_difficulty(items, DifficultySection(), state) == items  # disabled: no-op
