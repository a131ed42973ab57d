"""Reporting a failing check: the counterexample to show, and the typical mistake it matches.

The evidence is what the engine recorded of the calls into the submission (``CallRecord``:
arguments, result or error, and what checks observed of a result with ``sub.observe``).
"""

from __future__ import annotations

import dataclasses

from ..kit.check import CheckSpec, Mistake
from ..kit.expect import Mismatch
from ..report.fmt import show, show_call
from ..results import Counterexample, Diagnosis
from ..sandbox.proxy import CallRecord, StudentError
from .replay import Failure


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


def failing_call(failure: Failure, error: BaseException) -> CallRecord | None:
    """The call whose result (or error) failed the check, from the engine's own record of calls."""
    for record in reversed(failure.calls):
        if isinstance(error, Mismatch) and record.result is not None and record.result is error.got:
            return record
        if isinstance(error, StudentError) and record.error is error:
            return record
    return failure.calls[-1] if failure.calls else None


def argument_names(function, args: tuple) -> list[str]:
    """Name positional arguments as the documented signature of ``function`` does ("image", "others[0]"),
    falling back on "argument 1", … where there is no signature to go by."""
    import inspect

    names: list[str] = []
    try:
        params = list(inspect.signature(function).parameters.values()) if function is not None else []
    except (TypeError, ValueError):
        params = []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for i in range(len(args)):
        star = next((p for p in params[:i + 1] if p.kind == p.VAR_POSITIONAL), None)
        if star is not None:
            names.append(f"{star.name}[{i - params.index(star)}]")
        elif i < len(params) and params[i].kind in positional:
            names.append(params[i].name)
        else:
            names.append(f"argument {i + 1}")
    return names


def counterexample(failure: Failure | None, error: BaseException, reference=None) -> Counterexample | None:
    if failure is None:
        return None
    record = failing_call(failure, error)
    inputs = _expand(failure.kwargs)
    if not inputs and record is None:
        return None
    call = show_call(record.function, record.args, record.kwargs) if record is not None else None
    if not inputs and record is not None:  # a fixed-input check: show the call's own arguments
        names = argument_names(getattr(reference, record.function, None), record.args)
        inputs = {n: show(a) for n, a in zip(names, record.args)} | {k: show(v) for k, v in record.kwargs.items()}
    expected = got = None
    if isinstance(error, Mismatch):
        expected = None if error.expected is None else show(error.expected)
        got = show(error.got)
    elif isinstance(error, StudentError):
        got = f"{error.error_type}: {error.message}"
    return Counterexample(inputs=inputs, call=call, expected=expected, got=got, shrunk=failure.shrunk)


def diagnose(mistakes: list[Mistake], spec: CheckSpec, failures: list[Failure],
             calls: list[CallRecord] = ()) -> Diagnosis | None:
    """Return the typical mistake that explains the failing results best (or None).

    The evidence is the call whose result failed in each failing example (hypothesis' search
    and shrinking give several); a mistake is named when it explains the smallest failing
    example and at least half of the evidence for its function. Mistakes that explain the
    evidence equally well (a small input on which they give the same result) are separated
    by every other call the check made (``calls``): the student's results where they were
    right are evidence too, against a mistake that would have been wrong there. Those still
    alike are named together, instead of one picked at random.
    """
    candidates = [m for m in mistakes if not spec.functions or m.function in spec.functions]
    if not candidates:
        return None
    evidence = [failing_call(f, f.error) for f in failures]
    records = [r for r in evidence if r is not None and r.error is None and r.result is not None]
    last = records[-1:] if evidence[-1] is not None and records and records[-1] is evidence[-1] else []
    ranked = []
    for mistake in candidates:
        mine = [r for r in records if r.function == mistake.function]
        if not mine:
            continue
        if not any(mistake.explains(r.result, r.args, r.kwargs, r.facts) for r in last
                   if r.function == mistake.function):
            continue
        ratio = sum(mistake.explains(r.result, r.args, r.kwargs, r.facts) for r in mine) / len(mine)
        if ratio >= 0.5:
            ranked.append((ratio, mistake))
    if not ranked:
        return None
    top = max(ratio for ratio, _ in ranked)
    tied = [m for ratio, m in ranked if ratio == top]  # in the order the checks module lists them
    if len(tied) > 1:
        tied = _separate(tied, [r for r in calls if r.error is None and r.result is not None])
    best = tied[0]
    return Diagnosis(best.name, best.message, best.hint, also=tuple(m.message for m in tied[1:]))


def _separate(tied: list[Mistake], calls: list[CallRecord]) -> list[Mistake]:
    """The mistakes among ``tied`` that reproduce the most of the student's results over all calls."""
    share = {}
    for mistake in tied:
        mine = [r for r in calls if r.function == mistake.function]
        share[mistake.name] = (sum(mistake.explains(r.result, r.args, r.kwargs, r.facts) for r in mine) / len(mine)
                               if mine else 0.0)
    top = max(share.values())
    return [m for m in tied if share[m.name] == top]


def label(error: Mismatch, failure: Failure) -> str:
    """What a Mismatch is about: the check's own ``what=``, else the failing call as recorded
    ("conv2d(…)"), so that a check need not repeat what the engine already knows."""
    if error.what:
        return error.what
    record = failing_call(failure, error)
    return f"{record.function}(…)" if record is not None else "the result"
