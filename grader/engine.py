"""Grade one submission of one exercise: ``grade("exercise03", "exercise03.py")``.

The steps: read the submission (``collect``), look at its source (``static``), start the
worker and load the code into it (``sandbox``), run every check with fixed hypothesis
settings (replaying the examples hypothesis draws for it, and searching with hypothesis only
when one fails), and for each failing check keep the smallest counterexample found within
the shrink budget, the expected and the returned value, and the typical mistake it matches.
Returns an ``ExerciseResult``; turning that into text, JSON or JUnit is ``grader.report``'s job.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import hashlib
import sys
import time
from pathlib import Path
from typing import Callable

from . import __version__, registry, static
from .kit.check import CheckSpec, Context, Exercise, Mistake, Verdict
from .kit.expect import Mismatch
from .collect import Source, staged
from .report.fmt import show, show_call
from .results import CheckResult, Counterexample, Diagnosis, ExerciseResult
from .sandbox.process import Limits, isolation
from .sandbox.proxy import Abort, CallRecord, StudentError, Submission

ABORT_OUTCOMES = {
    "not_implemented": "not_implemented", "missing": "missing", "timeout": "timeout", "check_timeout": "timeout",
    "exercise_timeout": "timeout", "crash": "crash", "exit": "crash", "protocol": "crash", "load": "crash",
    "rule": "rule",
}


def grade(exercise: str | registry.ExerciseInfo, submission: str | Path | Source, *, instructor: bool = False,
          sandbox: bool = True, limits: Limits | None = None, hidden_paths: tuple[str, ...] = (),
          max_examples: int | None = None, on_check: Callable[[CheckResult], None] | None = None,
          only: Callable[[CheckSpec], bool] | None = None, data_dir: str | Path | None = None) -> ExerciseResult:
    """Grade ``submission`` (a path or a read ``Source``) for ``exercise`` (id, name or info).

    ``only`` selects a subset of the checks (the project's own tests use it to stay fast).
    ``data_dir`` is where checks that need a dataset look for it (exercise11's test images).
    """
    info = exercise if isinstance(exercise, registry.ExerciseInfo) else registry.find_exercise(exercise)
    if not isinstance(submission, Source):  # grade a private copy: the checks never follow the student's links
        with staged(Path(submission), stems=(info.id,)) as source:
            return grade(info, source, instructor=instructor, sandbox=sandbox, limits=limits,
                         hidden_paths=hidden_paths, max_examples=max_examples, on_check=on_check, only=only,
                         data_dir=data_dir)
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
        _apply_limits(limits, dict(info.limits))  # before the worker starts: its memory limit is set at birth
        sub = Submission([c.to_wire() for c in source.cells], limits=limits, preload=info.preload,
                         hidden=hidden_paths, sandbox=sandbox, stubs=stubs, forbidden=info.forbidden,
                         forbidden_why=_forbidden_why(info))
        sub.context = Context(submission=source.path, data_dir=Path(data_dir) if data_dir else None)
        sub.start()
    ex = registry.load(info)
    _settle_runtime()
    _apply_limits(limits, ex.limits)
    if sub is not None:
        sub.rules = dict(ex.rules)
        sub.exercise_deadline = started + limits.exercise_timeout
    results: list[CheckResult] = []
    hidden_skipped: list[float] = []  # a student's run counts its hidden checks, without running or naming them
    # functions whose smallest failing input is already shown: later checks of them shrink less,
    # and hidden checks neither use nor set this, so public checks read the same in every mode
    shrunk: set[str] = set()
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
            if sub is not None:
                sub.context.details = {}
            again = not spec.hidden and any(f in shrunk for f in spec.functions)
            result = _run_check(spec, ex, sub, fatal, static_rules, max_examples,
                                ex.shrink_calls_again if again else ex.shrink_calls)
            if result.counterexample is not None and _is_search(spec) and not spec.hidden:
                shrunk.update(spec.functions)
            if sub is not None:
                result.details = sub.context.details
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


def _forbidden_why(info: registry.ExerciseInfo) -> str:
    names = list(info.forbidden)
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
    return f"{info.id} is written by hand — {listed} cannot be used in it"


def _apply_limits(limits: Limits, overrides: dict) -> None:
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


# --------------------------------------------------------------------------- one check


class ShrinkBudgetSpent(BaseException):
    """Shrinking has run its budget of examples: the smallest failure so far is reported.

    A BaseException, so that hypothesis does not take it for the student's failure and
    stops at once (as it does for KeyboardInterrupt).
    """


@dataclasses.dataclass
class _Failure:
    kwargs: dict
    error: BaseException
    calls: list[CallRecord]
    shrunk: bool = False  # found while hypothesis searched (and shrank)


def _run_check(spec: CheckSpec, ex: Exercise, sub: Submission | None, fatal: str | None,
               static_rules: dict[str, list[str]], max_examples: int | None, shrink_calls: int) -> CheckResult:
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
    started = time.monotonic()
    sub.log = []
    sub.deadline = started + (spec.timeout or sub.limits.check_timeout)
    failures: list[_Failure] = []
    error: BaseException | None = None
    try:
        _execute(spec, sub, failures, max_examples or spec.max_examples or ex.max_examples,
                 exercise=ex.id, shrink_calls=shrink_calls)
    except BaseException as e:  # noqa: BLE001 - sorted below; KeyboardInterrupt re-raised
        if isinstance(e, KeyboardInterrupt):
            raise
        error = e
    finally:
        sub.deadline = None
    duration = round(time.monotonic() - started, 3)
    base.update(examples=len(sub.log), duration=duration)
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
                           counterexample=_counterexample(failures[-1] if failures else None, error))
    failure = failures[-1] if failures else _Failure({}, error, list(sub.log))
    if not isinstance(error, (Mismatch, StudentError)) and failures:
        # hypothesis' own wrappers (Flaky, …): report the student's failure underneath
        error = failure.error
    diagnosis = _diagnose(ex.mistakes, spec, failures or [failure])
    if isinstance(error, StudentError):
        message = f"{error.function} raised {error.error_type}: {error.message}"
        frames = error.frames
    elif isinstance(error, Mismatch):
        message, frames = f"{error.what}: {error.detail}", []
    else:
        message = f"the check could not judge the result ({type(error).__name__}: {str(error)[:300]})"
        frames = []
    flaky = _is_flaky(error)
    if flaky:
        message += " (the same input did not always give the same result)"
    return CheckResult(**base, score=0.0, outcome="failed", message=message, frames=frames,
                       counterexample=_counterexample(failure, error), diagnosis=diagnosis)


def _is_flaky(error: BaseException) -> bool:
    return type(error).__name__ in ("Flaky", "FlakyFailure")


def _execute(spec: CheckSpec, sub: Submission, failures: list[_Failure], max_examples: int,
             *, exercise: str, shrink_calls: int) -> None:
    """Run one check: replay its examples, and only when one fails let hypothesis search and shrink."""
    fn = spec.fn
    if not _is_search(spec):
        try:
            fn(sub)
        except Exception as e:
            failures.append(_Failure({}, e, list(sub.log)))
            raise
        return
    failed = _replay(spec, sub, recorded_examples(exercise, spec, max_examples))
    if failed is None:
        return
    if shrink_calls == 0 and _is_failure(failed.error):
        # what hypothesis would report without shrinking: its first failing example, this one
        failures.append(failed)
        raise failed.error
    _search(spec, sub, failures, max_examples, seed=check_seed(exercise, spec.name), shrink_calls=shrink_calls)


def _is_search(spec: CheckSpec) -> bool:
    return getattr(spec.fn, "hypothesis", None) is not None


def check_seed(exercise: str, check: str) -> int:
    """Return the fixed seed of one check's examples.

    Derived from the exercise's and the check's names only, so the examples a check draws
    change when its strategy changes and never with the grader's own code around it
    (``derandomize`` would hash the source of whatever function hypothesis is handed).
    """
    return int.from_bytes(hashlib.sha256(f"{exercise}:{check}".encode()).digest()[:8], "big")


def _hypothesis_settings(fn: Callable, max_examples: int, seed: int) -> None:
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import seed as use_seed

    # the same check function is graded again and again in one process (batch, tests):
    # forget the previous run's settings before applying this run's
    fn.__dict__.pop("_hypothesis_internal_settings_applied", None)
    settings(
        max_examples=max_examples, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False, verbosity=Verbosity.quiet,
        print_blob=False, phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )(fn)
    use_seed(seed)(fn)


# --------------------------------------------------------------------------- replaying examples

_RECORDED: dict[tuple[str, str, int], list[dict]] = {}


def recorded_examples(exercise: str, spec: CheckSpec, max_examples: int) -> list[dict]:
    """Return the inputs hypothesis gives this check when every example passes, in order.

    With a fixed seed, what hypothesis generates depends only on whether each example passed
    (a failure starts the shrinking), never on anything else the test did. So the inputs of
    a passing run are the same for every submission: they are drawn once per process (the
    batch's warm parent draws them before it forks) and every submission replays them. Only
    a check that fails on one of them runs hypothesis itself, which then finds the same
    failure and shrinks it. A student's run and a batch take this same path, call the
    submission with the same inputs in the same order, and give the same result.
    """
    key = (exercise, spec.name, max_examples)
    if key not in _RECORDED:
        drawn: list[dict] = []
        hyp = spec.fn.hypothesis
        inner = hyp.inner_test
        hyp.inner_test = lambda *args, **kwargs: drawn.append(_drawn(kwargs))
        try:
            _hypothesis_settings(spec.fn, max_examples, check_seed(exercise, spec.name))
            spec.fn(None)
        finally:
            hyp.inner_test = inner
        _RECORDED[key] = drawn
    return _RECORDED[key]


def prepare(exercise: str | registry.ExerciseInfo) -> int:
    """Draw every check's examples now (before forking graders); return how many were drawn."""
    info = exercise if isinstance(exercise, registry.ExerciseInfo) else registry.find_exercise(exercise)
    ex = registry.load(info)
    return sum(len(recorded_examples(ex.id, spec, spec.max_examples or ex.max_examples))
               for spec in ex.checks if _is_search(spec))


def _drawn(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if k != "sub"}


def _replay(spec: CheckSpec, sub: Submission, examples: list[dict]) -> _Failure | None:
    """Run the check's body on each recorded input; return the first that does not pass, if any.

    Each input is a fresh copy (the body may change what it is given). Hypothesis would seed
    the global random generators around each example; check bodies never use them (they pass
    explicit generators, tests/test_engine.py holds every check to that), so nothing is seeded.
    """
    inner = spec.fn.hypothesis.inner_test
    for kwargs in examples:
        start = len(sub.log)
        try:
            inner(sub, **copy.deepcopy(kwargs))
        except Exception as e:  # noqa: BLE001 - reported, or hypothesis runs the check again
            return _Failure(kwargs, e, sub.log[start:])
    return None


def _is_failure(error: BaseException) -> bool:
    """Is this what the check raises for a wrong result (not hypothesis' own control flow)?"""
    from hypothesis.errors import HypothesisException

    return not isinstance(error, HypothesisException)


# --------------------------------------------------------------------------- searching with hypothesis


def _search(spec: CheckSpec, sub: Submission, failures: list[_Failure], max_examples: int,
            *, seed: int, shrink_calls: int) -> None:
    """Run the check under hypothesis: generate, and shrink the first failure within ``shrink_calls`` examples."""
    fn = spec.fn
    hyp = fn.hypothesis
    inner = hyp.inner_test
    shrinking = 0  # examples run since the first failure

    def recording(*args, **kwargs):
        nonlocal shrinking
        if failures:
            shrinking += 1
            if shrinking > shrink_calls:
                raise ShrinkBudgetSpent()
        start = len(sub.log)
        try:
            return inner(*args, **kwargs)
        except Exception as e:
            if not _is_failure(e):  # assume() and the like: hypothesis' own business
                raise
            failures.append(_Failure(_drawn(kwargs), e, sub.log[start:], shrunk=True))
            del failures[:-12]
            raise

    hyp.inner_test = recording
    try:
        _hypothesis_settings(fn, max_examples, seed)
        fn(sub)
    finally:
        hyp.inner_test = inner


# --------------------------------------------------------------------------- reporting a failure


def _expand(kwargs: dict) -> dict[str, str]:
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, tuple) and any(dataclasses.is_dataclass(v) for v in value):
            for i, v in enumerate(value):
                out.update(_expand({f"{key}[{i}]": v}))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                out[f.name] = show(getattr(value, f.name))
        elif isinstance(value, dict) and all(isinstance(k, str) for k in value) and len(value) <= 8:
            out.update({k: show(v) for k, v in value.items()})
        else:
            out[key] = show(value)
    return out


def _failing_call(failure: _Failure, error: BaseException) -> CallRecord | None:
    for record in reversed(failure.calls):
        if isinstance(error, Mismatch) and record.result is not None and record.result is error.got:
            return record
        if isinstance(error, StudentError) and record.error is error:
            return record
    return failure.calls[-1] if failure.calls else None


def _counterexample(failure: _Failure | None, error: BaseException) -> Counterexample | None:
    if failure is None:
        return None
    record = _failing_call(failure, error)
    inputs = _expand(failure.kwargs)
    if not inputs and record is None:
        return None
    call = show_call(record.function, record.args, record.kwargs) if record is not None else None
    if not inputs and record is not None:  # a fixed-input check: show the call's own arguments
        inputs = {f"argument {i + 1}": show(a) for i, a in enumerate(record.args)} | {k: show(v) for k, v in record.kwargs.items()}
    expected = got = None
    if isinstance(error, Mismatch):
        expected = None if error.expected is None else show(error.expected)
        got = show(error.got)
    elif isinstance(error, StudentError):
        got = f"{error.error_type}: {error.message}"
    return Counterexample(inputs=inputs, call=call, expected=expected, got=got, shrunk=failure.shrunk)


def _diagnose(mistakes: list[Mistake], spec: CheckSpec, failures: list[_Failure]) -> Diagnosis | None:
    """Return the typical mistake that explains the failing results best (or None).

    Every call that came back with a value during a failing example is a piece of evidence;
    The evidence is the call whose result failed in each failing example; a mistake is named
    when it explains the smallest failing example and at least half of the evidence for its
    function.
    """
    candidates = [m for m in mistakes if not spec.functions or m.function in spec.functions]
    if not candidates:
        return None
    evidence = [_failing_call(f, f.error) for f in failures]
    records = [r for r in evidence if r is not None and r.error is None and r.result is not None]
    last = records[-1:] if evidence[-1] is not None and records and records[-1] is evidence[-1] else []
    best, best_ratio = None, 0.0
    for mistake in candidates:
        mine = [r for r in records if r.function == mistake.function]
        if not mine:
            continue
        if not any(mistake.explains(r.result, r.args, r.kwargs, r.facts) for r in last
                   if r.function == mistake.function):
            continue
        ratio = sum(mistake.explains(r.result, r.args, r.kwargs, r.facts) for r in mine) / len(mine)
        if ratio >= 0.5 and ratio > best_ratio:
            best, best_ratio = mistake, ratio
    return None if best is None else Diagnosis(best.name, best.message, best.hint)
