"""Hypothesis strategies shared by the checks modules.

In hypothesis' own style: composed from existing strategies, keyword-only ``min_``/``max_``
arguments, small default sizes (small inputs give readable counterexamples), and values
that shrink towards small integers, so that a failing example reads like a slide.
"""

from __future__ import annotations

from functools import lru_cache, wraps

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def _reused(make):
    """Hand out one strategy object per set of arguments.

    A strategy is an immutable description, so the same object draws exactly the same values
    as a fresh one. But composite strategies (``conv_cases``) call these on every draw, and
    hypothesis validates every fresh strategy object before drawing from it: when a failing
    check is shrunk, that was a fifth of the grader's time. Unhashable arguments (a shape
    given as a list) simply get a fresh strategy.
    """
    cached = lru_cache(maxsize=4096)(make)

    @wraps(make)
    def strategy(*args, **kwargs):
        try:
            hash((args, tuple(kwargs.items())))
        except TypeError:
            return make(*args, **kwargs)
        return cached(*args, **kwargs)

    return strategy


@_reused
def small_floats(*, min_value: float = -4.0, max_value: float = 4.0) -> st.SearchStrategy[float]:
    """Return a strategy for floats that are mostly small integers, sometimes with one decimal.

    Integers keep sums exact and counterexamples short; the decimals catch code that
    truncates to int somewhere.
    """
    lo, hi = int(np.ceil(min_value)), int(np.floor(max_value))
    return st.one_of(
        st.integers(lo, hi).map(float),
        st.integers(int(min_value * 10), int(max_value * 10)).map(lambda v: v / 10),
    )


@_reused
def small_values(*, min_value: float = -4.0, max_value: float = 4.0) -> st.SearchStrategy[float]:
    """Return a strategy for array elements: small integers first, then a few decimals.

    A ``sampled_from`` is one cheap draw per element and lets hypothesis fill arrays
    quickly; it shrinks towards the front of the list: 0, 1, -1, 2, …
    """
    values = [0.0]
    for v in range(1, int(max(abs(min_value), abs(max_value))) + 1):
        values += [float(v), float(-v)]
    values += [0.5, -0.5, 1.5, -2.5, 0.1, -0.3, 2.7, -3.9, 0.25, 1.75]
    return st.sampled_from([v for v in values if min_value <= v <= max_value])


@_reused
def float_arrays(shape, *, min_value: float = -4.0, max_value: float = 4.0,
                 dtype=np.float64) -> st.SearchStrategy[np.ndarray]:
    """Return a strategy for float arrays of ``shape`` (a tuple or a strategy of tuples)."""
    return hnp.arrays(dtype, shape, elements=small_values(min_value=min_value, max_value=max_value))


@_reused
def sides(*, min_side: int = 1, max_side: int = 6) -> st.SearchStrategy[int]:
    """Return a strategy for one side length of an image or kernel."""
    return st.integers(min_side, max_side)


@_reused
def probabilities(*, min_value: float = 0.05, max_value: float = 0.95) -> st.SearchStrategy[float]:
    """Return a strategy for a probability, rounded to two decimals (readable, shrinks to 0.5-ish)."""
    return st.integers(int(round(min_value * 100)), int(round(max_value * 100))).map(lambda v: v / 100)
