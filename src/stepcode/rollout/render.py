"""Prompt text for a model: the one ``render_prompt`` (raw text, chat messages, or a task).

A raw string is used as is; a list of chat messages goes through the tokenizer's chat template
(with the generation prompt); a ``Task`` is its chat form (``Task.messages``) when ``chat`` says so
— by default when it has messages and the tokenizer a template — else its raw ``prompt``.
``is_chat`` tells the encoder not to add special tokens the template already wrote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stepcode.errors import ConfigError
from stepcode.types import Task

Prompt = str | Sequence[Mapping[str, str]]


def render_prompt(
    tokenizer: Any, prompt: Prompt | Task, chat: bool | None = None
) -> tuple[str, bool]:
    """``(text, is_chat)`` for ``prompt`` (see the module docstring)."""
    has_template = getattr(tokenizer, "chat_template", None) is not None
    if isinstance(prompt, Task):
        use_chat = bool(prompt.messages) and has_template if chat is None else chat
        if not use_chat:
            return prompt.prompt, False
        if not prompt.messages:
            raise ConfigError(f"chat=True but task {prompt.task_id!r} has no chat form")
        messages: Sequence[Mapping[str, str]] = prompt.messages
    elif isinstance(prompt, str):
        return prompt, False
    else:
        messages = prompt
    if not has_template:
        raise ConfigError("chat prompt given but the tokenizer has no chat template")
    text = tokenizer.apply_chat_template(
        [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
    )
    return text, True
