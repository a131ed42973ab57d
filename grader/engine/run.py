"""Grade one submission of one exercise: ``grade("exercise03", "exercise03.py")``.

The steps: read the submission (``collect``), look at its source (``static``), start the
worker and load the code into it (``sandbox``), run every check with fixed hypothesis
settings (replaying the examples hypothesis draws for it, and searching with hypothesis only
when one fails), and for each failing check keep the smallest counterexample found within
the shrink budget, the expected and the returned value, and the typical mistake it matches.
Returns an ``ExerciseResult``; turning that into text, JSON or JUnit is ``grader.report``'s job.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path
from typing import Callable

from .. import __version__, registry, static
from ..collect import Source, staged
from ..kit.check import CheckSpec, Context, Exercise, Verdict
from ..kit.expect import Mismatch
from ..results import CheckResult, ExerciseResult
from ..sandbox.process import Limits, isolation
from ..sandbox.proxy import Abort, StudentError, Submission
from .diagnose import counterexample, diagnose, label
from .replay import Failure, ShrinkBudgetSpent, execute, is_search

ABORT_OUTCOMES = {
    "not_implemented": "not_implemented", "missing": "missing", "timeout": "timeout", "check_timeout": "timeout",
    "exercise_timeout": "timeout", "crash": "crash", "exit": "crash", "protocol": "crash", "load": "crash",
    "rule": "rule",
}


def grade(exercise: str | registry.ExerciseInfo, submission: str | Path | Source, *, instructor: bool = False,
          sandbox: bool = True, limits: Limits | None = None, hidden_paths: tuple[str, ...] = (),
          max_examples: int | None = None, on_check: Callable[[CheckResult], None] | None = None,
          only: Callable[[CheckSpec], bool] | None = None, data_dir: str | Path | None = None,
          secret: str = "") -> ExerciseResult:
    """Grade ``submission`` (a path or a read ``Source``) for ``exercise`` (id, name or info).

    ``secret``: official grading's examples (``grader.secret``); empty, the public ones a
    student's own run meets. Checks without ``@given`` (the slides' worked examples) use none.

    ``only`` selects a subset of the checks (the project's own tests use it to stay fast).
    ``data_dir`` is where checks that need a dataset look for it (exercise11's test images).
    """
    info = exercise if isinstance(exercise, registry.ExerciseInfo) else registry.find_exercise(exercise)
    if not isinstance(submission, Source):  # grade a private copy: the checks never follow the student's links
        with staged(Path(submission), stems=(info.id,)) as source:
            return grade(info, source, instructor=instructor, sandbox=sandbox, limits=limits,
                         hidden_paths=hidden_paths, max_examples=max_examples, on_check=on_check, only=only,
                         data_dir=data_dir, secret=secret)
    started = time.monotonic()
    source = submission
    notes = list(source.notes)
    syntax = source.syntax_errors()
    stubs = frozenset(static.stubs(source.text))

    # start the worker first: it boots while this process imports the checks (and hypothesis)
    limits = limits or Limits()
    sub = None
    fatal = None
    if syntax and source.kind == "py":
        fatal = f"your file has a syntax error, so nothing could be run — {syntax[0]}"
    else:
        notes += [f"{e} — this cell was skipped" for e in syntax]
        apply_limits(limits, dict(info.limits))  # before the worker starts: its memory limit is set at birth
        sub = Submission([c.to_wire() for c in source.cells], limits=limits, preload=info.preload,
                         hidden=hidden_paths, sandbox=sandbox, stubs=stubs, forbidden=info.forbidden,
                         forbidden_why=_forbidden_why(info),
                         context=Context(submission=source.path, data_dir=Path(data_dir) if data_dir else None))
        sub.start()
    ex = registry.load(info)
    _settle_runtime()
    apply_limits(limits, ex.limits)
    if sub is not None:
        sub.begin_exercise(ex.rules, started + limits.exercise_timeout)
    results: list[CheckResult] = []
    hidden_skipped: list[float] = []  # a student's run counts its hidden checks, without running or naming them
    # functions whose smallest failing input is already shown: later checks of them shrink less,
    # and hidden checks neither use nor set this, so public checks read the same in every mode
    shrunk: set[str] = set()
    reference, defaults_seen = _reference(info.id), set()  # each function's defaults: checked once, first check
    try:
        if sub is not None:
            report = sub.ensure_loaded()
            if report.fatal:
                fatal = report.fatal
            notes += [_load_error_note(e, source) for e in report.errors]
        static_rules = {fname: static.rule_violations(source.text, fname, forbid) for fname, forbid in ex.rules.items()}
        for fname, found in static_rules.items():
            if found:
                notes.append(f"{fname} breaks the exercise's rule ({', '.join(ex.rules[fname])} not allowed): "
                             + "; ".join(found))
        for spec in ex.checks:
            if only is not None and not only(spec):
                continue
            if spec.hidden and not instructor:
                hidden_skipped.append(spec.points)
                continue
            again = not spec.hidden and any(f in shrunk for f in spec.functions)
            wrong = None if spec.hidden or sub is None or fatal else _wrong_default(spec, sub, reference, defaults_seen)
            result = _run_check(spec, ex, sub, fatal, static_rules, max_examples,
                                ex.shrink_calls_again if again else ex.shrink_calls, wrong_default=wrong,
                                reference=reference, secret=secret)
            if result.counterexample is not None and is_search(spec) and not spec.hidden:
                shrunk.update(spec.functions)
            results.append(result)
            if on_check is not None:
                on_check(result)
    finally:
        output = ""
        if sub is not None:
            sub.close()
            output = sub.output
    sandbox_note = isolation(sandbox).describe()
    return ExerciseResult(
        exercise=info.id, title=ex.title, submission=source.path.name, sha256=source.sha256, checks=results,
        notes=notes, output=output, sandbox=sandbox_note, instructor=instructor, hidden_skipped=len(hidden_skipped),
        hidden_points_skipped=sum(hidden_skipped), grader_version=__version__,
        duration=round(time.monotonic() - started, 3),
    )


def _settle_runtime() -> None:
    """Tune this process for taking turns with the worker.

    The grader runs its oracle while the worker waits and the other way round: with more
    than one thread, torch's OpenMP workers keep spinning after every small op and take the
    core the worker needs (several times slower on 2 cores). And everything imported so far
    lives until the end: freezing it keeps the garbage collector from walking it again.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    gc.freeze()


def _reference(exercise: str):
    """The exercise's reference module (the documented signatures), or None."""
    import importlib

    try:
        return importlib.import_module(f"grader.reference.{exercise}")
    except ImportError:
        return None


def _wrong_default(spec: CheckSpec, sub: Submission, reference, seen: set[str]) -> str | None:
    """On the first check of each of its functions: a documented default (the reference's) that the
    submission's signature changed, as the check's failure message; else None.

    No example would notice a changed default the checks always pass explicitly (fcnn's
    activation), yet the student's users would: every documented default is part of the task.
    """
    import inspect

    for fname in spec.functions:
        if fname in seen or reference is None or not callable(getattr(reference, fname, None)):
            continue
        seen.add(fname)
        if fname in sub.stubs or fname not in (sub.load.names if sub.load else {}):
            continue
        try:
            expected = {k: p.default for k, p in inspect.signature(getattr(reference, fname)).parameters.items()
                        if p.default is not inspect.Parameter.empty}
            got = sub.probe("defaults", sub.handle(fname)) if expected else {}
        except (Abort, StudentError, TypeError, ValueError):
            continue
        if not isinstance(got, dict):
            continue
        for name, value in expected.items():
            if name in got and got[name] != "<object>" and not _same_default(got[name], value):
                return (f"{fname}'s default {name}={got[name]!r} is not the task's {name}={value!r} — keep the "
                        "signature the exercise file gives (callers rely on the defaults)")
    return None


def _same_default(got, expected) -> bool:
    """Equal as the task means it: a list for a tuple is fine, 1e-5 and 0.00001 are one float."""
    if isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list)):
        return len(got) == len(expected) and all(_same_default(g, e) for g, e in zip(got, expected))
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return got == expected
    return type(got) is type(expected) and got == expected


