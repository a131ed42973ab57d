"""Exercise 03 — convolution by hand.

Implement the building blocks of a CNN with numpy: the convolution of an image with a
kernel (or a bank of kernels), the output size formula, ReLU and max-pooling.

Rule ("by hand"): numpy only. Write the sums yourself: ``conv2d`` must not call a library
convolution from torch, scipy or cv2 (the grader reads your code and watches the calls;
a violation costs the points of every conv2d check).

Conventions that matter:

- "Convolution" in deep learning is cross-correlation: the kernel is laid on the image as
  it is, *not* flipped (flipping gives the mathematician's convolution — wrong here).
- Shapes follow PyTorch, channels first: an image is ``(H, W)`` or ``(C, H, W)``, a bank of
  F filters is ``(F, C, kh, kw)`` and gives ``(F, H', W')``. The Keras slides print
  channels last, ``(H, W, C)``: their 28×28×3 input is our ``(3, 28, 28)`` and their
  24×24×6 output is our ``(6, 24, 24)``.
- Return float64 numpy arrays; inputs may be lists or arrays of any numeric dtype.

Erratum of the slides: in the 6×6 example (filter ``[[-0.7, 0.2, 0.1], [0.3, 0.5, 0.4],
[-0.2, -0.4, 0.2]]``) the slide prints the 4×4 feature map *transposed* (its table is filled
column by column). The correct map is the one in the docstring of ``conv2d`` below; ReLU and
2×2 max-pooling then give ``[[104, 224], [217.5, 52.5]]``.

Check your work with:  grade exercise03

Points: conv2d 10 · conv_output_size 2 · relu 1 · max_pool2d 4 (total 17)
Hidden checks: 1 more point, when your instructor grades (they test what this text asks).
"""

import numpy as np


def conv_output_size(n, kernel_size, stride=1, padding=0):
    """Return the output length (an int) of a convolution along one axis.

    ``n`` input length, ``kernel_size`` k, ``stride`` s >= 1, ``padding`` p >= 0 zeros on
    each side: floor((n + 2p - k) / s) + 1 — windows that do not fit are dropped.
    ``padding`` may also be ``"valid"`` (p = 0) or ``"same"`` (only with stride 1: the
    output has the input's length, so return n).

    >>> conv_output_size(5, 3)
    3
    >>> conv_output_size(28, 5)
    24
    >>> conv_output_size(7, 3, stride=2, padding=1)
    4
    >>> conv_output_size(28, 3, padding="same")
    28
    """
    # BEGIN SOLUTION
    if padding == "valid":
        padding = 0
    if padding == "same":
        assert stride == 1, "padding='same' needs stride 1"
        return n
    assert n + 2 * padding >= kernel_size, "kernel larger than the padded input"
    return (n + 2 * padding - kernel_size) // stride + 1
    # END SOLUTION


