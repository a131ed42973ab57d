"""Grade many submissions at once: a warm parent forks one fresh child per submission.

The parent imports numpy, hypothesis, the exercise's PRELOAD (torch) and its checks module
once, grades a throw-away submission to load what the engine imports lazily, freezes the
heap (``gc.freeze``: children then share its pages instead of copying them), and then forks
one child per submission, ``workers`` at a time. A child grades exactly one submission with
``engine.grade`` (whose student code runs in its own sandbox worker, as always) and exits:
nothing of one submission can reach the next. Children report over a pipe, one
length-prefixed JSON message per finished check and one for the result, so a child killed
at the time limit still leaves the checks it finished. Children die with the parent
(``PR_SET_PDEATHSIG``): killing the run leaves no grading behind.

The parent is single-threaded: it only waits for pipes and time limits (``select``), so
forking from it is safe.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import os
import select
import signal
import struct
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__, registry
from ..results import CheckResult, ExerciseResult

PR_SET_PDEATHSIG = 1


@dataclass
class Job:
    """One submission to grade."""

    student: str
    path: Path


@dataclass
class Outcome:
    """What grading one submission gave: the result as JSON (rebuilt from the finished checks
    when the child was stopped), a status (see ``gradebook.STATUSES``) and a one-line message."""

    student: str
    status: str
    result: dict | None
    message: str = ""
    duration: float = 0.0


@dataclass
class Settings:
    """How every submission is graded (the instructor's settings: hidden checks on)."""

    exercise: registry.ExerciseInfo
    workers: int = 1
    timeout: float | None = None  # seconds per submission; None: the exercise's own limit
    sandbox: bool = True
    hidden_paths: tuple[str, ...] = ()  # the other submissions and the output: not for a submission's eyes
    data_dir: Path | None = None
    verbose: bool = False
    grace: float | None = None  # seconds past the time limit before a child is killed; None: max(10 s, 10 %)
    staging: Path | None = None  # where a child copies its submission to grade it (None: the temp folder)
    warm: bool = True  # fork sandbox workers from warm parents (sandbox.process.Zygote) where the sandbox allows
    secret: str = field(default="", repr=False)  # official examples (grader.secret); never printed

    def limits(self):
        from ..sandbox.process import Limits

        limits = Limits()
        if self.timeout is not None:
            limits.exercise_timeout = self.timeout
        return limits

    def hard_limit(self, exercise_limits: dict) -> float:
        """Seconds after which a child is killed: the exercise's time limit plus a margin for
        the grader's own work after the last call (the engine stops calling at the limit)."""
        from ..sandbox.process import Limits

        limit = self.timeout if self.timeout is not None else \
            float(exercise_limits.get("exercise_timeout", Limits().exercise_timeout))
        return limit + (self.grace if self.grace is not None else max(10.0, 0.1 * limit))


@dataclass
class _Running:
    job: Job
    pid: int
    fd: int
    started: float
    slot: int = 0  # which warm parent of sandbox workers it uses
    buffer: bytearray = field(default_factory=bytearray)
    messages: list[dict] = field(default_factory=list)
    killed: bool = False


class Pool:
    """``Pool(settings)`` warms up; ``run(jobs, on_done)`` grades them all."""

    def __init__(self, settings: Settings, *, warm_up: bool = True):
        self.settings = settings
        self.exercise = _warm(settings, warm_up)
        self.hard_limit = settings.hard_limit(self.exercise.limits)
        # one warm parent of sandbox workers per slot: torch imported once, a worker forked per submission
        self.zygotes: list = [self._zygote() for _ in range(max(1, settings.workers))] if settings.warm else []

    def _zygote(self):
        """A warm parent for this exercise's workers (``sandbox.process.Zygote``), or None
        where workers start fresh (no full sandbox)."""
        from ..engine.run import apply_limits
        from ..sandbox.process import WorkerProcess

        info = self.settings.exercise
        limits = self.settings.limits()
        apply_limits(limits, dict(info.limits))  # as the engine sets them for each submission's worker
        worker = WorkerProcess(limits=limits, preload=info.preload, hidden=self.settings.hidden_paths,
                               sandbox=self.settings.sandbox)
        try:
            return worker.warm_parent()
        except OSError:
            return None

    def close(self) -> None:
        """Stop the warm parents (they also die with this process)."""
        for zygote in self.zygotes:
            if zygote is not None:
                zygote.close()
        self.zygotes = []

    def run(self, jobs: list[Job], on_done: Callable[[Outcome], None],
            on_tick: Callable[[], None] = lambda: None) -> None:
        """Grade ``jobs``, ``workers`` at a time; call ``on_done`` as each one ends."""
        pending = list(reversed(jobs))
        running: dict[int, _Running] = {}
        try:
            while pending or running:
                while pending and len(running) < max(1, self.settings.workers):
                    busy = {c.slot for c in running.values()}
                    slot = next(i for i in range(max(1, self.settings.workers)) if i not in busy)
                    child = self._start(pending.pop(), slot)
                    running[child.fd] = child
                now = time.monotonic()
                wait = min([0.25] + [c.started + self.hard_limit - now for c in running.values()])
                ready, _, _ = select.select(list(running), [], [], max(0.0, wait))
                for fd in ready:
                    child = running[fd]
                    chunk = os.read(fd, 1 << 20)
                    if chunk:
                        child.buffer += chunk
                        child.messages += _messages(child.buffer)
                    else:
                        del running[fd]
                        outcome = self._finish(child)
                        self._reset(child.slot)
                        on_done(outcome)
                now = time.monotonic()
                for child in [c for c in running.values() if now - c.started > self.hard_limit and not c.killed]:
                    child.killed = True
                    _kill(child.pid)
                on_tick()
        except BaseException:
            for child in running.values():
                _kill(child.pid)
                os.close(child.fd)
                _reap(child.pid)
            raise

    # ------------------------------------------------------------------ one child

    def _start(self, job: Job, slot: int = 0) -> _Running:
        r, w = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: grade, report, exit without running the parent's clean-ups
            code = 0
            try:
                os.close(r)
                _die_with(parent)
                from ..sandbox import process

                process.assign(self.zygotes[slot] if slot < len(self.zygotes) else None)  # nobody else's
                if not self.settings.verbose:  # a warning from a check must not garble the progress bar
                    sys.stdout = sys.stderr = open(os.devnull, "w")
                _grade_one(job, self.settings, w)
            except BaseException:  # noqa: BLE001 - nothing may escape into the parent's code
                code = 1
            finally:
                os._exit(code)
        os.close(w)
        return _Running(job, pid, r, time.monotonic(), slot=slot)

    def _reset(self, slot: int) -> None:
        """After a child: the slot's warm parent kills what the child left running and wipes the
        view; one that does not answer is replaced."""
        zygote = self.zygotes[slot] if slot < len(self.zygotes) else None
        if zygote is not None and not zygote.reset():
            zygote.close()
            self.zygotes[slot] = self._zygote()

    def _finish(self, child: _Running) -> Outcome:
        os.close(child.fd)
        status = _reap(child.pid)
        duration = round(time.monotonic() - child.started, 3)
        final = next((m for m in child.messages if {"result", "problem", "error"} & set(m)), None)
        if final is not None and "result" in final:
            return outcome_of(child.job.student, final["result"], duration)
        if final is not None and "problem" in final:
            return Outcome(child.job.student, "problem", None, final["problem"], duration)
        checks = [m["check"] for m in child.messages if "check" in m]
        if child.killed:
            why = f"stopped after {self.hard_limit:g} s, the time limit for one submission"
            return self._partial(child, checks, "timeout", why, duration)
        if final is not None:
            why = final["error"]
            if self.settings.verbose and final.get("traceback"):
                print(final["traceback"], file=sys.stderr)
        else:
            why = f"the grading process ended unexpectedly ({_describe(status)})"
        return self._partial(child, checks, "error", f"internal error while grading: {why}", duration)

    def _partial(self, child: _Running, done: list[dict], status: str, message: str, duration: float) -> Outcome:
        """The result of a child that did not finish: its finished checks, the rest not run."""
        finished = {c["name"] for c in done}
        checks = [CheckResult.from_dict(c) for c in done] + [
            CheckResult.not_run(s.name, s.title, s.points, s.functions, status, message, hidden=s.hidden)
            for s in self.exercise.checks if s.name not in finished]
        result = ExerciseResult(exercise=self.exercise.id, title=self.exercise.title, submission=child.job.path.name,
                                sha256=_sha256(child.job.path), checks=checks, notes=[message], instructor=True,
                                grader_version=__version__, duration=duration).to_dict()
        return Outcome(child.job.student, status, result, message, duration)


def outcome_of(student: str, result: dict, duration: float) -> Outcome:
    """Sort a finished result: a check that timed out or crashed marks the whole row."""
    for status in ("timeout", "crash"):
        hit = [c for c in result["checks"] if c["outcome"] == status]
        if hit:
            return Outcome(student, status, result, f"{hit[0]['title']}: {hit[0]['message']}", duration)
    return Outcome(student, "graded", result, "", duration)


# --------------------------------------------------------------------------- the parent's warm-up


def _warm(settings: Settings, warm_up: bool):
    """Import everything a child needs, grade a throw-away submission, freeze the heap."""
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401

    from .. import engine
    from ..collect import NOTEBOOK_MODULES

    info = settings.exercise
    for name in (*info.preload, *NOTEBOOK_MODULES):  # a child reading a notebook then imports nothing
        try:
            __import__(name)
        except ImportError:
            pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)  # before any op: OpenMP's thread pool and fork do not mix
    exercise = registry.load(info)
    if warm_up:
        names = sorted({f for spec in exercise.checks for f in spec.functions})
        with tempfile.TemporaryDirectory(prefix="grade-warm-up-") as tmp:
            path = Path(tmp) / f"{info.id}.py"
            path.write_text("".join(f"def {n}(*args, **kwargs):\n    return None\n\n" for n in names))
            engine.grade(info, path, instructor=True, sandbox=settings.sandbox, max_examples=5, secret=settings.secret)
    engine.prepare(info, secret=settings.secret)  # every child replays the same drawn examples (see engine.recorded_examples)
    if threading.active_count() > 1:  # forking with another thread alive could copy a held lock
        raise RuntimeError("a thread is still running after the warm-up; cannot fork safely")
    gc.collect()
    gc.freeze()
    return exercise


