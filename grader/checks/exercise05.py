"""Checks for exercise05 — receptive fields.

The oracle is ``reference.exercise05``: r = 1 + Σᵢ (kᵢ − 1)·dᵢ·Πⱼ<ᵢ sⱼ. That the formula is
the empirical receptive field of a torch conv stack (the span of input positions with a
non-zero gradient of one output) is checked by the reference's own tests; the checks here
compare with the formula, so this module needs no torch. Stacks are short (≤ 5 layers) and
kernels small, so that a failing stack reads like a slide.
"""

from __future__ import annotations

import math

from grader.kit import check, expect_int, given, Mistake, st

from grader.reference import exercise05 as ref

TITLE = "Receptive fields"
ALIASES = ("receptive-field", "receptive_field", "receptive-fields", "rf")
MAX_EXAMPLES = 30


def _layers(layers) -> str:
    return "[" + ", ".join(f"({k}, {s}, {d})" for k, s, d in layers) + "]"


def stacks(*, max_stride: int = 3, max_dilation: int = 1, max_layers: int = 5):
    """Return a strategy for a list of (kernel_size, stride, dilation) layers, first layer first."""
    layer = st.tuples(st.integers(1, 7), st.integers(1, max_stride), st.integers(1, max_dilation))
    return st.lists(layer, min_size=1, max_size=max_layers)


# --------------------------------------------------------------------------- receptive_field (4 points)


@check(points=1, functions=("receptive_field",))
def receptive_field_gives_the_lectures_2d_stacks(sub):
    """One 7×7 conv sees 7×7, two 3×3 convs 5×5, three 3×3 convs 7×7 (conv, pool, conv: 8)."""
    for layers in ([(7, 1, 1)], [(3, 1, 1)] * 2, [(3, 1, 1)] * 3, [(3, 1, 1), (2, 2, 1), (3, 1, 1)], []):
        expect_int(sub.receptive_field(list(layers)), ref.receptive_field(layers),
                   what=f"receptive_field({_layers(layers)})")


@check(points=1, functions=("receptive_field",))
def receptive_field_gives_the_causal_look_backs(sub):
    """Four causal convs of size 2 see 5 steps (look back 4); with dilations 1, 2, 4, 8 they see 16 (look back 15)."""
    for layers in ([(2, 1, 1)] * 4, [(2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)]):
        expect_int(sub.receptive_field(list(layers)), ref.receptive_field(layers),
                   what=f"receptive_field({_layers(layers)})")


@check(points=1, functions=("receptive_field",))
@given(layers=stacks())
def receptive_field_accounts_for_the_strides_of_earlier_layers(sub, layers):
    """receptive_field equals 1 + Σ (kᵢ − 1)·Πⱼ<ᵢ sⱼ for random stacks with strides (no dilation)."""
    expect_int(sub.receptive_field(layers), ref.receptive_field(layers), what=f"receptive_field({_layers(layers)})")


@check(points=1, functions=("receptive_field",))
@given(layers=stacks(max_dilation=4))
def receptive_field_accounts_for_dilations_and_strides(sub, layers):
    """receptive_field equals 1 + Σ (kᵢ − 1)·dᵢ·Πⱼ<ᵢ sⱼ for random stacks with strides and dilations."""
    expect_int(sub.receptive_field(layers), ref.receptive_field(layers), what=f"receptive_field({_layers(layers)})")


# --------------------------------------------------------------------------- stack_weights (2 points)


@check(points=1, functions=("stack_weights",))
def stack_weights_gives_the_lectures_counts(sub):
    """One 7×7 conv has 49 weights, three 3×3 convs 27 (64 channels: 110,592)."""
    for args, kwargs in (((7, 1), {}), ((3, 3), {}), ((3, 2), {}), ((3, 3), {"channels": 64})):
        expect_int(sub.stack_weights(*args, **kwargs), ref.stack_weights(*args, **kwargs),
                   what=f"stack_weights({', '.join(map(str, args))}{''.join(f', {k}={v}' for k, v in kwargs.items())})")


