"""Filters: identifier-normalised forms, exact/near-duplicate removal, size caps, decontamination.

``normalize_code`` renames every non-builtin identifier (functions, parameters, variables) to
``v0, v1, ...`` in first-use order and drops docstrings, so renamed copies compare equal.
``near_key`` additionally blanks literal constants. ``Decontaminator`` indexes the n-grams
(default 10) of the normalised token streams of benchmark programs (CRUXEval, LiveCodeBench
execution, REval, or any jsonl / .py directory) and names, for a contaminated program, the
benchmark item it overlaps. Attribute names (``.upper``) are kept: they are the operations.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import keyword
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stepcode.errors import DataError
from stepcode.io import read_jsonl

_BUILTINS = frozenset(dir(builtins))
_SKIP_TOKENS = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT}
_SKIP_TOKENS |= {tokenize.ENDMARKER, tokenize.ENCODING}


class _Renamer(ast.NodeTransformer):
    def __init__(self, blank_constants: bool) -> None:
        self.names: dict[str, str] = {}
        self.blank = blank_constants

    def _new(self, name: str) -> str:
        if name in _BUILTINS or keyword.iskeyword(name):
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._new(node.name)
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            node.body = body[1:] or [ast.Pass()]
        node.returns = None
        self.generic_visit(node)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self.blank and not isinstance(node.value, bool) and node.value is not None:
            return ast.Constant(value=type(node.value).__name__)
        return node


def normalize_code(code: str, *, blank_constants: bool = False) -> str | None:
    """Identifier-normalised source (None when ``code`` does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    tree = _Renamer(blank_constants).visit(tree)
    return ast.unparse(tree)


def normalized_tokens(code: str) -> list[str]:
    """Token strings of the normalised program (falls back to raw tokens when it does not parse)."""
    text = normalize_code(code) or code
    try:
        toks = tokenize.generate_tokens(io.StringIO(text).readline)
        return [t.string for t in toks if t.type not in _SKIP_TOKENS]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text.split()


def exact_key(code: str) -> str:
    return hashlib.sha1(code.strip().encode()).hexdigest()


def near_key(code: str) -> str:
    """Equal for programs that differ only in identifiers, constants, docstrings, formatting."""
    norm = normalize_code(code, blank_constants=True) or code.strip()
    return hashlib.sha1(norm.encode()).hexdigest()


def ngrams(tokens: Sequence[str], n: int) -> set[int]:
    """Hashes of all length-``n`` windows (the whole sequence when it is shorter)."""
    if len(tokens) < n:
        return {hash(("short", *tokens))} if tokens else set()
    return {hash(tuple(tokens[i : i + n])) for i in range(len(tokens) - n + 1)}


@dataclass(frozen=True, kw_only=True)
class Contamination:
    """Why a program was removed: the benchmark item it shares most n-grams with."""

    program_id: str
    benchmark: str
    item_id: str
    shared_ngrams: int
    overlap: float
    """shared n-grams / n-grams of the benchmark item (1.0: the whole item is reproduced)"""


class Decontaminator:
    """n-gram index over benchmark programs; ``check`` names the most overlapping item.

    A program is contaminated when it contains at least ``min_overlap`` of one benchmark item's
    n-grams: after identifier normalisation every ``def v0(v1): v2 = v1[::-1]`` opening looks
    alike, so a few shared n-grams (a short program's whole text) are not evidence; reproducing
    most of a benchmark program is.
    """

    def __init__(self, n: int = 10, min_overlap: float = 0.5) -> None:
        self.n = n
        self.min_overlap = min_overlap
        self.index: dict[int, list[int]] = {}
        self.items: list[tuple[str, str, int]] = []  # (benchmark, item_id, n-gram count)
        self.counts: dict[str, int] = {}

    def add(self, benchmark: str, items: Iterable[tuple[str, str]]) -> None:
        """Index ``(item_id, code)`` pairs of one benchmark."""
        for item_id, code in items:
            grams = ngrams(normalized_tokens(code), self.n)
            k = len(self.items)
            self.items.append((benchmark, item_id, len(grams)))
            for g in grams:
                self.index.setdefault(g, []).append(k)
            self.counts[benchmark] = self.counts.get(benchmark, 0) + 1

    def check(self, program_id: str, code: str) -> Contamination | None:
        grams = ngrams(normalized_tokens(code), self.n)
        hits: dict[int, int] = {}
        for g in grams:
            for k in self.index.get(g, ()):
                hits[k] = hits.get(k, 0) + 1
        best: Contamination | None = None
        for k, count in sorted(hits.items()):
            bench, item, size = self.items[k]
            overlap = count / max(1, size)
            if overlap >= self.min_overlap and (best is None or overlap > best.overlap):
                best = Contamination(
                    program_id=program_id,
                    benchmark=bench,
                    item_id=item,
                    shared_ngrams=count,
                    overlap=overlap,
                )
        return best


def load_benchmark_programs(path: str, benchmark: str) -> list[tuple[str, str]]:
    """``(item_id, code)`` from a jsonl file (``code`` key), a .py directory or an HF dataset."""
    p = Path(path)
    if p.is_dir():
        return [(f.name, f.read_text(errors="replace")) for f in sorted(p.rglob("*.py"))]
    if p.is_file():
        out = []
        try:
            records = list(read_jsonl(p, strict=True))
        except DataError as e:
            raise DataError(f"decontam {benchmark}: {e}") from None
        for i, rec in enumerate(records):
            code = rec.get("code") or rec.get("program") or ""
            item = (
                rec.get("id") or rec.get("task_id") or rec.get("question_id") or rec.get("idx") or i
            )
            if code:
                out.append((str(item), str(code)))
        return out
    if "/" in path and not path.startswith((".", "/")):
        return _hf_programs(path, benchmark)
    raise DataError(
        f"decontam {benchmark}: {path} is neither a file, a directory nor a dataset name"
    )


def _hf_programs(name: str, benchmark: str) -> list[tuple[str, str]]:
    import datasets  # lazy: heavy

    try:
        ds = datasets.load_dataset(name, split="test")
    except Exception as e:  # noqa: BLE001 - loader failures are operator errors here
        raise DataError(
            f"decontam {benchmark}: cannot load {name!r} ({type(e).__name__}: {e})"
        ) from None
    col = "code" if "code" in ds.column_names else None
    if col is None:
        raise DataError(f"decontam {benchmark}: {name!r} has no 'code' column ({ds.column_names})")
    return [(str(r.get("id", i)), r[col]) for i, r in enumerate(ds)]
