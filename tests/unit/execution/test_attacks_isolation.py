"""Runs against each other and against the host: signals, IPC, keyrings, leftovers in /tmp and
/dev/shm, tmpfs exhaustion, host files and processes, host unix sockets. Each attack fails and
the batch around it comes back whole; each test skips where the host lacks the layer."""

from __future__ import annotations

import ast
import os
import socket
import uuid
from pathlib import Path

import pytest
from attack_kit import FAST, batch_around, need

import stepcode
from stepcode.execution import Job, SandboxPool, run_jobs
from stepcode.types import ExecStatus, Limits

LIBC = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"


def _value(run) -> object:
    assert run.result.status is ExecStatus.OK, run.result
    return ast.literal_eval(run.result.return_value)


def test_a_run_cannot_signal_list_or_ptrace_a_run_in_another_worker():
    need("pid_namespace", "seccomp")
    victim = Job(code="import time\ntime.sleep(1.5)\nprint('alive')", limits=FAST)
    attack = Job(
        code=LIBC + (
            "me = os.getpid()\nsent = 0\n"
            "for pid in range(1, 1 << 15):\n"
            "    if pid != me:\n"
            "        try:\n            os.kill(pid, 9)\n            sent += 1\n"
            "        except OSError:\n            pass\n"
            "try:\n    os.kill(-1, 9)\nexcept OSError:\n    pass\n"
            "traced = [libc.ptrace(16, pid, 0, 0) for pid in (1, 2, 3)]\n"
            "errno = ctypes.get_errno()\n"
        ),
        call="(sent, sorted(os.listdir('/proc')), traced, errno)",
        limits=Limits(timeout_s=5),
    )  # fmt: skip
    with SandboxPool(2) as pool:
        runs = run_jobs([victim, attack], pool=pool)
    assert runs[0].result.status is ExecStatus.OK and runs[0].result.stdout == "alive\n"
    sent, procs, traced, errno = _value(runs[1])
    assert sent == 0  # there was nothing to signal: the worker (PID 1) is not even visible
    assert len([p for p in procs if p.isdigit()]) == 1  # itself only
    assert traced == [-1, -1, -1] and errno == 1  # EPERM from the filter


def test_sysv_objects_and_message_queues_cannot_outlive_a_run(pool1):
    need("ipc_namespace")
    create = Job(code=LIBC + (
        "made = [libc.msgget(4242, 0o1666), libc.shmget(4243, 4096, 0o1666),\n"
        "        libc.semget(4244, 1, 0o1666), libc.mq_open(b'/stepcode', 0o102, 0o666, None)]\n"
    ), call="made", limits=FAST)  # fmt: skip
    look = Job(code=LIBC + (
        "found = [libc.msgget(4242, 0), libc.shmget(4243, 0, 0), libc.semget(4244, 0, 0),\n"
        "         libc.mq_open(b'/stepcode', 0)]\n"
    ), call="found", limits=FAST)  # fmt: skip
    made, found = batch_around([create, look], pool1)
    assert _value(made) == [-1, -1, -1, -1]  # no SysV or POSIX queue can be created at all
    assert _value(found) == [-1, -1, -1, -1]


def test_kernel_keyrings_are_out_of_reach(pool1):
    need("seccomp")
    add = (
        LIBC
        + "r = libc.syscall(248, b'user', b'stepcode', b'secret', 6, -4)\ne = ctypes.get_errno()\n"
    )
    find = LIBC + "r = libc.syscall(250, 10, -4, b'user', b'stepcode', 0)\ne = ctypes.get_errno()\n"
    put, got = batch_around([Job(code=add, call="(r, e)", limits=FAST),
                             Job(code=find, call="(r, e)", limits=FAST)], pool1)  # fmt: skip
    assert _value(put) == (-1, 1) and _value(got) == (-1, 1)  # EPERM: add_key / keyctl denied


LEAVE = """
import os, socket
open('/tmp/left', 'w').write('x')
open('/dev/shm/left', 'w').write('x')
open('left-in-cwd', 'w').write('x')
os.mkfifo('/tmp/fifo')
os.symlink('/etc/passwd', '/tmp/link')
os.mkdir('/dev/shm/locked')
open('/dev/shm/locked/x', 'w').write('x')
os.chmod('/dev/shm/locked', 0)
s = socket.socket(socket.AF_UNIX)
s.bind('/tmp/sock')
held = open('/tmp/unlinked', 'w')
held.write('x' * 1000)
os.unlink('/tmp/unlinked')
os.mkdir('/tmp/deep')
os.chdir('/tmp/deep')
for _ in range(1500):  # deeper than a recursive clean-up can go
    os.mkdir('d')
    os.chdir('d')
"""
LOOK = "import os\n"
SEEN = "(os.listdir('/tmp'), os.listdir('/dev/shm'), os.listdir('.'), os.statvfs('/tmp').f_bfree)"


