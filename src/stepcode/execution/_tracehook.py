"""Line recorder that runs inside the sandbox child. Stdlib only; imports nothing from stepcode.

REval semantics (``dynamics.py`` of r-eval/REval, reimplemented): every ``line`` event of a frame
compiled from ``filename`` (helpers, nested functions, comprehensions, generators, methods: all
frames of the program's own code; harness code never) records a state: the line, the function,
a frame id and the frame's locals (modules, functions, classes and iterators left out). A
``return`` or ``exception`` event updates the last state when it is on the same line, else it
adds one; consecutive events on the same line merge into one state. Locals cross the process
boundary as bounded ``repr`` strings plus type names, computed only for values that may have
changed (immutable scalars are cached by identity), which is what makes it fast.
"""

from __future__ import annotations

import sys
import threading
import types

_SKIP_TYPES = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
    types.GeneratorType,
)
_SCALARS = (int, float, bool, str, bytes, complex, type(None))
_PAYLOAD_CHARS = 6_000_000  # stop recording before the result JSON gets too big


def _is_iterator(value: object) -> bool:
    tp = type(value)
    return hasattr(tp, "__next__") and hasattr(tp, "__iter__")


class Recorder:
    """``start()`` / ``stop()`` around the program; ``payload()`` gives JSON-able states."""

    def __init__(
        self, filename: str, max_steps: int, max_repr: int, watch: tuple[str, ...] = ()
    ) -> None:
        self.filename = filename
        self.max_steps = max_steps
        self.max_repr = max_repr
        self.watch = tuple(watch)
        self.states: list[list] = []  # [line, func, frame_id, event, {name: [repr, type]}]
        self.truncated = False
        self._frame_ids: dict[int, int] = {}
        self._frames: list[object] = []  # keep frames alive so ids stay unique
        self._chars = 0
        self._scalar_cache: dict[int, tuple[object, list]] = {}

    # -- tracing -------------------------------------------------------------------------
    def start(self) -> None:
        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self) -> None:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename != self.filename:
            return None
        return self._local

    def _local(self, frame, event, arg):
        if event not in ("line", "return", "exception"):
            return self._local
        if self.truncated:
            return None
        line = frame.f_lineno
        states = self.states
        if states and states[-1][0] == line:
            last = states[-1]
            last[3] = event
            last[4] = self._locals(frame)
            return self._local
        if len(states) >= self.max_steps or self._chars > _PAYLOAD_CHARS:
            self.truncated = True
            sys.settrace(None)
            return None
        states.append(
            [line, frame.f_code.co_name, self._frame_id(frame), event, self._locals(frame)]
        )
        return self._local

    def _frame_id(self, frame) -> int:
        key = id(frame)
        fid = self._frame_ids.get(key)
        if fid is None:
            fid = len(self._frames)
            self._frame_ids[key] = fid
            self._frames.append(frame)
        return fid

    # -- values ----------------------------------------------------------------------------
    def _locals(self, frame) -> dict:
        out = {}
        for name, value in frame.f_locals.items():
            if name.startswith(".") or (name.startswith("__") and name.endswith("__")):
                continue  # comprehension iterators, module dunders, our anchor hook
            if isinstance(value, _SKIP_TYPES) or _is_iterator(value):
                continue
            out[name] = self._describe(value)
        for expr in self.watch:
            try:
                value = eval(expr, frame.f_globals, dict(frame.f_locals))
            except BaseException:  # noqa: BLE001 - a watch that does not apply is just absent
                continue
            out[expr] = self._describe(value)
        return out

    def _describe(self, value: object) -> list:
        if type(value) in _SCALARS:
            hit = self._scalar_cache.get(id(value))
            if hit is not None and hit[0] is value:
                return hit[1]
            desc = [self._repr(value), type(value).__name__]
            self._scalar_cache[id(value)] = (value, desc)
            return desc
        return [self._repr(value), type(value).__name__]

    def _repr(self, value: object) -> str:
        try:
            text = repr(value)
        except BaseException as e:  # noqa: BLE001 - hostile __repr__
            text = f"<repr failed: {type(e).__name__}>"
        if len(text) > self.max_repr:
            text = text[: self.max_repr] + "..."
        self._chars += len(text)
        return text

    def payload(self) -> dict:
        return {"states": self.states, "truncated": self.truncated}
