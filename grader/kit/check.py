"""What a checks module declares: ``@check``, ``Mistake``, ``Verdict``, and the ``Exercise`` the
registry builds from it.

A checks module (``grader/checks/exerciseNN.py``) holds plain functions taking the
submission proxy ``sub``; hypothesis' ``@given`` supplies the inputs::

    @check(points=4, functions=("conv2d",))
    @given(case=conv_cases())
    def conv2d_matches_torch(sub, case):
        \"\"\"conv2d equals torch.nn.functional.conv2d on random shapes, strides and paddings.\"\"\"
        got = sub.conv2d(case.image, case.kernel, stride=case.stride, padding=case.padding)
        expect_array(got, ref.conv2d(...), what="conv2d(image, kernel, …)")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection

import numpy as np

from .expect import Mismatch, _as_numeric_array


@dataclass
class CheckSpec:
    """A check's declaration (what ``@check`` attaches to the function)."""

    fn: Callable
    name: str
    title: str
    points: float
    functions: tuple[str, ...]
    hidden: bool = False
    max_examples: int | None = None
    timeout: float | None = None


def check(*, points: float, functions: tuple[str, ...] | list[str] = (), hidden: bool = False,
          max_examples: int | None = None, timeout: float | None = None, title: str | None = None):
    """Declare a check worth ``points``, about the student's ``functions``.

    The title is the docstring's first line unless given. ``hidden`` checks run only with
    ``--instructor``. ``max_examples`` overrides the exercise's default number of examples.
    """
    def decorate(fn):
        doc = (fn.__doc__ or "").strip().splitlines()
        fn.__grader_check__ = CheckSpec(
            fn=fn, name=fn.__name__, title=title or (doc[0].rstrip(".") if doc else fn.__name__.replace("_", " ")),
            points=float(points), functions=tuple(functions), hidden=hidden, max_examples=max_examples,
            timeout=timeout)
        return fn
    return decorate


@dataclass
class Mistake:
    """A typical wrong answer, recognised from what the student's function returned.

    Give ``wrong``, an implementation of the mistake with the function's signature (the
    student's result matches when it equals ``wrong``'s on the same inputs), ``matches``,
    a predicate ``matches(got, *args, **kwargs) -> bool`` for mistakes with no single output,
    or ``observed``, a fact a check noted about the result with ``sub.observe(got, fact)``
    (for results that stay in the worker, such as a model).
    """

    name: str
    function: str
    message: str
    hint: str = ""
    wrong: Callable | None = None
    matches: Callable | None = None
    observed: str | None = None

    def explains(self, got, args: tuple, kwargs: dict, facts: Collection[str] = ()) -> bool:
        """Return True if this mistake explains ``got`` for these inputs (and what was observed of it)."""
        if self.observed is not None:
            return self.observed in facts
        try:
            if self.matches is not None:
                return bool(self.matches(got, *args, **kwargs))
            if self.wrong is None:
                return False
            wrong = self.wrong(*args, **kwargs)
        except Exception:  # the mistake does not apply to these inputs
            return False
        return _same(got, wrong)


def _same(got, wrong) -> bool:
    if isinstance(wrong, tuple) and isinstance(got, (tuple, list)) and len(got) == len(wrong):
        return all(_same(g, w) for g, w in zip(got, wrong))
    w = np.asarray(wrong)
    try:
        g = _as_numeric_array(got)
    except Mismatch:
        return False
    if g is None or g.shape != w.shape:
        return False
    if g.size == 0:
        return True
    if not np.all(np.isfinite(g)) or not np.all(np.isfinite(w)):
        return bool(np.array_equal(np.isnan(g), np.isnan(w)) and np.array_equal(g[~np.isnan(g)], w[~np.isnan(w)]))
    scale = max(1.0, float(np.max(np.abs(w))))
    return bool(np.allclose(g, w, rtol=1e-4, atol=1e-4 * scale))


class Verdict(Exception):
    """The check's own judgement, raised instead of returning: ``fraction`` of its points
    (0 ≤ fraction < 1) and a one-line ``message``, with no counterexample to show.

    For checks that measure rather than compare (exercise11's test accuracy earns points on
    a scale), and for failures where the inputs would only be noise (a weights file that does
    not load). ``outcome`` "data_missing" says the grader, not the student, lacks something.
    Not for checks with ``@given``: hypothesis would shrink it like a failure.
    """

    def __init__(self, fraction: float, message: str, *, outcome: str = "failed"):
        self.fraction, self.message, self.outcome = min(max(float(fraction), 0.0), 1.0), message, outcome
        super().__init__(message)


@dataclass
class Context:
    """What a check may need besides the submission's functions: ``sub.context``.

    Set by the engine for every grading. ``details`` starts empty for every check; what a
    check puts there (JSON-ready data: exercise11's per-class accuracy and confusion matrix)
    ends up in its ``CheckResult.details``.
    """

    submission: Path | None = None  # the graded file; files handed in with it lie beside it
    data_dir: Path | None = None  # --data-dir; None: $DLCOURSE_DATA, else the user cache folder
    details: dict = field(default_factory=dict)


def record_map(sub, title: str, got, expected) -> None:
    """Keep a 2-D map a check found wrong, beside the expected one, for the report's pictures
    (``grader.report.maps``: small images in the terminal, PNG with ``--plots``). The last one
    recorded is kept: for a failed check, the smallest failing example hypothesis ended with."""
    from grader.report.maps import small

    sub.context.details["maps"] = [{"title": title, "expected": small(expected), "got": small(got)}]


@dataclass
class Exercise:
    """Everything the engine needs from a checks module (filled in by the registry)."""

    id: str
    title: str
    checks: list[CheckSpec]
    mistakes: list[Mistake] = field(default_factory=list)
    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    preload: tuple[str, ...] = ()
    max_examples: int = 50
    limits: dict[str, Any] = field(default_factory=dict)
    # examples hypothesis may run to shrink a failure: the first failing check of a function
    # shows the smallest input; later ones of the same function show the first failing input
    # as drawn (0: hypothesis is not even run again, engine.replay.execute)
    shrink_calls: int = 100
    shrink_calls_again: int = 0
