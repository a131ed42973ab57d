"""Exercise 08 — weight initialization.

How the weights start decides whether a deep network learns at all. Too large or too small
and the signal explodes or dies layer by layer; all equal and the hidden units stay identical
copies of each other forever. In this exercise you compute the classic scales, draw initial
weights, and show with a hand-written backward pass why a constant initialization cannot learn.

Conventions:

* A weight matrix has the shape of ``torch.nn.Linear(fan_in, fan_out).weight``:
  ``(fan_out, fan_in)``, and the layer computes ``W @ x``. Keras stores the transpose — its
  ``Dense`` kernel is ``(fan_in, fan_out)``.
* Glorot (Xavier) uniform, Keras' default: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).
* He (Kaiming) normal, for ReLU networks: here a plain, *untruncated* normal N(0, std²) with
  std = sqrt(2 / fan_in), as ``torch.nn.init.kaiming_normal_`` (Keras' ``he_normal`` truncates
  at two standard deviations — not here).
* ``rng`` is ``None`` (use ``np.random.default_rng()``) or a ``np.random.Generator``: draw all
  randomness from it. numpy arrays in, float numpy arrays out, Python floats for scalars.

Check your work with:  grade exercise08

Points: glorot_uniform_limit 1 · he_normal_std 1 · init_dense 3 · first_layer_gradients 6 (total 11)
"""

import numpy as np


def glorot_uniform_limit(fan_in, fan_out):
    """Return the Glorot uniform bound sqrt(6 / (fan_in + fan_out)) as a float.

    >>> glorot_uniform_limit(3, 3)
    1.0
    >>> round(glorot_uniform_limit(784, 500), 4)
    0.0684
    """
    raise NotImplementedError


def he_normal_std(fan_in):
    """Return the He normal standard deviation sqrt(2 / fan_in) as a float.

    >>> he_normal_std(2)
    1.0
    >>> round(he_normal_std(784), 4)
    0.0505
    """
    raise NotImplementedError


def init_dense(fan_in, fan_out, scheme, rng=None, *, value=0.5):
    """Return a float weight matrix of shape ``(fan_out, fan_in)`` (``nn.Linear`` convention).

    ``scheme`` is one of

    * ``"zeros"``: all weights 0;
    * ``"constant"``: all weights equal to ``value`` (keyword-only, default 0.5);
    * ``"glorot_uniform"``: independent U(-limit, limit), limit = ``glorot_uniform_limit``;
    * ``"he_normal"``: independent N(0, std²), std = ``he_normal_std(fan_in)``, not truncated.

    ``rng`` is ``None`` (then use ``np.random.default_rng()``) or a ``np.random.Generator``;
    the random schemes must draw from it.

    >>> init_dense(3, 2, "zeros")
    array([[0., 0., 0.],
           [0., 0., 0.]])
    >>> init_dense(3, 2, "constant")
    array([[0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5]])
    >>> W = init_dense(784, 500, "glorot_uniform", np.random.default_rng(0))
    >>> W.shape, bool(np.abs(W).max() <= glorot_uniform_limit(784, 500))
    ((500, 784), True)
    """
    raise NotImplementedError


def first_layer_gradients(W1, W2, x, y):
    """Return dL/dW1, shape ``(H, D)``, for a two-layer network without biases.

    The network maps a batch ``x`` of shape ``(N, D)`` (one example per row) to logits
    ``W2 @ sigmoid(W1 @ x.T)`` of shape ``(K, N)`` (one column per example), with
    ``W1`` ``(H, D)`` and ``W2`` ``(K, H)``. ``y`` holds N integer labels in [0, K). The loss is
    the mean over the N examples of the cross-entropy of softmax(logits of the example)
    against its label. Compute the gradient by hand (backpropagation with numpy; no autograd).

    Row j of the result belongs to hidden unit j. With a constant initialization every row is
    the same, so the hidden units never become different:

    >>> x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    >>> y = np.array([0, 1])
    >>> g = first_layer_gradients(np.full((4, 3), 0.5), np.full((2, 4), 0.5), x, y)
    >>> g.shape, bool(np.allclose(g, g[0]))
    ((4, 3), True)
    """
    raise NotImplementedError
