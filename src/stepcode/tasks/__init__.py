"""② tasks: (program, input, trace) -> prompts with a trusted reference.

``make_tasks`` / ``make_tasks_batch`` build output and input prediction tasks, plain and
execution-aligned; ``sft_target`` is the interpreter's gold completion; ``render_chat`` applies a
tokenizer's chat template.
"""

from stepcode.tasks.build import make_tasks, make_tasks_batch, render_chat, sft_target

__all__ = ["make_tasks", "make_tasks_batch", "render_chat", "sft_target"]
