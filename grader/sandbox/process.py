"""Start, talk to and kill the worker process that runs a submission.

The worker is a fresh ``python -I -S`` running ``worker.py`` in its own session and process
group, under resource limits (address space, CPU time, file size, processes) and, loaded by
itself before any student code runs, a seccomp filter (``seccomp.py``). With bubblewrap it
also gets an allow-list view of the machine (``view_arguments``: the system's libraries and
the interpreter read-only, a private size-limited /tmp, nothing else), its own pid, network,
ipc and uts namespaces, and its own uid. That is the full sandbox (``isolation().real``),
which official grading requires (``require_isolation``); without bubblewrap the worker's
audit hook hides the grader's files from inside, a second line of defence only.

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

from . import IsolationError, protocol

HERE = Path(__file__).resolve().parent
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
WORKER_FILES = ("worker.py", "protocol.py", "probes.py", "seccomp.py")


@dataclass
class Limits:
    """Resource limits for one submission's worker."""

    call_timeout: float = 10.0  # seconds of CPU time for one call into the submission
    wall_factor: float = 5.0  # a call may take this many times call_timeout of wall clock (a busy machine, waiting)
    check_timeout: float = 10.0  # seconds of wall clock for all calls of one check
    exercise_timeout: float = 300.0  # seconds for the whole exercise
    load_timeout: float = 30.0  # seconds to start the worker and run the file's top level
    memory: int = 4 << 30  # bytes of address space
    cpu: int = 900  # seconds of CPU time for the worker's life
    fsize: int = 64 << 20  # bytes in any file the worker writes
    nproc: int = 256  # processes of the user (ignored for root; the audit hook blocks forks anyway)
    output: int = 64 << 10  # bytes of the submission's printed output kept for the report
    tmp: int = 256 << 20  # bytes in the worker's private /tmp (bubblewrap; a tmpfs lives in RAM)


class WorkerLost(Exception):
    """The worker is gone (killed after a timeout, crashed, exited, or broke the protocol)."""

    kind = "crash"


class WorkerTimeout(WorkerLost):
    kind = "timeout"

    def __init__(self, message: str, *, cpu: float = 0.0, wall: float = 0.0, cpu_limit: float | None = None,
                 peak_memory: int = 0):
        super().__init__(message)
        self.cpu, self.wall, self.cpu_limit, self.peak_memory = cpu, wall, cpu_limit, peak_memory

    @property
    def cpu_bound(self) -> bool:
        """Ran out of CPU time (a loop), rather than out of wall-clock time while waiting."""
        return self.cpu_limit is not None and self.cpu >= self.cpu_limit


class WorkerDied(WorkerLost):
    kind = "crash"


class WorkerProtocolError(WorkerLost):
    kind = "protocol"


SETUP_FAILED = 75  # the worker's exit status when it cannot drop its uid or load its seccomp filter
WORKER_UID = 65534  # "nobody": the worker's uid when the grader runs as root (GRADER_WORKER_UID overrides)


