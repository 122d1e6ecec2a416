"""evaluate(): official settings, greedy flag, per-sample files, resume after torn writes."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from stepcode.errors import ConfigError
from stepcode.eval.benchmarks import get_benchmark
from stepcode.eval.harness import EvalConfig, evaluate, read_generations
from stepcode.rollout.engines import Completion, GenerationParams

ROWS = [
    {"id": "sample_0", "code": "def f(x):\n    return x * 2", "input": "3", "output": "6"},
    {"id": "sample_1", "code": "def f(s):\n    return s[::-1]", "input": "'ab'", "output": "'ba'"},
    {"id": "sample_2", "code": "def f(a):\n    return len(a)", "input": "[1, 2]", "output": "2"},
    {"id": "sample_3", "code": "def f(a):\n    return a + 1", "input": "0", "output": "1"},
]


class AnswerEngine:
    """A deterministic engine: answers output prompts from a table (right or deliberately wrong)."""

    def __init__(self, wrong: set[str] = frozenset()) -> None:
        self.wrong = wrong
        self.calls: list[tuple[int, GenerationParams]] = []

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[list[Completion]]:
        self.calls.append((len(prompts), params))
        out = []
        for p in prompts:
            row = next(
                r for r in ROWS if f"assert f({r['input']}) ==" in p.rsplit("[PYTHON]", 1)[-1]
            )
            ans = "None" if row["id"] in self.wrong else row["output"]
            out.append([Completion(text=ans, finish_reason="stop",
                                   n_tokens=3)] * params.n)  # fmt: skip
        return out


@pytest.fixture()
def data(tmp_path):
    p = tmp_path / "crux.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return str(p)


def test_official_defaults_scores_and_files(tmp_path, data):
    eng = AnswerEngine(wrong={"sample_1"})
    cfg = EvalConfig(data={"cruxeval-o": data}, chunk_size=3)
    rep = evaluate(eng, ["cruxeval-o"], cfg, tmp_path / "out")
    (res,) = rep.results
    assert res.settings["n"] == 10 and res.settings["temperature"] == 0.2
    assert res.settings["stop"] == ["[/ANSWER]"] and res.n_generated == 40
    assert res.summary["pass@1"] == pytest.approx(75.0)
    assert [n for n, _ in eng.calls] == [3, 1]  # chunks of 3 items
    samples = [json.loads(x) for x in
               (tmp_path / "out/cruxeval-o/samples.jsonl").read_text().splitlines()]  # fmt: skip
    bad = [s for s in samples if s["item_id"] == "sample_1"]
    assert len(samples) == 40 and {s["verdict"] for s in bad} == {"wrong"}
    assert all(s["prompt"] and s["reason"] is not None for s in samples)
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["benchmarks"]["cruxeval-o"]["settings"]["top_p"] == 0.95


def test_greedy_and_overrides(tmp_path, data):
    eng = AnswerEngine()
    cfg = EvalConfig(data={"cruxeval-o": data}, greedy=True, overrides={"max_tokens": 64})
    (res,) = evaluate(eng, ["cruxeval-o"], cfg, tmp_path / "g").results
    assert (res.settings["n"], res.settings["temperature"], res.settings["greedy"]) == (1, 0, True)
    assert eng.calls[0][1].max_tokens == 64
    assert res.summary["pass@1"] == pytest.approx(100.0)


def test_resume_generates_only_missing_and_survives_a_torn_line(tmp_path, data):
    out = tmp_path / "r"
    cfg = EvalConfig(data={"cruxeval-o": data}, greedy=True, limit=2)
    evaluate(AnswerEngine(), ["cruxeval-o"], cfg, out)
    gen = out / "cruxeval-o/generations.jsonl"
    first = gen.read_text()
    with gen.open("a") as fh:
        fh.write('{"item_id": "sample_2", "sample_idx": 0, "gener')  # a kill -9 mid-write
    eng = AnswerEngine()
    (res,) = evaluate(eng, ["cruxeval-o"], EvalConfig(**{**cfg.__dict__, "limit": 4}), out).results
    assert res.n_generated == 2 and [n for n, _ in eng.calls] == [2]
    assert gen.read_text().startswith(first)
    assert sorted(read_generations(gen)) == [(f"sample_{i}", 0) for i in range(4)]
    assert res.summary["pass@1"] == pytest.approx(100.0)
    eng2 = AnswerEngine()
    evaluate(eng2, ["cruxeval-o"], EvalConfig(**{**cfg.__dict__, "limit": 4}), out)
    assert eng2.calls == []


def test_changed_settings_in_the_same_dir_is_an_error(tmp_path, data):
    out = tmp_path / "s"
    evaluate(
        AnswerEngine(), ["cruxeval-o"], EvalConfig(data={"cruxeval-o": data}, greedy=True), out
    )
    with pytest.raises(ConfigError, match="another --out"):
        evaluate(AnswerEngine(), ["cruxeval-o"], EvalConfig(data={"cruxeval-o": data}), out)


def test_bad_config():
    with pytest.raises(ConfigError):
        EvalConfig(limit=0)
    with pytest.raises(ConfigError, match="unknown generation"):
        from stepcode.eval.harness import settings_for

        settings_for(get_benchmark("cruxeval-o"), EvalConfig(overrides={"temp": 1}))


def test_chat_prompt_style_reaches_the_engine_and_the_settings(tmp_path, data):
    from stepcode.eval.harness import resolve_benchmark

    seen = []

    class ChatEngine(AnswerEngine):
        def generate(self, prompts, params):
            seen.extend(prompts)
            return [[Completion(text="0", finish_reason="stop", n_tokens=1)] for _ in prompts]

    bench = resolve_benchmark("cruxeval-o", prompt_style="chat")
    cfg = EvalConfig(data={"cruxeval-o": data}, greedy=True, limit=1)
    (res,) = evaluate(ChatEngine(), [bench], cfg, tmp_path / "c").results
    assert isinstance(seen[0], list) and seen[0][-1]["role"] == "user"
    assert res.settings["prompt_style"] == "chat"
    with pytest.raises(ConfigError, match="unknown benchmark"):
        resolve_benchmark("cruxeval-x-aligned")
