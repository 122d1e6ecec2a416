"""Frozen records that cross stage boundaries.

Every record here is immutable and JSON round-trippable (``to_dict`` / ``from_dict``) with a
``schema_version``, so that a run dir, a dataset file or a per-sample eval log can be read back
into the same objects that produced it. Stages own their logic; this module owns only the shapes.

Sections (each owned by one stage; keep additions inside your stage's section):
  execution  ExecStatus Limits ExecutionResult TraceEvent VarState Trace AnchorHit AnchorPolicy
  data       Program
  tasks      TaskKind Question Reference Task
  rollout    Rollout
  rewards    Verdict Parsed Reward
  eval       SampleRecord
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar

SCHEMA_VERSION = 1

T = TypeVar("T")


def to_dict(obj: Any) -> Any:
    """Recursively convert a record (or containers of records) to JSON-ready Python values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, StrEnum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_dict(v) for v in obj]
    return obj


# ---------------------------------------------------------------- execution ---------------------


class ExecStatus(StrEnum):
    """How a sandboxed run ended. Only ``OK`` means the program finished normally."""

    OK = "ok"
    ERROR = "error"  # the program raised (SyntaxError included), or called sys.exit(non-zero)
    TIMEOUT = "timeout"  # wall-clock or CPU limit
    MEMORY = "memory"  # address-space cap hit (MemoryError or killed while allocating)
    OUTPUT_LIMIT = "output_limit"  # stdout/stderr cap exceeded
    CRASH = "crash"  # died by a signal, os._exit, killed its parent, ... anything else abnormal


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Resource caps for one sandboxed run."""

    timeout_s: float = 3.0
    """wall-clock limit; the CPU-time limit is derived from it (ceil)"""
    memory_mb: int = 512
    """address-space cap (RLIMIT_AS) for the child"""
    max_output_bytes: int = 1 << 20
    """cap on captured stdout and on stderr, each"""
    max_file_bytes: int = 1 << 20
    """RLIMIT_FSIZE: largest file the program may write inside its temp dir"""
    max_open_files: int = 64
    """RLIMIT_NOFILE"""
    max_trace_steps: int = 20_000
    """tracer: line events recorded before the trace is cut (truncated=True)"""
    max_repr_chars: int = 1000
    """tracer and anchors: longest repr kept per value (longer ones end in ``...``)"""
    max_anchor_hits: int = 200
    """anchors: hits recorded before the anchor log is cut (truncated=True)"""
    tmpfs_mb: int = 64
    """size of the run's private /tmp + /dev/shm + cwd together (one tmpfs; inodes scale with it)"""


@dataclass(frozen=True, kw_only=True)
class AnchorHit:
    """One line printed by a trace anchor: ``name: value`` (value is a bounded repr)."""

    name: str
    value: str
    anchor_id: int = -1
    """index into ``Instrumented.anchors`` of the anchor that fired (-1 if unknown)"""


LoopRule = Literal["none", "first_k", "every"]


@dataclass(frozen=True, kw_only=True)
class AnchorPolicy:
    """Where trace anchors go and how many hits a run may record (``execution.instrument``)."""

    loops: LoopRule = "first_k"
    """anchors inside loop bodies: none (paper), first_k, every"""
    k: int = 2
    """first_k: hits kept per anchor inside loops"""
    max_hits: int = 10
    """cap on anchor hits per run (the trace is cut there, truncated=True)"""

    def __post_init__(self) -> None:
        from stepcode.errors import ConfigError

        if self.loops not in ("none", "first_k", "every"):
            raise ConfigError(f"loops={self.loops!r}: use none, first_k or every")
        if self.k < 1 or self.max_hits < 1:
            raise ConfigError(f"k={self.k}, max_hits={self.max_hits}: both must be >= 1")

    @classmethod
    def parse(cls, text: str, max_hits: int = 10) -> AnchorPolicy:
        """``none`` | ``every`` | ``first_k`` | ``first_k:3`` (the CLI syntax)."""
        rule, _, k = text.partition(":")
        if rule not in ("none", "first_k", "every") or (k and not k.isdigit()):
            from stepcode.errors import ConfigError

            raise ConfigError(f"anchor policy {text!r}: use none, every, first_k or first_k:N")
        return cls(loops=rule, k=int(k) if k else 2, max_hits=max_hits)  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class ExecutionResult:
    """Outcome of one sandboxed run. Never raised for bad programs: bad programs are statuses."""

    status: ExecStatus
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    """``"ExcType: message"`` when the program raised; a short reason for other non-OK statuses"""
    return_value: str | None = None
    """``repr`` of the value of ``call`` when one was given and it returned"""
    duration_s: float = 0.0
    anchors: tuple[AnchorHit, ...] = ()
    """anchor hits in execution order (only for instrumented runs)"""
    truncated: bool = False
    """an anchor/trace bound was hit"""
    integrity: str = "ok"
    """``ok``, or what the program did to the harness (``hook_removed``, ``foreign_code``,
    ``anchor_forged``, ...; ``execution._wire.INTEGRITY``): its trace and anchors are then not
    ground truth, and ``tasks``/``data`` drop it with reason ``tampered:<integrity>``"""

    @property
    def ok(self) -> bool:
        return self.status is ExecStatus.OK