def conv2d(image, kernel, bias=0.0, stride=1, padding=0):
    """Cross-correlate an image with a kernel (no flip) and add the bias.

    Accepted shapes:

    - image ``(H, W)``, kernel ``(kh, kw)`` → ``(H', W')``;
    - image ``(C, H, W)``, kernel ``(C, kh, kw)`` → ``(H', W')``: one filter, the products
      are summed over all channels as well;
    - image ``(C, H, W)``, kernel ``(F, C, kh, kw)`` → ``(F, H', W')``: F filters, one map
      each (an ``(H, W)`` image is allowed here when C == 1).

    Kernels need not be square. ``bias`` is a number added to every output value, or an
    array of shape ``(F,)`` (one per filter) with a 4-D kernel. ``stride`` (int >= 1) is the
    step of the window in both directions. ``padding`` is an int p >= 0 (p rows/columns of
    zeros on all four sides), ``"valid"`` (no padding) or ``"same"`` (stride 1 only: the
    output has the input's height and width; a kernel of size k gets k - 1 zeros in total,
    (k - 1) // 2 before and the rest after — for an even k one more at the end, as in
    PyTorch). H' = floor((H + 2p - kh) / stride) + 1, W' likewise. Return float64.

    The slides' examples:

    >>> image = [[1, 1, 1, 0, 0],
    ...          [0, 1, 1, 1, 0],
    ...          [0, 0, 1, 1, 1],
    ...          [0, 0, 1, 1, 0],
    ...          [0, 1, 1, 0, 0]]
    >>> conv2d(image, [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    array([[4., 3., 4.],
           [2., 4., 3.],
           [2., 3., 4.]])
    >>> image = [[3, 3, 2, 1, 0],
    ...          [0, 0, 1, 3, 1],
    ...          [3, 1, 2, 2, 3],
    ...          [2, 0, 0, 2, 2],
    ...          [2, 0, 0, 0, 1]]
    >>> fmap = conv2d(image, [[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    >>> fmap
    array([[12., 12., 17.],
           [10., 17., 19.],
           [ 9.,  6., 14.]])
    >>> float(fmap[1, 0])  # the slide's "row 2, column 1" (it counts from 1)
    10.0

    The 6×6 example (the slide prints this map transposed — an erratum):

    >>> image = [[255, 220, 150, 200, 110, 100],
    ...          [240,  50,  35,  45, 200, 130],
    ...          [  0,  20, 245, 250, 230, 120],
    ...          [170, 180, 235, 145, 170, 255],
    ...          [190, 185, 170, 165, 130, 120],
    ...          [255, 255, 245, 190, 200, 175]]
    >>> fmap = conv2d(image, [[-0.7, 0.2, 0.1], [0.3, 0.5, 0.4], [-0.2, -0.4, 0.2]])
    >>> np.round(fmap, 6)
    array([[  32.5, -105.5,  -44. ,  -60.5],
           [-105.5,  104. ,  224. ,  213.5],
           [ 185.5,  217.5,   38.5,   52.5],
           [  54. ,   31. ,  -18. ,   37.5]])

    Six 5×5 filters on a 28×28 RGB image (Keras: 28×28×3 → 24×24×6):

    >>> conv2d(np.ones((3, 28, 28)), np.ones((6, 3, 5, 5)), bias=np.zeros(6)).shape
    (6, 24, 24)
    >>> conv2d(np.ones((4, 4)), np.ones((3, 3)), padding="same")
    array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]])
    """
    # BEGIN SOLUTION
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)

    # Bring everything to image (C, H, W) and kernel (F, C, kh, kw).
    one_map = kernel.ndim < 4
    if kernel.ndim == 2:
        assert image.ndim == 2, "a (kh, kw) kernel needs an (H, W) image"
        kernel = kernel[np.newaxis, np.newaxis]
    elif kernel.ndim == 3:
        assert image.ndim == 3, "a (C, kh, kw) kernel needs a (C, H, W) image"
        kernel = kernel[np.newaxis]
    assert kernel.ndim == 4, "kernel must be (kh, kw), (C, kh, kw) or (F, C, kh, kw)"
    if image.ndim == 2:
        image = image[np.newaxis]
    assert image.ndim == 3, "image must be (H, W) or (C, H, W)"
    n_filters, channels, kh, kw = kernel.shape
    assert image.shape[0] == channels, "image and kernel have different channel counts"
    assert stride >= 1, "stride must be >= 1"

    # Zero padding: (before, after) for rows and for columns.
    if padding == "valid":
        padding = 0
    if padding == "same":
        assert stride == 1, "padding='same' needs stride 1"
        rows = ((kh - 1) // 2, kh - 1 - (kh - 1) // 2)
        cols = ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)
    else:
        assert padding >= 0, "padding must be >= 0"
        rows = cols = (padding, padding)
    image = np.pad(image, ((0, 0), rows, cols))
    _, height, width = image.shape
    assert height >= kh and width >= kw, "kernel larger than the padded image"

    out_h = (height - kh) // stride + 1
    out_w = (width - kw) // stride + 1
    out = np.zeros((n_filters, out_h, out_w))
    for f in range(n_filters):
        for i in range(out_h):
            for j in range(out_w):
                top, left = i * stride, j * stride
                window = image[:, top:top + kh, left:left + kw]
                out[f, i, j] = np.sum(window * kernel[f])

    bias = np.asarray(bias, dtype=np.float64)
    if bias.ndim == 0:
        out += bias
    else:
        assert not one_map and bias.shape == (n_filters,), "bias: a number, or one per filter"
        out += bias[:, np.newaxis, np.newaxis]
    return out[0] if one_map else out
    # END SOLUTION


def relu(x):
    """Return max(x, 0) elementwise as a float array of the same shape (any shape).

    >>> relu([[-1.5, 0.0], [2.0, -3.0]])
    array([[0., 0.],
           [2., 0.]])
    """
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, 0.0)
    # END SOLUTION


def max_pool2d(x, size=2, stride=None):
    """Max-pool every map of x over size×size windows.

    ``x`` is ``(H, W)`` or ``(C, H, W)``; each channel is pooled on its own, and the result
    has the same leading shape: ``(H', W')`` or ``(C, H', W')`` with
    H' = floor((H - size) / stride) + 1. ``stride`` defaults to ``size`` (windows side by
    side, not overlapping). Windows that do not fit at the right/bottom edge are dropped.
    Return float64.

    ReLU then 2×2 max-pooling of the 6×6 example's (correct) feature map:

    >>> fmap = [[  32.5, -105.5,  -44. ,  -60.5],
    ...         [-105.5,  104. ,  224. ,  213.5],
    ...         [ 185.5,  217.5,   38.5,   52.5],
    ...         [  54. ,   31. ,  -18. ,   37.5]]
    >>> max_pool2d(relu(fmap))
    array([[104. , 224. ],
           [217.5,  52.5]])
    >>> max_pool2d(np.arange(25).reshape(5, 5))
    array([[ 6.,  8.],
           [16., 18.]])
    """
    # BEGIN SOLUTION
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=np.float64)
    one_map = x.ndim == 2
    if one_map:
        x = x[np.newaxis]
    assert x.ndim == 3, "x must be (H, W) or (C, H, W)"
    channels, height, width = x.shape
    assert height >= size and width >= size, "pooling window larger than the map"
    out_h = (height - size) // stride + 1
    out_w = (width - size) // stride + 1
    out = np.zeros((channels, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride, j * stride
            out[:, i, j] = x[:, top:top + size, left:left + size].max(axis=(1, 2))
    return out[0] if one_map else out
    # END SOLUTION
