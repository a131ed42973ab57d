"""Reference for exercise10 — 1-D causal and dilated convolution (numpy).

A causal convolution never looks into the future: output t depends on x[t], x[t - d], …,
x[t - (k-1)·d] only. Keras gets it with padding="causal": (k - 1)·d zeros on the left, none
on the right, so the output is as long as the input. Like every DL "convolution" it is a
cross-correlation — the *last* kernel tap sits on the current step:

    y[t] = sum_j kernel[j] · x[t - (k-1-j)·d]      (x[negative] = 0)

This equals torch.nn.functional.conv1d after F.pad(x, ((k-1)·d, 0)). Stacking layers with
dilations 1, 2, 4, … (WaveNet) makes the look-back grow exponentially with depth; see
exercise05's receptive_field.
"""

from __future__ import annotations

import numpy as np


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def causal_conv1d(x, kernel, dilation: int = 1) -> np.ndarray:
    """Causal dilated cross-correlation of a sequence; same length as x, float64.

    x (T,), kernel (k,), dilation int >= 1. The kernel may be longer than x.
    """
    x = np.asarray(x, dtype=np.float64)  # (T,)
    w = np.asarray(kernel, dtype=np.float64)  # (k,)
    assert x.ndim == 1 and x.size >= 1, f"x must be a non-empty 1-D array, got shape {x.shape}"
    assert w.ndim == 1 and w.size >= 1, f"kernel must be a non-empty 1-D array, got shape {w.shape}"
    assert _is_int(dilation) and dilation >= 1, f"dilation must be an int >= 1, got {dilation!r}"
    T, k, d = x.size, w.size, int(dilation)
    xp = np.concatenate([np.zeros((k - 1) * d), x])  # (T + (k-1)·d,) zeros on the left only
    y = np.zeros(T)  # (T,)
    for j in range(k):  # tap j looks (k-1-j)·d steps back
        y += w[j] * xp[j * d : j * d + T]
    return y