@dataclass(frozen=True, kw_only=True)
class VarState:
    """A local variable as seen by the tracer: bounded repr plus its type name."""

    repr: str
    type: str


@dataclass(frozen=True, kw_only=True)
class TraceEvent:
    """One merged REval-style state: a line of the program's own code in one frame.

    ``locals`` is the frame's locals at the last ``line`` event merged into it (before the line
    runs); a ``return``/``exception`` event on the same line only sets ``return_value`` /
    ``exception``, and one on another line makes a state with empty locals (REval). The state
    *after* line L is the next state (REval ``get_states_after``).
    """

    line: int
    func: str
    frame_id: int
    locals: Mapping[str, VarState] = field(default_factory=dict)
    event: str = "line"
    """last event merged into this state: line | return | exception"""
    return_value: str | None = None
    """repr of the value returned on this line (``return`` event), else None"""
    exception: str | None = None
    """type name of the exception raised or passing through this line, else None"""


@dataclass(frozen=True, kw_only=True)
class Trace:
    """Everything one traced run of a program did. Built by ``execution.tracer.trace_program``."""

    schema_version: int = SCHEMA_VERSION
    code: str
    call: str | None
    result: ExecutionResult
    events: tuple[TraceEvent, ...] = ()
    truncated: bool = False
    """steps or repr bound hit: the events are a prefix of what ran"""

    @property
    def status(self) -> ExecStatus:
        return self.result.status

    @property
    def return_value(self) -> str | None:
        return self.result.return_value


# ---------------------------------------------------------------- data -------------------------


@dataclass(frozen=True, kw_only=True)
class Program:
    """A program with (optionally) one verified input/output pair: the unit data is made of."""

    schema_version: int = SCHEMA_VERSION
    program_id: str = ""
    code: str
    entry_point: str = "f"
    input_args: str | None = None
    """CRUXEval ``input`` text: the argument list without the parentheses"""
    output: str | None = None
    """repr of ``entry_point(input_args)``, verified by execution"""
    source: str = ""
    """synth | files | jsonl | hf:<name> | cruxeval ..."""
    level: int | None = None
    """synthesizer difficulty level (1-6), None for real code"""


# ---------------------------------------------------------------- tasks ------------------------


class TaskKind(StrEnum):
    OUTPUT = "output"  # CRUXEval-O style: assert f(input) == ??
    INPUT = "input"  # CRUXEval-I style: assert f(??) == output
    OUTPUT_ALIGNED = "output_aligned"  # instrumented code; write anchor lines, then the assertion
    INPUT_ALIGNED = "input_aligned"  # propose input, its anchor lines, then the assertion
    WHITEBOX = "whitebox"  # value/type, next statement, coverage, path questions


@dataclass(frozen=True, kw_only=True)
class Question:
    """A white-box question about one run (REval / ExecVerify semantics, original line numbers)."""

    kind: str
    """value_type | next_line | coverage | path"""
    line: int
    text: str
    answers: tuple[str, ...]
    """every accepted answer (a set: loops and branches allow several)"""
    var: str | None = None
    occurrence: int = 1
    """the K-th execution of ``line`` the question is about"""


