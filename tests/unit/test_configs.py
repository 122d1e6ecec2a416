"""Every YAML shipped under ``configs/`` loads and validates against its config class."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from stepcode.config import load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# configs/<kind>/*.yaml -> the dataclass it must load into (module, class candidates)
KINDS = {
    "train": (("stepcode.rl.config",), ("TrainConfig",)),
    "data": (("stepcode.data.config",), ("DataBuildConfig",)),
    "eval": (("stepcode.eval.config", "stepcode.eval.harness"), ("EvalConfig",)),
}


def _config_class(kind: str):
    module_names, names = KINDS[kind]
    for module_name in module_names:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found = next((getattr(module, n) for n in names if hasattr(module, n)), None)
        if found is not None:
            return found
    return None


SHIPPED = sorted(CONFIGS.glob("*/*.yaml"))


def test_the_train_configs_are_shipped() -> None:
    names = {p.name for p in CONFIGS.glob("train/*.yaml")}
    assert {"default.yaml", "tiny_ablation.yaml", "qwen2.5-coder-7b-instruct.yaml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_config_loads(path: Path) -> None:
    kind = path.parent.name
    assert kind in KINDS, f"{path}: configs/{kind}/ has no known config class"
    cls = _config_class(kind)
    if cls is None:
        pytest.skip(f"no config class for configs/{kind} yet")
    load_config(cls, path)


def test_default_yaml_is_the_embedded_default() -> None:
    from stepcode.rl.config import TrainConfig

    shipped = load_config(TrainConfig, CONFIGS / "train" / "default.yaml")
    assert shipped == TrainConfig()


def test_qwen_config_has_the_paper_settings() -> None:
    from stepcode.rl.config import TrainConfig

    cfg = load_config(TrainConfig, CONFIGS / "train" / "qwen2.5-coder-7b-instruct.yaml")
    assert cfg.rollout.group_size == 5
    assert cfg.grpo.lr == pytest.approx(1e-6)
    assert cfg.rollout.max_new_tokens == 4096
    assert cfg.grpo.lam == pytest.approx(0.3)
    assert cfg.grpo.mode == "bilevel" and cfg.model.chat
