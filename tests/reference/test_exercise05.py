"""Tests of the exercise05 reference (receptive fields) and of its model solution."""

import doctest
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.reference import exercise05 as ref

ROOT = Path(__file__).resolve().parents[2]


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_05", ROOT / "solutions" / "exercise05.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()


# --- empirical receptive fields of torch stacks -----------------------------------------


def empirical_receptive_field_2d(layers):
    """Height and width of the span of input pixels with a non-zero gradient of output (0, 0).

    All-ones weights and a positive input, so no contribution can cancel; no padding, so
    the whole receptive field of output (0, 0) lies inside the input.
    """
    r = ref.receptive_field(layers)
    n = r + 2 * math.prod(s for _, s, _ in layers)
    x = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)  # (N, C, H, W)
    y = x
    for k, s, d in layers:
        w = torch.ones(1, 1, k, k, dtype=torch.float64)  # (F, C, kh, kw)
        y = F.conv2d(y, w, stride=s, dilation=d)  # (1, 1, H', W')
    y[0, 0, 0, 0].backward()
    rows, cols = np.nonzero(x.grad[0, 0].numpy())
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def empirical_causal_look_back(layers, length=64):
    """How many steps back the last output of a stack of causal 1-D convs can see.

    Each layer pads (k - 1)·d zeros on the left only (Keras padding="causal").
    """
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)  # (N, C, T)
    y = x
    for k, d in layers:
        w = torch.ones(1, 1, k, dtype=torch.float64)  # (F, C, k)
        y = F.conv1d(F.pad(y, ((k - 1) * d, 0)), w, dilation=d)  # (1, 1, T)
    assert y.shape[-1] == length
    y[0, 0, -1].backward()
    (nonzero,) = np.nonzero(x.grad[0, 0].numpy())
    assert nonzero.max() == length - 1, "an output must not see the future"
    return length - 1 - nonzero.min()


# --- worked numbers ---------------------------------------------------------------------


def test_one_seven_by_seven_conv_sees_seven_pixels_with_49_weights():
    assert ref.receptive_field([(7, 1, 1)]) == 7
    assert ref.stack_weights(7, 1) == 49


def test_two_three_by_three_convs_see_five_pixels():
    assert ref.receptive_field([(3, 1, 1)] * 2) == 5


def test_three_three_by_three_convs_see_seven_pixels_with_27_weights():
    assert ref.receptive_field([(3, 1, 1)] * 3) == 7
    assert ref.stack_weights(3, 3) == 27


def test_four_causal_convs_of_size_two_look_back_four_steps():
    assert ref.receptive_field([(2, 1, 1)] * 4) == 5
    assert empirical_causal_look_back([(2, 1)] * 4) == 4


def test_dilations_1_2_4_8_look_back_fifteen_steps():
    layers = [(2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)]
    assert ref.receptive_field(layers) == 16
    assert empirical_causal_look_back([(k, d) for k, _, d in layers]) == 15


def test_an_empty_stack_sees_one_position():
    assert ref.receptive_field([]) == 1


def test_a_dilated_kernel_counts_its_gaps():
    assert ref.receptive_field([(3, 1, 2)]) == 5
    assert empirical_receptive_field_2d([(3, 1, 2)]) == (5, 5)


# --- reference against torch ------------------------------------------------------------


def _random_stacks(n=25, seed=0):
    rng = np.random.default_rng(seed)
    stacks = []
    for _ in range(n):
        depth = int(rng.integers(1, 5))
        stacks.append([(int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 4))) for _ in range(depth)])
    return stacks


STACKS = _random_stacks()


@pytest.mark.parametrize("stack", STACKS, ids=str)
def test_receptive_field_equals_the_gradient_span_of_a_torch_conv_stack(stack):
    r = ref.receptive_field(stack)
    assert type(r) is int
    assert empirical_receptive_field_2d(stack) == (r, r)


@pytest.mark.parametrize("seed", range(10))
def test_receptive_field_of_a_causal_stack_is_one_more_than_its_torch_look_back(seed):
    rng = np.random.default_rng(100 + seed)
    layers = [(int(rng.integers(1, 5)), int(rng.integers(1, 5))) for _ in range(int(rng.integers(1, 5)))]
    assert empirical_causal_look_back(layers, length=80) == ref.receptive_field([(k, 1, d) for k, d in layers]) - 1


@pytest.mark.parametrize("k, n, c", [(3, 3, 1), (3, 2, 16), (5, 1, 3), (1, 4, 7), (7, 0, 2)])
def test_stack_weights_equals_the_parameter_count_of_torch_convs_without_bias(k, n, c):
    stack = torch.nn.Sequential(*[torch.nn.Conv2d(c, c, k, bias=False) for _ in range(n)])
    assert ref.stack_weights(k, n, channels=c) == sum(p.numel() for p in stack.parameters())


@pytest.mark.parametrize("layers", [[(0, 1, 1)], [(3, 0, 1)], [(3, 1, 0)], [(3, 1)]])
def test_invalid_layers_are_rejected(layers):
    with pytest.raises(AssertionError):
        ref.receptive_field(layers)


# --- the model solution -----------------------------------------------------------------


def test_solution_equals_the_reference_on_random_stacks():
    for stack in _random_stacks(200, seed=1) + [[]]:
        assert sol.receptive_field(stack) == ref.receptive_field(stack)
        assert sol.receptive_field([list(layer) for layer in stack]) == ref.receptive_field(stack)
    rng = np.random.default_rng(2)
    for _ in range(100):
        k, n, c = int(rng.integers(1, 8)), int(rng.integers(0, 6)), int(rng.integers(1, 65))
        assert sol.stack_weights(k, n, c) == ref.stack_weights(k, n, c)
        assert sol.stack_weights(k, n) == ref.stack_weights(k, n)


def test_solution_docstring_examples_pass():
    result = doctest.testmod(sol)
    assert result.failed == 0 and result.attempted > 0