@dataclass(frozen=True, kw_only=True)
class Reference:
    """The trusted side of a task: what the verifier executes and compares against."""

    code: str
    entry_point: str = "f"
    input_args: str
    """CRUXEval ``input`` text: the argument list without the parentheses"""
    output: str
    """repr of the true output"""
    instrumented: str | None = None
    """display source of the instrumented program (aligned tasks)"""
    anchors: tuple[AnchorHit, ...] = ()
    """ground-truth anchor hits for ``input_args``"""
    questions: tuple[Question, ...] = ()
    anchor_policy: AnchorPolicy | None = None
    """the policy ``instrumented`` was built with (aligned tasks): the verifier re-instruments with it"""


@dataclass(frozen=True, kw_only=True)
class Task:
    """One prompt plus its trusted reference. JSON round-trippable."""

    schema_version: int = SCHEMA_VERSION
    task_id: str
    kind: TaskKind
    prompt: str
    """raw-completion prompt (base models)"""
    messages: tuple[Mapping[str, str], ...] = ()
    """chat form of the same task (instruct models; rendered with the tokenizer's chat template)"""
    reference: Reference
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """level, source, anchor count, ..."""

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Task:
        ref = dict(d["reference"])
        ref["anchors"] = tuple(AnchorHit(**a) for a in ref.get("anchors", ()))
        ref["questions"] = tuple(
            Question(**{**q, "answers": tuple(q["answers"])}) for q in ref.get("questions", ())
        )
        meta = dict(d.get("metadata", {}))
        if ref.get("anchor_policy") is not None:
            ref["anchor_policy"] = AnchorPolicy(**ref["anchor_policy"])
        elif "anchor_policy" in meta:  # task files written before the policy was typed
            ref["anchor_policy"] = AnchorPolicy.parse(
                str(meta.pop("anchor_policy")), max_hits=int(meta.pop("max_anchor_lines", 10))
            )
        return cls(
            schema_version=d.get("schema_version", SCHEMA_VERSION),
            task_id=d["task_id"],
            kind=TaskKind(d["kind"]),
            prompt=d["prompt"],
            messages=tuple(dict(m) for m in d.get("messages", ())),
            reference=Reference(**ref),
            metadata=meta,
        )


# ---------------------------------------------------------------- rollout ----------------------


@dataclass(frozen=True, kw_only=True)
class Rollout:
    """One sampled completion for one task."""

    task_id: str
    sample_idx: int
    prompt: str
    completion: str
    prompt_ids: tuple[int, ...] = ()
    completion_ids: tuple[int, ...] = ()
    completion_offsets: tuple[tuple[int, int], ...] = ()
    """char span in ``completion`` of each completion token"""
    finish_reason: str = "stop"
    """stop | length"""


# ---------------------------------------------------------------- rewards ----------------------


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """Result of an execution check of one prediction."""

    correct: bool
    reason: str
    """``correct`` or why not: not_a_value, unknown_name, too_large, wrong_value, exec_timeout, ..."""


@dataclass(frozen=True, kw_only=True)
class Parsed:
    """What a completion says, plus where it says it (char spans into the completion).

    Built by ``rewards.parse_completion`` (never raises); carried on ``Reward.parse`` so no caller
    parses a completion twice.
    """

    ok: bool
    """the answer was found and is well-formed (steps may still be wrong: see ``trace_reason``)"""
    reason: str = "ok"
    predicted: str | None = None
    """output tasks: the literal text; input tasks: the re-serialised argument list (no parens)"""
    steps: tuple[tuple[str, str], ...] = ()
    """aligned: (name, value text) per trace line; whitebox: ("q<k>", answer line) per question"""
    step_spans: tuple[tuple[int, int], ...] = ()
    """[S'] char span of each entry of ``steps`` in the completion"""
    answer_span: tuple[int, int] | None = None
    """char span of the answer (aligned/plain: the ``<answer>`` block; whitebox: the assert line)"""
    has_trace: bool = False
    proposed_input: str | None = None
    """input-aligned: the re-serialised arguments in the <input> block"""
    trace_reason: str = "ok"
    """ok | no_trace_block | wrong_step_count | name_mismatch (aligned and whitebox tasks)"""


