"""Tests of the exercise10 reference (1-D causal dilated convolution) and of its model solution."""

import doctest
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.reference import exercise05 as ref05
from grader.reference import exercise10 as ref

ROOT = Path(__file__).resolve().parents[2]


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_10", ROOT / "solutions" / "exercise10.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()


def torch_causal_conv1d(x, kernel, dilation):
    """torch conv1d after (k - 1)·d zeros on the left, as float64 numpy."""
    x_t = torch.as_tensor(np.asarray(x, float))[None, None]  # (N, C, T)
    w_t = torch.as_tensor(np.asarray(kernel, float))[None, None]  # (F, C, k)
    pad = (w_t.shape[-1] - 1) * dilation
    return F.conv1d(F.pad(x_t, (pad, 0)), w_t, dilation=dilation)[0, 0].numpy()  # (T,)


def _random_cases(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=int(rng.integers(1, 30))), rng.normal(size=int(rng.integers(1, 6))), int(rng.integers(1, 6)))
        for _ in range(n)
    ]


CASES = _random_cases()


def test_causal_conv1d_reproduces_the_slide_example():
    y = ref.causal_conv1d([10, 20, 30], [1, 2])
    np.testing.assert_array_equal(y, [20, 50, 80])
    assert y.dtype == np.float64


def test_an_impulse_shows_the_dilated_taps_in_reverse_order():
    np.testing.assert_array_equal(ref.causal_conv1d([1, 0, 0, 0, 0, 0], [1, 2, 3], dilation=2), [3, 0, 2, 0, 1, 0])


@pytest.mark.parametrize("case", range(len(CASES)))
def test_causal_conv1d_equals_torch_conv1d_with_left_padding(case):
    x, kernel, d = CASES[case]
    y = ref.causal_conv1d(x, kernel, dilation=d)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, torch_causal_conv1d(x, kernel, d), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", range(0, len(CASES), 4))
def test_an_output_does_not_change_when_the_future_changes(case):
    x, kernel, d = CASES[case]
    rng = np.random.default_rng(case)
    y = ref.causal_conv1d(x, kernel, dilation=d)
    for t in range(len(x)):
        changed = x.copy()
        changed[t + 1 :] = rng.normal(size=len(x) - t - 1)
        np.testing.assert_array_equal(ref.causal_conv1d(changed, kernel, dilation=d)[: t + 1], y[: t + 1])


def test_causal_conv1d_is_linear_in_the_input_and_in_the_kernel():
    rng = np.random.default_rng(1)
    x1, x2, k1, k2 = rng.normal(size=20), rng.normal(size=20), rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(
        ref.causal_conv1d(2 * x1 - x2, k1, 3), 2 * ref.causal_conv1d(x1, k1, 3) - ref.causal_conv1d(x2, k1, 3), atol=1e-12
    )
    np.testing.assert_allclose(
        ref.causal_conv1d(x1, 2 * k1 - k2, 3), 2 * ref.causal_conv1d(x1, k1, 3) - ref.causal_conv1d(x1, k2, 3), atol=1e-12
    )


def _look_back(conv, layers, length=60):
    """Steps back the last output of a stack of causal convs sees (all-ones kernels, impulses)."""
    seen = []
    for s in range(length):
        x = np.zeros(length)
        x[s] = 1.0
        for k, d in layers:
            x = conv(x, np.ones(k), dilation=d)
        if x[-1] != 0:
            seen.append(s)
    return length - 1 - min(seen)


@pytest.mark.parametrize(
    "layers",
    [[(2, 1)] * 4, [(2, 1), (2, 2), (2, 4), (2, 8)], [(3, 1), (3, 2), (3, 4)], [(1, 3)], [(4, 3), (2, 1), (3, 5)]],
    ids=str,
)
def test_the_look_back_of_a_stack_matches_the_receptive_field_of_exercise05(layers):
    r = ref05.receptive_field([(k, 1, d) for k, d in layers])
    assert _look_back(ref.causal_conv1d, layers) == r - 1
    assert _look_back(sol.causal_conv1d, layers) == r - 1


def test_wavenet_dilations_look_back_fifteen_steps():
    assert _look_back(ref.causal_conv1d, [(2, 1), (2, 2), (2, 4), (2, 8)]) == 15
    assert _look_back(ref.causal_conv1d, [(2, 1)] * 4) == 4


def test_a_kernel_longer_than_the_input_is_allowed():
    np.testing.assert_allclose(ref.causal_conv1d([1.0, 2.0], [5.0, 4.0, 3.0, 2.0]), torch_causal_conv1d([1.0, 2.0], [5.0, 4.0, 3.0, 2.0], 1))


@pytest.mark.parametrize(
    "args", [([[1.0, 2.0]], [1.0]), ([1.0, 2.0], [[1.0]]), ([], [1.0]), ([1.0], []), ([1.0, 2.0], [1.0], 0)]
)
def test_invalid_inputs_are_rejected(args):
    with pytest.raises(AssertionError):
        ref.causal_conv1d(*args)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_solution_equals_the_reference(case):
    x, kernel, d = CASES[case]
    np.testing.assert_allclose(sol.causal_conv1d(x, kernel, dilation=d), ref.causal_conv1d(x, kernel, dilation=d), atol=1e-12)
    np.testing.assert_allclose(sol.causal_conv1d(list(x), list(kernel), d), ref.causal_conv1d(x, kernel, d), atol=1e-12)


def test_solution_docstring_examples_pass():
    result = doctest.testmod(sol)
    assert result.failed == 0 and result.attempted > 0
