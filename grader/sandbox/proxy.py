"""The submission as the checks see it: ``sub.conv2d(image, kernel)`` runs in the worker.

``Submission`` starts the worker, loads the student's code into it, and turns attribute
access into remote calls. Arguments go out and results come back as plain data; objects
that cannot (a student's class instance, an ``nn.Module``) stay in the worker and come
back as ``Handle`` objects that can be called and inspected in turn.

Failures are sorted by what the check should do with them:

- the student's function raised an ordinary exception: ``StudentError`` (an Exception, so
  hypothesis shrinks to the smallest input that raises it);
- anything that makes further examples pointless (not implemented, missing, timed out,
  crashed, exited, broke a rule): ``Abort`` (a BaseException, so hypothesis stops at once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from . import protocol
from .process import Limits, WorkerLost, WorkerProcess, WorkerTimeout


class Abort(BaseException):
    """Stop the current check: further examples cannot succeed or would waste time."""

    def __init__(self, kind: str, message: str, function: str | None = None, frames=(), error_type: str = ""):
        super().__init__(message)
        self.kind, self.message, self.function, self.frames, self.error_type = kind, message, function, list(frames), error_type


class StudentError(Exception):
    """The student's function raised an exception for this input."""

    def __init__(self, function: str, error: dict):
        self.function = function
        self.error_type = str(error.get("type", "Exception"))[:200]  # the worker clips these; it may be tampered with
        self.message = str(error.get("message", ""))[:protocol.MAX_STRING]
        self.frames = error.get("frames", [])[-20:] if isinstance(error.get("frames"), list) else []
        super().__init__(f"{function} raised {self.error_type}: {self.message}")


@dataclass
class CallRecord:
    """One call into the submission, kept for counterexamples and diagnoses."""

    function: str
    args: tuple
    kwargs: dict
    result: Any = None
    error: StudentError | None = None
    facts: set[str] = field(default_factory=set)  # what a check observed about the result (``observe``)


@dataclass
class LoadReport:
    """What loading the file into the worker gave: the names it defines and any errors."""

    names: dict[str, str] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    fatal: str | None = None  # the worker died while loading: nothing can be called


