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

Fields: ``{code}``, ``{invocation}``, ``{invocation_abbr}``, ``{line}``, ``{codeline}``, ``{var}``;
``prompt_values(pair, task)`` fills them as REval does (HumanEval path code with ``N\t`` prefixes,
ClassEval test code after the commented ``setUp``), ``prompts(pair, task, cot, set)`` renders.
``RevalPrompts.info`` is what ``eval run`` records (set, source, digest).
"""

from __future__ import annotations

import functools
import os
import string
from pathlib import Path

from stepcode.errors import ConfigError
from stepcode.eval.benchmarks.prompts import Field, PromptSet, Template
from stepcode.eval.benchmarks.reval_data import RevalPair

FIELDS = ("code", "invocation", "invocation_abbr", "line", "codeline", "var")
LAYOUT = ("layout_abbr", "layout_setup", "layout_prelude")
"""ClassEval pairs: how the test code is named in a question, the header of the commented
``setUp`` and the line before the output task's test code (REval's: read from its
``evaluation.py`` in the user's copy; stepcode's: ``reval_wording``)"""
KEYS = tuple(f"{s}_{t}" for s in ("direct", "cot") for t in ("coverage", "state", "path", "output"))
ENV = "STEPCODE_REVAL_HARNESS"


RevalPrompts = PromptSet
"""REval's prompt sets are ``eval.benchmarks.prompts.PromptSet`` s (keys ``{direct,cot}_{task}``)"""


def parse_template(text: str, where: str) -> Template:
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
    return Template(tuple(parts))


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
    templates.update(_official_layout(d.parent / "evaluation.py"))
    return PromptSet(name="official", templates=templates, system=_system(d), source=str(d))


def _official_layout(evaluation: Path) -> dict[str, Template]:
    """REval's ClassEval layout strings, read (never run) from its ``evaluation.py``: the
    ``invocation_abbr=`` text, the ``setup = '...' + ...`` header and the ``prelude`` line.
    Missing file or pieces: none (official ClassEval prompts then say what is missing)."""
    import ast

    try:
        tree = ast.parse(evaluation.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return {}
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "invocation_abbr":
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.setdefault("layout_abbr", node.value.value)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if not isinstance(target, ast.Name):
                continue
            if target.id == "prelude" and isinstance(value, ast.Constant):
                found.setdefault("layout_prelude", str(value.value))
            elif (target.id == "setup" and isinstance(value, ast.BinOp)
                  and isinstance(value.left, ast.Constant) and isinstance(value.left.value, str)):  # fmt: skip
                found.setdefault("layout_setup", value.left.value)
    return {k: Template((v,)) for k, v in found.items()}


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


@functools.cache
def stepcode_prompts() -> RevalPrompts:
    from stepcode.eval.benchmarks.reval_wording import LAYOUT_TEXT, TEMPLATES
    from stepcode.eval.benchmarks.wording import SYSTEM

    parsed = {k: parse_template(v, f"stepcode {k}") for k, v in TEMPLATES.items()}
    parsed.update({k: Template((v,)) for k, v in LAYOUT_TEXT.items()})
    return PromptSet(name="stepcode", templates=parsed, system=SYSTEM)


def _layout(prompt_set: RevalPrompts, key: str) -> str:
    template = prompt_set.templates.get(key)
    if template is None:
        raise ConfigError(
            f"REval's official ClassEval prompts need the test-code layout of your copy's "
            f"evaluation.py (beside {prompt_set.source}); it is missing there"
        )
    return template.text()


def invocation(
    pair: RevalPair, task: str = "coverage", prompt_set: RevalPrompts | None = None
) -> str:
    """HumanEval ``fn(args)`` (output: the assertion); ClassEval: the commented ``setUp`` then
    the test snippet, in the layout of ``prompt_set`` (default: stepcode's)."""
    if pair.classeval is None:
        if task == "output":
            return "\n" + pair.output_pred
        return f"{pair.entry_point}{pair.input[:-2]})"
    ps = prompt_set or stepcode_prompts()
    setup = pair.classeval.setup
    if ps.name == "official":  # REval leaves the first setUp line of coverage/state unhashed
        head = _layout(ps, "layout_setup") + ("# " if task in ("path", "output") else "")
        setup_text = head + "\n# ".join(setup.split("\n")[1:]) if setup else ""
        if task == "output":
            return setup_text + _layout(ps, "layout_prelude") + pair.output_pred
        return setup_text + "\n" + pair.input.rstrip()
    head = (
        _layout(ps, "layout_setup") + "".join(f"# {x}\n" for x in setup.rstrip("\n").split("\n"))
        if setup
        else ""
    )
    tail = pair.output_pred if task == "output" else pair.input.rstrip()
    return head + _layout(ps, "layout_prelude") + tail


def prompt_values(
    pair: RevalPair, task: str, prompt_set: RevalPrompts | None = None
) -> list[dict[str, str]]:
    """The template fields of each prompt: one per (line, var) question, one for ``output``."""
    inv = invocation(pair, task, prompt_set)
    if task == "output":
        return [{"code": pair.code, "invocation": inv}]
    lines = pair.code.split("\n")
    numbered = task == "path" and pair.classeval is None
    shown = "".join(f"{i + 1}\t{s}\n" for i, s in enumerate(lines)) if numbered else pair.code
    abbr = inv
    if pair.classeval is not None:
        abbr = _layout(prompt_set or stepcode_prompts(), "layout_abbr")
    return [
        {"code": shown, "invocation": inv, "invocation_abbr": abbr, "line": str(q.lineno),
         "codeline": lines[q.lineno - 1], "var": q.var}
        for q in pair.questions
    ]  # fmt: skip


def prompts(
    pair: RevalPair, task: str, cot: bool = False, prompt_set: RevalPrompts | None = None
) -> list[str]:
    """The prompts of ``pair`` for ``task`` (stepcode's wording unless ``prompt_set`` is given)."""
    ps = prompt_set or stepcode_prompts()
    key = f"{'cot' if cot else 'direct'}_{task}"
    return [ps.templates[key].render(v) for v in prompt_values(pair, task, ps)]
