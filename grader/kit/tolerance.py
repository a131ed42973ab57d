"""How far may a correct answer be from the oracle? As far as rounding in its own precision can push it.

A fixed relative bound is wrong both ways. It is too strict where the computation amplifies
rounding: standardizing a constant pixel divides a difference of nearly equal numbers (about one
float32 ulp of the pixel) by ``std + eps`` with ``eps = 1e-4``, so a correct float32 answer is
off by 1e-3 where the float64 oracle says 0. And it is needlessly loose where nothing amplifies.

The model here is backward stability, the property every sensible implementation of these
formulas has (loops or vectorized, any summation order): its result is the *exact* result for
inputs changed by a few units of roundoff of the precision it computes in. So we ask the oracle
itself how much its output moves when its float inputs are perturbed by that much, a few
times with fixed seeds (same verdict on every run and machine), and allow a margin over that.
A wrong formula moves the output by far more than rounding does, except where the two formulas
agree up to rounding anyway — and there no test could tell them apart.
"""

from __future__ import annotations

import numpy as np

TRIALS = 4  # perturbed oracle calls per comparison
ULPS = 8  # relative size of the input perturbation, in units of roundoff of the result's precision
MARGIN = 2.0  # allowed error = MARGIN × the largest change the perturbations caused


def unit_roundoff(dtype) -> float:
    """Return the unit roundoff (half the machine epsilon) of a float dtype; float64's for anything else."""
    dtype = np.dtype(dtype)
    return float(np.finfo(dtype).eps) / 2 if dtype.kind == "f" else float(np.finfo(np.float64).eps) / 2


def _perturb(value, rel: float, rng: np.random.Generator):
    """``value`` with every float scaled by (1 + rel·r), r uniform in [−1, 1]; anything else as it is."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value * (1 + rel * rng.uniform(-1, 1, size=value.shape))
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        return type(value)(value * (1 + rel * rng.uniform(-1, 1)))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
        return type(value)(_perturb(v, rel, rng) for v in value)
    return value


def _distance(a, b):
    """Elementwise |a − b| with the structure of the oracle's result (an array, a number or a tuple of them)."""
    if isinstance(a, (tuple, list)):
        return tuple(_distance(x, y) for x, y in zip(a, b))
    with np.errstate(invalid="ignore"):
        d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return np.where(np.isfinite(d), d, 0.0)


def _maximum(a, b):
    if isinstance(a, tuple):
        return tuple(_maximum(x, y) for x, y in zip(a, b))
    return np.maximum(a, b)


def rounding_tolerance(oracle, args: tuple, kwargs: dict | None = None, *, dtype=np.float64, expected=None):
    """Return the error, per element, a correct result computed in ``dtype`` may have.

    ``oracle(*args, **kwargs)`` is the float64 reference; ``expected`` is its result when the
    caller has it already. The answer has the structure of the oracle's result (an array, a
    number, or a tuple of arrays) and is ``MARGIN`` times the largest change of the oracle's
    result over ``TRIALS`` seeded perturbations of its float inputs by ``ULPS`` units of
    roundoff of ``dtype``.
    """
    kwargs = kwargs or {}
    if expected is None:
        expected = oracle(*args, **kwargs)
    rel = ULPS * unit_roundoff(dtype)
    rng = np.random.default_rng(0)
    worst = None
    with np.errstate(all="ignore"):
        for _ in range(TRIALS):
            moved = oracle(*(_perturb(a, rel, rng) for a in args), **{k: _perturb(v, rel, rng) for k, v in kwargs.items()})
            change = _distance(moved, expected)
            worst = change if worst is None else _maximum(worst, change)
    return _scale(worst)


def _scale(tol):
    if isinstance(tol, tuple):
        return tuple(_scale(t) for t in tol)
    return MARGIN * tol


def result_dtype(got) -> np.dtype:
    """The precision a result was computed in: its float dtype (the lowest among a tuple's arrays), else float64."""
    if isinstance(got, (tuple, list)):
        dtypes = [result_dtype(g) for g in got if isinstance(g, (np.ndarray, np.floating))]
        return min(dtypes, key=lambda d: d.itemsize) if dtypes else np.dtype(np.float64)
    if isinstance(got, (np.ndarray, np.floating)) and got.dtype.kind == "f":
        return got.dtype
    return np.dtype(np.float64)  # Python numbers, integers, anything else