# --------------------------------------------------------------------------- in the child


def _grade_one(job: Job, settings: Settings, fd: int) -> None:
    from ..collect import SubmissionError, staged
    from ..engine import grade

    def send(message: dict) -> None:
        data = json.dumps(message).encode()
        view = memoryview(struct.pack(">I", len(data)) + data)
        while view:
            view = view[os.write(fd, view):]

    kwargs = {"data_dir": settings.data_dir} if settings.data_dir is not None else {}
    try:  # from a private copy in the run's work folder (hidden from workers, removed with it)
        with staged(job.path, stems=(settings.exercise.id,), parent=settings.staging) as source:
            result = grade(settings.exercise, source, instructor=True, sandbox=settings.sandbox,
                           limits=settings.limits(), hidden_paths=settings.hidden_paths,
                           on_check=lambda c: send({"check": c.to_dict()}), secret=settings.secret, **kwargs)
    except SubmissionError as e:  # e.g. a notebook that is not valid JSON: the student's problem
        send({"problem": str(e)})
    except Exception as e:  # the grader's own failure: one line, the traceback for -v
        send({"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
    else:
        send({"result": result.to_dict()})


def _die_with(parent: int) -> None:
    """Ask the kernel to kill this process when the parent dies (Linux; elsewhere a no-op)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


# --------------------------------------------------------------------------- plumbing


def _messages(buffer: bytearray) -> list[dict]:
    out = []
    while len(buffer) >= 4:
        (size,) = struct.unpack_from(">I", buffer)
        if len(buffer) < 4 + size:
            break
        out.append(json.loads(bytes(buffer[4:4 + size])))
        del buffer[:4 + size]
    return out


def _kill(pid: int) -> None:
    """Kill a grading child and the sandbox workers it started (tagged with its pid)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    from ..sandbox.process import tagged_processes

    for worker, parent in tagged_processes().items():
        if parent == pid:
            try:
                os.killpg(worker, signal.SIGKILL)  # workers lead their own session
            except OSError:
                pass


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _sha256(path: Path) -> str:
    from ..collect import MAX_SOURCE_BYTES, SubmissionError, read_regular

    try:
        return hashlib.sha256(read_regular(path, MAX_SOURCE_BYTES)).hexdigest()
    except (OSError, SubmissionError):
        return ""