def test_files_in_tmp_shm_and_cwd_are_gone_before_the_next_run(pool1):
    need("private_tmp")
    empty = Job(code=LOOK, call=SEEN, limits=FAST)
    before, leave, after = batch_around([empty, Job(code=LEAVE, limits=FAST), empty], pool1)
    assert leave.result.status is ExecStatus.OK, leave.result
    tmp, shm, cwd, free = _value(after)
    assert (tmp, shm, cwd) == ([], [], [])
    assert free == _value(before)[3]  # every block is back


def test_garbage_on_the_result_pipe_does_not_skip_the_clean_up(pool1):
    need("private_tmp")
    dirty = Job(code="import os\nopen('/tmp/x', 'w').write('x')\nos.write(3, b'\\xff' * 100)",
                limits=FAST)  # fmt: skip
    crashed, after = batch_around([dirty, Job(code=LOOK, call=SEEN, limits=FAST)], pool1)
    assert crashed.result.status is ExecStatus.CRASH
    assert _value(after)[:3] == ([], [], [])


def test_a_run_cannot_fill_the_tmpfs_for_the_next_one(pool1):
    need("private_tmp")
    small = Limits(timeout_s=3, tmpfs_mb=8)
    fill = Job(code=(
        "import os\nn = 0\ntry:\n"
        "    while True:\n"
        "        with open(f'/tmp/f{n}', 'wb') as f:\n            f.write(b'x' * (1 << 19))\n"
        "        n += 1\n"
        "except OSError as e:\n    why = e.errno\n"
        "try:\n    for i in range(10**6):\n        open(f'/dev/shm/i{i}', 'w').close()\n"
        "except OSError as e:\n    inodes = i\n"
    ), call="(n, why, inodes)", limits=small)  # fmt: skip
    use = Job(code="open('/tmp/big', 'wb').write(b'x' * (1 << 20))\nopen('/dev/shm/s', 'w')",
              call="1", limits=small)  # fmt: skip
    filled, used = batch_around([fill, use], pool1)
    n, why, inodes = _value(filled)
    assert why == 28 and n * (1 << 19) <= 8 << 20  # ENOSPC within the run's own 8 MiB
    assert inodes < 8 * 64 + 8
    assert used.result.status is ExecStatus.OK


def test_the_host_filesystem_and_process_table_are_not_there():
    need("filesystem_view", "pid_namespace")
    package = Path(stepcode.__file__).resolve().parent
    private = [str(package), str(package.parent), str(Path.cwd()), "/work", "/home", "/etc/shadow",
               "/root/.bashrc", "/var/run", "/run", "/sys", "/proc/1", "/dev/sda", "/dev/vda",
               str(Path(__file__).resolve())]  # fmt: skip
    probe = Job(
        code="import os", call=f"[p for p in {private!r} if os.path.exists(p)]", limits=FAST
    )
    procs = Job(code="import os", call="(os.getpid(), sorted(os.listdir('/proc')))", limits=FAST)
    host, table = batch_around([probe, procs])
    assert _value(host) == []
    me, listed = _value(table)
    assert [p for p in listed if p.isdigit()] == [str(me)]  # itself; not even the worker


def test_the_view_holds_the_interpreter_and_nothing_writable():
    need("filesystem_view", "readonly_fs")
    import json

    site = Path(json.__file__).parent
    probe = Job(code=f"open({str(site / 'x.py')!r}, 'w')", limits=FAST)
    imports = Job(code="import numpy, decimal, zoneinfo", call="zoneinfo.ZoneInfo('UTC').key",
                  limits=Limits(timeout_s=20))  # fmt: skip
    ro, ok = batch_around([probe, imports])
    assert ro.result.status is ExecStatus.ERROR and "Read-only file system" in ro.result.error
    assert _value(ok) == "UTC"


def test_unix_sockets_on_the_host_are_unreachable(tmp_path):
    need("filesystem_view", "network_namespace")
    path = f"/tmp/stepcode-{uuid.uuid4().hex[:8]}.sock"
    abstract = f"\0stepcode-{uuid.uuid4().hex}"
    servers = []
    for addr in (path, abstract):
        s = socket.socket(socket.AF_UNIX)
        s.bind(addr)
        s.listen()
        servers.append(s)
    try:
        attack = Job(code=(
            "import socket\nout = []\n"
            f"for addr in ({path!r}, {abstract!r}):\n"
            "    s = socket.socket(socket.AF_UNIX)\n"
            "    try:\n        s.connect(addr)\n        out.append('connected')\n"
            "    except OSError as e:\n        out.append(type(e).__name__)\n"
        ), call="out", limits=FAST)  # fmt: skip
        (run,) = batch_around([attack])
        assert "connected" not in _value(run)
    finally:
        for s in servers:
            s.close()
        os.unlink(path)


@pytest.mark.parametrize("code", ["import os\nos.execv('/bin/sh', ['sh', '-c', 'echo pwned'])",
                                  "import ctypes\nctypes.CDLL(None).system(b'echo pwned')"])  # fmt: skip
def test_shells_are_not_there_to_run(code):
    need("filesystem_view")
    (run,) = batch_around([Job(code=code, limits=FAST)])
    assert "pwned" not in run.result.stdout
