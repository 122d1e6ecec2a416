"""A seccomp filter for the sandbox worker and every run it forks (stdlib only, via ctypes).

Installed once per worker, after its own set-up; children inherit it, so it costs a run nothing
but a few BPF instructions per system call. Denied (``EPERM``): reaching other processes
(``ptrace``, ``process_vm_readv/writev``, ``pidfd_getfd``, ``process_madvise``, ``kcmp``,
``migrate_pages``, ``move_pages``), the kernel keyrings (``keyctl``, ``add_key``,
``request_key``: a uid's keyrings outlive its processes, so one run could leave keys for the
next), new or other namespaces (``unshare``, ``setns``, ``clone`` with a ``CLONE_NEW*`` flag;
``clone3`` answers ``ENOSYS``, so libc falls back to ``clone``), and kernel surface no program
needs (``bpf``, ``perf_event_open``, ``userfaultfd``, ``io_uring_*``, the new mount API,
module loading, ``kexec``, ``acct``, ``swapon``, ``reboot``, ``syslog``, handles by inode).
System calls of another ABI (x32, i386 through ``int 0x80``) are denied as a whole.

``mount`` itself stays allowed: the worker remounts the run's tmpfs between runs, and a run
(``nobody``, no capabilities, no new user namespace) cannot mount anything.
"""

from __future__ import annotations

import ctypes
import os

_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_DENY = {
    "x86_64": (101, 310, 311, 438, 440, 312, 256, 279, 250, 248, 249, 272, 308, 321, 298, 323,
               425, 426, 427, 428, 429, 430, 431, 432, 433, 442, 175, 313, 176, 246, 320, 163,
               167, 168, 169, 103, 153, 134, 212, 179, 304),
    "aarch64": (117, 270, 271, 438, 440, 272, 238, 239, 219, 217, 218, 97, 268, 280, 241, 282,
                425, 426, 427, 428, 429, 430, 431, 432, 433, 442, 105, 273, 106, 104, 294, 89,
                224, 225, 142, 116, 58, 18, 60, 265),
}  # fmt: skip
_CLONE = {"x86_64": (56, 435), "aarch64": (220, 435)}
_CLONE_NEW = 0x7E020000  # NEWNS NEWCGROUP NEWUTS NEWIPC NEWUSER NEWPID NEWNET
_X32 = 0x40000000

_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]  # fmt: skip


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def _program(machine: str) -> list[tuple[int, str | int, str | int, int]]:
    """BPF as ``(code, jump-if-true, jump-if-false, k)``; jumps name labels or are 0."""
    clone, clone3 = _CLONE[machine]
    prog: list[tuple[int, str | int, str | int, int]] = [
        (_LD_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 0, "deny", _ARCH[machine]),
        (_LD_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if machine == "x86_64":
        prog.append((_JGE, "deny", 0, _X32))
    prog += [(_JEQ, "deny", 0, nr) for nr in _DENY[machine]]
    prog += [
        (_JEQ, "clone", 0, clone),
        (_JEQ, "enosys", 0, clone3),
        (_RET, 0, 0, _ALLOW),
        ("clone", _LD_ABS, 0, 0, 16),  # type: ignore[list-item]  # args[0] (low word): flags
        (_JSET, "deny", 0, _CLONE_NEW),
        (_RET, 0, 0, _ALLOW),
        ("deny", _RET, 0, 0, _ERRNO | _EPERM),  # type: ignore[list-item]
        ("enosys", _RET, 0, 0, _ERRNO | _ENOSYS),  # type: ignore[list-item]
    ]  # BPF jumps only go forward: the shared returns come last
    return prog


def _assemble(prog: list) -> list[tuple[int, int, int, int]]:
    labels, flat = {}, []
    for insn in prog:
        if isinstance(insn[0], str):
            labels[insn[0]] = len(flat)
            insn = insn[1:]
        flat.append(insn)
    out = []
    for i, (code, jt, jf, k) in enumerate(flat):
        jt = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - i - 1 if isinstance(jf, str) else jf
        assert 0 <= jt < 256 and 0 <= jf < 256, "BPF jump out of range"
        out.append((code, jt, jf, k))
    return out


def supported() -> bool:
    return os.uname().machine in _ARCH


def install() -> None:
    """Install the filter on this process (and so on every process it forks from now on)."""
    machine = os.uname().machine
    if machine not in _ARCH:
        raise OSError(0, f"no seccomp filter for {machine}")
    insns = _assemble(_program(machine))
    arr = (_Insn * len(insns))(*[_Insn(*i) for i in insns])
    prog = _Prog(len(insns), ctypes.cast(arr, ctypes.POINTER(_Insn)))
    libc = ctypes.CDLL(None, use_errno=True)
    for args in ((PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
                 (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0)):  # fmt: skip
        if libc.prctl(*[ctypes.c_ulong(a) for a in args]) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl({args[0]}): {os.strerror(err)}")
