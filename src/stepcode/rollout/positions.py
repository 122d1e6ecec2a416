"""Position ids of left-padded rows: the one formula sampling and training both use.

``rollout.generate`` samples with these positions and ``rl.logprobs`` recomputes training
log-probs with them; the two agree only because they are this one function.
"""

from __future__ import annotations

import torch


def position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """``[N, T]`` long positions counting only real tokens (left padding gets 0)."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
