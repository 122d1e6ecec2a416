"""Sandbox worker: runs inside the OS isolation layer and forks one limited child per program.

Stdlib only; imports nothing from stepcode (it is started as ``python -I _child.py``). Protocol on
stdin/stdout: 4-byte big-endian length + UTF-8 JSON, one job in, one result out, in order.

Per job the worker forks a child that: starts a new session (its own process group), closes every
inherited fd but its pipes, sets rlimits (address space, CPU, file size, open files, no core dumps,
no new processes), drops to an unprivileged uid when the worker is root, enters a private temp cwd,
then ``exec``s the program in a fresh ``__main__`` namespace, evaluates ``call`` and writes one JSON
result to a dedicated pipe (never to stdout, so program prints cannot forge it). The worker drains
stdout/stderr with caps, enforces the wall deadline with a process-group SIGKILL, and classifies
how the child ended.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time

NOBODY = 65534
PR_SET_PDEATHSIG = 1
_PDEATHSIG: list = [None]  # libc prctl, bound in main() when ctypes can reach libc
RESULT_CAP = 8 << 20  # bytes of result JSON accepted from a child
RETURN_REPR_CAP = 10_000
# Modules imported once in the worker so that children get them for free: what short contest
# and benchmark programs import (``ast`` is also what ``_preimport`` needs). Every preloaded
# module makes each fork dearer (more pages to copy and to fault), so heavier, rarer ones
# (datetime, decimal, fractions, dataclasses, hashlib, calendar) are imported by the programs
# that use them, in their own child; so are modules that register fork handlers (threading,
# random, and their importers subprocess, tempfile, statistics), which every fork would pay for.
_PRELOAD = (
    "collections", "itertools", "functools", "math", "re", "string", "heapq", "bisect", "typing",
    "copy", "operator", "json", "ast", "array", "textwrap", "enum", "time", "traceback",
    "_weakrefset",
)  # fmt: skip


class _SoftTimeout(BaseException):
    """Raised inside the program shortly before the hard kill so partial results come back."""


def _soft(signum, frame):
    raise _SoftTimeout()


_NULL_STDIN: list = [None]  # a text reader over fd 0, made in the worker, used by children


# ------------------------------------------------------------------ child side --------------


def _bounded_repr(value: object, cap: int) -> str:
    try:
        text = repr(value)
    except _SoftTimeout:
        raise
    except BaseException as e:  # noqa: BLE001 - a hostile __repr__ must not break the run
        text = f"<repr failed: {type(e).__name__}>"
    return text if len(text) <= cap else text[:cap] + "...<truncated>"


def _format_error(exc: BaseException) -> str:
    try:
        msg = str(exc)
    except BaseException:  # noqa: BLE001
        msg = "<str failed>"
    return f"{type(exc).__name__}: {msg}"[:2000]


def _anchor_recorder(cap: int, max_repr: int):
    hits: list[list] = []
    state = {"truncated": False}

    per_anchor: dict = {}

    def __stepcode_anchor__(anchor_id, name, value, limit=0):  # noqa: N807 - injected global
        if limit:
            seen = per_anchor.get(anchor_id, 0)
            if seen >= limit:
                return  # the policy's per-anchor cap (first_k), not a truncation
            per_anchor[anchor_id] = seen + 1
        if len(hits) >= cap:
            state["truncated"] = True
            return
        hits.append([int(anchor_id), str(name), _bounded_repr(value, max_repr)])

    return __stepcode_anchor__, hits, state


def _compile_tracehook():
    """The tracer's code object, compiled once in the worker and run only in tracing children
    (it imports ``threading``, whose fork handler would otherwise slow every fork)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_tracehook.py")
    with open(path, encoding="utf-8") as f:
        return compile(f.read(), path, "exec")


def _exec_tracehook(code):
    import types

    mod = types.ModuleType("_stepcode_tracehook")
    mod.__file__ = code.co_filename
    sys.modules[mod.__name__] = mod
    exec(code, mod.__dict__)
    return mod


