"""(program, input, trace) -> ``Task`` records: pure builders over results of the execution stage.

``make_tasks_batch`` runs what the tasks need (the instrumented program for aligned kinds) over
the warm sandbox pool, then builds one task per requested kind:

* ``output`` / ``input``: CRUXEval-style assertion completion (plain);
* ``output_aligned``: the instrumented program is shown; the model writes the anchor lines, then
  the assertion;
* ``input_aligned``: the model proposes an input, then the anchor lines that input produces, then
  the assertion (its steps are scored against the trace of its own input);
* ``whitebox``: the line-numbered program, the assertion and up to ``max_questions`` white-box
  questions (``tasks.whitebox``); the answer block holds the assertion then one line per question.

``sft_target(task)`` is the gold completion the interpreter teaches (what the parser reads).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

from stepcode.errors import ConfigError
from stepcode.execution import AnchorPolicy, instrument, run_jobs, tamper_reason, trace_batch
from stepcode.tasks import templates
from stepcode.tasks.whitebox import make_questions
from stepcode.types import AnchorHit, Limits, Program, Question, Reference, Task, TaskKind, Trace

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
    """Tasks of ``kinds`` for one verified program (needs ``input_args`` and ``output``).

    ``template``: ``compact`` (program + assertion only: tiny models, short contexts) or ``full``
    (an instruction first). ``messages`` always holds the chat form of the same prompt."""
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
    traces: Sequence[Trace | None] | None = None,
    dropped: dict[int, str] | None = None,
) -> list[list[Task]]:
    """One list of tasks per program, in ``kinds`` order. A kind is left out for a program it
    cannot serve: no verified input/output (all kinds), does not parse or its instrumented run
    does not reproduce ``output`` (aligned kinds), its traced run fails or yields no question
    (white-box), or the program tampered with its anchors or its trace (``tamper_reason``:
    such a run is never ground truth). ``traces``: per program, a trace of its call the caller
    already has (``None`` entries are traced here); white-box questions are drawn from it.
    ``dropped``: filled with program index -> ``tampered:<integrity>`` for tampering programs."""
    if template not in ("compact", "full"):
        raise ConfigError(f"template={template!r}: use compact or full")
    try:
        kinds = [TaskKind(k) for k in kinds]
    except ValueError as e:
        raise ConfigError(f"{e}: task kinds are {[k.value for k in TaskKind]}") from None
    usable = [p.input_args is not None and p.output is not None for p in programs]
    tampered: dict[int, str] = {} if dropped is None else dropped
    insts = (
        _instrument_all(programs, usable, policy, limits, tampered)
        if _wants(kinds, _ALIGNED)
        else {}
    )
    if traces is not None and len(traces) != len(programs):
        raise ConfigError(f"traces has {len(traces)} entries for {len(programs)} programs")
    traces_by = (
        _trace_all(programs, usable, limits, traces, tampered) if TaskKind.WHITEBOX in kinds else {}
    )
    out: list[list[Task]] = []
    for i, p in enumerate(programs):
        tasks: list[Task] = []
        for kind in kinds if usable[i] and i not in tampered else ():
            if kind in _ALIGNED:
                if i in insts:
                    tasks.append(_task(p, kind, *insts[i], policy, template))
            elif kind is TaskKind.WHITEBOX:
                qs = make_questions(p.code, p.entry_point, traces_by[i], max_questions=max_questions,
                                    seed=seed) if i in traces_by else ()  # fmt: skip
                if qs:
                    tasks.append(_whitebox_task(p, qs, template))
            else:
                tasks.append(_task(p, kind, None, None, policy, template))
        out.append(tasks)
    return out


def _wants(kinds: Sequence[TaskKind], group: Sequence[TaskKind]) -> bool:
    return any(k in group for k in kinds)


def _instrument_all(
    programs: Sequence[Program],
    usable: list[bool],
    policy: AnchorPolicy,
    limits: Limits,
    tampered: dict[int, str],
) -> dict[int, tuple[Any, Any]]:
    """index -> (Instrumented, run) for programs whose instrumented run reproduces ``output``
    (and leaves its anchors alone: the others go into ``tampered``)."""
    capped = dataclasses.replace(limits, max_anchor_hits=policy.max_hits)
    idx, insts, jobs = [], [], []
    for i, p in enumerate(programs):
        if not usable[i]:
            continue
        try:
            inst = instrument(p.code, policy)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        call = f"{p.entry_point}({p.input_args})"
        idx.append(i)
        insts.append(inst)
        jobs.append(inst.job(call, capped))
    runs = run_jobs(jobs) if jobs else []
    out = {}
    for i, inst, raw in zip(idx, insts, runs, strict=True):
        reason = tamper_reason(raw.result)
        if reason is not None:
            tampered[i] = reason
        elif raw.result.ok and raw.result.return_value == programs[i].output:
            out[i] = (inst, raw.result)
    return out


def _trace_all(
    programs: Sequence[Program],
    usable: list[bool],
    limits: Limits,
    given: Sequence[Trace | None] | None,
    tampered: dict[int, str],
) -> dict[int, Trace]:
    """index -> trace of the verified call (given ones reused), for runs that reproduce ``output``
    untampered (tampered ones go into ``tampered``)."""
    have = {i: t for i, t in enumerate(given or ()) if t is not None and usable[i]}
    idx = [i for i, ok in enumerate(usable) if ok and i not in have]
    items = [
        (programs[i].code, f"{programs[i].entry_point}({programs[i].input_args})") for i in idx
    ]
    have.update(zip(idx, trace_batch(items, limits) if items else [], strict=True))
    for i, t in have.items():
        reason = tamper_reason(t.result)
        if reason is not None:
            tampered[i] = reason
    return {
        i: t
        for i, t in sorted(have.items())
        if t.result.ok
        and not t.truncated
        and t.return_value == programs[i].output
        and i not in tampered
    }


def _whitebox_task(p: Program, questions: tuple[Question, ...], style: Style) -> Task:
    lines = [
        q.text
        if style == "full"
        else templates.compact_question(q.kind, q.line, q.occurrence, q.var)
        for q in questions
    ]
    prompt = templates.render_whitebox_prompt(
        style, p.code, p.entry_point, p.input_args or "", lines
    )
    return Task(
        task_id=f"{p.program_id or 'p'}:{TaskKind.WHITEBOX.value}",
        kind=TaskKind.WHITEBOX,
        prompt=prompt,
        messages=(
            {"role": "system", "content": templates.SYSTEM},
            {"role": "user", "content": prompt},
        ),
        reference=Reference(
            code=p.code,
            entry_point=p.entry_point,
            input_args=p.input_args or "",
            output=p.output or "",
            questions=questions,
        ),  # fmt: skip
        metadata={
            "level": p.level,
            "source": p.source,
            "anchor_count": 0,
            "question_kinds": [q.kind for q in questions],
            "template": style,
        },  # fmt: skip
    )


def _task(
    p: Program, kind: TaskKind, inst: Any, run: Any, policy: AnchorPolicy, style: Style
) -> Task:
    aligned = kind in _ALIGNED
    shown = inst.source if aligned else p.code
    prompt = templates.task_prompt_text(
        kind.value, style, shown, p.entry_point, p.input_args, p.output, policy.max_hits
    )
    anchors: tuple[AnchorHit, ...] = (
        tuple(dataclasses.replace(a, value=templates.normalize_repr(a.value)) for a in run.anchors)
        if aligned
        else ()
    )
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
            anchor_policy=policy if aligned else None,
        ),  # fmt: skip
        metadata={
            "level": p.level,
            "source": p.source,
            "anchor_count": len(anchors),
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
    if task.kind is TaskKind.WHITEBOX:
        answers = [q.answers[0] for q in ref.questions]
        return templates.whitebox_answer(ref.entry_point, ref.input_args, ref.output, answers)
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
