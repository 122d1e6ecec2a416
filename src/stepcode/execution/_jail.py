"""The worker's OS isolation: namespaces, the filesystem view, and each run's private dirs.

Runs inside the sandbox worker (stdlib only, loaded as a sibling of ``_worker.py``). ``enter``
is called once per worker, as root, after the worker has read every file of its own it needs:

1. new mount, network, IPC, UTS, cgroup and PID namespaces (each tried on its own). With
   a PID namespace the process forks once: the parent stays outside and only waits; the child
   is PID 1 of the new namespace and becomes the worker (it dies with its parent), so a run
   sees no process but its own, and after each run ``reap`` kills whatever the run left;
2. the IPC namespace gets zero SysV and POSIX message-queue limits: no run can create an
   object that a later run could find;
3. a fresh root: a small tmpfs holding read-only bind mounts of only what a program may use
   (the interpreter's ``sys.path``: standard library and site-packages, minus ``.pth`` entries
   that point outside them such as an editable install's ``src``; the shared-library dirs; time
   zones), generated ``/etc/passwd``/``group``/``hosts``, five ``/dev`` nodes and a ``/proc``
   showing only the run's own processes; ``pivot_root`` into it (``chroot`` where the kernel
   refuses) and detach the old root. The project checkout, datasets, home directories and host
   sockets are simply not there;
4. one tmpfs ``/.run`` (root-only) whose ``tmp``, ``shm`` and ``cwd`` dirs are bind-mounted on
   ``/tmp``, ``/dev/shm`` and ``/sandbox`` (the run's cwd): sized per run from the run's limits
   (``Limits.tmpfs_mb``, inodes too) and emptied after every run, remounted fresh when emptying
   fails; what one run wrote is gone before the next starts.

Without root (or where the kernel refuses a namespace) the missing layers are reported and the
worker runs with what it has: the run's dir is then a private directory under the host's /tmp.
"""

from __future__ import annotations

import ctypes
import os
import shutil

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE, MNT_DETACH = 4096, 16384, 1 << 18, 2
CLONE = {"mount": 0x20000, "net": 0x40000000, "ipc": 0x08000000, "uts": 0x04000000,
         "cgroup": 0x02000000, "pid": 0x20000000}  # fmt: skip
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
RUN_ROOT = "/.run"
RUN_DIRS = {"tmp": "/tmp", "shm": "/dev/shm", "cwd": "/sandbox"}
CWD = RUN_DIRS["cwd"]
_RO = MS_RDONLY | MS_NOSUID | MS_NODEV
_DEV_NODES = ("null", "zero", "full", "random", "urandom")
LIB_DIRS = ("/lib", "/lib64", "/lib32", "/libx32", "/usr/lib", "/usr/lib64", "/usr/lib32",
             "/usr/local/lib", "/usr/share/zoneinfo")  # fmt: skip
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
_PASSWD = "root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/sandbox:/sbin/nologin\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_STAGES = ("/dev/shm", "/mnt", "/media", "/srv", "/tmp")  # where the new root is assembled

_libc = ctypes.CDLL(None, use_errno=True)


