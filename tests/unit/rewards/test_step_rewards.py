"""score_completion / score_batch: outcome by execution, steps by position and name, audit."""

from __future__ import annotations

import json

import pytest

from stepcode.errors import ConfigError
from stepcode.rewards import (
    RewardConfig,
    audit_summary,
    score_batch,
    score_completion,
    step_correct,
)
from stepcode.tasks import make_tasks, make_tasks_batch, sft_target
from stepcode.types import AnchorHit, Program, Task, TaskKind

CODE = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    res = total * 2\n    return res\n"
ANS = "<answer>\nassert f([1, 2, 3]) == 12\n</answer>"


@pytest.fixture(scope="module")
def tasks() -> dict[TaskKind, Task]:
    p = Program(program_id="p", code=CODE, input_args="[1, 2, 3]", output="12")
    return {t.kind: t for t in make_tasks(p, list(TaskKind), max_questions=5)}


def _trace(lines: list[tuple[str, str]]) -> str:
    return "<trace>\n" + "".join(f"{n}: {v}\n" for n, v in lines) + "</trace>\n"


def test_gold_scores_one_everywhere(tasks: dict[TaskKind, Task]) -> None:
    for kind, t in tasks.items():
        for combine in ("terminal", "mean", "gated"):
            r = score_completion(t, sft_target(t), RewardConfig(combine=combine))
            assert r.scalar == 1.0 and r.outcome == 1.0, (kind, combine, r)
            assert r.audit == "right_answer_right_steps" and r.format_ok
            assert len(r.steps) == len(r.step_mask)


def test_output_aligned_gold_steps(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.OUTPUT_ALIGNED]
    assert [(h.name, h.value) for h in t.reference.anchors] == [
        ("total", "0"), ("total", "1"), ("total", "3"), ("res", "12"), ("return", "12")
    ]  # fmt: skip
    r = score_completion(t, sft_target(t))
    assert r.steps == (1.0,) * 5 and r.step_mask == (True,) * 5


@pytest.mark.parametrize("combine", ["mean", "gated"])
def test_right_answer_wrong_steps_scores_strictly_lower(
    tasks: dict[TaskKind, Task], combine: str
) -> None:
    t = tasks[TaskKind.OUTPUT_ALIGNED]
    cfg = RewardConfig(combine=combine)
    good = _trace([("total", "0"), ("total", "1"), ("total", "3"), ("res", "12"), ("return", "12")])
    bad = _trace([("total", "0"), ("total", "2"), ("total", "6"), ("res", "12"), ("return", "12")])
    rg, rb = score_completion(t, good + ANS, cfg), score_completion(t, bad + ANS, cfg)
    assert rg.outcome == rb.outcome == 1.0
    assert rb.steps == (1.0, 0.0, 0.0, 1.0, 1.0)
    assert rb.scalar < rg.scalar == 1.0
    assert rb.audit == "right_answer_wrong_steps" and rg.audit == "right_answer_right_steps"
    wrong = score_completion(t, good + ANS.replace("12\n", "13\n"), cfg)
    assert wrong.outcome == 0.0 and wrong.audit == "wrong_answer_right_steps"
    assert wrong.scalar < rg.scalar


def test_missing_extra_and_renamed_lines(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.OUTPUT_ALIGNED]
    gold = [("total", "0"), ("total", "1"), ("total", "3"), ("res", "12"), ("return", "12")]
    short = score_completion(t, _trace(gold[:3]) + ANS)
    assert short.steps == (1.0, 1.0, 1.0, 0.0, 0.0) and "wrong_step_count" in short.reason
    extra = score_completion(t, _trace([*gold, ("res", "12")]) + ANS)
    assert extra.steps == (1.0,) * 5 and extra.audit == "right_answer_wrong_steps"
    shifted = score_completion(t, _trace(gold[1:] + [("return", "12")]) + ANS)
    assert shifted.steps[:3] == (0.0, 0.0, 0.0)  # by position, not by search
    renamed = score_completion(t, _trace([("s", "0"), *gold[1:]]) + ANS)
    assert renamed.steps[0] == 0.0 and "name_mismatch" in renamed.reason


