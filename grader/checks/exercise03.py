"""Checks for exercise03 — convolution by hand.

The oracle is ``reference.exercise03`` (itself tested against torch). Inputs are small
integer-ish float arrays so that the smallest failing example reads like a slide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.kit import (check, expect, expect_array, expect_int, expect_oracle, float_arrays, given, Mistake,
                        result_dtype, rounding_tolerance, sides, small_floats, st)

from grader.reference import exercise03 as ref

TITLE = "Convolution by hand"
ALIASES = ("convolution", "conv", "conv2d")
RULES = {"conv2d": ("torch", "scipy", "cv2", "tensorflow", "jax", "skimage")}
MAX_EXAMPLES = 30
# every input here is at most 12×12: one call takes milliseconds even written with loops, so a
# call still running after 2 s is an endless loop (the default waits 10 s)
LIMITS = {"call_timeout": 2.0}


# --------------------------------------------------------------------------- inputs


@dataclass
class ConvCase:
    image: np.ndarray
    kernel: np.ndarray
    bias: float | np.ndarray = 0.0
    stride: int = 1
    padding: int | str = 0

    def kwargs(self) -> dict:
        """The keyword arguments that differ from the defaults (so the call reads short)."""
        kw = {}
        if not (np.ndim(self.bias) == 0 and self.bias == 0.0):
            kw["bias"] = self.bias
        if self.stride != 1:
            kw["stride"] = self.stride
        if not (isinstance(self.padding, int) and self.padding == 0):
            kw["padding"] = self.padding
        return kw

    def expected(self) -> np.ndarray:
        return ref.conv2d(self.image, self.kernel, **self.kwargs())


@st.composite
def conv_cases(draw, *, channels: bool = False, filters: bool = False, strided: bool = True,
               padded: bool = True, biased: bool = False, max_side: int = 6, max_channels: int = 3):
    """Return a strategy for a valid conv2d call: image, kernel and options.

    ``channels``: a (C, H, W) image with a (C, kh, kw) kernel; ``filters``: a (F, C, kh, kw)
    bank; neither: (H, W) with (kh, kw). Sizes are drawn so the output is never empty.
    """
    kh, kw = draw(sides(max_side=3)), draw(sides(max_side=3))
    stride = draw(st.integers(1, 3)) if strided else 1
    padding = draw(st.one_of(st.integers(0, 2), st.sampled_from(["valid", "same"]))) if padded else 0
    if padding == "same":
        stride = 1
    pad = 0 if isinstance(padding, str) else padding
    h = draw(st.integers(max(1, kh - 2 * pad), max_side))
    w = draw(st.integers(max(1, kw - 2 * pad), max_side))
    c = draw(st.integers(1, max_channels)) if (channels or filters) else None
    image_shape = (h, w) if c is None else (c, h, w)
    if filters:
        f = draw(st.integers(1, 3))
        kernel_shape = (f, c, kh, kw)
    else:
        kernel_shape = (kh, kw) if c is None else (c, kh, kw)
    image = draw(float_arrays(image_shape))
    kernel = draw(float_arrays(kernel_shape))
    bias = 0.0
    if biased:
        bias = draw(float_arrays((kernel_shape[0],))) if filters and draw(st.booleans()) else draw(small_floats())
    return ConvCase(image, kernel, bias, stride, padding)


def _call(sub, case: ConvCase):
    return sub.conv2d(case.image, case.kernel, **case.kwargs())


def _what(case: ConvCase) -> str:
    opts = "".join(f", {k}=…" for k in case.kwargs())
    return f"conv2d(image, kernel{opts})"


# --------------------------------------------------------------------------- conv2d (10 points)

SLIDE_1 = (np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]),
           np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]]))
SLIDE_2 = (np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]),
           np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]]))
SLIDE_3 = (np.array([[255, 220, 150, 200, 110, 100], [240, 50, 35, 45, 200, 130], [0, 20, 245, 250, 230, 120],
                     [170, 180, 235, 145, 170, 255], [190, 185, 170, 165, 130, 120], [255, 255, 245, 190, 200, 175]]),
           np.array([[-0.7, 0.2, 0.1], [0.3, 0.5, 0.4], [-0.2, -0.4, 0.2]]))


@check(points=2, functions=("conv2d",))
def conv2d_reproduces_the_lecture_examples(sub):
    """conv2d reproduces the lecture's three worked examples."""
    for image, kernel in (SLIDE_1, SLIDE_2, SLIDE_3):
        expect_oracle(sub.conv2d(image, kernel), ref.conv2d, image, kernel, what="conv2d(image, kernel)")


