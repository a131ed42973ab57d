"""Exercise 10 — 1D causal and dilated convolution.

For sequences (time series, audio, text) an output at time t must not depend on the
future. A *causal* convolution pads only at the start: with kernel size k and dilation d it
puts (k − 1)·d zeros before the first value and none after, so the output has the same
length as the input and output t sees x[t], x[t − d], …, x[t − (k − 1)·d] only. This is
Keras' ``Conv1D(padding="causal", dilation_rate=d)``; in PyTorch it is ``conv1d`` after
padding (k − 1)·d zeros on the left.

Conventions: numpy arrays in and out, float64 results. As in every deep-learning framework
the "convolution" is a cross-correlation (the kernel is not flipped): the *last* kernel
entry multiplies the current value x[t], the first one the oldest value x[t − (k − 1)·d].

Dilation d spreads the k taps d steps apart. Stacking causal convolutions of size 2 with
dilations 1, 2, 4, 8 (WaveNet) looks back 15 steps with only 4 layers — exercise05's
``receptive_field`` gives 16 for that stack.

Check your work with:  grade exercise10

Points: causal_conv1d 6 (total 6)
"""

import numpy as np


def causal_conv1d(x, kernel, dilation=1):
    """Return the causal dilated convolution of the sequence x with kernel (float64, length T).

    ``x`` is 1-D of length T, ``kernel`` 1-D of length k (it may be longer than x),
    ``dilation`` d an int >= 1. With values before the start counted as 0:

        y[t] = Σⱼ kernel[j] · x[t − (k − 1 − j)·d]      for t = 0, …, T − 1

    >>> causal_conv1d([10, 20, 30], [1, 2])
    array([20., 50., 80.])
    >>> causal_conv1d([1, 2, 3, 4, 5], [1, 1], dilation=2)  # x[t] + x[t - 2]
    array([1., 2., 4., 6., 8.])
    >>> causal_conv1d([1, 0, 0, 0, 0, 0], [1, 2, 3], dilation=2)  # an impulse shows the taps
    array([3., 0., 2., 0., 1., 0.])
    """
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    assert x.ndim == 1 and kernel.ndim == 1, "x and kernel must be 1-D"
    assert dilation >= 1, "dilation must be >= 1"
    k = len(kernel)
    y = np.zeros(len(x))
    for t in range(len(y)):
        for j in range(k):
            source = t - (k - 1 - j) * dilation
            if source >= 0:  # before the start: zero padding
                y[t] += kernel[j] * x[source]
    return y
    # END SOLUTION
