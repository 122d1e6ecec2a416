"""evaluate(): official settings, greedy flag, per-sample files, resume after torn writes, the
settings guard, and ``EvalConfig`` from YAML."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from stepcode.config import load_config
from stepcode.errors import ConfigError
from stepcode.eval.benchmarks import get_benchmark
from stepcode.eval.config import EvalConfig, SamplingOverrides
from stepcode.eval.harness import evaluate, read_run_generations
from stepcode.eval.records import read_samples
from stepcode.rollout.engines import Completion, GenerationParams

ROWS = [
    {"id": "sample_0", "code": "def f(x):\n    return x * 2", "input": "3", "output": "6"},
    {"id": "sample_1", "code": "def f(s):\n    return s[::-1]", "input": "'ab'", "output": "'ba'"},
    {"id": "sample_2", "code": "def f(a):\n    return len(a)", "input": "[1, 2]", "output": "2"},
    {"id": "sample_3", "code": "def f(a):\n    return a + 1", "input": "0", "output": "1"},
]


GREEDY = SamplingOverrides(greedy=True)


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


def fake_harness(root: Path) -> Path:
    """A harness copy shaped like facebookresearch/cruxeval's ``prompts.py`` (our own text)."""
    root.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f"def make_{kind}_prompt(s):\n    code, {field} = s\n"
        f'    return f"""{kind}:\n{{code}}\n{{{field}}}\n"""\n\n'
        for kind, field in (("direct_output", "input"), ("cot_output", "input"),
                            ("direct_input", "output"), ("cot_input", "output"))
    )  # fmt: skip
    (root / "prompts.py").write_text(body)
    return root


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
    samples = read_samples(tmp_path / "out/cruxeval-o/samples.jsonl")
    bad = [s for s in samples if s.item_id == "sample_1"]
    assert len(samples) == 40 and {s.correct for s in bad} == {False}
    assert all(s.correct for s in samples if s.item_id != "sample_1")
    assert all(s.prompt and s.reason and s.benchmark == "cruxeval-o" for s in samples)
    assert {s.group["length"] for s in samples} == {"1-5"}
    assert {s.audit for s in samples} == {"by_value:pass", "by_value:wrong_value"}
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    bench = summary["benchmarks"]["cruxeval-o"]
    assert bench["settings"]["top_p"] == 0.95 and bench["settings"]["prompts"] == "stepcode"
    assert bench["pass@1_by_value"] == pytest.approx(75.0) and bench["official_only"] == 0


def test_greedy_and_overrides(tmp_path, data):
    eng = AnswerEngine()
    cfg = EvalConfig(
        data={"cruxeval-o": data}, sampling=SamplingOverrides(greedy=True, max_tokens=64)
    )
    (res,) = evaluate(eng, ["cruxeval-o"], cfg, tmp_path / "g").results
    assert (res.settings["n"], res.settings["temperature"], res.settings["greedy"]) == (1, 0, True)
    assert eng.calls[0][1].max_tokens == 64
    assert res.summary["pass@1"] == pytest.approx(100.0)


def test_resume_generates_only_missing_and_survives_a_torn_line(tmp_path, data):
    out = tmp_path / "r"
    cfg = EvalConfig(data={"cruxeval-o": data}, sampling=GREEDY, limit=2)
    evaluate(AnswerEngine(), ["cruxeval-o"], cfg, out)
    gen = out / "cruxeval-o/generations.jsonl"
    first = gen.read_text()
    with gen.open("a") as fh:
        fh.write('{"item_id": "sample_2", "sample_idx": 0, "gener')  # a kill -9 mid-write
    eng = AnswerEngine()
    (res,) = evaluate(eng, ["cruxeval-o"], replace(cfg, limit=4), out).results
    assert res.n_generated == 2 and [n for n, _ in eng.calls] == [2]
    assert gen.read_text().startswith(first)
    assert sorted(read_run_generations(gen)) == [(f"sample_{i}", 0) for i in range(4)]
    assert res.summary["pass@1"] == pytest.approx(100.0)
    eng2 = AnswerEngine()
    evaluate(eng2, ["cruxeval-o"], replace(cfg, limit=4), out)
    assert eng2.calls == []