class Submission:
    """Proxy to the student's module in a worker process."""

    def __init__(self, cells: list[dict], *, limits: Limits | None = None, preload=(), hidden=(),
                 sandbox: bool = True, rules: dict[str, tuple[str, ...]] | None = None,
                 stubs: frozenset[str] = frozenset(), threads: int = 1, forbidden: tuple[str, ...] = (),
                 forbidden_why: str = "", context: Any = None):
        self.cells = cells
        self.limits = limits or Limits()
        self.preload, self.hidden, self.sandbox, self.threads = tuple(preload), tuple(hidden), sandbox, threads
        self.rules = rules or {}
        self.forbidden, self.forbidden_why = tuple(forbidden), forbidden_why
        self.stubs = stubs
        self.worker: WorkerProcess | None = None
        self.load: LoadReport | None = None
        self.log: list[CallRecord] = []
        self.deadline: float | None = None  # the current check's deadline (monotonic)
        self.exercise_deadline: float | None = None
        self.restarts = 0
        self.output_parts: list[str] = []
        self.context: Any = context  # what the engine tells the checks (grader.kit.Context)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the worker now (it boots while the grader imports its checks)."""
        if self.worker is None:
            self.worker = WorkerProcess(limits=self.limits, preload=self.preload, hidden=self.hidden,
                                        sandbox=self.sandbox, threads=self.threads, forbidden=self.forbidden,
                                        forbidden_why=self.forbidden_why)
            self.worker.start()

    def ensure_loaded(self) -> LoadReport:
        """Start the worker if needed and run the file's top level in it."""
        if self.load is not None and self.load.fatal:
            return self.load
        if self.worker is not None and self.worker.alive() and self.load is not None:
            return self.load
        if self.worker is not None and not self.worker.alive():
            self._collect_output()
            self.worker.close()  # reaped, and a warm parent's freed for the next worker
            self.worker = None
            self.restarts += 1
        self.start()
        first = self.load is None
        try:
            reply, blobs = self.worker.request({"op": "load", "cells": self.cells}, timeout=self.limits.load_timeout)
        except WorkerLost as e:
            self._collect_output()
            self.worker = None
            what = "took too long" if isinstance(e, WorkerTimeout) else "ended the process"
            self.load = LoadReport(fatal=f"running your file's top-level code {what}: {e}")
            return self.load
        if not reply.get("ok"):
            self.load = LoadReport(fatal="the worker could not load your file")
            return self.load
        report = LoadReport(names={str(k): str(v) for k, v in dict(reply.get("names", {})).items()},
                            errors=[dict(e) for e in reply.get("errors", []) if isinstance(e, dict)])
        if first:
            self.load = report
        return self.load

    def close(self) -> None:
        if self.worker is not None:
            self._collect_output()
            self.worker.close()
            self.worker = None

    def _collect_output(self) -> None:
        if self.worker is not None:
            out = self.worker.output
            if out:
                self.output_parts.append(out)
            self.worker._out.clear()

    @property
    def output(self) -> str:
        """Everything the submission printed so far (bounded)."""
        self._collect_output()
        return "".join(self.output_parts)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ the engine's side: an exercise, a check

    def begin_exercise(self, rules: dict[str, tuple[str, ...]], deadline: float) -> None:
        """The exercise's rules (checked on each call of a rule-bound function) and its deadline (monotonic)."""
        self.rules, self.exercise_deadline = dict(rules), deadline

    def begin_check(self, timeout: float) -> None:
        """Start one check: a fresh call log and details, and a deadline ``timeout`` seconds from now."""
        self.log = []
        if self.context is not None:
            self.context.details = {}
        self.deadline = time.monotonic() + timeout

    def end_check(self) -> dict:
        """End the check: no deadline; return what it measured (``context.details``, JSON-ready)."""
        self.deadline = None
        return self.context.details if self.context is not None else {}

    # ------------------------------------------------------------------ calls

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self, name)

    def _timeout(self) -> tuple[float, str]:
        """The wall-clock time the next call may take, and whose limit that is ("call", "check",
        "exercise"). A call's own limit is CPU time (``limits.call_timeout``); its wall clock is
        only a backstop, ``wall_factor`` times longer, for a call that waits instead of computing."""
        now = time.monotonic()
        t, why = self.limits.call_timeout * self.limits.wall_factor, "call"
        for deadline, label in ((self.deadline, "check"), (self.exercise_deadline, "exercise")):
            if deadline is not None and deadline - now < t - 0.05:
                t, why = deadline - now, label
        return t, why

    def _timeout_message(self, label: str, e: WorkerTimeout, why: str) -> str:
        """What the call did with its time: computed (a loop), waited, or filled the memory."""
        if e.cpu_bound:
            text = (f"{label} did not finish within {self.limits.call_timeout:.3g} s of CPU time: an endless loop, or "
                    "far too slow?")
        elif why == "call":
            text = (f"{label} did not finish within {e.wall:.3g} s, using only {e.cpu:.2g} s of CPU time: it was "
                    "waiting (sleep, input(), a lock?)")
        else:
            text = f"{label} did not finish within {e.wall:.3g} s (the {why}'s time limit): an endless loop, or far too slow?"
        if e.peak_memory >= self.limits.memory / 2:
            text += (f" — its memory peaked at {e.peak_memory / 2**30:.1f} GiB of the {self.limits.memory / 2**30:.0f}"
                     " GiB allowed")
        return text

    def call(self, function: str, *args, **kwargs):
        """Call ``function`` (a name in the module, or a Handle) with plain-data arguments."""
        return self._request(function, args, kwargs)

    def method(self, handle: protocol.Handle, name: str, *args, **kwargs):
        """Call ``handle.name(*args, **kwargs)`` in the worker."""
        return self._request(handle, args, kwargs, method=name)

    def attribute(self, handle: protocol.Handle, name: str):
        """Return ``handle.name`` (as data, or as a new handle)."""
        return self._request(handle, (), {}, attribute=name)

    def handle(self, name: str) -> protocol.Handle:
        """Return a handle on the module's ``name`` itself, uncalled (a function to pass to a probe)."""
        value = self._request(name, (), {}, itself=True)
        if not isinstance(value, protocol.Handle):
            raise Abort("missing", f"{name} in your file should be a function, got {type(value).__name__}", name)
        return value

    def probe(self, name: str, *args):
        """Run one of the grader's worker-side probes (``probes.py``) on handles and data."""
        return self._request(None, args, {}, probe=name)

    # ------------------------------------------------------------------ evidence for diagnoses

    def observe(self, value, fact: str) -> None:
        """Note ``fact`` about ``value``, a result of this check's calls (a model's handle): the
        evidence that mistakes declared with ``Mistake(observed=fact)`` are matched against."""
        for record in reversed(self.log):
            if record.result is value:
                record.facts.add(fact)
                return

    def evidence(self, function: str, *args, result, **kwargs) -> CallRecord:
        """Record what a check assembled from several calls (a sequence of ``step`` results) as one
        call of ``function``: the counterexample shows it and mistakes are matched against it."""
        record = CallRecord(function, tuple(args), dict(kwargs), result=result)
        self.log.append(record)
        return record

    def _request(self, target, args, kwargs, *, method=None, attribute=None, probe=None, itself=False):
        label = self._label(target, method, attribute, probe)
        fname = target if isinstance(target, str) else None
        if fname is not None and fname in self.stubs:
            raise Abort("not_implemented", f"{fname} is not implemented yet", fname)
        report = self.ensure_loaded()
        if report.fatal:
            raise Abort("load", report.fatal, fname)
        if fname is not None and fname not in report.names:
            raise Abort("missing", f"your file does not define {fname}", fname)
        timeout, why = self._timeout()
        if timeout <= 0:
            raise Abort("check_timeout" if why == "check" else "exercise_timeout",
                        f"the {why} used up its time limit", fname)
        blobs: list[bytes] = []
        msg: dict[str, Any] = {"args": protocol.encode(list(args), blobs),
                               "kwargs": protocol.encode(dict(kwargs), blobs)}
        if probe is not None:
            msg.update(op="probe", name=probe)
        else:
            msg.update(op="call", target=target if isinstance(target, str) else {"$handle": target.id})
            if method:
                msg["method"] = method
            if attribute is not None:
                msg["attribute"] = attribute
            if itself:
                msg["itself"] = True
            if fname is not None and fname in self.rules:
                msg["forbid"] = list(self.rules[fname])
        record = CallRecord(label, tuple(args), dict(kwargs))
        self.log.append(record)
        try:
            reply, rblobs = self.worker.request(msg, blobs, timeout=timeout, cpu=self.limits.call_timeout)
        except WorkerTimeout as e:
            self._collect_output()
            self.worker = None
            kind = "timeout" if why == "call" or e.cpu_bound else f"{why}_timeout"
            raise Abort(kind, self._timeout_message(label, e, why), fname) from None
        except WorkerLost as e:
            self._collect_output()
            self.worker = None
            raise Abort(e.kind, f"calling {label}: {e}", fname) from None
        if reply.get("ok"):
            try:
                value = protocol.decode(reply.get("value"), rblobs)
            except protocol.ValueTooLarge as e:  # the frame was read whole: the worker carries on
                raise Abort("protocol", f"{label} returned a value {e}", fname) from None
            except protocol.ProtocolError as e:
                self.close()
                raise Abort("protocol", f"{label} sent back something that is not plain data ({e})", fname) from None
            record.result = value
            return value
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        if "message" in error:  # from the worker: bounded like any string it sends
            error["message"] = str(error["message"])[:protocol.MAX_STRING]
        kind = error.get("kind")
        frames = error.get("frames", []) if isinstance(error.get("frames"), list) else []
        if kind == "not_implemented":
            msg_ = str(error.get("message") or "")
            where = _raising_function(frames)
            text = f"{label} is not implemented yet" if where in (None, label.split(".")[0]) else \
                f"{label} calls {where}, which is not implemented yet"
            raise Abort("not_implemented", text + (f" ({msg_})" if msg_ and where is None else ""), fname, frames)
        if kind == "missing":
            raise Abort("missing", f"your file does not define {fname}", fname)
        if kind == "exit":
            raise Abort("exit", f"{label} {error.get('message')} — a function must return, not end the program",
                        fname, frames)
        if kind == "rule":
            raise Abort("rule", f"{label} breaks the exercise's rule: {error.get('message')}", fname)
        if kind in ("encode", "worker", "grader"):
            raise Abort("protocol", f"{label}: {error.get('message')}", fname)
        err = StudentError(label, error)
        record.error = err
        raise err

    @staticmethod
    def _label(target, method, attribute, probe) -> str:
        if probe is not None:
            return f"probe {probe}"
        base = target if isinstance(target, str) else (target.type.rsplit(".", 1)[-1] if target else "?")
        if method:
            return f"{base}.{method}"
        if attribute is not None:
            return f"{base}.{attribute}"
        return base


def _raising_function(frames) -> str | None:
    return frames[-1][2] if frames and isinstance(frames[-1], list) and len(frames[-1]) > 2 else None


class RemoteFunction:
    """``sub.conv2d``: calling it calls the student's ``conv2d`` in the worker."""

    __slots__ = ("sub", "name")

    def __init__(self, sub: Submission, name: str):
        self.sub, self.name = sub, name

    def __call__(self, *args, **kwargs):
        return self.sub.call(self.name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<student's {self.name}>"
