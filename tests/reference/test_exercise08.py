"""Tests of the exercise08 reference (weight initialization) and of its model solution."""

import doctest
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from grader.reference import exercise08 as ref

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise08.py"


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_08", SOLUTION_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()

FANS = [(1, 1), (3, 3), (784, 500), (500, 50), (50, 10), (27, 64), (2, 1000)]


def _random_networks(n_cases=30, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        n, d, h, k = (int(v) for v in rng.integers(1, 9, size=4))
        k = max(k, 2)
        W1 = rng.normal(size=(h, d)) * scale
        W2 = rng.normal(size=(k, h)) * scale
        x = rng.normal(size=(n, d)) * 2
        y = rng.integers(0, k, size=n)
        yield W1, W2, x, y


def _torch_first_layer_gradients(W1, W2, x, y):
    W1_t = torch.tensor(W1, dtype=torch.float64, requires_grad=True)
    logits = torch.from_numpy(W2) @ torch.sigmoid(W1_t @ torch.from_numpy(x).T)  # (K, N)
    loss = torch.nn.functional.cross_entropy(logits.T, torch.from_numpy(y).long())  # mean over N
    loss.backward()
    return W1_t.grad.numpy()


# --- worked numbers and formulas --------------------------------------------------------------


def test_glorot_limit_and_he_std_follow_their_formulas():
    assert ref.glorot_uniform_limit(3, 3) == 1.0
    assert ref.he_normal_std(2) == 1.0
    assert ref.glorot_uniform_limit(784, 500) == pytest.approx(math.sqrt(6 / 1284))
    assert ref.he_normal_std(784) == pytest.approx(math.sqrt(2 / 784))
    assert isinstance(ref.glorot_uniform_limit(10, 5), float) and isinstance(ref.he_normal_std(10), float)


def test_limits_equal_torch_init_gains():
    for fan_in, fan_out in FANS:
        torch_glorot = torch.nn.init.calculate_gain("linear") * math.sqrt(6.0 / (fan_in + fan_out))
        torch_he = torch.nn.init.calculate_gain("relu") / math.sqrt(fan_in)
        assert ref.glorot_uniform_limit(fan_in, fan_out) == pytest.approx(torch_glorot, rel=1e-12)
        assert ref.he_normal_std(fan_in) == pytest.approx(torch_he, rel=1e-12)


def test_init_dense_has_the_shape_of_nn_linear_weights():
    for fan_in, fan_out in FANS:
        for scheme in ref.SCHEMES:
            W = ref.init_dense(fan_in, fan_out, scheme, np.random.default_rng(0))
            assert W.shape == torch.nn.Linear(fan_in, fan_out).weight.shape == (fan_out, fan_in)
            assert W.dtype == np.float64


def test_zeros_and_constant_schemes_fill_every_weight_with_one_number():
    np.testing.assert_array_equal(ref.init_dense(4, 3, "zeros"), np.zeros((3, 4)))
    np.testing.assert_array_equal(ref.init_dense(4, 3, "constant"), np.full((3, 4), 0.5))
    np.testing.assert_array_equal(ref.init_dense(4, 3, "constant", value=-2.0), np.full((3, 4), -2.0))


# --- statistical tests of the random schemes (fixed seeds) ----------------------------------


@pytest.mark.parametrize("fan_in, fan_out", [(784, 500), (50, 10), (27, 64)])
def test_glorot_uniform_samples_are_uniform_within_the_limit(fan_in, fan_out):
    limit = ref.glorot_uniform_limit(fan_in, fan_out)
    W = ref.init_dense(fan_in, fan_out, "glorot_uniform", np.random.default_rng(1))
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() >= limit * (1 - 20 / W.size)  # the extremes are reached
    assert stats.kstest(W.ravel(), stats.uniform(loc=-limit, scale=2 * limit).cdf).pvalue > 1e-3
    torch.manual_seed(0)
    torch_w = torch.nn.init.xavier_uniform_(torch.empty(fan_out, fan_in, dtype=torch.float64)).numpy()
    assert stats.ks_2samp(W.ravel(), torch_w.ravel()).pvalue > 1e-3


@pytest.mark.parametrize("fan_in, fan_out", [(784, 500), (50, 10), (27, 64)])
def test_he_normal_samples_are_an_untruncated_normal_with_std_sqrt_2_over_fan_in(fan_in, fan_out):
    std = ref.he_normal_std(fan_in)
    W = ref.init_dense(fan_in, fan_out, "he_normal", np.random.default_rng(2))
    assert stats.kstest(W.ravel() / std, "norm").pvalue > 1e-3
    n = W.size
    assert abs(W.std() / std - 1) <= 5 / math.sqrt(2 * n)
    torch.manual_seed(0)
    torch_w = torch.nn.init.kaiming_normal_(torch.empty(fan_out, fan_in, dtype=torch.float64), nonlinearity="relu").numpy()
    assert stats.ks_2samp(W.ravel(), torch_w.ravel()).pvalue > 1e-3


def test_he_normal_is_not_truncated():
    W = ref.init_dense(1000, 1000, "he_normal", np.random.default_rng(3))
    assert np.abs(W).max() > 3 * ref.he_normal_std(1000)  # a 2-std truncation would cut these


def test_init_dense_is_deterministic_for_a_seed_and_works_without_rng():
    for scheme in ("glorot_uniform", "he_normal"):
        a = ref.init_dense(20, 10, scheme, np.random.default_rng(4))
        b = ref.init_dense(20, 10, scheme, np.random.default_rng(4))
        np.testing.assert_array_equal(a, b)
        assert ref.init_dense(20, 10, scheme).shape == (10, 20)


# --- gradients against torch autograd --------------------------------------------------------


def test_first_layer_gradients_equal_torch_autograd():
    for W1, W2, x, y in _random_networks():
        got = ref.first_layer_gradients(W1, W2, x, y)
        assert got.shape == W1.shape
        np.testing.assert_allclose(got, _torch_first_layer_gradients(W1, W2, x, y), rtol=1e-9, atol=1e-12)


def test_first_layer_gradients_are_finite_for_large_weights():
    for W1, W2, x, y in _random_networks(n_cases=10, seed=5, scale=300.0):
        got = ref.first_layer_gradients(W1, W2, x, y)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, _torch_first_layer_gradients(W1, W2, x, y), rtol=1e-7, atol=1e-10)