@check(points=2, functions=("conv2d",))
@given(case=conv_cases(strided=False, padded=False))
def conv2d_matches_the_reference_on_single_channel_images(sub, case):
    """conv2d equals the reference (= torch's conv2d) on random (H, W) images and kernels."""
    expect_oracle(_call(sub, case), ref.conv2d, case.image, case.kernel, what=_what(case), **case.kwargs())


@check(points=2, functions=("conv2d",))
@given(case=conv_cases())
def conv2d_handles_stride_and_padding(sub, case):
    """conv2d handles strides and int, "valid" and "same" padding."""
    expect_oracle(_call(sub, case), ref.conv2d, case.image, case.kernel, what=_what(case), **case.kwargs())


@check(points=2, functions=("conv2d",))
@given(case=st.one_of(conv_cases(channels=True, biased=True), conv_cases(filters=True, biased=True)))
def conv2d_sums_over_channels_and_stacks_filters(sub, case):
    """conv2d sums over the channels of (C, H, W) images and gives one map per filter of a (F, C, kh, kw) bank."""
    expect_oracle(_call(sub, case), ref.conv2d, case.image, case.kernel, what=_what(case), **case.kwargs())


@dataclass
class LinearCase:
    """Two images x and y, one kernel and its options, and the scalars a and b of a·x + b·y."""

    x: np.ndarray
    y: np.ndarray
    kernel: np.ndarray
    a: float
    b: float
    stride: int = 1
    padding: int | str = 0

    def conv(self, image) -> ConvCase:
        return ConvCase(image, self.kernel, stride=self.stride, padding=self.padding)


@st.composite
def linear_cases(draw):
    """Return a strategy for a LinearCase: a multi-channel conv2d call, a second image, two scalars."""
    case = draw(conv_cases(channels=True))
    return LinearCase(case.image, draw(float_arrays(case.image.shape)), case.kernel, draw(small_floats()),
                      draw(small_floats()), case.stride, case.padding)


@check(points=1, functions=("conv2d",), max_examples=15)
@given(linear=linear_cases())
def conv2d_is_linear_in_the_image(sub, linear):
    """conv2d(a·x + b·y) equals a·conv2d(x) + b·conv2d(y) (no bias)."""
    on_x, on_y, on_mix = linear.conv(linear.x), linear.conv(linear.y), linear.conv(linear.a * linear.x + linear.b * linear.y)
    lhs = _call(sub, on_mix)
    cx = expect_oracle(_call(sub, on_x), ref.conv2d, linear.x, linear.kernel, what=_what(on_x).replace("image", "x", 1),
                       **on_x.kwargs())
    cy = expect_oracle(_call(sub, on_y), ref.conv2d, linear.y, linear.kernel, what=_what(on_y).replace("image", "y", 1),
                       **on_y.kwargs())
    # both sides carry the rounding of the precision the answer was computed in
    both = rounding_tolerance(lambda x, y, k: linear.a * ref.conv2d(x, k, **on_x.kwargs()) + linear.b * ref.conv2d(
        y, k, **on_x.kwargs()) - ref.conv2d(linear.a * x + linear.b * y, k, **on_x.kwargs()),
        (linear.x, linear.y, linear.kernel), dtype=result_dtype(lhs))
    expect_array(lhs, linear.a * cx.astype(np.float64) + linear.b * cy.astype(np.float64), atol=both,
                 what="conv2d(a·x + b·y) compared with a·conv2d(x) + b·conv2d(y)")