class View:
    """What the filesystem view holds: real ``paths`` bound read-only at their own place,
    ``links`` (the host's symlinks on the way to them), and ``hidden`` paths to cover should an
    exposed tree hold them (a checkout under /usr/local, an editable install's ``src``)."""

    def __init__(self, paths: list[str], links: list[tuple[str, str]], hidden: list[str]):
        self.paths, self.links, self.hidden = paths, links, hidden


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _c(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def mount(src: str | None, dst: str, fstype: str | None, flags: int, data: str | None = None):
    rc = _libc.mount(_c(src), _c(dst), _c(fstype), ctypes.c_ulong(flags), _c(data))
    _check(rc, f"mount {dst}")


def _umount(path: str) -> None:
    _libc.umount2(path.encode(), MNT_DETACH)


def _bind_ro(src: str, dst: str) -> None:
    mount(src, dst, None, MS_BIND)
    mount(None, dst, None, MS_REMOUNT | MS_BIND | _RO)


class Jail:
    """What ``enter`` set up, and the per-run dir lifecycle built on it."""

    def __init__(self) -> None:
        self.layers: dict[str, bool] = {}
        self.notes: list[str] = []
        self.exposed: list[str] = []
        self.pid1 = False
        self._private_run_root = False  # /.run is a tmpfs of ours (else a dir under host /tmp)
        self._run_dirs: dict[str, str] = {}
        self._keep: dict[str, set[str]] = {}  # mount points we made inside a run dir
        self._size: tuple[int, int] | None = None
        self.host_dir: str | None = None  # without a view: the run dirs' parent in host /tmp
        self.strays_possible = True  # the worker clears it when runs drop to nobody
        self._inodes = -1  # inodes of the run tmpfs in use between runs (its own dirs)

    def close(self) -> None:
        if self.host_dir is not None:
            shutil.rmtree(self.host_dir, ignore_errors=True)

    # -- per run ---------------------------------------------------------------------------
    @property
    def cwd(self) -> str:
        return CWD if self._private_run_root else self._run_dirs["cwd"]

    def prepare_run(self, tmpfs_mb: int) -> None:
        """Size the run's tmpfs for this run's limits (a remount, only when the size changes)."""
        if not self._private_run_root:
            return
        size = (tmpfs_mb << 20, max(256, tmpfs_mb * 64))
        if size != self._size:
            opts = f"size={size[0]},nr_inodes={size[1]}"
            mount(None, RUN_ROOT, None, MS_REMOUNT | MS_NOSUID | MS_NODEV, opts)
            self._size = size

    def clean_run(self) -> None:
        """Empty the run's /tmp, /dev/shm and cwd; remount them fresh when emptying fails.

        On our tmpfs, a run that created nothing is seen in one ``statvfs``: every file, dir,
        socket or fifo takes an inode, and the dirs that were there before are root's, so a run
        (``nobody``) cannot have changed them."""
        if self._private_run_root and self._used_inodes() == self._inodes:
            return
        try:
            for name, path in self._run_dirs.items():
                keep = self._keep.get(name, set())
                with os.scandir(path) as it:
                    leftovers = [e.path for e in it if e.name not in keep]
                for entry in leftovers:
                    if os.path.isdir(entry) and not os.path.islink(entry):
                        shutil.rmtree(entry)
                    else:
                        os.unlink(entry)
        except (OSError, RecursionError):  # too deep, too odd: a fresh tmpfs instead
            if not self._private_run_root:
                raise
            self._remount_run_dirs()
        if self._private_run_root and self._used_inodes() != self._inodes:
            self._remount_run_dirs()  # something the scan could not see or remove

    def _used_inodes(self) -> int:
        st = os.statvfs(RUN_ROOT)
        return st.f_files - st.f_ffree

    def reap(self) -> None:
        """Kill and reap every process a run left in this PID namespace (we are its PID 1).
        With the uid drop a run cannot start any (RLIMIT_NPROC=0), so only the reaping is left."""
        if self.pid1 and self.strays_possible:
            try:
                os.kill(-1, 9)
            except OSError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, 0 if self.pid1 else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    # -- set-up ----------------------------------------------------------------------------
    @staticmethod
    def _make_run_dirs(root: str) -> dict[str, str]:
        paths = {name: f"{root}/{name}" for name in RUN_DIRS}
        for path in paths.values():
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o1777)
        return paths

    def _remount_run_dirs(self) -> None:
        for target in (*RUN_DIRS.values(), RUN_ROOT):
            _umount(target)
        self._size = None
        self._mount_run_root("")
        self._bind_run_dirs("")
        self._inodes = self._used_inodes()

    def _mount_run_root(self, stage: str) -> None:
        mount("tmpfs", stage + RUN_ROOT, "tmpfs", MS_NOSUID | MS_NODEV,
              "size=67108864,nr_inodes=4096,mode=0700")  # fmt: skip
        self._make_run_dirs(stage + RUN_ROOT)
        self._run_dirs = {name: f"{RUN_ROOT}/{name}" for name in RUN_DIRS}

    def _bind_run_dirs(self, stage: str) -> None:
        for name, target in RUN_DIRS.items():
            mount(f"{stage}{RUN_ROOT}/{name}", stage + target, None, MS_BIND)
            mount(None, stage + target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)


