"""Workers forked by a warm parent (``process.Zygote``) are what fresh workers are.

A warm parent imports the exercise's libraries once and forks a worker per submission, one
at a time (batch grading, the test suite). Each fork must be indistinguishable from a fresh
worker for the submission (uid, limits, filter, view, its own empty /tmp), and nothing one
submission does may reach the next: what it writes is wiped, a worker that hangs or crashes
is killed and reported as a fresh one would be, and the next worker is clean.
"""

from __future__ import annotations

import platform

import pytest

from grader.sandbox import process
from grader.sandbox.process import Limits, isolation
from grader.sandbox.proxy import Abort, Submission

full = pytest.mark.skipif(not isolation(True).real,
                          reason=f"warm parents need the full sandbox, not available here ({isolation(True).missing})")
pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="the facts probe uses x86_64 system call numbers")

FACTS = r'''
import os, resource, sys, ctypes, errno

def facts():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    pid = libc.syscall(57)  # the raw fork system call (x86_64), past the audit hook
    if pid == 0:
        os._exit(0)
    fork = "allowed" if pid > 0 else errno.errorcode.get(ctypes.get_errno(), "?")
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    shm = libc.shmget(0, 4096, 0o1000 | 0o600)  # IPC_PRIVATE, IPC_CREAT
    try:
        open("/made-by-a-submission", "w")
        root = "writable"
    except OSError as e:
        root = errno.errorcode.get(e.errno, str(e.errno))
    return {
        "uid": [os.getuid(), os.geteuid(), os.getgid()], "groups": os.getgroups(),
        "cwd": os.getcwd(), "tmp": sorted(os.listdir("/tmp")), "home": os.environ.get("HOME"),
        "seccomp": status["Seccomp"].strip(), "no new privileges": status["NoNewPrivs"].strip(),
        "capabilities": status["CapEff"].strip(), "dumpable": libc.prctl(3, 0, 0, 0, 0),
        "limits": [resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU,
                                                   resource.RLIMIT_FSIZE, resource.RLIMIT_CORE)],
        "fork": fork, "sysv shm": "refused" if shm < 0 else "allowed", "root": root,
        "torch loaded": "torch" in sys.modules, "grader loaded": any(m.startswith("grader") for m in sys.modules),
        "open fds": len(os.listdir("/proc/self/fd")),
        "processes": sum(p.isdigit() for p in os.listdir("/proc")),
    }
'''

LEAVE = r'''
import os

def leave():
    os.makedirs("/tmp/left/deep", exist_ok=True)
    with open("/tmp/left/deep/secret.txt", "w") as f:
        f.write("answers")
    with open("/tmp/note", "w") as f:
        f.write("for the next one")
    os.chmod("/tmp/left/deep", 0)
    os.chmod("/tmp/left", 0)
    return sorted(os.listdir("/tmp"))
'''


@pytest.fixture
def warm():
    process.keep_warm(True)
    yield
    process.keep_warm(False)


def _run(code: str, function: str, *, preload=("torch",), limits: Limits | None = None):
    with Submission([{"filename": "submission.py", "code": code, "cell": None}], preload=preload,
                    limits=limits or Limits(call_timeout=5.0)) as sub:
        report = sub.ensure_loaded()
        assert not report.fatal and not report.errors, (report.fatal, report.errors)
        try:
            return getattr(sub, function)(), sub
        finally:
            sub.close()


def _parents() -> list[process.Zygote]:
    return [z for zygotes in process._IDLE.values() for z in zygotes]


@full
def test_a_worker_forked_warm_is_what_a_fresh_worker_is(warm):
    process.keep_warm(False)
    fresh, _ = _run(FACTS, "facts")
    process.keep_warm(True)
    first, _ = _run(FACTS, "facts")  # starts the warm parent
    forked, _ = _run(FACTS, "facts")  # a second fork of the same warm parent
    assert len(_parents()) == 1
    assert fresh["torch loaded"] and not fresh["grader loaded"]
    assert fresh["fork"] == "EPERM" and fresh["sysv shm"] == "refused" and fresh["root"] == "EROFS"
    assert fresh["seccomp"] == "2" and fresh["no new privileges"] == "1" and fresh["dumpable"] == 0
    assert fresh["capabilities"] == "0000000000000000" and fresh["tmp"] == []
    # it sees one process more than a fresh worker, its warm parent (which it can neither signal nor read)
    assert fresh["processes"] + 1 == first["processes"] == forked["processes"]
    for facts in (first, forked):
        facts["processes"] = fresh["processes"]
    assert forked == first == fresh


@full
def test_what_one_warm_worker_leaves_is_gone_for_the_next(warm):
    left, _ = _run(LEAVE, "leave")
    assert left == ["left", "note"]
    parent = _parents()
    facts, _ = _run(FACTS, "facts")
    assert _parents() == parent  # the same warm parent
    assert facts["tmp"] == []


@full
def test_a_warm_worker_stopped_at_its_time_limit_leaves_the_next_one_working(warm):
    with pytest.raises(Abort) as stopped:
        _run("def spin():\n    while True:\n        pass\n", "spin", limits=Limits(call_timeout=1.0))
    assert stopped.value.kind == "timeout" and "CPU time" in str(stopped.value)
    facts, _ = _run(FACTS, "facts")
    assert facts["tmp"] == [] and facts["seccomp"] == "2"
    assert len(_parents()) == 1


@full
@pytest.mark.parametrize("crash", ["os._exit(3)", "ctypes.string_at(0)", "ctypes.CDLL(None).abort()"])
def test_a_crashing_warm_worker_is_reported_as_a_fresh_one_is(warm, crash):
    code = f"import os, ctypes\n\ndef crash():\n    {crash}\n"
    messages = []
    for keep in (False, True):
        process.keep_warm(keep)
        with pytest.raises(Abort) as died:
            _run(code, "crash")
        messages.append(str(died.value))
    assert messages[0] == messages[1], messages
    assert "exited with status 3" in messages[0] or "SIGSEGV" in messages[0] or "SIGABRT" in messages[0]
    facts, _ = _run(FACTS, "facts")  # the warm parent carries on
    assert facts["tmp"] == []


@full
def test_a_warm_parent_dies_with_the_process_that_started_it_and_is_not_a_workers_target():
    """A submission cannot signal its warm parent (seccomp) nor read it (not dumpable)."""
    process.keep_warm(True)
    try:
        code = ("import os, signal\n\ndef hit():\n    out = []\n    for pid in range(1, 50):\n"
                "        if pid == os.getpid():\n            continue\n        try:\n"
                "            os.kill(pid, signal.SIGKILL)\n            out.append(('killed', pid))\n"
                "        except OSError:\n            pass\n        try:\n"
                "            open(f'/proc/{pid}/mem', 'rb').read(1)\n            out.append(('read', pid))\n"
                "        except OSError:\n            pass\n    return out\n")
        hit, _ = _run(code, "hit")
        assert hit == []
        (parent,) = _parents()
        assert parent.proc.poll() is None
        facts, _ = _run(FACTS, "facts")
        assert facts["seccomp"] == "2"
    finally:
        process.keep_warm(False)
    assert parent.proc.poll() is not None  # stopped with keep_warm(False)
