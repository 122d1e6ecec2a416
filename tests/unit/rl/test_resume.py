"""A run dir resumes only with settings that leave its finished stages as they ran (rl.resume)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stepcode.cli import get_app
from stepcode.config import config_to_dict, dump_config, load_config
from stepcode.errors import ConfigError
from stepcode.rl.config import TrainConfig
from stepcode.rl.resume import check_resume, flatten


def _run_dir(tmp_path: Path, *, data=False, init=False) -> tuple[Path, TrainConfig]:
    cfg = load_config(TrainConfig, None, [f"run.out={tmp_path}"])
    dump_config(cfg, tmp_path / "config.yaml")
    if data:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "train.jsonl").write_text("")
    if init:
        (tmp_path / "init").mkdir()
        (tmp_path / "init" / "config.json").write_text("{}")
    return tmp_path, cfg


def _with(cfg: TrainConfig, *sets: str) -> dict:
    return config_to_dict(load_config(TrainConfig, None, [f"run.out={cfg.run.out}", *sets]))


def test_flatten():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": None}) == {"a.b": 1, "a.c": [1, 2], "d": None}


def test_fresh_or_equal_configs_resume(tmp_path: Path):
    assert check_resume(tmp_path / "new", {"x": 1}, None, force=False) == []
    run, cfg = _run_dir(tmp_path, data=True, init=True)
    assert check_resume(run, config_to_dict(cfg), None, force=False) == []
    assert (
        check_resume(run, _with(cfg, "run.threads=1", "run.log_every=3"), None, force=False) == []
    )


def test_built_data_freezes_data_settings_and_says_which(tmp_path: Path):
    run, cfg = _run_dir(tmp_path, data=True)
    with pytest.raises(ConfigError, match=r"data\.n_train.*8000 -> 10"):
        check_resume(run, _with(cfg, "data.n_train=10"), None, force=False)
    with pytest.raises(ConfigError, match="run.seed"):
        check_resume(run, _with(cfg, "run.seed=3"), None, force=False)
    # nothing else ran yet: the model and the warm-up may still change
    assert check_resume(run, _with(cfg, "sft.steps=5", "model.vocab_size=300"), None, force=False)
    assert check_resume(run, _with(cfg, "data.n_train=10"), None, force=True) == ["data.n_train"]


def test_end_of_sft_branches_grpo_but_not_the_warm_up(tmp_path: Path):
    run, cfg = _run_dir(tmp_path, data=True, init=True)
    end_of_sft = {"step": cfg.sft.steps, "phase": "grpo"}
    ok = _with(
        cfg, "grpo.mode=terminal", "grpo.lr=3e-5", "rollout.group_size=8", "reward.combine=gated"
    )
    assert "grpo.mode" in check_resume(run, ok, end_of_sft, force=False)
    for bad in (
        "sft.steps=5",
        "optim.grad_clip=2.0",
        "model.vocab_size=300",
        "reward.strict_types=true",
    ):
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            check_resume(run, _with(cfg, bad), end_of_sft, force=False)


def test_after_grpo_started_only_more_grpo_steps_are_allowed(tmp_path: Path):
    run, cfg = _run_dir(tmp_path, data=True, init=True)
    done = {"step": cfg.total_steps, "phase": "done"}
    assert check_resume(run, _with(cfg, "grpo.steps=40"), done, force=False) == ["grpo.steps"]
    for bad in ("grpo.steps=5", "grpo.lam=0.5", "rollout.temperature=0.7"):
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            check_resume(run, _with(cfg, bad), done, force=False)


def test_cli_refuses_before_any_work(tmp_path: Path):
    run, _ = _run_dir(tmp_path, data=True)
    result = CliRunner().invoke(get_app(), ["train", "--out", str(run), "--set", "data.levels=[2]"])
    assert isinstance(result.exception, ConfigError) and "data.levels" in str(result.exception)
    assert not (run / "init").exists()  # refused before the policy was built
