"""Tests of the exercise04 reference (parameter counts and output shapes) and of its model solution.

The oracle is torch: ``build_torch_model`` turns a layer list into an nn.Sequential, whose
parameters, buffers and forward shapes must agree with the hand-computed summary.
"""

import doctest
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.reference import exercise04 as ref

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise04.py"

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_04", SOLUTION_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()

FC_784_500_50_10 = [
    {"type": "flatten"},
    {"type": "dense", "units": 500}, {"type": "relu"},
    {"type": "dense", "units": 50}, {"type": "relu"},
    {"type": "dense", "units": 10},
]


def _oracle_rows(layers, input_shape):
    return ref.torch_summary(ref.build_torch_model(layers, input_shape), input_shape)


# --- worked numbers of the slides and notebooks -------------------------------------------


def test_conv2d_params_of_6_filters_5x5_on_3_channels_is_456_and_the_map_is_24x24x6():
    assert ref.conv2d_params(3, 6, 5) == 456
    assert ref.conv2d_params(3, 6, (5, 5)) == 456
    assert ref.summary([{"type": "conv2d", "filters": 6, "kernel_size": 5}], (3, 28, 28)) == [
        ("conv2d", (6, 24, 24), 456, 0)
    ]


def test_the_fcnn_784_500_50_10_has_418060_parameters():
    assert ref.count_parameters(FC_784_500_50_10, (1, 28, 28)) == 418_060
    assert ref.count_parameters(FC_784_500_50_10[1:], (784,)) == 418_060


def test_conv_32_3x3_same_then_flatten_and_dense_10_on_mnist_is_320_25088_and_250890():
    rows = ref.summary(ref.MNIST_CNN1, (1, 28, 28))
    assert rows == [
        ("conv2d", (32, 28, 28), 320, 0),
        ("activation", (32, 28, 28), 0, 0),
        ("flatten", (25_088,), 0, 0),
        ("dense", (10,), 250_890, 0),
    ]
    assert ref.count_parameters(ref.MNIST_CNN1, (1, 28, 28)) == 251_210  # the notebook's total


def test_the_mnist_cnn_of_the_course_has_35962_parameters_and_keras_summary_rows():
    rows = ref.summary(ref.MNIST_CNN, (1, 28, 28))
    assert [(name, shape, t) for name, shape, t, _ in rows] == [
        ("conv2d", (8, 28, 28), 80),
        ("activation", (8, 28, 28), 0),
        ("conv2d_1", (8, 28, 28), 584),
        ("activation_1", (8, 28, 28), 0),
        ("max_pooling2d", (8, 14, 14), 0),
        ("conv2d_2", (16, 14, 14), 1168),
        ("activation_2", (16, 14, 14), 0),
        ("conv2d_3", (16, 14, 14), 2320),
        ("activation_3", (16, 14, 14), 0),
        ("max_pooling2d_1", (16, 7, 7), 0),
        ("flatten", (784,), 0),
        ("dense", (40,), 31_400),
        ("activation_4", (40,), 0),
        ("dense_1", (10,), 410),
    ]
    assert ref.count_parameters(ref.MNIST_CNN, (1, 28, 28)) == 35_962


def test_the_cifar_norm_cnn_of_the_course_has_45706_parameters():
    assert ref.count_parameters(ref.CIFAR_NORM_CNN, (3, 32, 32)) == 45_706
    assert ref.summary(ref.CIFAR_NORM_CNN, (3, 32, 32))[10] == ("flatten", (1024,), 0, 0)


def test_the_cifar_base_cnn_has_1222566_parameters():
    assert ref.count_parameters(ref.CIFAR_BASE_CNN, (3, 32, 32)) == 1_222_566


def test_batchnorm_on_the_input_and_after_each_conv_adds_396_parameters_half_of_them_non_trainable():
    rows = ref.summary(ref.CIFAR_BASE_CNN_BN, (3, 32, 32))
    assert ref.count_parameters(ref.CIFAR_BASE_CNN_BN, (3, 32, 32)) == 1_222_962
    bn = [r for r in rows if r[0].startswith("batch_normalization")]
    assert [r[0] for r in bn] == ["batch_normalization"] + [f"batch_normalization_{i}" for i in range(1, 5)]
    assert sum(t for _, _, t, _ in bn) == 198 and sum(nt for _, _, _, nt in bn) == 198
    assert sum(nt for _, _, _, nt in rows) == 198
    assert rows[0] == ("batch_normalization", (3, 32, 32), 6, 6)


def test_the_course_cnns_agree_with_their_torch_models():
    for layers, shape in [(ref.MNIST_CNN, (1, 28, 28)), (ref.CIFAR_NORM_CNN, (3, 32, 32)),
                          (ref.CIFAR_BASE_CNN_BN, (3, 32, 32)), (ref.MNIST_CNN1, (1, 28, 28))]:
        assert [r[1:] for r in ref.summary(layers, shape)] == _oracle_rows(layers, shape)


# --- properties and the torch oracle ----------------------------------------------------


def test_conv2d_params_equals_the_parameter_count_of_nn_conv2d():
    rng = np.random.default_rng(0)
    for _ in range(40):
        c_in, c_out, kh, kw = (int(a) for a in rng.integers(1, 9, size=4))
        bias = bool(rng.random() < 0.5)
        expected = sum(p.numel() for p in torch.nn.Conv2d(c_in, c_out, (kh, kw), bias=bias).parameters())
        assert ref.conv2d_params(c_in, c_out, (kh, kw), bias) == expected
        if kh == kw:
            assert ref.conv2d_params(c_in, c_out, kh, bias=bias) == expected