@check(points=1, functions=("stack_weights",))
@given(k=st.integers(1, 7), n=st.integers(0, 5), channels=st.integers(1, 64))
def stack_weights_is_n_times_channels_squared_times_k_squared(sub, k, n, channels):
    """stack_weights equals n·C²·k² (no bias) for random kernel sizes, depths and channels."""
    expect_int(sub.stack_weights(k, n, channels=channels), ref.stack_weights(k, n, channels),
               what=f"stack_weights({k}, {n}, channels={channels})")


# --------------------------------------------------------------------------- typical mistakes


def stride_including_own(layers):
    return 1 + sum((k - 1) * d * math.prod(s for _, s, _ in layers[: i + 1]) for i, (k, _, d) in enumerate(layers))


def strides_ignored(layers):
    return ref.receptive_field([(k, 1, d) for k, _, d in layers])


def dilation_ignored(layers):
    return ref.receptive_field([(k, s, 1) for k, s, _ in layers])


def look_back_only(layers):
    return ref.receptive_field(layers) - 1


def kernels_added(layers):
    return sum(k * d for k, _, d in layers)


def dilated_span_k_times_d(layers):
    r, jump = 1, 1
    for k, s, d in layers:
        r += (k * d - 1) * jump
        jump *= s
    return r


def weights_with_bias(kernel_size, n_layers, channels=1):
    return ref.stack_weights(kernel_size, n_layers, channels) + n_layers * channels


def channels_not_squared(kernel_size, n_layers, channels=1):
    assert channels >= 2
    return n_layers * channels * kernel_size ** 2


def kernel_not_squared(kernel_size, n_layers, channels=1):
    assert kernel_size >= 2
    return n_layers * channels ** 2 * kernel_size


_FORMULA = "r = 1 + Σᵢ (kᵢ − 1)·dᵢ·Πⱼ<ᵢ sⱼ: start at 1, and multiply the running 'jump' by a layer's stride " \
           "only after adding that layer's (k − 1)·d·jump"
MISTAKES = [
    Mistake("own stride included", "receptive_field",
            "your receptive field multiplies a layer's growth by its own stride too: a layer's stride only "
            "spreads out the layers after it", _FORMULA, wrong=stride_including_own),
    Mistake("strides ignored", "receptive_field",
            "your receptive field ignores the strides: after a stride-s layer, one step of the next layer "
            "covers s input positions", _FORMULA, wrong=strides_ignored),
    Mistake("dilation ignored", "receptive_field",
            "your receptive field ignores the dilation: a kernel of size k with dilation d spans (k − 1)·d + 1 "
            "positions", "WaveNet's dilations 1, 2, 4, 8 with kernel size 2 reach 16 positions, not 5",
            wrong=dilation_ignored),
    Mistake("look-back instead of receptive field", "receptive_field",
            "your result is one too small: it is the look-back r − 1; the receptive field counts the output's "
            "own position too", "start with r = 1 (an empty stack sees 1 position)", wrong=look_back_only),
    Mistake("kernel sizes added", "receptive_field",
            "your receptive field adds up the kernel sizes: consecutive layers overlap by one position, so each "
            "layer adds k − 1, not k", "two 3×3 convs see 5×5 = 1 + 2 + 2, not 6", wrong=kernels_added),
    Mistake("dilated kernel span k·d", "receptive_field",
            "your receptive field counts a dilated kernel as k·d positions: its taps span (k − 1)·d + 1",
            "a layer adds (k − 1)·d steps, not k·d − 1", wrong=dilated_span_k_times_d),
    Mistake("bias counted", "stack_weights",
            "your count includes a bias per output channel: these convolutions have no bias",
            "one layer has channels · channels · k · k weights", wrong=weights_with_bias),
    Mistake("channels not squared", "stack_weights",
            "your count has C·k² weights per layer: every one of the C output channels has a k×k kernel for "
            "each of the C input channels, C·C·k²", "test with channels=64: three 3×3 layers have 110,592",
            wrong=channels_not_squared),
    Mistake("kernel not squared", "stack_weights",
            "your count has k weights per kernel: a 2-D kernel of size k has k·k weights",
            "one 7×7 kernel has 49 weights", wrong=kernel_not_squared),
]