def test_constant_init_gives_identical_gradient_rows():
    for c1, c2 in [(0.5, 0.5), (0.0, 0.0), (-0.3, 1.2)]:
        for _, _, x, y in _random_networks(n_cases=10, seed=6):
            h, d, k = 5, x.shape[1], int(y.max()) + 2
            W1 = ref.init_dense(d, h, "constant", value=c1)
            W2 = ref.init_dense(h, k, "constant", value=c2)
            g = ref.first_layer_gradients(W1, W2, x, y)
            np.testing.assert_allclose(g, np.broadcast_to(g[0], g.shape), rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(g, _torch_first_layer_gradients(W1, W2, x, y), rtol=1e-9, atol=1e-12)


def test_random_init_gives_distinct_gradient_rows():
    rng = np.random.default_rng(7)
    for _ in range(10):
        n, d, h, k = 8, 6, 5, 3
        W1 = ref.init_dense(d, h, "glorot_uniform", rng)
        W2 = ref.init_dense(h, k, "glorot_uniform", rng)
        x = rng.normal(size=(n, d))
        y = rng.integers(0, k, size=n)
        g = ref.first_layer_gradients(W1, W2, x, y)
        for i in range(h):
            for j in range(i + 1, h):
                assert not np.allclose(g[i], g[j])


# --- the model solution ---------------------------------------------------------------------


def test_solution_limits_equal_the_reference():
    for fan_in, fan_out in FANS:
        got = sol.glorot_uniform_limit(fan_in, fan_out)
        assert isinstance(got, float) and got == pytest.approx(ref.glorot_uniform_limit(fan_in, fan_out), rel=1e-12)
        got = sol.he_normal_std(fan_in)
        assert isinstance(got, float) and got == pytest.approx(ref.he_normal_std(fan_in), rel=1e-12)


def test_solution_init_dense_equals_the_reference_for_the_same_seed():
    for fan_in, fan_out in FANS:
        for scheme in ref.SCHEMES:
            got = sol.init_dense(fan_in, fan_out, scheme, np.random.default_rng(8))
            expected = ref.init_dense(fan_in, fan_out, scheme, np.random.default_rng(8))
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_array_equal(sol.init_dense(3, 2, "constant", value=7.0), ref.init_dense(3, 2, "constant", value=7.0))


def test_solution_first_layer_gradients_equal_the_reference():
    for W1, W2, x, y in _random_networks(seed=9):
        np.testing.assert_allclose(sol.first_layer_gradients(W1, W2, x, y), ref.first_layer_gradients(W1, W2, x, y), rtol=1e-9, atol=1e-14)
    for W1, W2, x, y in _random_networks(n_cases=10, seed=10, scale=300.0):
        np.testing.assert_allclose(sol.first_layer_gradients(W1, W2, x, y), ref.first_layer_gradients(W1, W2, x, y), rtol=1e-7, atol=1e-12)


def test_solution_docstring_examples_pass():
    result = doctest.testmod(sol, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
