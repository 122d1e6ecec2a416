"""Task builders: kinds, prompt styles, JSON round-trip, gold targets, skipping, chat rendering."""

from __future__ import annotations

import json

import pytest

from stepcode.errors import ConfigError
from stepcode.execution import AnchorPolicy
from stepcode.tasks import make_tasks, make_tasks_batch, render_chat, sft_target
from stepcode.types import Program, Task, TaskKind

CODE = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    res = total * 2\n    return res\n"
PROG = Program(
    program_id="p1", code=CODE, input_args="[1, 2, 3]", output="12", source="unit", level=2
)


@pytest.fixture(scope="module")
def tasks() -> dict[TaskKind, Task]:
    return {t.kind: t for t in make_tasks(PROG, list(TaskKind))}


def test_every_kind_built_and_round_trips(tasks: dict[TaskKind, Task]) -> None:
    assert list(tasks) == list(TaskKind)
    for t in tasks.values():
        again = Task.from_dict(json.loads(json.dumps(t.to_dict())))
        assert again == t
        assert t.metadata["level"] == 2 and t.metadata["source"] == "unit"
        assert t.messages[-1]["content"] == t.prompt and t.messages[-1]["role"] == "user"


def test_compact_prompts(tasks: dict[TaskKind, Task]) -> None:
    out = tasks[TaskKind.OUTPUT_ALIGNED].prompt
    assert out.startswith("<code>\n") and out.endswith("assert f([1, 2, 3]) == ??\n")
    assert 'print(f"total: {total!r}")' in out  # the instrumented program is shown
    assert tasks[TaskKind.INPUT].prompt.endswith("assert f(??) == 12\n")
    assert "print(" not in tasks[TaskKind.OUTPUT].prompt
    full = make_tasks(PROG, [TaskKind.OUTPUT_ALIGNED], template="full")[0]
    assert full.prompt.endswith(out) and len(full.prompt) > len(out) + 100
    assert full.metadata["template"] == "full"


def test_gold_targets(tasks: dict[TaskKind, Task]) -> None:
    assert sft_target(tasks[TaskKind.OUTPUT]) == "<answer>\nassert f([1, 2, 3]) == 12\n</answer>"
    aligned = sft_target(tasks[TaskKind.OUTPUT_ALIGNED])
    assert aligned.startswith(
        "<trace>\ntotal: 0\ntotal: 1\ntotal: 3\nres: 12\nreturn: 12\n</trace>\n"
    )
    assert sft_target(tasks[TaskKind.INPUT_ALIGNED]).startswith(
        "<input>\nf([1, 2, 3])\n</input>\n<trace>\n"
    )
    assert tasks[TaskKind.OUTPUT_ALIGNED].metadata["anchor_count"] == 5


def test_anchor_policy_controls_trace_length() -> None:
    prog = Program(program_id="q", code=CODE, input_args="list(range(20))", output="380")
    every = make_tasks(
        prog, [TaskKind.OUTPUT_ALIGNED], policy=AnchorPolicy(loops="every", max_hits=8)
    )[0]
    none = make_tasks(prog, [TaskKind.OUTPUT_ALIGNED], policy=AnchorPolicy(loops="none"))[0]
    assert len(every.reference.anchors) == 8 and every.metadata["truncated"]
    assert [a.name for a in none.reference.anchors] == ["total", "res", "return"]


def test_unusable_programs_are_skipped() -> None:
    progs = [
        Program(code=CODE),  # no verified input/output
        Program(code="def f(:\n  pass", input_args="1", output="1"),  # does not parse
        Program(code=CODE, input_args="[1]", output="99"),  # output does not reproduce
        PROG,
    ]
    out = make_tasks_batch(progs, [TaskKind.OUTPUT, TaskKind.OUTPUT_ALIGNED, TaskKind.WHITEBOX])
    assert out[0] == []
    assert [t.kind for t in out[1]] == [TaskKind.OUTPUT]  # plain tasks need no execution
    assert [t.kind for t in out[2]] == [TaskKind.OUTPUT]
    assert [t.kind for t in out[3]] == [TaskKind.OUTPUT, TaskKind.OUTPUT_ALIGNED, TaskKind.WHITEBOX]


def test_operator_errors() -> None:
    with pytest.raises(ConfigError, match="template"):
        make_tasks(PROG, [TaskKind.OUTPUT], template="long")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="kinds"):
        make_tasks(PROG, ["outputs"])  # type: ignore[list-item]


def test_render_chat_uses_the_tokenizer_template(tasks: dict[TaskKind, Task]) -> None:
    from stepcode.models import train_tokenizer

    tok = train_tokenizer([CODE, tasks[TaskKind.OUTPUT].prompt] * 4, vocab_size=300)
    text = render_chat(tasks[TaskKind.OUTPUT], tok)
    assert tasks[TaskKind.OUTPUT].prompt in text
    assert text != tasks[TaskKind.OUTPUT].prompt


def test_given_traces_are_reused() -> None:
    from stepcode.execution import trace_program

    other = "def f(xs):\n    return 12\n"  # a different run: its questions must show up
    given = trace_program(other, "f([1, 2, 3])")
    mine = make_tasks_batch([PROG], [TaskKind.WHITEBOX], traces=[given], max_questions=50)[0][0]
    fresh = make_tasks_batch([PROG], [TaskKind.WHITEBOX], traces=[None], max_questions=50)[0][0]

    def covered(t: Task) -> set[int]:
        return {
            q.line for q in t.reference.questions if q.kind == "coverage" and q.answers == ("YES",)
        }

    assert covered(mine) == {2} and covered(fresh) == {2, 3, 4, 5, 6}
    with pytest.raises(ConfigError, match="traces"):
        make_tasks_batch([PROG], [TaskKind.WHITEBOX], traces=[])


def test_whitebox_prompt_styles() -> None:
    compact = make_tasks(PROG, [TaskKind.WHITEBOX], max_questions=4)[0]
    full = make_tasks(PROG, [TaskKind.WHITEBOX], max_questions=4, template="full")[0]
    assert compact.reference.questions == full.reference.questions  # same questions, same seed
    assert "1\tdef f(xs):\n" in compact.prompt  # original line numbers are shown
    assert compact.prompt.count("\nQ") == full.prompt.count("\nQ") == 4
    assert len(compact.prompt) < len(full.prompt) - 200
    for q in full.reference.questions:
        assert q.text in full.prompt
