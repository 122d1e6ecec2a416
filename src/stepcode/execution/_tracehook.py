"""Line recorder that runs inside the sandbox child. Stdlib only; imports nothing from stepcode.

REval semantics (``dynamics.py`` of r-eval/REval, reimplemented from its behaviour):

* every frame compiled from ``filename`` is traced (helpers, nested functions, comprehensions,
  generators, methods); harness frames (the ``<call>`` expression, the child) never are;
* a ``line`` event starts a state ``[line, func, frame_id, event, locals, return, exception]``
  holding the frame's locals *before* the line runs, or, when the previous state is on the same
  line, overwrites that state's locals (consecutive events on one line merge into one state);
* a ``return`` / ``exception`` event sets the return repr / exception type name of the previous
  state when it is on the same line; otherwise it adds a state with *empty* locals (REval does
  the same: such a state only carries the return value or the exception);
* locals leave out modules, plain functions, builtins, iterators and generators (REval's filter),
  plus dunder names and comprehension iterators (``.0``), which no question can name.

Not done here: deep copies. Values cross the process boundary as bounded ``repr`` strings plus
type names, computed at the event itself (which is when REval deep-copies). Reprs are reused
while a value cannot have changed: an immutable scalar is found again by identity (the cache
keeps it alive, so its id is unique), and a list/tuple/dict of scalars when it still holds the
very same objects in the same order (an identity check in C); anything else is re-described at
every event. The step bound (``max_steps``) applies to the kept trace; a payload-size bound
stops recording before the result message gets too big. Either sets ``truncated``. The module frame's
own states are marked (``module_end``) so that a run with a call can keep only the call's states,
as REval does (it defines the program before it starts tracing).

Integrity (``Recorder.integrity``, first finding wins; ``_wire.INTEGRITY`` names them): the
recorder notices when its hook is gone or replaced at the end (``hook_removed`` /
``hook_replaced``), when anyone calls ``sys.settrace`` during the run (an audit hook sees it,
``PyEval_SetTrace`` from C included: ``settrace``), when a frame's line events are switched off
(``f_trace_lines``: ``line_tracing_off``) or its trace function removed or replaced (a frame
that started under the recorder never reported its return: ``frame_untraced``), when code it
did not compile runs under the program's file name (``foreign_code``) and when the program
starts a thread, which it does not follow (``threads``). A program that edits the recorder's own
state from inside its process can still hide what it did: see ``sandbox.py``'s limits.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from operator import is_ as _is

_SKIP_CLASSES = frozenset({"module", "function", "builtin_function_or_method"})
_SCALARS = frozenset({int, float, bool, str, bytes, complex, type(None)})
_PAYLOAD_CHARS = 6_000_000  # stop recording before the result JSON gets too big
_CACHE_REPR_CHARS = 2_000  # values with longer reprs are re-described at every event
_CACHE_CHARS = 2_000_000  # repr chars of the values the cache keeps alive (memory ~ this)
_LINE, _RET, _EXC = "line", "return", "exception"


_SCALAR, _FLAT, _OTHER, _SKIP = 0, 1, 2, 3
_FLAT_TYPES = frozenset({list, tuple, dict})


def _kind_of(cls: type, value: object) -> int:
    """How a local of this type is recorded (REval's filter: modules, functions, iterators out).

    _SCALAR: immutable, one repr per object. _FLAT: list/tuple/dict, whose repr is reused while
    it holds the very same scalar objects. _OTHER: repr at every event. _SKIP: not recorded.
    """
    if cls in _SCALARS:
        return _SCALAR
    if cls in _FLAT_TYPES:
        return _FLAT
    if cls.__name__ in _SKIP_CLASSES or isinstance(value, Iterator):
        return _SKIP
    return _OTHER


def _items(value) -> tuple | None:
    """What ``_same`` compares later: the items of a flat container of scalars, else None."""
    if type(value) is dict:
        keys, vals = tuple(value), tuple(value.values())
        for item in keys + vals:
            if type(item) not in _SCALARS:
                return None
        return (keys, vals)
    for item in value:
        if type(item) not in _SCALARS:
            return None
    return tuple(value)


def _same(value, items: tuple | None) -> bool:
    """``value`` still holds exactly the objects ``items`` recorded, in the same order."""
    if not items:  # None: not flat; (): always re-described
        return False
    if type(value) is dict:
        keys, vals = items
        return (
            len(value) == len(keys)
            and all(map(_is, value, keys))
            and all(map(_is, value.values(), vals))
        )
    return len(value) == len(items) and all(map(_is, value, items))


def _hidden(name: str) -> bool:
    """Comprehension iterators (``.0``), dunders (module globals, our anchor hook)."""
    return name[:1] == "." or (name[:2] == "__" and name[-2:] == "__")


class Recorder:
    """``start()`` / ``stop()`` around the program; ``payload()`` gives JSON-able states."""

    def __init__(
        self,
        filename: str,
        max_steps: int,
        max_repr: int,
        watch: tuple[str, ...] = (),
        codes: frozenset[int] | None = None,
    ) -> None:
        """``codes``: ids of the code objects the harness compiled (kept alive by the caller);
        any other code under ``filename`` is foreign. ``None``: do not check."""
        self.filename = filename
        self.codes = codes
        self.integrity = "ok"
        self.cut = False  # set by the harness's soft timeout: what it breaks is not tampering
        self._active = False
        self._own = False  # our own settrace calls, which the audit hook must not flag
        self._settrace_seen = False
        self._open: dict[int, object] = {}  # frames between call and return (kept alive)
        self.max_steps = max_steps
        self.max_repr = max_repr
        self.watch = tuple(watch)
        self.states: list[list] = []  # [line, func, frame_id, event, locals, return, exception]
        self.truncated = False
        self.module_end: int | None = None
        self.module_raised = False
        self._floor = 0  # states before this index never merge with new events
        self._frame_ids: dict[int, int] = {}
        self._frames: list[object] = []  # keep frames alive so ids stay unique
        self._chars = 0
        self._scalar_cache: dict[int, tuple] = {}  # id -> (value, desc, flat items)
        self._kinds: dict[type, int] = {}
        self._cache_chars = 0
        self._plain_code: dict[object, bool] = {}  # code object -> no hidden local names

    # -- tracing -------------------------------------------------------------------------
    def start(self) -> None:
        import _thread  # threads run untraced: starting one marks the run

        real = _thread.start_new_thread

        def start_new_thread(*args, **kwargs):
            self._flag("threads")
            return real(*args, **kwargs)

        _thread.start_new_thread = start_new_thread
        self._settrace(self._global)
        self._active = True

    def stop(self) -> None:
        """Stop tracing; unless the run was cut, check that the hook was ours to the end."""
        current = sys.gettrace()
        self._active = False
        self._settrace(None)
        if self.truncated or self.cut:
            return
        if current is None:
            self._flag("hook_removed")
        elif current != self._global:
            self._flag("hook_replaced")
        elif self._settrace_seen:
            self._flag("settrace")  # switched off and on again: lines in between are missing
        elif self._open:
            self._flag("frame_untraced")

    def audit(self, event: str, args: tuple) -> None:
        """``sys.addaudithook`` target (installed by the harness for traced runs): sees every
        ``sys.settrace`` call, ``PyEval_SetTrace`` from C included."""
        if event == "sys.settrace" and self._active and not self._own and not self.cut:
            self._settrace_seen = True

    def _flag(self, what: str) -> None:
        if self.integrity == "ok":
            self.integrity = what

    def _settrace(self, fn) -> None:
        self._own = True
        try:
            sys.settrace(fn)
        finally:
            self._own = False

    def _global(self, frame, event, arg):
        code = frame.f_code
        if code.co_filename != self.filename or self.truncated:
            return None
        if self.codes is not None and id(code) not in self.codes:
            self._flag("foreign_code")
            return None
        self._open[id(frame)] = frame
        return self._local

    def _local(self, frame, event, arg):
        if event != _LINE:
            if event == _RET:
                self._open.pop(id(frame), None)
                if not frame.f_trace_lines:
                    self._flag("line_tracing_off")
                self._on_exit(frame, 5, _RET, arg)
            elif event == _EXC:
                self._on_exit(frame, 6, _EXC, arg)
            return self._local
        if self.module_raised and frame.f_code.co_name == "<module>":
            self.module_raised = False  # the module caught it and went on
        states = self.states
        line = frame.f_lineno
        if len(states) > self._floor and states[-1][0] == line:
            states[-1][4] = self._locals(frame)
            return self._local
        if not self._room():
            return None
        code = frame.f_code
        states.append(
            [line, code.co_name, self._frame_id(frame), _LINE, self._locals(frame), None, None]
        )
        return self._local

    def _on_exit(self, frame, slot: int, event: str, arg) -> None:
        if self.truncated:
            return
        value = self._repr(arg) if event == _RET else getattr(arg[0], "__name__", "Exception")
        states = self.states
        line = frame.f_lineno
        if len(states) > self._floor and states[-1][0] == line:
            states[-1][3] = event
            states[-1][slot] = value
        elif self._room():
            state = [line, frame.f_code.co_name, self._frame_id(frame), event, {}, None, None]
            state[slot] = value
            states.append(state)
        if frame.f_code.co_name == "<module>" and (
            frame.f_back is None or frame.f_back.f_code.co_filename != self.filename
        ):
            if event == _EXC:
                self.module_raised = True
            elif self.module_end is None:
                self.module_end = self._floor = len(states)

    def _room(self) -> bool:
        # the bound is on the kept trace: the call's states after the module's own
        if len(self.states) - self._floor >= self.max_steps or self._chars > _PAYLOAD_CHARS:
            self.truncated = True
            self._settrace(None)
            return False
        return True

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
        code = frame.f_code
        plain = self._plain_code.get(code)
        if plain is None:
            names = code.co_varnames + code.co_cellvars + code.co_freevars
            # function frames only (CO_NEWLOCALS): module and class bodies hold dunders
            plain = bool(code.co_flags & 0x2) and not any(_hidden(n) for n in names)
            self._plain_code[code] = plain
        f_locals = frame.f_locals
        cache = self._scalar_cache
        out = {}
        if plain:  # fast path: scalars seen before are one lookup by id (the cache keeps them
            # alive, so an id found there is that very object)
            values = f_locals.values()
            chars = 0
            for name, value, hit in zip(
                f_locals, values, map(cache.get, map(id, values)), strict=False
            ):
                if hit is not None:
                    items = hit[2]
                    if items is None or (
                        items
                        and type(items) is tuple
                        and len(value) == len(items)
                        and all(map(_is, value, items))
                    ):  # a scalar, or a list/tuple still holding the same scalar objects
                        # (a dict's items are (keys, values): never equal here, re-checked below)
                        out[name] = hit[1]
                        chars += hit[3]
                        continue
                self._describe_into(out, name, value)
            self._chars += chars
        else:
            for name, value in f_locals.items():
                if not _hidden(name):
                    self._describe_into(out, name, value)
        for expr in self.watch:
            try:
                value = eval(expr, frame.f_globals, dict(frame.f_locals))
            except BaseException:  # noqa: BLE001 - a watch that does not apply is just absent
                continue
            out[expr] = self._describe(value)
        return out

    def _describe_into(self, out: dict, name: str, value: object) -> None:
        cls = type(value)
        kind = self._kinds.get(cls)
        if kind is None:
            kind = self._kinds[cls] = _kind_of(cls, value)
        if kind == _SKIP:
            return
        if kind == _OTHER:  # may have been mutated since the last event
            out[name] = [self._repr(value), cls.__name__]
            return
        hit = self._scalar_cache.get(id(value))
        if hit is not None and (kind == _SCALAR or _same(value, hit[2])):
            desc = hit[1]  # immutable, or a flat container whose items are the same objects
            self._chars += hit[3]
        else:
            desc = [self._repr(value), cls.__name__]
            size = len(desc[0])
            if size <= _CACHE_REPR_CHARS:  # the cache keeps values alive: bounded, see below
                items = None if kind == _SCALAR else _items(value)
                if kind == _FLAT and items is None:
                    items = ()  # never equal to a non-empty container: always re-described
                cache = self._scalar_cache
                self._cache_chars += size
                if self._cache_chars > _CACHE_CHARS:
                    cache.clear()  # entries and the objects they hold go together: no stale ids
                    self._cache_chars = size
                cache[id(value)] = (value, desc, items, size)
        out[name] = desc

    def _describe(self, value: object) -> list:
        out: dict = {}
        self._describe_into(out, "v", value)
        return out.get("v") or [self._repr(value), type(value).__name__]

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
        return {
            "states": self.states,
            "truncated": self.truncated,
            "module_end": None if self.module_raised else self.module_end,
        }