@functools.lru_cache(maxsize=None)
def bwrap_path() -> str | None:
    """Return the bubblewrap binary if it is installed and works here (else None)."""
    if os.environ.get("GRADER_NO_BWRAP"):
        return None
    path = shutil.which("bwrap")
    if not path:
        return None
    try:
        r = subprocess.run([path, "--ro-bind", "/", "/", *_unshare(), "--die-with-parent", "--proc", "/proc",
                            "--dev", "/dev", "--size", "1048576", "--tmpfs", "/tmp", "true"],
                           capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if r.returncode == 0 else None


def _unshare() -> list[str]:
    """bubblewrap's namespace options. As root no user namespace: the worker drops to
    ``worker_uid()`` itself, a uid of its own on the host; otherwise a user namespace (the
    worker is uid 65534 inside, the grader's uid outside, and sees no process or file of it)."""
    if os.geteuid() == 0:
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return ["--unshare-all", "--uid", "65534", "--gid", "65534"]


def worker_uid() -> int | None:
    """The uid the worker drops to (the grader runs as root and bubblewrap works), else None."""
    if os.geteuid() != 0 or not bwrap_path():
        return None
    return int(os.environ.get("GRADER_WORKER_UID", WORKER_UID))


@dataclass(frozen=True)
class Isolation:
    """What separates a worker from the grader and the machine, in one grading mode."""

    namespaces: bool  # bubblewrap: allow-list view, own pid/net/ipc namespaces, private size-limited /tmp
    seccomp: bool  # the kernel's system call filter
    uid: int | None  # the worker's own uid on the host (the grader runs as root)
    missing: str = ""  # what is lacking for real isolation, with the fix ("" when real)

    @property
    def real(self) -> bool:
        return self.namespaces and self.seccomp

    def describe(self) -> str:
        """One line for reports (``grade -v``, the JSON's ``sandbox``)."""
        if self.real:
            who = f", uid {self.uid}" if self.uid is not None else ", user namespace"
            return f"bubblewrap (allow-list view, own namespaces{who}) + seccomp"
        return f"reduced: {self.missing}; the worker runs under resource limits" + (
            ", a seccomp filter" if self.seccomp else "") + " and an audit hook"


def isolation(sandbox: bool = True) -> Isolation:
    """Return the isolation a worker gets here with ``sandbox`` on or off."""
    from . import seccomp

    no_filter = seccomp.available()
    if not sandbox:
        return Isolation(False, no_filter is None, None, "the sandbox is disabled with --no-sandbox")
    namespaces = bwrap_path() is not None
    missing = []
    if not namespaces:
        missing.append("bubblewrap (0.7 or later) is not installed or cannot create namespaces here "
                       "(apt-get install bubblewrap)")
    if no_filter:
        missing.append(no_filter)
    return Isolation(namespaces, no_filter is None, worker_uid(), "; ".join(missing))


def require_isolation(sandbox: bool = True, *, allow_unsafe: bool = False) -> Isolation:
    """Return the isolation for official grading; raise IsolationError (one line, with the fix)
    when it is not real and the caller did not explicitly accept that."""
    iso = isolation(sandbox)
    if not iso.real and not allow_unsafe:
        raise IsolationError(f"official grading needs the full sandbox (bubblewrap and seccomp), and here {iso.missing} "
                             "— fix that, or pass --allow-unsafe-sandbox to grade without it (a submission could "
                             "then forge its grade)")
    return iso


@functools.lru_cache(maxsize=None)
def protect_grader() -> None:
    """Make this grading process non-dumpable: no process of the same uid may ptrace it or open
    its /proc/PID/{mem,environ,fd} (a worker writing a forged result into the grader's pipes)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


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

    The interpreter's own folders and every ``site-packages``/``dist-packages`` (what ``site``
    would add), minus the grader's own. Not the script's folder or the current directory
    (``python -m``, pytest): that is the instructor's checkout or home, which the worker's
    view must not contain; nor a folder an editable install's ``.pth`` added (its package
    would be invisible to a submission, which is fine).
    """
    prefixes = {os.path.realpath(x) for x in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    out = []
    for p in sys.path:
        if not p or not os.path.isabs(p) or not (os.path.isdir(p) or os.path.isfile(p)):
            continue
        real = os.path.realpath(p)
        if any(real == h or real.startswith(h + os.sep) for h in hidden):
            continue
        packages = os.path.basename(real) in ("site-packages", "dist-packages")
        if packages or any(real.startswith(x + os.sep) for x in prefixes if x != "/"):
            out.append(p)
    return out


SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")


def _python_roots(path: list[str]) -> list[str]:
    """Return the folders the worker's interpreter and its packages live in (read-only in its view)."""
    exe = os.path.realpath(sys.executable)
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.dirname(exe)), *path]
    roots: list[str] = []
    for p in sorted({os.path.realpath(c) for c in candidates if c and os.path.isdir(c)}, key=len):
        if p in ("/", "/usr") or p.startswith("/usr/"):
            continue  # /usr is in the view already
        if not any(p == r or p.startswith(r + os.sep) for r in roots):
            roots.append(p)
    return roots