@dataclass
class DeltaCase:
    """An image and a k×k kernel that is 0 but for a single 1 at ``one_at``."""

    image: np.ndarray
    kernel: np.ndarray
    one_at: tuple[int, int]

    def expected(self) -> np.ndarray:
        """The image cropped to the output size, shifted by the 1's position."""
        (i, j), (k, _), (h, w) = self.one_at, self.kernel.shape, self.image.shape
        return self.image[i:h - k + 1 + i, j:w - k + 1 + j]


@st.composite
def delta_cases(draw, *, max_k: int = 3):
    """Return a strategy for a DeltaCase: an image of at least k×k and a delta kernel."""
    k = draw(st.integers(1, max_k))
    image = draw(float_arrays(st.tuples(sides(min_side=max(3, k)), sides(min_side=max(3, k)))))
    one_at = (draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1)))
    kernel = np.zeros((k, k))
    kernel[one_at] = 1.0
    return DeltaCase(image, kernel, one_at)


@check(points=1, functions=("conv2d",))
@given(delta=delta_cases())
def conv2d_with_a_delta_kernel_returns_the_cropped_image(sub, delta):
    """A kernel with a single 1 returns the image cropped (shifted by the 1's position)."""
    expect_array(sub.conv2d(delta.image, delta.kernel), delta.expected(), what="conv2d(image, delta kernel)")


# --------------------------------------------------------------------------- conv_output_size (2)


@check(points=1, functions=("conv_output_size",))
def conv_output_size_gives_the_lectures_sizes(sub):
    """conv_output_size gives the lecture's sizes (28 with a 5×5 kernel → 24, …)."""
    for args, kwargs in (((28, 5), {}), ((5, 3), {}), ((6, 3), {}), ((7, 3), {"stride": 2, "padding": 1}),
                         ((32, 3), {"padding": "same"}), ((32, 3), {"padding": "valid"})):
        got = sub.conv_output_size(*args, **kwargs)
        expect_int(got, ref.conv_output_size(*args, **kwargs),
                   what=f"conv_output_size({', '.join(map(str, args))}{''.join(f', {k}={v!r}' for k, v in kwargs.items())})")


@dataclass
class SizeCase:
    n: int
    k: int
    s: int
    p: int


@st.composite
def size_cases(draw, *, max_n: int = 40, max_k: int = 7, max_stride: int = 4, max_padding: int = 3):
    """Return a strategy for (n, k, stride, padding) where the kernel fits the padded input."""
    k, s, p = draw(st.integers(1, max_k)), draw(st.integers(1, max_stride)), draw(st.integers(0, max_padding))
    return SizeCase(draw(st.integers(max(1, k - 2 * p), max_n)), k, s, p)


@check(points=1, functions=("conv_output_size", "conv2d"))
@given(case=size_cases())
def conv_output_size_follows_the_formula_and_matches_conv2d(sub, case):
    """conv_output_size equals ⌊(n + 2p − k)/s⌋ + 1, and conv2d's output has that size."""
    n, k, s, p = case.n, case.k, case.s, case.p
    expected = ref.conv_output_size(n, k, stride=s, padding=p)
    expect_int(sub.conv_output_size(n, k, stride=s, padding=p), expected,
               what=f"conv_output_size({n}, {k}, stride={s}, padding={p})")
    if n <= 12:
        got = sub.conv2d(np.ones((n, n)), np.ones((k, k)), stride=s, padding=p)
        expect(getattr(got, "shape", None) == (expected, expected), "conv2d output shape",
               f"conv2d on a {n}×{n} image with a {k}×{k} kernel, stride {s}, padding {p} should give "
               f"{expected}×{expected}, got shape {getattr(got, 'shape', type(got).__name__)}",
               expected=(expected, expected), got=getattr(got, "shape", got))


