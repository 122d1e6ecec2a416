"""Checkpoint and resume: model, optimizer, scheduler, RNG states and the data position.

All per-step randomness in ``rl.train`` is derived from ``(run.seed, step)``, so the data position
is the global step; the RNG states are saved as well for anything that draws from the global
generators. Writes are atomic (temp file + rename): a run killed with ``kill -9`` mid-save keeps
its previous checkpoint.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stepcode.errors import ConfigError

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True, kw_only=True)
class TrainState:
    step: int
    """global optimizer steps done (SFT steps first, then GRPO steps)"""
    phase: str
    """sft | grpo | done"""
    extra: dict[str, Any]


def save_checkpoint(
    run_dir: Path, model: Any, optimizer: Any, scheduler: Any, state: TrainState
) -> Path:
    ckpt_dir = run_dir / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "step": state.step,
        "phase": state.phase,
        "extra": state.extra,
        "rng": {
            "python": random.getstate(),
            "numpy": np.random.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        },
    }
    tmp = ckpt_dir / f".{CHECKPOINT}.tmp"
    torch.save(payload, tmp)
    final = ckpt_dir / CHECKPOINT
    tmp.replace(final)
    return final


def load_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "checkpoints" / CHECKPOINT
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=False)


def restore(payload: dict[str, Any], model: Any, optimizer: Any, scheduler: Any) -> TrainState:
    """Load a checkpoint's states into live objects; returns where to continue."""
    model.load_state_dict(payload["model"])
    if optimizer is not None and payload.get("optimizer") is not None:
        try:
            optimizer.load_state_dict(payload["optimizer"])
        except (KeyError, ValueError) as e:  # e.g. a Muon+AdamW state into a plain AdamW
            raise ConfigError(
                f"the checkpoint's optimizer state does not fit this run's optimizer ({e}): was "
                "it written with another sft.optimizer? Set the one it used, or start a new run.out"
            ) from e
    if scheduler is not None and payload.get("scheduler") is not None:
        scheduler.load_state_dict(payload["scheduler"])
    rng = payload["rng"]
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if rng.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return TrainState(step=payload["step"], phase=payload["phase"], extra=payload.get("extra", {}))
