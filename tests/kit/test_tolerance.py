"""grader.kit.tolerance: the allowed error follows the answer's precision and the computation's conditioning."""

import numpy as np

from grader.kit.tolerance import result_dtype, rounding_tolerance
from grader.reference import exercise03, exercise07


def test_a_constant_pixel_standardized_in_float32_is_allowed_the_error_float32_really_makes():
    train = np.full((3, 1), -3.9)
    (tol,) = rounding_tolerance(exercise07.standardize, (train,), {"eps": 1e-4}, dtype=np.float32)
    t32 = train.astype(np.float32)
    real_error = np.abs((t32 - t32.mean(axis=0)) / (t32.std(axis=0) + np.float32(1e-4)))  # the oracle says 0
    assert real_error.max() > 1e-3
    assert np.all(real_error <= tol)


def test_a_well_conditioned_computation_gets_a_tolerance_of_a_few_ulps_only():
    train = np.array([[0.0, 10.0], [2.0, 30.0], [1.0, 25.0]])
    (tol,) = rounding_tolerance(exercise07.standardize, (train,), {"eps": 1e-4}, dtype=np.float32)
    assert 0 < tol.max() < 1e-5  # far below any typical mistake's effect (ε on the variance: ~1e-4 here)


def test_float64_answers_are_allowed_a_billionth_of_the_float32_tolerance():
    rng = np.random.default_rng(1)
    image, kernel = rng.normal(size=(5, 5)), rng.normal(size=(3, 3))
    t32 = rounding_tolerance(exercise03.conv2d, (image, kernel), dtype=np.float32)
    t64 = rounding_tolerance(exercise03.conv2d, (image, kernel), dtype=np.float64)
    assert t64.shape == t32.shape == (3, 3)
    assert np.all(t64 < t32 * 1e-8)


def test_the_tolerance_is_the_same_on_every_call():
    x = np.random.default_rng(2).normal(size=(4, 3))
    a = rounding_tolerance(exercise07.standardize, (x, x[:2]), {"eps": 1e-4}, dtype=np.float32)
    b = rounding_tolerance(exercise07.standardize, (x, x[:2]), {"eps": 1e-4}, dtype=np.float32)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_the_precision_of_a_result_is_its_lowest_float_dtype():
    assert result_dtype(np.zeros(2, np.float32)) == np.float32
    assert result_dtype((np.zeros(2), np.zeros(2, np.float16))) == np.float16
    assert result_dtype([1.0, 2.0]) == np.float64
    assert result_dtype(np.zeros(2, np.int64)) == np.float64
