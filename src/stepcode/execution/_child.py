"""One run, inside the child the worker forks for it (stdlib only; a sibling of ``_worker.py``).

``child_main`` starts a new session, keeps only its pipes (fd 0 is /dev/null, 1 and 2 the
captured stdout/stderr, 3 the result pipe), sets rlimits (address space, CPU, file size, open
files, no core dumps, no new processes), drops to ``nobody`` when the worker is root, enters the
run's cwd, then ``exec``s the program in a fresh ``__main__`` namespace, evaluates ``call`` and
writes one run frame (``_wire``) with the run's nonce to the result pipe, never to stdout. It
never returns into the worker's loop.

Trace anchors (``job["anchors"]``): ``__stepcode_anchor__`` is injected into the program's
globals. It records a hit only when its caller is code the harness compiled, on one of the
anchor lines the instrumenter wrote (``job["anchor_lines"]``); any other call, or the name
rebound by the end of the run, marks the run (``anchor_forged`` / ``anchor_rebound``).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import types

NOBODY = 65534
PR_SET_PDEATHSIG = 1
RUN_CAP = 8 << 20  # = _wire.RUN_CAP: bytes of run frame the worker accepts
RETURN_REPR_CAP = 10_000
CUT_MARK = "...<truncated>"
HOOK = "__stepcode_anchor__"
_dumps = json.dumps  # bound now: a program that patches json cannot change what we send


class SoftTimeout(BaseException):
    """Raised inside the program shortly before the hard kill so partial results come back."""


_ACTIVE: list = [None]  # the running Recorder, told when the soft timeout (not tampering) hits


def soft_timeout(signum, frame):  # the SIGALRM handler, installed once in the worker
    if _ACTIVE[0] is not None:
        _ACTIVE[0].cut = True
    raise SoftTimeout()


def bounded_repr(value: object, cap: int) -> str:
    try:
        text = repr(value)
    except SoftTimeout:
        raise
    except BaseException as e:  # noqa: BLE001 - a hostile __repr__ must not break the run
        text = f"<repr failed: {type(e).__name__}>"
    if type(text) is not str:  # a str subclass with tricks of its own
        text = "<repr failed: not a str>"
    return text if len(text) <= cap else text[:cap] + CUT_MARK


def _format_error(exc: BaseException) -> str:
    try:
        msg = str(exc)
    except BaseException:  # noqa: BLE001
        msg = "<str failed>"
    return f"{type(exc).__name__}: {msg}"[:2000]


def _code_ids(code: types.CodeType, keep: list) -> frozenset[int]:
    """Ids of ``code`` and every code object nested in it; ``keep`` holds them alive."""
    stack = [code]
    while stack:
        c = stack.pop()
        keep.append(c)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return frozenset(map(id, keep))


class _Anchors:
    """The ``__stepcode_anchor__`` hook and what it recorded."""

    def __init__(self, limits: dict, codes: frozenset[int], lines: list | None) -> None:
        self.hits: list[list] = []
        self.truncated = False
        self.integrity = "ok"
        self._cap, self._repr = limits["max_anchor_hits"], limits["max_repr_chars"]
        self._codes, self._lines = codes, lines
        self._seen: dict = {}
        getframe = sys._getframe

        def __stepcode_anchor__(anchor_id, name, value, limit=0):  # noqa: N807 - injected
            caller = getframe(1)
            if not self._genuine(caller, anchor_id):
                self.integrity = self.integrity if self.integrity != "ok" else "anchor_forged"
                return
            if limit:
                seen = self._seen.get(anchor_id, 0)
                if seen >= limit:
                    return  # the policy's per-anchor cap (first_k), not a truncation
                self._seen[anchor_id] = seen + 1
            if len(self.hits) >= self._cap:
                self.truncated = True
                return
            self.hits.append([anchor_id, str(name)[:200], bounded_repr(value, self._repr)])

        self.hook = __stepcode_anchor__

    def _genuine(self, caller, anchor_id) -> bool:
        if id(caller.f_code) not in self._codes or type(anchor_id) is not int or anchor_id < 0:
            return False
        if self._lines is None:  # a hand-built job: the caller's code is all we can check
            return True
        return anchor_id < len(self._lines) and self._lines[anchor_id] == caller.f_lineno


def _run_program(job: dict, tracehook) -> dict:
    """Execute the job's program in this (already limited) process; return the run dict."""
    limits = job["limits"]
    out: dict = {"status": "ok", "error": None, "return_value": None}
    glb: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    anchors = recorder = None
    keep: list = []  # the compiled code objects, alive so that their ids stay theirs
    codes: frozenset[int] = frozenset()
    try:
        code = compile(job["code"], job["filename"], "exec")
        call = compile(job["call"], "<call>", "eval") if job["call"] else None
        if job["anchors"] or job["trace"]:
            codes = _code_ids(code, keep)
        if job["anchors"]:
            anchors = _Anchors(limits, codes, job["anchor_lines"])
            glb[HOOK] = anchors.hook
        if job["trace"]:
            recorder = tracehook.Recorder(
                filename=job["filename"], max_steps=limits["max_trace_steps"],
                max_repr=limits["max_repr_chars"], watch=tuple(job["watch"]), codes=codes,
            )  # fmt: skip
            _ACTIVE[0] = recorder
            sys.addaudithook(recorder.audit)
            recorder.start()
        try:
            exec(code, glb)
            if call is not None:
                out["return_value"] = bounded_repr(eval(call, glb), RETURN_REPR_CAP)
        finally:
            if recorder is not None:
                recorder.stop()
    except SoftTimeout:
        out.update(status="timeout", error="TimeoutError: wall-clock limit")
    except SystemExit as e:
        if e.code not in (None, 0):
            out.update(status="error", error=f"SystemExit: {bounded_repr(e.code, 200)}")
    except MemoryError as e:
        out.update(status="memory", error=_format_error(e))
    except BaseException as e:  # noqa: BLE001 - every program failure is a status
        out.update(status="error", error=_format_error(e))
    signal.setitimer(signal.ITIMER_REAL, 0)
    integrity = "ok"
    if recorder is not None:
        out["trace"] = recorder.payload()
        integrity = recorder.integrity
    if anchors is not None:
        if anchors.integrity == "ok" and glb.get(HOOK) is not anchors.hook:
            anchors.integrity = "anchor_rebound"
        integrity = integrity if integrity != "ok" else anchors.integrity
    out["anchors"] = anchors.hits if anchors is not None else []
    out["anchors_truncated"] = anchors.truncated if anchors is not None else False
    out["integrity"] = integrity
    return out