def _run_program(job: dict, tracehook) -> dict:
    """Execute the job's program in this (already limited) process; return the result dict."""
    limits = job["limits"]
    out: dict = {"status": "ok", "error": None, "return_value": None}
    glb: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    hits: list = []
    astate = {"truncated": False}
    if job.get("anchors"):
        fn, hits, astate = _anchor_recorder(limits["max_anchor_hits"], limits["max_repr_chars"])
        glb["__stepcode_anchor__"] = fn
    recorder = None
    if job.get("trace"):
        if tracehook is None:
            return {"status": "crash", "error": "tracer unavailable (_tracehook.py missing)"}
        recorder = tracehook.Recorder(
            filename=job["filename"],
            max_steps=limits["max_trace_steps"],
            max_repr=limits["max_repr_chars"],
            watch=tuple(job.get("watch") or ()),
        )
    try:
        code = compile(job["code"], job["filename"], "exec")
        call = compile(job["call"], "<call>", "eval") if job.get("call") else None
        if recorder is not None:
            recorder.start()
        try:
            exec(code, glb)
            if call is not None:
                value = eval(call, glb)
                out["return_value"] = _bounded_repr(value, RETURN_REPR_CAP)
        finally:
            if recorder is not None:
                recorder.stop()
    except _SoftTimeout:
        out.update(status="timeout", error="TimeoutError: wall-clock limit")
    except SystemExit as e:
        if e.code not in (None, 0):
            out.update(status="error", error=f"SystemExit: {e.code!r}"[:2000])
    except MemoryError as e:
        out.update(status="memory", error=_format_error(e))
    except RecursionError as e:
        out.update(status="error", error=_format_error(e))
    except BaseException as e:  # noqa: BLE001 - every program failure is a status
        out.update(status="error", error=_format_error(e))
    signal.setitimer(signal.ITIMER_REAL, 0)
    out["anchors"] = hits
    out["anchors_truncated"] = astate["truncated"]
    if recorder is not None:
        out["trace"] = recorder.payload()
    return out