# --------------------------------------------------------------------------- relu (1)


@check(points=1, functions=("relu",))
@given(x=float_arrays(st.tuples(sides(), sides())) | float_arrays(st.tuples(sides(max_side=3), sides(), sides())))
def relu_zeroes_the_negatives_and_keeps_the_rest(sub, x):
    """relu(x) = max(x, 0) elementwise, same shape."""
    expect_array(sub.relu(x), ref.relu(x), what="relu(x)")


# --------------------------------------------------------------------------- max_pool2d (4)


@check(points=1, functions=("max_pool2d",))
def max_pool2d_reproduces_the_lecture_example(sub):
    """ReLU and 2×2 max-pooling of the lecture's 4×4 map give [[104, 224], [217.5, 52.5]]."""
    fmap = ref.relu(ref.conv2d(*SLIDE_3))
    expect_array(sub.max_pool2d(fmap), ref.max_pool2d(fmap), what="max_pool2d(relu(feature map))")


@dataclass
class PoolCase:
    x: np.ndarray
    size: int
    stride: int | None


@st.composite
def pool_cases(draw):
    """Return a strategy for a max_pool2d call: x (H, W) or (C, H, W), a window that fits."""
    size = draw(st.integers(1, 3))
    stride = draw(st.none() | st.integers(1, 3))
    lead = draw(st.sampled_from([(), (1,), (2,), (3,)]))
    h, w = draw(st.integers(size, 7)), draw(st.integers(size, 7))
    return PoolCase(draw(float_arrays(lead + (h, w))), size, stride)


@check(points=2, functions=("max_pool2d",))
@given(case=pool_cases())
def max_pool2d_matches_the_reference(sub, case):
    """max_pool2d equals the reference (= torch's max_pool2d) for sizes, strides and channels."""
    x, size, stride = case.x, case.size, case.stride
    kwargs = {"size": size} if stride is None else {"size": size, "stride": stride}
    expect_array(sub.max_pool2d(x, **kwargs), ref.max_pool2d(x, size, stride),
                 what=f"max_pool2d(x, {', '.join(f'{k}={v}' for k, v in kwargs.items())})")


@check(points=1, functions=("max_pool2d",))
@given(x=float_arrays(st.tuples(st.integers(2, 8), st.integers(2, 8))))
def every_pooled_value_is_the_max_of_its_window(sub, x):
    """With the default stride (= size), every pooled value is the max of its own 2×2 window."""
    got = expect_array(sub.max_pool2d(x), ref.max_pool2d(x), what="max_pool2d(x)")
    for i in range(got.shape[0]):
        for j in range(got.shape[1]):
            window = x[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            # a max picks one of the inputs, exact up to the rounding of a float32 computation
            expect(bool(np.isclose(got[i, j], window.max(), rtol=1e-6, atol=0.0)), "max_pool2d(x)", f"value at ({i}, {j}) is "
                   f"{got[i, j]}, but its window {window.tolist()} has max {window.max()}", got=got)


# --------------------------------------------------------------------------- hidden (1): with --instructor

BLUR = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.uint8)


