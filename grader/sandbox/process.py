"""Start, talk to and kill the worker process that runs a submission.

The worker is a fresh ``python -I`` running ``worker.py`` in its own session and process
group, under resource limits (address space, CPU time, file size, processes). Where
bubblewrap is installed it also gets no network, a private /tmp, its own pid namespace and
no view of the grader's installation (reference, solutions, checks, tests); without it the
worker's audit hook blocks the same files, processes and sockets from inside, and the
report says the sandbox is reduced.

Every request has a wall-clock deadline. A worker that misses it, dies, or garbles the
channel is killed with its whole process group; the caller gets a ``WorkerLost`` subclass
and may start a new one.
"""

from __future__ import annotations

import functools
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol

HERE = Path(__file__).resolve().parent
WORKER_FILES = ("worker.py", "protocol.py", "probes.py")


@dataclass
class Limits:
    """Resource limits for one submission's worker."""

    call_timeout: float = 10.0  # seconds of wall clock for one call into the submission
    check_timeout: float = 10.0  # seconds of wall clock for all calls of one check
    exercise_timeout: float = 300.0  # seconds for the whole exercise
    load_timeout: float = 30.0  # seconds to start the worker and run the file's top level
    memory: int = 4 << 30  # bytes of address space
    cpu: int = 900  # seconds of CPU time for the worker's life
    fsize: int = 64 << 20  # bytes in any file the worker writes
    nproc: int = 256  # processes of the user (ignored for root; the audit hook blocks forks anyway)
    output: int = 64 << 10  # bytes of the submission's printed output kept for the report


class WorkerLost(Exception):
    """The worker is gone (killed after a timeout, crashed, exited, or broke the protocol)."""

    kind = "crash"


class WorkerTimeout(WorkerLost):
    kind = "timeout"


class WorkerDied(WorkerLost):
    kind = "crash"


class WorkerProtocolError(WorkerLost):
    kind = "protocol"


@functools.lru_cache(maxsize=None)
def bwrap_path() -> str | None:
    """Return the bubblewrap binary if it is installed and works here (else None)."""
    if os.environ.get("GRADER_NO_BWRAP"):
        return None
    path = shutil.which("bwrap")
    if not path:
        return None
    try:
        r = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--proc", "/proc",
                            "--dev", "/dev", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if r.returncode == 0 else None


