"""Tests of the exercise07 reference (batch normalization, standardization) and of its solution."""

import doctest
import importlib.util
from pathlib import Path

import numpy as np
import torch

from grader.reference import exercise07 as ref

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise07.py"


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_07", SOLUTION_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()


def _random_bn_cases(n_cases=30, seed=0):
    """(x, gamma, beta, eps) with x of shape (N, D), (N, C, L) or (N, C, H, W)."""
    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        ndim = (2, 3, 4)[i % 3]
        n = int(rng.integers(2, 9))
        c = int(rng.integers(1, 6))
        spatial = tuple(int(s) for s in rng.integers(1, 6, size=ndim - 2))
        x = rng.normal(size=(n, c) + spatial) * rng.uniform(0.1, 20) + rng.uniform(-50, 50)
        gamma = rng.normal(size=c)
        beta = rng.normal(size=c)
        eps = float(rng.choice([1e-5, 1e-3, 0.1]))
        yield x, gamma, beta, eps


def _torch_batchnorm(x, gamma, beta, eps):
    c = x.shape[1]
    layer = (torch.nn.BatchNorm1d if x.ndim in (2, 3) else torch.nn.BatchNorm2d)(c, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(gamma))
        layer.bias.copy_(torch.from_numpy(beta))
    layer.train()
    with torch.no_grad():
        return layer(torch.from_numpy(x)).numpy()


def _random_splits(n_cases=20, seed=1):
    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        feature_shape = [(int(rng.integers(1, 8)),), (int(rng.integers(1, 4)), 3, 4)][i % 2]
        train = rng.normal(size=(int(rng.integers(2, 20)),) + feature_shape) * rng.uniform(1, 100, size=feature_shape)
        others = [rng.normal(size=(int(rng.integers(1, 10)),) + feature_shape) * 50 for _ in range(int(rng.integers(0, 3)))]
        yield train, others


# --- worked numbers -----------------------------------------------------------------------------


def test_batchnorm_with_gamma_sqrt_var_eps_and_beta_mean_undoes_itself():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(16, 4)) * 3 + 7  # (N, D)
    gamma, beta = np.sqrt(x.var(axis=0) + 1e-5), x.mean(axis=0)
    np.testing.assert_allclose(ref.batchnorm(x, gamma, beta), x, rtol=1e-12)
    images = rng.normal(size=(8, 3, 5, 5)) * 2 - 1  # (N, C, H, W)
    gamma = np.sqrt(images.var(axis=(0, 2, 3)) + 1e-5)
    beta = images.mean(axis=(0, 2, 3))
    np.testing.assert_allclose(ref.batchnorm(images, gamma, beta), images, rtol=1e-12)


def test_batchnorm_of_a_small_example_by_hand():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    out = ref.batchnorm(x, np.array([2.0, 1.0]), np.array([0.5, -1.0]), eps=1e-12)
    s = np.sqrt(8 / 3)
    np.testing.assert_allclose(out[:, 0], 2.0 * np.array([-2, 0, 2]) / s + 0.5)
    np.testing.assert_allclose(out[:, 1], -1.0)  # a constant feature becomes beta


def test_standardize_of_a_small_example_by_hand():
    train = np.array([[0.0, 10.0], [2.0, 30.0]])
    test = np.array([[1.0, 20.0], [3.0, 50.0]])
    train_z, test_z = ref.standardize(train, test, eps=0.0)
    np.testing.assert_allclose(train_z, [[-1, -1], [1, 1]])
    np.testing.assert_allclose(test_z, [[0, 0], [2, 3]])
    (train_z,) = ref.standardize(train)
    np.testing.assert_allclose(train_z, [[-1 / (1 + 1e-4), -10 / (10 + 1e-4)], [1 / (1 + 1e-4), 10 / (10 + 1e-4)]])


# --- reference against torch ----------------------------------------------------------------


def test_batchnorm_equals_torch_batchnorm_in_training_mode():
    for x, gamma, beta, eps in _random_bn_cases():
        np.testing.assert_allclose(ref.batchnorm(x, gamma, beta, eps=eps), _torch_batchnorm(x, gamma, beta, eps), rtol=1e-10, atol=1e-10)


def test_batchnorm_gives_mean_zero_and_std_one_per_channel():
    for x, _, _, _ in _random_bn_cases(seed=3):
        c = x.shape[1]
        out = ref.batchnorm(x, np.ones(c), np.zeros(c), eps=1e-12)
        axes = (0,) + tuple(range(2, x.ndim))
        np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-9)
        np.testing.assert_allclose(out.std(axis=axes), 1.0, rtol=1e-6)


def test_batchnorm_returns_float64_of_the_input_shape():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2)
    out = ref.batchnorm(x, np.ones(3), np.zeros(3))
    assert out.shape == x.shape and out.dtype == np.float64


def test_standardize_equals_torch_z_transform_with_training_statistics():
    for train, others in _random_splits():
        t = torch.from_numpy(train)
        mean, std = t.mean(dim=0), t.std(dim=0, unbiased=False)
        got = ref.standardize(train, *others)
        assert isinstance(got, tuple) and len(got) == 1 + len(others)
        for split, z in zip([train, *others], got):
            expected = ((torch.from_numpy(split) - mean) / (std + 1e-4)).numpy()
            assert z.shape == split.shape
            np.testing.assert_allclose(z, expected, rtol=1e-10, atol=1e-10)


def test_standardized_training_split_has_mean_zero_and_std_close_to_one():
    for train, _ in _random_splits(seed=4):
        (z,) = ref.standardize(train)
        np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-9)
        std = train.std(axis=0)
        np.testing.assert_allclose(z.std(axis=0), std / (std + 1e-4), rtol=1e-10)


def test_standardize_does_not_leak_other_splits_into_the_training_split():
    for train, others in _random_splits(seed=5):
        alone = ref.standardize(train)[0]
        extra = np.random.default_rng(6).normal(size=(5,) + train.shape[1:]) * 1e6
        with_others = ref.standardize(train, *others, extra)
        np.testing.assert_array_equal(with_others[0], alone)
        # the test split is not standardized with its own statistics
        (own,) = ref.standardize(extra)
        assert not np.allclose(with_others[-1], own)


def test_standardize_keeps_constant_pixels_finite():
    train = np.zeros((10, 1, 3, 3))
    train[:, 0, 1, 1] = np.arange(10)
    test = np.ones((2, 1, 3, 3))
    train_z, test_z = ref.standardize(train, test)
    assert np.all(np.isfinite(train_z)) and np.all(np.isfinite(test_z))
    assert train_z[:, 0, 0, 0].tolist() == [0.0] * 10
    np.testing.assert_allclose(test_z[:, 0, 0, 0], 1 / 1e-4)


# --- the model solution ---------------------------------------------------------------------


def test_solution_batchnorm_equals_the_reference():
    for x, gamma, beta, eps in _random_bn_cases(seed=7):
        np.testing.assert_allclose(sol.batchnorm(x, gamma, beta, eps=eps), ref.batchnorm(x, gamma, beta, eps=eps), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(sol.batchnorm(x, gamma, beta), ref.batchnorm(x, gamma, beta), rtol=1e-10, atol=1e-10)


def test_solution_standardize_equals_the_reference():
    for train, others in _random_splits(seed=8):
        got, expected = sol.standardize(train, *others), ref.standardize(train, *others)
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-10)
        for g, e in zip(sol.standardize(train, *others, eps=0.5), ref.standardize(train, *others, eps=0.5)):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-10)


def test_solution_docstring_examples_pass():
    result = doctest.testmod(sol, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