def view_arguments(path: list[str], hidden: list[str], tmp_bytes: int) -> list[str]:
    """Return bubblewrap's options for the worker's allow-list view of the machine.

    Only the system's libraries (/usr and its links), the dynamic loader's configuration, the
    interpreter and its packages (read-only; the grader's own packages covered by empty
    folders), /dev's few devices, its own /proc, and a private /tmp of ``tmp_bytes``.
    Nothing else exists for the worker: no home folders, data, submissions, gradebook or class zip.
    """
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--perms", "0755", "--dir", "/etc"]
    for f in SYSTEM_FILES:
        args += ["--ro-bind-try", f, f]
    args += ["--dev", "/dev", "--proc", "/proc", "--perms", "01777", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    made: set[str] = {"/", "/tmp", "/usr"}
    roots = _python_roots(path)
    for root in roots:
        parts = root.strip("/").split("/")
        for i in range(1, len(parts)):  # the folders above it, traversable by the worker's uid
            parent = "/" + "/".join(parts[:i])
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", parent]
        args += ["--ro-bind", root, root]
    for h in hidden:
        if any(h.startswith(r + os.sep) for r in roots):
            args += ["--tmpfs", h]
    return args


@dataclass
class WorkerProcess:
    """One worker: ``start()`` it, ``request()`` as often as needed, ``close()`` it."""

    limits: Limits = field(default_factory=Limits)
    preload: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()  # extra folders to hide (batch mode: the other submissions)
    sandbox: bool = True  # use bubblewrap when it is available
    threads: int = 1
    forbidden: tuple[str, ...] = ()  # libraries the exercise forbids: unusable from the start, in every thread
    forbidden_why: str = ""

    def __post_init__(self):
        self.proc: subprocess.Popen | None = None
        self.reader = protocol.FrameReader()
        self._out = bytearray()
        self._out_total = 0
        self._drain: threading.Thread | None = None
        self._tmp: str | None = None
        self.isolation = isolation(self.sandbox)
        self.bwrap = bwrap_path() if self.isolation.namespaces else None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the worker process (returns at once; the first request waits for it)."""
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        self._tmp = tempfile.mkdtemp(prefix="grade-worker-")
        config, hidden, env = self._settings(self._tmp)
        if self.bwrap:
            cmd = self._bwrap_command(config, hidden)
            cwd = "/"
        else:
            cmd = [sys.executable, "-I", "-S", str(HERE / "worker.py")]
            cwd = self._tmp
        import json

        cmd += [str(to_worker_r), str(from_worker_w), json.dumps(config)]
        zygote = _warm_parent(self._warm_key(config), lambda: self._start_zygote(config, hidden, env)) \
            if self.bwrap and self.isolation.real else None  # warm parents only with the full sandbox
        if zygote is not None:
            try:
                self.proc = zygote.spawn(config, (to_worker_r, from_worker_w, out_w))
            except WorkerLost:
                _discard(zygote)  # it died or misbehaved: a fresh worker instead
        try:
            if self.proc is None:
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

    def warm_parent(self) -> "Zygote | None":
        """Start a warm parent for workers like this one (``grader.batch.runner``: one per slot,
        before it forks), or None where workers cannot be forked warm (no full sandbox)."""
        if not (self.bwrap and self.isolation.real):
            return None
        config, hidden, env = self._settings("/tmp")  # bubblewrap sets HOME and TMPDIR to its own /tmp
        zygote = self._start_zygote(config, hidden, env)
        zygote.key = self._warm_key(config)
        return zygote

    def _settings(self, tmp: str) -> tuple[dict, list[str], dict]:
        """The worker's settings (sent to it), the folders hidden from it, and its environment."""
        hidden = list(dict.fromkeys([*installation_paths(), *map(os.path.realpath, self.hidden)]))
        config = {
            "limits": {"memory": self.limits.memory, "cpu": self.limits.cpu, "fsize": self.limits.fsize,
                       "nproc": self.limits.nproc},
            "preload": list(self.preload),
            "hidden": hidden,
            "path": _search_path(hidden),
            "forbidden": list(self.forbidden), "forbidden_why": self.forbidden_why,
            "seccomp": self.isolation.seccomp,
            "uid": self.isolation.uid,
        }
        protect_grader()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "TMPDIR": tmp,
            "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads),
            "OPENBLAS_NUM_THREADS": str(self.threads), "NUMEXPR_NUM_THREADS": str(self.threads),
            "MPLBACKEND": "Agg", "GRADER_PARENT": str(os.getpid()),  # see tagged_processes()
        }
        return config, hidden, env

    def _bwrap_command(self, config: dict, hidden: list[str]) -> list[str]:
        """bubblewrap's command line up to the worker's own arguments."""
        inside = "/.grader"
        cmd = [self.bwrap, *view_arguments(config["path"], hidden, self.limits.tmp), *_unshare(),
               "--die-with-parent", "--new-session", "--perms", "0755", "--dir", inside]
        for name in WORKER_FILES:
            if (HERE / name).exists():
                cmd += ["--ro-bind", str(HERE / name), f"{inside}/{name}"]
        return cmd + ["--remount-ro", "/", "--chdir", "/tmp", "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR",
                      "/tmp", "--", os.path.realpath(sys.executable), "-I", "-S", f"{inside}/worker.py"]

    def _warm_key(self, config: dict) -> tuple:
        """What a warm parent must share with this worker: the same view, libraries and threads."""
        return (tuple(config["preload"]), tuple(config["hidden"]), tuple(config["path"]), self.limits.tmp,
                config["seccomp"], config["uid"], self.threads, os.path.realpath(sys.executable))

    def _start_zygote(self, config: dict, hidden: list[str], env: dict) -> "Zygote":
        return Zygote.start(self._bwrap_command(config, hidden), {k: config[k] for k in (
            "preload", "path", "seccomp", "uid")}, env)

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
        if isinstance(proc, _Forked):
            _release(proc.zygote)

    # ------------------------------------------------------------------ requests

    def request(self, message: dict, blobs: list[bytes] | None = None, *, timeout: float,
                cpu: float | None = None) -> tuple[dict, list[bytes]]:
        """Send one request and return the decoded reply frame, or raise ``WorkerLost``.

        ``timeout`` is wall-clock seconds; ``cpu``, if given, the CPU seconds the worker may
        use on it: what a call's limit should measure, the same on a busy machine or a slow
        laptop as on a quiet one (the wall clock is then the backstop for a worker that waits).
        """
        if self.proc is None:
            raise WorkerDied("the worker is not running")
        started = time.monotonic()
        deadline = started + timeout
        budget = None  # the worker's CPU time at which the call's budget is spent, read once it has waited
        data = memoryview(protocol.pack(message, blobs or []))
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out(timeout, started, cpu, budget)
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
                self._timed_out(timeout, started, cpu, budget)
            r, _, _ = select.select([self._rfd], [], [], remaining if cpu is None else min(remaining, 0.05))
            if not r and cpu is not None:
                used = self.cpu_time()
                if budget is None:  # most calls answer within 50 ms and never get here: no /proc read for them
                    budget = used - (time.monotonic() - started) + cpu  # its first 50 ms count as CPU time
                if used >= budget:
                    self._timed_out(timeout, started, cpu, budget)
            if r:
                chunk = os.read(self._rfd, 1 << 20)
                if not chunk:
                    self._lost(WorkerDied, timeout)
                try:
                    self.reader.feed(chunk)
                except protocol.ProtocolError as e:
                    self._lost(WorkerProtocolError, timeout, str(e))

    def _timed_out(self, timeout: float, started: float, cpu: float | None, budget: float | None):
        """Kill the worker and raise WorkerTimeout saying how it spent the time (CPU, waiting, memory)."""
        used = self.cpu_time() - (budget - cpu) if budget is not None and cpu is not None else 0.0
        peak = self.peak_memory()
        wall = time.monotonic() - started
        self.close()
        raise WorkerTimeout(f"did not finish within {timeout:g} s (an endless loop, or far too slow?)",
                            cpu=max(used, 0.0), wall=wall, cpu_limit=cpu, peak_memory=peak)

    # ------------------------------------------------------------------ what the worker uses

    def _tree(self) -> list[int]:
        """The pids of the worker and everything under it (bubblewrap's own processes included).
        Walked afresh each time: only a call that has waited 50 ms asks, every 50 ms."""
        return list(process_tree(self.proc.pid)) if self.proc is not None else []

    def cpu_time(self) -> float:
        """CPU seconds (user + system, all threads) the worker's processes have used so far."""
        total = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
            except (OSError, ValueError, IndexError):
                pass
        return total / _CLOCK_TICKS

    def peak_memory(self) -> int:
        """The largest peak resident memory (VmHWM) among the worker's processes, in bytes."""
        peak = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]) * 1024)
            except (OSError, ValueError, IndexError):
                pass
        return peak

    def _lost(self, cls, timeout: float, detail: str = ""):
        proc = self.proc
        if cls is WorkerDied and proc is not None:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        code = proc.poll() if proc is not None else None
        self.close()
        if cls is WorkerProtocolError:
            raise WorkerProtocolError(f"the submission interfered with the grader's channel ({detail})")
        raise WorkerDied(describe_exit(code, via_bwrap=bool(self.bwrap) and not isinstance(proc, _Forked)))


