"""The worker's seccomp filter: the kernel, not the worker's own Python, refuses what a
submission has no business doing.

The audit hook in ``worker.py`` runs inside the attacker's process: a submission can get past
it with ctypes, raw ``syscall()``, ``dir_fd`` tricks or libc. A seccomp filter cannot be
removed once loaded (only tightened), survives every trick in user space and applies to every
thread. The worker loads it after its libraries are imported and before the first line of
student code runs. Refused, with EPERM:

- new processes: ``fork``, ``vfork``, ``execve``, and ``clone`` without ``CLONE_THREAD``
  (threads stay allowed: torch and BLAS use them); ``clone3`` answers ENOSYS so that glibc
  falls back to ``clone``, whose flags the filter can read;
- other processes: ``ptrace``, ``process_vm_readv/writev``, pidfds, ``kcmp``, and ``kill``,
  ``tgkill`` or ``rt_*sigqueueinfo`` aimed at any process but the worker itself;
- leaving the process group or session: ``setsid``, ``setpgid``;
- sockets of any family (no network, no host unix sockets), ``io_uring`` (which would do I/O
  behind the filter's back), new namespaces, mounts, bpf, perf, keyrings, modules, reboot;
- System V shared memory, message queues and semaphores: they would outlive the worker in its
  IPC namespace, which a warm parent's next worker shares (``process.Zygote``).

Uses libseccomp (``libseccomp.so.2``, part of every Debian/Ubuntu/Fedora base system) through
ctypes; it knows each architecture's syscall numbers. The worker loads this file by path (it
imports nothing from the grader package); the grader imports it to ask ``available()``.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE = 1
SCMP_CMP_MASKED_EQ = 7
CLONE_THREAD = 0x00010000

DENIED = (
    "fork", "vfork", "execve", "execveat",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "kcmp",
    "tkill", "setsid", "setpgid",
    "socket", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "fsmount", "fsconfig", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon",
    "swapoff", "acct", "quotactl", "open_by_handle_at", "name_to_handle_at", "syslog", "ioperm", "iopl",
    "lookup_dcookie", "personality",
    "shmget", "shmat", "msgget", "msgsnd", "semget",
)
SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # first argument: the target's pid


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def _library():
    """Return libseccomp loaded through ctypes, or None where there is none."""
    name = "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        from ctypes.util import find_library  # slow (it may run ldconfig): only where the usual name fails

        found = find_library("seccomp")
        if not found:
            return None
        try:
            lib = ctypes.CDLL(found)
        except OSError:
            return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    return lib


def kernel_supports() -> bool:
    """True when this kernel filters system calls (Linux with CONFIG_SECCOMP_FILTER)."""
    try:
        with open("/proc/self/status") as f:
            return any(line.startswith("Seccomp:") for line in f)
    except OSError:
        return False


@functools.lru_cache(maxsize=None)
def available() -> str | None:
    """Return None when the filter can be loaded here, else why not (one line, with the fix).

    Asked at every worker start and for every report: found once per process."""
    if not kernel_supports():
        return "this system has no seccomp (Linux only)"
    lib = _library()
    if lib is None:
        return "libseccomp is not installed (apt-get install libseccomp2)"
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        return "libseccomp could not start a filter"
    lib.seccomp_release(ctx)
    return None


def _add(lib, ctx, action: int, name: str, *cmps: _ArgCmp) -> None:
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    if nr < 0:  # not a system call on this architecture (aarch64 has no fork, for one)
        return
    array = (_ArgCmp * len(cmps))(*cmps) if cmps else None
    rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), array)
    if rc < 0:
        raise OSError(-rc, f"seccomp: cannot add a rule for {name}: {os.strerror(-rc)}")


def install(pid: int | None = None) -> None:
    """Load the filter into this process (and every thread it starts); raise OSError if impossible.

    ``pid`` is the only process signals may be sent to (default: this one, as this process
    sees it: the worker's pid in its own pid namespace).
    """
    lib = _library()
    if lib is None or not kernel_supports():
        raise OSError(errno.ENOSYS, available() or "seccomp is not available")
    pid = os.getpid() if pid is None else pid
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    try:
        deny = _errno_action(errno.EPERM)
        for name in DENIED:
            _add(lib, ctx, deny, name)
        _add(lib, ctx, _errno_action(errno.ENOSYS), "clone3")
        _add(lib, ctx, deny, "clone", _ArgCmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0))  # a process, not a thread
        for name in SIGNALS:
            _add(lib, ctx, deny, name, _ArgCmp(0, SCMP_CMP_NE, pid, 0))
        rc = lib.seccomp_load(ctx)  # sets no_new_privs first (libseccomp's default)
        if rc < 0:
            raise OSError(-rc, f"seccomp_load failed: {os.strerror(-rc)}")
    finally:
        lib.seccomp_release(ctx)
