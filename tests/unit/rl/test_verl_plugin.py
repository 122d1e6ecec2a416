"""stepcode's verl plugin: registration on ``import verl``, loud failures, the pinned private API."""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("verl") is None or importlib.util.find_spec("transfer_queue") is None,
    reason="needs verl[verl-core]==0.9.1 (pip install -e '.[verl]')",
)


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "VERL_USE_EXTERNAL_PLUGINS": "auto"}
    env.pop("VERL_USE_EXTERNAL_MODULES", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=240,
        env=env,
    )  # fmt: skip


def test_import_verl_registers_estimator_trainer_modes_and_reward_manager():
    proc = _python(
        """
        import verl  # nothing of stepcode imported by hand: the entry point does it
        from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls
        from verl.trainer.ppo.core_algos import get_adv_estimator_fn
        from verl.trainer.ppo.v1 import get_trainer_cls
        print(get_adv_estimator_fn("stepcode_bilevel").__module__)
        for mode in ("stepcode_sync", "stepcode_colocate_async", "stepcode_separate_async"):
            print(mode, get_trainer_cls(mode).verl_mode)
        print(get_reward_manager_cls("stepcode").__name__)
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split("\n")[:5] == [
        "stepcode.rl.verl_trainer", "stepcode_sync sync", "stepcode_colocate_async colocate_async",
        "stepcode_separate_async separate_async", "StepcodeRewardManager",
    ]  # fmt: skip


def test_plugin_import_failure_is_a_warning_naming_the_fix():
    # verl without its verl-core extra: transfer_queue cannot be imported
    proc = _python(
        """
        import sys
        sys.modules["transfer_queue"] = None
        import verl
        from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY
        print("stepcode_bilevel" in ADV_ESTIMATOR_REGISTRY)
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "False"
    warning = next(line for line in proc.stderr.splitlines() if "stepcode verl plugin" in line)
    assert warning.startswith("WARNING") and "transfer_queue" in warning
    assert "pip install 'stepcode[verl]'" in warning


def test_pinned_private_api_of_verl_0_9():
    """The design relies on these verl internals; an upgrade that changes them must fail here."""
    from verl.trainer.ppo.ray_trainer import compute_advantage
    from verl.trainer.ppo.v1 import PPOTrainer

    sig = inspect.signature(PPOTrainer._compute_advantage)
    assert list(sig.parameters) == ["self", "batch", "metrics"]
    assert list(inspect.signature(PPOTrainer.__init__).parameters) == ["self", "config"]
    src = inspect.getsource(PPOTrainer._compute_advantage)
    assert "tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id" in src
    assert "compute_advantage_for_multi_trajectories(" in src
    # custom estimators get exactly these inputs; extras reach none of them
    ca = inspect.getsource(compute_advantage)
    assert '"token_level_rewards": data.batch["token_level_rewards"]' in ca
    assert 'adv_kwargs["index"] = data.non_tensor_batch["uid"]' in ca
    # verl branches on the mode's name: why stepcode's modes run under their base mode's name
    assert 'self.trainer_mode == "sync"' in inspect.getsource(PPOTrainer._build_replay_buffer)


def test_estimator_without_the_trainer_mode_says_what_to_set():
    import torch

    from stepcode.rl.verl_trainer import compute_stepcode_advantage

    with pytest.raises(ValueError, match="trainer.v1.trainer_mode=stepcode_sync"):
        compute_stepcode_advantage(torch.zeros(2, 3), torch.ones(2, 3), index=["a", "a"])


def test_bad_settings_fail_at_trainer_start():
    from omegaconf import OmegaConf

    from stepcode.errors import ConfigError
    from stepcode.rl.verl_reward import reward_settings
    from stepcode.rl.verl_trainer import advantage_spec

    spec = advantage_spec(
        OmegaConf.create({"stepcode": {"lam": 0.5}, "norm_adv_by_std_in_grpo": False})
    )
    assert (spec.mode, spec.lam, spec.norm_by_std) == ("bilevel", 0.5, False)
    with pytest.raises(ConfigError, match="unknown key.*lamda"):
        advantage_spec(OmegaConf.create({"stepcode": {"lamda": 0.5}}))
    with pytest.raises(ConfigError, match="mode='bi'"):
        advantage_spec(OmegaConf.create({"stepcode": {"mode": "bi"}}))
    cfg, rule = reward_settings(
        OmegaConf.create({"reward": {"reward_kwargs": {"stepcode": {"combine": "gated"}}}})
    )
    assert cfg.combine == "gated" and rule == {"terminal_from": "outcome", "trace_lines": "exact"}
    _, rule = reward_settings(
        OmegaConf.create({"reward": {"reward_kwargs": {"stepcode": {"trace_lines": "free"}}}})
    )
    assert rule["trace_lines"] == "free"
    with pytest.raises(ConfigError, match="trace_lines='exactly'"):
        reward_settings(
            OmegaConf.create(
                {"reward": {"reward_kwargs": {"stepcode": {"trace_lines": "exactly"}}}}
            )
        )
    with pytest.raises(ConfigError, match="unknown key"):
        reward_settings(
            OmegaConf.create({"reward": {"reward_kwargs": {"stepcode": {"weight": 1}}}})
        )
