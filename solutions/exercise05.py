"""Exercise 05 — receptive fields.

The receptive field of a unit is the stretch of input positions (along one axis) that can
change its value. Stacking convolutions lets a unit see further: each layer adds
(kernel_size − 1) · dilation steps, and a step is worth as many input positions as the
product of the strides of all the layers *before* it.

Conventions: a layer is a tuple ``(kernel_size, stride, dilation)``; for 2-D layers with
square kernels the receptive field is r × r. The receptive field is a span, first to last
input position that can matter (a dilated kernel has gaps inside it: they count). A causal
1-D convolution (Keras ``padding="causal"``, exercise10) has the receptive field of the
plain one: it looks back r − 1 steps.

Check your work with:  grade exercise05

Points: receptive_field 4 · stack_weights 2 (total 6)
"""


def receptive_field(layers):
    """Return the receptive field (an int) of a stack of layers along one axis.

    ``layers`` is a list of ``(kernel_size, stride, dilation)`` tuples, first layer first
    (pooling layers too: a 2×2 max-pool is ``(2, 2, 1)``). With r the answer:

        r = 1 + Σᵢ (kᵢ − 1) · dᵢ · Πⱼ<ᵢ sⱼ

    An empty list gives 1 (an output sees only its own input position).

    >>> receptive_field([(7, 1, 1)])
    7
    >>> receptive_field([(3, 1, 1), (3, 1, 1)])
    5
    >>> receptive_field([(3, 1, 1)] * 3)
    7

    Four causal convolutions of size 2 look back 4 steps; with dilations 1, 2, 4, 8
    (WaveNet) they look back 15:

    >>> receptive_field([(2, 1, 1)] * 4)
    5
    >>> receptive_field([(2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)])
    16
    >>> receptive_field([(3, 1, 1), (2, 2, 1), (3, 1, 1)])  # conv, 2×2 max-pool, conv
    8
    """
    # BEGIN SOLUTION
    r = 1
    jump = 1  # input positions between neighbouring units of the current layer's input
    for kernel_size, stride, dilation in layers:
        r += (kernel_size - 1) * dilation * jump
        jump *= stride
    return r
    # END SOLUTION


def stack_weights(kernel_size, n_layers, channels=1):
    """Return the number of weights (an int) of ``n_layers`` stacked k×k convolutions.

    Every layer has ``channels`` input and ``channels`` output channels and **no bias**, so
    one layer has channels · channels · k · k weights.

    >>> stack_weights(7, 1)  # one 7×7 conv: receptive field 7
    49
    >>> stack_weights(3, 3)  # three 3×3 convs: also receptive field 7
    27
    >>> stack_weights(3, 3, channels=64)
    110592
    """
    # BEGIN SOLUTION
    return n_layers * channels * channels * kernel_size * kernel_size
    # END SOLUTION