def test_step_values_are_typed_literals() -> None:
    hit = AnchorHit(name="x", value="1")
    assert step_correct(("x", "1"), hit) == 1.0
    assert step_correct(("x", "True"), hit) == 0.0
    assert step_correct(("x", "1.0"), hit) == 0.0
    assert step_correct(("x", "01"), hit) == 0.0
    assert step_correct(("y", "1"), hit) == 0.0
    assert step_correct(("x", "[1, (2, 'a')]"), AnchorHit(name="x", value="[1, (2, 'a')]")) == 1.0
    assert step_correct(("x", "[1, [2, 'a']]"), AnchorHit(name="x", value="[1, (2, 'a')]")) == 0.0
    assert step_correct(("x", "{2, 1}"), AnchorHit(name="x", value="{1, 2}")) == 1.0
    obj = AnchorHit(name="o", value="<Foo object>")  # not a literal: string fallback
    assert step_correct(("o", "<Foo object>"), obj) == 1.0
    assert step_correct(("o", "<Bar object>"), obj) == 0.0
    addr = AnchorHit(name="m", value="<map object at 0x7f95e7c4b310>")  # addresses differ per run
    assert step_correct(("m", "<map object at 0x7f0000000000>"), addr) == 1.0
    assert step_correct(("m", "<map object>"), addr) == 1.0
    assert step_correct(("m", "<filter object>"), addr) == 0.0


def test_input_aligned_steps_follow_the_models_own_input(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.INPUT_ALIGNED]
    own = ("<input>\nf([6])\n</input>\n" + _trace([("total", "0"), ("total", "6"), ("res", "12"), ("return", "12")])
           + "<answer>\nassert f([6]) == 12\n</answer>")  # fmt: skip
    r = score_completion(t, own)
    assert r.outcome == 1.0 and r.steps == (1.0,) * 4 and r.audit == "right_answer_right_steps"
    copied = own.replace("total: 6", "total: 1")  # the dataset input's trace, not its own
    rc = score_completion(t, copied)
    assert rc.outcome == 1.0 and rc.steps[1] == 0.0 and rc.scalar < r.scalar
    wrong = own.replace("[6]", "[5]")
    rw = score_completion(t, wrong)
    assert rw.outcome == 0.0 and rw.steps[1] == 0.0  # total: 6 is wrong for its own input [5]


def test_whitebox_scored_per_question(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.WHITEBOX]
    qs = t.reference.questions
    assert 0 < len(qs) <= 5
    gold = sft_target(t)
    lines = gold.splitlines()
    lines[2] = "definitely wrong"  # the answer to question 1
    r = score_completion(t, "\n".join(lines))
    assert r.outcome == 1.0 and r.steps[0] == 0.0 and all(s == 1.0 for s in r.steps[1:])
    assert r.audit == "right_answer_wrong_steps"
    assert r.scalar < score_completion(t, gold).scalar


def test_hostile_completions_score_zero(tasks: dict[TaskKind, Task]) -> None:
    # every left-hand side is a wrong input, every right-hand side a hostile non-answer
    hostile = [
        "<answer>\nassert f([0]) == f([1, 2, 3])\n</answer>",
        "<answer>\nassert True\n</answer>",
        "<answer>\nassert f([0]) == 12 or True\n</answer>",
        "<answer>\nassert f(1) or True or (1) == 12\n</answer>",
        "PASS\nTrue\n<answer>\nassert f([0]) == '12'\n</answer>",
        "<answer>\nassert f([0]) == 'a' * 10**9\n</answer>",
    ]
    # output tasks read only the right-hand side: a model-written def or call on the left is never
    # run, so `assert f(<anything>) == 12` is simply the right value there
    only_input = [
        "<answer>\ndef f(*a): return 12\nassert f(0) == 12\n</answer>",
        "<answer>\nassert f(__import__('os')._exit(0)) == 12\n</answer>",
        "<answer>\nassert f(type('E', (), {'__eq__': lambda s, o: True})()) == 12\n</answer>",
        "<answer>\nassert f(globals().update(f=lambda *a: 12)) == 12\n</answer>",
        "<answer>\nassert f([6]); f = lambda *a: 12; f(0) == 12\n</answer>",
    ]
    for kind, table in ((TaskKind.OUTPUT, hostile), (TaskKind.INPUT, hostile + only_input)):
        rs = score_batch([tasks[kind]] * len(table), table)
        assert all(r.outcome == 0.0 and r.scalar == 0.0 for r in rs), [r.reason for r in rs]
    ok = score_completion(tasks[TaskKind.OUTPUT], only_input[0])
    assert ok.outcome == 1.0