def enter(without: frozenset[str], view: View) -> Jail:
    """Set up every layer the host allows (minus ``without``); see the module docstring."""
    jail = Jail()
    root = os.geteuid() == 0
    if not root:
        jail.notes.append("not root: no namespaces, no filesystem view, no uid drop")
    got = {}
    for name, flag in CLONE.items():
        got[name] = root and name not in without and _libc.unshare(flag) == 0
        if root and not got[name] and name not in without:
            jail.notes.append(
                f"the kernel refused a {name} namespace: {os.strerror(ctypes.get_errno())}"
            )
    if got["pid"]:
        _become_pid1(jail)
    if got["ipc"]:
        got["ipc"] = _zero_ipc_limits(jail)
    if got["uts"]:
        _libc.sethostname(b"sandbox", 7)
    built = False
    if got["mount"]:
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        try:
            _build_view(jail, view, got["pid"])
            built = True
        except OSError as e:
            jail.notes.append(f"no filesystem view ({e}): the host filesystem stays visible")
    if not built:
        jail.host_dir = _private_dir()
        jail._run_dirs = jail._make_run_dirs(jail.host_dir)
    jail.layers = {
        "network_namespace": got["net"],
        "pid_namespace": got["pid"],
        "ipc_namespace": got["ipc"],
        "filesystem_view": built,
        "readonly_fs": built and not os.access("/", os.W_OK),
        "private_tmp": built,
    }
    return jail


def _private_dir() -> str:
    path = f"/tmp/stepcode-sbx-{os.urandom(8).hex()}"
    os.mkdir(path, 0o711)
    return path


def _become_pid1(jail: Jail) -> None:
    """Fork into the new PID namespace: the child is its PID 1 and goes on as the worker; this
    process only waits for it (and exits with it)."""
    pid = os.fork()
    if pid == 0:
        _libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: the worker dies with its waiting parent
        jail.pid1 = True
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)  # the pipes belong to the worker: its EOF must be the pool's EOF
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _zero_ipc_limits(jail: Jail) -> bool:
    limits = {"kernel/msgmni": "0", "kernel/shmmni": "0", "kernel/shmall": "0",
              "kernel/sem": "0 0 0 0", "fs/mqueue/queues_max": "0"}  # fmt: skip
    try:
        for key, value in limits.items():
            with open(f"/proc/sys/{key}", "w") as f:
                f.write(value)
    except OSError as e:
        jail.notes.append(f"IPC namespace without zero limits ({e}): SysV objects may persist")
        return False
    return True


def _stage(exposures: list[str]) -> str:
    for stage in _STAGES:
        if os.path.isdir(stage) and not any(p == stage or p.startswith(stage + "/")
                                            for p in exposures):  # fmt: skip
            return stage
    raise OSError(0, "no directory to assemble the new root in")


def _build_view(jail: Jail, view: View, own_proc: bool) -> None:
    """Assemble the new root on a tmpfs at a stage dir and enter it; if assembling fails, the
    stage is detached again and nothing has changed (the caller falls back to the host view)."""
    stage = _stage(view.paths)
    mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4194304,nr_inodes=8192")
    try:
        _assemble(jail, view, stage, own_proc)
    except OSError:
        _umount(stage)
        jail._keep.clear()
        raise
    _enter_root(stage)
    jail._private_run_root = True
    jail._inodes = jail._used_inodes()
    jail.exposed = view.paths
    try:
        mount(None, "/", None, MS_REMOUNT | MS_BIND | _RO)
    except OSError as e:  # the layer report reads the result (readonly_fs)
        jail.notes.append(f"the new root stayed writable: {e}")


