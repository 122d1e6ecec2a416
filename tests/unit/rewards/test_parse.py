"""parse_completion: gold completions parse, malformed ones give reasons, nothing ever raises."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepcode.rewards import parse_completion
from stepcode.rewards.parse import MAX_COMPLETION_CHARS
from stepcode.tasks import make_tasks, sft_target
from stepcode.types import Program, Task, TaskKind

CODE = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    res = total * 2\n    return res\n"


@pytest.fixture(scope="module")
def tasks() -> dict[TaskKind, Task]:
    p = Program(program_id="p", code=CODE, input_args="[1, 2, 3]", output="12")
    return {t.kind: t for t in make_tasks(p, list(TaskKind), max_questions=4)}


def test_gold_parses_with_spans(tasks: dict[TaskKind, Task]) -> None:
    assert set(tasks) == set(TaskKind)
    for kind, task in tasks.items():
        gold = sft_target(task)
        p = parse_completion(task, gold)
        assert p.ok and p.reason == "ok" and p.trace_reason == "ok", kind
        assert p.answer_span is not None
        a, b = p.answer_span
        assert "assert f(" in gold[a:b]
        for (name, value), (s, e) in zip(p.steps, p.step_spans, strict=True):
            assert value in gold[s:e]
            if kind is not TaskKind.WHITEBOX:
                assert gold[s:e].startswith(f"{name}: ")
        if kind in (TaskKind.OUTPUT_ALIGNED, TaskKind.INPUT_ALIGNED):
            assert len(p.steps) == len(task.reference.anchors) > 0
            assert all(e <= a for _, e in p.step_spans)  # steps come before the answer
    assert (
        parse_completion(tasks[TaskKind.OUTPUT], sft_target(tasks[TaskKind.OUTPUT])).predicted
        == "12"
    )
    assert (
        parse_completion(tasks[TaskKind.INPUT], sft_target(tasks[TaskKind.INPUT])).predicted
        == "[1, 2, 3]"
    )


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        (TaskKind.OUTPUT, "the answer is 12", "no_answer_block"),
        (TaskKind.OUTPUT, "<answer>12</answer>", "no_assert"),
        (TaskKind.OUTPUT, "<answer>\nassert f([1, 2, 3]) == 6 * 2\n</answer>", "not_a_value"),
        (
            TaskKind.OUTPUT,
            "<answer>\nassert f([1, 2, 3]) == 12; import os\n</answer>",
            "unparsable_assert",
        ),
        (
            TaskKind.OUTPUT,
            "<answer>\nassert f([1, 2, 3]) == 12, 'msg'\n</answer>",
            "unparsable_assert",
        ),
        (TaskKind.OUTPUT, "<answer>\nassert f([1, 2, 3]) != 12\n</answer>", "unparsable_assert"),
        (TaskKind.INPUT, "<answer>\nassert g([1]) == 12\n</answer>", "not_a_call"),
        (
            TaskKind.INPUT,
            "<answer>\nassert f(__import__('os')) == 12\n</answer>",
            "not_a_value",
        ),
        (
            TaskKind.OUTPUT_ALIGNED,
            "<answer>\nassert f([1, 2, 3]) == 12\n</answer>",
            "no_trace_block",
        ),
        (
            TaskKind.INPUT_ALIGNED,
            "<trace>\n</trace><answer>\nassert f([6]) == 12\n</answer>",
            "no_input_block",
        ),
        (
            TaskKind.INPUT_ALIGNED,
            "<input>\nf([5, 1])\n</input>\n<trace>\ntotal: 0\n</trace>\n"
            "<answer>\nassert f([6]) == 12\n</answer>",
            "input_mismatch",
        ),
    ],
)
def test_failure_reasons(
    tasks: dict[TaskKind, Task], kind: TaskKind, text: str, reason: str
) -> None:
    p = parse_completion(tasks[kind], text)
    assert not p.ok and p.reason == reason


def test_trace_reasons(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.OUTPUT_ALIGNED]
    ans = "<answer>\nassert f([1, 2, 3]) == 12\n</answer>"
    short = parse_completion(t, "<trace>\ntotal: 0\n</trace>\n" + ans)
    assert short.ok and short.trace_reason == "wrong_step_count"
    lines = "".join(
        f"{'y' if i == 0 else h.name}: {h.value}\n" for i, h in enumerate(t.reference.anchors)
    )
    renamed = parse_completion(t, f"<trace>\n{lines}</trace>\n" + ans)
    assert renamed.ok and renamed.trace_reason == "name_mismatch"


def test_last_answer_block_wins(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.OUTPUT]
    text = "<answer>\nassert f([1, 2, 3]) == 1\n</answer> no wait <answer>\nassert f([1, 2, 3]) == 12\n</answer>"
    assert parse_completion(t, text).predicted == "12"


def test_overlong_and_pathological_inputs_are_fast(tasks: dict[TaskKind, Task]) -> None:
    t = tasks[TaskKind.INPUT_ALIGNED]
    assert parse_completion(t, "x" * (MAX_COMPLETION_CHARS + 1)).reason == "too_long"
    nasty = [
        "<answer>" * 20_000,
        "<trace>" * 20_000 + "<answer>",
        "<input>f(" + "[" * 5_000 + "</input><trace></trace><answer>assert f(1) == 1</answer>",
        "<answer>\nassert f([1]) == " + "(" * 3_000 + "1" + ")" * 3_000 + "\n</answer>",
        "<trace>\n" + "a: 1\n" * 30_000 + "</trace>",
    ]
    for kind in TaskKind:
        for text in nasty:
            t0 = time.monotonic()
            p = parse_completion(tasks[kind], text)
            assert time.monotonic() - t0 < 5
            assert isinstance(p.reason, str)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("<>/answertrcipu\n :=()[]'\"f0123,.x#\\")) | st.characters(),
        max_size=300,
    )
)
def test_arbitrary_text_never_raises(tasks: dict[TaskKind, Task], text: str) -> None:
    for task in tasks.values():
        p = parse_completion(task, text)
        assert isinstance(p.ok, bool) and isinstance(p.reason, str)
        for s, e in p.step_spans:
            assert 0 <= s <= e <= len(text)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=400), extra=st.text(max_size=200))
def test_truncated_and_overlong_gold_never_raise(
    tasks: dict[TaskKind, Task], cut: int, extra: str
) -> None:
    for task in tasks.values():
        gold = sft_target(task)
        for text in (gold[:cut], gold + extra, extra + gold):
            p = parse_completion(task, text)
            if p.ok and task.kind is TaskKind.OUTPUT and text == gold[:cut]:
                assert p.predicted is not None and "12".startswith(p.predicted)
        assert parse_completion(task, extra + gold).ok  # text before the blocks is free reasoning