@check(points=1, functions=("conv2d", "max_pool2d"), hidden=True)
def conv2d_and_max_pool2d_take_nested_lists_and_uint8_images(sub):
    """conv2d and max_pool2d take nested lists and uint8 images ("inputs may be lists or arrays of any numeric dtype").

    The public checks pass numpy arrays of int64 or float64 only. This catches code that
    uses ``image.shape`` on what may be a list, and sums computed in uint8, where
    255 · 4 wraps around to 252 without a word.
    """
    image, kernel = SLIDE_2
    expect_array(sub.conv2d(image.tolist(), kernel.tolist()), ref.conv2d(image, kernel),
                 what="conv2d(image as a nested list, kernel as a nested list)")
    bank = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2) % 5 - 2.0
    rgb = np.arange(3 * 5 * 5).reshape(3, 5, 5) % 7 - 3.0
    expect_array(sub.conv2d(rgb.tolist(), bank.tolist(), stride=2, padding=1),
                 ref.conv2d(rgb, bank, stride=2, padding=1),
                 what="conv2d((3, 5, 5) image as a list, (2, 3, 2, 2) kernel as a list, stride=2, padding=1)")
    photo = SLIDE_3[0].astype(np.uint8)
    expect_array(sub.conv2d(photo, BLUR), ref.conv2d(photo.astype(np.float64), BLUR.astype(np.float64)),
                 what="conv2d(uint8 image, uint8 kernel [[1, 2, 1], [2, 4, 2], [1, 2, 1]])")
    fmap = ref.relu(ref.conv2d(*SLIDE_3))
    expect_array(sub.max_pool2d(fmap.tolist()), ref.max_pool2d(fmap), what="max_pool2d(feature map as a nested list)")
    expect_array(sub.max_pool2d(photo), ref.max_pool2d(photo.astype(np.float64)), what="max_pool2d(uint8 image)")


# --------------------------------------------------------------------------- typical mistakes


def _std(image, kernel):
    """image -> (C, H, W), kernel -> (F, C, kh, kw); and whether the result is one map."""
    x, w = np.asarray(image, float), np.asarray(kernel, float)
    one_map = w.ndim < 4
    w = w[None, None] if w.ndim == 2 else w[None] if w.ndim == 3 else w
    x = x[None] if x.ndim == 2 else x
    return x, w, one_map


def _int_padding(padding):
    assert not (isinstance(padding, str) and padding == "same")
    return 0 if isinstance(padding, str) else int(padding)


def flipped_kernel(image, kernel, bias=0.0, stride=1, padding=0):
    return ref.conv2d(image, np.asarray(kernel, float)[..., ::-1, ::-1], bias=bias, stride=stride, padding=padding)


def _off_by_one(sign: int):
    def matches(got, image, kernel, bias=0.0, stride=1, padding=0):
        exp = ref.conv2d(image, kernel, bias=bias, stride=stride, padding=padding)
        shape = getattr(got, "shape", None)
        if shape is None or len(shape) != exp.ndim or shape[:-2] != exp.shape[:-2]:
            return False
        diffs = [g - e for g, e in zip(shape[-2:], exp.shape[-2:])]
        return set(diffs) <= {0, sign} and sign in diffs
    return matches


def _pad_one_side(before: bool):
    def wrong(image, kernel, bias=0.0, stride=1, padding=0):
        x, w, one = _std(image, kernel)
        p = _int_padding(padding)
        assert p > 0
        x = np.pad(x, ((0, 0), (p, 0), (p, 0)) if before else ((0, 0), (0, p), (0, p)))
        out = ref.conv2d(x, w, bias=bias, stride=stride)
        return out[0] if one else out
    return wrong


def _padding_twice_on_one_side(before: bool):
    def wrong(image, kernel, bias=0.0, stride=1, padding=0):
        x, w, one = _std(image, kernel)
        p = _int_padding(padding)
        assert p > 0
        x = np.pad(x, ((0, 0), (2 * p, 0), (2 * p, 0)) if before else ((0, 0), (0, 2 * p), (0, 2 * p)))
        out = ref.conv2d(x, w, bias=bias, stride=stride)
        return out[0] if one else out
    return wrong


def same_extra_before(image, kernel, bias=0.0, stride=1, padding=0):
    assert padding == "same"
    x, w, one = _std(image, kernel)
    kh, kw = w.shape[-2:]
    assert kh % 2 == 0 or kw % 2 == 0
    x = np.pad(x, ((0, 0), (kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)))
    out = ref.conv2d(x, w, bias=bias)
    return out[0] if one else out


