"""Optional difficulty filter: keep programs a model solves between ``min_pass`` and ``max_pass``
times out of ``k`` samples on their CRUXEval-O style (``output``) task.

Generation goes through ``stepcode.rollout.engines`` (imported lazily, only when a model is set);
scoring through ``stepcode.rewards.score_completion``. Disabled (a no-op) when ``model`` is empty.
A program without an ``output`` task is kept unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from stepcode.data.config import DifficultySection
from stepcode.errors import ConfigError
from stepcode.types import TaskKind

log = logging.getLogger(__name__)


def filter_by_difficulty(
    items: Sequence[Any], cfg: DifficultySection, state: Any, engine: Any = None
) -> list[Any]:
    """``items`` are ``(program, trace, tasks)``; ``engine`` overrides the one built from ``cfg.model``."""
    if not cfg.model and engine is None:
        return list(items)
    try:
        from stepcode.rewards import score_completion
        from stepcode.rollout import engines
    except ImportError as e:
        raise ConfigError(
            f"filters.difficulty.model is set but generation is unavailable ({e})"
        ) from None
    if engine is None:
        engine = engines.HFEngine.from_pretrained(cfg.model)
    params = engines.SamplingParams(n=cfg.k, temperature=0.8, max_tokens=256)
    targets = [
        (i, t) for i, (_, _, tasks) in enumerate(items) for t in tasks if t.kind is TaskKind.OUTPUT
    ]
    outs = engine.generate([t.prompt for _, t in targets], params)
    passes = {
        i: sum(score_completion(t, c.text).outcome > 0 for c in comps)
        for (i, t), comps in zip(targets, outs, strict=True)
    }
    kept = [
        it
        for i, it in enumerate(items)
        if cfg.min_pass <= passes.get(i, cfg.min_pass) <= cfg.max_pass
    ]
    state.drop("difficulty", len(items) - len(kept))
    log.info("difficulty filter kept %d of %d", len(kept), len(items))
    return kept