def test_audit_summary_shares(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.OUTPUT_ALIGNED]
    good = sft_target(t)
    rs = score_batch(
        [t] * 4,
        [good, good.replace("total: 1", "total: 9"), "garbage", good.replace("== 12", "== 1")],
    )
    s = audit_summary(rs)
    assert s["audit/right_answer_right_steps"] == 0.25
    assert s["audit/right_answer_wrong_steps"] == 0.25
    assert s["audit/unparsable"] == 0.25
    assert s["audit/wrong_answer_right_steps"] == 0.25
    assert sum(s.values()) == pytest.approx(1.0)
    assert audit_summary([]) == {k: 0.0 for k in s}


def test_reward_config_validation() -> None:
    with pytest.raises(ConfigError, match="combine"):
        RewardConfig(combine="sum")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        RewardConfig(w_final=-1)


def test_format_bonus_and_strict_types(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.OUTPUT]
    assert score_completion(
        t, sft_target(t), RewardConfig(format_bonus=0.05)
    ).scalar == pytest.approx(1.05)
    assert score_completion(t, "nothing", RewardConfig(format_bonus=0.05)).scalar == 0.0
    as_float = sft_target(t).replace("== 12", "== 12.0")
    assert score_completion(t, as_float).outcome == 1.0
    assert score_completion(t, as_float, RewardConfig(strict_types=True)).outcome == 0.0


@pytest.mark.slow  # ~8 s alone, > 20 s on a loaded 2-core machine
def test_cruxeval_gold_scores_one_both_directions(cruxeval_path) -> None:
    rows = [json.loads(line) for line in cruxeval_path.read_text().splitlines() if line.strip()]
    programs = [Program(program_id=r["id"], code=r["code"], input_args=r["input"], output=r["output"],
                        source="cruxeval") for r in rows]  # fmt: skip
    per = make_tasks_batch(programs, [TaskKind.OUTPUT, TaskKind.INPUT])
    tasks = [t for ts in per for t in ts]
    assert len(tasks) == 1600
    rewards = score_batch(tasks, [sft_target(t) for t in tasks])
    bad = [(t.task_id, r.reason) for t, r in zip(tasks, rewards, strict=True) if r.scalar != 1.0]
    assert bad == []


@pytest.mark.slow
def test_cruxeval_gold_aligned_and_whitebox(cruxeval_path) -> None:
    rows = [json.loads(line) for line in cruxeval_path.read_text().splitlines() if line.strip()]
    programs = [Program(program_id=r["id"], code=r["code"], input_args=r["input"], output=r["output"])
                for r in rows]  # fmt: skip
    kinds = [TaskKind.OUTPUT_ALIGNED, TaskKind.INPUT_ALIGNED, TaskKind.WHITEBOX]
    tasks = [t for ts in make_tasks_batch(programs, kinds) for t in ts]
    assert len(tasks) > 0.9 * 3 * len(rows)
    rewards = score_batch(tasks, [sft_target(t) for t in tasks])
    bad = [(t.task_id, r.reason) for t, r in zip(tasks, rewards, strict=True) if r.scalar != 1.0]
    assert bad == []