def _preimport(code: str, call: str | None) -> None:
    """Without a filesystem view, import the modules the program names while the child can
    still read the whole install (a 0700 home holding the interpreter is unreadable after the
    uid drop). Only installed modules are executed, never program code."""
    import ast

    names: set[str] = set()
    for src in (code, call or ""):
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
    for name in sorted(names):
        if name not in sys.modules:
            try:
                __import__(name)
            except BaseException:  # noqa: BLE001 - a missing module fails later, in the program
                pass


def exec_tracehook(code: types.CodeType) -> types.ModuleType:
    """The tracer module, from the code object the worker compiled before it entered its jail."""
    mod = types.ModuleType("_stepcode_tracehook")
    mod.__file__ = code.co_filename
    sys.modules[mod.__name__] = mod
    exec(code, mod.__dict__)
    return mod


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def child_main(job: dict, fds: tuple[int, int, int], ctx: dict) -> None:
    """Runs in the forked child and never returns. ``ctx``: what the worker knows (``nonce``,
    ``cwd``, ``drop_uid``, ``preimport``, ``tracehook`` code, ``null_stdin``, ``prctl``)."""
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        res_fd = os.dup2(fds[2], 3)  # the result pipe lives at fd 3
        os.closerange(4, 1 << 16)
        if ctx["preimport"] and ("import" in job["code"] or "import" in (job["call"] or "")):
            _preimport(job["code"], job["call"])
        tracehook = None
        if job["trace"]:
            tracehook = exec_tracehook(ctx["tracehook"])
        _limit_and_drop(job["limits"], ctx)
        # the worker's sys.stdout/stderr are empty between jobs and now write to the program's
        # pipes; its sys.stdin may hold read-ahead protocol bytes, so the program gets a reader
        # over fd 0 (/dev/null) made once in the worker; the SIGALRM handler is set there too
        sys.stdin = ctx["null_stdin"]
        signal.setitimer(signal.ITIMER_REAL, max(0.05, job["limits"]["timeout_s"] * 0.9))
        run = _run_program(job, tracehook)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        run["nonce"] = ctx["nonce"]
        try:
            payload = _dumps(run).encode()
        except (TypeError, ValueError, RecursionError):  # the program put objects into our state
            payload = b""
        if not payload or len(payload) > RUN_CAP:
            why = "run state is not serialisable" if not payload else "result too large"
            payload = _dumps({"status": "crash", "error": why, "nonce": ctx["nonce"],
                              "return_value": None, "anchors": [], "anchors_truncated": False,
                              "integrity": "ok"}).encode()  # fmt: skip
        _write_all(res_fd, payload)
        os._exit(0)
    except BaseException:  # noqa: BLE001 - the child must never fall back into the worker loop
        os._exit(70)


def _limit_and_drop(limits: dict, ctx: dict) -> None:
    mem = limits["memory_mb"] << 20
    cpu = max(1, int(limits["timeout_s"] + 0.999)) + 1
    for lim, val in (
        (resource.RLIMIT_AS, mem),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, limits["max_file_bytes"]),
        (resource.RLIMIT_NOFILE, limits["max_open_files"]),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(lim, (val, val))
    os.chdir(ctx["cwd"])
    if ctx["drop_uid"]:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # binds for nobody: no fork, no threads
    # die with the worker (set after the uid change, which clears it); if the worker is
    # already gone, stop here rather than run unsupervised
    if ctx["prctl"] is not None:
        ctx["prctl"](PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != ctx["worker_pid"]:
        os._exit(70)


def drop_uid_works() -> bool:
    """Can a child of this (root) process become ``nobody``?"""
    if os.geteuid() != 0:
        return False
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, st = os.waitpid(pid, 0)
    return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
