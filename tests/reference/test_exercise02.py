"""Tests of the exercise02 reference (fully connected networks) and of its model solution.

No training on real data here: every model is checked on random weights and inputs.
"""

import copy
import doctest
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from grader.reference import exercise02 as ref

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise02.py"


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_02", SOLUTION_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


def _random_architecture(rng):
    n_inputs = int(rng.integers(1, 60))
    hidden = tuple(int(h) for h in rng.integers(1, 40, size=int(rng.integers(0, 4))))
    n_classes = int(rng.integers(1, 12))
    activation = str(rng.choice(sorted(ACTIVATIONS)))
    return n_inputs, hidden, n_classes, activation


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


# --- worked numbers of the slides -------------------------------------------------------


def test_dense_params_of_the_course_network_784_500_50_10_is_418060():
    parts = [ref.dense_params(784, 500), ref.dense_params(500, 50), ref.dense_params(50, 10)]
    assert parts == [392_500, 25_050, 510]
    assert sum(parts) == 418_060
    assert all(type(p) is int for p in parts)


def test_fcnn_has_418060_84060_and_7850_parameters_for_the_course_architectures():
    assert _n_params(ref.fcnn()) == 418_060
    assert _n_params(ref.fcnn(hidden=(100, 50))) == 84_060
    assert _n_params(ref.fcnn(hidden=())) == 7_850
    assert ref.dense_params(784, 10) == 7_850


# --- properties and the torch oracle ----------------------------------------------------


def test_dense_params_equals_the_parameter_count_of_nn_linear():
    rng = np.random.default_rng(0)
    for _ in range(40):
        n_in, n_out = (int(a) for a in rng.integers(1, 300, size=2))
        bias = bool(rng.random() < 0.5)
        assert ref.dense_params(n_in, n_out, bias) == _n_params(nn.Linear(n_in, n_out, bias=bias))
        assert ref.dense_params(n_in, n_out, bias=bias) == ref.dense_params(n_in, n_out) - (0 if bias else n_out)


