"""(program, input, trace) -> ``Task`` records: pure builders over results of the execution stage.

``make_tasks_batch`` runs what the tasks need (the instrumented program for aligned kinds) over
the warm sandbox pool, then builds one task per requested kind:

* ``output`` / ``input``: CRUXEval-style assertion completion (plain);
* ``output_aligned``: the instrumented program is shown; the model writes the anchor lines, then
  the assertion;
* ``input_aligned``: the model proposes an input, then the anchor lines that input produces, then
  the assertion (its steps are scored against the trace of its own input).

``sft_target(task)`` is the gold completion the interpreter teaches (what the parser reads).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

from stepcode.execution import AnchorPolicy, Job, instrument, run_jobs
from stepcode.tasks import templates
from stepcode.types import AnchorHit, Limits, Program, Reference, Task, TaskKind

Style = Literal["compact", "full"]
_ALIGNED = (TaskKind.OUTPUT_ALIGNED, TaskKind.INPUT_ALIGNED)


def make_tasks(
    program: Program,
    kinds: Sequence[TaskKind],
    *,
    policy: AnchorPolicy = AnchorPolicy(),
    max_questions: int = 5,
    seed: int = 0,
    limits: Limits = Limits(),
    template: Style = "compact",
) -> list[Task]:
    """Tasks of ``kinds`` for one verified program (needs ``input_args`` and ``output``)."""
    return make_tasks_batch([program], kinds, policy=policy, max_questions=max_questions,
                            seed=seed, limits=limits, template=template)[0]  # fmt: skip


def make_tasks_batch(
    programs: Sequence[Program],
    kinds: Sequence[TaskKind],
    *,
    policy: AnchorPolicy = AnchorPolicy(),
    max_questions: int = 5,
    seed: int = 0,
    limits: Limits = Limits(),
    template: Style = "compact",
) -> list[list[Task]]:
    """One list of tasks per program (empty when the program is unusable: no verified output,
    does not parse, or its instrumented run fails)."""
    kinds = [TaskKind(k) for k in kinds]
    needs_anchors = any(k in _ALIGNED for k in kinds)
    insts: list[Any] = []
    jobs = []
    for p in programs:
        inst = None
        if needs_anchors and p.input_args is not None:
            try:
                inst = instrument(p.code, policy)
            except SyntaxError:
                inst = None
        insts.append(inst)
        if inst is not None:
            capped = dataclasses.replace(limits, max_anchor_hits=policy.max_hits)
            jobs.append(
                Job(
                    code=inst.runtime_source,
                    call=f"{p.entry_point}({p.input_args})",
                    limits=capped,
                    anchors=True,
                )
            )
    runs = iter(run_jobs(jobs)) if jobs else iter(())
    out: list[list[Task]] = []
    for p, inst in zip(programs, insts, strict=True):
        run = next(runs).result if inst is not None else None
        if p.input_args is None or p.output is None:
            out.append([])
            continue
        if needs_anchors and (run is None or not run.ok or run.return_value != p.output):
            out.append([])
            continue
        out.append([_task(p, k, inst, run, policy, template) for k in kinds])
    return out


def _task(
    p: Program, kind: TaskKind, inst: Any, run: Any, policy: AnchorPolicy, style: Style
) -> Task:
    aligned = kind in _ALIGNED
    shown = inst.source if aligned else p.code
    prompt = templates.render_prompt(
        kind.value, style, shown, p.entry_point, p.input_args, p.output, policy.max_hits
    )
    anchors: tuple[AnchorHit, ...] = tuple(run.anchors) if aligned else ()
    messages = (
        {"role": "system", "content": templates.SYSTEM},
        {"role": "user", "content": prompt},
    )
    return Task(
        task_id=f"{p.program_id or 'p'}:{kind.value}",
        kind=kind,
        prompt=prompt,
        messages=messages,
        reference=Reference(
            code=p.code,
            entry_point=p.entry_point,
            input_args=p.input_args,
            output=p.output,
            instrumented=shown if aligned else None,
            anchors=anchors,
        ),  # fmt: skip
        metadata={
            "level": p.level,
            "source": p.source,
            "anchor_count": len(anchors),
            "anchor_policy": f"{policy.loops}:{policy.k}",
            "max_anchor_lines": policy.max_hits,
            "truncated": bool(run.truncated) if aligned else False,
            "template": style,
        },  # fmt: skip
    )


def sft_target(task: Task) -> str:
    """The gold completion for ``task``, in exactly the format ``rewards.parse_completion`` reads."""
    ref = task.reference
    steps = [(a.name, a.value) for a in ref.anchors]
    answer = templates.answer_block(ref.entry_point, ref.input_args, ref.output)
    if task.kind is TaskKind.OUTPUT_ALIGNED:
        return templates.trace_block(steps) + answer
    if task.kind is TaskKind.INPUT_ALIGNED:
        return (
            templates.input_block(ref.entry_point, ref.input_args)
            + templates.trace_block(steps)
            + answer
        )
    return answer


def render_chat(task: Task, tokenizer: Any) -> str:
    """The task as a chat prompt through the tokenizer's chat template."""
    return tokenizer.apply_chat_template(
        [dict(m) for m in task.messages], tokenize=False, add_generation_prompt=True
    )
