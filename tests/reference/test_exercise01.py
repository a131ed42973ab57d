"""Tests of the exercise01 reference (softmax and cross-entropy) and of its model solution."""

import doctest
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.reference import exercise01 as ref

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise01.py"


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_01", SOLUTION_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()


def _random_shape(rng, min_ndim=1, max_ndim=4):
    return tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(min_ndim, max_ndim + 1))))


def _random_distributions(rng, shape):
    """Rows on the last axis that sum to 1, some with exact zeros."""
    p = rng.random(shape) * (rng.random(shape) > 0.3)
    p[..., 0] += 0.1  # never an all-zero row
    return p / p.sum(axis=-1, keepdims=True)


# --- worked numbers of the slides -------------------------------------------------------


def test_cross_entropy_of_predicting_0_9_for_the_true_class_is_0_1053():
    ce = ref.cross_entropy([0, 1, 0], [0.05, 0.9, 0.05])
    assert isinstance(ce, float)
    assert ce == pytest.approx(-math.log(0.9))
    assert ce == pytest.approx(0.1053, abs=1e-4)


def test_a_uniform_guess_over_8_classes_costs_ln_8():
    ce = ref.cross_entropy(np.eye(8), np.full((8, 8), 1 / 8))
    assert ce == pytest.approx(math.log(8))
    assert round(ce, 3) == 2.079


def test_a_uniform_guess_over_10_classes_costs_ln_10_and_is_right_10_percent_of_the_time():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=50)
    nll = ref.nll_from_logits(np.zeros((50, 10)), labels)
    assert nll == pytest.approx(math.log(10))
    assert round(nll, 4) == 2.3026
    np.testing.assert_allclose(ref.softmax(np.zeros((50, 10)))[np.arange(50), labels], 0.1)
    assert math.exp(-nll) == pytest.approx(0.1)


# --- properties and the torch oracle ----------------------------------------------------


def test_softmax_equals_torch_softmax_on_random_shapes():
    rng = np.random.default_rng(0)
    for _ in range(40):
        z = rng.normal(scale=rng.choice([0.1, 3.0, 50.0]), size=_random_shape(rng))
        out = ref.softmax(z)
        assert out.shape == z.shape and out.dtype == np.float64
        np.testing.assert_allclose(out, torch.softmax(torch.from_numpy(z), dim=-1).numpy(), rtol=1e-12, atol=1e-15)


def test_softmax_rows_are_positive_and_sum_to_one():
    rng = np.random.default_rng(1)
    for _ in range(30):
        out = ref.softmax(rng.normal(scale=5.0, size=_random_shape(rng)))
        assert (out >= 0).all()
        np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-12)


def test_softmax_is_invariant_to_adding_a_constant_to_a_row():
    rng = np.random.default_rng(2)
    for _ in range(30):
        z = rng.normal(size=_random_shape(rng, min_ndim=2))
        c = rng.normal(scale=100.0, size=z.shape[:-1] + (1,))
        np.testing.assert_allclose(ref.softmax(z + c), ref.softmax(z), atol=1e-10)


def test_softmax_stays_finite_for_scores_up_to_1e4():
    rng = np.random.default_rng(3)
    z = rng.uniform(-1e4, 1e4, size=(20, 7))
    out = ref.softmax(z)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, torch.softmax(torch.from_numpy(z), dim=-1).numpy(), atol=1e-12)
    np.testing.assert_array_equal(ref.softmax([1e4, -1e4, 0.0]), [1.0, 0.0, 0.0])


def test_softmax_accepts_lists_and_integer_arrays():
    np.testing.assert_allclose(ref.softmax([0, 0]), [0.5, 0.5])
    assert ref.softmax(np.array([1, 2, 3])).dtype == np.float64


def test_cross_entropy_equals_torch_cross_entropy_with_probability_targets():
    rng = np.random.default_rng(4)
    for _ in range(40):
        n, k = (int(a) for a in rng.integers(1, 8, size=2))
        logits = rng.normal(scale=3.0, size=(n, k))
        target = _random_distributions(rng, (n, k))
        expected = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(target)).item()
        assert ref.cross_entropy(target, ref.softmax(logits)) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_cross_entropy_of_one_row_equals_the_batch_of_that_row():
    rng = np.random.default_rng(5)
    t, p = _random_distributions(rng, (6,)), _random_distributions(rng, (6,))
    assert ref.cross_entropy(t, p) == pytest.approx(ref.cross_entropy(t[None], p[None]))


