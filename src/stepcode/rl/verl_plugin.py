"""verl plugin entry point: ``import verl`` imports this module in every verl process.

Declared in ``pyproject.toml`` as ``[project.entry-points."verl.plugins"] stepcode``. verl 0.9
loads that group at the end of ``verl/__init__.py`` (policy ``VERL_USE_EXTERNAL_PLUGINS``, default
``auto``), so the TaskRunner actor, which looks up estimators and trainer modes, and every reward
worker register stepcode's pieces before they read a registry:

* ``algorithm.adv_estimator=stepcode_bilevel`` and ``trainer.v1.trainer_mode=stepcode_sync`` /
  ``stepcode_colocate_async`` / ``stepcode_separate_async`` (``rl.verl_trainer``);
* ``reward.reward_manager.name=stepcode`` (``rl.verl_reward``).

Registration is the whole point of this module, so it runs at import. verl logs a plugin that fails
to load at DEBUG only; here each failure is logged at WARNING with what it disables and how to fix
it, and the rest still registers. Where entry points are not installed (a source checkout on
``PYTHONPATH``), ``VERL_USE_EXTERNAL_MODULES=stepcode.rl.verl_plugin`` imports the same module.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

REGISTERED: list[str] = []
"""what registered in this process (empty when both parts failed)"""


def _register() -> None:
    try:
        from stepcode.rl.verl_reward import register_reward_manager

        register_reward_manager()
        REGISTERED.append("reward_manager:stepcode")
    except Exception as e:  # noqa: BLE001 - verl would hide it at DEBUG
        log.warning(
            "stepcode verl plugin: reward manager 'stepcode' not registered (%s: %s); "
            "reward.reward_manager.name=stepcode will be unknown to verl", type(e).__name__, e,
        )  # fmt: skip
    try:
        from stepcode.rl.verl_trainer import register

        REGISTERED.extend(register())
    except Exception as e:  # noqa: BLE001
        log.warning(
            "stepcode verl plugin: estimator 'stepcode_bilevel' and trainer modes 'stepcode_*' not "
            "registered (%s: %s); install verl's verl-core extra (pip install 'stepcode[verl]' "
            "brings verl[verl-core]==0.9.1 with transfer_queue)", type(e).__name__, e,
        )  # fmt: skip


_register()
