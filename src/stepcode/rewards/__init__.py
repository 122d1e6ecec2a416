"""④ rewards: never-raising parsers, verification by execution from trusted code, step rewards.

``verify_output`` / ``verify_input`` (+ batch ``verify_outputs`` / ``verify_inputs``),
``parse_completion``, ``score_completion`` / ``score_batch`` -> ``Reward``, ``audit_summary``.
"""

from stepcode.rewards.parse import Parsed, parse_completion
from stepcode.rewards.safe_args import check_call
from stepcode.rewards.step_rewards import (
    RewardConfig,
    audit_summary,
    score_batch,
    score_completion,
    step_correct,
)
from stepcode.rewards.verify import verify_input, verify_inputs, verify_output, verify_outputs

__all__ = [
    "Parsed",
    "RewardConfig",
    "audit_summary",
    "check_call",
    "parse_completion",
    "score_batch",
    "score_completion",
    "step_correct",
    "verify_input",
    "verify_inputs",
    "verify_output",
    "verify_outputs",
]
