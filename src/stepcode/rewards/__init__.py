"""④ rewards: never-raising parsers, verification by execution from trusted code, step rewards.

``parse_value`` / ``parse_call`` (predictions are values, not code: ``rewards.values``),
``same_value`` (the one type-strict equality), ``verify_output`` / ``verify_input`` (+ batch
``verify_outputs`` / ``verify_inputs``), ``parse_completion``, ``score_completion`` /
``score_batch`` -> ``Reward``, ``score_answer`` (white-box), ``audit_summary``.
"""

from stepcode.rewards.equality import same_value
from stepcode.rewards.parse import Parsed, parse_completion
from stepcode.rewards.step_rewards import (
    RewardConfig,
    audit_summary,
    score_batch,
    score_completion,
    step_correct,
)
from stepcode.rewards.values import (
    CallParse,
    ValueParse,
    parse_call,
    parse_call_for,
    parse_value,
    parse_value_for,
    program_constants,
    program_names,
)
from stepcode.rewards.verify import verify_input, verify_inputs, verify_output, verify_outputs
from stepcode.rewards.whitebox import score_answer

__all__ = [
    "CallParse",
    "Parsed",
    "RewardConfig",
    "ValueParse",
    "audit_summary",
    "parse_call",
    "parse_call_for",
    "parse_completion",
    "parse_value",
    "parse_value_for",
    "program_constants",
    "program_names",
    "same_value",
    "score_answer",
    "score_batch",
    "score_completion",
    "step_correct",
    "verify_input",
    "verify_inputs",
    "verify_output",
    "verify_outputs",
]