def map_transposed(image, kernel, bias=0.0, stride=1, padding=0):
    """The feature map with rows and columns swapped: what the slide prints for the 6×6 example (erratum)."""
    return np.swapaxes(ref.conv2d(image, kernel, bias=bias, stride=stride, padding=padding), -1, -2)


def stride_ignored(image, kernel, bias=0.0, stride=1, padding=0):
    assert stride > 1
    return ref.conv2d(image, kernel, bias=bias, stride=1, padding=padding)


def stride_only_in_size(image, kernel, bias=0.0, stride=1, padding=0):
    assert stride > 1
    full = ref.conv2d(image, kernel, bias=bias, stride=1, padding=padding)
    small = ref.conv2d(image, kernel, bias=bias, stride=stride, padding=padding)
    return full[..., : small.shape[-2], : small.shape[-1]]


def channels_not_summed(image, kernel, bias=0.0, stride=1, padding=0):
    x, w, one = _std(image, kernel)
    assert w.shape[1] > 1
    b = np.broadcast_to(np.asarray(bias, float), (w.shape[0],))
    maps = np.stack([np.stack([ref.conv2d(x[c], w[f, c], stride=stride, padding=padding) + b[f]
                               for c in range(w.shape[1])]) for f in range(w.shape[0])])  # (F, C, H', W')
    return maps[0] if one else maps


def channels_averaged(image, kernel, bias=0.0, stride=1, padding=0):
    x, w, one = _std(image, kernel)
    assert w.shape[1] > 1
    return ref.conv2d(image, np.asarray(kernel, float) / w.shape[1], bias=bias, stride=stride, padding=padding)


def first_channel_only(image, kernel, bias=0.0, stride=1, padding=0):
    x, w, one = _std(image, kernel)
    assert w.shape[1] > 1
    w = w.copy()
    w[:, 1:] = 0.0
    out = ref.conv2d(x, w, bias=bias, stride=stride, padding=padding)
    return out[0] if one else out


def integer_output(got, image, kernel, bias=0.0, stride=1, padding=0):
    exp = ref.conv2d(image, kernel, bias=bias, stride=stride, padding=padding)
    return isinstance(got, np.ndarray) and got.dtype.kind in "iu" and got.shape == exp.shape \
        and np.array_equal(got, np.trunc(exp)) and not np.array_equal(exp, np.trunc(exp))


def pool_stride_one(x, size=2, stride=None):
    assert stride is None and size > 1
    return ref.max_pool2d(x, size, stride=1)


def pool_ignores_stride(x, size=2, stride=None):
    assert stride is not None and stride != size
    return ref.max_pool2d(x, size, stride=size)


def size_one_short(n, kernel_size, stride=1, padding=0):
    return ref.conv_output_size(n, kernel_size, stride, padding) - 1


def size_padding_once(n, kernel_size, stride=1, padding=0):
    p = _int_padding(padding)
    assert p > 0
    return (n + p - kernel_size) // stride + 1


def size_stride_ignored(n, kernel_size, stride=1, padding=0):
    assert stride > 1
    return ref.conv_output_size(n, kernel_size, 1, padding)


