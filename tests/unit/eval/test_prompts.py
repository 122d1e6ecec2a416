"""Prompt sets: the official templates render byte for byte as the official harness builds them (read
from a user's copy under ``shared/benchmarks/*/official/``; skipped without it), stepcode ships none
of that text, and a missing or broken harness copy is a clear error."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from stepcode.errors import ConfigError
from stepcode.eval.benchmarks import get_benchmark
from stepcode.eval.benchmarks.base import EvalItem
from stepcode.eval.benchmarks.prompts import Template

SRC = Path(__file__).resolve().parents[3] / "src" / "stepcode"
LCB_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lcb_execution_sample.jsonl"


def _official(shared_dir: Path, family: str) -> Path:
    d = shared_dir / "benchmarks" / family / "official"
    if not d.is_dir():
        pytest.skip(f"no official {family} prompt sources under {d}")
    return d


def _official_functions(path: Path, **names: object) -> dict:
    """The harness's ``make_*``/``format_*`` functions, executed from its own source (imports
    left out: LiveCodeBench's module imports its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tree.body = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    ns: dict = dict(names)
    exec(compile(tree, str(path), "exec"), ns)  # noqa: S102 - the official harness, in a test
    return ns


def _items(cruxeval_path: Path, n: int = 80) -> list[EvalItem]:
    from stepcode.eval.benchmarks.cruxeval import load_cruxeval

    items = load_cruxeval(str(cruxeval_path), limit=n)
    # braces and backslashes in code must come through as text
    odd = EvalItem(item_id="odd", data={"code": "def f(s):\n    return '{%s}\\n' % s",
                                        "input": "'{code}'", "output": "'{{code}}\\n'"})  # fmt: skip
    return [*items, odd]


@pytest.mark.parametrize(("name", "fn"), [
    ("cruxeval-o", "make_direct_output_prompt"), ("cruxeval-o-cot", "make_cot_output_prompt"),
    ("cruxeval-i", "make_direct_input_prompt"), ("cruxeval-i-cot", "make_cot_input_prompt"),
])  # fmt: skip
def test_official_cruxeval_prompts_render_exactly(shared_dir, cruxeval_path, name, fn) -> None:
    root = _official(shared_dir, "cruxeval")
    ref = _official_functions(root / "prompts.py")[fn]
    bench = get_benchmark(name, prompts="official", harness=str(root))
    assert bench.prompt_info["prompts"] == "official"
    assert bench.prompt_info["prompt_source"] == str(root / "prompts.py")
    field = "input" if "output" in fn else "output"
    for item in _items(cruxeval_path):
        assert bench.prompt(item) == ref((item.data["code"], item.data[field])), item.item_id


def test_official_lcb_prompts_and_chat_messages_render_exactly(shared_dir) -> None:
    from stepcode.eval.benchmarks.lcb import load_lcb

    root = _official(shared_dir, "lcb")

    class Style:  # what format_prompt_execution_base compares against
        OpenAIChat = "OpenAIChat"

    class Question:
        def __init__(self, item: EvalItem) -> None:
            self.code, self.input = item.data["code"], item.data["input"]

    ns = _official_functions(root / "code_execution.py", LMStyle=Style, json=json)
    for cot in (False, True):
        raw = get_benchmark("lcb-cot" if cot else "lcb", prompts="official", harness=str(root))
        chat = get_benchmark("lcb-cot" if cot else "lcb", prompts="official", harness=str(root),
                             prompt_style="chat")  # fmt: skip
        make = ns["make_cot_output_prompt" if cot else "make_direct_output_prompt"]
        for item in load_lcb(str(LCB_FIXTURE)):
            assert raw.prompt(item) == make((item.data["code"], item.data["input"]))
            official = ns["format_prompt_execution_base"](Question(item), Style.OpenAIChat, cot)
            assert chat.prompt(item) == official


def test_the_harness_path_can_come_from_the_environment(
    shared_dir, cruxeval_path, monkeypatch
) -> None:
    root = _official(shared_dir, "cruxeval")
    monkeypatch.setenv("STEPCODE_CRUXEVAL_HARNESS", str(root))
    item = _items(cruxeval_path, 1)[0]
    ref = _official_functions(root / "prompts.py")["make_direct_output_prompt"]
    assert get_benchmark("cruxeval-o", prompts="official").prompt(item) == ref(
        (item.data["code"], item.data["input"])
    )
    # the CRUXEval copy there has no openai/openai_prompt.py: no official system message
    with pytest.raises(ConfigError, match="system message"):
        get_benchmark("cruxeval-o", prompts="official", prompt_style="chat").prompt(item)


def test_missing_or_wrong_harness_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("STEPCODE_CRUXEVAL_HARNESS", raising=False)
    with pytest.raises(ConfigError, match=r"harness.cruxeval.*STEPCODE_CRUXEVAL_HARNESS"):
        get_benchmark("cruxeval-o", prompts="official")
    with pytest.raises(ConfigError, match="does not exist"):
        get_benchmark("lcb", prompts="official", harness=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="none of"):
        get_benchmark("lcb", prompts="official", harness=str(tmp_path))
    (tmp_path / "prompts.py").write_text(
        "def make_direct_output_prompt(s):\n    return s.upper()\n"
    )
    with pytest.raises(ConfigError, match="returning one f-string"):
        get_benchmark("cruxeval-o", prompts="official", harness=str(tmp_path))
    (tmp_path / "prompts.py").write_text(
        "".join(f'def make_{k}_prompt(s):\n    return f"{{s!r}}"\n'
                for k in ("direct_output", "cot_output", "direct_input", "cot_input"))
    )  # fmt: skip
    with pytest.raises(ConfigError, match="cannot fill"):
        get_benchmark("cruxeval-o", prompts="official", harness=str(tmp_path))
    with pytest.raises(ConfigError, match="stepcode or official"):
        get_benchmark("cruxeval-o", prompts="leaderboard")


def _official_sentences(shared_dir: Path) -> list[str]:
    """Every line of the official prompt sources' string literals long enough to be prose."""
    found = []
    for path in (shared_dir / "benchmarks").glob("*/official/*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [x.strip() for x in node.value.splitlines() if len(x.strip()) >= 40]
    return found


def test_the_package_ships_none_of_the_official_prompt_text(shared_dir) -> None:
    sentences = _official_sentences(shared_dir)
    if not sentences:
        pytest.skip("no official prompt sources to compare with")
    shipped = {p: p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")
               if not p.name.startswith("reval")}  # REval's files are the reval developer's  # fmt: skip
    hits = [(p.name, s[:60]) for s in sentences for p, text in shipped.items() if s in text]
    assert hits == []


def test_template_fields_are_the_only_markup() -> None:
    t = Template.parse("a {code} b {input}{output} {x} {{code}}")
    assert t.render({"code": "C{1}", "input": "I", "output": "O"}) == "a C{1} b IO {x} {C{1}}"
    assert t.text() == "a {code} b {input}{output} {x} {{code}}"
