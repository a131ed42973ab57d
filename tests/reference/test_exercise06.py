"""Tests of the exercise06 reference (dropout expectations) and of its model solution."""

import doctest
import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.reference import exercise06 as ref

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise06.py"


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_06", SOLUTION_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()


def _enumerated_expectation(w, x, p):
    """E[sum w_i x_i m_i] as the probability-weighted sum over all 2^n masks."""
    total = 0.0
    for mask in itertools.product((0, 1), repeat=len(w)):
        m = np.array(mask)
        prob = np.prod(np.where(m == 1, 1 - p, p))
        total += prob * np.sum(w * x * m)
    return total


def _random_cases(n_cases=30, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n = int(rng.integers(1, 11))
        w = rng.normal(size=n) * rng.choice([0.1, 1.0, 10.0])
        x = rng.normal(size=n) * rng.choice([0.1, 1.0, 10.0])
        p = float(rng.choice([0.0, rng.uniform(0, 1), 0.5, 0.9]))
        yield w, x, p


# --- worked numbers -----------------------------------------------------------------------------


def test_expected_output_reproduces_the_slide_example_with_p_one_half():
    for w0, w1, x, y in [(1.0, 1.0, 1.0, 1.0), (2.0, -3.0, 0.5, 4.0), (0.3, 0.7, -1.2, 2.5)]:
        got = ref.expected_output(np.array([w0, w1]), np.array([x, y]), 0.5)
        assert got == pytest.approx(0.5 * (w0 * x + w1 * y), abs=1e-15)
        assert isinstance(got, float)


def test_expected_output_is_the_keep_probability_times_the_dot_product():
    w, x = np.array([2.0, 4.0, -1.0]), np.array([1.0, 3.0, 5.0])
    assert ref.expected_output(w, x, 0.0) == 9.0
    assert ref.expected_output(w, x, 0.25) == pytest.approx(6.75)
    assert ref.expected_output(w, x, 1.0) == 0.0


# --- reference against independent oracles --------------------------------------------------


def test_expected_output_equals_enumeration_over_all_masks():
    for w, x, p in _random_cases():
        np.testing.assert_allclose(ref.expected_output(w, x, p), _enumerated_expectation(w, x, p), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("p", [0.1, 0.37, 0.5, 0.8])
def test_dropout_is_unbiased_within_a_clt_bound(p):
    rng = np.random.default_rng(1)
    x = rng.normal(size=50) + 1.0  # (50,)
    reps = 4000
    samples = ref.dropout(np.tile(x, (reps, 1)), p, rng=rng)  # (reps, 50)
    mean = samples.mean(axis=0)  # (50,)
    se = np.abs(x) * np.sqrt(p / (1 - p) / reps)  # std of each column mean
    assert np.all(np.abs(mean - x) <= 5 * se + 1e-12)
    total_se = np.sqrt(np.sum(x**2) * p / (1 - p) / reps) / x.size
    assert abs(mean.mean() - x.mean()) <= 5 * total_se


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9])
def test_dropout_zeroes_a_fraction_close_to_p(p):
    x = np.ones((200, 100))
    out = ref.dropout(x, p, rng=np.random.default_rng(2))
    n = x.size
    assert abs(np.mean(out == 0) - p) <= 5 * np.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_dropout_scales_survivors_like_torch(p):
    x = np.random.default_rng(3).uniform(0.5, 2.0, size=(40, 30))
    ours = ref.dropout(x, p, rng=np.random.default_rng(4))
    torch.manual_seed(0)
    theirs = F.dropout(torch.from_numpy(x), p=p, training=True).numpy()
    for out in (ours, theirs):
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-12)
    np.testing.assert_array_equal(ref.dropout(x, p, training=False), F.dropout(torch.from_numpy(x), p=p, training=False).numpy())


def test_dropout_with_p_zero_or_not_training_is_the_identity():
    rng = np.random.default_rng(5)
    for shape in [(), (7,), (3, 4), (2, 3, 4, 5)]:
        x = rng.normal(size=shape)
        np.testing.assert_array_equal(ref.dropout(x, 0.0, rng=rng), x)
        np.testing.assert_array_equal(ref.dropout(x, 0.6, training=False, rng=rng), x)


def test_dropout_keeps_shape_and_returns_float_arrays_for_any_shape():
    rng = np.random.default_rng(6)
    for shape in [(), (1,), (5,), (3, 4), (2, 3, 4, 5)]:
        out = ref.dropout(np.ones(shape, dtype=np.float32), 0.4, rng=rng)
        assert isinstance(out, np.ndarray) and out.shape == shape and out.dtype == np.float64
    out = ref.dropout(np.arange(6).reshape(2, 3), 0.5, rng=rng)  # int input
    assert out.dtype == np.float64


def test_dropout_is_deterministic_for_a_seed_and_works_without_rng():
    x = np.arange(100.0)
    a = ref.dropout(x, 0.3, rng=np.random.default_rng(7))
    b = ref.dropout(x, 0.3, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    c = ref.dropout(x, 0.3)
    assert c.shape == x.shape
    np.testing.assert_allclose(c[c != 0], x[c != 0] / 0.7)


def test_dropout_does_not_modify_its_input():
    x = np.arange(10.0)
    before = x.copy()
    ref.dropout(x, 0.5, rng=np.random.default_rng(8))
    out = ref.dropout(x, 0.5, training=False)
    out[0] = 123.0
    np.testing.assert_array_equal(x, before)


def test_test_time_weights_match_expected_output_of_the_classic_variant():
    for w, x, p in _random_cases(seed=9):
        np.testing.assert_allclose(ref.test_time_weights(w, p), w * (1 - p))
        # the test-time unit with scaled weights computes the training-time expectation
        np.testing.assert_allclose(np.dot(ref.test_time_weights(w, p), x), _enumerated_expectation(w, x, p), rtol=1e-10, atol=1e-10)
    assert ref.test_time_weights(np.ones((2, 3)), 0.5).shape == (2, 3)


# --- the model solution ---------------------------------------------------------------------


def test_solution_expected_output_equals_the_reference():
    for w, x, p in _random_cases(seed=10):
        got = sol.expected_output(w, x, p)
        assert isinstance(got, float)
        np.testing.assert_allclose(got, ref.expected_output(w, x, p), rtol=1e-10, atol=1e-10)


def test_solution_dropout_equals_the_reference_for_the_same_seed():
    rng = np.random.default_rng(11)
    for _ in range(30):
        shape = tuple(int(s) for s in rng.integers(1, 6, size=rng.integers(0, 4)))
        x = rng.normal(size=shape)
        p = float(rng.choice([0.0, rng.uniform(0, 0.99)]))
        training = bool(rng.random() < 0.8)
        seed = int(rng.integers(1 << 30))
        expected = ref.dropout(x, p, training=training, rng=np.random.default_rng(seed))
        got = sol.dropout(x, p, training=training, rng=np.random.default_rng(seed))
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_solution_test_time_weights_equal_the_reference():
    for w, _, p in _random_cases(seed=12):
        np.testing.assert_allclose(sol.test_time_weights(w, p), ref.test_time_weights(w, p))


def test_solution_docstring_examples_pass():
    result = doctest.testmod(sol, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