_CONV_HINT = "Compare with the worked example printed above, entry by entry."
MISTAKES = [
    Mistake("flipped kernel", "conv2d",
            "your conv2d flips the kernel — that is mathematical convolution; CNN layers compute cross-correlation",
            "use kernel[i, j] as it is: out[r, c] = Σ image[r·s + i, c·s + j] · kernel[i, j]", wrong=flipped_kernel),
    Mistake("off-by-one output size", "conv2d",
            "your output is one row or column short: the last window that fits is missing",
            "the output has ⌊(n + 2p − k)/s⌋ + 1 positions — mind the + 1 in range(...)", matches=_off_by_one(-1)),
    Mistake("off-by-one output size", "conv2d",
            "your output has one row or column too many: a window that does not fit was included",
            "the output has ⌊(n + 2p − k)/s⌋ + 1 positions", matches=_off_by_one(+1)),
    Mistake("padding on one side only", "conv2d",
            "your conv2d pads only the top/left side: padding p adds p zeros on all four sides",
            "np.pad(image, ((p, p), (p, p))) pads both sides", wrong=_pad_one_side(before=True)),
    Mistake("padding on one side only", "conv2d",
            "your conv2d pads only the bottom/right side: padding p adds p zeros on all four sides",
            "np.pad(image, ((p, p), (p, p))) pads both sides", wrong=_pad_one_side(before=False)),
    Mistake("padding on one side only", "conv2d",
            "your conv2d puts all 2p zeros on one side: padding p adds p zeros on each side",
            "np.pad(image, ((p, p), (p, p))) pads both sides",
            wrong=_padding_twice_on_one_side(before=True)),
    Mistake("padding on one side only", "conv2d",
            "your conv2d puts all 2p zeros on one side: padding p adds p zeros on each side",
            "np.pad(image, ((p, p), (p, p))) pads both sides",
            wrong=_padding_twice_on_one_side(before=False)),
    Mistake("'same' padding split the wrong way", "conv2d",
            "for an even kernel, 'same' puts the extra zero before the image; torch and Keras put it after",
            "pad (k − 1)//2 before and k − 1 − (k − 1)//2 after", wrong=same_extra_before),
    Mistake("feature map transposed", "conv2d",
            "your feature map is transposed (rows and columns swapped) — as the slide prints the 6×6 example: that "
            "table is an erratum, filled column by column; torch's conv2d gives the map of the task text",
            "out[r, c] is the window whose top-left corner is at row r·stride, column c·stride", wrong=map_transposed),
    Mistake("stride ignored", "conv2d",
            "your conv2d ignores the stride: it returns the stride-1 result",
            "move the window by `stride` pixels: rows r·s … r·s + kh − 1", wrong=stride_ignored),
    Mistake("stride ignored", "conv2d",
            "your output has the strided size, but the window moves by 1 instead of by the stride",
            "the window for output (r, c) starts at (r·stride, c·stride)", wrong=stride_only_in_size),
    Mistake("channels not summed", "conv2d",
            "your conv2d returns one map per input channel: a filter sums over all channels into one map",
            "np.sum(window * kernel) over (C, kh, kw) together", wrong=channels_not_summed),
    Mistake("channels not summed", "conv2d",
            "your conv2d averages over the channels instead of summing them",
            "a filter's output is the sum over channels, not the mean", wrong=channels_averaged),
    Mistake("channels not summed", "conv2d",
            "your conv2d uses only the first channel: a filter sums over all its channels",
            "multiply the whole (C, kh, kw) window with the kernel and sum everything", wrong=first_channel_only),
    Mistake("integer output", "conv2d",
            "your result has an integer dtype, so the fractional parts are cut off",
            "create the output with np.zeros(shape) (float64), not np.zeros_like(image) of an int image",
            matches=integer_output),
    Mistake("pooling stride 1 instead of size", "max_pool2d",
            "your max_pool2d moves the window by 1: by default the stride equals the window size",
            "if stride is None: stride = size", wrong=pool_stride_one),
    Mistake("pooling stride ignored", "max_pool2d",
            "your max_pool2d ignores its stride argument and always moves by the window size",
            "use the given stride when it is not None", wrong=pool_ignores_stride),
    Mistake("off-by-one output size", "conv_output_size",
            "your size is one too small: the formula is ⌊(n + 2p − k)/s⌋ + 1", "don't forget the + 1",
            wrong=size_one_short),
    Mistake("padding on one side only", "conv_output_size",
            "your size counts the padding once: p zeros go on both sides, so n + 2p", "use n + 2 * padding",
            wrong=size_padding_once),
    Mistake("stride ignored", "conv_output_size",
            "your size ignores the stride", "divide by the stride (floor) before adding 1", wrong=size_stride_ignored),
]
