"""Reference for exercise05 — receptive fields.

The receptive field of one output unit is the stretch of input positions (along one axis)
that can influence it. Layer i with kernel k_i and dilation d_i widens it by (k_i - 1)·d_i
steps *of its own input*; each earlier stride s_j makes one such step worth s_j input
positions. Hence

    r = 1 + sum_i (k_i - 1) · d_i · prod_{j<i} s_j .

It is a span (first to last position), not a count: a dilated layer alone has holes in it
(3 taps at dilation 2 reach positions 0, 2, 4: r = 5).

Why stacks of small kernels: three 3×3 layers see 7×7 like one 7×7 layer but have 27
weights per channel pair instead of 49 (and two extra non-linearities).
"""

from __future__ import annotations

import numpy as np


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def receptive_field(layers) -> int:
    """Receptive field (in input positions, along one axis) of a stack of conv/pool layers.

    layers: sequence of (kernel_size, stride, dilation), first layer first; [] gives 1.
    A causal 1-D conv has the receptive field of the plain conv; its look-back is r - 1.
    """
    r, jump = 1, 1  # jump: input positions per step of the current layer's input
    for layer in layers:
        assert len(layer) == 3, f"a layer is (kernel_size, stride, dilation), got {layer!r}"
        k, s, d = layer
        assert _is_int(k) and k >= 1, f"kernel_size must be an int >= 1, got {k!r}"
        assert _is_int(s) and s >= 1, f"stride must be an int >= 1, got {s!r}"
        assert _is_int(d) and d >= 1, f"dilation must be an int >= 1, got {d!r}"
        r += (int(k) - 1) * int(d) * jump
        jump *= int(s)
    return r


def stack_weights(kernel_size: int, n_layers: int, channels: int = 1) -> int:
    """Weights of n_layers stacked kernel_size×kernel_size convs, channels in and out, no bias.

    Each layer has channels · channels · k · k weights: n · C² · k².
    """
    assert _is_int(kernel_size) and kernel_size >= 1, f"kernel_size must be an int >= 1, got {kernel_size!r}"
    assert _is_int(n_layers) and n_layers >= 0, f"n_layers must be an int >= 0, got {n_layers!r}"
    assert _is_int(channels) and channels >= 1, f"channels must be an int >= 1, got {channels!r}"
    return int(n_layers) * int(channels) ** 2 * int(kernel_size) ** 2
