"""Prompt sets for CRUXEval and LiveCodeBench execution: stepcode's own wording, or the official one.

* ``stepcode`` (the default): prompts written for stepcode (``eval/benchmarks/wording.py``). They
  keep the answer format the official extraction reads (``[ANSWER] assert ... == ... [/ANSWER]``,
  ``[THOUGHT]`` for chain of thought), so scoring is unchanged; the numbers are NOT comparable with a
  leaderboard, whose models saw the official text.
* ``official``: the templates of the benchmark's own harness, read from the user's copy of it (a
  clone of facebookresearch/cruxeval or LiveCodeBench/LiveCodeBench; the path is given once, as
  ``harness.cruxeval`` / ``harness.lcb`` in the eval config or ``STEPCODE_CRUXEVAL_HARNESS`` /
  ``STEPCODE_LCB_HARNESS``). The f-strings of the harness's ``make_*_prompt`` functions are read from
  their syntax tree, never executed, and rendered field by field, so the text is the official one
  to the byte. stepcode ships none of it.

``PromptSet.info`` is what ``eval run`` records in ``settings.json`` (set, source file, digest), so a
resumed run cannot mix generations made with two prompt sets.
"""

from __future__ import annotations

import ast
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from stepcode.errors import ConfigError

PromptSetName = Literal["stepcode", "official"]
FIELDS = ("code", "input", "output")


@dataclass(frozen=True)
class Field:
    """A slot of a template, filled with the item's ``code`` / ``input`` / ``output`` text."""

    name: str


@dataclass(frozen=True)
class Template:
    """Literal text and fields, rendered by concatenation (no ``str.format``: braces are text)."""

    parts: tuple[str | Field, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """``{code}``, ``{input}`` and ``{output}`` are fields; every other character is text."""
        parts: list[str | Field] = []
        rest = text
        while rest:
            hits = [(rest.find("{" + f + "}"), f) for f in FIELDS if "{" + f + "}" in rest]
            if not hits:
                parts.append(rest)
                break
            at, name = min(hits)
            if at:
                parts.append(rest[:at])
            parts.append(Field(name))
            rest = rest[at + len(name) + 2 :]
        return cls(tuple(parts))

    def render(self, values: Mapping[str, str]) -> str:
        return "".join(p if isinstance(p, str) else values[p.name] for p in self.parts)

    def text(self) -> str:
        """The template with ``{field}`` markers (for the digest and for reading)."""
        return "".join(p if isinstance(p, str) else "{" + p.name + "}" for p in self.parts)


@dataclass(frozen=True)
class PromptSet:
    name: PromptSetName
    templates: Mapping[str, Template]
    system: str | None
    """system message for chat-style prompts (None: the harness copy has none)"""
    source: str = "stepcode"
    """where the text came from: ``stepcode`` or the harness file it was read from"""
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        h = hashlib.sha256()
        for key in sorted(self.templates):
            h.update(f"{key}\0{self.templates[key].text()}\0".encode())
        h.update((self.system or "").encode())
        object.__setattr__(self, "digest", h.hexdigest()[:16])

    @property
    def info(self) -> dict[str, str]:
        return {"prompts": self.name, "prompt_source": self.source, "prompt_digest": self.digest}

    def render(self, key: str, values: Mapping[str, str], style: str = "raw") -> str | list[dict[str, str]]:  # fmt: skip
        text = self.templates[key].render(values)
        if style != "chat":
            return text
        if self.system is None:
            raise ConfigError(
                f"chat prompts need the official system message, which {self.source} does not hold "
                "(CRUXEval keeps it in openai/openai_prompt.py): use prompt_style: raw"
            )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": text}]


# family -> (candidate template files under the harness dir, function -> template key,
#            (file holding the system message, function it sits in or "", variable name))
_OFFICIAL = {
    "cruxeval": (
        ("prompts.py",),
        {"make_direct_output_prompt": "direct_output", "make_cot_output_prompt": "cot_output",
         "make_direct_input_prompt": "direct_input", "make_cot_input_prompt": "cot_input"},
        ("openai/openai_prompt.py", "", "system_prompt"),
    ),
    "lcb": (
        ("code_execution.py", "lcb_runner/prompts/code_execution.py"),
        {"make_direct_output_prompt": "direct_output", "make_cot_output_prompt": "cot_output"},
        ("", "format_prompt_execution_base", "system_message"),
    ),
}  # fmt: skip
_REPOS = {"cruxeval": "facebookresearch/cruxeval", "lcb": "LiveCodeBench/LiveCodeBench"}


def harness_dir(family: str, configured: str | None = None) -> Path:
    """The user's copy of ``family``'s harness: the configured path, else ``STEPCODE_<FAMILY>_HARNESS``."""
    env = f"STEPCODE_{family.upper()}_HARNESS"
    path = configured or os.environ.get(env)
    if not path:
        raise ConfigError(
            f"prompts: official needs your copy of the {family} harness (a clone of "
            f"{_REPOS[family]}): set harness.{family} in the eval config or {env}"
        )
    p = Path(path).expanduser()
    if not p.exists():
        raise ConfigError(f"harness.{family}: {p} does not exist")
    return p


def official_prompts(family: str, configured: str | None = None) -> PromptSet:
    """The official templates of ``family`` (``cruxeval`` | ``lcb``) from the user's harness copy."""
    root = harness_dir(family, configured)
    files, functions, (sys_file, sys_func, sys_var) = _OFFICIAL[family]
    src = root if root.is_file() else next((root / f for f in files if (root / f).is_file()), None)
    if src is None:
        raise ConfigError(f"harness.{family}: none of {list(files)} under {root}")
    tree = _parse(src)
    templates = {key: _template(tree, fn, src) for fn, key in functions.items()}
    sys_src = src if not sys_file else _find_up(src.parent, sys_file)
    system = _string_assignment(_parse(sys_src), sys_func, sys_var) if sys_src else None
    return PromptSet(name="official", templates=templates, system=system, source=str(src))


def _find_up(start: Path, rel: str) -> Path | None:
    for d in (start, *start.parents[:2]):
        if (d / rel).is_file():
            return d / rel
    return None


def _parse(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read the official prompts ({e})") from None


def _template(tree: ast.Module, name: str, path: Path) -> Template:
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    returns = [n.value for n in ast.walk(fn) if isinstance(n, ast.Return)] if fn else []
    if len(returns) != 1 or not isinstance(returns[0], ast.JoinedStr | ast.Constant):
        raise ConfigError(f"{path}: no {name}() returning one f-string (not the harness file?)")
    node = returns[0]
    values = node.values if isinstance(node, ast.JoinedStr) else [node]
    parts: list[str | Field] = []
    for v in values:
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            parts.append(v.value)
        elif (isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)
              and v.value.id in FIELDS and v.conversion == -1 and v.format_spec is None):  # fmt: skip
            parts.append(Field(v.value.id))
        else:
            raise ConfigError(
                f"{path}: {name}() has a field stepcode cannot fill: {ast.unparse(v)}"
            )
    return Template(tuple(parts))


def _string_assignment(tree: ast.Module, func: str, var: str) -> str | None:
    scope: ast.AST = tree
    if func:
        scope = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == func), tree)  # fmt: skip
    for n in ast.walk(scope):
        if (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == var for t in n.targets)
                and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)):  # fmt: skip
            return n.value.value
    return None
