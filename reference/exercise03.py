"""Reference for exercise03 — convolution by hand (numpy only).

The oracle the grader compares submissions against. Everything is plain numpy so that it
stays an independent check of ``torch.nn.functional.conv2d`` / ``max_pool2d``, which the
tests compare it with.

Conventions (as in PyTorch, not as on the Keras slides):

- "convolution" is cross-correlation: the kernel is *not* flipped;
- images are ``(H, W)`` or ``(C, H, W)`` (channels first; the slides print ``(H, W, C)``);
- a filter bank is ``(F, C, kh, kw)`` and gives ``F`` maps ``(F, H', W')``.

Erratum of the slides: in the 6×6 example the slide prints the 4×4 feature map transposed
(its table is filled column by column). The correct map, which this module returns, is::

    [[  32.5, -105.5,  -44. ,  -60.5],
     [-105.5,  104. ,  224. ,  213.5],
     [ 185.5,  217.5,   38.5,   52.5],
     [  54. ,   31. ,  -18. ,   37.5]]

and ReLU + 2×2 max-pooling of it gives ``[[104, 224], [217.5, 52.5]]``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _pads(padding, kh: int, kw: int, stride: int) -> tuple[int, int, int, int]:
    """Return (top, bottom, left, right) zero padding.

    "same" pads k - 1 in total per axis, (k - 1) // 2 before and the rest after — the split
    torch uses for even kernels (Keras/TF put the extra row at the end too).
    """
    if isinstance(padding, str):
        assert padding in ("valid", "same"), f"padding must be an int, 'valid' or 'same', got {padding!r}"
        if padding == "valid":
            return 0, 0, 0, 0
        assert stride == 1, "padding='same' is only defined for stride 1"
        top, left = (kh - 1) // 2, (kw - 1) // 2
        return top, kh - 1 - top, left, kw - 1 - left
    assert _is_int(padding) and padding >= 0, f"padding must be an int >= 0, got {padding!r}"
    p = int(padding)
    return p, p, p, p


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding=0) -> int:
    """Output length of a convolution along one axis: floor((n + 2p - k) / s) + 1.

    Windows that do not fit are dropped (floor), exactly as in PyTorch/Keras.
    "valid" means p = 0; "same" (stride 1 only) keeps the size: returns n.
    """
    assert _is_int(n) and n >= 1, f"n must be an int >= 1, got {n!r}"
    assert _is_int(kernel_size) and kernel_size >= 1, f"kernel_size must be an int >= 1, got {kernel_size!r}"
    assert _is_int(stride) and stride >= 1, f"stride must be an int >= 1, got {stride!r}"
    top, bottom, _, _ = _pads(padding, kernel_size, kernel_size, stride)
    assert n + top + bottom >= kernel_size, "kernel larger than the padded input"
    return (n + top + bottom - kernel_size) // stride + 1


def conv_params(filters: int, channels: int, kh: int, kw: int) -> int:
    """Weights of a conv layer: one kh×kw×channels kernel and one bias per filter."""
    return filters * channels * kh * kw + filters


def conv2d(image, kernel, bias=0.0, stride: int = 1, padding=0) -> np.ndarray:
    """2-D cross-correlation of an image with a kernel (or a bank of F kernels).

    image  (H, W) or (C, H, W)
    kernel (kh, kw)        with an (H, W) image            -> (H', W')
           (C, kh, kw)     with a (C, H, W) image; sums the channels -> (H', W')
           (F, C, kh, kw)  with a (C, H, W) image, or an (H, W) image when C == 1 -> (F, H', W')
    bias   a number (added to every output), or shape (F,) with a 4-D kernel
    stride int >= 1, the same in both directions
    padding int >= 0 (zeros on all four sides), "valid" (= 0) or "same" (stride 1 only)

    Returns float64; equals torch.nn.functional.conv2d on the corresponding shapes.
    """
    x = np.asarray(image, dtype=np.float64)
    w = np.asarray(kernel, dtype=np.float64)
    assert x.ndim in (2, 3), f"image must be (H, W) or (C, H, W), got shape {x.shape}"
    assert w.ndim in (2, 3, 4), f"kernel must be (kh, kw), (C, kh, kw) or (F, C, kh, kw), got shape {w.shape}"
    assert _is_int(stride) and stride >= 1, f"stride must be an int >= 1, got {stride!r}"
    single_map = w.ndim < 4
    if w.ndim == 2:
        assert x.ndim == 2, "a (kh, kw) kernel needs an (H, W) image"
        w = w[None, None]  # (1, 1, kh, kw)
    elif w.ndim == 3:
        assert x.ndim == 3, "a (C, kh, kw) kernel needs a (C, H, W) image"
        w = w[None]  # (1, C, kh, kw)
    if x.ndim == 2:
        x = x[None]  # (1, H, W)
    F, C, kh, kw = w.shape
    assert x.shape[0] == C, f"image has {x.shape[0]} channels, kernel expects {C}"
    assert min(w.shape) >= 1 and min(x.shape) >= 1, "empty image or kernel"

    top, bottom, left, right = _pads(padding, kh, kw, stride)
    x = np.pad(x, ((0, 0), (top, bottom), (left, right)))  # (C, Hp, Wp)
    assert x.shape[1] >= kh and x.shape[2] >= kw, "kernel larger than the padded image"

    win = sliding_window_view(x, (kh, kw), axis=(1, 2))  # (C, Hp-kh+1, Wp-kw+1, kh, kw)
    win = win[:, ::stride, ::stride]  # (C, H', W', kh, kw)
    out = np.einsum("chwij,fcij->fhw", win, w)  # (F, H', W')

    b = np.asarray(bias, dtype=np.float64)
    if b.ndim == 0:
        out = out + b
    else:
        assert not single_map and b.shape == (F,), f"bias must be a number or shape ({F},) with a 4-D kernel"
        out = out + b[:, None, None]  # (F, H', W')
    return out[0] if single_map else out


def relu(x) -> np.ndarray:
    """max(x, 0) elementwise, any shape, as float64."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def max_pool2d(x, size: int = 2, stride: int | None = None) -> np.ndarray:
    """Max over size×size windows moved by stride (default: size) on each map.

    x (H, W) or (C, H, W) -> (H', W') or (C, H', W'), H' = floor((H - size) / stride) + 1:
    windows that do not fit are dropped, as in torch.nn.functional.max_pool2d.
    """
    a = np.asarray(x, dtype=np.float64)
    assert a.ndim in (2, 3), f"x must be (H, W) or (C, H, W), got shape {a.shape}"
    stride = size if stride is None else stride
    assert _is_int(size) and size >= 1, f"size must be an int >= 1, got {size!r}"
    assert _is_int(stride) and stride >= 1, f"stride must be an int >= 1, got {stride!r}"
    assert a.shape[-2] >= size and a.shape[-1] >= size, "pooling window larger than the map"
    win = sliding_window_view(a, (size, size), axis=(-2, -1))  # (..., H-size+1, W-size+1, size, size)
    win = win[..., ::stride, ::stride, :, :]  # (..., H', W', size, size)
    return win.max(axis=(-2, -1))  # (..., H', W')
