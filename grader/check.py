"""What a checks module is written with: ``@check``, ``Mistake`` and the ``expect_*`` helpers.

A checks module (``grader/checks/exerciseNN.py``) holds plain functions taking the
submission proxy ``sub``; hypothesis' ``@given`` supplies the inputs::

    @check(points=4, functions=("conv2d",))
    @given(case=conv_cases())
    def conv2d_matches_torch(sub, case):
        \"\"\"conv2d equals torch.nn.functional.conv2d on random shapes, strides and paddings.\"\"\"
        got = sub.conv2d(case.image, case.kernel, stride=case.stride, padding=case.padding)
        expect_array(got, ref.conv2d(...), what="conv2d(image, kernel, …)")

The ``expect_*`` helpers check the exact type first, then shape and dtype, then the values,
and raise ``Mismatch`` with what was expected and what came back. They never trust the
value they are given: it is plain data decoded from the worker, but its type may still be
anything the protocol allows.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .sandbox.protocol import Handle, RemoteArraySubclass, TensorData


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
    student's result matches when it equals ``wrong``'s on the same inputs), or ``matches``,
    a predicate ``matches(got, *args, **kwargs) -> bool`` for mistakes with no single output.
    """

    name: str
    function: str
    message: str
    hint: str = ""
    wrong: Callable | None = None
    matches: Callable | None = None

    def explains(self, got, args: tuple, kwargs: dict) -> bool:
        """Return True if this mistake explains ``got`` for these inputs."""
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


class Mismatch(AssertionError):
    """The student's value is not the expected one (type, shape, dtype or values)."""

    def __init__(self, what: str, reason: str, detail: str, *, expected: Any = None, got: Any = None):
        self.what, self.reason, self.detail, self.expected, self.got = what, reason, detail, expected, got
        super().__init__(f"{what}: {detail}")


# --------------------------------------------------------------------------- type names


def type_name(value) -> str:
    """Return a short, student-readable name of a value's type."""
    if isinstance(value, RemoteArraySubclass):
        return f"{value.subclass} (a subclass of numpy.ndarray)"
    if isinstance(value, TensorData):
        return f"torch.Tensor ({value.dtype})"
    if isinstance(value, Handle):
        return value.type
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray ({value.dtype})"
    if isinstance(value, np.generic):
        return f"numpy.{type(value).__name__}"
    return type(value).__name__


def _as_numeric_array(value) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            return None
        return arr if arr.dtype.kind in "biuf" else None
    if isinstance(value, (numbers.Real, np.generic)) and not isinstance(value, bool):
        return np.asarray(value)
    return None


# --------------------------------------------------------------------------- expectations

FLOAT_RTOL = {np.dtype(np.float16): 2e-3, np.dtype(np.float32): 1e-5}


def expect_array(got, expected, *, what: str, rtol: float = 1e-7, kinds: str = "iuf",
                 allow_list: bool = False) -> np.ndarray:
    """Expect a numpy array equal to ``expected`` (shape exact, values within tolerance).

    ``kinds`` are the accepted dtype kinds ("f" float, "i"/"u" integers, "b" bool);
    ``allow_list`` also accepts nested lists/tuples of numbers. The tolerance is relative to
    the largest expected magnitude, and looser for float32/float16 results.
    """
    expected = np.asarray(expected)
    if isinstance(got, RemoteArraySubclass):
        raise Mismatch(what, "type", f"returned {type_name(got)}; return a plain numpy.ndarray "
                                     "(np.asarray(result) strips the subclass)", expected=expected, got=got.array)
    if isinstance(got, TensorData):
        raise Mismatch(what, "type", "returned a torch.Tensor; this exercise works with numpy arrays "
                                     "(use .numpy(), or numpy throughout)", expected=expected, got=got.array)
    if not isinstance(got, np.ndarray):
        if allow_list and isinstance(got, (list, tuple)):
            arr = _as_numeric_array(got)
            if arr is None:
                raise Mismatch(what, "type", f"returned a {type_name(got)} that is not a rectangular array of numbers",
                               expected=expected, got=got)
            got = arr
        else:
            raise Mismatch(what, "type", f"expected a numpy.ndarray, got {type_name(got)}", expected=expected, got=got)
    if got.dtype.kind not in kinds:
        wanted = " or ".join({"f": "floats", "i": "integers", "u": "unsigned integers", "b": "booleans"}[k] for k in kinds)
        raise Mismatch(what, "dtype", f"expected an array of {wanted}, got dtype {got.dtype}", expected=expected, got=got)
    if got.shape != expected.shape:
        raise Mismatch(what, "shape", f"expected shape {expected.shape}, got shape {got.shape}",
                       expected=expected, got=got)
    exp = expected.astype(np.float64)
    g = got.astype(np.float64)
    if np.isfinite(exp).all() and not np.isfinite(g).all():
        bad = "nan" if np.isnan(g).any() else "inf"
        raise Mismatch(what, "value", f"the result contains {bad}", expected=expected, got=got)
    rtol = max(rtol, FLOAT_RTOL.get(got.dtype, 0.0))
    scale = max(1.0, float(np.max(np.abs(exp)))) if exp.size else 1.0
    err = np.abs(g - exp)
    if exp.size and not np.all(err <= rtol * scale + rtol * np.abs(exp)):
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        at = f" at index {tuple(int(i) for i in idx)}" if exp.ndim else ""
        raise Mismatch(what, "value", f"values differ: largest difference {err[idx]:.4g}{at} "
                                      f"(expected {exp[idx]:.6g}, got {g[idx]:.6g})", expected=expected, got=got)
    return got


def expect_int(got, expected: int, *, what: str) -> int:
    """Expect an integer (Python int or numpy integer) equal to ``expected``."""
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        hint = " (use // or int(...) to return an int)" if isinstance(got, (float, np.floating)) else ""
        raise Mismatch(what, "type", f"expected an int, got {type_name(got)} {got!r}{hint}", expected=expected, got=got)
    if int(got) != int(expected):
        raise Mismatch(what, "value", f"expected {expected}, got {int(got)}", expected=expected, got=got)
    return int(got)


def expect_float(got, expected: float, *, what: str, rtol: float = 1e-7, atol: float = 1e-9) -> float:
    """Expect a real number (int, float, numpy scalar or 0-d array) close to ``expected``."""
    if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "iuf":
        got = got[()]
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise Mismatch(what, "type", f"expected a number, got {type_name(got)}", expected=expected, got=got)
    value = float(got)
    if np.isfinite(expected) and not np.isfinite(value):
        raise Mismatch(what, "value", f"expected {expected:.6g}, got {value}", expected=expected, got=got)
    if isinstance(got, np.float32):
        rtol = max(rtol, 1e-5)
    if not abs(value - expected) <= atol + rtol * max(1.0, abs(expected)):
        raise Mismatch(what, "value", f"expected {expected:.6g}, got {value:.6g}", expected=expected, got=got)
    return value


def expect(condition: bool, what: str, detail: str, *, expected: Any = None, got: Any = None) -> None:
    """Expect a property to hold; ``detail`` says what went wrong when it does not."""
    if not condition:
        raise Mismatch(what, "property", detail, expected=expected, got=got)


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
    # as drawn (0: hypothesis is not even run again, engine._execute)
    shrink_calls: int = 100
    shrink_calls_again: int = 0
