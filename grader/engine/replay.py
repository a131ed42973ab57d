"""Running one check's examples: replay what hypothesis draws, search with it only on a failure.

Every check draws its examples from a fixed seed (``check_seed``, made from the exercise's and
the check's names), so what hypothesis draws for a check that passes is the same for every
submission: drawn once per process (``recorded_examples``; the batch's warm parent draws them
before it forks, ``prepare``) and replayed (``_replay``). Only a check that fails on one of
them runs hypothesis itself (``_search``), which finds the same failure and shrinks it within
the budget the engine gives.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from typing import Callable

from .. import registry
from ..kit.check import CheckSpec
from ..sandbox.proxy import CallRecord, Submission


class ShrinkBudgetSpent(BaseException):
    """Shrinking has run its budget of examples: the smallest failure so far is reported.

    A BaseException, so that hypothesis does not take it for the student's failure and
    stops at once (as it does for KeyboardInterrupt).
    """


@dataclasses.dataclass
class Failure:
    kwargs: dict
    error: BaseException
    calls: list[CallRecord]
    shrunk: bool = False  # found while hypothesis searched (and shrank)


def execute(spec: CheckSpec, sub: Submission, failures: list[Failure], max_examples: int,
             *, exercise: str, shrink_calls: int, secret: str = "") -> None:
    """Run one check: replay its examples, and only when one fails let hypothesis search and shrink."""
    fn = spec.fn
    if not is_search(spec):
        try:
            fn(sub)
        except Exception as e:
            failures.append(Failure({}, e, list(sub.log)))
            raise
        return
    failed = _replay(spec, sub, recorded_examples(exercise, spec, max_examples, secret=secret))
    if failed is None:
        return
    if shrink_calls == 0 and _is_failure(failed.error):
        # what hypothesis would report without shrinking: its first failing example, this one
        failures.append(failed)
        raise failed.error
    _search(spec, sub, failures, max_examples, seed=check_seed(exercise, spec.name, secret), shrink_calls=shrink_calls)


def is_search(spec: CheckSpec) -> bool:
    return getattr(spec.fn, "hypothesis", None) is not None


def check_seed(exercise: str, check: str, secret: str = "") -> int:
    """Return the fixed seed of one check's examples.

    Derived from the exercise's and the check's names only, so the examples a check draws
    change when its strategy changes and never with the grader's own code around it
    (``derandomize`` would hash the source of whatever function hypothesis is handed).
    Official grading mixes in the course's ``secret`` (``grader.secret``): a student's local
    run meets the public examples, an official one others that the student cannot have seen,
    the same for every submission and on every machine that holds the same secret.
    """
    text = f"{exercise}:{check}" if not secret else f"{secret}\0{exercise}:{check}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _seed_alone() -> None:
    """Make what hypothesis draws depend on the seed alone.

    Hypothesis (6.13x and later) mixes literals it finds in the *loaded* local modules (those
    not under site-packages) into about 5 % of its draws. So the examples depended on what else
    the process had imported: under an editable install the checkout's modules, from a wheel
    none; in a test run, whatever earlier tests loaded. The same submission could meet other
    inputs in a student's run, a batch child and CI. With no local constants it cannot.
    Private API: where it is missing (an older or a newer hypothesis) this does nothing, and
    tests/test_engine.py's replay test says whether the examples still depend on the seed alone.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - hypothesis reorganised
        return
    if getattr(providers, "_get_local_constants", None) is _no_constants or not hasattr(providers, "Constants"):
        return
    empty = providers.Constants()
    _no_constants.empty = empty
    providers._get_local_constants = _no_constants
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None and hasattr(cache, "cache"):
        cache.cache.clear()  # pools computed with the local constants so far


def _no_constants():
    return _no_constants.empty


def _hypothesis_settings(fn: Callable, max_examples: int, seed: int) -> None:
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import seed as use_seed

    _seed_alone()

    # the same check function is graded again and again in one process (batch, tests):
    # forget the previous run's settings before applying this run's
    fn.__dict__.pop("_hypothesis_internal_settings_applied", None)
    settings(
        max_examples=max_examples, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False, verbosity=Verbosity.quiet,
        print_blob=False, phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )(fn)
    use_seed(seed)(fn)


_RECORDED: dict[tuple[str, str, int, str], list[dict]] = {}


def recorded_examples(exercise: str, spec: CheckSpec, max_examples: int, *, secret: str = "") -> list[dict]:
    """Return the inputs hypothesis gives this check when every example passes, in order.

    With a fixed seed, what hypothesis generates depends only on whether each example passed
    (a failure starts the shrinking), never on anything else the test did. So the inputs of
    a passing run are the same for every submission: they are drawn once per process (the
    batch's warm parent draws them before it forks) and every submission replays them. Only
    a check that fails on one of them runs hypothesis itself, which then finds the same
    failure and shrinks it. A student's run and a batch take this same path, call the
    submission with the same inputs in the same order, and give the same result.
    """
    key = (exercise, spec.name, max_examples, secret)
    if key not in _RECORDED:
        drawn: list[dict] = []
        hyp = spec.fn.hypothesis
        inner = hyp.inner_test
        hyp.inner_test = lambda *args, **kwargs: drawn.append(_drawn(kwargs))
        try:
            _hypothesis_settings(spec.fn, max_examples, check_seed(exercise, spec.name, secret))
            spec.fn(None)
        finally:
            hyp.inner_test = inner
        _RECORDED[key] = drawn
    return _RECORDED[key]


def prepare(exercise: str | registry.ExerciseInfo, *, secret: str = "") -> int:
    """Draw every check's examples now (before forking graders); return how many were drawn."""
    info = exercise if isinstance(exercise, registry.ExerciseInfo) else registry.find_exercise(exercise)
    ex = registry.load(info)
    return sum(len(recorded_examples(ex.id, spec, spec.max_examples or ex.max_examples, secret=secret))
               for spec in ex.checks if is_search(spec))


def _drawn(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if k != "sub"}


def _replay(spec: CheckSpec, sub: Submission, examples: list[dict]) -> Failure | None:
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
            return Failure(kwargs, e, sub.log[start:])
    return None


def _is_failure(error: BaseException) -> bool:
    """Is this what the check raises for a wrong result (not hypothesis' own control flow)?"""
    from hypothesis.errors import HypothesisException

    return not isinstance(error, HypothesisException)



def _search(spec: CheckSpec, sub: Submission, failures: list[Failure], max_examples: int,
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
            failures.append(Failure(_drawn(kwargs), e, sub.log[start:], shrunk=True))
            del failures[:-12]
            raise

    hyp.inner_test = recording
    try:
        _hypothesis_settings(fn, max_examples, seed)
        fn(sub)
    finally:
        hyp.inner_test = inner