def _forbidden_why(info: registry.ExerciseInfo) -> str:
    names = list(info.forbidden)
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
    return f"{info.id} is written by hand — {listed} cannot be used in it"


def apply_limits(limits: Limits, overrides: dict) -> None:
    """Set an exercise's LIMITS on ``limits``, where the caller left the default."""
    defaults = Limits()
    for key, value in overrides.items():
        if getattr(limits, key) == getattr(defaults, key):  # the caller's own settings win
            setattr(limits, key, value)


def _load_error_note(err: dict, source: Source) -> str:
    frames = err.get("frames") or []
    where = f"{frames[-1][0]}, line {frames[-1][1]}" if frames else (
        f"cell {err.get('cell')}" if err.get("cell") else source.path.name)
    what = f"{err.get('type', 'Exception')}: {err.get('message', '')}"
    if source.kind == "ipynb":
        return f"{where} raised {what} — the grader carried on with the next cells"
    return f"{where} raised {what} while your file was loading — whatever it defines after that line is missing"



def _run_check(spec: CheckSpec, ex: Exercise, sub: Submission | None, fatal: str | None,
               static_rules: dict[str, list[str]], max_examples: int | None, shrink_calls: int, *,
               wrong_default: str | None = None, reference=None, secret: str = "") -> CheckResult:
    base = dict(name=spec.name, title=spec.title, max_score=spec.points, functions=spec.functions, hidden=spec.hidden)
    if fatal is not None or sub is None:
        return CheckResult(**base, score=0.0, outcome="crash", message=fatal or "nothing could be run")
    for fname in spec.functions:
        if static_rules.get(fname):
            return CheckResult(**base, score=0.0, outcome="rule",
                               message=f"{fname} must not use {', '.join(ex.rules[fname])} here: "
                                       + "; ".join(static_rules[fname]))
        if fname in sub.stubs:
            return CheckResult(**base, score=0.0, outcome="not_implemented", message=f"{fname} is not implemented yet")
    if wrong_default is not None:
        return CheckResult(**base, score=0.0, outcome="failed", message=wrong_default)
    started = time.monotonic()
    sub.begin_check(spec.timeout or sub.limits.check_timeout)
    failures: list[Failure] = []
    error: BaseException | None = None
    try:
        execute(spec, sub, failures, max_examples or spec.max_examples or ex.max_examples,
                 exercise=ex.id, shrink_calls=shrink_calls, secret=secret)
    except BaseException as e:  # noqa: BLE001 - sorted below; KeyboardInterrupt re-raised
        if isinstance(e, KeyboardInterrupt):
            raise
        error = e
    finally:
        details = sub.end_check()
    duration = round(time.monotonic() - started, 3)
    base.update(examples=len(sub.log), duration=duration, details=details)
    if error is None:
        return CheckResult(**base, score=spec.points, outcome="passed")
    if isinstance(error, Verdict):  # the check measured, and says how much it is worth
        return CheckResult(**base, score=round(spec.points * error.fraction, 2), outcome=error.outcome,
                           message=error.message)
    # a check that ran out of time while shrinking still has its smallest failure so far
    if isinstance(error, Abort) and error.kind == "check_timeout" and failures:
        error = failures[-1].error
    if isinstance(error, ShrinkBudgetSpent):
        error = failures[-1].error
    if isinstance(error, Abort):
        return CheckResult(**base, score=0.0, outcome=ABORT_OUTCOMES.get(error.kind, "crash"),
                           message=error.message, frames=error.frames,
                           counterexample=counterexample(failures[-1] if failures else None, error, reference))
    failure = failures[-1] if failures else Failure({}, error, list(sub.log))
    if not isinstance(error, (Mismatch, StudentError)) and failures:
        # hypothesis' own wrappers (Flaky, …): report the student's failure underneath
        error = failure.error
    diagnosis = diagnose(ex.mistakes, spec, failures or [failure], calls=sub.log)
    if isinstance(error, StudentError):
        message = f"{error.function} raised {error.error_type}: {error.message}"
        frames = error.frames
    elif isinstance(error, Mismatch):
        message, frames = f"{label(error, failure)}: {error.detail}", []
    else:
        message = f"the check could not judge the result ({type(error).__name__}: {str(error)[:300]})"
        frames = []
    flaky = _is_flaky(error)
    if flaky:
        message += " (the same input did not always give the same result)"
    return CheckResult(**base, score=0.0, outcome="failed", message=message, frames=frames,
                       counterexample=counterexample(failure, error, reference), diagnosis=diagnosis)


def _is_flaky(error: BaseException) -> bool:
    return type(error).__name__ in ("Flaky", "FlakyFailure")
