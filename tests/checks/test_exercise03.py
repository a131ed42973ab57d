"""exercise03's checks judged against the project itself: solution, exercise file, mistakes, rule."""

import json

import pytest


EX = "exercise03"


def test_two_gradings_of_a_buggy_submission_give_identical_json(grade_text, solution_text, mutate, canonical_json):
    text = mutate(solution_text(EX), "out[f, i, j] = np.sum(window * kernel[f])",
                  "out[f, i, j] = np.sum(window * kernel[f, :, ::-1, ::-1])")
    runs = [canonical_json(grade_text(EX, text)) for _ in range(2)]
    assert runs[0] == runs[1]
    assert json.loads(runs[0])["score"] < 17


# (anchor in the solution, replacement, function, the mistake's name in MISTAKES)
MISTAKE_EDITS = [
    ("    bias = np.asarray(bias, dtype=np.float64)\n", "    out = out.transpose(0, 2, 1)  # as the slide's 6×6 table\n"
     "    bias = np.asarray(bias, dtype=np.float64)\n", "conv2d", "feature map transposed"),
    ("out[f, i, j] = np.sum(window * kernel[f])", "out[f, i, j] = np.sum(window * kernel[f, :, ::-1, ::-1])",
     "conv2d", "flipped kernel"),
    ("out_h = (height - kh) // stride + 1", "out_h = (height - kh) // stride", "conv2d", "off-by-one output size"),
    ("rows = cols = (padding, padding)", "rows = cols = (padding, 0)", "conv2d", "padding on one side only"),
    ("top, left = i * stride, j * stride\n                window", "top, left = i, j\n                window",
     "conv2d", "stride ignored"),
    ("out[f, i, j] = np.sum(window * kernel[f])", "out[f, i, j] = np.sum(window[0] * kernel[f, 0])",
     "conv2d", "channels not summed"),
    ("    stride = size\n", "    stride = 1\n", "max_pool2d", "pooling stride 1 instead of size"),
    ("return (n + 2 * padding - kernel_size) // stride + 1", "return (n + padding - kernel_size) // stride + 1",
     "conv_output_size", "padding on one side only"),
]


@pytest.mark.parametrize("anchor, replacement, function, mistake", MISTAKE_EDITS,
                         ids=[f"{m[2]}: {m[3]}" for m in MISTAKE_EDITS])
def test_each_typical_mistake_loses_points_and_is_diagnosed(assert_mistake_diagnosed, anchor, replacement, function, mistake):
    assert_mistake_diagnosed(EX, [(anchor, replacement)], function, mistake)


def test_a_failed_check_shows_the_smallest_counterexample_expected_and_got(grade_text, solution_text, mutate):
    text = mutate(solution_text(EX), "out[f, i, j] = np.sum(window * kernel[f])",
                  "out[f, i, j] = np.sum(window * kernel[f, :, ::-1, ::-1])")
    result = grade_text(EX, text, functions=["conv2d"])
    check = next(c for c in result.checks if c.name == "conv2d_matches_the_reference_on_single_channel_images")
    ce = check.counterexample
    # hypothesis shrinks a flipped kernel down to one row of two pixels
    assert ce.inputs["image"].startswith("[[") and "(1, 2)" in ce.inputs["image"]
    assert ce.expected != ce.got and ce.call.startswith("conv2d(")


def test_using_scipy_inside_conv2d_breaks_the_by_hand_rule(grade_text, solution_text):
    text = solution_text(EX) + '''

def conv2d(image, kernel, bias=0.0, stride=1, padding=0):
    from scipy.signal import correlate2d
    return correlate2d(image, kernel, mode="valid") + bias
'''
    result = grade_text(EX, text, functions=["conv2d"])
    conv = [c for c in result.checks if "conv2d" in c.functions[:1]]
    assert conv and all(c.outcome == "rule" and c.score == 0 for c in conv)
    assert "scipy" in conv[0].message


