"""Tests of the exercise03 reference (convolution by hand) and of its model solution."""

import ast
import doctest
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.reference import exercise03 as ref

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise03.py"

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def _load_solution():
    spec = importlib.util.spec_from_file_location("solution_03", SOLUTION_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sol = _load_solution()

SLIDE_1_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
SLIDE_1_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
SLIDE_2_IMAGE = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
SLIDE_2_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
SIX_IMAGE = [
    [255, 220, 150, 200, 110, 100],
    [240, 50, 35, 45, 200, 130],
    [0, 20, 245, 250, 230, 120],
    [170, 180, 235, 145, 170, 255],
    [190, 185, 170, 165, 130, 120],
    [255, 255, 245, 190, 200, 175],
]
SIX_KERNEL = [[-0.7, 0.2, 0.1], [0.3, 0.5, 0.4], [-0.2, -0.4, 0.2]]
SIX_MAP = [[32.5, -105.5, -44, -60.5], [-105.5, 104, 224, 213.5], [185.5, 217.5, 38.5, 52.5], [54, 31, -18, 37.5]]


# --- worked numbers of the slides -------------------------------------------------------


def test_conv2d_reproduces_the_first_slide_example():
    out = ref.conv2d(SLIDE_1_IMAGE, SLIDE_1_KERNEL)
    np.testing.assert_array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    assert out.dtype == np.float64


def test_conv2d_reproduces_the_second_slide_example_and_its_row_2_column_1_value():
    out = ref.conv2d(SLIDE_2_IMAGE, SLIDE_2_KERNEL)
    np.testing.assert_array_equal(out, [[12, 12, 17], [10, 17, 19], [9, 6, 14]])
    assert out[1, 0] == 10


def test_conv2d_gives_the_correct_six_by_six_map_not_the_transposed_one_of_the_slide():
    out = ref.conv2d(SIX_IMAGE, SIX_KERNEL)
    np.testing.assert_allclose(out, SIX_MAP, atol=1e-9)
    assert not np.allclose(out, np.transpose(SIX_MAP))


def test_relu_then_max_pool_of_the_six_by_six_map_gives_the_slide_result():
    out = ref.max_pool2d(ref.relu(ref.conv2d(SIX_IMAGE, SIX_KERNEL)))
    np.testing.assert_allclose(out, [[104, 224], [217.5, 52.5]], atol=1e-9)


def test_six_five_by_five_filters_on_three_channels_have_456_weights():
    assert ref.conv_params(6, 3, 5, 5) == 456
    assert sum(p.numel() for p in torch.nn.Conv2d(3, 6, 5).parameters()) == 456


def test_six_filters_on_a_28_by_28_rgb_image_give_six_24_by_24_maps():
    rng = np.random.default_rng(0)
    out = ref.conv2d(rng.normal(size=(3, 28, 28)), rng.normal(size=(6, 3, 5, 5)), bias=rng.normal(size=6))
    assert out.shape == (6, 24, 24)
    assert ref.conv_output_size(28, 5) == 24


@pytest.mark.parametrize(
    "args, expected",
    [((5, 3), 3), ((28, 5), 24), ((7, 3, 2, 1), 4), ((6, 3, 2, 0), 2), ((28, 3, 1, "same"), 28), ((28, 3, 1, "valid"), 26)],
)
def test_conv_output_size_follows_the_floor_formula(args, expected):
    assert ref.conv_output_size(*args) == expected
    assert type(ref.conv_output_size(*args)) is int


# --- reference against torch ------------------------------------------------------------


def _torch_conv(image, kernel, bias, stride, padding):
    """torch.nn.functional.conv2d on the shapes conv2d accepts, as float64 numpy."""
    x, w = np.asarray(image, float), np.asarray(kernel, float)
    single = w.ndim < 4
    if w.ndim == 2:
        w = w[None, None]
    elif w.ndim == 3:
        w = w[None]
    if x.ndim == 2:
        x = x[None]
    b = np.broadcast_to(np.asarray(bias, float), (w.shape[0],)).copy()
    out = F.conv2d(torch.from_numpy(x[None]), torch.from_numpy(w), torch.from_numpy(b), stride=stride, padding=padding)
    out = out[0].numpy()
    return out[0] if single else out


def _random_cases(n=40, seed=0):
    """Random (image, kernel, bias, stride, padding) covering every accepted form."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        form = i % 4
        C, Fn = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        H, W = int(rng.integers(kh, 10)), int(rng.integers(kw, 10))
        if i % 3 == 0:
            stride, padding = 1, "same"
        else:
            stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
            if i % 5 == 0:
                padding = "valid"
        if form == 0:
            image, kernel, bias = rng.normal(size=(H, W)), rng.normal(size=(kh, kw)), float(rng.normal())
        elif form == 1:
            image, kernel, bias = rng.normal(size=(C, H, W)), rng.normal(size=(C, kh, kw)), float(rng.normal())
        elif form == 2:
            image, kernel, bias = rng.normal(size=(C, H, W)), rng.normal(size=(Fn, C, kh, kw)), rng.normal(size=Fn)
        else:
            image, kernel, bias = rng.normal(size=(H, W)), rng.normal(size=(Fn, 1, kh, kw)), float(rng.normal())
        cases.append((image, kernel, bias, stride, padding))
    return cases


CASES = _random_cases()


@pytest.mark.parametrize("case", range(len(CASES)))
def test_conv2d_equals_torch_conv2d_on_random_shapes_strides_and_paddings(case):
    image, kernel, bias, stride, padding = CASES[case]
    expected = _torch_conv(image, kernel, bias, stride, padding)
    out = ref.conv2d(image, kernel, bias=bias, stride=stride, padding=padding)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)
    kh = np.shape(kernel)[-2]
    assert out.shape[-2] == ref.conv_output_size(np.shape(image)[-2], kh, stride, padding)


def test_same_padding_with_an_even_kernel_pads_the_extra_row_after_like_torch():
    rng = np.random.default_rng(1)
    image, kernel = rng.normal(size=(5, 6)), rng.normal(size=(4, 2))
    expected = _torch_conv(image, kernel, 0.0, 1, "same")
    np.testing.assert_allclose(ref.conv2d(image, kernel, padding="same"), expected, atol=1e-12)


def test_conv2d_is_linear_in_the_image_and_in_the_kernel():
    rng = np.random.default_rng(2)
    x1, x2 = rng.normal(size=(2, 7, 6)), rng.normal(size=(2, 7, 6))
    k1, k2 = rng.normal(size=(3, 2, 3, 2)), rng.normal(size=(3, 2, 3, 2))
    a, b = 1.7, -0.4
    np.testing.assert_allclose(ref.conv2d(a * x1 + b * x2, k1), a * ref.conv2d(x1, k1) + b * ref.conv2d(x2, k1), atol=1e-10)
    np.testing.assert_allclose(ref.conv2d(x1, a * k1 + b * k2), a * ref.conv2d(x1, k1) + b * ref.conv2d(x1, k2), atol=1e-10)


def test_a_delta_kernel_returns_the_cropped_image():
    rng = np.random.default_rng(3)
    image = rng.normal(size=(6, 7))
    delta = np.zeros((3, 3))
    delta[1, 1] = 1.0
    np.testing.assert_array_equal(ref.conv2d(image, delta), image[1:-1, 1:-1])
    np.testing.assert_array_equal(ref.conv2d(image, delta, padding="same"), image)


@pytest.mark.parametrize("seed", range(12))
def test_max_pool2d_equals_torch_max_pool2d(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 4))
    stride = None if seed % 2 else int(rng.integers(1, 4))
    shape = (int(rng.integers(1, 4)), int(rng.integers(size, 9)), int(rng.integers(size, 9)))
    x = rng.normal(size=shape[1:] if seed % 3 == 0 else shape)
    t = torch.from_numpy(x if x.ndim == 3 else x[None])
    expected = F.max_pool2d(t, size, stride=stride).numpy()
    expected = expected if x.ndim == 3 else expected[0]
    np.testing.assert_array_equal(ref.max_pool2d(x, size, stride), expected)


def test_relu_equals_torch_relu_and_keeps_the_shape():
    x = np.random.default_rng(4).normal(size=(2, 3, 4))
    out = ref.relu(x)
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_array_equal(out, torch.relu(torch.from_numpy(x)).numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda: ref.conv2d(np.ones((4, 4)), np.ones((3, 3)), stride=2, padding="same"),
        lambda: ref.conv2d(np.ones((2, 4, 4)), np.ones((3, 3))),
        lambda: ref.conv2d(np.ones((2, 4, 4)), np.ones((3, 3, 3))),
        lambda: ref.conv2d(np.ones((4, 4)), np.ones((3, 3)), bias=np.ones(1)),
        lambda: ref.conv2d(np.ones((2, 2)), np.ones((3, 3))),
        lambda: ref.conv_output_size(5, 3, stride=2, padding="same"),
    ],
)
def test_invalid_inputs_are_rejected(call):
    with pytest.raises(AssertionError):
        call()


# --- the model solution -----------------------------------------------------------------


@pytest.mark.parametrize("case", range(len(CASES)))
def test_solution_conv2d_equals_the_reference(case):
    image, kernel, bias, stride, padding = CASES[case]
    expected = ref.conv2d(image, kernel, bias=bias, stride=stride, padding=padding)
    np.testing.assert_allclose(sol.conv2d(image, kernel, bias=bias, stride=stride, padding=padding), expected, atol=1e-10)


def test_solution_helpers_equal_the_reference():
    rng = np.random.default_rng(5)
    for _ in range(30):
        n, k, s, p = int(rng.integers(3, 30)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        assert sol.conv_output_size(n, k, s, p) == ref.conv_output_size(n, k, s, p)
        assert sol.conv_output_size(n, k, 1, "same") == ref.conv_output_size(n, k, 1, "same")
        x = rng.normal(size=(int(rng.integers(1, 3)), int(rng.integers(3, 9)), int(rng.integers(3, 9))))
        size, stride = int(rng.integers(1, 4)), [None, 1, 2, 3][int(rng.integers(0, 4))]
        np.testing.assert_array_equal(sol.max_pool2d(x, size, stride), ref.max_pool2d(x, size, stride))
        np.testing.assert_array_equal(sol.max_pool2d(x[0], size, stride), ref.max_pool2d(x[0], size, stride))
        np.testing.assert_array_equal(sol.relu(x), ref.relu(x))


def test_solution_imports_numpy_only():
    tree = ast.parse(SOLUTION_PATH.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"numpy"}, imported


def test_solution_docstring_examples_pass():
    result = doctest.testmod(sol)
    assert result.failed == 0 and result.attempted > 0