def test_changed_settings_in_the_same_dir_is_an_error(tmp_path, data):
    out = tmp_path / "s"
    cfg = EvalConfig(data={"cruxeval-o": data}, sampling=GREEDY)
    evaluate(AnswerEngine(), ["cruxeval-o"], cfg, out)
    with pytest.raises(ConfigError, match=r"n: 1 there, 10 now.*another --out"):
        evaluate(AnswerEngine(), ["cruxeval-o"], replace(cfg, sampling=SamplingOverrides()), out)
    # the prompt set is a setting too: official prompts never mix with stepcode's
    with pytest.raises(ConfigError, match="prompts: 'stepcode' there, 'official' now"):
        harness = fake_harness(tmp_path / "h")
        official = get_benchmark("cruxeval-o", prompts="official", harness=str(harness))
        evaluate(AnswerEngine(), [official], cfg, out)


def test_bad_config(tmp_path):
    with pytest.raises(ConfigError):
        EvalConfig(limit=0)
    with pytest.raises(
        ConfigError,
        match=r"sampling.tempreature: unknown key \(did you mean 'sampling.temperature'",
    ):
        load_config(EvalConfig, None, ["sampling.tempreature=1"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {path: m, backend: tgi}\nprompts: leaderboard\nlimit: 0\n")
    with pytest.raises(ConfigError) as e:
        load_config(EvalConfig, bad)
    assert "backend" in str(e.value) and "prompts" in str(e.value)  # every problem at once
    # per-benchmark options reach the constructor, and a misspelt one is an error
    from stepcode.eval.harness import benchmarks_for

    cfg = load_config(EvalConfig, None, ["benchmarks=[cruxeval-o-aligned]",
                                         "options={cruxeval-o-aligned: {template: compact}}"])  # fmt: skip
    assert benchmarks_for(cfg)[0].template == "compact"
    with pytest.raises(ConfigError, match="templat"):
        benchmarks_for(replace(cfg, options={"cruxeval-o-aligned": {"templat": "compact"}}))


def test_yaml_config_runs_like_the_flags(tmp_path, data):
    """``EvalConfig`` from YAML (+ overrides) gives the run the flags give."""
    cfg_file = tmp_path / "e.yaml"
    cfg_file.write_text(
        f"benchmarks: [cruxeval-o]\nsampling: {{greedy: true, max_tokens: 32}}\n"
        f"data: {{cruxeval-o: {data}}}\nchunk_size: 2\n"
    )
    cfg = load_config(EvalConfig, cfg_file, ["limit=3", f"out={tmp_path / 'y'}"])
    assert cfg.sampling.greedy and cfg.limit == 3 and cfg.benchmarks == ("cruxeval-o",)
    eng = AnswerEngine()
    (res,) = evaluate(eng, cfg.benchmarks, cfg).results
    assert (
        res.n_items == 3
        and res.settings["max_tokens"] == 32
        and [n for n, _ in eng.calls] == [2, 1]
    )
    assert (tmp_path / "y/cruxeval-o/summary.json").is_file()


def test_chat_prompt_style_reaches_the_engine_and_the_settings(tmp_path, data):
    from stepcode.eval.harness import resolve_benchmark

    seen = []

    class ChatEngine(AnswerEngine):
        def generate(self, prompts, params):
            seen.extend(prompts)
            return [[Completion(text="0", finish_reason="stop", n_tokens=1)] for _ in prompts]

    bench = resolve_benchmark("cruxeval-o", prompt_style="chat")
    cfg = EvalConfig(data={"cruxeval-o": data}, sampling=GREEDY, limit=1)
    (res,) = evaluate(ChatEngine(), [bench], cfg, tmp_path / "c").results
    assert isinstance(seen[0], list) and seen[0][-1]["role"] == "user"
    assert res.settings["prompt_style"] == "chat"
    with pytest.raises(ConfigError, match="unknown benchmark"):
        resolve_benchmark("cruxeval-x-aligned")
