"""Completion tokens -> trace steps: which tokens state anchor k, which are the answer.

Inputs are char spans in the completion text: one span per parsed trace line
(``stepcode.rewards.parse_completion(...).step_spans``) and the answer span (``.answer_span``),
plus the char span of every completion token (``Rollout.completion_offsets``). Output is the
step of each token of one completion; ``rl.steps`` stacks them into ``token_to_step [N, L]``.

Assignment rule (methods.md §1.3(e)), by the char where each token starts:
  * tokens overlapping the answer span -> the terminal step (index ``S - 1``), wherever the answer is
    (input-aligned completions put the proposed input first);
  * tokens of trace line ``k`` and the free text between line ``k-1`` and line ``k`` -> step ``k``
    (tokens before the first line -> step 0);
  * tokens after the last line (closing tags, EOS, trailing text) -> the terminal step;
  * lines beyond the task's ground-truth anchor count ``n`` -> the terminal step (they have no
    anchor reward of their own);
  * padding -> -1.
An unparseable completion (no spans) maps every token to the terminal step.

Not done here: parsing (``rewards``) and tokenisation (``rollout``); this module only maps spans.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

Span = tuple[int, int]


def segment_completion(
    offsets: Sequence[Span],
    step_spans: Sequence[Span],
    answer_span: Span | None,
    n_anchors: int,
    terminal: int,
) -> list[int]:
    """Step index of each token of one completion (see the module docstring for the rule).

    Args:
        offsets: ``[L_i]`` char span of each token (empty spans allowed, e.g. EOS).
        step_spans: char span of each parsed trace line, in text order.
        answer_span: char span of the answer, or None.
        n_anchors: ground-truth anchor count; lines ``k >= n_anchors`` go to ``terminal``.
        terminal: index of the terminal step (``S - 1``).
    """
    limit = min(len(step_spans), n_anchors, terminal)
    ends: list[int] = []
    running = -1
    for _, end in step_spans[:limit]:
        running = max(running, end)
        ends.append(running)
    out: list[int] = []
    for start, end in offsets:
        if answer_span is not None and _overlaps((start, end), answer_span):
            out.append(terminal)
            continue
        k = bisect_right(ends, start)  # first line whose end is after this token's start
        out.append(k if k < limit else terminal)
    return out


def _overlaps(token: Span, span: Span) -> bool:
    """A token overlaps a span if they share a char (an empty token: if it sits inside)."""
    if token[0] == token[1]:
        return span[0] <= token[0] < span[1]
    return token[0] < span[1] and token[1] > span[0]