def process_tree(root: int, *, descend=lambda pid: True):
    """Yield ``root`` and the processes under it (Linux's /proc), entering only those for which
    ``descend(pid)`` holds."""
    todo = [root]
    while todo:
        pid = todo.pop()
        yield pid
        if not descend(pid):
            continue
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass


def _is_bwrap(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return os.path.basename(f.read().split(b"\0")[0]) == b"bwrap"
    except OSError:
        return False


# --------------------------------------------------------------------------- warm parents


class Zygote:
    """A warm parent of workers: ``worker.py --zygote`` in the same bubblewrap view as a fresh
    worker, which has imported the exercise's libraries (torch: seconds) and forks one worker
    per ``spawn``.

    Each forked worker drops its uid, sets its limits and loads its seccomp filter as a fresh
    worker does, before any student code: it cannot fork, signal, ptrace or open sockets, so
    nothing of it outlives it. One worker at a time per warm parent; before the next, the last
    is killed and the view's writable places (/tmp, /dev/shm; the rest is read-only) are wiped,
    and a warm parent that cannot wipe them stops. Only with the full sandbox (bubblewrap and
    seccomp); otherwise every worker starts fresh.
    """

    def __init__(self, proc: subprocess.Popen, sock, key: tuple = ()):
        self.proc, self.sock, self.key = proc, sock, key
        self.busy = False
        self.dead = False
        self._next = 0
        self._exits: dict[int, int] = {}

    @classmethod
    def start(cls, bwrap_command: list[str], config: dict, env: dict) -> "Zygote":
        import json
        import socket

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            proc = subprocess.Popen(
                [*bwrap_command, "--zygote", str(theirs.fileno()), json.dumps(config)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/",
                env=env, pass_fds=(theirs.fileno(),), start_new_session=True, close_fds=True)
        finally:
            theirs.close()
        return cls(proc, ours)

    def spawn(self, config: dict, fds: tuple[int, int, int], *, timeout: float = 60.0) -> "_Forked":
        """Fork a worker with these pipe ends (its stdin-like request pipe, its reply pipe, its
        output) and settings; return it as a process handle."""
        import json
        import socket

        self._next += 1
        rid = self._next
        try:
            socket.send_fds(self.sock, [json.dumps({"op": "spawn", "id": rid, "config": config}).encode()], list(fds))
        except OSError as e:
            self.dead = True
            raise WorkerDied(f"the warm parent is gone ({e})") from None
        reply = self._wait(lambda m: m.get("spawned") == rid, timeout)
        pid = self._host_pid(int(reply["pid"]))
        if pid is None:
            self.dead = True
            raise WorkerDied("the warm parent's worker could not be found")
        return _Forked(self, rid, pid)

    def reset(self, *, timeout: float = 15.0) -> bool:
        """Kill the worker it runs, if any, and wipe the view; False if the warm parent is gone."""
        import json

        if self.dead:
            return False
        try:
            self.sock.send(json.dumps({"op": "reset"}).encode())
            self._wait(lambda m: m.get("reset") is True, timeout)
        except (OSError, WorkerLost):
            self.dead = True
        return not self.dead

    def exit_code(self, rid: int, timeout: float) -> int | None:
        """The exit status of worker ``rid`` once its warm parent has reaped it, waiting up to ``timeout``."""
        if rid not in self._exits and not self.dead:
            try:
                self._wait(lambda m: m.get("exited") == rid, timeout)
            except WorkerTimeout:
                return None
            except WorkerLost:
                return -signal.SIGKILL  # the warm parent died, and the worker with it
        return self._exits.get(rid, -signal.SIGKILL if self.dead else None)

    def _wait(self, wanted, timeout: float) -> dict:
        import json

        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            r, _, _ = select.select([self.sock], [], [], remaining)
            if not r:
                if remaining <= 0:
                    raise WorkerTimeout("the warm parent did not answer")
                continue
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                self.dead = True
                raise WorkerDied("the warm parent is gone")
            try:
                message = json.loads(data)
            except ValueError:
                self.dead = True
                raise WorkerProtocolError("the warm parent garbled its channel") from None
            if "exited" in message:
                self._exits[message["exited"]] = int(message.get("code", -signal.SIGKILL))
                if len(self._exits) > 64:
                    self._exits.pop(next(iter(self._exits)))
            if wanted(message):
                return message

    def _host_pid(self, nspid: int) -> int | None:
        """This machine's pid of the warm parent's worker ``nspid`` (a pid of bubblewrap's namespace)."""
        for pid in process_tree(self.proc.pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    ids = next((x for x in f if x.startswith("NSpid:")), "").split()[1:]
            except OSError:
                continue
            if len(ids) > 1 and ids[-1] == str(nspid):
                return pid
        return None

    def own_pids(self) -> set[int]:
        """The pids of bubblewrap and the warm parent itself (not of the workers it forked):
        bubblewrap's processes, and below them the first that is not one, the warm parent."""
        return set(process_tree(self.proc.pid, descend=_is_bwrap))

    def close(self) -> None:
        self.dead = True
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass


class _Forked:
    """A worker forked by a warm parent, handled like the ``Popen`` of a fresh one."""

    def __init__(self, zygote: Zygote, rid: int, pid: int):
        self.zygote, self.rid, self.pid = zygote, rid, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.exit_code(self.rid, 0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.zygote.exit_code(self.rid, 3600.0 if timeout is None else timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("worker", timeout or 0)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


_IDLE: dict[tuple, list[Zygote]] = {}  # warm parents of this process, by what they are warm for
_MAX_IDLE = 4  # the least recently used beyond these are stopped (each holds its libraries' memory)
_KEEP_WARM = False
_ASSIGNED: list[Zygote | None] = []  # a batch child's own warm parent, or [None]: fresh workers only


def keeping_warm() -> bool:
    """Does this process keep warm parents (``keep_warm``)?"""
    return _KEEP_WARM


def keep_warm(on: bool = True) -> None:
    """Let this process keep warm parents and fork its workers from them (batch grading, the
    test suite: processes that start many workers of the same exercise). Off: every worker
    starts fresh, as a student's single ``grade`` does."""
    global _KEEP_WARM
    _KEEP_WARM = on
    if not on:
        for zygotes in _IDLE.values():
            for z in zygotes:
                z.close()
        _IDLE.clear()


def assign(zygote: Zygote | None) -> None:
    """Make ``zygote`` the only warm parent this process uses (a batch child: its slot's; None:
    none). The warm parents a forked process inherited belong to its parent: never used here."""
    _ASSIGNED[:] = [zygote]
    _IDLE.clear()


def _warm_parent(key: tuple, start) -> Zygote | None:
    """A warm parent for ``key`` that is free now (started with ``start()`` if needed), or None."""
    if _ASSIGNED:
        z = _ASSIGNED[0]
        if z is None or z.dead or z.busy:
            return None
        if not z.key:
            z.key = key
        if z.key != key:
            return None
        z.busy = True
        return z
    if not _KEEP_WARM:
        return None
    idle = _IDLE.setdefault(key, [])
    while idle:
        z = idle.pop()
        if not z.dead:
            z.busy = True
            return z
    try:
        z = start()
    except OSError:
        return None
    z.key, z.busy = key, True
    return z


def _release(zygote: Zygote) -> None:
    zygote.busy = False
    if zygote.dead:
        zygote.close()
    elif not _ASSIGNED and _KEEP_WARM:
        _IDLE[zygote.key] = _IDLE.pop(zygote.key, []) + [zygote]  # the most recently used last
        while sum(map(len, _IDLE.values())) > _MAX_IDLE:
            for z in _IDLE.pop(next(iter(_IDLE))):
                z.close()
    elif not _ASSIGNED:
        zygote.close()


def _discard(zygote: Zygote) -> None:
    zygote.busy = False
    zygote.close()


def warm_parent_pids() -> set[int]:
    """The processes of this process's idle warm parents (bubblewrap's and their own; no worker)."""
    return {pid for zygotes in _IDLE.values() for z in zygotes for pid in z.own_pids()}


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
    if code == SETUP_FAILED:
        return "the grading sandbox could not be set up on this machine (run `grade -v` for details)"
    return f"the process running your code exited with status {code} (os._exit or a crash of the interpreter)"
