"""May this config continue that run dir? The settings of a stage that already ran are frozen.

A run dir records its resolved config (``config.yaml``). Rerunning with another config resumes
only where that is honest: a setting may change while the stage that reads it has not run yet.

* ``data.*`` and ``run.seed``: fixed once the task sets are built (``data/``);
* ``model.*``: fixed once the initial policy is saved (``init/``);
* ``sft.*``, ``optim.*``, ``run.eval_max_new_tokens``, ``reward.strict_types``: fixed once any
  checkpoint exists (the warm-up and the "before" evaluation used them);
* ``grpo.*``, ``rollout.*``, ``reward.*``: free at the end of the warm-up (branching GRPO runs from one
  end-of-SFT checkpoint is how ablations work), fixed once a GRPO step ran, except that
  ``grpo.steps`` may grow (the run continues);
* ``run.out``, ``run.threads``, ``run.log_every``, ``run.save_every``, ``run.sample_every``: free.

Anything else is refused with a ``ConfigError`` naming each key, its old and new value, and the
way out (a new ``run.out``, or ``--force``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from stepcode.errors import ConfigError

FREE = ("run.out", "run.threads", "run.log_every", "run.save_every", "run.sample_every")


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists stay values; tuples become lists, as in YAML)."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return out


def frozen_keys(
    run_dir: Path, payload: Mapping[str, Any] | None, sft_steps: int
) -> list[tuple[str, str]]:
    """``(key prefix, why)`` of the settings a resume may no longer change."""
    frozen: list[tuple[str, str]] = []
    if (run_dir / "data" / "train.jsonl").is_file():
        frozen += [("data.", "the task sets are built"), ("run.seed", "the task sets are built")]
    if (run_dir / "init" / "config.json").is_file():
        frozen.append(("model.", "the initial policy is saved"))
    if payload is not None:
        why = "the warm-up has started"
        frozen += [(k, why) for k in ("sft.", "optim.", "run.eval_max_new_tokens",
                                      "reward.strict_types")]  # fmt: skip
        if payload["step"] > sft_steps or payload["phase"] == "done":
            why = "GRPO has started"
            frozen += [(k, why) for k in ("grpo.", "rollout.", "reward.")]
    return frozen


def check_resume(
    run_dir: Path, new: Mapping[str, Any], payload: Mapping[str, Any] | None, *, force: bool
) -> list[str]:
    """Raise ``ConfigError`` if ``new`` (a resolved config as a dict) changes a frozen setting of
    the run in ``run_dir``; returns the changed keys that are allowed (to log them)."""
    path = run_dir / "config.yaml"
    if not path.is_file():
        return []
    try:
        old = flatten(yaml.safe_load(path.read_text()) or {})
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e}); fix it or use a new run.out") from None
    cur = flatten(new)
    changed = sorted(k for k in old.keys() | cur.keys() if old.get(k) != cur.get(k))
    changed = [k for k in changed if k not in FREE]
    sft_steps = int(old.get("sft.steps", cur.get("sft.steps", 0)))
    frozen = frozen_keys(run_dir, payload, sft_steps)
    refused = []
    for key in changed:
        why = next((w for prefix, w in frozen if key.startswith(prefix)), None)
        if (
            key == "grpo.steps"
            and payload is not None
            and int(cur[key]) + sft_steps >= int(payload["step"])
        ):
            why = None  # more GRPO steps: the run continues
        if why is not None:
            refused.append(f"{key}: {old.get(key)!r} -> {cur.get(key)!r} ({why})")
    if refused and not force:
        keys = ", ".join(r.partition(":")[0] for r in refused)
        raise ConfigError(
            f"{run_dir} was started with another config; {keys} belong to stages that already "
            "ran: use a new run.out (or --out), put the old values back, or pass --force to "
            "continue with the new ones anyway\n  " + "\n  ".join(refused)
        )
    return changed