@pytest.mark.parametrize("machine", ["quiet", "saturated"])
def test_a_library_call_hidden_in_a_helper_is_caught_at_run_time(grade_text, solution_text, request, machine):
    if machine == "saturated":  # call limits are CPU time: a busy machine gives the same verdict
        request.getfixturevalue("saturated")
    text = solution_text(EX) + '''

import importlib
def _helper(a, k):
    sig = importlib.import_module("scipy" + ".signal")
    return sig.correlate2d(a, k, mode="valid")

def conv2d(image, kernel, bias=0.0, stride=1, padding=0):
    return _helper(image, kernel) + bias
'''
    result = grade_text(EX, text, functions=["conv2d"])
    first = next(c for c in result.checks if c.name == "conv2d_reproduces_the_lecture_examples")
    assert first.outcome == "rule" and "scipy" in first.message


def test_a_vectorized_float32_solution_also_scores_full_marks(grade_text):
    text = '''
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

def conv_output_size(n, kernel_size, stride=1, padding=0):
    if padding == "same":
        return n
    p = 0 if padding == "valid" else padding
    return (n + 2 * p - kernel_size) // stride + 1

def conv2d(image, kernel, bias=0.0, stride=1, padding=0):
    x = np.asarray(image, dtype=np.float32)
    w = np.asarray(kernel, dtype=np.float32)
    single = w.ndim < 4
    if w.ndim == 2:
        w = w[None, None]
    elif w.ndim == 3:
        w = w[None]
    if x.ndim == 2:
        x = x[None]
    kh, kw = w.shape[-2:]
    if padding == "same":
        pads = ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2))
    else:
        p = 0 if padding == "valid" else padding
        pads = ((0, 0), (p, p), (p, p))
    x = np.pad(x, pads)
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    out = np.einsum("chwij,fcij->fhw", win, w) + np.reshape(np.asarray(bias, np.float32), (-1, 1, 1))
    return out[0] if single else out

def relu(x):
    return np.where(np.asarray(x) > 0, x, 0.0)

def max_pool2d(x, size=2, stride=None):
    stride = stride or size
    x = np.asarray(x)
    win = sliding_window_view(x, (size, size), axis=(-2, -1))[..., ::stride, ::stride, :, :]
    return win.max(axis=(-2, -1))
'''
    result = grade_text(EX, text)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]


def test_a_solution_computing_in_float32_gets_full_marks(grade_text, solution_text):
    # float32 rounds 0.1 and cancels in sums of products: the tolerance must follow the precision
    text = solution_text("exercise03").replace("dtype=np.float64)", "dtype=np.float32)")
    text = text.replace("out = np.zeros((n_filters, out_h, out_w))", "out = np.zeros((n_filters, out_h, out_w), np.float32)")
    assert text.count("np.float32") >= 4
    result = grade_text("exercise03", text, instructor=True)
    assert result.score == result.max_score, [(c.name, c.message) for c in result.checks if not c.passed]


def test_counterexamples_name_what_the_code_used(grade_text, solution_text, mutate):
    text = mutate(solution_text("exercise03"), "out[f, i, j] = np.sum(window * kernel[f])",
                  "out[f, i, j] = np.sum(window * kernel[f, :, ::-1, ::-1])")
    checks = {c.name: c for c in grade_text("exercise03", text, functions=["conv2d"]).checks}
    delta = checks["conv2d_with_a_delta_kernel_returns_the_cropped_image"].counterexample
    assert set(delta.inputs) == {"image", "kernel", "one_at"}  # the kernel is shown, its 1 where one_at says
    kernel = eval(delta.inputs["kernel"].split("#")[0], {})  # "[[0., 0.], [0., 1.]]  # shape (2, 2)"
    assert [(i, j) for i, row in enumerate(kernel) for j, v in enumerate(row) if v] == [eval(delta.inputs["one_at"])]
    linear = checks["conv2d_is_linear_in_the_image"].counterexample
    assert {"x", "y", "kernel", "a", "b"} <= set(linear.inputs), linear.inputs.keys()
    lecture = checks["conv2d_reproduces_the_lecture_examples"].counterexample
    assert list(lecture.inputs) == ["image", "kernel"]  # the signature's names, not "argument 1"
