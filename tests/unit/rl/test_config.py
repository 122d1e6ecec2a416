"""TrainConfig: defaults are valid, operator mistakes fail fast with the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepcode.config import config_to_dict, dump_config, load_config
from stepcode.errors import ConfigError
from stepcode.rl.config import GRPOConfig, RolloutConfig, TrainConfig


def test_defaults_are_the_embedded_tiny_run() -> None:
    cfg = TrainConfig()
    assert cfg.model.path is None
    assert cfg.grpo.mode == "bilevel"
    assert cfg.total_steps == cfg.sft.steps + cfg.grpo.steps


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("rollout.group_size=1", "group_size=1"),
        ("grpo.lam=-0.1", "grpo.lam=-0.1"),
        ("grpo.clip_eps=1.5", "clip_eps"),
        ("sft.lr=0", "sft.lr=0"),
        ("data.levels=[7]", "data.levels"),
        ("grpo.mode=outcome", "mode"),
        ("rollout.temperature=0", "temperature"),
        ("rollout.top_p=0", "top_p"),
        ("data.max_inputs_per_program=0", "max_inputs_per_program"),
        ("sft.prompt_loss_weight=2", "prompt_loss_weight"),
        ("sft.precision=fp8", "precision"),
        ("sft.optimizer=sgd", "optimizer"),
        ("sft.muon_lr=0", "sft.muon_lr=0"),
    ],
)
def test_bad_values_raise_config_error_naming_the_key(override: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(TrainConfig, None, [override])
    assert fragment in str(info.value)


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("grpo:\n  lamda: 0.3\n")
    with pytest.raises(ConfigError, match="lamda"):
        load_config(TrainConfig, p)


def test_overrides_and_file_compose(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("grpo:\n  mode: terminal\n  steps: 3\nsft:\n  steps: 5\n")
    cfg = load_config(TrainConfig, p, ["grpo.steps=7", "run.seed=3"])
    assert (cfg.grpo.mode, cfg.grpo.steps, cfg.sft.steps, cfg.run.seed) == ("terminal", 7, 5, 3)
    assert cfg.total_steps == 12
    assert cfg.rollout.samples_per_step == cfg.rollout.tasks_per_step * cfg.rollout.group_size


def test_dumped_config_loads_back_identical(tmp_path: Path) -> None:
    cfg = load_config(TrainConfig, None, ["grpo.lam=0.5", "data.levels=[1,2]"])
    dump_config(cfg, tmp_path / "config.yaml")
    again = load_config(TrainConfig, tmp_path / "config.yaml")
    assert config_to_dict(again) == config_to_dict(cfg)
    assert again == cfg


def test_sections_validate_on_direct_construction() -> None:
    with pytest.raises(ConfigError):
        RolloutConfig(group_size=0)
    with pytest.raises(ConfigError):
        GRPOConfig(kl_coef=-1.0)


def test_exponent_floats_without_a_dot_are_floats(tmp_path: Path) -> None:
    """YAML 1.1 reads ``1e-4`` as a string; a float field takes it as the number it spells."""
    cfg = load_config(TrainConfig, None, ["grpo.lr=1e-4", "sft.lr=3E-3"])
    assert cfg.grpo.lr == 1e-4 and cfg.sft.lr == 3e-3
    with pytest.raises(ConfigError, match="grpo.lr"):
        load_config(TrainConfig, None, ["grpo.lr=fast"])


@pytest.mark.parametrize(
    ("overrides", "weight"),
    [
        ([], 1.0),  # built from scratch: the prompts teach it Python too
        (["model.path=Qwen/Qwen2.5-Coder-7B-Instruct"], 0.0),  # pretrained: completion only
        (["model.path=Qwen/Qwen2.5-Coder-7B-Instruct", "sft.prompt_loss_weight=0.5"], 0.5),
        (["sft.prompt_loss_weight=0"], 0.0),
    ],
)
def test_sft_prompt_weight_auto_depends_on_where_the_model_comes_from(overrides, weight) -> None:
    assert load_config(TrainConfig, None, overrides).sft_prompt_weight == weight


@pytest.mark.parametrize(
    ("overrides", "kind"),
    [
        ([], "muon"),  # built from scratch: Muon on the hidden matrices
        (["model.path=Qwen/Qwen2.5-Coder-7B-Instruct"], "adamw"),  # pretrained: as the paper
        (["model.path=Qwen/Qwen2.5-Coder-7B-Instruct", "sft.optimizer=muon"], "muon"),
        (["sft.optimizer=adamw"], "adamw"),
    ],
)
def test_sft_optimizer_auto_depends_on_where_the_model_comes_from(overrides, kind) -> None:
    assert load_config(TrainConfig, None, overrides).sft_optimizer == kind