def _preimport(code: str, call: str | None) -> None:
    """Import the modules the program names while the child can still read the whole install.

    After the uid drop, directories such as a root-only ``$HOME`` holding the interpreter may be
    unreadable; importing here (before the program runs) keeps ``import numpy`` working. Only
    installed modules are executed, never program code.
    """
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
        if name in sys.modules:
            continue
        try:
            __import__(name)
        except BaseException:  # noqa: BLE001 - a missing module fails later, inside the program
            pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _child_main(job: dict, out_w: int, err_w: int, res_w: int, cwd: str, tracehook) -> None:
    """Runs in the forked child. Never returns."""
    nonce = job.pop("nonce")  # proves the result came from this harness, not the program
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        res_fd = os.dup2(res_w, 3)  # the result pipe lives at fd 3
        os.closerange(4, 4096)
        if "import" in job["code"] or "import" in (job.get("call") or ""):
            _preimport(job["code"], job.get("call"))
        if job.get("trace") and tracehook is not None:
            tracehook = _exec_tracehook(tracehook)
        limits = job["limits"]
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
        os.chdir(cwd)
        if job.get("drop_uid"):
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        if job.get("no_fork", True):
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
        # die with the worker (set after the uid change, which clears it); if the worker is
        # already gone, stop here rather than run unsupervised
        if _PDEATHSIG[0] is not None:
            _PDEATHSIG[0](PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != job["worker_pid"]:
            os._exit(70)
        # the worker's environment is already scrubbed (pool.py); its sys.stdout/stderr objects are
        # empty between jobs and now write to the program's pipes; its sys.stdin may hold
        # read-ahead protocol bytes, so the program gets a reader over fd 0 (/dev/null) made once
        # in the worker, and the SIGALRM handler (_soft) is installed there too
        sys.stdin = _NULL_STDIN[0]
        signal.setitimer(signal.ITIMER_REAL, max(0.05, limits["timeout_s"] * 0.9))
        result = _run_program(job, tracehook)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        result["nonce"] = nonce
        payload = json.dumps(result).encode()
        if len(payload) > RESULT_CAP:
            payload = json.dumps({"status": "crash", "error": "result too large"}).encode()
        _write_all(res_fd, payload)
        os._exit(0)
    except BaseException:  # noqa: BLE001 - the child must never fall back into the worker loop
        os._exit(70)


# ------------------------------------------------------------------ worker side -------------


def _drain(fds: dict, caps: dict, bufs: dict, deadline: float) -> str | None:
    """Read child pipes until all close. Returns 'timeout' or 'output_limit' if cut short."""
    while fds:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        ready, _, _ = select.select(list(fds), [], [], left)
        for fd in ready:
            name = fds[fd]
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                os.close(fd)
                del fds[fd]
                continue
            bufs[name].extend(chunk)
            if len(bufs[name]) > caps[name]:
                return "output_limit"
    return None


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _classify(wait_status: int, cut: str | None, res: dict | None, limits: dict) -> dict:
    if cut == "timeout":
        base = res or {}
        return {**base, "status": "timeout", "error": "TimeoutError: wall-clock limit"}
    if cut == "output_limit":
        return {"status": "output_limit", "error": "output exceeded the capture limit"}
    if res is not None:
        return res
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        if sig == signal.SIGXCPU:
            return {"status": "timeout", "error": "TimeoutError: CPU-time limit"}
        if sig == signal.SIGXFSZ:
            return {"status": "error", "error": "OSError: file size limit exceeded"}
        if sig == signal.SIGKILL and limits.get("_oom_hint"):
            return {"status": "memory", "error": "killed while allocating"}
        try:
            name = signal.Signals(sig).name
        except ValueError:  # real-time signals have no enum member
            name = str(sig)
        return {"status": "crash", "error": f"killed by signal {name}"}
    code = os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else -1
    return {"status": "crash", "error": f"process exited with code {code} before finishing"}


def _run_job(job: dict, base_dir: str, seq: int, tracehook, drop_uid: bool) -> dict:
    limits = job["limits"]
    cwd = os.path.join(base_dir, f"run{seq}")
    os.mkdir(cwd, 0o700)
    if drop_uid:
        os.chown(cwd, NOBODY, NOBODY)
    nonce = os.urandom(16).hex()
    job = {**job, "drop_uid": drop_uid, "worker_pid": os.getpid(), "nonce": nonce}
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        os.close(res_r)
        _child_main(job, out_w, err_w, res_w, cwd, tracehook)
    for fd in (out_w, err_w, res_w):
        os.close(fd)
    cap = limits["max_output_bytes"]
    bufs = {"stdout": bytearray(), "stderr": bytearray(), "result": bytearray()}
    fds = {out_r: "stdout", err_r: "stderr", res_r: "result"}
    caps = {"stdout": cap, "stderr": cap, "result": RESULT_CAP}
    cut = _drain(fds, caps, bufs, start + limits["timeout_s"] + 0.25)
    _kill_group(pid)  # also reaps anything the program left behind in its group
    for fd in fds:
        os.close(fd)
    _, wait_status = os.waitpid(pid, 0)
    duration = time.monotonic() - start
    res = None
    if bufs["result"]:
        try:
            res = json.loads(bufs["result"].decode("utf-8", "replace"))
        except ValueError:
            res = None
        if not isinstance(res, dict) or res.pop("nonce", None) != nonce:
            res = None  # written by the program itself (fd 3), not by the harness
    out = _classify(wait_status, cut, res, limits)
    out["stdout"] = bufs["stdout"][:cap].decode("utf-8", "replace")
    out["stderr"] = bufs["stderr"][:cap].decode("utf-8", "replace")
    out["duration_s"] = duration
    shutil.rmtree(cwd, ignore_errors=True)
    return out


def _read_exact(stream, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


MS_BIND, MS_REC = 4096, 16384


def _libc():
    import ctypes  # not ctypes.util: it imports subprocess and threading

    return ctypes.CDLL(None, use_errno=True)


MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
_KEEP_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": 1024,
               "nodiratime": 2048, "relatime": 1 << 21}  # fmt: skip


def _remount_readonly() -> bool:
    """In a private mount namespace (root): every mount read-only, keeping its nosuid/nodev/
    noexec flags. True when ``/`` itself is read-only afterwards. The fresh tmpfs mounts made
    after this (``/tmp`` ...) stay writable."""
    libc = _libc()
    root_ok = False
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        rows = [line.split() for line in f]
    for row in rows:
        point = row[4].encode().decode("unicode_escape").encode("latin-1")
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in row[5].split(","):
            flags |= _KEEP_FLAGS.get(opt, 0)
        ok = libc.mount(None, point, None, flags, None) == 0
        if point == b"/":
            root_ok = ok
    return root_ok and not os.access("/", os.W_OK)  # access() reports EROFS even for root


def _setup_private_tmp() -> bool:
    """In a private mount namespace (root): fresh tmpfs over the world-writable dirs."""
    libc = _libc()
    ok = True
    for path in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(path):
            rc = libc.mount(b"tmpfs", path.encode(), b"tmpfs", 0, b"mode=1777,size=1g")
            ok = ok and rc == 0
    return ok


def _expose_interpreter() -> list[str]:
    """Hide private ancestors (e.g. a 0700 ``/root``) behind a tmpfs, re-exposing only the dirs
    the interpreter needs, so the unprivileged child can import lazily (codecs, stdlib) while
    the rest of that directory stays invisible. Only in the private mount namespace."""
    needed = {os.path.realpath(p) for p in [sys.prefix, sys.base_prefix, *sys.path] if p}
    hidden: dict[str, set[str]] = {}
    for path in needed:
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            anc = "/" + "/".join(parts[:depth])
            if os.path.isdir(anc) and not os.stat(anc).st_mode & 0o001:
                hidden.setdefault(anc, set()).add(parts[depth])
                break
    libc = _libc()
    done = []
    for anc, children in hidden.items():
        stage = f"/tmp/.stepcode-stage{len(done)}"
        os.makedirs(stage, exist_ok=True)
        staged = []
        for child in sorted(children):
            src, dst = f"{anc}/{child}", f"{stage}/{child}"
            if os.path.isdir(src):
                os.makedirs(dst, exist_ok=True)
                if libc.mount(src.encode(), dst.encode(), None, MS_BIND | MS_REC, None) == 0:
                    staged.append(child)
        if libc.mount(b"tmpfs", anc.encode(), b"tmpfs", 0, b"mode=0755,size=1m") != 0:
            continue
        for child in staged:
            dst = f"{anc}/{child}"
            os.makedirs(dst, exist_ok=True)
            libc.mount(f"{stage}/{child}".encode(), dst.encode(), None, MS_BIND | MS_REC, None)
        done.append(anc)
    return done


def _can_drop_uid() -> bool:
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


def _add_site_paths() -> None:
    """The worker runs with ``-S`` (site's ``.pth`` imports pull in threading and random): put the
    site-packages dirs and the plain directory lines of their ``.pth`` files on ``sys.path``,
    executing nothing from them."""
    import site  # under -S, importing site does not run site.main()

    for sitedir in site.getsitepackages():
        if not os.path.isdir(sitedir) or sitedir in sys.path:
            continue
        sys.path.append(sitedir)
        for name in sorted(os.listdir(sitedir)):
            if not name.endswith(".pth"):
                continue
            try:
                with open(os.path.join(sitedir, name), encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                line = line.strip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue
                path = os.path.join(sitedir, line)
                if os.path.isdir(path) and path not in sys.path:
                    sys.path.append(path)


def main() -> None:
    if sys.flags.no_site:
        _add_site_paths()
    readonly_fs = "--private-tmp" in sys.argv and _remount_readonly()
    private_tmp = "--private-tmp" in sys.argv and _setup_private_tmp()
    hidden = _expose_interpreter() if private_tmp else []
    drop_uid = _can_drop_uid()
    try:
        _PDEATHSIG[0] = _libc().prctl
    except (OSError, AttributeError):
        pass
    for name in _PRELOAD:
        __import__(name)
    import gc
    import io

    _NULL_STDIN[0] = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    signal.signal(signal.SIGALRM, _soft)  # the worker itself never arms the timer
    gc.freeze()  # keep the collector from touching (and so copying) the worker's pages in children
    try:
        tracehook = _compile_tracehook()
    except (OSError, SyntaxError, ValueError):
        tracehook = None
    base_dir = os.path.join("/tmp", f"stepcode-sbx-{os.urandom(8).hex()}")
    os.mkdir(base_dir, 0o700)
    os.chmod(base_dir, 0o711)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    hello = {
        "ready": True,
        "drop_uid": drop_uid,
        "private_tmp": private_tmp,
        "readonly_fs": readonly_fs,
        "hidden_dirs": hidden,
        "pid": os.getpid(),
    }
    hello_bytes = json.dumps(hello).encode()
    stdout.write(struct.pack(">I", len(hello_bytes)) + hello_bytes)
    stdout.flush()
    seq = 0
    while True:
        head = _read_exact(stdin, 4)
        if head is None:
            break
        body = _read_exact(stdin, struct.unpack(">I", head)[0])
        if body is None:
            break
        seq += 1
        try:
            result = _run_job(json.loads(body), base_dir, seq, tracehook, drop_uid)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.ENOMEM):
                result = {"status": "crash", "error": f"sandbox could not fork: {e}"}
            else:
                result = {"status": "crash", "error": f"sandbox worker error: {e}"}
        except Exception as e:  # noqa: BLE001 - keep the warm worker alive for the next job
            result = {"status": "crash", "error": f"sandbox worker error: {type(e).__name__}: {e}"}
        data = json.dumps(result).encode()
        stdout.write(struct.pack(">I", len(data)) + data)
        stdout.flush()
    shutil.rmtree(base_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
