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
    raise NotImplementedError


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
    raise NotImplementedError


def relu(x):
    """Return max(x, 0) elementwise as a float array of the same shape (any shape).

    >>> relu([[-1.5, 0.0], [2.0, -3.0]])
    array([[0., 0.],
           [2., 0.]])
    """
    raise NotImplementedError


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
    raise NotImplementedError
