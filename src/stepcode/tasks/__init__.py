"""② tasks: (program, input, trace) -> prompts with a trusted reference.

``make_tasks`` / ``make_tasks_batch`` build output and input prediction tasks, plain and
execution-aligned, and white-box question tasks (``make_questions``); ``sft_target`` is the
interpreter's gold completion; ``render_chat`` applies a tokenizer's chat template. All prompt
text lives in ``tasks.templates``.
"""

from stepcode.tasks.build import make_tasks, make_tasks_batch, render_chat, sft_target
from stepcode.tasks.templates import normalize_repr
from stepcode.tasks.whitebox import make_questions

__all__ = [
    "make_questions",
    "make_tasks",
    "make_tasks_batch",
    "normalize_repr",
    "render_chat",
    "sft_target",
]
