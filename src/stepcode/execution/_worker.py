"""The sandbox worker: ``python -I -S _worker.py [--without LAYER,...]``, one per pool slot.

Stdlib only. It loads its siblings (``_wire``, ``_child``, ``_jail``, ``_seccomp``) and compiles
the tracer (``_tracehook.py``) from its own directory first, preloads the modules short programs
import, then enters its isolation (``_jail.enter``, then ``_seccomp.install``): from there on it
reads no file of stepcode's, so the package may live anywhere, ``/tmp`` included. It then
answers one job frame per run on stdin with one reply frame on stdout (``_wire``), in order:
fork a child (``_child.child_main``), drain its stdout/stderr with caps, enforce the wall
deadline with a process-group SIGKILL, reap whatever the run left, check its run frame against
the schema and classify how it ended. The run's dirs are emptied in a ``finally``.

``--without`` (tests only) skips layers as a host that refuses them would: ``mount``, ``net``,
``ipc``, ``uts``, ``pid``, ``uid``, ``seccomp``.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Modules imported once in the worker so that children get them for free: what short contest
# and benchmark programs import (``ast`` also serves the import scan). Every preloaded module
# makes each fork dearer (more pages to copy and fault), so heavier, rarer ones (datetime,
# decimal, fractions, dataclasses, hashlib, calendar) are imported by the programs that use
# them, in their own child; so are modules that register fork handlers (threading, random, and
# their importers subprocess, tempfile, statistics), which every fork would pay for.
_PRELOAD = (
    "collections", "itertools", "functools", "math", "re", "string", "heapq", "bisect", "typing",
    "copy", "operator", "json", "ast", "array", "textwrap", "enum", "time", "traceback",
    "_weakrefset",
)  # fmt: skip
_KILLED_BY_US_GRACE_S = 0.25  # after the deadline, before the group kill


def _load_siblings():
    # -I leaves the script's own directory off sys.path: put it there just for our modules
    sys.path.insert(0, HERE)
    try:
        import _child
        import _jail
        import _seccomp
        import _wire
    finally:
        sys.path.remove(HERE)
    return _wire, _child, _jail, _seccomp


_wire, _child, _jail, _seccomp = _load_siblings()


def _site_paths() -> tuple[list[str], list[str]]:
    """Under ``-S`` (site's ``.pth`` imports pull in threading and random) add the site dirs and
    the directory lines of their ``.pth`` files to ``sys.path``, executing nothing from them.
    Returns (dirs a program may import from, ``.pth`` dirs outside every site dir: an editable
    install's source, which programs must not see and which leave ``sys.path`` again)."""
    import site  # under -S, importing site does not run site.main()

    sites = [d for d in site.getsitepackages(_prefixes()) if os.path.isdir(d)]
    inside, outside = [], []
    for sitedir in sites:
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
                path = os.path.realpath(os.path.join(sitedir, line))
                if os.path.isdir(path):
                    within = any(path.startswith(os.path.realpath(s) + "/") for s in sites)
                    (inside if within else outside).append(path)
    sys.path.extend(p for p in [*sites, *inside] if p not in sys.path)
    return [*sites, *inside], outside


def _prefixes() -> list[str]:
    """``site.venv``'s answer without running ``site``: under ``-S`` a venv's ``sys.prefix`` is
    still the base interpreter's, but its packages are the venv's."""
    exe_dir = os.path.dirname(sys.executable)
    for cfg in (
        os.path.join(exe_dir, "pyvenv.cfg"),
        os.path.join(os.path.dirname(exe_dir), "pyvenv.cfg"),
    ):
        if os.path.isfile(cfg):
            try:
                with open(cfg, encoding="utf-8") as f:
                    keys = dict(line.split("=", 1) for line in f if "=" in line)
            except (OSError, UnicodeDecodeError):
                keys = {}
            system = keys.get("include-system-site-packages", "false").strip().lower() == "true"
            return [os.path.dirname(cfg), *([sys.base_prefix] if system else [])]
    return [sys.prefix]


def _view_paths(importable: list[str], editable: list[str]) -> _jail.View:
    """What the filesystem view holds: ``sys.path`` (standard library, site-packages), the
    shared-library dirs, two files of /etc; and what it covers if an exposed tree holds it."""
    wanted = [p for p in sys.path if p and os.path.exists(p)] + importable
    wanted += [p for p in (*_jail.LIB_DIRS, *_jail.ETC_FILES) if os.path.lexists(p)]
    links = sorted({link for p in wanted for link in _jail.symlink_components(p)})
    real = {os.path.realpath(p) for p in wanted}
    package_root = os.path.dirname(os.path.dirname(HERE))  # the dir holding ``stepcode``
    hidden = list(editable)
    if not any(package_root.startswith(os.path.realpath(p) + "/") for p in importable):
        hidden.append(package_root)  # a checkout or editable install, not an installed package
        checkout = os.path.dirname(package_root)
        if os.path.exists(os.path.join(checkout, "pyproject.toml")):
            hidden.append(checkout)
    return _jail.View(
        paths=sorted(p for p in real if os.path.exists(p)),
        links=links,
        hidden=[os.path.realpath(p) for p in hidden],
    )


class _OomCounter:
    """The kernel's count of OOM kills where this worker runs (its memory cgroup, else the
    whole host): read as a run starts (``mark``) and again if it died of a SIGKILL the worker
    did not send (``grew``). Another process killed for memory in that same moment would be
    blamed on the run too: the documented price of not owning a memory cgroup."""

    def __init__(self) -> None:
        self.fd, self.last = None, None
        for path in self._candidates():
            try:
                self.fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            self.last = self.read()
            if self.last is not None:
                return
            os.close(self.fd)
            self.fd = None

    @staticmethod
    def _candidates() -> list[str]:
        out = []
        try:
            with open("/proc/self/cgroup") as f:
                rows = [line.strip().split(":", 2) for line in f]
        except OSError:
            rows = []
        for _, controllers, path in rows:
            if "memory" in controllers.split(","):
                out.append(f"/sys/fs/cgroup/memory{path}/memory.oom_control")
            elif controllers == "":
                out += [f"/sys/fs/cgroup{path}/memory.events",
                        f"/sys/fs/cgroup/unified{path}/memory.events"]  # fmt: skip
        return [*out, "/proc/vmstat"]

    def read(self) -> int | None:
        try:
            text = os.pread(self.fd, 1 << 16, 0).decode()
        except (OSError, TypeError, UnicodeDecodeError):
            return None
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return None

    def mark(self) -> None:
        if self.fd is not None:
            self.last = self.read()

    def grew(self) -> bool:
        now = self.read() if self.fd is not None else None
        return now is not None and self.last is not None and now > self.last


def _drain(fds: dict, caps: dict, bufs: dict, deadline: float) -> str | None:
    """Read the child's pipes until all close. Returns what cut it short: 'timeout', or the name
    of the stream that went over its cap."""
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
                return name
    return None


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _outcome(data: bytes, nonce: str, limits: dict, status: int, cut: str | None,
             oom: _OomCounter) -> dict:  # fmt: skip
    """The run as the schema allows it, from its frame, how it was cut and how it ended."""
    failure = _wire.failure
    res, bad = None, None
    if data and cut != "result":
        try:
            obj = _wire.decode(bytes(data), _wire.RUN_CAP)
            if type(obj) is not dict or obj.pop("nonce", None) != nonce:
                raise _wire.WireError("no frame carrying this run's nonce")
            res = _wire.check_run(obj, limits)
        except _wire.WireError as e:
            bad = str(e)
    if cut == "timeout":
        return {**(res or failure("timeout", "")), "status": "timeout",
                "error": "TimeoutError: wall-clock limit"}  # fmt: skip
    if cut in ("stdout", "stderr"):
        return failure("output_limit", "output exceeded the capture limit")
    if cut == "result":
        return failure("crash", "result frame over its size cap")
    if bad is not None:
        return failure("crash", f"malformed result frame: {bad}")
    if res is not None:
        return res
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return failure("timeout", "TimeoutError: CPU-time limit")
        if sig == signal.SIGXFSZ:
            return failure("error", "OSError: file size limit exceeded")
        if sig == signal.SIGKILL and oom.grew():
            return failure("memory", "MemoryError: killed while allocating (out of memory)")
        try:
            name = signal.Signals(sig).name
        except ValueError:  # real-time signals have no enum member
            name = str(sig)
        return failure("crash", f"killed by signal {name}")
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return failure("crash", f"process exited with code {code} before finishing")


def _run_job(body: bytes, jail, ctx: dict, oom: _OomCounter) -> dict:
    try:
        job = _wire.check_job(_wire.decode(body))
    except _wire.WireError as e:
        return {**_wire.failure("crash", f"bad job frame: {e}"), "stdout": "", "stderr": "",
                "duration_s": 0.0}  # fmt: skip
    limits = job["limits"]
    cap = limits["max_output_bytes"]
    bufs = {"stdout": bytearray(), "stderr": bytearray(), "result": bytearray()}
    fds: dict[int, str] = {}  # read ends still open
    ends: list[int] = []  # write ends still open
    try:
        jail.prepare_run(limits["tmpfs_mb"])
        nonce = os.urandom(16).hex()
        oom.mark()
        for name in bufs:
            r, w = os.pipe()
            fds[r] = name
            ends.append(w)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            for r in fds:
                os.close(r)
            _child.child_main(job, tuple(ends), {**ctx, "nonce": nonce, "cwd": jail.cwd})
        while ends:
            os.close(ends.pop())
        caps = {"stdout": cap, "stderr": cap, "result": _wire.RUN_CAP}
        cut = _drain(fds, caps, bufs, start + limits["timeout_s"] + _KILLED_BY_US_GRACE_S)
        _kill_group(pid)  # also kills anything the program left behind in its group
        _, status = os.waitpid(pid, 0)
        duration = time.monotonic() - start
        jail.reap()
        run = _outcome(bufs["result"], nonce, limits, status, cut, oom)
    finally:
        for fd in [*fds, *ends]:
            try:
                os.close(fd)
            except OSError:
                pass
        jail.clean_run()  # whatever the run wrote and whatever its frame held
    return {
        **run,
        "stdout": bufs["stdout"][:cap].decode("utf-8", "replace"),
        "stderr": bufs["stderr"][:cap].decode("utf-8", "replace"),
        "duration_s": duration,
    }


def _read_exact(stream, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(stream, obj: object) -> None:
    stream.write(_wire.encode(obj))
    stream.flush()


def main() -> None:
    try:
        _main()
    except Exception as e:  # a set-up the host refuses: say what, so the pool can say it
        _send(sys.stdout.buffer, {"ready": False, "error": f"{type(e).__name__}: {e}"})
        raise SystemExit(1) from None


def _main() -> None:
    without = frozenset()
    if "--without" in sys.argv:
        without = frozenset(sys.argv[sys.argv.index("--without") + 1].split(","))
    importable, editable = _site_paths()
    view = _view_paths(importable, editable)
    for path in editable:
        while path in sys.path:
            sys.path.remove(path)
    with open(os.path.join(HERE, "_tracehook.py"), encoding="utf-8") as f:
        tracehook = compile(f.read(), os.path.join(HERE, "_tracehook.py"), "exec")
    for name in _PRELOAD:
        __import__(name)
    drop_uid = "uid" not in without and _child.drop_uid_works()
    oom = _OomCounter()
    jail = _jail.enter(without, view)
    jail.strays_possible = not drop_uid
    seccomp = False
    if "seccomp" not in without and os.geteuid() == 0 and _seccomp.supported():
        try:
            _seccomp.install()
            seccomp = True
        except OSError as e:
            jail.notes.append(f"no seccomp filter: {e}")
    _run_loop(jail, oom, tracehook, drop_uid, seccomp)


def _run_loop(jail, oom: _OomCounter, tracehook, drop_uid: bool, seccomp: bool) -> None:
    import ctypes
    import gc
    import io

    ctx = {
        "drop_uid": drop_uid,
        "preimport": not jail.layers["filesystem_view"],
        "tracehook": tracehook,
        "null_stdin": io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8"),
        "prctl": ctypes.CDLL(None, use_errno=True).prctl,
        "worker_pid": os.getpid(),
    }
    signal.signal(signal.SIGALRM, _child.soft_timeout)  # the worker itself never arms the timer
    gc.freeze()  # keep the collector from touching (and so copying) the worker's pages in children
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    layers = {**jail.layers, "unprivileged_uid": drop_uid, "seccomp": seccomp, "rlimits": True}
    hello = {"ready": True, "layers": layers, "notes": jail.notes, "exposed": jail.exposed,
             "oom_source": oom.fd is not None}  # fmt: skip
    _send(stdout, hello)
    while True:
        head = _read_exact(stdin, _wire.HEADER_BYTES)
        body = None if head is None else _read_exact(stdin, int.from_bytes(head, "big"))
        if body is None:
            break
        try:
            reply = _run_job(body, jail, ctx, oom)
        except Exception as e:  # noqa: BLE001 - keep the warm worker alive for the next job
            reply = {**_wire.failure("crash", f"sandbox worker error: {type(e).__name__}: {e}"),
                     "stdout": "", "stderr": "", "duration_s": 0.0}  # fmt: skip
        _send(stdout, reply)
    jail.close()


if __name__ == "__main__":
    main()