def installation_paths() -> list[str]:
    """Return the grader's own folders that a submission has no business reading."""
    import importlib.util

    paths = []
    for name in ("grader", "reference", "solutions"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            paths.extend(spec.submodule_search_locations)
    root = HERE.parent.parent  # a checkout: reference/, solutions/, tests/ beside grader/
    if (root / "pyproject.toml").exists():
        paths.extend(str(root / d) for d in ("reference", "solutions", "tests", "grader", "exercises"))
    seen, out = set(), []
    for p in paths:
        rp = os.path.realpath(p)
        if os.path.isdir(rp) and rp not in seen:
            seen.add(rp)
            out.append(rp)
    return out


def _search_path(hidden: list[str]) -> list[str]:
    """Return this interpreter's module folders for the worker, which starts without ``site``.

    The same folders the submission would see after ``site`` ran (site-packages, and what
    ``.pth`` files added), minus the grader's own and the current directory.
    """
    out = []
    for p in sys.path:
        if not p or not os.path.isabs(p) or not os.path.isdir(p):
            continue
        real = os.path.realpath(p)
        if any(real == h or real.startswith(h + os.sep) for h in hidden):
            continue
        out.append(p)
    return out


def _python_paths_under_tmp() -> list[str]:
    """Return the interpreter's own folders that live under /tmp (hidden by the private /tmp)."""
    candidates = [sys.prefix, sys.exec_prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
                  os.path.dirname(sys.executable), *sys.path]
    out = []
    for p in candidates:
        if p and os.path.isdir(p):
            for q in {os.path.abspath(p), os.path.realpath(p)}:
                if q.startswith("/tmp/") and not any(q.startswith(o + "/") or q == o for o in out):
                    out.append(q)
    return sorted(out, key=len)


@dataclass
class WorkerProcess:
    """One worker: ``start()`` it, ``request()`` as often as needed, ``close()`` it."""

    limits: Limits = field(default_factory=Limits)
    preload: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()  # extra folders to hide (batch mode: the other submissions)
    sandbox: bool = True  # use bubblewrap when it is available
    threads: int = 1

    def __post_init__(self):
        self.proc: subprocess.Popen | None = None
        self.reader = protocol.FrameReader()
        self._out = bytearray()
        self._out_total = 0
        self._drain: threading.Thread | None = None
        self._tmp: str | None = None
        self.bwrap = bwrap_path() if self.sandbox else None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the worker process (returns at once; the first request waits for it)."""
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        self._tmp = tempfile.mkdtemp(prefix="grade-worker-")
        hidden = list(dict.fromkeys([*installation_paths(), *map(os.path.realpath, self.hidden)]))
        config = {
            "limits": {"memory": self.limits.memory, "cpu": self.limits.cpu, "fsize": self.limits.fsize,
                       "nproc": self.limits.nproc},
            "preload": list(self.preload),
            "hidden": hidden,
            "path": _search_path(hidden),
        }
        import json

        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self._tmp, "TMPDIR": self._tmp,
            "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads),
            "OPENBLAS_NUM_THREADS": str(self.threads), "NUMEXPR_NUM_THREADS": str(self.threads),
            "MPLBACKEND": "Agg", "GRADER_PARENT": str(os.getpid()),  # see tagged_processes()
        }
        if self.bwrap:
            inside = "/tmp/.grader"
            cmd = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                   "--unshare-all", "--die-with-parent", "--new-session"]
            for path in _python_paths_under_tmp():  # a virtualenv in /tmp must stay visible
                cmd += ["--ro-bind", path, path]
            for path in hidden:
                cmd += ["--tmpfs", path]
            for name in WORKER_FILES:
                if (HERE / name).exists():
                    cmd += ["--ro-bind", str(HERE / name), f"{inside}/{name}"]
            cmd += ["--chdir", "/tmp", "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp", "--",
                    sys.executable, "-I", "-S", f"{inside}/worker.py"]
            cwd = "/"
        else:
            cmd = [sys.executable, "-I", "-S", str(HERE / "worker.py")]
            cwd = self._tmp
        cmd += [str(to_worker_r), str(from_worker_w), json.dumps(config)]
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, cwd=cwd, env=env,
                pass_fds=(to_worker_r, from_worker_w), start_new_session=True, close_fds=True,
            )
        finally:
            for fd in (to_worker_r, from_worker_w, out_w):
                os.close(fd)
        self._wfd, self._rfd = to_worker_w, from_worker_r
        os.set_blocking(self._wfd, False)
        self._drain = threading.Thread(target=self._drain_output, args=(out_r,), daemon=True)
        self._drain.start()

    def _drain_output(self, fd: int) -> None:
        """Read the submission's prints so it never blocks; keep only the first part."""
        with os.fdopen(fd, "rb", buffering=0) as f:
            while True:
                try:
                    chunk = f.read(65536)
                except OSError:
                    break
                if not chunk:
                    break
                self._out_total += len(chunk)
                room = self.limits.output - len(self._out)
                if room > 0:
                    self._out += chunk[:room]

    @property
    def output(self) -> str:
        """What the submission printed so far (truncated to ``limits.output`` bytes)."""
        text = self._out.decode("utf-8", "replace")
        if self._out_total > len(self._out):
            text += f"\n… ({self._out_total - len(self._out):,} more bytes not shown)"
        return text

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Kill the worker and everything it started; idempotent."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self._wfd, self._rfd):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._drain is not None:
            self._drain.join(timeout=2)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._exit = proc.returncode

    # ------------------------------------------------------------------ requests

    def request(self, message: dict, blobs: list[bytes] | None = None, *, timeout: float) -> tuple[dict, list[bytes]]:
        """Send one request and return the decoded reply frame, or raise ``WorkerLost``."""
        if self.proc is None:
            raise WorkerDied("the worker is not running")
        deadline = time.monotonic() + timeout
        data = memoryview(protocol.pack(message, blobs or []))
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._lost(WorkerTimeout, timeout)
            _, w, _ = select.select([], [self._wfd], [], remaining)
            if w:
                try:
                    n = os.write(self._wfd, data)
                except BrokenPipeError:
                    self._lost(WorkerDied, timeout)
                data = data[n:]
        while True:
            try:
                frame = self.reader.take()
            except protocol.ProtocolError as e:
                self._lost(WorkerProtocolError, timeout, str(e))
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._lost(WorkerTimeout, timeout)
            r, _, _ = select.select([self._rfd], [], [], remaining)
            if r:
                chunk = os.read(self._rfd, 1 << 20)
                if not chunk:
                    self._lost(WorkerDied, timeout)
                try:
                    self.reader.feed(chunk)
                except protocol.ProtocolError as e:
                    self._lost(WorkerProtocolError, timeout, str(e))

    def _lost(self, cls, timeout: float, detail: str = ""):
        proc = self.proc
        if cls is WorkerDied and proc is not None:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        code = proc.poll() if proc is not None else None
        self.close()
        if cls is WorkerTimeout:
            raise WorkerTimeout(f"did not finish within {timeout:g} s (an endless loop, or far too slow?)")
        if cls is WorkerProtocolError:
            raise WorkerProtocolError(f"the submission interfered with the grader's channel ({detail})")
        raise WorkerDied(describe_exit(code, via_bwrap=bool(self.bwrap)))


def tagged_processes() -> dict[int, int]:
    """Every live process a worker of this machine's graders started, as {pid: the grading
    process's pid} read from its GRADER_PARENT tag: what batch grading kills with a grading
    child, and what the tests check is gone. Linux only (reads /proc); elsewhere empty."""
    found = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            tags = [e for e in env if e.startswith(b"GRADER_PARENT=")]
            if tags and tags[0][len(b"GRADER_PARENT="):].isdigit():
                found[int(entry)] = int(tags[0][len(b"GRADER_PARENT="):])
    return found


def describe_exit(code: int | None, via_bwrap: bool = False) -> str:
    """Return a sentence saying how the worker process ended.

    bubblewrap reports a child killed by signal N as exit status 128 + N.
    """
    if code is None:
        return "the process running your code stopped answering"
    if via_bwrap and code > 128 and (code - 128) in signal.Signals._value2member_map_:
        code = -(code - 128)
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        if sig == signal.SIGKILL:
            return "the process running your code was killed (SIGKILL: out of memory?)"
        if sig == signal.SIGXCPU:
            return "the process running your code used up its CPU time limit"
        if sig == signal.SIGSEGV:
            return "the process running your code crashed (SIGSEGV: a segmentation fault)"
        if sig == signal.SIGXFSZ:
            return "the process running your code wrote a file larger than allowed"
        return f"the process running your code was ended by {name}"
    return f"the process running your code exited with status {code} (os._exit or a crash of the interpreter)"
