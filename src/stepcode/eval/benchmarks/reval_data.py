"""REval's data as typed records: a (program, input) pair, its questions, its ClassEval test.

``reval_load.load_reval(dir)`` reads ``DREval_data.jsonl`` + ``DREval_tasks.jsonl`` (r-eval/REval's ``data/``)
into ``RevalPair`` records; ``read_official_log`` reads an official ``model_generations`` log. The
``Benchmark`` front door (``reval.REval``) carries one ``RevalItem`` per prompt inside the protocol's
``EvalItem`` (``EvalItem.data["reval"]``; ``reval_item(item)`` reads it back).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stepcode.errors import DataError
from stepcode.eval.benchmarks.base import EvalItem
from stepcode.io import read_jsonl

log = logging.getLogger(__name__)

HUMANEVAL_END = 84
"""programs 0-84 are HumanEval functions, 85-153 ClassEval classes"""
RECORD_KEY = "reval"
"""the key of the ``RevalItem`` in ``EvalItem.data``"""


@dataclass(frozen=True, kw_only=True)
class RevalQuestion:
    """One (line, expression) question: coverage, state and path each ask it once."""

    lineno: int
    """1-based line of ``RevalPair.code`` (docstrings and imports count)"""
    var: str
    """a name, an attribute (``self.radius``), a subscript (``frq[i]``) or a tuple"""


@dataclass(frozen=True, kw_only=True)
class ClassEvalTest:
    """What a ClassEval pair runs: the ``input_idx``-th ``{cls}Test*`` class of ``test``."""

    test: str
    """the program's unittest source"""
    test_index: int
    setup: str
    """the source of the test class's ``setUp`` ('' when it has none of its own)"""


@dataclass(frozen=True, kw_only=True)
class RevalPair:
    """One (program, input) pair of REval with its questions."""

    idx: int
    input_idx: int
    code: str
    entry_point: str
    """HumanEval: the function; ClassEval: the class"""
    input: str
    """HumanEval: the argument-tuple literal (``"(1, 2,)"``); ClassEval: the test method's body"""
    questions: tuple[RevalQuestion, ...]
    output_pred: str
    """the output question: an assertion (or test snippet) with ``??`` for the value"""
    gold_output: str | None = None
    """HumanEval: the stored repr of the output; ClassEval: None"""
    classeval: ClassEvalTest | None = None

    @property
    def pair_id(self) -> str:
        return f"DREval/{self.idx}#{self.input_idx}"

    @property
    def item_id(self) -> str:
        return self.pair_id

    @property
    def part(self) -> Literal["humaneval", "classeval"]:
        return "humaneval" if self.classeval is None else "classeval"


@dataclass(frozen=True, kw_only=True)
class RevalItem:
    """What one REval prompt is about: a pair and, for coverage / state / path, one question."""

    pair: RevalPair
    q: int | None = None
    """index into ``pair.questions``; None for the pair's output question"""
    skipped_missing_deps: int = 0
    """ClassEval pairs the load skipped because their modules are not installed (reported)"""

    @property
    def item_id(self) -> str:
        return self.pair.pair_id if self.q is None else f"{self.pair.pair_id}:{self.q}"


def as_eval_item(item: RevalItem) -> EvalItem:
    return EvalItem(item_id=item.item_id, data={RECORD_KEY: item})


def reval_item(item: EvalItem) -> RevalItem:
    """The ``RevalItem`` inside an ``EvalItem`` made by ``REval.load``."""
    rec = item.data.get(RECORD_KEY)
    if not isinstance(rec, RevalItem):
        raise DataError(f"{item.item_id}: not an REval item (load it with the REval benchmark)")
    return rec


def read_official_log(path: str | Path) -> dict[str, list[str]]:
    """An official ``model_generations/{task}@{model}/*.jsonl`` log: pair id -> raw generations."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"REval generations log not found: {p}")
    out: dict[str, list[str]] = {}
    for rec in read_jsonl(p, strict=True):
        if "task_id" not in rec:
            continue  # the trailing metrics line
        try:
            for g in rec.get("generation", []):
                key = f"{rec['task_id']}#{g['input_idx']}"
                out[key] = [str(r.get("generated", "")) for r in g.get("results", [])]
        except (KeyError, TypeError, AttributeError) as e:
            raise DataError(
                f"{p}: record {rec.get('task_id')!r} is not an REval log entry ({e})"
            ) from None
    return out