def test_summary_equals_the_torch_model_on_random_layer_lists():
    rng = np.random.default_rng(1)
    for _ in range(60):
        layers, shape = ref.random_layers(rng)
        rows = ref.summary(layers, shape)
        assert [r[1:] for r in rows] == _oracle_rows(layers, shape), (layers, shape)
        total = ref.count_parameters(layers, shape)
        model = ref.build_torch_model(layers, shape)
        buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
        assert total == sum(p.numel() for p in model.parameters()) + buffers
        assert all(type(v) is int for r in rows for v in (*r[1], r[2], r[3]))


def test_summary_names_count_each_kind_of_layer_from_zero_without_suffix():
    layers = [{"type": "conv2d", "filters": 2, "kernel_size": 1}, {"type": "relu"}, {"type": "dropout", "rate": 0.1},
              {"type": "conv2d", "filters": 2, "kernel_size": 1}, {"type": "relu"}, {"type": "maxpool2d", "pool_size": 2},
              {"type": "flatten"}, {"type": "dropout"}, {"type": "dense", "units": 3}, {"type": "batchnorm"}]
    assert [r[0] for r in ref.summary(layers, (1, 4, 4))] == [
        "conv2d", "activation", "dropout", "conv2d_1", "activation_1", "max_pooling2d",
        "flatten", "dropout_1", "dense", "batch_normalization",
    ]


def test_pooling_stride_defaults_to_the_pool_size_and_drops_what_does_not_fit():
    assert ref.summary([{"type": "maxpool2d", "pool_size": 2}], (3, 7, 9))[0][1] == (3, 3, 4)
    assert ref.summary([{"type": "maxpool2d", "pool_size": 2, "stride": 1}], (3, 7, 9))[0][1] == (3, 6, 8)
    assert ref.summary([{"type": "maxpool2d", "pool_size": (2, 3)}], (1, 7, 9))[0][1] == (1, 3, 3)


def test_dense_on_an_image_and_conv_on_a_flat_input_are_errors_with_a_clear_message():
    with pytest.raises(AssertionError, match="flat"):
        ref.summary([{"type": "dense", "units": 10}], (1, 28, 28))
    with pytest.raises(AssertionError, match="flat"):
        ref.build_torch_model([{"type": "dense", "units": 10}], (1, 28, 28))
    with pytest.raises(AssertionError, match="conv2d"):
        ref.summary([{"type": "flatten"}, {"type": "conv2d", "filters": 1, "kernel_size": 1}], (1, 4, 4))


def test_invalid_layer_lists_are_rejected():
    bad = [
        ([{"type": "conv2d", "filters": 1, "kernel_size": 5}], (1, 4, 4)),  # kernel larger than the image
        ([{"type": "conv2d", "filters": 1, "kernel_size": 3, "padding": "same", "stride": 2}], (1, 8, 8)),
        ([{"type": "maxpool2d", "pool_size": 3}], (1, 2, 2)),
        ([{"type": "dense"}], (4,)),  # missing units
        ([{"type": "conv2d", "filters": 1, "kernel": 3}], (1, 4, 4)),  # misspelt key
        ([{"type": "softmax"}], (4,)),
        ([{"type": "dropout", "rate": 1.0}], (4,)),
        ([], (28, 28)),  # neither (C, H, W) nor (n,)
    ]
    for layers, shape in bad:
        with pytest.raises(AssertionError):
            ref.summary(layers, shape)


def test_an_empty_layer_list_has_no_rows_and_no_parameters():
    assert ref.summary([], (3, 5, 5)) == []
    assert ref.count_parameters([], (7,)) == 0


# --- the model solution -----------------------------------------------------------------


def test_the_solution_equals_the_reference_on_random_layer_lists():
    rng = np.random.default_rng(2)
    for _ in range(200):
        layers, shape = ref.random_layers(rng)
        assert sol.summary(layers, shape) == ref.summary(layers, shape), (layers, shape)
        assert sol.count_parameters(layers, shape) == ref.count_parameters(layers, shape)
    for _ in range(40):
        c_in, c_out, kh, kw = (int(a) for a in rng.integers(1, 9, size=4))
        bias = bool(rng.random() < 0.5)
        assert sol.conv2d_params(c_in, c_out, (kh, kw), bias) == ref.conv2d_params(c_in, c_out, (kh, kw), bias)
        assert sol.conv2d_params(c_in, c_out, kh) == ref.conv2d_params(c_in, c_out, kh)


def test_the_solution_course_networks_equal_the_reference_ones():
    for name in ["MNIST_CNN", "CIFAR_NORM_CNN", "MNIST_CNN1", "CIFAR_BASE_CNN", "CIFAR_BASE_CNN_BN"]:
        assert getattr(sol, name) == getattr(ref, name), name


def test_the_solution_rejects_dense_on_an_image():
    with pytest.raises(AssertionError):
        sol.summary([{"type": "dense", "units": 10}], (1, 28, 28))


def test_the_doctest_examples_of_the_solution_pass():
    result = doctest.testmod(sol)
    assert result.attempted > 0
    assert result.failed == 0
