"""Exercise 06 — dropout expectations.

Dropout switches every input of a layer off at random during training. Each input ``x_i`` is
multiplied by its own mask ``m_i``, drawn independently: ``m_i = 0`` ("dropped") with
probability ``p`` and ``m_i = 1`` ("kept") with probability ``1 - p``. Here ``p`` is the *drop
rate*, as in ``torch.nn.Dropout(p)`` and ``keras.layers.Dropout(rate)`` — not the keep
probability that some papers call p.

Because the network sees fewer inputs during training than at test time, the activations must
be rescaled in one of the two phases:

* inverted dropout (what PyTorch and Keras do): scale the kept inputs by ``1 / (1 - p)``
  during training and do nothing at test time;
* the classic variant of the slides: no scaling in training, multiply the weights by the keep
  probability ``1 - p`` at test time.

Never both, and it is ``1 - p``, not ``p`` (the two agree only at p = 0.5, the slides' example).

Conventions: numpy arrays in, numpy float arrays out (plain Python ``float`` for a scalar).
Random functions take ``rng``: ``None`` (use ``np.random.default_rng()``) or a
``np.random.Generator`` — the grader passes seeded generators, so draw all randomness from it.

Check your work with:  grade exercise06

Points: expected_output 2 · dropout 4 · test_time_weights 1 (total 7)
"""

import numpy as np


def expected_output(w, x, p):
    """Return the exact expectation E[a] of a = sum_i w_i * x_i * m_i as a Python float.

    The masks m_i are independent, m_i = 0 with probability ``p`` and 1 with probability
    ``1 - p`` (0 <= p <= 1). ``w`` and ``x`` are 1-D arrays of the same length n. Compute the
    exact value (a formula), not a Monte-Carlo estimate: the grader compares it with the
    average over all 2**n masks weighted by their probabilities.

    The slides' example — p = 0.5 and two inputs x, y: E[a] = 1/2 (w0 x + w1 y):

    >>> expected_output(np.array([2.0, 4.0]), np.array([1.0, 3.0]), 0.5)
    7.0
    >>> expected_output(np.array([2.0, 4.0]), np.array([1.0, 3.0]), 0.0)
    14.0
    """
    # BEGIN SOLUTION
    w = np.asarray(w, dtype=float)
    x = np.asarray(x, dtype=float)
    keep = 1.0 - p
    total = 0.0
    for wi, xi in zip(w.ravel(), x.ravel()):
        total += wi * xi * keep  # E[m_i] = 1 - p
    return float(total)
    # END SOLUTION


def dropout(x, p, training=True, rng=None):
    """Inverted dropout of an array ``x`` of any shape; returns a new float array.

    training=True: set every element to 0 independently with probability ``p`` and multiply
    the kept ones by ``1 / (1 - p)``, so that the expected output equals ``x``.
    training=False: return the values of ``x`` unchanged (no scaling at test time).
    ``p`` is in [0, 1); p = 0 must return ``x`` unchanged. ``rng`` is ``None`` (then use
    ``np.random.default_rng()``) or a ``np.random.Generator`` to draw the masks from.

    >>> rng = np.random.default_rng(0)
    >>> out = dropout(np.ones(1000), 0.5, rng=rng)
    >>> sorted(set(out.tolist()))
    [0.0, 2.0]
    >>> dropout(np.array([1.0, 2.0, 3.0]), 0.3, training=False)
    array([1., 2., 3.])
    >>> dropout(np.array([1.0, 2.0, 3.0]), 0.0, rng=rng)
    array([1., 2., 3.])
    """
    # BEGIN SOLUTION
    x = np.array(x, dtype=float)
    if not training or p == 0:
        return x
    if rng is None:
        rng = np.random.default_rng()
    keep = rng.random(x.shape) >= p  # True with probability 1 - p
    return np.where(keep, x / (1.0 - p), 0.0)
    # END SOLUTION


def test_time_weights(w, p):
    """The classic variant: the weights to use at test time for a layer trained with
    (non-inverted) dropout of rate ``p`` on its inputs — ``w`` multiplied by the keep
    probability ``1 - p``. ``w`` is an array of any shape; return a float array.

    >>> test_time_weights(np.array([1.0, -2.0, 4.0]), 0.25)
    array([ 0.75, -1.5 ,  3.  ])
    """
    # BEGIN SOLUTION
    return np.asarray(w, dtype=float) * (1 - p)
    # END SOLUTION