def test_fcnn_parameter_count_equals_the_sum_of_its_dense_layers():
    rng = np.random.default_rng(1)
    for _ in range(30):
        n_inputs, hidden, n_classes, activation = _random_architecture(rng)
        sizes = [n_inputs, *hidden, n_classes]
        expected = sum(ref.dense_params(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        assert _n_params(ref.fcnn(n_inputs, hidden, n_classes, activation)) == expected


def test_fcnn_flattens_images_and_returns_logits_of_shape_n_by_classes():
    model = ref.fcnn()
    images = torch.rand(5, 1, 28, 28)
    out = model(images)
    assert out.shape == (5, 10)
    torch.testing.assert_close(out, model(images.reshape(5, 784)))
    assert isinstance(list(model.modules())[-1], nn.Linear)  # logits: nothing after the last layer


def test_fcnn_uses_the_requested_activation_between_the_layers():
    rng = np.random.default_rng(2)
    for _ in range(20):
        n_inputs, hidden, n_classes, activation = _random_architecture(rng)
        model = ref.fcnn(n_inputs, hidden, n_classes, activation)
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        acts = [m for m in model.modules() if isinstance(m, tuple(ACTIVATIONS.values()))]
        assert [(m.in_features, m.out_features) for m in linears] == list(zip([n_inputs, *hidden], [*hidden, n_classes]))
        assert len(acts) == len(hidden) and all(isinstance(a, ACTIVATIONS[activation]) for a in acts)
        assert ref.first_linear(model) is linears[0]
        assert model(torch.rand(3, n_inputs)).shape == (3, n_classes)


def test_fcnn_rejects_an_unknown_activation():
    with pytest.raises(AssertionError):
        ref.fcnn(activation="softmax")


def test_collapse_linear_equals_the_composition_of_two_nn_linear_layers():
    rng = np.random.default_rng(3)
    for _ in range(30):
        D, H, K = (int(a) for a in rng.integers(1, 20, size=3))
        first, second = nn.Linear(D, H).double(), nn.Linear(H, K).double()
        W, b = ref.collapse_linear(
            first.weight.detach().numpy(), first.bias.detach().numpy(),
            second.weight.detach().numpy(), second.bias.detach().numpy(),
        )
        assert W.shape == (K, D) and b.shape == (K,) and W.dtype == np.float64
        x = torch.from_numpy(rng.normal(size=(7, D)))
        with torch.no_grad():
            expected = second(first(x)).numpy()
        np.testing.assert_allclose(x.numpy() @ W.T + b, expected, rtol=1e-10, atol=1e-12)


def test_collapse_linear_rejects_layers_that_do_not_chain():
    with pytest.raises(AssertionError):
        ref.collapse_linear(np.zeros((3, 2)), np.zeros(3), np.zeros((1, 4)), np.zeros(1))


def test_permute_pixels_moves_pixel_permutation_j_to_position_j_in_every_image():
    rng = np.random.default_rng(4)
    for _ in range(30):
        trailing = tuple(int(a) for a in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        images = rng.integers(0, 256, size=(int(rng.integers(1, 5)), *trailing)).astype(np.uint8)
        perm = rng.permutation(int(np.prod(trailing)))
        out = ref.permute_pixels(images, perm)
        assert out.shape == images.shape and out.dtype == images.dtype
        for n in range(images.shape[0]):
            np.testing.assert_array_equal(out[n].ravel(), images[n].ravel()[perm])


def test_permute_pixels_rejects_an_index_array_that_is_not_a_permutation():
    with pytest.raises(AssertionError):
        ref.permute_pixels(np.zeros((2, 3)), np.array([0, 0, 1]))
    with pytest.raises(AssertionError):
        ref.permute_pixels(np.zeros((2, 3)), np.array([0, 1]))


def test_an_fcnn_with_permuted_first_layer_columns_gives_the_same_outputs_on_permuted_images():
    rng = np.random.default_rng(5)
    torch.manual_seed(0)
    for make in (ref.fcnn, sol.fcnn):
        for _ in range(10):
            side = int(rng.integers(2, 8))
            _, hidden, n_classes, activation = _random_architecture(rng)
            model = make(side * side, hidden, n_classes, activation).double()
            images = rng.normal(size=(6, 1, side, side))
            perm = rng.permutation(side * side)
            shuffled_model = ref.permute_first_layer(copy.deepcopy(model), perm)
            with torch.no_grad():
                before = model(torch.from_numpy(images)).numpy()
                after = shuffled_model(torch.from_numpy(ref.permute_pixels(images, perm))).numpy()
            np.testing.assert_allclose(after, before, rtol=1e-12, atol=1e-12)
            with torch.no_grad():  # and the shuffle really changes what the unchanged model sees
                unchanged = model(torch.from_numpy(ref.permute_pixels(images, perm))).numpy()
            if not np.array_equal(perm, np.arange(side * side)):
                assert not np.allclose(unchanged, before)


# --- the model solution -----------------------------------------------------------------


def test_the_solution_counts_and_collapses_like_the_reference():
    rng = np.random.default_rng(6)
    for _ in range(30):
        n_in, n_out = (int(a) for a in rng.integers(1, 1000, size=2))
        bias = bool(rng.random() < 0.5)
        got = sol.dense_params(n_in, n_out, bias)
        assert type(got) is int and got == ref.dense_params(n_in, n_out, bias)
        D, H, K = (int(a) for a in rng.integers(1, 15, size=3))
        args = (rng.normal(size=(H, D)), rng.normal(size=H), rng.normal(size=(K, H)), rng.normal(size=K))
        for got, want in zip(sol.collapse_linear(*args), ref.collapse_linear(*args)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_solution_fcnn_matches_the_reference_architecture_and_outputs():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n_inputs, hidden, n_classes, activation = _random_architecture(rng)
        mine, theirs = ref.fcnn(n_inputs, hidden, n_classes, activation), sol.fcnn(n_inputs, hidden, n_classes, activation)
        assert _n_params(theirs) == _n_params(mine)
        lin_mine = [m for m in mine.modules() if isinstance(m, nn.Linear)]
        lin_theirs = [m for m in theirs.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for a, b in zip(lin_mine, lin_theirs):
                b.weight.copy_(a.weight)
                b.bias.copy_(a.bias)
        x = torch.rand(4, n_inputs)
        torch.testing.assert_close(theirs(x), mine(x))
    assert sol.fcnn()(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_the_solution_permutes_pixels_like_the_reference():
    rng = np.random.default_rng(8)
    for _ in range(30):
        trailing = tuple(int(a) for a in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        images = rng.normal(size=(int(rng.integers(1, 5)), *trailing))
        perm = rng.permutation(int(np.prod(trailing)))
        np.testing.assert_array_equal(sol.permute_pixels(images, perm), ref.permute_pixels(images, perm))


def test_the_doctest_examples_of_the_solution_pass():
    result = doctest.testmod(sol)
    assert result.attempted > 0
    assert result.failed == 0