def test_cross_entropy_is_the_mean_over_rows_and_non_negative():
    rng = np.random.default_rng(6)
    for _ in range(20):
        t = _random_distributions(rng, (5, 4))
        p = _random_distributions(rng, (5, 4))
        rows = [ref.cross_entropy(t[i], p[i]) for i in range(5)]
        assert ref.cross_entropy(t, p) == pytest.approx(np.mean(rows))
        assert ref.cross_entropy(t, p) >= 0


def test_cross_entropy_counts_0_log_0_as_0():
    assert ref.cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert ref.cross_entropy([0.0, 0.5, 0.5], [0.0, 0.5, 0.5]) == pytest.approx(math.log(2))
    assert ref.cross_entropy([1.0, 0.0], [0.0, 1.0]) == math.inf  # the true class got 0


def test_nll_from_logits_equals_torch_cross_entropy():
    rng = np.random.default_rng(7)
    for _ in range(40):
        n, k = int(rng.integers(1, 20)), int(rng.integers(1, 12))
        logits = rng.normal(scale=rng.choice([0.5, 5.0, 500.0]), size=(n, k))
        labels = rng.integers(0, k, size=n)
        expected = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)).item()
        got = ref.nll_from_logits(logits, labels)
        assert isinstance(got, float)
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_nll_from_logits_stays_finite_for_logits_up_to_1e4():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]])
    got = ref.nll_from_logits(logits, np.array([1, 0]))
    assert got == pytest.approx((2e4 + 2e4) / 2)
    assert ref.nll_from_logits(logits, np.array([0, 1])) == pytest.approx(0.0, abs=1e-12)


def test_nll_from_logits_equals_cross_entropy_of_one_hot_labels():
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(9, 5))
    labels = rng.integers(0, 5, size=9)
    assert ref.nll_from_logits(logits, labels) == pytest.approx(
        ref.cross_entropy(np.eye(5)[labels], ref.softmax(logits))
    )


def test_the_reference_rejects_bad_inputs():
    with pytest.raises(AssertionError):
        ref.cross_entropy([1, 0], [1, 0, 0])
    with pytest.raises(AssertionError):
        ref.nll_from_logits(np.zeros(3), np.array([0]))
    with pytest.raises(AssertionError):
        ref.nll_from_logits(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(AssertionError):
        ref.softmax(1.0)


# --- the model solution -----------------------------------------------------------------


def test_the_solution_equals_the_reference_on_random_inputs():
    rng = np.random.default_rng(9)
    for _ in range(40):
        z = rng.uniform(-1e4, 1e4, size=_random_shape(rng)) * rng.choice([1e-4, 1.0])
        np.testing.assert_allclose(sol.softmax(z), ref.softmax(z), rtol=1e-12, atol=1e-15)
        shape = _random_shape(rng, max_ndim=3)
        t, p = _random_distributions(rng, shape), _random_distributions(rng, shape)
        got = sol.cross_entropy(t, p)
        assert isinstance(got, float) and got == pytest.approx(ref.cross_entropy(t, p), rel=1e-12)
        n, k = int(rng.integers(1, 20)), int(rng.integers(1, 12))
        logits = rng.normal(scale=rng.choice([1.0, 1e3]), size=(n, k))
        labels = rng.integers(0, k, size=n)
        got = sol.nll_from_logits(logits, labels)
        assert isinstance(got, float) and got == pytest.approx(ref.nll_from_logits(logits, labels), rel=1e-12)


def test_the_solution_handles_0_log_0_like_the_reference():
    assert sol.cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert sol.cross_entropy([[0.0, 1.0], [0.5, 0.5]], [[0.0, 1.0], [0.5, 0.5]]) == pytest.approx(math.log(2) / 2)


def test_the_doctest_examples_of_the_solution_pass():
    result = doctest.testmod(sol)
    assert result.attempted > 0
    assert result.failed == 0
