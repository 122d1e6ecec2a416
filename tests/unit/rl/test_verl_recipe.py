"""examples/verl: every config key is one verl 0.9.1's main_ppo reads, composed and validated the
way main_ppo does (hydra + ``validate_config``); stepcode's own keys are checked by stepcode."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("verl") is None or importlib.util.find_spec("transfer_queue") is None,
    reason="needs verl[verl-core]==0.9.1 (pip install -e '.[verl]')",
)

RECIPES = Path(__file__).resolve().parents[3] / "examples" / "verl"
CONFIGS = sorted(p.stem for p in RECIPES.glob("*.yaml"))
STEPCODE_KEYS = ("algorithm.stepcode.", "reward.reward_kwargs.stepcode.")
"""namespaces verl does not define; stepcode reads them and rejects unknown keys"""


def _leaves(d: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        out += _leaves(v, f"{key}.") if isinstance(v, dict) and v else [key]
    return out


def _compose(name: str | None = None, overrides: tuple[str, ...] = ()):
    from hydra import compose, initialize_config_dir, initialize_config_module

    if name is None:  # verl's own ppo_trainer, as main_ppo composes it without our file
        with initialize_config_module("verl.trainer.config", version_base=None):
            return compose("ppo_trainer", overrides=list(overrides))
    with initialize_config_dir(str(RECIPES), version_base=None):
        return compose(name, overrides=list(overrides))


def test_there_are_the_two_recipes():
    assert CONFIGS == ["stepcode_qwen7b_8gpu", "stepcode_small_1gpu"]


@pytest.mark.parametrize("name", CONFIGS)
def test_every_key_is_read_by_main_ppo_and_the_config_validates(name):
    from omegaconf import OmegaConf
    from verl.trainer.ppo.core_algos import get_adv_estimator_fn
    from verl.trainer.ppo.reward import resolve_reward_manager_cls
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.trainer.ppo.v1 import get_trainer_cls
    from verl.utils.config import validate_config

    from stepcode.rl.verl_reward import StepcodeRewardManager, reward_settings
    from stepcode.rl.verl_trainer import advantage_spec

    raw = yaml.safe_load((RECIPES / f"{name}.yaml").read_text())
    base = set(_leaves(OmegaConf.to_container(_compose(), resolve=False)))
    for key in _leaves({k: v for k, v in raw.items() if k not in ("hydra", "defaults")}):
        if not key.startswith(STEPCODE_KEYS):
            assert key in base, f"{name}: {key} is not a key of verl 0.9.1's ppo_trainer config"

    config = _compose(name)
    validate_config(
        config=config,
        use_reference_policy=need_reference_policy(config),
        use_critic=need_critic(config),
    )
    OmegaConf.resolve(config)  # TaskRunnerV1.run resolves before building the trainer
    assert (
        config.actor_rollout_ref.rollout.n == 5 and config.actor_rollout_ref.rollout.name == "vllm"
    )
    assert config.actor_rollout_ref.actor.optim.lr == 1e-6
    assert advantage_spec(config.algorithm).lam == 0.3
    reward_settings(config)
    assert (
        get_adv_estimator_fn(config.algorithm.adv_estimator).__module__
        == "stepcode.rl.verl_trainer"
    )
    assert get_trainer_cls(config.trainer.v1.trainer_mode).verl_mode == "sync"
    assert resolve_reward_manager_cls(config) is StepcodeRewardManager


def test_paper_settings_in_the_8gpu_recipe():
    config = _compose("stepcode_qwen7b_8gpu")
    assert config.data.max_response_length == 4096
    assert config.trainer.n_gpus_per_node == 8 and config.trainer.nnodes == 1
    assert config.actor_rollout_ref.model.path == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert not config.algorithm.use_kl_in_reward and not config.actor_rollout_ref.actor.use_kl_loss
