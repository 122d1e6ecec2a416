"""Prompt sets for REval's four tasks: stepcode's own wording, or the official one.

* ``stepcode`` (the default): prompts written for stepcode. They ask for the answer formats REval's
  scorer reads (``YES``/``NO``; ``value; type`` or ``Nil``; one line of code or ``-1``; the completed
  test code), between ``[ANSWER]`` and ``[/ANSWER]`` (the stop word), with reasoning in ``[THOUGHT]``
  ... ``[/THOUGHT]`` for chain of thought. The scoring is the same; the numbers are NOT comparable
  with published REval results, whose models saw the official text.
* ``official``: REval's ``prompts/{direct,cot}_{task}.txt``, read from the user's copy of
  r-eval/REval (``harness``: the clone, or its ``prompts/`` folder; else ``STEPCODE_REVAL_HARNESS``;
  else next to the data directory, as in a clone where ``data/`` and ``prompts/`` are siblings). The
  files are ``str.format`` templates; they are parsed field by field and rendered by concatenation,
  so the text is REval's to the byte and a template cannot reach into the values' attributes.
  REval ships no licence: stepcode ships none of its text.

Fields: ``{code}``, ``{invocation}``, ``{invocation_abbr}``, ``{line}``, ``{codeline}``, ``{var}``.
``RevalPrompts.info`` is what ``eval run`` records (set, source, digest).
"""

from __future__ import annotations

import hashlib
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from stepcode.errors import ConfigError

PromptSetName = Literal["stepcode", "official"]
FIELDS = ("code", "invocation", "invocation_abbr", "line", "codeline", "var")
KEYS = tuple(f"{s}_{t}" for s in ("direct", "cot") for t in ("coverage", "state", "path", "output"))
ENV = "STEPCODE_REVAL_HARNESS"
STEPCODE_SYSTEM = "You read Python code carefully and say exactly what it does when it runs."


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class RevalPrompts:
    """One prompt set: template key (``direct_state``, ``cot_path``, ...) -> literal text and fields."""

    name: PromptSetName
    templates: Mapping[str, tuple[str | Field, ...]]
    system: str | None
    """the system message of chat-style prompts (None: the copy holds none)"""
    source: str = "stepcode"
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        h = hashlib.sha256()
        for key in sorted(self.templates):
            h.update(f"{key}\0{_text(self.templates[key])}\0".encode())
        h.update((self.system or "").encode())
        object.__setattr__(self, "digest", h.hexdigest()[:16])

    @property
    def info(self) -> dict[str, str]:
        return {"prompts": self.name, "prompt_source": self.source, "prompt_digest": self.digest}

    def render(self, key: str, values: Mapping[str, object]) -> str:
        return "".join(
            p if isinstance(p, str) else str(values[p.name]) for p in self.templates[key]
        )


def parse_template(text: str, where: str) -> tuple[str | Field, ...]:
    """A ``str.format`` template as literal text and plain fields (``{{`` is a brace)."""
    parts: list[str | Field] = []
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as e:
        raise ConfigError(f"{where}: not a prompt template ({e})") from None
    for literal, name, spec, conversion in pieces:
        if literal and parts and isinstance(parts[-1], str):
            parts[-1] += literal  # ``{{`` splits the text: keep one piece
        elif literal:
            parts.append(literal)
        if name is None:
            continue
        if name not in FIELDS or spec or conversion:
            raise ConfigError(f"{where}: field {{{name}}} is not one of {', '.join(FIELDS)}")
        parts.append(Field(name))
    return tuple(parts)


def _text(parts: tuple[str | Field, ...]) -> str:
    return "".join(p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else
                   "{" + p.name + "}" for p in parts)  # fmt: skip


def official_dir(harness: str | None = None, data_dir: str | None = None) -> Path:
    """The folder holding REval's ``*.txt`` templates in the user's copy (see the module doc)."""
    given = harness or os.environ.get(ENV)
    roots = [Path(given).expanduser()] if given else []
    if not given and data_dir:
        roots = [Path(data_dir).expanduser(), Path(data_dir).expanduser().parent]
    for root in roots:
        for d in (root, root / "prompts"):
            if (d / "direct_state.txt").is_file():
                return d
    if given:
        raise ConfigError(f"REval prompts: no prompts/direct_state.txt under {given}")
    raise ConfigError(
        "prompts: official needs your copy of REval's prompts (a clone of r-eval/REval): set "
        f"harness in the benchmark options or {ENV}, or keep prompts/ beside the data folder"
    )


def official_prompts(harness: str | None = None, data_dir: str | None = None) -> RevalPrompts:
    d = official_dir(harness, data_dir)
    templates = {}
    for key in KEYS:
        f = d / f"{key}.txt"
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"REval prompts: cannot read {f} ({e})") from None
        templates[key] = parse_template(text, str(f))
    return RevalPrompts(name="official", templates=templates, system=_system(d), source=str(d))


def _system(prompts_dir: Path) -> str | None:
    """The system message of REval's ``inference.py`` (its OpenAI runner), read, never run."""
    import ast

    f = prompts_dir.parent / "inference.py"
    try:
        tree = ast.parse(f.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            pairs = {
                k.value: v.value
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
            }
            if pairs.get("role") == "system" and isinstance(pairs.get("content"), str):
                return pairs["content"]
    return None


def stepcode_prompts() -> RevalPrompts:
    from stepcode.eval.benchmarks.reval_wording import TEMPLATES

    parsed = {k: parse_template(v, f"stepcode {k}") for k, v in TEMPLATES.items()}
    return RevalPrompts(name="stepcode", templates=parsed, system=STEPCODE_SYSTEM)
