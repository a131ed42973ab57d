"""The course's strategies: small readable values, shapes as asked, one object per arguments."""

import numpy as np
from hypothesis import find, given, settings

from grader.kit import float_arrays, probabilities, sides, small_floats, small_values


@settings(max_examples=50, database=None)
@given(x=float_arrays((2, 3)), v=small_floats(), p=probabilities(), k=sides(max_side=3))
def test_drawn_values_stay_in_their_ranges_and_shapes(x, v, p, k):
    assert x.shape == (2, 3) and x.dtype == np.float64 and np.all(np.abs(x) <= 4)
    assert -4 <= v <= 4 and abs(v * 10 - round(v * 10)) < 1e-9
    assert 0.05 <= p <= 0.95 and abs(p * 100 - round(p * 100)) < 1e-9
    assert 1 <= k <= 3


def test_small_values_shrink_towards_zero_then_small_integers():
    # what a counterexample shows: the simplest value that still fails
    assert find(small_values(), lambda v: True) == 0.0
    assert find(small_values(), lambda v: v != 0) == 1.0
    assert find(small_floats(), lambda v: v >= 3) == 3.0 and find(small_floats(), lambda v: v != int(v)) == 0.1


def test_the_same_arguments_give_the_same_strategy_object():
    assert float_arrays((2, 2)) is float_arrays((2, 2))
    assert float_arrays((2, 2)) is not float_arrays((3, 2))
    assert small_values(min_value=-1.0) is small_values(min_value=-1.0)