@dataclass(frozen=True, kw_only=True)
class Reward:
    """Score of one completion: outcome by execution, per-step vector, format flag."""

    outcome: float
    steps: tuple[float, ...] = ()
    """[S] per-anchor correctness in {0, 1}, by position"""
    step_mask: tuple[bool, ...] = ()
    """[S] True where a ground-truth step exists"""
    format_ok: bool = False
    reason: str = ""
    audit: str = ""
    """right_answer_right_steps | right_answer_wrong_steps | wrong_answer_right_steps | ..."""
    scalar: float = 0.0
    """the configured combination of outcome, steps and format (for logging / plain GRPO)"""
    parse: Parsed | None = None
    """the parse the reward was computed from (spans for the RL stage, the answer, reasons)"""


# ---------------------------------------------------------------- eval -------------------------


@dataclass(frozen=True, kw_only=True)
class SampleRecord:
    """One scored sample: a row of ``samples.jsonl``, the one schema of ``eval run``, ``eval score``
    and the trainer's evaluation rows.

    ``correct`` is the benchmark's own verdict (the official rule for official benchmarks);
    ``skipped``: dropped by an official anti-copy rule (wrong in strict mode); ``group``: the labels
    results are broken down by (``length``, ``difficulty``, ``level``); ``steps``: per ground-truth
    step, 1.0 right / 0.0 wrong (aligned tasks, else empty); ``audit``: the judge's second reading
    (aligned: ``right_answer_wrong_steps`` ...; CRUXEval/LCB: ``by_value:pass`` or
    ``by_value:<why not>``, the generation checked as a value instead of as code).
    """

    schema_version: int = SCHEMA_VERSION
    item_id: str
    sample_idx: int = 0
    benchmark: str = ""
    prompt: str | tuple[Mapping[str, str], ...] = ""
    """the text sent (raw) or the chat messages"""
    generation: str
    extracted: str | None = None
    """the answer the benchmark's extraction read (None: nothing readable)"""
    correct: bool
    skipped: bool = False
    reason: str = ""
    group: Mapping[str, str] = field(default_factory=dict)
    steps: tuple[float, ...] = ()
    audit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SampleRecord:
        """The record of a ``samples.jsonl`` row; ``DataError`` naming the field that is wrong."""
        from stepcode.errors import DataError

        def need(key: str, tp: type, default: Any = ...) -> Any:
            value = d.get(key, default)
            if value is ...:
                raise DataError(f"sample record: {key!r} is missing")
            if not isinstance(value, tp) or (tp is not bool and isinstance(value, bool)):
                raise DataError(f"sample record: {key!r} must be {tp.__name__}, got {value!r}")
            return value

        prompt = d.get("prompt") or ""
        if isinstance(prompt, list):
            prompt = tuple(dict(m) for m in prompt)
        elif not isinstance(prompt, str):
            raise DataError(f"sample record: 'prompt' must be text or messages: {prompt!r}")
        extracted = d.get("extracted")
        group = need("group", dict, {})
        steps = need("steps", list, [])
        if extracted is not None and not isinstance(extracted, str):
            raise DataError(f"sample record: 'extracted' must be text or null: {extracted!r}")
        return cls(
            schema_version=int(d.get("schema_version", SCHEMA_VERSION)),
            item_id=need("item_id", str),
            sample_idx=need("sample_idx", int, 0),
            benchmark=need("benchmark", str, ""),
            prompt=prompt,
            generation=need("generation", str),
            extracted=extracted,
            correct=need("correct", bool),
            skipped=need("skipped", bool, False),
            reason=need("reason", str, ""),
            group={str(k): str(v) for k, v in group.items()},
            steps=tuple(float(x) for x in steps),
            audit=need("audit", str, ""),
        )

    @classmethod
    def from_reward(cls, *, item_id: str, generation: str, reward: Reward, sample_idx: int = 0,
                    benchmark: str = "", prompt: str | tuple[Mapping[str, str], ...] = "",
                    group: Mapping[str, str] | None = None) -> SampleRecord:  # fmt: skip
        """The row of one completion scored by ``rewards.score_batch`` (its parse and steps kept)."""
        mask = reward.step_mask if len(reward.step_mask) == len(reward.steps) else ()
        parse = reward.parse
        return cls(
            item_id=item_id, sample_idx=sample_idx, benchmark=benchmark, prompt=prompt,
            generation=generation, extracted=parse.predicted if parse and parse.ok else None,
            correct=reward.outcome >= 1.0, reason=reward.reason, group=dict(group or {}),
            steps=tuple(s for k, s in enumerate(reward.steps) if not mask or mask[k]),
            audit=reward.audit,
        )  # fmt: skip