def _assemble(jail: Jail, view: View, stage: str, own_proc: bool) -> None:
    def at(path: str) -> str:
        return stage + path

    for d in ("/etc", "/dev", "/proc", "/var", RUN_ROOT, *RUN_DIRS.values()):
        os.makedirs(at(d), exist_ok=True)
    os.chmod(at(RUN_ROOT), 0o700)
    jail._mount_run_root(stage)
    jail._bind_run_dirs(stage)
    for path in _distinct(view.paths):
        _expose(jail, stage, path)
    for link, target in view.links:
        if not os.path.lexists(at(link)):
            os.makedirs(os.path.dirname(at(link)), exist_ok=True)
            os.symlink(target, at(link))
    for path in view.hidden:  # inside an exposed tree (a checkout under /usr/local, ...): cover it
        if os.path.isdir(at(path)):
            mount("tmpfs", at(path), "tmpfs", _RO, "size=4096,nr_inodes=16")
    for name, text in (("passwd", _PASSWD), ("group", _GROUP), ("hosts", "127.0.0.1 localhost\n")):
        with open(at(f"/etc/{name}"), "w") as f:
            f.write(text)
    os.symlink("/tmp", at("/var/tmp"))
    for node in _DEV_NODES:
        open(at(f"/dev/{node}"), "w").close()
        mount(f"/dev/{node}", at(f"/dev/{node}"), None, MS_BIND)
        mount(None, at(f"/dev/{node}"), None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", at(f"/dev/{name}"))
    os.symlink("/proc/self/fd", at("/dev/fd"))
    opts = "hidepid=invisible,subset=pid" if own_proc else "hidepid=invisible"
    try:
        mount("proc", at("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts)
    except OSError:
        mount("proc", at("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")


def _distinct(paths: list[str]) -> list[str]:
    """Sorted, without a path inside another one on the same filesystem (one bind covers it)."""
    out: list[str] = []
    for path in sorted(set(paths)):
        parent = next((p for p in out if path.startswith(p.rstrip("/") + "/")), None)
        if parent is None or os.stat(path).st_dev != os.stat(parent).st_dev:
            out.append(path)
    return out


def _expose(jail: Jail, stage: str, path: str) -> None:
    """Bind ``path`` (a real path) read-only at the same place in the new root (a path under a
    run dir, an interpreter in /tmp, becomes a kept mount point inside that dir)."""
    dst = stage + path
    for name, target in RUN_DIRS.items():  # an interpreter under /tmp: a mount point in the run dir
        if path.startswith(target + "/"):
            jail._keep.setdefault(name, set()).add(path[len(target) + 1 :].split("/")[0])
    if os.path.isdir(path):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    _bind_ro(path, dst)


def _enter_root(stage: str) -> None:
    """``pivot_root`` into ``stage`` and detach the old root; ``chroot`` where that is refused."""
    old = stage + "/.old"
    os.mkdir(old)
    nr = SYS_PIVOT_ROOT.get(os.uname().machine)
    if nr is not None and _libc.syscall(nr, stage.encode(), old.encode()) == 0:
        os.chdir("/")
        _umount("/.old")
        os.rmdir("/.old")
    else:
        os.rmdir(old)
        os.chroot(stage)
        os.chdir("/")


def symlink_components(path: str) -> list[tuple[str, str]]:
    """``(link, target)`` for each symlink on the way to ``path`` (``/lib -> usr/lib``)."""
    out, cur = [], ""
    for part in path.strip("/").split("/"):
        cur += "/" + part
        if os.path.islink(cur):
            out.append((cur, os.readlink(cur)))
    return out
